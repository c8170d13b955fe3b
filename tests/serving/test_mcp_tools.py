"""The MCP tools through the official SDK client, in memory (serving.mcp; docs/mcp.md).

The in-process client has no HTTP request, so it reads the registry root; catalogs, tokens
and the HTTP layer are in test_mcp_http.py (in-process ASGI) and test_mcp_live.py (gunicorn).
Tools read in their own database thread, hence transactional tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult

from mcp_index_common import clientconfig
from registry.models import ServerVersion
from serving.mcp.server import build_server
from tests.support.factories import ServerVersionFactory
from tests.support.manifests import NPM, PYPI, REMOTE
from tests.support.mcp import run_async

pytestmark = pytest.mark.django_db(transaction=True)
TOOLS = {"search_servers", "get_server", "list_versions", "get_install_config", "search_tools"}


@pytest.fixture
def servers(sign: Callable[[ServerVersion], None]) -> dict[str, ServerVersion]:
    """Three servers: one with two versions (the newer signed), a pypi one, a remote one."""
    ServerVersionFactory(name="io.github.acme/pg-tools", description="Query a database",
                         packages=NPM)
    newer = ServerVersionFactory(name="io.github.acme/pg-tools", version="2.0.0",
                                 title="PG tools", description="Query a database",
                                 packages=NPM, repository={"url": "https://github.com/acme/pg",
                                                           "source": "github"})
    sign(newer)
    files = ServerVersionFactory(name="io.github.acme/files", description="Read files",
                                 packages=PYPI)
    remote = ServerVersionFactory(name="io.github.acme/remote-db",
                                  description="A database, hosted", remotes=REMOTE)
    return {"pg": newer, "files": files, "remote": remote}


def calls(*steps: tuple[str, dict[str, Any]]) -> list[CallToolResult]:
    """Run tool calls in order on one in-memory client."""

    async def run() -> list[CallToolResult]:
        async with Client(build_server()) as client:
            return [await client.call_tool(name, args) for name, args in steps]

    return run_async(run)


def call(tool: str, /, **args: Any) -> CallToolResult:
    return calls((tool, args))[0]


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    # The text content is the same document, for clients that read no structured content.
    assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
    return result.structured_content


def error(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    return result.content[0].text  # type: ignore[union-attr]


def test_every_tool_is_read_only_with_an_output_schema() -> None:
    async def run() -> Any:
        async with Client(build_server()) as client:
            return (await client.list_tools()).tools

    tools = run_async(run)
    assert {t.name for t in tools} == TOOLS
    for tool in tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        assert tool.description
    search = next(t for t in tools if t.name == "search_servers")
    assert search.input_schema["properties"]["limit"]["maximum"] == 50
    assert set(search.input_schema["properties"]["registry_type"]["anyOf"][0]["enum"]) == {
        "npm", "pypi", "oci", "nuget", "mcpb"}


def test_search_finds_servers_with_their_trust_summary(servers: dict[str, ServerVersion]) -> None:
    body = ok(call("search_servers", query="database"))
    assert body["catalog"] == "all" and body["query"] == "database" and body["total"] == 2
    found = {s["name"]: s for s in body["servers"]}
    assert set(found) == {"io.github.acme/pg-tools", "io.github.acme/remote-db"}
    pg = found["io.github.acme/pg-tools"]
    assert pg["version"] == "2.0.0" and pg["isLatest"] is True and pg["title"] == "PG tools"
    assert pg["registryTypes"] == ["npm"] and pg["transports"] == ["stdio"]
    assert pg["repositoryUrl"] == "https://github.com/acme/pg" and pg["hasRemote"] is False
    assert pg["trust"] == {"verifiedSigners": [{"principal": "sec", "displayName": "Security"}],
                           "satisfiedPolicies": []}
    remote = found["io.github.acme/remote-db"]
    assert remote["trust"] is None and remote["hasRemote"] is True
    assert remote["transports"] == ["streamable-http"] and remote["registryTypes"] == []


def test_search_filters(servers: dict[str, ServerVersion]) -> None:
    def names(**args: Any) -> list[str]:
        return sorted(s["name"] for s in ok(call("search_servers", **args))["servers"])

    assert names(query="database", remote_only=True) == ["io.github.acme/remote-db"]
    assert names(registry_type="pypi") == ["io.github.acme/files"]
    assert names(transport="streamable-http") == ["io.github.acme/remote-db"]
    assert names(trusted_only=True) == ["io.github.acme/pg-tools"]
    assert names(query="no such thing anywhere") == []


def test_the_cursor_carries_the_query_and_filters(servers: dict[str, ServerVersion]) -> None:
    first = ok(call("search_servers", query="", limit=1))
    seen = [first["servers"][0]["name"]]
    cursor = first["nextCursor"]
    while cursor:  # only the cursor: the same search goes on
        page = ok(call("search_servers", cursor=cursor, limit=1))
        assert page["query"] == "" and page["total"] == 3
        seen += [s["name"] for s in page["servers"]]
        cursor = page["nextCursor"]
    assert sorted(seen) == ["io.github.acme/files", "io.github.acme/pg-tools",
                            "io.github.acme/remote-db"]
    filtered = ok(call("search_servers", query="database", remote_only=False, limit=1))
    again = ok(call("search_servers", query="database", cursor=filtered["nextCursor"]))
    assert again["query"] == "database" and len(again["servers"]) == 1
    assert "another query" in error(call("search_servers", query="files",
                                         cursor=filtered["nextCursor"]))
    assert "not one this server issued" in error(call("search_servers", cursor="bm90IGEgY3Vyc29y"))


def test_get_server_and_list_versions(servers: dict[str, ServerVersion]) -> None:
    latest = ok(call("get_server", name="io.github.acme/pg-tools"))
    assert latest["version"] == "2.0.0" and latest["server"]["title"] == "PG tools"
    meta = latest["meta"]
    assert meta["io.modelcontextprotocol.registry/official"]["isLatest"] is True
    assert meta["io.mcpindex/registry"]["digest"] == "sha256:" + servers["pg"].digest
    assert latest["trust"] == meta["io.mcpindex/trust"] | {}
    older = ok(call("get_server", name="io.github.acme/pg-tools", version="1.0.0"))
    assert older["version"] == "1.0.0" and older["isLatest"] is False and older["trust"] is None
    history = ok(call("list_versions", name="io.github.acme/pg-tools"))
    assert [(v["version"], v["isLatest"], v["trusted"]) for v in history["versions"]] == [
        ("2.0.0", True, True), ("1.0.0", False, False)]


def test_install_config_is_the_web_catalogs_text(servers: dict[str, ServerVersion]) -> None:
    launch = clientconfig.launches(servers["pg"].manifest)[0]
    expected = {"claude-desktop": clientconfig.claude_desktop(launch),
                "claude-code": clientconfig.claude_code(launch),
                "vscode": clientconfig.vscode(launch), "cursor": clientconfig.cursor(launch),
                "generic": clientconfig.generic(launch)}
    results = calls(*[("get_install_config", {"name": "io.github.acme/pg-tools", "client": c})
                      for c in expected])
    for client, result in zip(expected, results, strict=True):
        body = ok(result)
        assert body["config"] == expected[client] and body["client"] == client
        assert body["format"] == ("shell" if client == "claude-code" else "json")
        assert body["option"] == {"label": "npm: @acme/db", "kind": "package",
                                  "transport": "stdio", "registryType": "npm"}
        assert [p["id"] for p in body["prompts"]] == ["db-url"]
        assert body["prompts"][0]["secret"] is True
        assert body["trust"]["verifiedSigners"][0]["principal"] == "sec"
    vscode = json.loads(ok(results[2])["config"])
    assert vscode["servers"]["pg-tools"]["env"] == {"DB_URL": "${input:db-url}"}
    generic = json.loads(ok(results[4])["config"])
    assert generic["mcpServers"]["pg-tools"]["command"] == "npx"
    assert generic["mcpServers"]["pg-tools"]["type"] == "stdio"
    remote = ok(call("get_install_config", name="io.github.acme/remote-db", client="vscode",
                     prefer="remote"))
    assert json.loads(remote["config"])["servers"]["remote-db"] == {
        "type": "http", "url": "https://mcp.acme.example/mcp"}
    assert remote["option"]["kind"] == "remote" and remote["alternatives"] == []


def test_unknown_servers_and_options_are_tool_errors(servers: dict[str, ServerVersion]) -> None:
    results = calls(("get_server", {"name": "io.github.nobody/none"}),
                    ("get_server", {"name": "io.github.acme/pg-tools", "version": "9.9.9"}),
                    ("list_versions", {"name": "io.github.nobody/none"}),
                    ("get_install_config", {"name": "io.github.nobody/none", "client": "cursor"}),
                    ("get_install_config", {"name": "io.github.acme/files", "client": "cursor",
                                            "prefer": "remote"}))
    messages = [error(r) for r in results]
    assert "No server io.github.nobody/none in the registry" in messages[0]
    assert "version 9.9.9" in messages[1]
    assert "No server io.github.nobody/none" in messages[2]
    assert "No server io.github.nobody/none" in messages[3]
    assert "has no remote option. It offers: pypi: acme-files" in messages[4]


HOSTILE: list[tuple[str, dict[str, Any]]] = [
    ("search_servers", {"query": "a\x00b"}),
    ("search_servers", {"query": "\ud800"}),
    ("search_servers", {"query": "x" * 100_000}),
    ("search_servers", {"limit": 0}),
    ("search_servers", {"limit": 51}),
    ("search_servers", {"limit": 10**30}),
    ("search_servers", {"limit": "ten"}),
    ("search_servers", {"registry_type": "cargo"}),
    ("search_servers", {"cursor": "\x00"}),
    ("search_servers", {"cursor": "W10"}),  # base64 of [] : valid JSON, not ours
    ("get_server", {"name": ""}),
    ("get_server", {"name": "io.github.acme/pg-tools\x00"}),
    ("get_server", {"name": "n" * 201}),
    ("get_server", {"name": {"nested": ["deep"]}}),
    ("get_server", {}),
    ("list_versions", {"name": "\udfff"}),
    ("get_install_config", {"name": "io.github.acme/pg-tools", "client": "emacs"}),
    ("get_install_config", {"name": "io.github.acme/pg-tools", "client": "vscode",
                            "prefer": "cargo"}),
]


def test_hostile_arguments_are_tool_errors(servers: dict[str, ServerVersion]) -> None:
    for (name, args), result in zip(HOSTILE, calls(*HOSTILE), strict=True):
        assert result.is_error, (name, args)
        assert "Error executing tool" in error(result) or "not one this server" in error(result)

"""The MCP endpoint served for real: config.wsgi under gunicorn (production settings), called by
the official Python SDK client, the MCP Inspector CLI (npm) and the MCP conformance suite (npm).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from registry.models import ServerVersion
from tests.support.database import db_url
from tests.support.gunicorn import Gunicorn
from tests.support.mcp import PG_TOOLS, conformance, inspector, run_async, small_registry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
           "MCP-Protocol-Version": "2025-06-18"}
SEARCH = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
          "params": {"name": "search_servers", "arguments": {"query": "database"}}}


@pytest.fixture
def viewer(sign: Callable[[ServerVersion], None]) -> str:
    return small_registry(sign)


@pytest.fixture
def server(tmp_path: Path, viewer: str) -> Iterator[Gunicorn]:
    served = Gunicorn(tmp_path / "gunicorn.log", {"DATABASE_URL": db_url()})
    try:
        served.wait_ready()
        yield served
    finally:
        served.stop()


def sdk_session(url: str, token: str | None = None) -> dict[str, Any]:
    """Every tool through the SDK client over HTTP; the structured results by tool."""

    async def run() -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx2.AsyncClient(headers=headers, timeout=30) as http, \
                Client(streamable_http_client(url, http_client=http)) as client:
            tools = await client.list_tools()
            out: dict[str, Any] = {"tools": sorted(t.name for t in tools.tools)}
            for name, args in [("search_servers", {"query": "database", "limit": 1}),
                               ("get_server", {"name": PG_TOOLS}),
                               ("list_versions", {"name": PG_TOOLS}),
                               ("get_install_config", {"name": PG_TOOLS, "client": "cursor"})]:
                result = await client.call_tool(name, args)
                assert not result.is_error, (name, result.content)
                out[name] = result.structured_content
            missing = await client.call_tool("get_server", {"name": "io.github.nobody/none"})
            out["missing"] = missing.is_error
            return out

    return run_async(run)


def test_the_sdk_client_over_gunicorn(server: Gunicorn, viewer: str) -> None:
    root = sdk_session(server.url + "/mcp")
    assert root["tools"] == ["get_install_config", "get_server", "list_versions", "search_servers",
                             "search_tools"]
    assert root["search_servers"]["total"] == 2 and root["search_servers"]["nextCursor"]
    assert root["get_server"]["trust"]["verifiedSigners"][0]["principal"] == "sec"
    assert [v["version"] for v in root["list_versions"]["versions"]] == ["2.0.0", "1.0.0"]
    assert '"npx"' in root["get_install_config"]["config"]
    assert root["missing"] is True
    # The private catalog: 401 with a challenge, then the same session with a token.
    refused = httpx.post(server.url + "/c/corp/mcp", json=SEARCH, headers=HEADERS)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer ")
    corp = sdk_session(server.url + "/c/corp/mcp", viewer)
    assert corp["search_servers"]["catalog"] == "corp"
    assert corp["get_server"]["meta"]["io.mcpindex/catalog"] == {"catalog": "corp"}
    # Hosts DJANGO_ALLOWED_HOSTS does not name are refused by the SDK's check, as Django would.
    wrong = httpx.post(server.url + "/mcp", json=SEARCH, headers={**HEADERS, "Host": "evil.test"})
    assert wrong.status_code == 421
    # The plain API is still Django's, beside it.
    assert server.get("/v0.1/servers").json()["metadata"]["count"] == 4  # every version
    assert "Traceback" not in server.output()


def test_the_mcp_inspector_cli_calls_every_tool(server: Gunicorn, viewer: str,
                                                tmp_path: Path) -> None:
    url = server.url + "/mcp"
    listed = inspector(url, "tools/list", tmp_path)
    assert sorted(t["name"] for t in listed["tools"]) == [
        "get_install_config", "get_server", "list_versions", "search_servers", "search_tools"]
    assert all(t["annotations"]["readOnlyHint"] is True for t in listed["tools"])
    calls = {"search_servers": {"query": "database", "remote_only": True, "limit": 5},
             "get_server": {"name": PG_TOOLS, "version": "1.0.0"},
             "list_versions": {"name": PG_TOOLS},
             "get_install_config": {"name": PG_TOOLS, "client": "claude-code"},
             "search_tools": {"query": "query"}}
    results = {tool: inspector(url, "tools/call", tmp_path, tool=tool, args=args)
               for tool, args in calls.items()}
    assert all(r.get("isError") is not True for r in results.values()), results
    assert [s["name"] for s in results["search_servers"]["structuredContent"]["servers"]] == [
        "io.github.acme/remote-db"]
    assert results["get_server"]["structuredContent"]["version"] == "1.0.0"
    assert len(results["list_versions"]["structuredContent"]["versions"]) == 2
    assert results["get_install_config"]["structuredContent"]["config"].startswith(
        "claude mcp add")
    unknown = inspector(url, "tools/call", tmp_path, tool="get_server",
                        args={"name": "io.github.nobody/none"}, tool_error=True)
    assert unknown["isError"] is True
    corp = inspector(server.url + "/c/corp/mcp", "tools/call", tmp_path, tool="search_servers",
                     args={"query": "files"}, headers={"Authorization": f"Bearer {viewer}"})
    assert corp["structuredContent"]["catalog"] == "corp"


def test_requests_are_logged_and_rate_limited(tmp_path: Path, viewer: str) -> None:
    served = Gunicorn(tmp_path / "limited.log", {"DATABASE_URL": db_url(),
                                                 "MCP_INDEX_RATE_LIMITS": "1",
                                                 "MCP_INDEX_RATE_LIMIT_ANON": "3/h",  # no refill in a test
                                                 # tools/call is a POST but a read: not a write
                                                 "MCP_INDEX_RATE_LIMIT_WRITES": "1/h"})
    try:
        served.wait_ready()
        statuses = [httpx.post(served.url + "/mcp", json=SEARCH, headers=HEADERS).status_code
                    for _ in range(4)]
        limited = httpx.post(served.url + "/c/corp/mcp", json=SEARCH, headers=HEADERS)
        log = served.output()
    finally:
        served.stop()
    assert statuses == [200, 200, 200, 429], log[-3000:]
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["Content-Type"] == "application/problem+json"
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("message") == "request"]
    assert [(r["route"], r["status"]) for r in requests] == [("/mcp", 200)] * 3 + [
        ("/mcp", 429), ("/c/<slug>/mcp", 429)]
    assert all(r["request_id"] for r in requests)


# The conformance suite's server scenarios that apply to a read-only registry: the others
# exercise features it does not offer (sampling, elicitation, logging, prompts and resources
# with content, the suite's own test tools).
SCENARIOS = ["server-initialize", "ping", "tools-list", "resources-list", "prompts-list",
             "dns-rebinding-protection"]


def test_the_conformance_suite(server: Gunicorn, tmp_path: Path) -> None:
    failures = {}
    for scenario in SCENARIOS:
        done = conformance(server.url + "/mcp", scenario, tmp_path)
        passed = re.search(r"Passed: (\d+)/(\d+), 0 failed", done.stdout)
        if done.returncode != 0 or not passed or passed.group(1) != passed.group(2) \
                or passed.group(1) == "0":
            failures[scenario] = (done.stdout + done.stderr)[-1500:]
    assert failures == {}

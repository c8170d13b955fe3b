"""The prober against real servers on loopback, through the SSRF guard: every outcome."""

from __future__ import annotations

import anyio
import pytest

from discovery.probe import AUTH_REQUIRED, NOT_MCP, OK, SKIPPED, UNREACHABLE, Target, probe, target_of
from mcp_index_common.toolsets import tools_digest
from tests.discovery.conftest import AUTH_SERVER
from tests.support.mcp_servers import host

pytestmark = pytest.mark.slow


def run(url: str, transport: str = "streamable-http"):
    return anyio.run(probe, Target(url, transport))


def test_the_npm_reference_server_is_inventoried(probing, everything):
    result = run(everything.url())
    assert result.status == OK, result.reason
    names = [t["name"] for t in result.tools]
    assert "echo" in names and names == sorted(names) and len(names) >= 10
    echo = next(t for t in result.tools if t["name"] == "echo")
    assert echo["inputSchema"]["type"] == "object" and echo["description"]
    assert result.server_info["name"] and result.protocol_version
    assert result.prompt_count and result.prompt_count > 0
    assert result.resource_count and result.resource_count > 0
    assert result.tools_digest == tools_digest(result.tools)


def test_our_sdk_server_and_a_changed_tool_set(probing, drift_server):
    first = run(drift_server.url())
    assert first.status == OK, first.reason
    assert [t["name"] for t in first.tools] == ["add", "echo"]
    assert run(drift_server.url()).tools_digest == first.tools_digest  # stable
    drift_server.set_tools({"add": "Add two numbers", "rm": "Delete a file"})
    second = run(drift_server.url())
    assert [t["name"] for t in second.tools] == ["add", "rm"]
    assert second.tools_digest != first.tools_digest


def test_the_sse_transport(probing, sse_server):
    result = run(sse_server.url(), "sse")
    assert result.status == OK, result.reason
    assert [t["name"] for t in result.tools] == ["add", "echo"]


def test_an_html_page_is_not_mcp(probing, html_server):
    result = run(html_server.url("html"))
    assert result.status == NOT_MCP
    assert "text/html" in result.reason


def test_a_server_that_never_answers_times_out(probing, settings, hanging_server):
    settings.MCP_INDEX_PROBE_TIMEOUT_SECONDS = 1
    result = run(hanging_server.url("hang"))
    assert result.status == UNREACHABLE
    assert "no answer within 1 s" in result.reason


def test_401_is_auth_required_with_its_authorization_server(probing, auth_server):
    result = run(auth_server.url("auth"))
    assert result.status == AUTH_REQUIRED, result.reason
    assert result.authorization_servers == [AUTH_SERVER]


def test_the_guard_still_refuses_loopback_when_not_allowed(probing, settings, drift_server):
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = []
    result = run(drift_server.url())
    assert result.status == UNREACHABLE
    assert "private or reserved address" in result.reason


@pytest.mark.parametrize(("url", "says"), [
    ("http://{host}/mcp", "only https"),
    ("https://127.0.0.1:{port}/mcp", "IP address literals"),
    ("https://localhost:{port}/mcp", "single-label"),
    ("https://user:pw@{host}/mcp", "credentials"),
])
def test_the_guard_refuses_other_urls(probing, drift_server, url, says):
    target = url.format(host=f"{host('drift')}:{drift_server.port}", port=drift_server.port)
    result = run(target)
    assert result.status == UNREACHABLE and says in result.reason, result.reason


def test_tls_is_verified(probing, settings, drift_server):
    settings.MCP_INDEX_OUTBOUND_CA_BUNDLE = ""  # the system CAs do not know the test CA
    result = run(drift_server.url())
    assert result.status == UNREACHABLE
    assert "CERTIFICATE_VERIFY_FAILED" in result.reason or "certificate" in result.reason.lower()


def test_a_byte_cap_cuts_a_big_answer(probing, settings, everything):
    settings.MCP_INDEX_PROBE_MAX_BYTES = 2000
    result = run(everything.url())
    assert result.status != OK
    assert "byte limit" in result.reason


def test_targets_skip_what_we_cannot_fill():
    templated = {"remotes": [{"type": "streamable-http", "url": "https://{tenant}.example.com/mcp"}]}
    assert target_of(templated).skip_reason == "the URL needs user values for {tenant}"
    header = {"remotes": [{"type": "sse", "url": "https://a.example.com/sse",
                           "headers": [{"name": "X-Api-Key", "isRequired": True, "isSecret": True}]}]}
    assert "X-Api-Key" in target_of(header).skip_reason
    assert anyio.run(probe, target_of(header)).status == SKIPPED
    both = {"remotes": [{"type": "sse", "url": "https://a.example.com/sse"},
                        {"type": "streamable-http", "url": "https://a.example.com/mcp"}]}
    assert target_of(both).url == "https://a.example.com/mcp"
    assert target_of({"packages": []}) is None

"""The MCP endpoint over HTTP in process: the ASGI app (serving.mcp.http) with its lifespan,
the official SDK client through an in-memory transport, and raw requests.

Catalog scope and access (401 with WWW-Authenticate, 403, 404), the Host and Origin checks
configured from ALLOWED_HOSTS, and hostile bodies: never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from curation.models import Catalog
from curation.services.feeds import feed_create, feed_revoke
from registry.services import token_create
from serving.mcp.http import McpEndpoint, transport_security
from tests.support.factories import CatalogFactory, ServerVersionFactory
from tests.support.manifests import NPM, REMOTE
from tests.support.mcp import run_async

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "http://mcp.test"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
           "MCP-Protocol-Version": "2025-06-18"}


def rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}


def search(query: str = "") -> dict[str, Any]:
    return rpc("tools/call", {"name": "search_servers", "arguments": {"query": query}})


@pytest.fixture
def endpoint(settings: Any) -> Callable[[], McpEndpoint]:
    """Makes endpoints (each runs its SDK session manager once) for these ALLOWED_HOSTS."""
    settings.ALLOWED_HOSTS = ["mcp.test", ".corp.test"]
    return McpEndpoint


@pytest.fixture
def catalog() -> None:
    ServerVersionFactory(name="io.github.acme/pg-tools", description="Query a database",
                         packages=NPM)
    ServerVersionFactory(name="io.github.acme/remote-db", description="A database, hosted",
                         remotes=REMOTE)
    CatalogFactory(slug="corp", public=False)


def serve(make: Callable[[], McpEndpoint], fn: Callable[[httpx2.AsyncClient], Awaitable[Any]],
          headers: dict[str, str] | None = None) -> Any:
    """Run `fn(http)` with the endpoint's lifespan running and an in-memory HTTP client."""

    endpoint = make()

    async def run() -> Any:
        async with endpoint.session_manager.run():
            transport = httpx2.ASGITransport(app=endpoint)
            async with httpx2.AsyncClient(transport=transport, base_url=BASE,
                                          headers=headers or {}) as http:
                return await fn(http)

    return run_async(run)


def post(endpoint: Callable[[], McpEndpoint], path: str, body: Any, **headers: str) -> httpx2.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()

    async def send(http: httpx2.AsyncClient) -> httpx2.Response:
        return await http.post(path, content=content, headers={**HEADERS, **headers})

    return serve(endpoint, send)


def viewer_token(slug: str) -> str:
    return token_create(name="v", patterns=[], scopes=[f"catalog:{slug}:viewer"],
                        actor="test").secret


def test_a_private_catalog_needs_a_token(endpoint: Callable[[], McpEndpoint], catalog: None) -> None:
    anonymous = post(endpoint, "/c/corp/mcp", search())
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="mcp-index"'
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert "requires a token" in anonymous.json()["detail"]
    bad = post(endpoint, "/c/corp/mcp", search(), Authorization="Bearer mcpi_not-a-token")
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == 'Bearer realm="mcp-index", error="invalid_token"'
    other = post(endpoint, "/c/corp/mcp", search(),
                 Authorization=f"Bearer {viewer_token('elsewhere')}")
    assert other.status_code == 403
    assert post(endpoint, "/c/nowhere/mcp", search()).status_code == 404
    # The root is the registry itself: public.
    assert post(endpoint, "/mcp", search()).status_code == 200


def test_with_a_token_the_sdk_client_reads_the_catalog(endpoint: Callable[[], McpEndpoint], catalog: None
                                                       ) -> None:
    token = viewer_token("corp")

    async def session(http: httpx2.AsyncClient) -> tuple[Any, Any, Any]:
        async with Client(streamable_http_client(f"{BASE}/c/corp/mcp", http_client=http)) as client:
            tools = await client.list_tools()
            found = await client.call_tool("search_servers", {"query": "database"})
            detail = await client.call_tool("get_server", {"name": "io.github.acme/pg-tools"})
            return tools, found, detail

    tools, found, detail = serve(endpoint, session, {"Authorization": f"Bearer {token}"})
    assert len(tools.tools) == 5  # search_servers … search_tools
    body = found.structured_content
    assert body["catalog"] == "corp"
    assert {s["name"] for s in body["servers"]} == {"io.github.acme/pg-tools",
                                                    "io.github.acme/remote-db"}
    assert all(s["catalog"]["catalog"] == "corp" for s in body["servers"])
    assert detail.structured_content["meta"]["io.mcpindex/catalog"]["catalog"] == "corp"


def test_a_feed_url_reads_its_private_catalog_until_revoked(
        endpoint: Callable[[], McpEndpoint], catalog: None) -> None:
    corp = Catalog.objects.get(slug="corp")
    feed = feed_create(catalog=corp, name="agent", actor="test")
    path = f"/c/corp/k/{feed.secret}/mcp"

    async def session(http: httpx2.AsyncClient) -> Any:
        async with Client(streamable_http_client(f"{BASE}{path}", http_client=http)) as client:
            return await client.call_tool("search_servers", {"query": "database"})

    found = serve(endpoint, session).structured_content  # no Authorization header at all
    assert found["catalog"] == "corp" and len(found["servers"]) == 2
    # The secret binds to its catalog: another catalog's path with it, or a wrong secret, 404.
    CatalogFactory(slug="other", public=False)
    assert post(endpoint, f"/c/other/k/{feed.secret}/mcp", search()).status_code == 404
    wrong = post(endpoint, "/c/corp/k/mcpf_wrong/mcp", search())
    assert wrong.status_code == 404 and wrong.headers["content-type"] == "application/problem+json"
    feed_revoke(feed=feed.feed, actor="test")
    assert post(endpoint, path, search()).status_code == 404


def test_host_and_origin_come_from_allowed_hosts(endpoint: Callable[[], McpEndpoint]) -> None:
    assert post(endpoint, "/mcp", rpc("ping"), Host="mcp.test:8443").status_code == 200
    assert post(endpoint, "/mcp", rpc("ping"), Host="corp.test").status_code == 200
    assert post(endpoint, "/mcp", rpc("ping"), Host="evil.test").status_code == 421
    assert post(endpoint, "/c/corp/mcp", rpc("ping"), Host="evil.test").status_code == 421
    assert post(endpoint, "/mcp", rpc("ping"), Origin="https://mcp.test").status_code == 200
    assert post(endpoint, "/mcp", rpc("ping"), Origin="http://evil.test").status_code == 403


def test_transport_security_mirrors_allowed_hosts() -> None:
    assert not transport_security(["*"]).enable_dns_rebinding_protection
    sec = transport_security(["api.example.com", ".example.org"])
    assert sec.allowed_hosts == ["api.example.com", "api.example.com:*", "example.org",
                                 "example.org:*"]
    assert "https://api.example.com" in sec.allowed_origins
    assert "http://example.org:*" in sec.allowed_origins


def test_hostile_bodies_are_refused_without_a_500(endpoint: Callable[[], McpEndpoint]) -> None:
    cases: list[bytes] = [
        # a lone surrogate, as a JSON escape: not text PostgreSQL or UTF-8 can hold
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_servers",'
        b'"arguments":{"query":"\\ud800"}}}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_server",'
        b'"arguments":{"name":"a\\u0000b"}}}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_servers",'
        b'"arguments":{"limit":1e400}}}',
        b"[" * 5000 + b"]" * 5000,
        b"\xff\xfe not json",
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"no_such_tool"}}',
        json.dumps(rpc("tools/call", {"name": "search_servers",
                                      "arguments": {"query": "q" * 60_000}})).encode(),
    ]
    for body in cases:
        response = post(endpoint, "/mcp", body)
        assert response.status_code < 500, (body[:80], response.status_code, response.text)
        if response.status_code == 200:
            answer = response.json()
            assert "error" in answer or answer["result"]["isError"] is True, answer
    oversize = post(endpoint, "/mcp", json.dumps(search("q" * 70_000)).encode())
    assert oversize.status_code == 413

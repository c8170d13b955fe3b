"""Fixtures for the namespace-proof tests: loopback proof host, DNS server, issuers, GitHub."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.proofs.identities import FakeIssuer
from tests.proofs.loopback import FakeDNSServer, FakeHTTPServer, TlsMaterial, make_tls

PROOF_DOMAIN = "proof.example.test"


@pytest.fixture
def http_server() -> Iterator[Callable[..., FakeHTTPServer]]:
    """Start loopback HTTP(S) servers on demand; all are stopped afterwards."""
    servers: list[FakeHTTPServer] = []

    def start(tls: TlsMaterial | None = None) -> FakeHTTPServer:
        server = FakeHTTPServer(tls.server_context if tls else None)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    directory: Path = tmp_path_factory.mktemp("tls")
    return make_tls(directory, [PROOF_DOMAIN, "files.example.test"])


@pytest.fixture
def outbound(settings) -> None:
    """Let the SSRF guard reach loopback for the test host names (and only those)."""
    settings.MCP_INDEX_OUTBOUND_HOSTS = {PROOF_DOMAIN: "127.0.0.1", "files.example.test": "127.0.0.1"}
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = ["127.0.0.0/8"]


@pytest.fixture
def proof_host(http_server, settings, outbound) -> FakeHTTPServer:
    """A plain-http host for PROOF_DOMAIN, wired into MCP_INDEX_PROOF_HTTP_URL."""
    server = http_server()
    settings.MCP_INDEX_PROOF_HTTP_URL = f"http://{{domain}}:{server.port}/.well-known/mcp-registry-auth"
    settings.MCP_INDEX_PROOF_HTTP_TIMEOUT_SECONDS = 1
    return server


@pytest.fixture
def dns_server(settings) -> Iterator[FakeDNSServer]:
    server = FakeDNSServer()
    settings.MCP_INDEX_PROOF_DNS_NAMESERVERS = [server.address]
    settings.MCP_INDEX_PROOF_DNS_TIMEOUT_SECONDS = 2
    yield server
    server.close()


@pytest.fixture
def issuer(http_server) -> Iterator[FakeIssuer]:
    cache.clear()
    yield FakeIssuer(http_server())
    cache.clear()

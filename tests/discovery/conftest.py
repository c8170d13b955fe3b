"""Fixtures of the prober's tests: TLS from a throwaway CA, the guard opened to loopback for
the test host names only, and the real servers of tests.support.mcp_servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.loopback import TlsMaterial, make_tls
from tests.support.mcp_servers import (
    WILDCARD,
    DriftServer,
    EverythingServer,
    PlainServer,
    host,
    html_page,
    protected,
)

LABELS = ["everything", "drift", "drift2", "html", "hang", "auth", "nomcp"]
AUTH_SERVER = "https://login.example.test"


@pytest.fixture(scope="session")
def probe_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """A CA and a certificate for *.probe.test."""
    return make_tls(tmp_path_factory.mktemp("probe-tls"), [WILDCARD, host("drift")])


@pytest.fixture
def probing(settings, probe_tls: TlsMaterial) -> None:
    """The SSRF guard may reach loopback, for the test host names (and only those)."""
    settings.MCP_INDEX_OUTBOUND_HOSTS = {host(label): "127.0.0.1" for label in LABELS}
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = ["127.0.0.0/8"]
    settings.MCP_INDEX_OUTBOUND_CA_BUNDLE = str(probe_tls.ca_file)
    settings.MCP_INDEX_PROBE_TIMEOUT_SECONDS = 10


@pytest.fixture(scope="session")
def everything(probe_tls: TlsMaterial) -> Iterator[EverythingServer]:
    server = EverythingServer(probe_tls.server_context)
    yield server
    server.close()


@pytest.fixture
def drift_server(probe_tls: TlsMaterial) -> Iterator[DriftServer]:
    server = DriftServer(Path(probe_tls.ca_file).parent / "server.pem")
    yield server
    server.close()


@pytest.fixture
def sse_server(probe_tls: TlsMaterial) -> Iterator[DriftServer]:
    server = DriftServer(Path(probe_tls.ca_file).parent / "server.pem", sse=True)
    yield server
    server.close()


@pytest.fixture(scope="session")
def html_server(probe_tls: TlsMaterial) -> Iterator[PlainServer]:
    server = PlainServer(probe_tls.server_context, html_page)
    yield server
    server.close()


@pytest.fixture(scope="session")
def hanging_server(probe_tls: TlsMaterial) -> Iterator[PlainServer]:
    server = PlainServer(probe_tls.server_context, html_page, hang=True)
    yield server
    server.close()


@pytest.fixture(scope="session")
def auth_server(probe_tls: TlsMaterial) -> Iterator[PlainServer]:
    server = PlainServer(probe_tls.server_context, protected(AUTH_SERVER))
    yield server
    server.close()

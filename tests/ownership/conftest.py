"""Fake package registries on loopback: npm, PyPI, NuGet, crates.io, an OCI registry, files
(npm is the root conftest's, shared with the CLI's login tests; helpers:
tests/support/package_registries.py)."""

from __future__ import annotations

import pytest

from tests.support.loopback import FILES_HOST, FakeHTTPServer
from tests.support.package_registries import OCI_HOST, FakeOciRegistry, nuget_service_index


@pytest.fixture(autouse=True)
def _ownership_checks_on(settings) -> None:
    settings.MCP_INDEX_OWNERSHIP_CHECKS = True


@pytest.fixture
def pypi(http_server, settings) -> FakeHTTPServer:
    server = http_server()
    settings.MCP_INDEX_OWNERSHIP_PYPI_URL = server.url
    return server


@pytest.fixture
def nuget(http_server, settings) -> FakeHTTPServer:
    server = http_server()
    settings.MCP_INDEX_OWNERSHIP_NUGET_URL = f"{server.url}/v3/index.json"
    nuget_service_index(server)
    return server


@pytest.fixture
def cargo(http_server, settings) -> FakeHTTPServer:
    server = http_server()
    settings.MCP_INDEX_OWNERSHIP_CARGO_URL = server.url
    return server


@pytest.fixture
def oci(http_server, settings) -> FakeOciRegistry:
    server = http_server()
    settings.MCP_INDEX_OWNERSHIP_OCI_REGISTRIES = {OCI_HOST: server.url}
    return FakeOciRegistry(server)


@pytest.fixture
def files(http_server, tls, settings) -> FakeHTTPServer:
    """An https file host for MCPB downloads, reachable through the SSRF guard."""
    server = http_server(tls)
    settings.MCP_INDEX_OUTBOUND_HOSTS = {FILES_HOST: "127.0.0.1"}
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = ["127.0.0.0/8"]
    settings.MCP_INDEX_OUTBOUND_CA_BUNDLE = str(tls.ca_file)
    settings.MCP_INDEX_OWNERSHIP_MCPB_HOSTS = [FILES_HOST]
    settings.MCP_INDEX_OWNERSHIP_TIMEOUT_SECONDS = 2
    return server

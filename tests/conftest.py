"""Fixtures for every test: loopback-only network, an empty Redis, API clients, the loopback
servers shared by several folders, and the markers applied by folder.

Helpers live in tests/support/ (import them from there); conftest files hold only fixtures
and hooks.
"""

from __future__ import annotations

import copy
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

from registry.models import ServerVersion
from tests.support import redis as test_redis
from tests.support.api import Api
from tests.support.data import EXAMPLES, load_json
from tests.support.factories import ImportedVersionFactory
from tests.support.identities import FakeIssuer
from tests.support.loopback import (
    FILES_HOST,
    PROOF_DOMAIN,
    FakeDNSServer,
    FakeHTTPServer,
    TlsMaterial,
    make_tls,
)
from tests.support.manifests import manifest
from tests.support.network import loopback_only
from tests.support.tokens import bearer

# The fuzz suite's totals (cases, answers, time), summed over xdist workers and printed last.
pytest_plugins = ["tests.fuzz.report"]

TESTS = Path(__file__).resolve().parent
# Markers by folder (registered in pyproject.toml; `make test-fast` deselects them).
FOLDER_MARKERS = {"e2e": ("e2e", "slow"), "deploy": ("deploy",)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
        for marker in FOLDER_MARKERS.get(folder, ()):
            item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
def _test_database_droppable(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """At the end of the session, end every other connection to this worker's test database
    (a live server's request threads, a killed subprocess's backend) so that pytest-django
    can drop it: a lingering session made the drop fail and the run end in an error."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Block every socket that is not loopback: tests use real servers on 127.0.0.1."""
    monkeypatch.setattr(socket.socket, "connect", loopback_only)


@pytest.fixture(autouse=True)
def _empty_redis() -> None:
    """Each test starts with an empty Redis: cached responses, generations and rate-limit
    counters must not leak from one test's (rolled back) database into the next. The
    database is the suite's own (tests/support/redis.py), never a configured broker."""
    if not settings.REDIS_URL:
        return
    brokers = [settings.CELERY_BROKER_URL, settings.TEST_DEVELOPER_BROKER_URL]
    try:
        test_redis.flush(settings.REDIS_URL, brokers=brokers)
    except test_redis.BrokerDatabaseError as exc:
        pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)


# --- the registry API --------------------------------------------------------------------

@pytest.fixture
def api(client: Client) -> Api:
    return Api(client)


@pytest.fixture
def publisher(client: Client) -> Api:
    """An API client holding a JWT for io.modelcontextprotocol.anonymous/* and io.github.acme/*."""
    a = Api(client)
    a.token = bearer(["io.modelcontextprotocol.anonymous/*", "io.github.acme/*"])
    return a


@pytest.fixture
def publish(publisher: Api) -> Callable[..., dict[str, Any]]:
    """Publish a manifest and return the response body, asserting success."""

    def _publish(name: str = "io.github.acme/db", version: str = "1.0.0", **extra: Any
                 ) -> dict[str, Any]:
        response = publisher.publish(manifest(name, version, **extra))
        assert response.status_code == 200, response.content
        return response.json()

    return _publish


@pytest.fixture
def examples() -> list[dict[str, Any]]:
    return [copy.deepcopy(load_json(p)) for p in EXAMPLES]


@pytest.fixture
def add_server(db: None) -> Callable[..., ServerVersion]:
    """Store a version as an import would (tolerant: invalid manifests are kept too), each an
    hour after the previous one (tests/support/factories.py: ImportedVersionFactory)."""
    ImportedVersionFactory.reset_sequence()

    def _add(name: str, version: str = "1.0.0", **fields: Any) -> ServerVersion:
        return ImportedVersionFactory(name=name, version=version, **fields)

    return _add


# --- loopback servers for proofs, ownership checks and the CLI's login -------------------

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
    """A throwaway CA and a certificate for PROOF_DOMAIN and FILES_HOST."""
    directory: Path = tmp_path_factory.mktemp("tls")
    return make_tls(directory, [PROOF_DOMAIN, FILES_HOST])


@pytest.fixture
def outbound(settings) -> None:
    """Let the SSRF guard reach loopback for the test host names (and only those)."""
    settings.MCP_INDEX_OUTBOUND_HOSTS = {PROOF_DOMAIN: "127.0.0.1", FILES_HOST: "127.0.0.1"}
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


@pytest.fixture
def npm(http_server, settings) -> FakeHTTPServer:
    """A fake npm registry wired into the ownership checks."""
    server = http_server()
    settings.MCP_INDEX_OWNERSHIP_NPM_URL = server.url
    return server

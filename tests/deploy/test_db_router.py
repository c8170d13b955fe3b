"""config/db_router.py: which requests read from the replica, and the settings that wire it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest
from django.contrib.sessions.models import Session
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from config.db_router import ReplicaReadsMiddleware, ReplicaRouter
from registry.models import ApiToken, ServerVersion
from signing.models import Attestation, TrustPolicy
from tests.support.data import ROOT
from tests.support.deploy import app_env

pytestmark = pytest.mark.usefixtures("_router")
PRIMARY = dict.fromkeys(["version", "token", "trust", "attestation_principals", "session"], "default")


@pytest.fixture
def _router() -> object:
    with override_settings(DATABASE_ROUTERS=["config.db_router.ReplicaRouter"]):
        yield


def read_alias(method: str, path: str, during: Callable[[], object] | None = None) -> dict[str, str]:
    """The aliases ORM reads would use inside a request, as the middleware sets it up."""
    seen: dict[str, str] = {}

    def view(request: HttpRequest) -> HttpResponse:
        if during:
            during()
        seen["version"] = ServerVersion.objects.all().db
        seen["token"] = ApiToken.objects.all().db
        seen["trust"] = TrustPolicy.objects.all().db
        seen["attestation_principals"] = Attestation.principals.through.objects.all().db
        seen["session"] = Session.objects.all().db
        return HttpResponse()

    request = RequestFactory().generic(method, path)
    ReplicaReadsMiddleware(view)(request)
    return seen


@pytest.mark.parametrize("path", [
    "/v0.1/servers", "/v0/servers", "/v0.1/servers/io.github.acme%2Fdb/versions",
    "/v0/servers/io.github.acme%2Fdb/versions/latest", "/c/internal/v0.1/servers",
    "/c/internal/v0/servers/a%2Fb/versions/1.0.0",
])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_read_api_gets_read_from_the_replica(method: str, path: str) -> None:
    assert read_alias(method, path) == {"version": "replica", "token": "default", "trust": "replica",
                                        "attestation_principals": "replica", "session": "default"}


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v0/publish"), ("PATCH", "/v0/servers/a%2Fb/status"), ("POST", "/v0.1/servers"),
    ("GET", "/v0/health"), ("GET", "/v0.1/x/io.mcpindex/whoami"), ("GET", "/"),
    ("GET", "/servers/io.github.acme/db/"), ("GET", "/admin/"), ("GET", "/v0.1/serversx"),
])
def test_everything_else_reads_the_primary(method: str, path: str) -> None:
    assert read_alias(method, path) == PRIMARY


def test_after_a_write_the_request_reads_the_primary() -> None:
    assert read_alias("GET", "/v0.1/servers", during=lambda: ReplicaRouter().db_for_write(ServerVersion)) \
        == PRIMARY


def test_reads_inside_a_transaction_use_the_primary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections["default"], "in_atomic_block", True)
    assert read_alias("GET", "/v0.1/servers") == PRIMARY


def test_the_flag_ends_with_the_request() -> None:
    read_alias("GET", "/v0.1/servers")
    assert ServerVersion.objects.all().db == "default"


def test_writes_and_migrations_go_to_the_primary() -> None:
    router = ReplicaRouter()
    assert router.db_for_write(ServerVersion) is None  # Django's default: the primary
    assert router.allow_migrate("default", "registry") is True
    assert router.allow_migrate("replica", "registry") is False
    assert router.allow_relation(object(), object()) is True


PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'aliases': sorted(s.DATABASES), "
    "'replica': s.DATABASES.get('replica', {}).get('NAME'), "
    "'mirror': s.DATABASES.get('replica', {}).get('TEST', {}).get('MIRROR'), "
    "'routers': list(getattr(s, 'DATABASE_ROUTERS', [])), 'after_context': s.MIDDLEWARE[1]}))"
)


@pytest.mark.parametrize("replica", ["", "postgres://ro@127.0.0.1:5432/mcp_replica"])
def test_settings_wire_the_replica_only_when_configured(replica: str) -> None:
    env = app_env({}, DJANGO_SETTINGS_MODULE="config.settings", DJANGO_DEBUG="1",
                  DATABASE_URL="postgres://rw@127.0.0.1:5432/mcp", DATABASE_REPLICA_URL=replica)
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60, check=True)
    wired = json.loads(result.stdout)
    if replica:
        assert wired == {"aliases": ["default", "replica"], "replica": "mcp_replica", "mirror": "default",
                         "routers": ["config.db_router.ReplicaRouter"],
                         "after_context": "config.db_router.ReplicaReadsMiddleware"}
    else:
        assert wired["aliases"] == ["default"] and wired["routers"] == []
        assert wired["after_context"] != "config.db_router.ReplicaReadsMiddleware"

"""Shared fixtures: loopback-only network, API clients, tokens, example manifests."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from registry.auth.jwt import issue_token
from registry.auth.permissions import EDIT, PUBLISH, Permission

ROOT = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path:
    """The `shared/` folder beside the checkout (spec, examples, the registry snapshot); a git
    worktree nested one level deeper (e.g. wt/<name>/) finds the same folder further up."""
    for parent in ROOT.parents:
        if (parent / "shared" / "spec").is_dir():
            return parent / "shared"
    return ROOT.parent / "shared"


SHARED = _shared_dir()
EXAMPLES = sorted((SHARED / "spec" / "examples").glob("generic-server-json.example*.json"))
SNAPSHOT = SHARED / "data" / "official-registry-2025-12-18.json"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    inet = self.family in (socket.AF_INET, socket.AF_INET6)
    if inet and isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost")):
        raise OSError(f"tests may only connect to loopback, not {host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Block every socket that is not loopback: tests use real servers on 127.0.0.1."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def manifest(name: str = "io.modelcontextprotocol.anonymous/demo", version: str = "1.0.0",
             **extra: Any) -> dict[str, Any]:
    """A minimal valid server.json."""
    doc: dict[str, Any] = {"$schema": SCHEMA_URL, "name": name,
                           "description": "A demo server", "version": version}
    doc.update(extra)
    return doc


def bearer(patterns: list[str], *, edit: bool = True, ttl: int | None = None) -> str:
    perms = [Permission(PUBLISH, p) for p in patterns]
    if edit:
        perms += [Permission(EDIT, p) for p in patterns]
    return issue_token(auth_method="test", subject="tester", permissions=perms,
                       ttl=ttl).registry_token


class Api:
    """A thin JSON client over Django's test client with an optional bearer token."""

    def __init__(self, client: Client, prefix: str = "/v0") -> None:
        self.client = client
        self.prefix = prefix
        self.token: str | None = None

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.token and "Authorization" not in out:
            out["Authorization"] = f"Bearer {self.token}"
        return out

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(self.prefix + path, params, headers=self._headers(None))

    def send(self, method: str, path: str, body: Any = None, *, raw: str | bytes | None = None,
             headers: dict[str, str] | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body)
        fn = getattr(self.client, method.lower())
        return fn(self.prefix + path, data=data, content_type="application/json",
                  headers=self._headers(headers))

    def publish(self, doc: dict[str, Any], **kw: Any) -> Any:
        return self.send("POST", "/publish", doc, **kw)


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


@pytest.fixture(autouse=True)
def _empty_redis() -> None:
    """Each test starts with an empty Redis: cached responses, generations and rate-limit
    counters must not leak from one test's (rolled back) database into the next."""
    from django.conf import settings

    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()

"""Fixtures for page tests: servers stored through the registry's own ingest service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from registry import services
from registry.models import ServerVersion
from tests.conftest import SCHEMA_URL

BASE_TIME = datetime(2025, 10, 1, tzinfo=UTC)


def server_doc(name: str, version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"$schema": SCHEMA_URL, "name": name, "version": version,
                           "description": f"The {name.split('/')[-1]} server"}
    doc.update(extra)
    return doc


@pytest.fixture
def add_server(db: None) -> Callable[..., ServerVersion]:
    """Store a version as an import would (tolerant: invalid manifests are kept too)."""
    counter = iter(range(1, 10_000))

    def _add(name: str, version: str = "1.0.0", *, status: str = "active",
             origin: str = "local", **extra: Any) -> ServerVersion:
        published = BASE_TIME + timedelta(hours=next(counter))
        stamp = published.isoformat().replace("+00:00", "Z")
        entry = {"server": server_doc(name, version, **extra), "_meta": {
            "io.modelcontextprotocol.registry/official": {
                "status": status, "publishedAt": stamp, "updatedAt": stamp}}}
        outcome = services.version_ingest(entry=entry, origin=origin)
        assert outcome.action == "created", outcome
        return ServerVersion.objects.get(name=name, version=version)

    return _add


NPM = [{"registryType": "npm", "identifier": "@acme/db", "version": "1.0.0",
        "transport": {"type": "stdio"},
        "environmentVariables": [{"name": "DB_URL", "isRequired": True, "isSecret": True,
                                  "description": "Connection string"}]}]
PYPI = [{"registryType": "pypi", "identifier": "acme-files", "version": "2.0.0",
         "transport": {"type": "stdio"}}]
REMOTE = [{"type": "streamable-http", "url": "https://mcp.acme.example/mcp"}]
SSE = [{"type": "sse", "url": "https://mcp.acme.example/sse"}]


@pytest.fixture
def catalog_data(add_server: Callable[..., ServerVersion]) -> dict[str, ServerVersion]:
    """A small registry: npm, pypi, remote-only, deprecated and deleted servers."""
    return {
        "db": add_server("io.github.acme/db", title="Acme Database", packages=NPM),
        "files": add_server("io.github.acme/files", packages=PYPI,
                            description="Read and write files on disk"),
        "cloud": add_server("com.example/cloud", title="Example Cloud", remotes=REMOTE),
        "events": add_server("com.example/events", remotes=SSE, packages=NPM),
        "old": add_server("com.example/old", status="deprecated", packages=PYPI),
        "gone": add_server("com.example/gone", status="deleted", packages=PYPI),
    }

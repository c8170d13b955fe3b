"""Fixtures for page tests: servers stored through the registry's own ingest service
(`add_server` is the root conftest's, shared with the browser tests)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from registry.models import ServerVersion
from tests.support.manifests import NPM, PYPI, REMOTE, SSE


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

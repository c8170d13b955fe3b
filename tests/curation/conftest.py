"""Fixtures for curation: a fake upstream on loopback, upstreams, mirror comparison."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from curation.models import Upstream
from registry.models import ServerVersion
from tests.conftest import SNAPSHOT, load_json
from tests.curation.fake_upstream import OFFICIAL, FakeRegistry

_SNAPSHOT: list[dict[str, Any]] = load_json(SNAPSHOT)


def snapshot(count: int | None = None) -> list[dict[str, Any]]:
    """The real registry snapshot, or its first whole servers holding at least `count` versions."""
    entries = sorted(_SNAPSHOT, key=lambda e: (e["server"]["name"], e["server"]["version"]))
    if count is None or count >= len(entries):
        return entries
    last = entries[count - 1]["server"]["name"]
    return [e for e in entries if e["server"]["name"] <= last]


@pytest.fixture(autouse=True)
def _fast_retries(settings: Any) -> None:
    settings.MCP_INDEX_SYNC_TIMEOUT_SECONDS = 2
    settings.MCP_INDEX_SYNC_BACKOFF_SECONDS = 0.01
    settings.MCP_INDEX_SYNC_MAX_WAIT_SECONDS = 3
    settings.MCP_INDEX_SYNC_RETRIES = 4


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    """The first 400 snapshot entries served on loopback."""
    registry = FakeRegistry(snapshot(400)).start()
    yield registry
    registry.stop()


@pytest.fixture
def full_registry() -> Iterator[FakeRegistry]:
    """The whole snapshot (2,435 versions) served on loopback."""
    registry = FakeRegistry(snapshot()).start()
    yield registry
    registry.stop()


def make_upstream(registry: FakeRegistry, name: str = "official", **fields: Any) -> Upstream:
    return Upstream.objects.create(name=name, base_url=registry.url, **fields)


def mirror_state(origin: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {(sv.name, sv.version): (sv.manifest, sv.status, sv.is_latest)
            for sv in ServerVersion.objects.filter(origin=origin)}


def upstream_state(registry: FakeRegistry) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {key: (e["server"], e["_meta"][OFFICIAL]["status"], e["_meta"][OFFICIAL]["isLatest"])
            for key, e in registry.entries.items()}


def assert_mirror_equals(registry: FakeRegistry, origin: str = "official") -> None:
    """Entries, manifests, statuses and latest flags identical to the upstream's."""
    mine, theirs = mirror_state(origin), upstream_state(registry)
    assert mine.keys() == theirs.keys()
    diff = [k for k in theirs if mine[k] != theirs[k]]
    assert not diff, diff[:5]

"""Comparing a mirror with its upstream: what we store for an origin against what it serves."""

from __future__ import annotations

from typing import Any

from registry.models import ServerVersion
from tests.support.fake_upstream import OFFICIAL, FakeRegistry


def mirror_state(origin: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """What we store for `origin`: manifest, status and latest flag of every version."""
    return {(sv.name, sv.version): (sv.manifest, sv.status, sv.is_latest)
            for sv in ServerVersion.objects.filter(origin=origin)}


def upstream_state(registry: FakeRegistry) -> dict[tuple[str, str], tuple[Any, ...]]:
    """What the fake upstream serves, in mirror_state's shape."""
    return {key: (e["server"], e["_meta"][OFFICIAL]["status"], e["_meta"][OFFICIAL]["isLatest"])
            for key, e in registry.entries.items()}


def assert_mirror_equals(registry: FakeRegistry, origin: str = "official") -> None:
    """Entries, manifests, statuses and latest flags identical to the upstream's."""
    mine, theirs = mirror_state(origin), upstream_state(registry)
    assert mine.keys() == theirs.keys()
    diff = [k for k in theirs if mine[k] != theirs[k]]
    assert not diff, diff[:5]

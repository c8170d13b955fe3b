"""Ingest moves is_latest from the rows it holds, exactly as a full recompute from the database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import permutations
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import ServerVersion
from registry.services import (
    PreparedEntry,
    ingest_prepare,
    servers_recompute_latest,
    version_set_status,
    versions_ingest_bulk,
)
from registry.versioning import Candidate, pick_latest
from tests.support.manifests import server_doc

pytestmark = pytest.mark.django_db

OFFICIAL = "io.modelcontextprotocol.registry/official"
NAMES = [f"io.github.acme/s{i}" for i in range(5)]
# Semver with prereleases, the same precedence spelled apart (`v`, build metadata), and
# versions that are not semver (ordered by publish time, some published at the same instant).
VERSIONS = ["1.0.0", "v1.0.0", "1.0.0+b2", "1.0.0-rc.1", "1.2.0", "1.10.0", "2.0.0-alpha",
            "0.9.9", "snapshot", "20240101", "1.2", "nightly"]
STATUSES = ["active", "active", "active", "deprecated", "deleted"]
BASE = datetime(2025, 1, 1, tzinfo=UTC)


def _entry(rng: random.Random, name: str, version: str, updated: datetime,
           status: str | None = None) -> dict[str, Any]:
    published = BASE + timedelta(hours=rng.choice([0, 1, 1, 2, 3, 5]))
    meta = {"status": status or rng.choice(STATUSES), "publishedAt": _stamp(published),
            "updatedAt": _stamp(updated)}
    return {"server": server_doc(name, version, description=f"r{rng.random()}"),
            "_meta": {OFFICIAL: meta}}


def _stamp(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _flags() -> dict[tuple[str, str], bool]:
    return {(n, v): latest for n, v, latest in
            ServerVersion.objects.values_list("name", "version", "is_latest")}


def _expected() -> dict[tuple[str, str], bool]:
    """Flags by the official rules, computed here from every stored row."""
    rows: dict[str, list[Any]] = {}
    for row in ServerVersion.objects.values_list("name", "version", "published_at", "status"):
        rows.setdefault(row[0], []).append(row)
    flags = {}
    for name, versions in rows.items():
        best = pick_latest([Candidate(v, at, status == "deleted") for _, v, at, status in versions])
        assert best is not None
        flags.update({(name, v): v == best.version for _, v, _, _ in versions})
    return flags


def test_random_ingests_leave_the_flags_a_full_recompute_gives() -> None:
    rng = random.Random(16)
    clock = BASE + timedelta(days=1)
    for batch in range(60):
        clock += timedelta(minutes=1)
        origin = rng.choice(["up", "up", "up", "other"])  # rows of another origin: conflicts
        prepared = []
        for _ in range(rng.randint(1, 12)):
            entry = _entry(rng, rng.choice(NAMES), rng.choice(VERSIONS), clock)
            item = ingest_prepare(entry=entry, origin=origin)
            assert isinstance(item, PreparedEntry)
            prepared.append(item)
        versions_ingest_bulk(prepared=prepared, origin=origin, takeover_from=frozenset(
            {"other"} if batch % 7 == 0 else ()))
        if batch % 9 == 4:  # a status change through the other path (recompute from the DB)
            sv = ServerVersion.objects.order_by("?").first()
            assert sv is not None
            version_set_status(name=sv.name, version=sv.version, actor="test", message=None,
                               status="deleted" if sv.status != "deleted" else "active")
        flags = _flags()
        assert flags == _expected(), f"after batch {batch}"
        servers_recompute_latest(names=NAMES)
        assert _flags() == flags  # a full recompute from the database changes nothing
    stored = ServerVersion.objects.count()
    assert stored > 40 and ServerVersion.objects.filter(is_latest=True).count() == len(NAMES)


def _latest_updates(queries: list[dict[str, str]]) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and '"is_latest"' in q["sql"]]


def test_only_rows_whose_flag_changes_are_written() -> None:
    rng = random.Random(1)
    def prepare(version: str) -> Any:
        return ingest_prepare(entry=_entry(rng, NAMES[0], version, BASE, "active"), origin="up")

    first = [prepare("1.0.0"), prepare("1.1.0")]
    with CaptureQueriesContext(connection) as created:
        versions_ingest_bulk(prepared=first, origin="up")  # new rows go in with their flag
    assert _latest_updates(created.captured_queries) == []
    assert ServerVersion.objects.get(name=NAMES[0], is_latest=True).version == "1.1.0"

    older = prepare("0.9.0")
    with CaptureQueriesContext(connection) as unchanged:
        versions_ingest_bulk(prepared=[older], origin="up")
    assert _latest_updates(unchanged.captured_queries) == []

    newer = prepare("2.0.0")
    with CaptureQueriesContext(connection) as moved:
        versions_ingest_bulk(prepared=[newer], origin="up")
    assert len(_latest_updates(moved.captured_queries)) == 1  # the old latest cleared
    assert ServerVersion.objects.get(name=NAMES[0], is_latest=True).version == "2.0.0"
    assert ServerVersion.objects.filter(name=NAMES[0]).count() == 4


@pytest.mark.parametrize(("candidates", "expected"), [
    # equal precedence: the one published first (upstream moves the flag only to a higher one)
    ([("1.0.0", 1, False), ("v1.0.0", 0, False), ("1.0.0+b", 1, False)], "v1.0.0"),
    ([("snapshot", 0, False), ("nightly", 0, False)], "snapshot"),  # same instant: greater text
    ([("1.0.0", 0, True), ("v1.0.0", 0, True), ("0.1.0", 0, False)], "0.1.0"),
    ([("1.0.0", 0, True), ("v1.0.0", 0, True)], "v1.0.0"),  # every version deleted
])
def test_the_pick_does_not_depend_on_the_order_rows_come_in(candidates: list[Any],
                                                            expected: str) -> None:
    pool = [Candidate(v, BASE + timedelta(hours=h), deleted) for v, h, deleted in candidates]
    for order in permutations(pool):
        best = pick_latest(order)
        assert best is not None and best.version == expected

"""Mirroring a hostile upstream (a real HTTP server on loopback that misbehaves on demand).

Every run ends `succeeded` or `failed` (never `running`), and at the end what our API
serves equals what the upstream holds, minus the entries rejected with a reason: nothing
lost, nothing duplicated.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from email.utils import format_datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from curation.models import SyncRun, Upstream
from curation.sync import SyncReport, upstream_sync
from curation.sync.checkpoint import SyncCheckpoint
from tests.curation.conftest import make_upstream
from tests.curation.fake_upstream import OFFICIAL, FakeRegistry

pytestmark = pytest.mark.django_db

# Strings an upstream may send where we expect text: NUL, lone surrogates, controls, the
# characters that mean something in a URL or in JSON, astral characters, a long one.
HOSTILE = {
    "nul": "a\x00b",
    "only-nul": "\x00",
    "lone-high-surrogate": "x\ud800y",
    "lone-low-surrogate": "\udfff",
    "reversed-pair": "\udc00\ud800",
    "controls": "\x01\x07\x1b\x7f\r\n\t",
    "url-syntax": "a b&c=d+e%2F/?#f;g",
    "json-syntax": '"\\}{][,:',
    "astral": "\U0001f600\U00010000\U0010ffff",
    "bom-and-bidi": "\ufeff\u202e\u2066",
    "10kb": "k" * 10_240,
}


def random_strings(count: int, seed: int = 1) -> list[str]:
    """Derandomised strings over every code point (surrogates included)."""
    rng = random.Random(seed)
    return ["".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(1, 40)))
            for _ in range(count)]


def sync(full: bool = False) -> SyncReport:
    return upstream_sync(upstream=Upstream.objects.get(name="official"), full=full)


def served(client: Client) -> dict[tuple[str, str], tuple[Any, ...]]:
    """What our API serves, walking /v0.1/servers (deleted included) to the end."""
    out: dict[tuple[str, str], tuple[Any, ...]] = {}
    cursor = None
    while True:
        query = {"limit": 100, "include_deleted": "true", **({"cursor": cursor} if cursor else {})}
        response = client.get("/v0.1/servers", query)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        for item in body["servers"]:
            key = (item["server"]["name"], item["server"]["version"])
            assert key not in out, f"served twice: {key}"
            meta = item["_meta"][OFFICIAL]
            out[key] = (item["server"], meta["status"], meta["isLatest"])
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            return out


def held(registry: FakeRegistry, without: set[tuple[str, str]] = frozenset()
         ) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {key: (e["server"], e["_meta"][OFFICIAL]["status"], e["_meta"][OFFICIAL]["isLatest"])
            for key, e in registry.entries.items() if key not in without}


def assert_served_equals_upstream(client: Client, registry: FakeRegistry,
                                  rejected: set[tuple[str, str]] = frozenset()) -> None:
    """Nothing lost, nothing duplicated, nothing different."""
    mine, theirs = served(client), held(registry, rejected)
    assert mine.keys() == theirs.keys(), (sorted(mine.keys() - theirs.keys())[:3],
                                          sorted(theirs.keys() - mine.keys())[:3])
    diff = [k for k in theirs if mine[k] != theirs[k]]
    assert not diff, diff[:3]


def assert_no_run_left_running() -> None:
    assert not SyncRun.objects.filter(state=SyncRun.State.RUNNING).exists()


# --- cursors: any string an upstream sends comes back to it unchanged ---------------------

def test_the_stored_checkpoint_keeps_any_cursor(fake_registry):
    upstream = make_upstream(fake_registry)
    begun = SyncCheckpoint.begin(mode="full", walk=1, started_at=timezone.now(), since=None)
    for cursor in [*HOSTILE.values(), *random_strings(300)]:
        cp = begun.advanced(cursor=cursor, max_updated=timezone.now())
        Upstream.objects.filter(pk=upstream.pk).update(checkpoint=cp.to_json())
        stored = Upstream.objects.get(pk=upstream.pk).checkpoint
        assert SyncCheckpoint.from_json(stored, now=timezone.now()) == cp


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_any_cursor_round_trips(client, fake_registry, kind):
    fake_registry.cursor_style = lambda real: HOSTILE[kind] + real
    make_upstream(fake_registry)
    report = sync()
    assert report.state == "succeeded", report.error
    assert report.pages == -(-len(fake_registry.entries) // 100)
    assert fake_registry.cursors_round_trip()
    assert_served_equals_upstream(client, fake_registry)


def test_random_cursors_round_trip(client, fake_registry):
    strings = iter(random_strings(50))
    fake_registry.cursor_style = lambda real: next(strings) + real
    make_upstream(fake_registry, page_size=10)
    report = sync()
    assert report.state == "succeeded", report.error
    assert fake_registry.cursors_round_trip()
    assert len(fake_registry.cursors_sent) == report.pages - 1 > 30
    assert_served_equals_upstream(client, fake_registry)


@pytest.mark.parametrize("kind", ["nul", "lone-high-surrogate", "10kb"])
def test_a_hostile_cursor_survives_in_the_checkpoint(client, fake_registry, kind):
    """Stopped after a page, the stored checkpoint resumes with the very same cursor."""
    fake_registry.cursor_style = lambda real: HOSTILE[kind] + real
    make_upstream(fake_registry)
    fake_registry.fault("ok")
    for _ in range(5):
        fake_registry.fault("status", 502)
    failed = sync()
    assert failed.state == "failed" and failed.pages == 1
    assert Upstream.objects.get().checkpoint is not None
    resumed = sync()
    assert resumed.resumed and resumed.state == "succeeded", resumed.error
    assert fake_registry.cursors_round_trip()
    assert_served_equals_upstream(client, fake_registry)
    assert_no_run_left_running()


# --- loops: a repeated cursor or page ends the run with a clear error ---------------------

def assert_stopped_on_a_loop(report: SyncReport, registry: FakeRegistry) -> None:
    assert report.state == "failed" and "loop" in report.error, report.error
    assert len(registry.requests) < registry.request_budget  # stopped by us, not by the budget
    run = SyncRun.objects.get(pk=report.run_id)
    assert run.finished_at is not None and run.log[-1] == {"error": report.error}
    stored = Upstream.objects.get().checkpoint
    cp = SyncCheckpoint.from_json(stored, now=timezone.now())  # sane: it loads
    assert cp.cursor is None or cp.cursor in registry.cursors_sent
    assert_no_run_left_running()


@pytest.mark.parametrize("misbehaviour", ["ignore_cursor", "wrap_cursor"])
def test_a_cursor_loop_stops_the_run_then_a_fixed_upstream_resumes(client, fake_registry,
                                                                   misbehaviour):
    setattr(fake_registry, misbehaviour, True)
    fake_registry.request_budget = 40
    make_upstream(fake_registry)
    report = sync()
    assert_stopped_on_a_loop(report, fake_registry)
    setattr(fake_registry, misbehaviour, False)
    fake_registry.request_budget = None
    resumed = sync()
    assert resumed.resumed and resumed.state == "succeeded", resumed.error
    assert_served_equals_upstream(client, fake_registry)


def test_the_same_page_under_fresh_cursors_stops_the_run(client, fake_registry):
    fake_registry.ignore_cursor = fake_registry.nonce_cursors = True
    fake_registry.request_budget = 40
    make_upstream(fake_registry)
    report = sync()
    assert_stopped_on_a_loop(report, fake_registry)
    assert "repeats an earlier page" in report.error
    fake_registry.ignore_cursor = fake_registry.nonce_cursors = False
    fake_registry.request_budget = None
    assert sync().state == "succeeded"
    assert_served_equals_upstream(client, fake_registry)


def test_a_cursor_pointing_at_its_own_page_stops_the_run(fake_registry):
    fake_registry.request_budget = 40
    make_upstream(fake_registry)
    fake_registry.fault("ok")
    first = fake_registry._cursor_after(sorted(fake_registry.entries)[99])
    for _ in range(40):
        fake_registry.fault("cursor", first)  # page 2 and every page after: "next is page 2"
    report = sync()
    assert_stopped_on_a_loop(report, fake_registry)
    assert report.pages == 1 and "already followed" in report.error


def test_a_loop_spanning_a_resume_is_still_caught(client, fake_registry):
    """The checkpoint remembers the walk's cursors: a resumed run recognises them."""
    fake_registry.request_budget = 60
    make_upstream(fake_registry)
    for _ in range(3):
        fake_registry.fault("ok")
    for _ in range(5):
        fake_registry.fault("status", 503)
    assert sync().pages == 3
    fake_registry.fault("cursor", fake_registry.cursors_sent[0])  # back to page 2
    report = sync()
    assert_stopped_on_a_loop(report, fake_registry)
    assert report.resumed and report.pages == 0


def test_endless_empty_pages_stop_the_run(fake_registry):
    fake_registry.request_budget = 60
    make_upstream(fake_registry)
    fake_registry.fault("ok")
    for n in range(50):
        fake_registry.fault("raw", json.dumps({"servers": [], "metadata": {
            "nextCursor": f"empty-{n}"}}).encode())
    report = sync()
    assert report.state == "failed" and "empty pages" in report.error, report.error
    assert_no_run_left_running()


# --- dates: every Date form parses to an aware UTC time; a bad one means our clock ---------

def _http_dates() -> dict[str, tuple[str, datetime | None]]:
    """Date header forms, with the UTC instant each means (None: our own clock)."""
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    naive = when.replace(tzinfo=None)
    return {
        "imf-fixdate": (format_datetime(when, usegmt=True), when),
        "minus-zero": (format_datetime(naive), when),  # "-0000": RFC 2822's "no zone known"
        "offset": (format_datetime(when.astimezone(timezone_offset(2))), when),
        "rfc850": (when.strftime("%A, %d-%b-%y %H:%M:%S GMT"), when),
        "asctime": (when.strftime("%a %b %d %H:%M:%S %Y"), when),
        "garbage": ("yesterday-ish", None),
        "empty": ("", None),
        "overflowing": ("Fri, 31 Dec 9999 23:59:59 -1400", None),
    }


def timezone_offset(hours: int) -> dt_timezone:
    return dt_timezone(timedelta(hours=hours))


@pytest.mark.parametrize("form", sorted(_http_dates()))
def test_every_date_form_is_an_aware_utc_time(client, fake_registry, form):
    header, meant = _http_dates()[form]
    fake_registry.date_header = header
    make_upstream(fake_registry)
    fake_registry.fault("ok")
    for _ in range(5):
        fake_registry.fault("status", 502)
    before = datetime.now(UTC)
    assert sync().state == "failed"
    cap = SyncCheckpoint.from_json(Upstream.objects.get().checkpoint, now=before).cap
    assert cap is not None and cap.utcoffset() == timedelta(0)
    if meant is None:
        assert before - timedelta(seconds=5) <= cap <= datetime.now(UTC)
    else:
        assert cap == meant
    report = sync()
    assert report.state == "succeeded", report.error
    upstream = Upstream.objects.get()
    assert upstream.checkpoint is None and upstream.high_water is not None
    assert sync().state == "succeeded"  # and the next incremental too
    assert_served_equals_upstream(client, fake_registry)


def test_retry_after_as_a_minus_zero_date_is_honoured(fake_registry):
    make_upstream(fake_registry)
    later = (datetime.now(UTC) + timedelta(seconds=2)).replace(tzinfo=None)
    fake_registry.fault("status", 429, format_datetime(later))
    started = time.monotonic()
    report = sync()
    assert report.state == "succeeded" and report.retries == 1
    assert time.monotonic() - started >= 1.0

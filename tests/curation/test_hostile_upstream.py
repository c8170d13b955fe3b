"""Mirroring a hostile upstream (a real HTTP server on loopback that misbehaves on demand).

Every run ends `succeeded` or `failed` (never `running`), and at the end what our API
serves equals what the upstream holds, minus the entries rejected with a reason: nothing
lost, nothing duplicated.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from curation.models import SyncRun, Upstream
from curation.sync import SyncReport, upstream_sync
from curation.sync.checkpoint import SyncCheckpoint
from curation.tasks import upstreams_sync_due_task
from tests.support.api import Api
from tests.support.data import snapshot
from tests.support.factories import UpstreamFactory
from tests.support.fake_upstream import OFFICIAL, FakeRegistry
from tests.support.tokens import bearer

ROOT = Path(__file__).resolve().parents[2]
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
    upstream = UpstreamFactory(base_url=fake_registry.url)
    begun = SyncCheckpoint.begin(mode="full", walk=1, started_at=timezone.now(), since=None)
    for cursor in [*HOSTILE.values(), *random_strings(300)]:
        cp = begun.advanced(cursor=cursor, max_updated=timezone.now())
        Upstream.objects.filter(pk=upstream.pk).update(checkpoint=cp.to_json())
        stored = Upstream.objects.get(pk=upstream.pk).checkpoint
        assert SyncCheckpoint.from_json(stored, now=timezone.now()) == cp


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_any_cursor_round_trips(client, fake_registry, kind):
    fake_registry.cursor_style = lambda real: HOSTILE[kind] + real
    UpstreamFactory(base_url=fake_registry.url)
    report = sync()
    assert report.state == "succeeded", report.error
    assert report.pages == -(-len(fake_registry.entries) // 100)
    assert fake_registry.cursors_round_trip()
    assert_served_equals_upstream(client, fake_registry)


def test_random_cursors_round_trip(client, fake_registry):
    strings = iter(random_strings(50))
    fake_registry.cursor_style = lambda real: next(strings) + real
    UpstreamFactory(base_url=fake_registry.url, page_size=10)
    report = sync()
    assert report.state == "succeeded", report.error
    assert fake_registry.cursors_round_trip()
    assert len(fake_registry.cursors_sent) == report.pages - 1 > 30
    assert_served_equals_upstream(client, fake_registry)


@pytest.mark.parametrize("kind", ["nul", "lone-high-surrogate", "10kb"])
def test_a_hostile_cursor_survives_in_the_checkpoint(client, fake_registry, kind):
    """Stopped after a page, the stored checkpoint resumes with the very same cursor."""
    fake_registry.cursor_style = lambda real: HOSTILE[kind] + real
    UpstreamFactory(base_url=fake_registry.url)
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
    UpstreamFactory(base_url=fake_registry.url)
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
    UpstreamFactory(base_url=fake_registry.url)
    report = sync()
    assert_stopped_on_a_loop(report, fake_registry)
    assert "repeats an earlier page" in report.error
    fake_registry.ignore_cursor = fake_registry.nonce_cursors = False
    fake_registry.request_budget = None
    assert sync().state == "succeeded"
    assert_served_equals_upstream(client, fake_registry)


def test_a_cursor_pointing_at_its_own_page_stops_the_run(fake_registry):
    fake_registry.request_budget = 40
    UpstreamFactory(base_url=fake_registry.url)
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
    UpstreamFactory(base_url=fake_registry.url)
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
    UpstreamFactory(base_url=fake_registry.url)
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
    UpstreamFactory(base_url=fake_registry.url)
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
    UpstreamFactory(base_url=fake_registry.url)
    later = (datetime.now(UTC) + timedelta(seconds=2)).replace(tzinfo=None)
    fake_registry.fault("status", 429, format_datetime(later))
    started = time.monotonic()
    report = sync()
    assert report.state == "succeeded" and report.retries == 1
    assert time.monotonic() - started >= 1.0


# --- entries: a bad entry is rejected with its reason, the rest of its page is ingested ----

def incompressible(count: int, seed: int = 7) -> str:
    """Text pglz cannot shrink: random code points from the BMP (no surrogates, no NUL)."""
    rng = random.Random(seed)
    return "".join(chr(rng.choice([rng.randrange(0x20, 0xD800), rng.randrange(0xE000, 0xFFFE)]))
                   for _ in range(count))


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"down": value}
    return value


# kind -> (how the entry is spoiled, the reason it is rejected with)
SPOILED: dict[str, tuple[Any, str]] = {
    "nul-description": (lambda s, m: s.update(description="a\x00b"), "NUL"),
    "nul-deep-inside": (lambda s, m: s.update(packages=[{
        "registryType": "npm", "identifier": "pkg\x00", "version": "1.0.0",
        "transport": {"type": "stdio"}}]), "NUL"),
    "nul-in-a-key": (lambda s, m: m.update({"io.example/x\x00y": 1}), "NUL"),
    "nul-in-the-name": (lambda s, m: s.update(name=s["name"] + "\x00evil"), "NUL"),
    "surrogate-title": (lambda s, m: s.update(title="t\ud800"), "surrogate"),
    "surrogate-status-message": (lambda s, m: m[OFFICIAL].update(statusMessage="\udfff"),
                                 "surrogate"),
    "10kb-description": (lambda s, m: s.update(description=incompressible(10_240)),
                         "description is longer than"),
    "long-title": (lambda s, m: s.update(title="t" * 600), "title is longer than"),
    "long-remote-url": (lambda s, m: s.update(remotes=[{
        "type": "streamable-http", "url": "https://x.example/" + "é" * 1500}]),
        "remote URL is longer than"),
    "infinite-number": (lambda s, m: m.update({"io.example/score": float("inf")}),
                        "not a finite number"),
    "nested-too-deep": (lambda s, m: m.update({"io.example/deep": nested(100)}), "nested"),
    "time-out-of-range": (lambda s, m: m[OFFICIAL].update(
        publishedAt="9999-12-31T23:59:59-14:00"), "out of range"),
}
# kind -> how the entry is made odd; these are stored and served exactly as sent
ODD: dict[str, Any] = {
    "3kb-incompressible-description": lambda s, m: s.update(description=incompressible(3000)),
    "every-plane": lambda s, m: s.update(title="\U0001f600\u202e\ufeff\x01\x7f" + "\u4e2d" * 90,
                                         description="".join(HOSTILE[k] for k in (
                                             "controls", "url-syntax", "json-syntax", "astral"))),
    "big-but-fine-number": lambda s, m: m.update({"io.example/count": 2 ** 70}),
}


def add_variants(registry: FakeRegistry, kinds: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """One new single-version server per kind, each next to a real one (so on its page)."""
    real = sorted(registry.entries)
    keys = {}
    for n, (kind, spoil) in enumerate(kinds.items()):
        base = registry.entries[real[(n * 37) % len(real)]]
        entry = json.loads(json.dumps(base))
        server, meta = entry["server"], entry["_meta"]
        server["name"] = f"{server['name']}-{kind}"
        meta[OFFICIAL].update(isLatest=True, status="active")
        (spoil[0] if isinstance(spoil, tuple) else spoil)(server, meta)
        registry.put(entry)
        keys[kind] = (server["name"], server["version"])
    return keys


def test_bad_entries_are_rejected_with_reasons_and_their_pages_kept(client, fake_registry):
    spoiled = add_variants(fake_registry, SPOILED)
    odd = add_variants(fake_registry, ODD)
    UpstreamFactory(base_url=fake_registry.url)
    report = sync()
    assert report.state == "succeeded", report.error
    assert report.rejected == len(SPOILED)
    assert report.created == len(fake_registry.entries) - len(SPOILED)
    reasons = [item["reason"] for item in SyncRun.objects.get(pk=report.run_id).log
               if "rejected" in item]
    for kind, (_, why) in SPOILED.items():
        assert any(why in r for r in reasons), (kind, reasons)
    assert_served_equals_upstream(client, fake_registry, rejected=set(spoiled.values()))
    assert set(odd.values()) <= served(client).keys()
    again = sync(full=True)  # and on every run: rejected again, nothing else lost
    assert again.state == "succeeded" and again.rejected == len(SPOILED)
    assert again.vanished == 0 and again.created == 0
    assert_served_equals_upstream(client, fake_registry, rejected=set(spoiled.values()))


def test_rejections_are_listed_where_runs_are_shown(client, fake_registry):
    add_variants(fake_registry, {"nul-in-the-name": SPOILED["nul-in-the-name"],
                                 "surrogate-title": SPOILED["surrogate-title"]})
    UpstreamFactory(base_url=fake_registry.url)
    sync()
    admin = Api(client, prefix="")
    admin.token = bearer(["*"])
    runs = admin.get("/v0.1/x/io.mcpindex/upstreams/official/runs").json()["runs"]
    assert runs[0]["rejected"] == 2
    rejected = {item["rejected"]: item["reason"] for item in runs[0]["log"] if "rejected" in item}
    assert len(rejected) == 2 and all("\x00" not in name for name in rejected)
    assert any("\\u0000evil" in name for name in rejected)  # shown escaped, not dropped


def test_a_long_incompressible_description_is_stored_and_found(client, fake_registry):
    key = add_variants(fake_registry, {"desc": ODD["3kb-incompressible-description"]})["desc"]
    UpstreamFactory(base_url=fake_registry.url)
    assert sync().state == "succeeded"
    # Search ranks words (issue 13), not substrings of random text: found by its name.
    response = client.get("/v0.1/servers", {"search": key[0]})
    assert [s["server"]["name"] for s in response.json()["servers"]][:1] == [key[0]]
    assert served(client)[key][0]["description"] == incompressible(3000)


# --- faults: every run ends succeeded or failed, never running -----------------------------

@pytest.mark.parametrize("fault", [("cut",), ("reset",), ("status", 500), ("status", 429, 1),
                                   ("sleep", 3.0)], ids=lambda f: "-".join(map(str, f)))
def test_a_passing_fault_is_retried(client, fake_registry, fault):
    UpstreamFactory(base_url=fake_registry.url)
    fake_registry.fault("ok")
    fake_registry.fault(*fault)
    report = sync()
    assert report.state == "succeeded" and report.retries == 1, report.error
    assert_served_equals_upstream(client, fake_registry)


@pytest.mark.parametrize(("fault", "says"), [
    (("cut",), "RemoteProtocolError"),
    (("reset",), "Error"),
    (("status", 500), "HTTP 500"),
    (("status", 429, 3600), "HTTP 429"),  # Retry-After: an hour, waited only up to the bound
], ids=["cut", "reset", "500", "429"])
def test_a_lasting_fault_fails_the_run_after_bounded_retries(client, fake_registry, settings,
                                                             fault, says):
    settings.MCP_INDEX_SYNC_MAX_WAIT_SECONDS = 0.2
    UpstreamFactory(base_url=fake_registry.url)
    fake_registry.fault("ok")
    for _ in range(settings.MCP_INDEX_SYNC_RETRIES + 1):
        fake_registry.fault(*fault)
    started = time.monotonic()
    report = sync()
    assert time.monotonic() - started < 10
    assert report.state == "failed" and says in report.error and report.pages == 1, report.error
    assert report.retries == settings.MCP_INDEX_SYNC_RETRIES
    assert_no_run_left_running()
    assert sync().state == "succeeded"
    assert_served_equals_upstream(client, fake_registry)


@pytest.mark.parametrize("body", [
    b"not json", b"<html><body>502 Bad Gateway</body></html>", b"", b'{"servers": 5}',
    b'{"servers": [], "metadata": {"nextCursor": 7}}', b"[" * 100_000 + b"]" * 100_000,
    b'{"servers": [\xff\xfe]}', b"\xef\xbb\xbf{",
], ids=["text", "html", "empty", "no-array", "cursor-type", "deep", "bad-utf8", "bom"])
def test_an_unparseable_page_fails_the_run_cleanly(client, fake_registry, body):
    UpstreamFactory(base_url=fake_registry.url)
    fake_registry.fault("ok")
    fake_registry.fault("raw", body)
    report = sync()
    assert report.state == "failed" and "unparseable" in report.error, report.error
    assert report.pages == 1
    assert_no_run_left_running()
    resumed = sync()
    assert resumed.resumed and resumed.state == "succeeded"
    assert_served_equals_upstream(client, fake_registry)


@pytest.mark.parametrize(("raw", "why"), [
    (b'{"server": {"name": "io.example/deep", "version": "1.0.0", "description": '
     + b"[" * 100_000 + b"]" * 100_000 + b"}}", "nested"),
    (b'{"server": {"name": "io.example/bytes", "version": "1.0.0", "description": "\xff\xc3("}}',
     "surrogate"),
], ids=["nested-beyond-the-parser", "invalid-utf8"])
def test_an_entry_the_parser_chokes_on_is_rejected_alone(client, fake_registry, raw, why):
    UpstreamFactory(base_url=fake_registry.url)
    fake_registry.fault("splice", raw)
    report = sync()
    assert report.state == "succeeded", report.error
    assert report.rejected == 1 and report.created == len(fake_registry.entries)
    log = SyncRun.objects.get(pk=report.run_id).log
    assert why in log[0]["reason"], log
    assert_served_equals_upstream(client, fake_registry)


def test_a_trickled_page_is_abandoned_at_its_deadline_and_retried(client, fake_registry,
                                                                 settings):
    settings.MCP_INDEX_SYNC_TIMEOUT_SECONDS = 0.5  # a page must arrive within 4 x this
    UpstreamFactory(base_url=fake_registry.url)
    fake_registry.fault("trickle", 15)
    started = time.monotonic()
    report = sync()
    assert report.state == "succeeded" and report.retries == 1, report.error
    assert time.monotonic() - started < 10
    assert_served_equals_upstream(client, fake_registry)


def test_an_endless_body_stops_at_the_size_limit(fake_registry, monkeypatch):
    monkeypatch.setattr("curation.sync.fetch.MAX_PAGE_BYTES", 1_000_000)
    UpstreamFactory(base_url=fake_registry.url)
    fake_registry.fault("endless", 200_000_000)
    started = time.monotonic()
    report = sync()
    assert report.state == "failed" and "larger than" in report.error, report.error
    assert time.monotonic() - started < 10 and report.retries == 0
    assert_no_run_left_running()


@pytest.mark.parametrize("error", [RuntimeError("boom"), SystemExit(3)], ids=["error", "exit"])
def test_an_unexpected_error_fails_the_run_and_is_raised(client, fake_registry, monkeypatch,
                                                         error):
    UpstreamFactory(base_url=fake_registry.url)
    calls = []

    def failing(*, names):
        calls.append(names)
        if len(calls) == 2:
            raise error

    monkeypatch.setattr("curation.sync.run.servers_mark_dirty", failing)
    with pytest.raises(type(error)):
        sync()
    run = SyncRun.objects.get()
    assert run.state == "failed" and type(error).__name__ in run.error
    assert run.pages == 1 and run.finished_at is not None
    monkeypatch.undo()
    resumed = sync()
    assert resumed.resumed and resumed.state == "succeeded"
    assert_served_equals_upstream(client, fake_registry)


def test_a_stale_running_run_is_closed_even_if_its_upstream_never_syncs_again(fake_registry):
    upstream = UpstreamFactory(base_url=fake_registry.url, enabled=False)
    stale = SyncRun.objects.create(upstream=upstream, mode="incremental")
    upstreams_sync_due_task()
    stale.refresh_from_db()
    assert stale.state == "interrupted" and stale.finished_at is not None
    assert "abandoned" in stale.error


# --- kill -9: whenever the process dies, a later run resumes without duplicates or gaps ----

@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_kill_9_at_random_moments_loses_and_duplicates_nothing(client):
    registry = FakeRegistry(snapshot(400)).start()
    rng = random.Random(12)
    try:
        UpstreamFactory(base_url=registry.url, page_size=20)
        registry.delay = 0.05
        db = connection.settings_dict
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings",
               "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
        kills = 0
        for _ in range(4):
            seen = len(registry.requests)
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "sync_upstream", "official", "--full",
                 "--no-reconcile"], cwd=ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while len(registry.requests) <= seen and proc.poll() is None:
                assert time.monotonic() < deadline, "the sync never reached the upstream"
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.6))  # anywhere: fetching, ingesting, committing
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
        assert kills >= 2
        report = sync(full=True)
        assert report.state == "succeeded", report.error
        runs = SyncRun.objects.all()
        assert runs.filter(state=SyncRun.State.INTERRUPTED).count() == kills
        assert all("abandoned" in r.error for r in runs.filter(state=SyncRun.State.INTERRUPTED))
        assert_no_run_left_running()
        # counters are committed with their pages, so together they count every entry once
        assert sum(r.created for r in runs) == len(registry.entries)
        assert report.vanished == 0
        assert_served_equals_upstream(client, registry)
    finally:
        registry.stop()

"""Mirroring through a real HTTP upstream on loopback: faults, resumes, shadowing, vanishing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from curation.models import FullSyncSeen, ReservedNamespace, SyncConflict, SyncRun, Upstream
from curation.sync import upstream_sync
from registry.models import ServerVersion
from registry.services import version_publish
from tests.conftest import manifest
from tests.curation.conftest import assert_mirror_equals, make_upstream, snapshot
from tests.curation.fake_upstream import OFFICIAL, FakeRegistry

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def sync(name: str = "official", full: bool = False):
    return upstream_sync(upstream=Upstream.objects.get(name=name), full=full)


def test_full_snapshot_mirrors_exactly_then_incremental_is_quiet(full_registry):
    make_upstream(full_registry)
    report = sync()
    assert report.state == "succeeded"
    assert report.created == len(full_registry.entries) == 2435
    assert report.pages == 25 and report.rejected == 0
    assert 0.10 < report.invalid / report.created < 0.20  # stored with their issues, not dropped
    assert_mirror_equals(full_registry)
    invalid = ServerVersion.objects.exclude(validation_issues=[]).first()
    assert invalid.validation_issues and invalid.upstream_meta[OFFICIAL]
    upstream = Upstream.objects.get()
    assert upstream.checkpoint is None and upstream.high_water is not None
    again = sync()
    assert again.created == 0 and again.updated == 0 and again.pages == 1
    assert "updated_since" in full_registry.requests[-1]


def test_status_change_arrives_in_one_incremental_sync(fake_registry):
    make_upstream(fake_registry)
    sync()
    name, version = next(k for k, e in fake_registry.entries.items()
                         if e["_meta"][OFFICIAL]["isLatest"])
    fake_registry.set_status(name, version, "deleted", "withdrawn by author")
    other = next(k for k, e in fake_registry.entries.items() if k[0] != name)
    fake_registry.set_status(*other, "deprecated", "use something else")
    report = sync()
    assert report.updated == 2 and report.created == 0
    assert report.pages == 1  # only what changed since the high-water mark travels
    sv = ServerVersion.objects.get(name=name, version=version)
    assert sv.status == "deleted" and sv.status_message == "withdrawn by author"
    assert_mirror_equals(fake_registry)


def test_500s_and_429_with_retry_after_are_retried(fake_registry):
    make_upstream(fake_registry)
    fake_registry.fault("status", 500)
    fake_registry.fault("ok")
    fake_registry.fault("status", 429, 1)
    fake_registry.fault("status", 503)
    started = time.monotonic()
    report = sync()
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert report.state == "succeeded" and report.retries == 3
    assert_mirror_equals(fake_registry)


def test_timeouts_are_retried(fake_registry, settings):
    settings.MCP_INDEX_SYNC_TIMEOUT_SECONDS = 0.3
    make_upstream(fake_registry)
    fake_registry.fault("ok")
    fake_registry.fault("sleep", 1.0)
    report = sync()
    assert report.state == "succeeded" and report.retries == 1
    assert_mirror_equals(fake_registry)


def test_persistent_errors_stop_the_sync_then_it_resumes(fake_registry):
    make_upstream(fake_registry)
    fake_registry.fault("ok")
    for _ in range(5):
        fake_registry.fault("status", 502)
    failed = sync()
    assert failed.state == "failed" and "502" in failed.error and failed.pages == 1
    run = SyncRun.objects.get(pk=failed.run_id)
    assert run.errors == 1 and run.finished_at is not None
    assert ServerVersion.objects.count() == 100
    resumed = sync()
    assert resumed.resumed and resumed.state == "succeeded"
    assert failed.created + resumed.created == len(fake_registry.entries)
    assert_mirror_equals(fake_registry)


def test_unparseable_page_stops_cleanly_without_half_a_page(fake_registry):
    make_upstream(fake_registry)
    fake_registry.fault("ok")
    fake_registry.fault("ok")
    fake_registry.fault("truncate")
    failed = sync()
    assert failed.state == "failed" and "unparseable" in failed.error
    assert failed.pages == 2 and ServerVersion.objects.count() == 200
    assert Upstream.objects.get().checkpoint["cursor"]
    resumed = sync()
    assert resumed.resumed and resumed.created == len(fake_registry.entries) - 200
    assert_mirror_equals(fake_registry)


def test_malformed_entries_are_recorded_and_the_rest_stored(fake_registry):
    make_upstream(fake_registry)
    fake_registry.fault("malformed")
    report = sync()
    assert report.state == "succeeded" and report.rejected == 2
    run = SyncRun.objects.get(pk=report.run_id)
    assert [item["reason"] for item in run.log] == ["entry is not a JSON object",
                                                    "entry has no usable name and version"]
    assert_mirror_equals(fake_registry)


def test_shadowing_internal_or_reserved_namespaces_is_refused(fake_registry):
    names = sorted({k[0] for k in fake_registry.entries})
    local_ns, reserved_ns = names[0].split("/")[0], names[-1].split("/")[0]
    version_publish(document=manifest(f"{local_ns}/internal-tool", "1.0.0"), actor="test")
    ReservedNamespace.objects.create(pattern=reserved_ns, reason="ours")
    make_upstream(fake_registry)
    report = sync()
    refused = {k for k in fake_registry.entries if k[0].split("/")[0] in (local_ns, reserved_ns)}
    assert refused and report.conflicts == len(refused)
    assert not ServerVersion.objects.filter(origin="official",
                                            namespace__in=[local_ns, reserved_ns]).exists()
    conflicts = {(c.name, c.version): c.reason for c in SyncConflict.objects.all()}
    assert conflicts.keys() == refused
    assert any("has local publishes" in r for r in conflicts.values())
    assert any("reserved" in r for r in conflicts.values())
    assert ServerVersion.objects.get(name=f"{local_ns}/internal-tool").origin == "local"


def test_full_sync_marks_what_vanished_and_never_deletes(fake_registry):
    make_upstream(fake_registry)
    sync()
    multi = {k[0] for k in fake_registry.entries if sum(1 for n, _ in fake_registry.entries if n == k[0]) > 1}
    gone = next(k for k, e in fake_registry.entries.items()
                if e["_meta"][OFFICIAL]["isLatest"] and k[0] in multi)
    fake_registry.remove(gone)
    report = sync(full=True)
    assert report.vanished == 1 and report.mode == "full"
    sv = ServerVersion.objects.get(name=gone[0], version=gone[1])
    assert sv.status == "deleted" and "vanished" in sv.status_message and not sv.is_latest
    assert ServerVersion.objects.filter(name=gone[0], is_latest=True).count() == 1
    expected = set(fake_registry.entries) | {gone}
    assert expected == set(ServerVersion.objects.values_list("name", "version"))


def test_name_filters_and_auth_header(fake_registry):
    fake_registry.required_auth = "Bearer sekrit"
    first = sorted(fake_registry.entries)[0][0]
    make_upstream(fake_registry, include_patterns=["ai.*"], exclude_patterns=[first],
                  auth_header="Bearer sekrit")
    report = sync()
    assert report.state == "succeeded" and report.skipped > 0
    stored = set(ServerVersion.objects.values_list("name", flat=True))
    assert stored and all(n.startswith("ai.") for n in stored) and first not in stored


def test_wrong_auth_fails_without_retrying(fake_registry):
    fake_registry.required_auth = "Bearer right"
    make_upstream(fake_registry, auth_header="Bearer wrong")
    report = sync()
    assert report.state == "failed" and "401" in report.error and report.retries == 0


def test_management_commands(fake_registry):
    out = StringIO()
    call_command("add_upstream", "official", fake_registry.url, "--auth-header", "Bearer x",
                 "--interval", "15", stdout=out)
    assert "added upstream official" in out.getvalue() and "Bearer" not in out.getvalue()
    fake_registry.required_auth = "Bearer x"
    out = StringIO()
    call_command("sync_upstream", "official", stdout=out)
    assert "state=succeeded" in out.getvalue()
    assert_mirror_equals(fake_registry)


@pytest.mark.django_db(transaction=True)
def test_sync_killed_between_pages_resumes_without_duplicates_or_gaps():
    registry = FakeRegistry(snapshot(400)).start()
    try:
        make_upstream(registry)
        registry.hold_at = 4  # the 4th request blocks: three pages are committed
        db = connection.settings_dict
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings",
               "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
        proc = subprocess.Popen([sys.executable, "manage.py", "sync_upstream", "official"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert registry.reached.wait(60), proc.communicate(timeout=5)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        registry.hold_at = None
        registry.release.set()
        assert ServerVersion.objects.count() == 300
        killed = SyncRun.objects.get()
        assert killed.state == "running" and killed.pages == 3
        report = sync()
        assert report.resumed and report.state == "succeeded"
        killed.refresh_from_db()
        assert killed.state == "interrupted"
        assert killed.created + report.created == len(registry.entries)
        assert_mirror_equals(registry)
    finally:
        registry.stop()


@pytest.mark.parametrize("stored", [
    "not an object",
    {"mode": "sideways", "since": None, "cursor": None, "max_updated": None, "cap": None, "walk": 1},
    {"mode": "incremental", "since": "yesterday", "cursor": None, "max_updated": None,
     "cap": None, "walk": 1},
    {"mode": "full", "since": None, "cursor": 42, "max_updated": None, "cap": None, "walk": 1},
    {"mode": "full", "cursor": None},
    {"v": 99, "mode": "full"},
    {"v": 2, "mode": "full", "walk": 1, "started_at": "2025-12-01T10:00:00+00:00", "since": None,
     "cursor": "not base64!", "pages": 1, "max_updated": None, "cap": None, "seen": []},
    {"v": 2, "mode": "full", "walk": 1, "started_at": "2025-12-01T10:00:00+00:00", "since": None,
     "cursor": None, "pages": 1, "max_updated": None, "cap": None, "seen": ["nothex"]},
], ids=["string", "mode", "since", "cursor", "missing", "version", "cursor-encoding", "seen"])
def test_a_corrupt_checkpoint_restarts_the_walk_with_a_logged_reason(fake_registry, stored, caplog):
    upstream = make_upstream(fake_registry)
    abandoned = SyncRun.objects.create(upstream=upstream, mode="full", state="failed")
    FullSyncSeen.objects.create(walk=abandoned.pk, server_version_id=1)
    Upstream.objects.update(checkpoint=stored)
    with caplog.at_level("WARNING", logger="curation.sync"):
        report = sync()
    assert report.state == "succeeded" and not report.resumed
    assert report.created == len(fake_registry.entries)
    run = SyncRun.objects.get(pk=report.run_id)
    assert run.log[0]["checkpoint"] == "discarded" and run.log[0]["reason"]
    assert any("sync.checkpoint_discarded" in r.getMessage() for r in caplog.records)
    assert Upstream.objects.get().checkpoint is None
    assert not FullSyncSeen.objects.exists()  # the abandoned walk's leftovers are gone
    assert_mirror_equals(fake_registry)


def test_a_checkpoint_stored_before_it_was_typed_still_resumes(fake_registry):
    """The untyped dict of earlier releases (naive times included) loads and resumes."""
    make_upstream(fake_registry)
    fake_registry.fault("ok")
    fake_registry.fault("truncate")
    assert sync().state == "failed"
    cursor = fake_registry.cursors_sent[0]  # the cursor after the committed page
    walk = SyncRun.objects.get().pk
    legacy = {"mode": "incremental", "since": None, "cursor": cursor,
              "max_updated": "2025-12-01T10:00:00+00:00", "cap": "2099-01-01T00:00:00",
              "walk": walk}
    Upstream.objects.update(checkpoint=legacy)
    report = sync()
    assert report.resumed and report.state == "succeeded"
    assert report.created == len(fake_registry.entries) - 100
    assert_mirror_equals(fake_registry)
    assert Upstream.objects.get().high_water is not None

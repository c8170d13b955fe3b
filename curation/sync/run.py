"""One sync run: incremental or full walks of an upstream, one atomic checkpoint per page."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from curation.attestations import page_attestations_mirror
from curation.models import (
    FullSyncSeen,
    ReservedNamespace,
    SyncConflict,
    SyncRun,
    Upstream,
)
from curation.rules import names_matching
from curation.services.membership import servers_mark_dirty
from curation.sync.checkpoint import CheckpointError, SyncCheckpoint
from curation.sync.errors import SyncBusy, SyncError
from curation.sync.fetch import Page, fetch_page
from curation.sync.guard import LoopGuard
from curation.sync.screen import entry_problem, prepared_problem, printable
from registry.api.render import rfc3339
from registry.manifest import namespace_of
from registry.models import LOCAL_ORIGIN, ServerVersion, Status
from registry.services import (
    IngestOutcome,
    PreparedEntry,
    ingest_prepare,
    servers_recompute_latest,
    split_entry,
    versions_ingest_bulk,
    versions_invalidate,
)

log = logging.getLogger("curation.sync")

LOG_CAP = 200


@dataclass(frozen=True)
class SyncReport:
    """The outcome of one sync invocation."""

    upstream: str
    run_id: int
    mode: str
    state: str
    resumed: bool
    pages: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    conflicts: int
    rejected: int
    invalid: int
    vanished: int
    retries: int
    errors: int = 0
    error: str = ""

    def summary(self) -> str:
        return (f"upstream={self.upstream} run={self.run_id} mode={self.mode} state={self.state} "
                f"pages={self.pages} created={self.created} updated={self.updated} "
                f"unchanged={self.unchanged} skipped={self.skipped} conflicts={self.conflicts} "
                f"rejected={self.rejected} invalid={self.invalid} vanished={self.vanished} "
                f"retries={self.retries} errors={self.errors}"
                + (f" error={self.error!r}" if self.error else ""))


@contextlib.contextmanager
def _upstream_lock(upstream: Upstream) -> Iterator[bool]:
    """A session-level advisory lock: released when we finish or when the process dies."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = f"curation.sync:{upstream.pk}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key])
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])


def _shadow_reasons(upstream: Upstream, namespaces: set[str]) -> dict[str, str]:
    """Namespaces this upstream may not fill, with the reason (local publishes, reserved)."""
    reasons: dict[str, str] = {}
    reserved = list(ReservedNamespace.objects.values_list("pattern", flat=True))
    for ns in namespaces:
        hit = next((p for p in reserved if fnmatchcase(ns, p)), None)
        if hit:
            reasons[ns] = f"namespace {ns} is reserved ({hit})"
    local = (ServerVersion.objects.filter(namespace__in=namespaces - reasons.keys(),
                                          origin=LOCAL_ORIGIN)
             .values_list("namespace", flat=True).distinct())
    for ns in local:
        reasons[ns] = f"namespace {ns} has local publishes"
    return reasons


def _since(upstream: Upstream, full: bool) -> datetime | None:
    """A new walk's updated_since: the high-water mark minus the overlap (None: everything)."""
    if full or upstream.high_water is None:
        return None
    return upstream.high_water - timedelta(seconds=upstream.overlap_seconds)


def _stored_checkpoint(upstream: Upstream, now: datetime) -> tuple[SyncCheckpoint | None, str]:
    """The walk to resume, or None; with the reason when a stored checkpoint was unusable."""
    if upstream.checkpoint is None:
        return None, ""
    try:
        return SyncCheckpoint.from_json(upstream.checkpoint, now=now), ""
    except CheckpointError as exc:
        log.warning("sync.checkpoint_discarded upstream=%s reason=%r", upstream.name, str(exc))
        return None, str(exc)


def _store(upstream: Upstream, cp: SyncCheckpoint | None) -> None:
    Upstream.objects.filter(pk=upstream.pk).update(
        checkpoint=cp.to_json() if cp is not None else None)


def _close_abandoned(upstream: Upstream, now: datetime) -> int:
    """Runs still marked running while we hold the lock: their process died (kill -9, OOM,
    a hard time limit). They end `interrupted`; the walk resumes from its checkpoint."""
    return SyncRun.objects.filter(upstream=upstream, state=SyncRun.State.RUNNING).update(
        state=SyncRun.State.INTERRUPTED, finished_at=now,
        error="abandoned: the process running this sync stopped before it finished; "
              "the next run resumes from the checkpoint")


def abandoned_runs_close() -> int:
    """Close the abandoned runs of every upstream not being synced now (beat, each tick)."""
    closed = 0
    upstreams = Upstream.objects.filter(runs__state=SyncRun.State.RUNNING).distinct()
    for upstream in upstreams:
        with _upstream_lock(upstream) as got:
            if got:
                closed += _close_abandoned(upstream, timezone.now())
    return closed


def upstream_sync(*, upstream: Upstream, full: bool = False) -> SyncReport:
    """Walk the upstream from its checkpoint (or afresh), ingesting page by page."""
    with _upstream_lock(upstream) as got:
        if not got:
            raise SyncBusy(f"a sync of {upstream.name} is already running")
        return _sync_locked(Upstream.objects.get(pk=upstream.pk), full)


def _begin(upstream: Upstream, full: bool) -> tuple[SyncRun, SyncCheckpoint]:
    """The run, and the checkpoint it continues or starts."""
    now = timezone.now()
    _close_abandoned(upstream, now)
    stored, discarded = _stored_checkpoint(upstream, now)
    if stored is not None and (not full or stored.mode == "full"):
        run = SyncRun.objects.create(upstream=upstream, mode=stored.mode, resumed=True,
                                     since=stored.since)
        cp = stored
    else:
        since = _since(upstream, full)
        run = SyncRun.objects.create(upstream=upstream, mode="full" if full else "incremental",
                                     resumed=False, since=since)
        cp = SyncCheckpoint.begin(mode=run.mode, walk=run.pk, started_at=run.started_at,
                                  since=since)
        # What an abandoned full walk of this upstream had seen is of no use any more.
        FullSyncSeen.objects.filter(walk__in=SyncRun.objects.filter(upstream=upstream)
                                    .exclude(pk=run.pk).values("pk")).delete()
    if discarded:
        _log(run, {"checkpoint": "discarded", "reason": discarded})
        run.save(update_fields=["log"])
    _store(upstream, cp)
    return run, cp


def _sync_locked(upstream: Upstream, full: bool) -> SyncReport:
    run, cp = _begin(upstream, full)
    url = upstream.base_url.rstrip("/") + "/servers"
    headers = {"Accept": "application/json", "User-Agent": "mcp-index-mirror"}
    if upstream.auth_header:
        headers["Authorization"] = upstream.auth_header
    takeover = frozenset(Upstream.objects.filter(priority__gt=upstream.priority)
                         .values_list("name", flat=True))
    try:
        with httpx.Client(headers=headers, timeout=settings.MCP_INDEX_SYNC_TIMEOUT_SECONDS,
                          follow_redirects=False) as client:
            guard = LoopGuard(cp)
            while True:
                params: dict[str, Any] = {"limit": upstream.page_size}
                if cp.since is not None:
                    params["updated_since"] = rfc3339(cp.since.astimezone(UTC))
                else:
                    params["include_deleted"] = "true"
                if cp.cursor:
                    params["cursor"] = cp.cursor
                page = fetch_page(client, url, params, run)
                added = guard.check(cp, page)
                cp = cp.capped(page.date)
                cp, applied = _apply_page(upstream, run, cp, page, takeover, added)
                guard.commit(added)
                _mirror_attestations(client, upstream, run, applied)
                if not page.next_cursor:
                    break
        _finish(upstream, run, cp)
    except SyncError as exc:
        _fail(run, str(exc))
    except BaseException as exc:  # a bug, the database, a time limit, SystemExit: still failed
        _fail(run, f"internal error: {type(exc).__name__}: {exc}", committed_only=True)
        raise
    return _report(run)


def _fail(run: SyncRun, error: str, *, committed_only: bool = False) -> None:
    """End the run `failed`; the checkpoint stays at the last committed page."""
    error = printable(error, 2000)
    try:
        if committed_only:  # counters of a page rolled back mid-way are not true
            retries = run.retries
            run.refresh_from_db()
            run.retries = max(run.retries, retries)
        run.state, run.error, run.finished_at = SyncRun.State.FAILED, error, timezone.now()
        run.errors += 1
        _log(run, {"error": error})
        run.save()
    except Exception:  # the database itself is gone: the next start closes the run
        log.exception("sync.fail_not_recorded upstream=%s run=%s", run.upstream.name, run.pk)
    log.error("sync.failed upstream=%s run=%s error=%r", run.upstream.name, run.pk, error)


def _screened(entry: Any, origin: str) -> PreparedEntry | str:
    """The entry parsed for ingest, or why it cannot be stored."""
    problem = entry_problem(entry)
    if problem is not None:
        return problem
    item = ingest_prepare(entry=entry, origin=origin)
    if isinstance(item, IngestOutcome):
        return item.reason
    return prepared_problem(item) or item


def _reject(run: SyncRun, entry: Any, reason: str) -> None:
    """Count and list an entry that cannot be stored (its text escaped: it may hold NUL)."""
    run.rejected += 1
    document, _ = split_entry(entry)
    name, version = (document.get(k) for k in ("name", "version")) if document else (None, None)
    label = "@".join(printable(v, 200) for v in (name, version) if isinstance(v, str))
    _log(run, {"rejected": label, "reason": printable(reason, 500)})


def _log(run: SyncRun, item: dict[str, Any]) -> None:
    if len(run.log) < LOG_CAP:
        run.log.append(item)


def _mirror_attestations(client: httpx.Client, upstream: Upstream, run: SyncRun,
                         entries: list[PreparedEntry]) -> None:
    """After the page is committed: bring its signed entries' attestations, re-verified here."""
    result = page_attestations_mirror(client=client, base_url=upstream.base_url,
                                      origin=upstream.name, entries=entries)
    if result.errors:
        run.errors += len(result.errors)
        for error in result.errors:
            _log(run, {"error": printable(error, 500)})
        run.save(update_fields=["errors", "log"])


def _apply_page(upstream: Upstream, run: SyncRun, cp: SyncCheckpoint, page: Page,
                takeover: frozenset[str], seen: tuple[str, ...]
                ) -> tuple[SyncCheckpoint, list[PreparedEntry]]:
    """Ingest one page, record conflicts and rejections, and move the checkpoint: atomically."""
    prepared: list[PreparedEntry] = []
    max_updated = cp.max_updated
    for entry in page.entries:
        item = _screened(entry, upstream.name)
        if isinstance(item, str):
            _reject(run, entry, item)
            continue
        if item.upstream_updated_at and (max_updated is None or item.upstream_updated_at > max_updated):
            max_updated = item.upstream_updated_at
        if (upstream.include_patterns and not names_matching(upstream.include_patterns, item.name)) \
                or names_matching(upstream.exclude_patterns, item.name):
            run.skipped += 1
            continue
        prepared.append(item)
    with transaction.atomic():
        shadowed = _shadow_reasons(upstream, {namespace_of(p.name) for p in prepared})
        conflicts = [(p, shadowed[namespace_of(p.name)]) for p in prepared
                     if namespace_of(p.name) in shadowed]
        allowed = [p for p in prepared if namespace_of(p.name) not in shadowed]
        outcomes = versions_ingest_bulk(prepared=allowed, origin=upstream.name,
                                        takeover_from=takeover)  # and latest, from its rows
        touched = set()
        for p, outcome in zip(allowed, outcomes, strict=True):
            if outcome.action == "conflict":
                conflicts.append((p, outcome.reason))
                continue
            setattr(run, outcome.action, getattr(run, outcome.action) + 1)
            run.invalid += outcome.invalid
            if outcome.action != "unchanged":
                touched.add(p.name)
        _record_conflicts(upstream, run, conflicts)
        if cp.mode == "full":
            _record_seen(upstream, cp.walk, allowed)
            if not page.next_cursor:
                vanished = _mark_vanished(upstream, run, cp.walk)
                servers_recompute_latest(names=vanished)
                touched |= vanished
        servers_mark_dirty(names=touched)
        run.pages += 1
        cp = cp.advanced(cursor=page.next_cursor, max_updated=max_updated, seen=seen)
        run.save()
        _store(upstream, cp)
    return cp, allowed


def _record_conflicts(upstream: Upstream, run: SyncRun, conflicts: list[tuple[PreparedEntry, str]]
                      ) -> None:
    if not conflicts:
        return
    run.conflicts += len(conflicts)
    now = timezone.now()
    unique = {(p.name, p.version): reason for p, reason in conflicts}
    SyncConflict.objects.bulk_create(
        [SyncConflict(upstream=upstream, name=n, version=v, reason=r[:500], last_run=run,
                      last_seen_at=now) for (n, v), r in unique.items()],
        update_conflicts=True, unique_fields=["upstream", "name", "version"],
        update_fields=["reason", "last_run", "last_seen_at"])
    for (name, version), reason in list(unique.items())[:20]:
        _log(run, {"conflict": f"{name}@{version}", "reason": reason})


def _record_seen(upstream: Upstream, walk: int, prepared: list[PreparedEntry]) -> None:
    if not prepared:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO curation_fullsyncseen (walk, server_version_id) "
            "SELECT %s, sv.id FROM registry_serverversion sv "
            "JOIN unnest(%s::text[], %s::text[]) AS k(name, version) "
            "ON sv.name = k.name AND sv.version = k.version WHERE sv.origin = %s",
            [walk, [p.name for p in prepared], [p.version for p in prepared], upstream.name])


def _mark_vanished(upstream: Upstream, run: SyncRun, walk: int) -> set[str]:
    """Versions from this upstream that a complete full walk did not see: marked deleted."""
    seen = FullSyncSeen.objects.filter(walk=walk).values("server_version_id")
    gone = (ServerVersion.objects.filter(origin=upstream.name).exclude(pk__in=seen)
            .exclude(status=Status.DELETED))
    names = set(gone.values_list("name", flat=True))
    now = timezone.now()
    run.vanished += gone.update(status=Status.DELETED, status_changed_at=now, updated_at=now,
                                status_message=f"vanished from upstream {upstream.name}")
    versions_invalidate(names=names)
    FullSyncSeen.objects.filter(walk=walk).delete()
    return names


def _finish(upstream: Upstream, run: SyncRun, cp: SyncCheckpoint) -> None:
    with transaction.atomic():
        high = upstream.high_water
        seen = cp.max_updated
        if seen is not None and cp.cap is not None:
            seen = min(seen, cp.cap)
        if seen is not None and (high is None or seen > high):
            high = seen
        now = timezone.now()
        Upstream.objects.filter(pk=upstream.pk).update(checkpoint=None, high_water=high,
                                                       last_sync_at=now)
        run.state, run.finished_at = SyncRun.State.SUCCEEDED, now
        run.save()
    log.info("sync.done %s", _report(run).summary())


def _report(run: SyncRun) -> SyncReport:
    return SyncReport(
        upstream=run.upstream.name, run_id=run.pk, mode=run.mode, state=run.state,
        resumed=run.resumed, pages=run.pages, created=run.created, updated=run.updated,
        unchanged=run.unchanged, skipped=run.skipped, conflicts=run.conflicts,
        rejected=run.rejected, invalid=run.invalid, vanished=run.vanished, retries=run.retries,
        errors=run.errors, error=run.error)

"""Celery tasks: syncing upstreams and keeping catalog membership current."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

from curation.models import Catalog, Upstream
from curation.services.membership import catalog_rebuild, catalogs_reconcile, trust_next_deadline
from curation.sync import SyncBusy, abandoned_runs_close, upstream_sync

log = logging.getLogger(__name__)


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def upstream_sync_task(upstream_id: int, full: bool = False) -> str:
    """Sync one upstream (resuming its checkpoint), then reconcile the catalogs."""
    upstream = Upstream.objects.filter(pk=upstream_id, enabled=True).first()
    if upstream is None:
        return "skipped: no such enabled upstream"
    try:
        report = upstream_sync(upstream=upstream, full=full)
    except SyncBusy as exc:
        return f"skipped: {exc}"
    transaction.on_commit(lambda: catalogs_reconcile_task.delay())
    return report.summary()


@shared_task(acks_late=True, time_limit=120, soft_time_limit=110)
def upstreams_sync_due_task() -> list[int]:
    """Beat: enqueue a sync of every enabled upstream whose interval has elapsed.

    First, runs left `running` by a dead process are closed, also for upstreams that will
    not sync again soon (disabled ones).
    """
    abandoned_runs_close()
    now = timezone.now()
    due = [u.pk for u in Upstream.objects.filter(enabled=True)
           if u.last_sync_at is None or u.checkpoint is not None
           or (now - u.last_sync_at).total_seconds() >= u.interval_minutes * 60]
    for pk in due:
        upstream_sync_task.delay(pk)
    return due


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def catalogs_reconcile_task() -> int:
    """Rebuild, in every catalog, the servers changed since the last reconcile (idempotent).

    When a trust deadline (a signer's expiry) falls before the next beat tick, another pass
    is scheduled for that moment, so a lapsed membership turns into a tombstone on time
    (readers never see it meanwhile: the read path and the response cache honour deadlines).
    """
    reports = catalogs_reconcile()
    deadline = trust_next_deadline()
    tick = settings.CELERY_BEAT_SCHEDULE["curation-reconcile-catalogs"]["schedule"]
    if (deadline is not None and not catalogs_reconcile_task.app.conf.task_always_eager
            and (deadline - timezone.now()).total_seconds() < float(tick)):  # type: ignore[arg-type]
        catalogs_reconcile_task.apply_async(eta=deadline)
    return len(reports)


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def catalog_rebuild_task(catalog_id: int) -> str:
    """Full rebuild of one catalog (after a rule, pin or setting change)."""
    catalog = Catalog.objects.filter(pk=catalog_id).first()
    if catalog is None:
        return "skipped: no such catalog"
    report = catalog_rebuild(catalog=catalog)
    return f"catalog={report.catalog} entered={report.entered} left={report.left}"


def enqueue_rebuild(catalog_id: int) -> None:
    """Schedule a full rebuild of a catalog once the current transaction commits."""
    transaction.on_commit(lambda: catalog_rebuild_task.delay(catalog_id))

"""Celery tasks: search documents kept current and embeddings computed off the request path;
scheduled re-probes (beat) and "probe now" of remote servers."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction

from discovery import runner
from discovery.models import Inventory


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def search_documents_refresh_task(names: list[str]) -> str:
    """Refresh these servers' documents (by content hash), then embed what is new."""
    from discovery.services import documents_refresh  # services enqueue these tasks

    report = documents_refresh(names=names)
    if report.written and settings.MCP_INDEX_SEARCH_SEMANTIC:
        transaction.on_commit(lambda: search_embeddings_task.delay())
    return f"written={report.written} unchanged={report.unchanged} removed={report.removed}"


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def search_embeddings_task(batches: int = 50) -> str:
    """Embed the texts that have no vector yet, a batch of 2,000 at a time (up to `batches`)."""
    from discovery.services import embeddings_compute  # services enqueue these tasks

    if not settings.MCP_INDEX_SEARCH_SEMANTIC:
        return "skipped: semantic search is off"
    embedded = 0
    for _ in range(batches):
        report = embeddings_compute(limit=2000)
        embedded += report.embedded
        if not report.remaining or not report.embedded:
            return f"embedded={embedded} remaining={report.remaining}"
    return f"embedded={embedded} remaining=more"


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500)
def search_reconcile_task() -> str:
    """Beat: every served version has a current document and every document a vector (heals
    what a lost task, a sync or a catalog rebuild left behind)."""
    from discovery.services import documents_refresh  # services enqueue these tasks

    report = documents_refresh()
    if settings.MCP_INDEX_SEARCH_SEMANTIC:
        search_embeddings_task.delay()
    return f"written={report.written} unchanged={report.unchanged} removed={report.removed}"


@shared_task(acks_late=True, time_limit=120, soft_time_limit=110,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def probe_inventory_task(inventory_id: int, requested_by: str = "") -> str:
    """Probe one version's remote now (an admin's "probe now")."""
    inventory = Inventory.objects.filter(pk=inventory_id).first()
    if inventory is None:
        return "skipped: no such inventory"
    return runner.probe_one(inventory, requested_by=requested_by).status


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def probe_due_task() -> str:
    """Beat: find new remote versions, then probe a batch of the due ones."""
    return runner.probe_due().summary()

"""Celery tasks: search documents kept current, embeddings computed off the request path."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction

from discovery.services import documents_refresh, embeddings_compute


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def search_documents_refresh_task(names: list[str]) -> str:
    """Refresh these servers' documents (by content hash), then embed what is new."""
    report = documents_refresh(names=names)
    if report.written and settings.MCP_INDEX_SEARCH_SEMANTIC:
        transaction.on_commit(lambda: search_embeddings_task.delay())
    return f"written={report.written} unchanged={report.unchanged} removed={report.removed}"


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def search_embeddings_task(batches: int = 50) -> str:
    """Embed the texts that have no vector yet, a batch of 2,000 at a time (up to `batches`)."""
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
    report = documents_refresh()
    if settings.MCP_INDEX_SEARCH_SEMANTIC:
        search_embeddings_task.delay()
    return f"written={report.written} unchanged={report.unchanged} removed={report.removed}"

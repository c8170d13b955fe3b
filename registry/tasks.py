"""Background work for the registry; every task is idempotent and safe to retry."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from registry.models import IdempotencyRecord


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def purge_idempotency_records(max_age_hours: int | None = None) -> int:
    """Forget Idempotency-Key answers older than MCP_INDEX_IDEMPOTENCY_HOURS (default 24)."""
    hours = max_age_hours if max_age_hours is not None else settings.MCP_INDEX_IDEMPOTENCY_HOURS
    cutoff = timezone.now() - timedelta(hours=hours)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted

"""Celery tasks: verify one attestation, and re-verify the ones a trust change marked pending."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from signing import selectors, services
from signing.models import Attestation

RECONCILE_BATCH = 200


@shared_task(
    acks_late=True,
    time_limit=120,
    soft_time_limit=100,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def verify_attestation(attestation_id: int) -> str:
    """Verify one submitted attestation; a no-op if it is gone or already done."""
    attestation = Attestation.objects.select_related("version").filter(pk=attestation_id).first()
    if attestation is None or attestation.state != Attestation.PENDING:
        return "skipped"
    return services.attestation_verify(attestation=attestation).state


@shared_task(
    acks_late=True,
    time_limit=600,
    soft_time_limit=540,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def verify_pending(batch_size: int = RECONCILE_BATCH) -> int:
    """Re-verify a batch of pending attestations; re-enqueues itself while some remain.

    Also safe to run periodically (beat): it heals anything a crash left pending.
    """
    batch = list(
        Attestation.objects.select_related("version")
        .filter(state=Attestation.PENDING)
        .order_by("pk")[:batch_size]
    )
    if not batch:
        return 0
    trust = selectors.trust_current()
    for attestation in batch:
        services.attestation_verify(attestation=attestation, trust=trust)
    if len(batch) == batch_size:
        verify_pending.delay(batch_size)
    return len(batch)

"""Celery tasks: verify submitted attestations, and find what a changed principal signed."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from signing import verifying
from signing.models import Attestation

RECONCILE_BATCH = verifying.BATCH


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
    verifying.attestations_verify([attestation])
    attestation.refresh_from_db(fields=["state"])
    return attestation.state


@shared_task(
    acks_late=True,
    time_limit=600,
    soft_time_limit=540,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def verify_pending(batch_size: int = RECONCILE_BATCH) -> int:
    """Verify a batch of pending (submitted, not yet verified) attestations in one swap;
    re-enqueues itself while some remain.

    Scheduled periodically (beat): it heals anything a lost task or a crash left pending.
    """
    batch = list(
        Attestation.objects.select_related("version")
        .filter(state=Attestation.PENDING)
        .order_by("pk")[:batch_size]
    )
    if not batch:
        return 0
    verifying.attestations_verify(batch)
    if len(batch) == batch_size:
        verify_pending.delay(batch_size)
    return len(batch)


@shared_task(
    acks_late=True,
    time_limit=600,
    soft_time_limit=540,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def reverify_gains(principal_ids: list[int], after: int = 0) -> int:
    """After a principal was added or got a new identity: verify, batch by batch, the
    attestations it may have signed (signing.verifying.gains_check). Returns the hits."""
    found = verifying.gains_check(principal_ids=principal_ids, after=after)
    if found.next_after is not None:
        reverify_gains.delay(principal_ids, found.next_after)
    return found.verified

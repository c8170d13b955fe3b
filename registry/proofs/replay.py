"""Replay protection: a proof is accepted once within the window in which it is valid."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.proofs.models import ProofUse
from registry.proofs.result import ProofError


def proof_use_record(*, method: str, material: str, expires_at: datetime) -> None:
    """Record a proof as used, or raise ProofError if it was already used."""
    digest = hashlib.sha256(f"{method}\0{material}".encode()).hexdigest()
    now = timezone.now()
    ProofUse.objects.filter(expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            ProofUse.objects.create(digest=digest, method=method, expires_at=expires_at)
    except IntegrityError as exc:
        raise ProofError("this proof was already used (replay refused); make a fresh one") from exc

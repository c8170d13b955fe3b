"""The replay ledger: each accepted proof is remembered until it could no longer be valid."""

from __future__ import annotations

from django.db import models


class ProofUse(models.Model):
    """One accepted proof (signed timestamp or OIDC token), keyed by a digest of it."""

    digest = models.CharField(max_length=64, primary_key=True)
    method = models.CharField(max_length=32)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.method}:{self.digest[:12]}"

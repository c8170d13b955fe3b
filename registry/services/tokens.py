"""API tokens: created with a one-time secret, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from registry.errors import RegistryError
from registry.models import ApiToken
from registry.services.audit import audit_record

TOKEN_PREFIX = "mcpi_"


@dataclass(frozen=True)
class CreatedToken:
    """A new API token: the secret is only ever available here."""

    token: ApiToken
    secret: str


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, name: str, patterns: Iterable[str], actor: str, owner: Any = None,
                 can_edit: bool = False, scopes: Iterable[str] = (),
                 expires_in_days: int | None = None) -> CreatedToken:
    """Create a scoped API token; returns the secret once (only its hash is stored)."""
    patterns = [p.strip() for p in patterns if p and p.strip()]
    if not patterns and not scopes:
        raise RegistryError("a token needs at least one name pattern or scope")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken.objects.create(
        name=name, prefix=secret[: len(TOKEN_PREFIX) + 6], token_hash=_hash_secret(secret),
        patterns=patterns, can_edit=can_edit, scopes=list(scopes), owner=owner, expires_at=expires,
        created_by=actor)
    audit_record(actor=actor, action="registry.token.created", target=f"token:{token.pk}",
                 data={"name": name, "patterns": patterns, "scopes": list(scopes)})
    return CreatedToken(token=token, secret=secret)


def token_revoke(*, token: ApiToken, actor: str) -> ApiToken:
    """Revoke a token (idempotent)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="registry.token.revoked", target=f"token:{token.pk}")
    return token


def token_authenticate(secret: str) -> ApiToken | None:
    """The live token for a secret (not revoked, not expired), touching last_used_at."""
    token = ApiToken.objects.filter(token_hash=_hash_secret(secret)).select_related("owner").first()
    now = timezone.now()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token

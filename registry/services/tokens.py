"""API tokens: created with a one-time secret, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from registry.errors import RegistryError
from registry.limits import check_columns, check_string_list
from registry.models import ApiToken
from registry.services.audit import audit_record

TOKEN_PREFIX = "mcpi_"
MAX_PATTERNS = 100  # name patterns per token (20,000 were accepted)
PATTERN_MAX = 200  # characters: a server name's length


def _check_token_columns(values: dict[str, Any]) -> None:
    for key in ("patterns", "scopes"):
        if key in values:
            check_string_list(values[key], field=key, max_items=MAX_PATTERNS,
                              max_length=PATTERN_MAX)
    check_columns(ApiToken, values)


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
    _check_token_columns({"name": name, "patterns": patterns, "scopes": list(scopes),
                          "created_by": actor})
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


def token_live_id(secret: str) -> int | None:
    """The id of the live token (not revoked, not expired) for a secret; reads only."""
    live = ApiToken.objects.filter(token_hash=_hash_secret(secret), revoked_at__isnull=True)
    return live.exclude(expires_at__lte=timezone.now()).values_list("pk", flat=True).first()


def token_authenticate(secret: str) -> ApiToken | None:
    """The live token for a secret (not revoked, not expired), touching last_used_at."""
    token = ApiToken.objects.filter(token_hash=_hash_secret(secret)).select_related("owner").first()
    now = timezone.now()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


TOKEN_FIELDS = {"name", "patterns", "can_edit", "scopes", "owner", "expires_at"}


@transaction.atomic
def token_update(*, token: ApiToken, fields: dict[str, Any], actor: str) -> ApiToken:
    """Change a token's name, grants, owner or expiry (its secret never changes)."""
    unknown = set(fields) - TOKEN_FIELDS
    if unknown:
        raise RegistryError(f"unknown token fields: {', '.join(sorted(unknown))}")
    if "patterns" in fields:
        fields = {**fields, "patterns": [p.strip() for p in fields["patterns"] if p and p.strip()]}
    patterns = fields.get("patterns", token.patterns)
    scopes = list(fields.get("scopes", token.scopes))
    if not patterns and not scopes:
        raise RegistryError("a token needs at least one name pattern or scope")
    _check_token_columns({k: v for k, v in fields.items() if k != "owner"})
    for key, value in fields.items():
        setattr(token, key, value)
    token.save(update_fields=sorted(fields))
    shown = dict(fields)
    if "owner" in shown:
        shown["owner"] = getattr(shown["owner"], "pk", None)
    if shown.get("expires_at") is not None:
        shown["expires_at"] = shown["expires_at"].isoformat()
    audit_record(actor=actor, action="registry.token.updated", target=f"token:{token.pk}",
                 data=shown)
    return token


@transaction.atomic
def token_delete(*, token: ApiToken, actor: str) -> None:
    """Remove a token for good (revoking keeps it listed; its audit events stay)."""
    audit_record(actor=actor, action="registry.token.deleted", target=f"token:{token.pk}",
                 data={"name": token.name, "prefix": token.prefix})
    token.delete()

"""Feed URLs: per-user, per-catalog, read-only URLs with a secret in the path (audited).

A client that cannot authenticate (VS Code's gallery, Copilot CLI) is given
`/c/<slug>/k/<secret>` as its registry base URL, the pattern of private calendar feeds. The
secret is shown once and stored as its sha256 (it is 256 random bits, so no slow hash is
needed); a feed answers reads only, until it is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from curation.models import Catalog, CatalogFeed
from registry.errors import RegistryError
from registry.limits import check_columns
from registry.services import audit_record

FEED_PREFIX = "mcpf_"
MAX_LIVE_FEEDS = 50  # live feeds one identity may hold
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedFeed:
    """A new feed: the secret (and so the URL) is only ever available here."""

    feed: CatalogFeed
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def feed_create(*, catalog: Catalog, name: str, actor: str, owner: Any = None) -> CreatedFeed:
    """Issue a feed of `catalog` to `actor` (the caller checks they may read it)."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise RegistryError("a feed needs a name (where it is used, e.g. 'laptop VS Code')")
    check_columns(CatalogFeed, {"name": name, "created_by": actor})
    live = CatalogFeed.objects.select_for_update().filter(created_by=actor, revoked_at__isnull=True)
    if len(live) >= MAX_LIVE_FEEDS:
        raise RegistryError(f"you already hold {MAX_LIVE_FEEDS} live feeds; revoke one first")
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    feed = CatalogFeed.objects.create(
        catalog=catalog, owner=owner, created_by=actor, name=name,
        prefix=secret[: len(FEED_PREFIX) + 6], secret_hash=_hash(secret))
    audit_record(actor=actor, action="curation.feed.created", target=f"feed:{feed.pk}",
                 data={"catalog": catalog.slug, "name": name, "prefix": feed.prefix})
    return CreatedFeed(feed=feed, secret=secret)


@transaction.atomic
def feed_revoke(*, feed: CatalogFeed, actor: str) -> CatalogFeed:
    """Revoke a feed for good (idempotent); it stays listed with its revocation time."""
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="curation.feed.revoked", target=f"feed:{feed.pk}",
                     data={"catalog": feed.catalog.slug, "prefix": feed.prefix})
    return feed


def feed_authenticate(*, slug: str, secret: str) -> CatalogFeed | None:
    """The live feed of catalog `slug` for a secret, touching last_used_at (at most once a
    minute); None for an unknown, revoked or foreign secret, or an owner no longer active."""
    if not secret.startswith(FEED_PREFIX) or len(secret) > 100:
        return None
    feed = (CatalogFeed.objects.select_related("catalog", "owner")
            .filter(secret_hash=_hash(secret), catalog__slug=slug, revoked_at__isnull=True).first())
    if feed is None or (feed.owner is not None and not feed.owner.is_active):
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > _TOUCH_EVERY:
        CatalogFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed

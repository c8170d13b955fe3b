"""The hook between catalogs and trust policies (evaluated by the signing app), and the
read-time guard that keeps a trust-gated catalog from serving a lapsed membership."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Min
from django.utils import timezone

from curation.models import CatalogEntry
from signing.models import TrustPolicy
from signing.selectors import versions_satisfying, versions_satisfying_until

# The same guard in SQL, for the hand-written catalog read (alias `ce`, one parameter: now).


def satisfying(*, policy_slug: str, version_ids: Iterable[int]) -> set[int]:
    """The ids among version_ids that satisfy the named trust policy (none if it is unknown)."""
    ids = list(version_ids)
    if not ids:
        return set()
    policy = TrustPolicy.objects.filter(slug=policy_slug).first()
    if policy is None:
        return set()
    return set(versions_satisfying(policy=policy, version_ids=ids))


def satisfied_until(*, policy_slug: str, version_ids: Iterable[int]) -> dict[int, datetime]:
    """For versions satisfying the policy, when they stop doing so as signers expire
    (versions that never stop by themselves are left out; one query when no principal of
    the policy has an expiry)."""
    ids = list(version_ids)
    policy = TrustPolicy.objects.filter(slug=policy_slug).first()
    if not ids or policy is None or not policy.principals.filter(expires_at__isnull=False).exists():
        return {}
    until = versions_satisfying_until(policy=policy, version_ids=ids)
    return {vid: when for vid, when in until.items() if when is not None}


def cache_lifetime(slug: str) -> float | None:
    """Seconds until the first listed entry of the catalog reaches its trust deadline (its
    cached responses must be gone by then); None when no entry has one. One query."""
    now = timezone.now()
    first = (CatalogEntry.objects.filter(catalog__slug=slug, listed=True, trust_until__gt=now)
             .aggregate(first=Min("trust_until"))["first"])
    return None if first is None else (first - now).total_seconds()

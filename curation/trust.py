"""The hook between catalogs and trust policies (evaluated by the signing app)."""

from __future__ import annotations

from collections.abc import Iterable

from signing.models import TrustPolicy
from signing.selectors import versions_satisfying


def satisfying(*, policy_slug: str, version_ids: Iterable[int]) -> set[int]:
    """The ids among version_ids that satisfy the named trust policy (none if it is unknown)."""
    ids = list(version_ids)
    if not ids:
        return set()
    policy = TrustPolicy.objects.filter(slug=policy_slug).first()
    if policy is None:
        return set()
    return set(versions_satisfying(policy=policy, version_ids=ids))

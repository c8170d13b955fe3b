"""The hook between catalogs and trust policies (provided by the signing app when installed)."""

from __future__ import annotations

from collections.abc import Iterable

try:  # the signing app lands separately; without it no version satisfies any policy
    from signing.models import TrustPolicy
    from signing.selectors import versions_satisfying
except ImportError:  # pragma: no cover - depends on which apps are merged
    TrustPolicy = None  # type: ignore[assignment,misc]
    versions_satisfying = None  # type: ignore[assignment]


def satisfying(*, policy_slug: str, version_ids: Iterable[int]) -> set[int]:
    """The ids among version_ids that satisfy the named trust policy (none if it is unknown)."""
    ids = list(version_ids)
    if not ids or TrustPolicy is None or versions_satisfying is None:
        return set()
    policy = TrustPolicy.objects.filter(slug=policy_slug).first()
    if policy is None:
        return set()
    return set(versions_satisfying(policy=policy, version_ids=ids))

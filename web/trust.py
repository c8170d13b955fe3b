"""Trust on the pages: attestations and trust policies, read through signing's selectors."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_index_common.verification import VERIFIED
from registry.models import ServerVersion
from registry.querysets import ServerVersionQuerySet
from signing import selectors as signing
from signing.models import Attestation, TrustPolicy


@dataclass(frozen=True)
class PolicyStatus:
    """Whether one trust policy is satisfied by a version, and by whom."""

    slug: str
    title: str
    threshold: int
    count: int
    signers: tuple[str, ...]
    satisfied: bool


@dataclass(frozen=True)
class TrustView:
    """What the server page shows about a version's attestations."""

    policies: list[PolicyStatus]
    attestations: list[Attestation]

    @property
    def satisfied(self) -> list[PolicyStatus]:
        return [p for p in self.policies if p.satisfied]


def policy_choices() -> list[tuple[str, str]]:
    """(slug, title) of every trust policy, for the search filter."""
    return list(TrustPolicy.objects.order_by("slug").values_list("slug", "title"))


def version_trust(sv: ServerVersion) -> TrustView:
    """Every policy evaluated for `sv` (one evidence query per policy; policies are few)."""
    policies = []
    for policy in TrustPolicy.objects.prefetch_related("principals").order_by("slug"):
        result = signing.policy_evaluate(policy=policy, version=sv)
        policies.append(PolicyStatus(slug=policy.slug, title=policy.title,
                                     threshold=result.threshold, count=result.count,
                                     signers=tuple(result.signers), satisfied=result.satisfied))
    return TrustView(policies=policies,
                     attestations=list(signing.attestations_for_version(sv)))


def satisfying(qs: ServerVersionQuerySet, policy_slug: str) -> ServerVersionQuerySet:
    """Narrow `qs` to versions satisfying a policy (an unknown policy matches nothing).

    Only versions with a verified attestation can satisfy a policy, so those few are
    evaluated and the rest never leave the database.
    """
    policy = TrustPolicy.objects.prefetch_related("principals").filter(slug=policy_slug).first()
    if policy is None:
        return qs.none()
    candidates = (qs.filter(attestations__state=VERIFIED).order_by()
                  .values_list("id", flat=True).distinct())
    ids = signing.versions_satisfying(policy=policy, version_ids=list(candidates))
    return qs.filter(id__in=ids)

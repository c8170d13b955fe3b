"""k-of-n trust policy evaluation over verified attestations. Django-free.

The threshold counts DISTINCT principals, never signatures: one reviewer who signs
ten times (or with a bundle and a key envelope) is one vote. Evidence only counts when
its principal is in the policy and not expired, its predicate type is accepted, its
verdict is accepted, and its subject is exactly the version being evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from mcp_index_common.statements import VERDICT_APPROVED


@dataclass(frozen=True)
class Evidence:
    """One verified attestation: which principal signed what claim about which subject."""

    principal: str
    predicate_type: str
    verdict: str | None
    server_name: str
    version: str
    sha256: str


@dataclass(frozen=True)
class PolicySpec:
    """A policy: trusted principals (id -> optional expiry), threshold k, accepted claims."""

    threshold: int
    principals: Mapping[str, datetime | None]
    predicate_types: frozenset[str]
    verdicts: frozenset[str] = field(default_factory=lambda: frozenset({VERDICT_APPROVED}))

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("threshold must be at least 1")
        if not self.predicate_types:
            raise ValueError("a policy must accept at least one predicate type")


@dataclass(frozen=True)
class PolicyResult:
    """The decision for one version: satisfied, who counted, and why others did not."""

    satisfied: bool
    threshold: int
    signers: tuple[str, ...]
    ignored: tuple[tuple[str, str], ...] = ()

    @property
    def count(self) -> int:
        return len(self.signers)


def policy_check(
    spec: PolicySpec,
    evidence: Iterable[Evidence],
    *,
    server_name: str,
    version: str,
    sha256: str,
    now: datetime,
) -> PolicyResult:
    """Evaluate `spec` for one version at time `now`; pure function of its inputs."""
    signers: set[str] = set()
    ignored: dict[str, str] = {}
    for item in evidence:
        reason = _why_not(spec, item, server_name=server_name, version=version, sha256=sha256, now=now)
        if reason:
            ignored.setdefault(item.principal, reason)
        else:
            signers.add(item.principal)
    for principal in signers:
        ignored.pop(principal, None)
    ordered = tuple(sorted(signers))
    return PolicyResult(
        satisfied=len(ordered) >= spec.threshold,
        threshold=spec.threshold,
        signers=ordered,
        ignored=tuple(sorted(ignored.items())),
    )


def _why_not(
    spec: PolicySpec,
    item: Evidence,
    *,
    server_name: str,
    version: str,
    sha256: str,
    now: datetime,
) -> str:
    if item.principal not in spec.principals:
        return "principal not in policy"
    expires_at = spec.principals[item.principal]
    if expires_at is not None and expires_at <= now:
        return "principal expired"
    if (item.server_name, item.version, item.sha256.lower()) != (
        server_name,
        version,
        sha256.lower(),
    ):
        return "statement is about another version or digest"
    if item.predicate_type not in spec.predicate_types:
        return f"predicate type {item.predicate_type} not accepted"
    if spec.verdicts and item.verdict not in spec.verdicts:
        return f"verdict {item.verdict!r} not accepted"
    return ""

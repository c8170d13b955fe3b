"""Catalog rules and decisions as pure functions: facts of a version in, a membership out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from curation.models import Action, EntryState, ReviewMode

# What rules may need from a version (manifest-derived facts are only read when a rule asks).
FACT_FIELDS = ("id", "name", "namespace", "version", "origin", "status", "published_at",
               "updated_at", "digest", "validation_issues")


@dataclass(frozen=True)
class Facts:
    """Everything a rule can match on, for one version."""

    id: int
    name: str
    namespace: str
    version: str
    origin: str
    status: str
    published_at: datetime
    updated_at: datetime
    digest: str
    schema_valid: bool
    registry_types: frozenset[str] = frozenset()
    transports: frozenset[str] = frozenset()
    has_remotes: bool = False
    has_packages: bool = False
    repository_host: str = ""


def manifest_facts(manifest: Any) -> dict[str, Any]:
    """Registry types, transports, remote/package presence and repository host of a manifest."""
    doc = manifest if isinstance(manifest, dict) else {}
    packages = [p for p in doc.get("packages") or [] if isinstance(p, dict)] \
        if isinstance(doc.get("packages"), list) else []
    remotes = [r for r in doc.get("remotes") or [] if isinstance(r, dict)] \
        if isinstance(doc.get("remotes"), list) else []
    transports = {str(r.get("type")) for r in remotes if r.get("type")}
    for p in packages:
        transport = p.get("transport")
        if isinstance(transport, dict) and transport.get("type"):
            transports.add(str(transport["type"]))
    repo = doc.get("repository")
    url = repo.get("url") if isinstance(repo, dict) else None
    host = (urlsplit(url).hostname or "") if isinstance(url, str) else ""
    return {
        "registry_types": frozenset(str(p.get("registryType")) for p in packages
                                    if p.get("registryType")),
        "transports": frozenset(transports),
        "has_remotes": bool(remotes),
        "has_packages": bool(packages),
        "repository_host": host.lower(),
    }


def facts_of(row: Mapping[str, Any], manifest: Any = None) -> Facts:
    """Facts from a values() row (FACT_FIELDS) and, when rules need it, the manifest."""
    extra = manifest_facts(manifest) if manifest is not None else {}
    return Facts(id=row["id"], name=row["name"], namespace=row["namespace"],
                 version=row["version"], origin=row["origin"], status=row["status"],
                 published_at=row["published_at"], updated_at=row["updated_at"],
                 digest=row["digest"], schema_valid=not row["validation_issues"], **extra)


@dataclass(frozen=True)
class RuleSpec:
    """A rule's criteria, detached from the ORM (empty criteria match anything)."""

    id: int
    action: str
    name_pattern: str = ""
    namespace: str = ""
    source: str = ""
    registry_type: str = ""
    transport: str = ""
    kind: str = ""
    repository_host: str = ""
    status: str = ""
    schema_valid: bool | None = None
    trust_policy: str = ""

    @property
    def needs_manifest(self) -> bool:
        return bool(self.registry_type or self.transport or self.kind or self.repository_host)


def rule_matches(rule: RuleSpec, f: Facts, trusted: Mapping[str, set[int]]) -> bool:
    """True when every criterion the rule sets holds for the version."""
    checks = (
        not rule.name_pattern or fnmatchcase(f.name, rule.name_pattern),
        not rule.namespace or fnmatchcase(f.namespace, rule.namespace),
        not rule.source or f.origin == rule.source,
        not rule.registry_type or rule.registry_type in f.registry_types,
        not rule.transport or rule.transport in f.transports,
        not rule.kind or (f.has_remotes if rule.kind == "remote" else f.has_packages),
        not rule.repository_host or f.repository_host == rule.repository_host.lower()
        or f.repository_host.endswith("." + rule.repository_host.lower()),
        not rule.status or f.status == rule.status,
        rule.schema_valid is None or f.schema_valid == rule.schema_valid,
        not rule.trust_policy or f.id in trusted.get(rule.trust_policy, set()),
    )
    return all(checks)


@dataclass(frozen=True)
class Verdict:
    """A reviewer decision in force for a version."""

    approve: bool
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class Decisions:
    """Effective review decisions of one catalog, keyed for fast lookup."""

    versions: Mapping[tuple[str, str], Verdict]
    servers: Mapping[str, Verdict]  # standing: reject all, or approve incl. future versions
    approved_servers: frozenset[str]  # any approval exists: the server is known

    def for_version(self, name: str, version: str) -> Verdict | None:
        """The most recent applicable decision (version-level or standing server-level)."""
        candidates = [v for v in (self.versions.get((name, version)), self.servers.get(name)) if v]
        return max(candidates, key=lambda v: v.at) if candidates else None


@dataclass(frozen=True)
class Membership:
    """The computed state of one version in a catalog."""

    state: str
    reason: str
    by: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class Policy:
    """A catalog's rules and settings in pure form."""

    rules: Sequence[RuleSpec]
    default_action: str
    review_mode: str
    pins: Mapping[str, str]
    decisions: Decisions
    trust_policy: str = ""


def decide(policy: Policy, f: Facts, *, server_known: bool, trusted: Mapping[str, set[int]]
           ) -> Membership:
    """First matching rule (else the default), then pins, review mode, decisions and trust."""
    pinned = policy.pins.get(f.name)
    if pinned is not None:
        if f.version != pinned:
            return Membership(EntryState.EXCLUDED, f"pinned to {pinned}")
        membership = Membership(EntryState.INCLUDED, "pinned")
    else:
        membership = _by_rules(policy, f, server_known=server_known, trusted=trusted)
    if (membership.state == EntryState.INCLUDED and policy.trust_policy
            and f.id not in trusted.get(policy.trust_policy, set())):
        return Membership(EntryState.UNTRUSTED, f"does not satisfy policy {policy.trust_policy}")
    return membership


def _by_rules(policy: Policy, f: Facts, *, server_known: bool, trusted: Mapping[str, set[int]]
              ) -> Membership:
    action, reason = policy.default_action, "default action"
    for rule in policy.rules:
        if rule_matches(rule, f, trusted):
            action, reason = rule.action, f"rule {rule.id}"
            break
    if action == Action.DENY:
        return Membership(EntryState.DENIED, reason)
    needs_review = action == Action.REVIEW or (
        policy.review_mode == ReviewMode.EVERY_VERSION
        or (policy.review_mode == ReviewMode.NEW_SERVERS and not server_known))
    if not needs_review:
        return Membership(EntryState.INCLUDED, reason)
    verdict = policy.decisions.for_version(f.name, f.version)
    if verdict is None:
        return Membership(EntryState.PENDING, f"awaiting review ({reason})")
    state = EntryState.INCLUDED if verdict.approve else EntryState.REJECTED
    return Membership(state, verdict.reason or ("approved" if verdict.approve else "rejected"),
                      verdict.by, verdict.at)


def trust_policies_of(policy: Policy) -> set[str]:
    """Every trust policy slug the catalog refers to."""
    slugs = {r.trust_policy for r in policy.rules if r.trust_policy}
    if policy.trust_policy:
        slugs.add(policy.trust_policy)
    return slugs


def names_matching(patterns: Iterable[str], name: str) -> bool:
    """True when any glob matches the name."""
    return any(fnmatchcase(name, p) for p in patterns)

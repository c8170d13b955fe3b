"""Reads: the current trust configuration, policy evaluation and per-version trust summaries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from sigstore.verify import Verifier

from mcp_index_common import dsse
from mcp_index_common.policy import Evidence, PolicyResult, PolicySpec, policy_check
from mcp_index_common.sigstore_verify import SigstoreIdentity, production_verifier, verifier_for
from mcp_index_common.verification import VERIFIED, KeyPrincipal, SigstorePrincipal, Trust
from registry.models import ServerVersion
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot


@lru_cache(maxsize=32)
def _custom_verifier(trusted_root_json: str) -> Verifier:
    # Keyed by the document itself: an edited root gets a fresh verifier.
    return verifier_for(trusted_root_json)


def _verifier(root: TrustRoot) -> Verifier:
    if root.kind == TrustRoot.PRODUCTION:
        return production_verifier()
    return _custom_verifier(root.trusted_root_json)


def trust_current() -> Trust:
    """Every principal we know, with verifiers for the active trust roots (one query)."""
    keys: list[KeyPrincipal] = []
    identities: list[SigstorePrincipal] = []
    verifiers: dict[str, Verifier] = {}
    for principal in Principal.objects.select_related("trust_root").order_by("pk"):
        if principal.kind == Principal.KEY:
            keys.append(KeyPrincipal(id=principal.slug, key=dsse.public_key_load(principal.public_key_pem)))
            continue
        root = principal.trust_root
        if root is None or not root.is_active:
            continue
        if root.slug not in verifiers:
            verifiers[root.slug] = _verifier(root)
        identities.append(
            SigstorePrincipal(
                id=principal.slug,
                root=root.slug,
                identity=SigstoreIdentity(
                    issuer=principal.oidc_issuer,
                    subject=principal.subject,
                    pattern=principal.subject_is_pattern,
                ),
            )
        )
    return Trust(keys=keys, verifiers=verifiers, identities=identities)


def policy_spec(policy: TrustPolicy) -> PolicySpec:
    """The Django-free form of a policy (uses prefetched principals when present)."""
    return PolicySpec(
        threshold=policy.threshold,
        principals={p.slug: p.expires_at for p in policy.principals.all()},
        predicate_types=frozenset(policy.predicate_types),
        verdicts=frozenset(policy.verdicts),
    )


def _evidence_rows(version_ids: Iterable[int]) -> list[tuple]:
    through = Attestation.principals.through
    return list(
        through.objects.filter(attestation__version_id__in=list(version_ids), attestation__state=VERIFIED)
        .values_list(
            "attestation__version_id",
            "principal__slug",
            "principal__display_name",
            "principal__expires_at",
            "attestation__predicate_type",
            "attestation__verdict",
            "attestation__subject_sha256",
        )
        .order_by("principal__slug")
    )


def policy_evaluate(
    *, policy: TrustPolicy, version: ServerVersion, now: datetime | None = None
) -> PolicyResult:
    """Whether `version` satisfies `policy` now, from stored verification results."""
    evidence = [
        Evidence(
            principal=slug,
            predicate_type=ptype,
            verdict=verdict or None,
            server_name=version.name,
            version=version.version,
            sha256=sha,
        )
        for _, slug, _, _, ptype, verdict, sha in _evidence_rows([version.pk])
    ]
    return policy_check(
        policy_spec(policy),
        evidence,
        server_name=version.name,
        version=version.version,
        sha256=version.digest,
        now=now or timezone.now(),
    )


def _evidence_by_version(
    ids: list[int], now: datetime
) -> tuple[dict[int, tuple[str, str, str]], dict[int, list[Evidence]], dict[int, dict[str, str]]]:
    """Versions with verified evidence, that evidence and signer names: at most two queries.

    The evidence query runs first, so a page without attestations costs one query.
    """
    rows = _evidence_rows(ids)
    if not rows:
        return {}, {}, {}
    versions = {
        pk: (name, version, digest)
        for pk, name, version, digest in ServerVersion.objects.filter(
            pk__in={row[0] for row in rows}
        ).values_list("pk", "name", "version", "digest")
    }
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    signers: dict[int, dict[str, str]] = defaultdict(dict)
    for vid, slug, display, expires, ptype, verdict, sha in rows:
        name, version, digest = versions[vid]
        if sha != digest or (expires is not None and expires <= now):
            continue  # a stale digest (edited manifest) or an expired principal vouches no more
        evidence[vid].append(
            Evidence(
                principal=slug,
                predicate_type=ptype,
                verdict=verdict or None,
                server_name=name,
                version=version,
                sha256=sha,
            )
        )
        signers[vid][slug] = display
    return versions, evidence, signers


def verified_attestation_exists(version_ref: str = "id") -> Exists:
    """Annotation for read queries: whether the version has a verified attestation.

    Rows where it is false need no trust summary, so a page without any (the common case)
    skips trust_meta_for_versions' queries altogether.
    """
    return Exists(Attestation.objects.filter(version_id=OuterRef(version_ref), state=VERIFIED))


def trust_meta_for_versions(version_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, dict]:
    """`{id: {"<ns>/trust": {verifiedSigners, satisfiedPolicies}}}` for versions with verified
    attestations; one query when none has any, four otherwise, whatever the page size."""
    ids = list(version_ids)
    if not ids:
        return {}
    now = now or timezone.now()
    versions, evidence, signers = _evidence_by_version(ids, now)
    if not versions:
        return {}
    specs = [
        (p.slug, policy_spec(p)) for p in TrustPolicy.objects.prefetch_related("principals").order_by("slug")
    ]
    key = f"{settings.MCP_INDEX_NAMESPACE}/trust"
    out: dict[int, dict] = {}
    for vid, (name, version, digest) in versions.items():
        satisfied = [
            slug
            for slug, spec in specs
            if policy_check(
                spec, evidence[vid], server_name=name, version=version, sha256=digest, now=now
            ).satisfied
        ]
        out[vid] = {
            key: {
                "verifiedSigners": [
                    {"principal": s, "displayName": d} for s, d in sorted(signers[vid].items())
                ],
                "satisfiedPolicies": satisfied,
            }
        }
    return out


def versions_satisfying(
    *, policy: TrustPolicy, version_ids: Iterable[int], now: datetime | None = None
) -> set[int]:
    """The ids among `version_ids` that satisfy `policy` now (for catalog rules)."""
    return set(versions_satisfying_until(policy=policy, version_ids=version_ids, now=now))


def versions_satisfying_until(
    *, policy: TrustPolicy, version_ids: Iterable[int], now: datetime | None = None
) -> dict[int, datetime | None]:
    """The ids among `version_ids` that satisfy `policy` now, each with the moment it stops
    by itself: the expiry that leaves fewer than k signers (None: no expiry can)."""
    ids = list(version_ids)
    if not ids:
        return {}
    now = now or timezone.now()
    versions, evidence, _ = _evidence_by_version(ids, now)
    spec = policy_spec(policy)
    out: dict[int, datetime | None] = {}
    for vid, (name, version, digest) in versions.items():
        result = policy_check(spec, evidence[vid], server_name=name, version=version, sha256=digest, now=now)
        if result.satisfied:
            # Signers in order of expiry (never last): the policy holds until all but k-1 lapsed.
            lapses = sorted((spec.principals[s] for s in result.signers), key=lambda e: (e is None, e))
            out[vid] = lapses[len(lapses) - spec.threshold]
    return out


def attestations_for_version(version: ServerVersion) -> QuerySet[Attestation]:
    """A version's attestations, oldest first, with their verified principals."""
    return (
        Attestation.objects.filter(version=version)
        .prefetch_related("principals")
        .order_by("created_at", "pk")
    )


def version_lookup(name: str, version: str) -> ServerVersion | None:
    """One version by name and exact version (or `latest`), deleted ones included."""
    qs = ServerVersion.objects.filter(name=name)
    qs = qs.filter(is_latest=True) if version == "latest" else qs.filter(version=version)
    return qs.first()

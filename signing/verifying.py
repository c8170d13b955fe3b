"""Storing verification outcomes: compute first, then swap them in with one transaction.

Readers never see a re-verification half done. Outcomes are computed against a snapshot of
the trust configuration, then stored together while holding the *trust lock* (every trust
root and principal row, locked in pk order), and only if the configuration did not change
in between; otherwise they are computed again. Trust changes take the same lock, so a
stored outcome can never come from a key or identity that was replaced meanwhile.

A trust change re-verifies only what it can affect: its own principal's attestations
synchronously, inside the change's transaction (so a revoked signer stops counting at the
commit that revokes it), and, in the background, the attestations the new identity might
have signed, each first tried against that principal alone (cheap), fully re-verified only
when that trial succeeds. Nothing passes through `pending` on the way.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from mcp_index_common.verification import (
    KIND_DSSE,
    KIND_SIGSTORE,
    UNVERIFIED,
    VERIFIED,
    AttestationCheck,
    Trust,
    attestation_check,
)
from registry.models import ServerVersion
from registry.services import audit_record, versions_invalidate
from signing import selectors
from signing.models import Attestation, Principal, TrustRoot
from signing.signals import trust_changed

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:signing"
BATCH = 200
# What verification reads from a principal and a trust root; other fields (display name,
# expiry) never change an outcome, so changing only them re-verifies nothing.
PRINCIPAL_IDENTITY = ("kind", "keyid", "trust_root_id", "oidc_issuer", "subject", "subject_is_pattern")
ROOT_IDENTITY = ("kind", "trusted_root_json", "is_active")
_STORED = ("state", "reason", "signer", "signed_at", "verified_at", "predicate_type", "verdict",
           "subject_sha256")


def identity_of(obj: Principal | TrustRoot) -> tuple[object, ...]:
    """The fields of a principal or trust root that verification depends on."""
    fields = PRINCIPAL_IDENTITY if isinstance(obj, Principal) else ROOT_IDENTITY
    return tuple(getattr(obj, f) for f in fields)


def _fingerprint(*, lock: bool) -> str:
    roots = TrustRoot.objects.order_by("pk")
    principals = Principal.objects.order_by("pk")
    if lock:
        roots, principals = roots.select_for_update(), principals.select_for_update()
    data = (list(roots.values_list("pk", "slug", *ROOT_IDENTITY)),
            list(principals.values_list("pk", "slug", *PRINCIPAL_IDENTITY)))
    return hashlib.sha256(repr(data).encode()).hexdigest()


def trust_lock() -> None:
    """Take the trust lock (inside a transaction): trust changes and stored outcomes queue up."""
    _fingerprint(lock=True)


def kind_of(principal: Principal) -> str:
    """The attestation kind a principal can sign."""
    return KIND_SIGSTORE if principal.kind == Principal.SIGSTORE else KIND_DSSE


def linked_to(principal_ids: Iterable[int]) -> QuerySet[Attestation]:
    """Attestations these principals are recorded as having signed."""
    return (Attestation.objects.filter(principals__in=list(principal_ids)).distinct()
            .select_related("version").order_by("pk"))


def _check(attestation: Attestation, trust: Trust) -> AttestationCheck:
    version = attestation.version
    return attestation_check(kind=attestation.kind, content=attestation.content.encode(),
                             server_name=version.name, version=version.version,
                             sha256=version.digest, trust=trust)


def _evidence(state: str, principal_ids: Iterable[int], row: Attestation) -> tuple[object, ...]:
    """What a policy reads of one attestation: who vouched, for which claim and digest."""
    signers = frozenset(principal_ids) if state == VERIFIED else frozenset()
    return signers, row.predicate_type, row.verdict, row.subject_sha256


def _assign(row: Attestation, check: AttestationCheck, now: datetime) -> None:
    row.state = check.state
    row.reason = check.reason[:2000]
    row.signer = check.signer[:1000]
    row.signed_at = check.signed_at
    row.verified_at = now
    if check.statement is not None:
        row.predicate_type = check.statement.predicate_type[:500]
        row.verdict = (check.statement.verdict or "")[:50]
        row.subject_sha256 = check.statement.subject.sha256


def results_store(results: Sequence[tuple[Attestation, AttestationCheck]]) -> set[int]:
    """Store outcomes in one go (the caller holds the trust lock in a transaction).

    Rows deleted meanwhile are skipped. Returns the ids of versions whose evidence changed,
    after announcing them (`trust_changed`) and dropping cached reads of their servers.
    """
    if not results:
        return set()
    current = {a.pk: a for a in Attestation.objects.select_for_update(of=("self",))
               .select_related("version").filter(pk__in=[a.pk for a, _ in results])}
    through = Attestation.principals.through
    linked: dict[int, set[int]] = defaultdict(set)
    for aid, pid in through.objects.filter(attestation_id__in=list(current)).values_list(
            "attestation_id", "principal_id"):
        linked[aid].add(pid)
    slugs = {slug for _, check in results for slug in check.principals}
    pks = dict(Principal.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    now = timezone.now()
    rows, adds, drops, changed, touched = [], [], [], set(), set()
    for attestation, check in results:
        row = current.get(attestation.pk)
        if row is None:
            continue
        before, previous = _evidence(row.state, linked[row.pk], row), row.state
        wanted = {pks[slug] for slug in check.principals if slug in pks}
        _assign(row, check, now)
        rows.append(row)
        adds += [through(attestation_id=row.pk, principal_id=p) for p in wanted - linked[row.pk]]
        if linked[row.pk] - wanted:
            drops.append(Q(attestation_id=row.pk, principal_id__in=linked[row.pk] - wanted))
        if _evidence(row.state, wanted, row) != before:
            changed.add(row.version_id)
        if previous != row.state:
            touched.add(row.version.name)
            audit_record(actor=SYSTEM_ACTOR, action=f"signing.attestation.{row.state}",
                         target=str(row.version),
                         data={"attestation": row.pk, "principals": list(check.principals),
                               "reason": check.reason[:300]})
        logger.info("attestation_verified id=%s state=%s principals=%s", row.pk, row.state,
                    ",".join(check.principals) or "-")
    Attestation.objects.bulk_update(rows, _STORED)
    if drops:
        through.objects.filter(reduce(or_, drops)).delete()
    through.objects.bulk_create(adds)
    touched |= set(ServerVersion.objects.filter(pk__in=changed).values_list("name", flat=True))
    versions_invalidate(names=touched)
    if changed:
        trust_changed.send(sender=Attestation, version_ids=changed)
    return changed


def attestations_verify(attestations: Sequence[Attestation], *, attempts: int = 3) -> set[int]:
    """Verify against the current trust and store the outcomes (see the module docstring).

    Returns the ids of versions whose evidence changed. If trust keeps changing while this
    computes, it gives up after `attempts` (the rows keep their state; pending ones are
    picked up by the periodic `verify_pending`).
    """
    if not attestations:
        return set()
    for _ in range(attempts):
        seen = _fingerprint(lock=False)
        trust = selectors.trust_current()
        results = [(a, _check(a, trust)) for a in attestations]
        with transaction.atomic():
            if _fingerprint(lock=True) == seen:
                return results_store(results)
    logger.warning("attestation_verify_gave_up count=%d reason=trust-changing", len(attestations))
    return set()


def reverify_now(attestations: Iterable[Attestation]) -> set[int]:
    """Re-verify inside the caller's transaction, which holds the trust lock and has made
    a trust change: the change and its consequences commit together."""
    trust = selectors.trust_current()
    return results_store([(a, _check(a, trust)) for a in attestations])


def _restricted(trust: Trust, slugs: set[str]) -> Trust:
    identities = [i for i in trust.identities if i.id in slugs]
    roots = {i.root for i in identities}
    return Trust(keys=[k for k in trust.keys if k.id in slugs],
                 verifiers={r: v for r, v in trust.verifiers.items() if r in roots},
                 identities=identities)


def _may_have_signed(attestation: Attestation, trust: Trust) -> bool:
    """A cheap pre-filter: a sigstore signer already known by name must match an identity."""
    if attestation.kind != KIND_SIGSTORE or not attestation.signer:
        return True
    issuer, _, subject = attestation.signer.partition(" ")
    return any(i.identity.matches(issuer=issuer, subjects=[subject]) for i in trust.identities)


@dataclass(frozen=True)
class GainsPass:
    """One batch of the search for attestations a changed principal may now verify."""

    tried: int
    verified: int
    next_after: int | None  # where the next batch starts; None when the search is done


def gains_check(*, principal_ids: Sequence[int], after: int = 0, batch: int = BATCH) -> GainsPass:
    """Find, among attestations of their kind not yet linked to them, what these principals
    signed: try each against them alone, fully re-verify and store only the hits."""
    principals = list(Principal.objects.filter(pk__in=list(principal_ids)))
    if not principals:
        return GainsPass(0, 0, None)
    candidates = list(
        Attestation.objects.filter(kind__in={kind_of(p) for p in principals},
                                   state__in=[VERIFIED, UNVERIFIED], pk__gt=after)
        .exclude(principals__in=[p.pk for p in principals])
        .select_related("version").order_by("pk")[:batch])
    if not candidates:
        return GainsPass(0, 0, None)
    trial = _restricted(selectors.trust_current(), {p.slug for p in principals})
    hits = [a for a in candidates
            if _may_have_signed(a, trial) and _check(a, trial).state == VERIFIED]
    attestations_verify(hits)
    return GainsPass(len(candidates), len(hits),
                     candidates[-1].pk if len(candidates) == batch else None)

"""Every write in the signing app: submitting and verifying attestations, trust config."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from mcp_index_common import dsse
from mcp_index_common.sigstore_verify import SigstoreIdentity, TrustRootError, trusted_root_load
from mcp_index_common.verification import (
    FAILED,
    KINDS,
    VERIFIED,
    Trust,
    attestation_check,
)
from registry.errors import Conflict, InvalidInput, RegistryError
from registry.limits import check_columns, check_instance
from registry.models import ServerVersion
from registry.services import audit_record
from signing import tasks, verifying
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot
from signing.signals import trust_changed

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = verifying.SYSTEM_ACTOR


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def attestation_max_bytes() -> int:
    """The size cap on one attestation's content (MCP_INDEX_ATTESTATION_MAX_BYTES)."""
    return _setting("MCP_INDEX_ATTESTATION_MAX_BYTES", 64 * 1024)


class AttestationRejected(RegistryError):
    """The attestation is malformed or not about this version (422)."""

    status = 422
    title = "Unprocessable Entity"


class AttestationTooLarge(RegistryError):
    """The attestation is bigger than the cap (413)."""

    status = 413
    title = "Content Too Large"


class RateLimited(RegistryError):
    """Too many not-yet-verified attestations from one submitter or for one version (429)."""

    status = 429
    title = "Too Many Requests"


class InvalidTrustConfig(RegistryError):
    """A trust root, principal or policy that cannot be used (422)."""

    status = 422
    title = "Unprocessable Entity"


@dataclass(frozen=True)
class SubmitResult:
    """The stored attestation, and whether this call created it (False: a resubmission)."""

    attestation: Attestation
    created: bool


def attestation_submit(
    *, version: ServerVersion, kind: str, content: bytes, submitted_by: str
) -> SubmitResult:
    """Store an attestation for `version` and enqueue its verification after commit."""
    cap = attestation_max_bytes()
    if len(content) > cap:
        raise AttestationTooLarge(f"attestation is {len(content)} bytes; the limit is {cap}")
    if kind not in KINDS:
        raise AttestationRejected(f"kind must be one of {', '.join(KINDS)}")
    # A structural check with no trust at all: rejects garbage and statements about another
    # version or digest (a tampered manifest) before anything is stored.
    precheck = attestation_check(
        kind=kind,
        content=content,
        server_name=version.name,
        version=version.version,
        sha256=version.digest,
        trust=Trust(),
    )
    if precheck.state == FAILED:
        raise AttestationRejected(f"attestation rejected: {precheck.reason}")
    statement = precheck.statement
    try:  # the statement's fields come from the submitter: bounded like any input
        check_columns(Attestation, {"kind": kind, "submitted_by": submitted_by,
                                    "content": content.decode("utf-8", "surrogatepass"),
                                    "predicate_type": statement.predicate_type if statement else "",
                                    "verdict": (statement.verdict or "") if statement else ""})
    except InvalidInput as exc:
        raise AttestationRejected(f"attestation rejected: {exc.message}") from exc
    content_sha256 = hashlib.sha256(content).hexdigest()
    existing = Attestation.objects.filter(version=version, content_sha256=content_sha256).first()
    if existing is not None:
        return SubmitResult(attestation=existing, created=False)
    _check_rate(version=version, submitted_by=submitted_by)
    try:
        with transaction.atomic():
            attestation = Attestation.objects.create(
                version=version,
                kind=kind,
                content=content.decode(),
                content_sha256=content_sha256,
                submitted_by=submitted_by,
                predicate_type=precheck.statement.predicate_type if precheck.statement else "",
                verdict=(precheck.statement.verdict or "") if precheck.statement else "",
                subject_sha256=version.digest,
            )
            audit_record(
                actor=submitted_by,
                action="signing.attestation.submitted",
                target=str(version),
                data={"attestation": attestation.pk, "kind": kind},
            )
    except IntegrityError:  # a concurrent identical submission won the race
        existing = Attestation.objects.get(version=version, content_sha256=content_sha256)
        return SubmitResult(attestation=existing, created=False)
    pk = attestation.pk
    transaction.on_commit(lambda: tasks.verify_attestation.delay(pk))
    return SubmitResult(attestation=attestation, created=True)


@dataclass(frozen=True)
class MirrorReport:
    """What importing an upstream's attestations did: new, already known, refused."""

    created: int
    existing: int
    refused: int


def attestations_mirror(*, version: ServerVersion, items: Iterable[Any], origin: str) -> MirrorReport:
    """Import attestations listed by an upstream index; each is re-verified here.

    Only `kind` and the raw `content` are used: the upstream's states, principals and
    reasons are ignored, because trust is never inherited from whoever served the bytes.
    """
    created = existing = refused = 0
    for item in items:
        kind = item.get("kind") if isinstance(item, dict) else None
        content = item.get("content") if isinstance(item, dict) else None
        if not isinstance(kind, str) or not isinstance(content, dict | str):
            refused += 1
            continue
        raw = (
            content.encode()
            if isinstance(content, str)
            else json.dumps(content, separators=(",", ":")).encode()
        )
        try:
            result = attestation_submit(
                version=version, kind=kind, content=raw, submitted_by=f"mirror:{origin}"
            )
        except (AttestationRejected, AttestationTooLarge, RateLimited):
            refused += 1
            continue
        if result.created:
            created += 1
        else:
            existing += 1
    return MirrorReport(created=created, existing=existing, refused=refused)


def _check_rate(*, version: ServerVersion, submitted_by: str) -> None:
    since = timezone.now() - timedelta(hours=1)
    per_hour = _setting("MCP_INDEX_ATTESTATION_UNVERIFIED_PER_HOUR", 30)
    recent = (
        Attestation.objects.filter(submitted_by=submitted_by, created_at__gte=since)
        .exclude(state=VERIFIED)
        .count()
    )
    if recent >= per_hour:
        raise RateLimited(f"more than {per_hour} unverified attestations in the last hour; try again later")
    per_version = _setting("MCP_INDEX_ATTESTATION_UNVERIFIED_PER_VERSION", 200)
    if version.attestations.exclude(state=VERIFIED).count() >= per_version:
        raise RateLimited(f"this version already holds {per_version} unverified attestations")


def attestation_verify(*, attestation: Attestation) -> Attestation:
    """Verify one attestation against the current principals and store the outcome."""
    verifying.attestations_verify([attestation])
    attestation.refresh_from_db()
    return attestation


def principal_validate(principal: Principal) -> None:
    """Check a principal's fields for its kind (and compute the keyid); InvalidTrustConfig if bad."""
    if principal.kind == Principal.KEY:
        try:
            principal.keyid = dsse.public_key_load(principal.public_key_pem).keyid
        except dsse.KeyLoadError as exc:
            raise InvalidTrustConfig(f"principal {principal.slug}: {exc}") from exc
        principal.trust_root = None
        principal.oidc_issuer = principal.subject = ""
        principal.subject_is_pattern = False
    elif principal.kind == Principal.SIGSTORE:
        if principal.trust_root_id is None or not principal.oidc_issuer or not principal.subject:
            raise InvalidTrustConfig("a sigstore principal needs a trust root, issuer and subject")
        try:
            SigstoreIdentity(
                issuer=principal.oidc_issuer, subject=principal.subject, pattern=principal.subject_is_pattern
            )
        except ValueError as exc:
            raise InvalidTrustConfig(f"principal {principal.slug}: {exc}") from exc
        principal.public_key_pem = principal.keyid = ""
    else:
        raise InvalidTrustConfig(f"unknown principal kind {principal.kind!r}")


@transaction.atomic
def principal_save(*, principal: Principal, actor: str) -> Principal:
    """Create or change a principal; re-verify only what the change can affect.

    A new key or identity (kind, key, trust root, issuer, subject): the attestations the
    principal signed are re-verified now, in this transaction, and those the new identity
    may have signed are looked for in the background. Only a new expiry: nothing to
    re-verify, but the versions it vouched for are re-evaluated. Display name: nothing.
    """
    principal_validate(principal)
    check_instance(principal)
    verifying.trust_lock()
    before = Principal.objects.filter(pk=principal.pk).first() if principal.pk else None
    principal.save()
    audit_record(
        actor=actor,
        action="signing.principal." + ("created" if before is None else "changed"),
        target=principal.slug,
        data={"kind": principal.kind},
    )
    new_identity = before is None or verifying.identity_of(before) != verifying.identity_of(principal)
    signed = list(verifying.linked_to([principal.pk])) if before is not None else []
    if signed and new_identity:
        verifying.reverify_now(signed)
    if signed and before is not None and before.expires_at != principal.expires_at:
        trust_changed.send(sender=Principal, version_ids={a.version_id for a in signed})
    if new_identity:
        pk = principal.pk
        transaction.on_commit(lambda: tasks.reverify_gains.delay([pk]))
    return principal


@transaction.atomic
def principal_delete(*, principal: Principal, actor: str) -> None:
    """Remove a principal: what it vouched for stops counting at this commit, and the
    attestations it signed are re-verified without it (in this transaction)."""
    verifying.trust_lock()
    signed = list(verifying.linked_to([principal.pk]))
    audit_record(actor=actor, action="signing.principal.deleted", target=principal.slug, data={})
    principal.delete()  # signing.receivers announce the versions it vouched for
    verifying.reverify_now(signed)


def trust_root_validate(root: TrustRoot) -> None:
    """Check a trust root can be used for verification; InvalidTrustConfig if not."""
    if root.kind == TrustRoot.CUSTOM:
        try:
            trusted_root_load(root.trusted_root_json)
        except TrustRootError as exc:
            raise InvalidTrustConfig(f"trust root {root.slug}: {exc}") from exc
    elif root.kind == TrustRoot.PRODUCTION:
        root.trusted_root_json = ""
    else:
        raise InvalidTrustConfig(f"unknown trust root kind {root.kind!r}")


@transaction.atomic
def trust_root_save(*, root: TrustRoot, actor: str) -> TrustRoot:
    """Create or change a trust root (validated); when its document or activity changed,
    re-verify what its principals signed now, and look for new matches in the background."""
    trust_root_validate(root)
    check_instance(root)
    verifying.trust_lock()
    before = TrustRoot.objects.filter(pk=root.pk).first() if root.pk else None
    root.save()
    audit_record(
        actor=actor,
        action="signing.trust_root." + ("created" if before is None else "changed"),
        target=root.slug,
        data={"kind": root.kind, "active": root.is_active},
    )
    if before is not None and verifying.identity_of(before) != verifying.identity_of(root):
        principals = list(root.principals.values_list("pk", flat=True))
        verifying.reverify_now(verifying.linked_to(principals))
        if principals:
            transaction.on_commit(lambda: tasks.reverify_gains.delay(principals))
    return root


@transaction.atomic
def policy_save(*, policy: TrustPolicy, principals: Iterable[Principal] | None, actor: str) -> TrustPolicy:
    """Create or change a trust policy (evaluation is read-time, so nothing to re-verify;
    catalogs gated on it follow through signing.receivers, in this transaction)."""
    if policy.threshold is None or policy.threshold < 1:
        raise InvalidTrustConfig("threshold must be at least 1")
    types = policy.predicate_types
    if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
        raise InvalidTrustConfig("predicate_types must be a non-empty list of strings")
    if not isinstance(policy.verdicts, list) or not all(isinstance(v, str) for v in policy.verdicts):
        raise InvalidTrustConfig("verdicts must be a list of strings")
    check_instance(policy)
    created = policy.pk is None
    policy.save()
    if principals is not None:
        policy.principals.set(list(principals))
    audit_record(
        actor=actor,
        action="signing.policy." + ("created" if created else "changed"),
        target=policy.slug,
        data={"threshold": policy.threshold, "principals": sorted(p.slug for p in policy.principals.all())},
    )
    return policy


# --- removals from the admin (each audited; trust changes re-verify what they may affect) ---


@transaction.atomic
def trust_root_delete(*, root: TrustRoot, actor: str) -> None:
    """Remove a trust root no principal uses (PROTECT, refused with 409). Nothing to
    re-verify: only roots with principals take part in verification (signing.selectors.trust_current)."""
    in_use = sorted(root.principals.values_list("slug", flat=True))
    if in_use:
        raise Conflict(f"trust root {root.slug} is used by principals {', '.join(in_use)}; "
                       "remove them or move them to another root first")
    audit_record(actor=actor, action="signing.trust_root.deleted", target=root.slug, data={"kind": root.kind})
    root.delete()


@transaction.atomic
def policy_delete(*, policy: TrustPolicy, actor: str) -> None:
    """Remove a trust policy (evaluation is read-time, so nothing to re-verify)."""
    audit_record(actor=actor, action="signing.policy.deleted", target=policy.slug, data={})
    policy.delete()


@transaction.atomic
def attestation_delete(*, attestation: Attestation, actor: str) -> None:
    """Remove an attestation (e.g. spam); its version's trust summary drops it."""
    audit_record(
        actor=actor,
        action="signing.attestation.deleted",
        target=str(attestation.version),
        data={"attestation": attestation.pk, "kind": attestation.kind, "state": attestation.state},
    )
    attestation.delete()

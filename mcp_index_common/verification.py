"""Check one attestation (sigstore bundle or key-signed DSSE) against known principals.

Shared by the server (services/tasks) and the client (`mcp-index verify`), so both reach
the same verdict from the same bytes. Django-free.

Outcomes:
- `failed`: malformed, not an in-toto statement, or a statement about another
  version/digest (e.g. a tampered manifest). Adding principals will not fix it.
- `unverified`: well formed, but no known principal's signature verifies (unknown key,
  wrong identity, untrusted root, bad signature). May verify once a principal is added.
- `verified`: at least one known principal signed this exact statement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sigstore.verify import Verifier

from mcp_index_common import dsse
from mcp_index_common.policy import Evidence
from mcp_index_common.sigstore_verify import SigstoreIdentity, bundle_verify
from mcp_index_common.statements import INTOTO_PAYLOAD_TYPE, Statement, StatementError, statement_parse

KIND_SIGSTORE = "sigstore"
KIND_DSSE = "dsse"
KINDS = (KIND_SIGSTORE, KIND_DSSE)

VERIFIED = "verified"
UNVERIFIED = "unverified"
FAILED = "failed"


@dataclass(frozen=True)
class KeyPrincipal:
    """A principal that signs DSSE envelopes with a long-lived key."""

    id: str
    key: dsse.VerifyingKey


@dataclass(frozen=True)
class SigstorePrincipal:
    """A principal known by its sigstore identity under one trust root."""

    id: str
    root: str
    identity: SigstoreIdentity


@dataclass(frozen=True)
class Trust:
    """Everything a check may trust: keys, and per trust root a verifier and identities."""

    keys: Sequence[KeyPrincipal] = ()
    verifiers: Mapping[str, Verifier] = field(default_factory=dict)
    identities: Sequence[SigstorePrincipal] = ()


@dataclass(frozen=True)
class AttestationCheck:
    """The outcome for one attestation: state, reason, who signed, and what they said."""

    state: str
    reason: str = ""
    principals: tuple[str, ...] = ()
    signer: str = ""
    statement: Statement | None = None
    signed_at: datetime | None = None

    def evidence(self) -> list[Evidence]:
        """Policy evidence: one item per verified principal."""
        if self.state != VERIFIED or self.statement is None:
            return []
        subject = self.statement.subject
        return [
            Evidence(
                principal=principal,
                predicate_type=self.statement.predicate_type,
                verdict=self.statement.verdict,
                server_name=subject.server_name,
                version=subject.version,
                sha256=subject.sha256,
            )
            for principal in self.principals
        ]


def attestation_check(
    *, kind: str, content: bytes, server_name: str, version: str, sha256: str, trust: Trust
) -> AttestationCheck:
    """Verify `content` of `kind` for this version against `trust`."""
    if kind == KIND_DSSE:
        return _check_dsse(content, server_name, version, sha256, trust)
    if kind == KIND_SIGSTORE:
        return _check_sigstore(content, server_name, version, sha256, trust)
    return AttestationCheck(state=FAILED, reason=f"unknown kind {kind!r}")


def _statement_for(
    payload_type: str, payload: bytes, server_name: str, version: str, sha256: str
) -> tuple[Statement | None, str]:
    if payload_type != INTOTO_PAYLOAD_TYPE:
        return None, f"payload type must be {INTOTO_PAYLOAD_TYPE}"
    try:
        statement = statement_parse(payload)
    except StatementError as exc:
        return None, str(exc)
    if not statement.is_about(server_name=server_name, version=version, sha256=sha256):
        return None, (
            f"statement is about {statement.subject.name} sha256:{statement.subject.sha256}, "
            f"not {server_name}@{version} sha256:{sha256}"
        )
    return statement, ""


def _check_dsse(
    content: bytes, server_name: str, version: str, sha256: str, trust: Trust
) -> AttestationCheck:
    try:
        envelope = dsse.envelope_parse(content)
    except dsse.EnvelopeError as exc:
        return AttestationCheck(state=FAILED, reason=str(exc))
    statement, reason = _statement_for(envelope.payload_type, envelope.payload, server_name, version, sha256)
    if statement is None:
        return AttestationCheck(state=FAILED, reason=reason)
    claimed = ",".join(s.keyid for s in envelope.signatures if s.keyid)
    result = dsse.envelope_verify(envelope, [p.key for p in trust.keys])
    if not result.ok:
        return AttestationCheck(
            state=UNVERIFIED,
            reason="signed by no known principal's key",
            signer=claimed,
            statement=statement,
        )
    verified = set(result.keyids)
    principals = tuple(sorted({p.id for p in trust.keys if p.key.keyid in verified}))
    return AttestationCheck(
        state=VERIFIED, principals=principals, signer=",".join(result.keyids), statement=statement
    )


def _check_sigstore(
    content: bytes, server_name: str, version: str, sha256: str, trust: Trust
) -> AttestationCheck:
    try:
        envelope = json.loads(content).get("dsseEnvelope")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return AttestationCheck(state=FAILED, reason="bundle is not a JSON object")
    if not isinstance(envelope, dict):
        return AttestationCheck(state=FAILED, reason="bundle carries no DSSE envelope")
    try:
        parsed = dsse.envelope_parse(envelope)
    except dsse.EnvelopeError as exc:
        return AttestationCheck(state=FAILED, reason=str(exc))
    statement, reason = _statement_for(parsed.payload_type, parsed.payload, server_name, version, sha256)
    if statement is None:
        return AttestationCheck(state=FAILED, reason=reason)
    reasons = []
    seen_signer = ""  # who signed, when a root vouched for the certificate but nobody matched
    for root, verifier in trust.verifiers.items():
        candidates = [p for p in trust.identities if p.root == root]
        if not candidates:
            continue
        result = bundle_verify(content, verifier=verifier, identities=None)
        if not result.ok:
            reasons.append(f"{root}: {result.reason}")
            continue
        signer = f"{result.issuer} {result.subject}"
        principals = tuple(
            sorted(
                {
                    p.id
                    for p in candidates
                    if p.identity.matches(issuer=result.issuer, subjects=[result.subject])
                }
            )
        )
        if not principals:
            reasons.append(f"{root}: signer {signer} is no known principal")
            seen_signer = signer
            continue
        if result.payload != parsed.payload:  # defensive: sigstore returned other bytes
            return AttestationCheck(state=FAILED, reason="verified payload differs")
        return AttestationCheck(
            state=VERIFIED,
            principals=principals,
            signer=signer,
            statement=statement,
            signed_at=result.integrated_time,
        )
    return AttestationCheck(
        state=UNVERIFIED,
        reason="; ".join(reasons) or "no trust root with sigstore principals",
        signer=seen_signer,
        statement=statement,
    )

"""Offline verification of sigstore bundles against a pinned trust root.

Never touches the network: the production trust root is read from the copy embedded in
the `sigstore` wheel (no TUF refresh, no user cache), and private instances supply
their own `trusted_root.json`. Identity = OIDC issuer + certificate subject (SAN),
matched exactly or by a full-match regular expression. Django-free.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources

from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.x509.oid import ObjectIdentifier
from sigstore.errors import VerificationError
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier
from sigstore_models.trustroot import v1 as trustroot_v1

logger = logging.getLogger(__name__)

PRODUCTION_STORE = "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
MAX_BUNDLE_BYTES = 64 * 1024
MAX_PATTERN_CHARS = 512

_OIDC_ISSUER_OID = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_OIDC_ISSUER_V2_OID = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_OTHERNAME_OID = ObjectIdentifier("1.3.6.1.4.1.57264.1.7")


class TrustRootError(ValueError):
    """A trusted_root.json that cannot be loaded."""


@dataclass(frozen=True)
class SigstoreIdentity:
    """An accepted signer: OIDC issuer (exact) and subject (exact or full-match regex)."""

    issuer: str
    subject: str
    pattern: bool = False

    def __post_init__(self) -> None:
        if self.pattern:
            if len(self.subject) > MAX_PATTERN_CHARS:
                raise ValueError(f"identity pattern longer than {MAX_PATTERN_CHARS} chars")
            try:
                re.compile(self.subject)
            except re.error as exc:
                raise ValueError(f"invalid identity pattern: {exc}") from exc

    def matches(self, *, issuer: str, subjects: Sequence[str]) -> str | None:
        """The first subject this identity accepts, or None."""
        if issuer != self.issuer:
            return None
        for subject in subjects:
            if self.pattern:
                if re.fullmatch(self.subject, subject):
                    return subject
            elif subject == self.subject:
                return subject
        return None


@dataclass(frozen=True)
class SignerIdentity:
    """Who the leaf certificate says signed: the OIDC issuer and every SAN value."""

    issuer: str
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class SigstoreVerification:
    """The outcome of verifying one bundle; `reason` says why when `ok` is false."""

    ok: bool
    reason: str = ""
    issuer: str = ""
    subject: str = ""
    matched: SigstoreIdentity | None = None
    payload_type: str = ""
    payload: bytes = b""
    integrated_time: datetime | None = None


@lru_cache(maxsize=1)
def production_trusted_root_json() -> bytes:
    """The production `trusted_root.json` embedded in the installed sigstore wheel."""
    store = resources.files("sigstore._store") / PRODUCTION_STORE / "trusted_root.json"
    return store.read_bytes()


def trusted_root_load(data: bytes | str) -> TrustedRoot:
    """Parse a `trusted_root.json`; raises TrustRootError with a reason."""
    try:
        json.loads(data)
        inner = trustroot_v1.TrustedRoot.from_json(data)
        root = TrustedRoot(inner)
        # Fail now rather than at the first verification if the root is unusable.
        root.get_fulcio_certs()
    except Exception as exc:  # pydantic, sigstore and JSON errors all mean "bad root"
        raise TrustRootError(f"invalid trusted root: {_short(exc)}") from exc
    return root


def verifier_for(data: bytes | str) -> Verifier:
    """A sigstore Verifier pinned to one `trusted_root.json` (no network, no cache)."""
    return Verifier(trusted_root=trusted_root_load(data))


@lru_cache(maxsize=1)
def production_verifier() -> Verifier:
    """A Verifier for the public-good instance, from the embedded root (offline)."""
    return verifier_for(production_trusted_root_json())


def signer_identity(cert: x509.Certificate) -> SignerIdentity:
    """Extract the OIDC issuer and SAN values from a Fulcio leaf certificate."""
    issuer = ""
    try:
        raw = cert.extensions.get_extension_for_oid(_OIDC_ISSUER_V2_OID).value
        issuer = asn1.decode_der(str, raw.value)  # type: ignore[attr-defined]
    except (x509.ExtensionNotFound, ValueError):
        try:
            raw = cert.extensions.get_extension_for_oid(_OIDC_ISSUER_OID).value
            issuer = raw.value.decode()  # type: ignore[attr-defined]
        except (x509.ExtensionNotFound, UnicodeDecodeError):
            issuer = ""
    subjects: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return SignerIdentity(issuer=issuer, subjects=())
    subjects.extend(san.get_values_for_type(x509.RFC822Name))
    subjects.extend(san.get_values_for_type(x509.UniformResourceIdentifier))
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id == _OTHERNAME_OID:
            subjects.append(other.value.decode(errors="replace"))
    return SignerIdentity(issuer=issuer, subjects=tuple(subjects))


class _IdentityPolicy:
    """A sigstore VerificationPolicy accepting any of our identities (all, when none given)."""

    def __init__(self, identities: Sequence[SigstoreIdentity] | None) -> None:
        self._identities = identities

    def verify(self, cert: x509.Certificate) -> None:
        if self._identities is None:
            return
        signer = signer_identity(cert)
        for identity in self._identities:
            if identity.matches(issuer=signer.issuer, subjects=signer.subjects):
                return
        raise VerificationError(
            f"signer {signer.issuer} {list(signer.subjects)} matches no accepted identity"
        )


def bundle_verify(
    raw: bytes | str,
    *,
    verifier: Verifier,
    identities: Sequence[SigstoreIdentity] | None = None,
    artifact: bytes | None = None,
) -> SigstoreVerification:
    """Verify a bundle offline: a DSSE bundle, or a message signature over `artifact`.

    With `identities=None` any certificate the trust root vouches for is accepted and
    the signer is reported, so the caller can match it against its own principals.
    """
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_BUNDLE_BYTES:
        return SigstoreVerification(ok=False, reason=f"bundle larger than {MAX_BUNDLE_BYTES} B")
    try:
        bundle = Bundle.from_json(raw)
    except Exception as exc:  # malformed input must fail closed, never crash the caller
        return SigstoreVerification(ok=False, reason=f"invalid bundle: {_short(exc)}")
    policy = _IdentityPolicy(identities)
    payload_type, payload = "", b""
    try:
        if artifact is None:
            payload_type, payload = verifier.verify_dsse(bundle, policy)
        else:
            verifier.verify_artifact(artifact, bundle, policy)
    except Exception as exc:  # VerificationError and anything a hostile bundle triggers
        return SigstoreVerification(ok=False, reason=f"verification failed: {_short(exc)}")
    signer = signer_identity(bundle.signing_certificate)
    matched, subject = _first_match(identities, signer)
    integrated = bundle.log_entry._inner.integrated_time
    return SigstoreVerification(
        ok=True,
        issuer=signer.issuer,
        subject=subject,
        matched=matched,
        payload_type=payload_type,
        payload=payload,
        integrated_time=datetime.fromtimestamp(integrated, tz=UTC) if integrated else None,
    )


def _first_match(
    identities: Sequence[SigstoreIdentity] | None, signer: SignerIdentity
) -> tuple[SigstoreIdentity | None, str]:
    for identity in identities or ():
        subject = identity.matches(issuer=signer.issuer, subjects=signer.subjects)
        if subject is not None:
            return identity, subject
    return None, signer.subjects[0] if signer.subjects else ""


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]

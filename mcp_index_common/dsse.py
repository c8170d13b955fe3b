"""DSSE envelopes signed with long-lived keys (Ed25519, ECDSA P-256, ECDSA P-384).

For air-gapped signers. One envelope may carry several signatures; verification reports
the DISTINCT trusted keys that signed it, so a policy never counts one key twice.
Django-free.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from mcp_index_common.statements import INTOTO_PAYLOAD_TYPE, pae

ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-p256"
ECDSA_P384 = "ecdsa-p384"
ALGORITHMS = (ED25519, ECDSA_P256, ECDSA_P384)

MAX_SIGNATURES = 16
MAX_PAYLOAD_BYTES = 32 * 1024

PublicKeyType = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKeyType = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


class KeyLoadError(ValueError):
    """A key that cannot be loaded or is of an unsupported type."""


class EnvelopeError(ValueError):
    """A DSSE envelope that is not well formed."""


@dataclass(frozen=True)
class VerifyingKey:
    """A trusted public key: its id (sha256 of the SPKI DER), algorithm and key object."""

    keyid: str
    algorithm: str
    key: PublicKeyType

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when `signature` over `message` is valid for this key."""
        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, message)
            else:
                self.key.verify(signature, message, ec.ECDSA(_hash_for(self.algorithm)))
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signature:
    """One envelope signature: the keyid hint (may be empty) and the raw signature."""

    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A parsed DSSE envelope."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode(),
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()} for s in self.signatures
            ],
        }


@dataclass(frozen=True)
class DsseVerification:
    """The outcome of checking an envelope against trusted keys."""

    ok: bool
    keyids: tuple[str, ...]
    reason: str = ""


def key_id(public_key: PublicKeyType) -> str:
    """sha256 hex of the key's SubjectPublicKeyInfo DER: a keyid nobody can choose."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_key_load(pem: str | bytes) -> VerifyingKey:
    """Load a PEM public key; only Ed25519 and ECDSA P-256/P-384 are accepted."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        loaded = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyLoadError("not a PEM public key") from exc
    key = _check_public(loaded)
    return VerifyingKey(keyid=key_id(key), algorithm=_algorithm(key), key=key)


def private_key_load(pem: bytes, password: bytes | None = None) -> PrivateKeyType:
    """Load a PEM private key of a supported type."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyLoadError(f"cannot load private key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyLoadError("only Ed25519 and ECDSA P-256/P-384 keys are supported")
    _check_public(key.public_key())
    return key


def public_key_pem(key: PrivateKeyType | PublicKeyType) -> str:
    """The PEM SubjectPublicKeyInfo of a key (private keys give their public half)."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        public: PublicKeyType = key.public_key()
    else:
        public = key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def envelope_sign(
    *, payload: bytes, keys: Sequence[PrivateKeyType], payload_type: str = INTOTO_PAYLOAD_TYPE
) -> Envelope:
    """Sign `payload` with every key in `keys`, one signature each."""
    message = pae(payload_type, payload)
    signatures = []
    for private in keys:
        public = _check_public(private.public_key())
        if isinstance(private, ed25519.Ed25519PrivateKey):
            sig = private.sign(message)
        else:
            sig = private.sign(message, ec.ECDSA(_hash_for(_algorithm(public))))
        signatures.append(Signature(keyid=key_id(public), sig=sig))
    return Envelope(payload_type=payload_type, payload=payload, signatures=tuple(signatures))


def envelope_parse(raw: bytes | str | dict[str, Any]) -> Envelope:
    """Parse a DSSE envelope from JSON; raises EnvelopeError with a reason."""
    data = raw
    if not isinstance(raw, dict):
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise EnvelopeError("envelope is not JSON") from exc
    if not isinstance(data, dict):
        raise EnvelopeError("envelope is not a JSON object")
    payload_type = data.get("payloadType")
    if not isinstance(payload_type, str) or not payload_type:
        raise EnvelopeError("envelope payloadType must be a non-empty string")
    payload = _b64decode(data.get("payload"), "payload")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise EnvelopeError(f"envelope payload larger than {MAX_PAYLOAD_BYTES} bytes")
    raw_sigs = data.get("signatures")
    if not isinstance(raw_sigs, list) or not raw_sigs:
        raise EnvelopeError("envelope must carry at least one signature")
    if len(raw_sigs) > MAX_SIGNATURES:
        raise EnvelopeError(f"envelope carries more than {MAX_SIGNATURES} signatures")
    signatures = []
    for item in raw_sigs:
        if not isinstance(item, dict):
            raise EnvelopeError("envelope signature must be an object")
        keyid = item.get("keyid", "")
        if not isinstance(keyid, str):
            raise EnvelopeError("signature keyid must be a string")
        signatures.append(Signature(keyid=keyid, sig=_b64decode(item.get("sig"), "sig")))
    return Envelope(payload_type=payload_type, payload=payload, signatures=tuple(signatures))


def envelope_verify(envelope: Envelope, keys: Iterable[VerifyingKey]) -> DsseVerification:
    """Check every signature against the trusted keys; report the distinct keys that signed."""
    trusted = list(keys)
    by_id = {k.keyid: k for k in trusted}
    message = pae(envelope.payload_type, envelope.payload)
    verified: list[str] = []
    for signature in envelope.signatures:
        # The keyid is only a hint: the named key is tried first, then every other trusted
        # key (a wrong hint, even one naming another trusted key, neither helps nor hurts).
        hinted = by_id.get(signature.keyid)
        candidates = [hinted, *(k for k in trusted if k is not hinted)] if hinted else trusted
        for key in candidates:
            if key.keyid not in verified and key.verify(signature.sig, message):
                verified.append(key.keyid)
                break
    if not verified:
        return DsseVerification(ok=False, keyids=(), reason="no signature from a trusted key")
    return DsseVerification(ok=True, keyids=tuple(verified))


def _check_public(key: object) -> PublicKeyType:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1):
        return key
    raise KeyLoadError("only Ed25519 and ECDSA P-256/P-384 keys are supported")


def _algorithm(key: PublicKeyType) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ED25519
    return ECDSA_P256 if isinstance(key.curve, ec.SECP256R1) else ECDSA_P384


def _hash_for(algorithm: str) -> hashes.HashAlgorithm:
    return hashes.SHA384() if algorithm == ECDSA_P384 else hashes.SHA256()


def _b64decode(value: object, field: str) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError(f"envelope {field} must be a base64 string")
    try:
        # DSSE allows either the standard or the URL-safe alphabet.
        if "-" in value or "_" in value:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError(f"envelope {field} is not valid base64") from exc

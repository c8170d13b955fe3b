"""The `v=MCPv1; k=…; p=…` key record and the signed-timestamp check shared by HTTP and DNS."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.conf import settings

from registry.proofs.result import ProofError

ALGORITHMS = ("ed25519", "ecdsap384")
_DOMAIN = re.compile(r"^(?=.{4,253}$)((?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class PublicKeyRecord:
    """A parsed key record: algorithm and raw public key bytes."""

    algorithm: str
    key: bytes


def parse_domain(domain: str) -> str:
    """A normalised DNS domain (lower case, no trailing dot) or ProofError."""
    value = (domain or "").strip().rstrip(".").lower()
    if not _DOMAIN.match(value):
        raise ProofError(f"invalid domain {domain!r}: expected a name such as example.com")
    return value


def parse_record(text: str) -> PublicKeyRecord | None:
    """Parse one `v=MCPv1; k=<alg>; p=<base64>` record; None when it is not an MCP record."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields[key.strip().lower()] = value.strip()
    if fields.get("v") != "MCPv1":
        return None
    algorithm = fields.get("k", "").lower()
    if algorithm not in ALGORITHMS:
        raise ProofError(f"key record has unsupported algorithm k={algorithm!r}")
    try:
        raw = base64.b64decode(fields.get("p", ""), validate=True)
    except binascii.Error as exc:
        raise ProofError("key record p= is not valid base64") from exc
    expected = 32 if algorithm == "ed25519" else 49
    if len(raw) != expected:
        raise ProofError(f"key record p= must be a {expected}-byte {algorithm} public key")
    return PublicKeyRecord(algorithm=algorithm, key=raw)


def parse_records(texts: list[str]) -> list[PublicKeyRecord]:
    """Every MCP key record among `texts` (other records are ignored)."""
    return [r for r in (parse_record(t) for t in texts) if r is not None]


def check_timestamp(timestamp: str, *, now: datetime | None = None) -> datetime:
    """Parse an RFC 3339 timestamp and require it within the allowed clock skew of now."""
    try:
        moment = datetime.fromisoformat(timestamp.strip().replace("z", "Z"))
    except (ValueError, AttributeError) as exc:
        raise ProofError("timestamp must be RFC 3339, e.g. 2025-01-01T12:00:00Z") from exc
    if moment.tzinfo is None:
        raise ProofError("timestamp must carry a time zone (e.g. a trailing Z)")
    skew = timedelta(seconds=settings.MCP_INDEX_PROOF_MAX_SKEW_SECONDS)
    current = now or datetime.now(UTC)
    if abs(current - moment) > skew:
        raise ProofError(f"timestamp is outside the allowed window of ±{skew.seconds} s; sign a fresh one")
    return moment


def decode_signature(signed_timestamp: str) -> bytes:
    """The signature bytes from their hex form."""
    try:
        return bytes.fromhex(signed_timestamp.strip())
    except (ValueError, AttributeError) as exc:
        raise ProofError("signed_timestamp must be hex-encoded") from exc


def signature_valid(record: PublicKeyRecord, message: bytes, signature: bytes) -> bool:
    """True when `signature` over `message` verifies with the record's key."""
    try:
        if record.algorithm == "ed25519":
            if len(signature) != 64:
                return False
            Ed25519PublicKey.from_public_bytes(record.key).verify(signature, message)
        else:
            if len(signature) != 96:
                return False
            point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), record.key)
            r = int.from_bytes(signature[:48], "big")
            s = int.from_bytes(signature[48:], "big")
            point.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA384()))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_signed_timestamp(
    records: list[PublicKeyRecord], *, timestamp: str, signed_timestamp: str, where: str
) -> datetime:
    """Check the timestamp window, then that one of `records` signed it; return its time."""
    moment = check_timestamp(timestamp)
    signature = decode_signature(signed_timestamp)
    if not records:
        raise ProofError(f"no v=MCPv1 key record found at {where}")
    message = timestamp.encode()
    if not any(signature_valid(r, message, signature) for r in records):
        raise ProofError(f"signature does not verify with the key published at {where}")
    return moment

"""Keys made on the laptop: namespace-proof login keys (hex, the `v=MCPv1` key record) and
attestation signing keys (PEM, for `mcp-index sign --key`, identified by the registry's keyid)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from mcp_index_cli.errors import EXIT_USAGE, CliError
from mcp_index_common import dsse

ED25519 = "ed25519"
ECDSA_P256 = "ecdsap256"
ECDSA_P384 = "ecdsap384"
ALGORITHMS = (ED25519, ECDSA_P384)  # login keys: what the registry's http/dns proofs accept
SIGNING_ALGORITHMS = (ED25519, ECDSA_P256, ECDSA_P384)  # DSSE signing keys
_PRIVATE_KEY_BYTES = {ED25519: 32, ECDSA_P384: 48}
_P384_COMPONENT = 48


@dataclass(frozen=True)
class SigningKey:
    """A private key for the http/dns namespace proofs, with its algorithm name."""

    algorithm: str
    private: Ed25519PrivateKey | ec.EllipticCurvePrivateKey

    def private_hex(self) -> str:
        """Ed25519: the 32-byte seed; P-384: the 48-byte private scalar (big-endian)."""
        if isinstance(self.private, Ed25519PrivateKey):
            raw = self.private.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            return raw.hex()
        return self.private.private_numbers().private_value.to_bytes(_P384_COMPONENT, "big").hex()

    def public_bytes(self) -> bytes:
        """Ed25519: the raw 32-byte key; P-384: the 49-byte compressed point."""
        if isinstance(self.private, Ed25519PrivateKey):
            return self.private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        return self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )

    def key_record(self) -> str:
        """The exact DNS TXT / well-known line: `v=MCPv1; k=<alg>; p=<base64 public key>`."""
        public = base64.b64encode(self.public_bytes()).decode("ascii")
        return f"v=MCPv1; k={self.algorithm}; p={public}"

    def sign(self, message: bytes) -> bytes:
        """Ed25519: 64 bytes; ECDSA P-384 over SHA-384: 96 bytes R||S, big-endian."""
        if isinstance(self.private, Ed25519PrivateKey):
            return self.private.sign(message)
        der = self.private.sign(message, ec.ECDSA(hashes.SHA384()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(_P384_COMPONENT, "big") + s.to_bytes(_P384_COMPONENT, "big")


def generate(algorithm: str) -> SigningKey:
    """A fresh key for `algorithm` (ed25519 or ecdsap384)."""
    if algorithm == ED25519:
        return SigningKey(ED25519, Ed25519PrivateKey.generate())
    if algorithm == ECDSA_P384:
        return SigningKey(ECDSA_P384, ec.generate_private_key(ec.SECP384R1()))
    raise CliError(f"unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}",
                   code=EXIT_USAGE)


def from_hex(value: str, algorithm: str | None = None) -> SigningKey:
    """Load a hex private key; without `algorithm` it is inferred from the length."""
    cleaned = value.strip().lower().removeprefix("0x")
    try:
        raw = bytes.fromhex(cleaned)
    except ValueError as exc:
        raise CliError("the private key is not valid hex", code=EXIT_USAGE) from exc
    if algorithm is None:
        matches = [name for name, size in _PRIVATE_KEY_BYTES.items() if size == len(raw)]
        if not matches:
            raise CliError(
                f"a private key of {len(raw)} bytes fits no algorithm "
                "(ed25519 takes 32, ecdsap384 takes 48)", code=EXIT_USAGE)
        algorithm = matches[0]
    expected = _PRIVATE_KEY_BYTES.get(algorithm)
    if expected is None:
        raise CliError(f"unknown algorithm {algorithm!r}", code=EXIT_USAGE)
    if len(raw) != expected:
        raise CliError(f"an {algorithm} private key is {expected} bytes ({expected * 2} hex "
                       f"characters), got {len(raw)}", code=EXIT_USAGE)
    if algorithm == ED25519:
        return SigningKey(ED25519, Ed25519PrivateKey.from_private_bytes(raw))
    try:
        private = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP384R1())
    except ValueError as exc:
        raise CliError("the ecdsap384 private key is out of range", code=EXIT_USAGE) from exc
    return SigningKey(ECDSA_P384, private)


def from_file(path: Path, algorithm: str | None = None) -> SigningKey:
    """Load a key file written by `keygen --out` (hex) or an unencrypted PKCS#8 PEM key."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read private key file {path}: {exc.strerror}",
                       code=EXIT_USAGE) from exc
    if b"-----BEGIN" not in data:
        return from_hex(data.decode("ascii", errors="replace"), algorithm)
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CliError(f"{path} is not an unencrypted PEM private key", code=EXIT_USAGE) from exc
    if isinstance(private, Ed25519PrivateKey):
        key = SigningKey(ED25519, private)
    elif isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(
        private.curve, ec.SECP384R1
    ):
        key = SigningKey(ECDSA_P384, private)
    else:
        raise CliError(f"{path} holds neither an Ed25519 nor a P-384 key", code=EXIT_USAGE)
    if algorithm is not None and algorithm != key.algorithm:
        raise CliError(f"{path} holds an {key.algorithm} key, not {algorithm}", code=EXIT_USAGE)
    return key


# --- attestation signing keys ----------------------------------------------------------


@dataclass(frozen=True)
class AttestationKey:
    """A private key for DSSE attestations, stored as unencrypted PKCS#8 PEM."""

    algorithm: str
    private: dsse.PrivateKeyType

    def private_pem(self) -> str:
        """The PKCS#8 PEM that `sign --key` reads."""
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def public_pem(self) -> str:
        """The SubjectPublicKeyInfo PEM to register as a key principal."""
        return dsse.public_key_pem(self.private)

    def keyid(self) -> str:
        """sha256 of the public key's SPKI DER: the keyid the registry computes for it."""
        return dsse.key_id(self.private.public_key())


def generate_attestation_key(algorithm: str) -> AttestationKey:
    """A fresh signing key for `algorithm` (ed25519, ecdsap256 or ecdsap384)."""
    if algorithm == ED25519:
        return AttestationKey(ED25519, Ed25519PrivateKey.generate())
    curves = {ECDSA_P256: ec.SECP256R1(), ECDSA_P384: ec.SECP384R1()}
    if algorithm not in curves:
        raise CliError(f"unknown signing algorithm {algorithm!r}; use one of "
                       f"{', '.join(SIGNING_ALGORITHMS)}", code=EXIT_USAGE)
    return AttestationKey(algorithm, ec.generate_private_key(curves[algorithm]))

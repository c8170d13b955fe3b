"""A test-only private sigstore instance whose bundles the real verifier accepts offline.

It plays all three services: a "Fulcio" CA (P-384) issuing short-lived leaf certificates
with an embedded precertificate SCT from its own CT log key, and a Rekor-v1-shaped log
that returns a one-leaf inclusion proof with a signed checkpoint and a signed entry
timestamp (SET). Bundles are media type v0.3 with a `dsse` 0.0.1 log entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from datetime import UTC, datetime, timedelta

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from mcp_index_common.statements import INTOTO_PAYLOAD_TYPE, pae

LOG_ORIGIN = "rekor.fake.invalid"
_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
_NO_KU = {
    "content_commitment": False,
    "key_encipherment": False,
    "data_encipherment": False,
    "key_agreement": False,
    "encipher_only": False,
    "decipher_only": False,
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _utf8string(text: str) -> bytes:
    raw = text.encode()
    return b"\x0c" + _der_length(len(raw)) + raw


def _octet_string(raw: bytes) -> bytes:
    return b"\x04" + _der_length(len(raw)) + raw


class FakeSigstore:
    """One private sigstore instance; `trusted_root()` pins it, `sign_dsse()` signs."""

    def __init__(self, *, now: datetime | None = None, name: str = "fake") -> None:
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self.name = name
        self.ca_key = ec.generate_private_key(ec.SECP384R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.log_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{name}-fulcio"),
            ]
        )
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(self.ca_subject)
            .issuer_name(self.ca_subject)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - timedelta(days=1))
            .not_valid_after(self.now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(
                x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **_NO_KU),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False
            )
            .sign(self.ca_key, hashes.SHA384())
        )
        self._log_id = hashlib.sha256(_spki(self.log_key.public_key())).digest()
        self._next_index = 0

    # --- the trust root a verifier pins -------------------------------------------------

    def trusted_root(self) -> dict:
        """The `trusted_root.json` document for this instance."""
        start = (self.now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def public_key(key: ec.EllipticCurvePrivateKey) -> dict:
            return {
                "rawBytes": _b64(_spki(key.public_key())),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": start},
            }

        ct_id = hashlib.sha256(_spki(self.ct_key.public_key())).digest()
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [
                {
                    "baseUrl": f"https://{LOG_ORIGIN}",
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": public_key(self.log_key),
                    "logId": {"keyId": _b64(self._log_id)},
                }
            ],
            "certificateAuthorities": [
                {
                    "subject": {"organization": self.name, "commonName": f"{self.name}-fulcio"},
                    "uri": f"https://fulcio.{self.name}.invalid",
                    "certChain": {
                        "certificates": [
                            {"rawBytes": _b64(self.ca_cert.public_bytes(serialization.Encoding.DER))}
                        ]
                    },
                    "validFor": {"start": start},
                }
            ],
            "ctlogs": [
                {
                    "baseUrl": f"https://ct.{self.name}.invalid",
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": public_key(self.ct_key),
                    "logId": {"keyId": _b64(ct_id)},
                }
            ],
            "timestampAuthorities": [],
        }

    def trusted_root_json(self) -> str:
        return json.dumps(self.trusted_root())

    # --- "Fulcio": a leaf certificate with an embedded SCT ------------------------------

    def _leaf(self, key: ec.EllipticCurvePrivateKey, identity: str, issuer: str) -> x509.Certificate:
        if "://" in identity:
            san: x509.GeneralName = x509.UniformResourceIdentifier(identity)
        else:
            san = x509.RFC822Name(identity)
        serial = x509.random_serial_number()

        def builder() -> x509.CertificateBuilder:
            return (
                x509.CertificateBuilder()
                .subject_name(x509.Name([]))
                .issuer_name(self.ca_subject)
                .public_key(key.public_key())
                .serial_number(serial)
                .not_valid_before(self.now - timedelta(minutes=1))
                .not_valid_after(self.now + timedelta(minutes=10))
                .add_extension(
                    x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **_NO_KU),
                    critical=True,
                )
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                    critical=False,
                )
                .add_extension(x509.SubjectAlternativeName([san]), critical=True)
                .add_extension(x509.UnrecognizedExtension(_ISSUER_V1, issuer.encode()), critical=False)
                .add_extension(x509.UnrecognizedExtension(_ISSUER_V2, _utf8string(issuer)), critical=False)
            )

        # RFC 6962: the CT log signs the precertificate TBS (the leaf without the SCT list).
        precert_tbs = builder().sign(self.ca_key, hashes.SHA256()).tbs_certificate_bytes
        timestamp_ms = int(self.now.timestamp() * 1000)
        issuer_key_hash = hashlib.sha256(_spki(self.ca_key.public_key())).digest()
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp_ms, 1)  # v1, certificate_timestamp, precert
            + issuer_key_hash
            + len(precert_tbs).to_bytes(3, "big")
            + precert_tbs
            + b"\x00\x00"  # no extensions
        )
        sig = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        ct_id = hashlib.sha256(_spki(self.ct_key.public_key())).digest()
        sct = (
            b"\x00"
            + ct_id
            + struct.pack("!QH", timestamp_ms, 0)
            + struct.pack("!BBH", 4, 3, len(sig))
            + sig  # sha256 + ecdsa
        )
        sct_list = struct.pack("!HH", len(sct) + 2, len(sct)) + sct
        cert = (
            builder()
            .add_extension(x509.UnrecognizedExtension(_SCT_LIST, _octet_string(sct_list)), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )
        assert cert.tbs_precertificate_bytes == precert_tbs
        return cert

    # --- "Rekor": a v1-shaped entry with inclusion proof, checkpoint and SET -------------

    def _log_entry(self, kind: str, body: bytes) -> dict:
        index = self._next_index
        self._next_index += 1
        integrated = int(self.now.timestamp())
        root = hashlib.sha256(b"\x00" + body).digest()  # a one-leaf tree: root = leaf hash
        note = f"{LOG_ORIGIN} - 1\n1\n{_b64(root)}\n"
        note_sig = self.log_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint = f"{note}\n\u2014 {LOG_ORIGIN} {_b64(self._log_id[:4] + note_sig)}\n"
        promise = rfc8785.dumps(
            {
                "body": _b64(body),
                "integratedTime": integrated,
                "logID": self._log_id.hex(),
                "logIndex": index,
            }
        )
        return {
            "logIndex": str(index),
            "logId": {"keyId": _b64(self._log_id)},
            "kindVersion": {"kind": kind, "version": "0.0.1"},
            "integratedTime": str(integrated),
            "inclusionPromise": {
                "signedEntryTimestamp": _b64(self.log_key.sign(promise, ec.ECDSA(hashes.SHA256())))
            },
            "inclusionProof": {
                "logIndex": "0",
                "rootHash": _b64(root),
                "treeSize": "1",
                "hashes": [],
                "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": _b64(body),
        }

    def sign_dsse(
        self, payload: bytes, *, identity: str, issuer: str, payload_type: str = INTOTO_PAYLOAD_TYPE
    ) -> str:
        """Sign `payload` as `identity` (issued by `issuer`); returns the bundle JSON."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self._leaf(key, identity, issuer)
        sig = key.sign(pae(payload_type, payload), ec.ECDSA(hashes.SHA256()))
        envelope = {
            "payload": _b64(payload),
            "payloadType": payload_type,
            "signatures": [{"sig": _b64(sig)}],
        }
        body = rfc8785.dumps(
            {
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(rfc8785.dumps(envelope)).hexdigest(),
                    },
                    "payloadHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(payload).hexdigest(),
                    },
                    "signatures": [
                        {
                            "signature": _b64(sig),
                            "verifier": _b64(cert.public_bytes(serialization.Encoding.PEM)),
                        }
                    ],
                },
            }
        )
        return json.dumps(
            {
                "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "verificationMaterial": {
                    "certificate": {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))},
                    "tlogEntries": [self._log_entry("dsse", body)],
                },
                "dsseEnvelope": envelope,
            }
        )

"""Test identities: domain signing keys (as mcp-publisher makes them) and a fake OIDC issuer."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.support.loopback import FakeHTTPServer, Reply


def now_rfc3339(offset: float = 0) -> str:
    """The current time as mcp-publisher formats it (UTC, seconds, trailing Z)."""
    return datetime.fromtimestamp(time.time() + offset, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DomainKey:
    """An Ed25519 or P-384 key: the record line to publish and signatures over timestamps."""

    def __init__(self, algorithm: str = "ed25519") -> None:
        self.algorithm = algorithm
        if algorithm == "ed25519":
            self.private: Any = Ed25519PrivateKey.generate()
            public = self.private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        else:
            self.private = ec.generate_private_key(ec.SECP384R1())
            public = self.private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
            )
        self.record = f"v=MCPv1; k={algorithm}; p={base64.b64encode(public).decode()}"

    def sign(self, message: str) -> str:
        """Hex signature: Ed25519 (64 bytes) or ECDSA P-384 over SHA-384 as R||S (96 bytes)."""
        if self.algorithm == "ed25519":
            return self.private.sign(message.encode()).hex()
        der = self.private.sign(message.encode(), ec.ECDSA(hashes.SHA384()))
        r, s = decode_dss_signature(der)
        return (r.to_bytes(48, "big") + s.to_bytes(48, "big")).hex()

    def body(self, domain: str, *, offset: float = 0) -> dict[str, str]:
        """The exact body mcp-publisher posts to /v0/auth/{http,dns}."""
        timestamp = now_rfc3339(offset)
        return {"domain": domain, "timestamp": timestamp, "signed_timestamp": self.sign(timestamp)}


class FakeIssuer:
    """An OIDC issuer on loopback: discovery document, JWKS (EC P-256), and token minting."""

    def __init__(self, server: FakeHTTPServer) -> None:
        self.server = server
        self.issuer = server.url
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid = uuid.uuid4().hex[:12]
        self.publish_keys([self.key])
        server.route(
            "/.well-known/openid-configuration",
            Reply.json({"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks"}),
        )

    def publish_keys(self, keys: list[Any], kids: list[str] | None = None) -> None:
        entries = []
        for key, kid in zip(keys, kids or [self.kid], strict=True):
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
            entries.append({**jwk, "kid": kid, "use": "sig", "alg": "ES256"})
        self.server.route("/jwks", Reply.json({"keys": entries}))

    def mint(self, *, key: Any = None, kid: str | None = None, **claims: Any) -> str:
        """A signed ID token; claims default to a fresh, valid token from this issuer."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            "sub": "subject",
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.key, algorithm="ES256", headers={"kid": kid or self.kid})

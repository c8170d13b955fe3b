"""Short-lived registry JWTs (EdDSA / Ed25519), signed with the key from settings."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from registry.auth.permissions import ACTIONS, Permission

ANONYMOUS_METHOD = "none"  # POST /auth/none: no proof at all


class TokenError(Exception):
    """A registry token that is malformed, badly signed or expired."""


@dataclass(frozen=True)
class IssuedToken:
    """A registry token as the auth endpoints return it."""

    registry_token: str
    expires_at: int

    def as_response(self) -> dict[str, object]:
        return {"registry_token": self.registry_token, "expires_at": self.expires_at}


@dataclass(frozen=True)
class TokenClaims:
    """The verified content of a registry token."""

    auth_method: str
    subject: str
    permissions: tuple[Permission, ...]


@lru_cache(maxsize=4)
def _keys(seed_hex: str) -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    try:
        seed = bytes.fromhex(seed_hex)
    except ValueError as exc:
        raise TokenError("MCP_INDEX_JWT_PRIVATE_KEY is not hex") from exc
    if len(seed) != 32:
        raise TokenError("MCP_INDEX_JWT_PRIVATE_KEY must be a 32-byte hex seed")
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return private, private.public_key()


def anonymous_subject() -> str:
    """A fresh subject for one anonymous login: anonymous callers never share an actor, so
    none can list or revoke the API tokens another one made."""
    return "anonymous-" + secrets.token_hex(8)


def issue_token(
    *, auth_method: str, subject: str, permissions: list[Permission], ttl: int | None = None
) -> IssuedToken:
    """Sign a registry JWT granting `permissions`; expires after MCP_INDEX_JWT_TTL_SECONDS."""
    private, _ = _keys(settings.MCP_INDEX_JWT_PRIVATE_KEY)
    now = int(time.time())
    expires_at = now + (ttl if ttl is not None else settings.MCP_INDEX_JWT_TTL_SECONDS)
    claims = {
        "iss": settings.MCP_INDEX_JWT_ISSUER,
        "iat": now,
        "nbf": now,
        "exp": expires_at,
        "auth_method": auth_method,
        "auth_method_sub": subject,
        "permissions": [p.as_claim() for p in permissions],
    }
    token = jwt.encode(claims, private, algorithm="EdDSA")
    return IssuedToken(registry_token=token, expires_at=expires_at)


def verify_token(token: str) -> TokenClaims:
    """Check signature, issuer and expiry; return the claims or raise TokenError."""
    _, public = _keys(settings.MCP_INDEX_JWT_PRIVATE_KEY)
    try:
        claims = jwt.decode(
            token,
            public,
            algorithms=["EdDSA"],
            issuer=settings.MCP_INDEX_JWT_ISSUER,
            options={"require": ["exp", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token has expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from exc
    raw = claims.get("permissions") or []
    if not isinstance(raw, list):
        raise TokenError("invalid token: permissions claim is not a list")
    perms = []
    for item in raw:
        if not isinstance(item, dict) or item.get("action") not in ACTIONS:
            raise TokenError("invalid token: malformed permission")
        perms.append(Permission(str(item["action"]), str(item.get("resource", ""))))
    return TokenClaims(
        auth_method=str(claims.get("auth_method", "")),
        subject=str(claims.get("auth_method_sub", "")),
        permissions=tuple(perms),
    )

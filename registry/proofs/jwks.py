"""OIDC ID-token verification against an issuer's JWKS (discovered, cached, rotation-aware)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
from django.conf import settings
from django.core.cache import cache

from registry.proofs.replay import proof_use_record
from registry.proofs.result import ProofError

# Asymmetric algorithms only: `none` and HMAC (keyed with a public value) are never accepted.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
_MAX_DOCUMENT_BYTES = 256 * 1024
_LEEWAY_SECONDS = 30


def _get_json(url: str) -> dict[str, Any]:
    """GET a JSON object from an operator-configured issuer URL."""
    try:
        response = httpx.get(
            url,
            timeout=settings.MCP_INDEX_PROOF_FETCH_TIMEOUT_SECONDS,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise ProofError(f"could not reach the OIDC issuer at {url}: {type(exc).__name__}") from exc
    if response.status_code != 200 or len(response.content) > _MAX_DOCUMENT_BYTES:
        raise ProofError(f"OIDC issuer document {url} answered HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError as exc:
        raise ProofError(f"OIDC issuer document {url} is not JSON") from exc
    if not isinstance(document, dict):
        raise ProofError(f"OIDC issuer document {url} is not a JSON object")
    return document


def _cache_key(issuer: str) -> str:
    return "mcp-index:jwks:" + hashlib.sha256(issuer.encode()).hexdigest()


def fetch_jwks(issuer: str, *, refresh: bool = False) -> dict[str, Any]:
    """The issuer's JWKS via `<issuer>/.well-known/openid-configuration`, cached."""
    key = _cache_key(issuer)
    if not refresh:
        cached = cache.get(key)
        if cached is not None:
            return json.loads(cached)
    config = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if config.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        raise ProofError(f"OIDC discovery document does not name {issuer} as its issuer")
    jwks_uri = config.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise ProofError("OIDC discovery document has no usable jwks_uri")
    jwks = _get_json(jwks_uri)
    cache.set(key, json.dumps(jwks), settings.MCP_INDEX_OIDC_JWKS_CACHE_SECONDS)
    return jwks


def signing_key(jwks: dict[str, Any], kid: str | None, alg: str) -> Any | None:
    """The JWKS entry for `kid` usable with `alg` (any signing key when kid is None)."""
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if kid is not None and entry.get("kid") != kid:
            continue
        try:
            return jwt.PyJWK(entry, algorithm=alg).key
        except jwt.PyJWTError:
            continue
    return None


def unverified_issuer(token: str) -> str:
    """The `iss` claim before verification (only to pick which issuer verifies it)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise ProofError("oidc_token is not a well-formed JWT") from exc
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise ProofError("oidc_token has no issuer (iss) claim")
    return issuer


def verify_id_token(token: str, *, issuer: str, audiences: Iterable[str], method: str) -> dict[str, Any]:
    """Verify signature, issuer, audience and lifetime; record it against replay; return claims."""
    audiences = [a for a in audiences if a]
    if not audiences:
        raise ProofError("no OIDC audience is configured for this registry")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ProofError("oidc_token is not a well-formed JWT") from exc
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise ProofError(f"oidc_token algorithm {alg!r} is not accepted")
    kid = header.get("kid")
    key = signing_key(fetch_jwks(issuer), kid, alg)
    if key is None:  # the issuer may have rotated its keys since we cached them
        key = signing_key(fetch_jwks(issuer, refresh=True), kid, alg)
    if key is None:
        raise ProofError("oidc_token was signed with a key the issuer does not publish")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=audiences,
            issuer=issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise ProofError("oidc_token has expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise ProofError(f"oidc_token audience must be one of: {', '.join(audiences)}") from exc
    except jwt.InvalidIssuerError as exc:
        raise ProofError(f"oidc_token issuer must be {issuer}") from exc
    except jwt.InvalidSignatureError as exc:
        raise ProofError("oidc_token signature does not verify") from exc
    except jwt.PyJWTError as exc:
        raise ProofError(f"oidc_token is invalid: {exc}") from exc
    jti = claims.get("jti")
    material = f"{issuer}\0{jti}" if jti else hashlib.sha256(token.encode()).hexdigest()
    proof_use_record(
        method=method,
        material=material,
        expires_at=datetime.fromtimestamp(int(claims["exp"]) + _LEEWAY_SECONDS, tz=UTC),
    )
    return claims

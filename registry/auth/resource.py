"""The registry as an OAuth 2.1 resource server (the registry authorization spec).

Each base URL a client can be pointed at is a protected resource: the registry itself
(`https://host`) and every catalog (`https://host/c/<slug>`). An access token is a JWT from
the company's IdP (MCP_INDEX_OAUTH_ISSUER), verified against the issuer's JWKS (discovered
and cached by registry.proofs.jwks), whose audience is the resource being read, and whose
scopes include `mcp-registry:read` (reads) or `mcp-registry:write` (writes). The user's
groups become catalog roles through MCP_INDEX_OAUTH_GROUP_ROLES. A 401 names the resource's
metadata document (RFC 9728) in `WWW-Authenticate`, which is how a client finds the IdP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.http import HttpRequest

from registry.proofs.jwks import ALGORITHMS, fetch_jwks, signing_key
from registry.proofs.result import ProofError

READ_SCOPE = "mcp-registry:read"
WRITE_SCOPE = "mcp-registry:write"
SCOPES = (READ_SCOPE, WRITE_SCOPE)
METADATA_PATH = "/.well-known/oauth-protected-resource"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CATALOG_PATH = re.compile(r"^/c/(?P<slug>[a-z0-9][a-z0-9-]*)(?:/|$)")
_LEEWAY_SECONDS = 30


class TokenRejected(Exception):
    """An access token that does not verify; the message is safe to show (error_description)."""


@dataclass(frozen=True)
class AccessToken:
    """A verified IdP access token: who, which OAuth scopes, which catalog roles."""

    subject: str
    scopes: frozenset[str]
    roles: tuple[str, ...]  # catalog scopes, `catalog:<slug|*>:<role>`
    expires_at: int


def enabled() -> bool:
    return bool(settings.MCP_INDEX_OAUTH_ISSUER)


def base_url(request: HttpRequest) -> str:
    """The registry's public base URL: the setting, else the request's scheme and host."""
    return settings.MCP_INDEX_PUBLIC_URL or f"{request.scheme}://{request.get_host()}"


def resource_path(path: str) -> str:
    """`/c/<slug>` for a catalog's URLs, `` for everything else (the registry itself)."""
    match = _CATALOG_PATH.match(path)
    return f"/c/{match.group('slug')}" if match else ""


def resource_url(request: HttpRequest, path: str | None = None) -> str:
    """The resource identifier (the audience tokens must carry) for a request's URL."""
    return base_url(request) + resource_path(request.path if path is None else path)


def metadata_url(request: HttpRequest, path: str | None = None) -> str:
    """Where the resource's RFC 9728 metadata is: the well-known path before the resource's."""
    return base_url(request) + METADATA_PATH + resource_path(request.path if path is None else path)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def challenge(request: HttpRequest, *, error: str = "", description: str = "",
              scope: str = "") -> str:
    """A `WWW-Authenticate` value (RFC 6750 with RFC 9728's resource_metadata)."""
    params: list[str] = []
    if error:
        params.append(f"error={_quoted(error)}")
    if description:
        params.append(f"error_description={_quoted(description[:200])}")
    if enabled():
        params.append(f"resource_metadata={_quoted(metadata_url(request))}")
        params.append(f"scope={_quoted(scope or required_scope(request))}")
    return "Bearer " + ", ".join(params) if params else "Bearer"


def required_scope(request: HttpRequest) -> str:
    """`mcp-registry:read` for reads, `mcp-registry:write` for anything else."""
    return READ_SCOPE if request.method in SAFE_METHODS else WRITE_SCOPE


def metadata(request: HttpRequest, path: str, *, name: str) -> dict[str, Any]:
    """The protected-resource metadata document of the resource at `path` (RFC 9728 §2)."""
    servers = settings.MCP_INDEX_OAUTH_AUTHORIZATION_SERVERS or [settings.MCP_INDEX_OAUTH_ISSUER]
    return {
        "resource": resource_url(request, path),
        "authorization_servers": list(servers),
        "scopes_supported": list(SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": name,
        "resource_documentation": base_url(request) + "/guide/",
    }


def is_access_token(value: str) -> bool:
    """Whether a bearer value is a JWT issued by the configured IdP (unverified: only to
    choose which verification applies; registry JWTs name the registry as issuer)."""
    if not enabled() or value.count(".") != 2:
        return False
    try:
        claims = jwt.decode(value, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    issuer = claims.get("iss")
    return isinstance(issuer, str) and issuer.rstrip("/") == settings.MCP_INDEX_OAUTH_ISSUER.rstrip("/")


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    """OAuth scopes from `scope` (RFC 9068: space-separated) or `scp` (a list, Entra/Okta)."""
    raw = claims.get("scope", claims.get("scp", ""))
    items = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return frozenset(s for s in items if isinstance(s, str))


def roles_for(groups: Any) -> tuple[str, ...]:
    """Catalog scopes granted to these groups by MCP_INDEX_OAUTH_GROUP_ROLES."""
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return ()
    mapping = settings.MCP_INDEX_OAUTH_GROUP_ROLES
    roles: list[str] = []
    for group in groups:
        granted = mapping.get(group, []) if isinstance(group, str) else []
        for role in [granted] if isinstance(granted, str) else granted:
            if isinstance(role, str) and role not in roles:
                roles.append(role)
    return tuple(roles)


def verify_access_token(token: str, *, audience: str) -> AccessToken:
    """Signature (the IdP's JWKS), issuer, audience, lifetime; TokenRejected otherwise."""
    issuer = settings.MCP_INDEX_OAUTH_ISSUER
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenRejected("the access token is not a well-formed JWT") from exc
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise TokenRejected(f"access token algorithm {alg!r} is not accepted")
    try:
        key = signing_key(fetch_jwks(issuer), header.get("kid"), alg)
        if key is None:  # the IdP may have rotated its keys since we cached them
            key = signing_key(fetch_jwks(issuer, refresh=True), header.get("kid"), alg)
    except ProofError as exc:
        raise TokenRejected(f"the identity provider's keys could not be read: {exc}") from exc
    if key is None:
        raise TokenRejected("the access token was signed with a key the issuer does not publish")
    try:
        claims = jwt.decode(token, key, algorithms=[alg], audience=audience, issuer=issuer,
                            leeway=_LEEWAY_SECONDS,
                            options={"require": ["exp", "iss", "aud", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("the access token has expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenRejected(f"the access token's audience must be {audience}") from exc
    except jwt.PyJWTError as exc:
        raise TokenRejected(f"the access token is invalid: {exc}") from exc
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > 200:
        raise TokenRejected("the access token's subject (sub) must be a non-empty string")
    return AccessToken(subject=subject, scopes=_scopes(claims),
                       roles=roles_for(claims.get(settings.MCP_INDEX_OAUTH_GROUPS_CLAIM)),
                       expires_at=int(claims["exp"]))

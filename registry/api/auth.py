"""Bearer authentication: a registry JWT or a long-lived API token, as one Caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from registry.api.errors import Problem
from registry.auth import resource
from registry.auth.jwt import TokenError, verify_token
from registry.auth.permissions import EDIT, PUBLISH, Permission, has_permission, patterns_for
from registry.models import ApiToken
from registry.services import TOKEN_PREFIX, token_authenticate


@dataclass(frozen=True)
class Caller:
    """Who is calling and what they may do."""

    auth_method: str
    subject: str
    permissions: tuple[Permission, ...]
    token: ApiToken | None = None
    scopes: tuple[str, ...] = field(default_factory=tuple)
    expires_at: int | None = None

    @property
    def actor(self) -> str:
        return f"{self.auth_method}:{self.subject}"

    @property
    def is_admin(self) -> bool:
        """A registry administrator: edit granted on the literal pattern `*` (not merely on
        names that happen to match it), the one definition every admin-only endpoint uses."""
        return "*" in patterns_for(self.permissions, EDIT)

    def can(self, action: str, name: str) -> bool:
        return has_permission(self.permissions, action, name)

    def require(self, action: str, name: str) -> None:
        """403 unless a grant covers `name`; the message lists the caller's patterns."""
        if action == PUBLISH and self.can(PUBLISH, name):
            return
        if action == EDIT and self.can(EDIT, name):
            return
        patterns = patterns_for(self.permissions, action)
        raise Problem(403, f"You do not have {action} permission for {name}. "
                      f"Your token grants {action} on: {', '.join(patterns) or 'nothing'}")


def _caller_from_token(token: ApiToken) -> Caller:
    perms = [Permission(PUBLISH, p) for p in token.patterns]
    if token.can_edit:
        perms += [Permission(EDIT, p) for p in token.patterns]
    expires = int(token.expires_at.timestamp()) if token.expires_at else None
    return Caller("token", f"{token.name}#{token.pk}", tuple(perms), token=token,
                  scopes=tuple(token.scopes), expires_at=expires)


def caller_from_header(header: str) -> Caller | None:
    """Parse an Authorization header value; None when absent, Problem(401) when bad."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Problem(401, "Invalid Authorization header format. Expected 'Bearer <token>'")
    value = value.strip()
    if value.startswith(TOKEN_PREFIX):
        token = token_authenticate(value)
        if token is None:
            raise Problem(401, "Invalid, expired or revoked API token")
        return _caller_from_token(token)
    try:
        claims = verify_token(value)
    except TokenError as exc:
        raise Problem(401, f"Invalid or expired Registry JWT token: {exc}") from exc
    return Caller(claims.auth_method, claims.subject, claims.permissions)


def caller_from_access_token(request: Request, value: str) -> Caller:
    """An IdP access token (the registry as OAuth resource server) as a Caller: audience the
    resource of this URL, the scope this method needs, catalog roles from the user's groups.
    401 with the RFC 6750 error when it does not verify, 403 insufficient_scope."""
    try:
        token = resource.verify_access_token(value, audience=resource.resource_url(request))
    except resource.TokenRejected as exc:
        raise Problem(401, f"Invalid access token: {exc}", headers={
            "WWW-Authenticate": resource.challenge(request, error="invalid_token",
                                                   description=str(exc))}) from exc
    needed = resource.required_scope(request)
    if needed not in token.scopes:
        raise Problem(403, f"The access token lacks the scope {needed}", headers={
            "WWW-Authenticate": resource.challenge(request, error="insufficient_scope",
                                                   scope=needed)})
    return Caller("oauth", token.subject, (), scopes=token.roles, expires_at=token.expires_at)


class BearerAuthentication(BaseAuthentication):
    """DRF authentication: sets request.auth to a Caller (request.user stays None)."""

    def authenticate(self, request: Request) -> tuple[Any, Caller] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and resource.is_access_token(value.strip()):
            return None, caller_from_access_token(request, value.strip())
        caller = caller_from_header(header)
        return None if caller is None else (None, caller)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


def require_caller(request: Request) -> Caller:
    """The authenticated caller, or a 401 problem."""
    caller = request.auth
    if not isinstance(caller, Caller):
        raise Problem(401, "Authentication required: send 'Authorization: Bearer <token>'")
    return caller

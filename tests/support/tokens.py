"""Registry JWTs for tests (what /v0/auth/* would issue)."""

from __future__ import annotations

from registry.auth.jwt import issue_token
from registry.auth.permissions import EDIT, PUBLISH, Permission


def bearer(patterns: list[str], *, edit: bool = True, ttl: int | None = None) -> str:
    """A registry JWT granting publish (and, unless edit=False, edit) on `patterns`."""
    perms = [Permission(PUBLISH, p) for p in patterns]
    if edit:
        perms += [Permission(EDIT, p) for p in patterns]
    return issue_token(auth_method="test", subject="tester", permissions=perms,
                       ttl=ttl).registry_token

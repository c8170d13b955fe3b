"""Who a bearer credential proves to be, checked without side effects: rate limits key on it."""

from __future__ import annotations

import hashlib
import time

from django.db import DatabaseError

from registry.auth.jwt import ANONYMOUS_METHOD, TokenError, verify_token
from registry.services import TOKEN_PREFIX, token_live_id

# A live API token is looked up once per process per minute, not on every request; a token
# revoked meanwhile still gets its own bucket for at most that long (authentication itself
# always asks the database).
_API_TOKEN_SECONDS = 60.0
_API_TOKEN_ENTRIES = 4096
_api_tokens: dict[str, tuple[str, float]] = {}


def credential_identity(header: str) -> str | None:
    """A stable identity for an `Authorization` value whose credential verifies, else None.

    Parsed as authentication parses it (`Bearer <token>`, scheme case-insensitive, padding
    ignored), so a header cannot be written two ways to get two identities. Anonymous tokens
    are no identity: anyone can mint any number of them.
    """
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return None
    if value.startswith(TOKEN_PREFIX):
        return _api_token_identity(value)
    try:
        claims = verify_token(value)
    except TokenError:
        return None
    if claims.auth_method == ANONYMOUS_METHOD:
        return None
    return f"jwt:{claims.auth_method}:{claims.subject}"


def _api_token_identity(secret: str) -> str | None:
    digest = hashlib.sha256(secret.encode()).hexdigest()  # cache key only, never stored
    now = time.monotonic()
    cached = _api_tokens.get(digest)
    if cached is not None and cached[1] > now:
        return cached[0]
    try:
        token_id = token_live_id(secret)
    except DatabaseError:  # a cached read must still be served: the IP's bucket it is
        return None
    if token_id is None:
        _api_tokens.pop(digest, None)
        return None
    if len(_api_tokens) >= _API_TOKEN_ENTRIES:
        _api_tokens.clear()
    identity = f"token:{token_id}"
    _api_tokens[digest] = (identity, now + _API_TOKEN_SECONDS)
    return identity

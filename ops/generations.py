"""Per-catalog generations: a token in Redis that every change to a catalog replaces.

Cached read responses are keyed by the generation of the catalog they were read from (and
a global one for changes that touch every catalog, such as trust configuration), so a
bump makes every cached page of that catalog unreachable at once; stale entries expire.

A bump deletes the token; the next reader mints a fresh random one. Writers bump twice:
immediately (so code that reads inside the writing transaction sees its own change) and
again when the transaction commits (so a reader that cached pre-commit data between the
two bumps is invalidated too). A token therefore never outlives data it was read with.

The token's value also records whether the catalog is readable without a token, the one
fact the cache needs before it may answer without asking the database, and when it lapses
if an app bounded its lifetime (register_lifetime): past that it counts as bumped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ops import redis as shared_redis

GLOBAL = "*"
BUILTIN = "all"
_PREFIX = "mcpidx:gen:"

# slug -> is that scope readable without a token (None: no such scope).
VisibilityLookup = Callable[[str], bool | None]
_lookups: list[VisibilityLookup] = []


def register_visibility(lookup: VisibilityLookup) -> None:
    """Let an app say which scopes exist and which are public (curation: its catalogs).

    Called from an AppConfig.ready; registering the same lookup again changes nothing. The
    built-in `all` scope always exists and is public; any other slug is asked of each lookup
    in turn, and one no lookup knows is not cached.
    """
    if lookup not in _lookups:
        _lookups.append(lookup)


def visibility(slug: str) -> bool | None:
    """Whether the scope is readable without a token; None when no such scope exists."""
    if slug == BUILTIN:
        return True
    for lookup in _lookups:
        public = lookup(slug)
        if public is not None:
            return public
    return None


# slug -> seconds a new token of that scope may live at most (None: until bumped).
LifetimeLookup = Callable[[str], float | None]
_lifetimes: list[LifetimeLookup] = []


def register_lifetime(lookup: LifetimeLookup) -> None:
    """Let an app bound how long a scope's cached reads may live (curation: until the first
    trust deadline of a catalog's listed entries, so no cached page outlives a membership
    that lapses with time). Called from an AppConfig.ready; the shortest bound wins."""
    if lookup not in _lifetimes:
        _lifetimes.append(lookup)


def lifetime(slug: str) -> float | None:
    """Seconds a token minted now for this scope may live; None when nothing bounds it
    (the built-in `all` scope is never bounded)."""
    if slug == BUILTIN:
        return None
    bounds = [b for b in (lookup(slug) for lookup in _lifetimes) if b is not None]
    return min(bounds) if bounds else None


@dataclass(frozen=True)
class Generation:
    token: str  # the catalog's token and the global token, joined
    public: bool


def key(slug: str) -> str:
    """The Redis key of a scope's token (ops.fastpath reads it inside a script)."""
    return _PREFIX + slug


_key = key

# The environ key under which ops.fastpath leaves the generation its script read, so that the
# layers after it (serving.api.direct, ResponseCacheMiddleware) need not read it again.
SEEN = "mcpidx.generation"


def current(slug: str) -> Generation | None:
    """The catalog's generation (minting one if needed); None when Redis is unavailable or
    the catalog does not exist."""
    client = shared_redis.client()
    if client is None:
        return None
    try:
        own, glob = client.mget([_key(slug), _key(GLOBAL)])
        if glob is None:
            client.set(_key(GLOBAL), secrets.token_hex(8), nx=True)
            glob = client.get(_key(GLOBAL))
        if own is not None and _lapsed(own):
            client.delete(_key(slug))  # past its lifetime: as if bumped
            own = None
        if own is None:
            public = visibility(slug)
            if public is None:
                return None
            bound = lifetime(slug)
            until = "" if bound is None else f"{timezone.now().timestamp() + bound:.3f}"
            client.set(_key(slug), f"{secrets.token_hex(8)}:{int(public)}:{until}", nx=True)
            own = client.get(_key(slug))
    except shared_redis.Errors as exc:
        shared_redis.warn_unavailable("generation", exc)
        return None
    return of_values(own, glob)  # None when bumped or lapsing while we read


def of_values(own: bytes | str | None, glob: bytes | str | None) -> Generation | None:
    """The generation of a scope's stored token and the global one, as Redis holds them (None
    when either is missing or the scope's has lapsed)."""
    if own is None or glob is None or _lapsed(own):
        return None
    token, public_flag, _ = _parts(own)
    return Generation(token=f"{token}.{_text(glob)}", public=public_flag == "1")


def _parts(value: bytes | str) -> tuple[str, str, str]:
    """A stored token: `<random>:<public 0|1>:<lapses at, epoch seconds, or empty>`."""
    token, _, rest = _text(value).partition(":")
    public_flag, _, until = rest.partition(":")
    return token, public_flag, until


def _lapsed(value: bytes | str) -> bool:
    """Whether a token minted with a lifetime has outlived it."""
    until = _parts(value)[2]
    return bool(until) and timezone.now().timestamp() >= float(until)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _delete(keys: list[str]) -> None:
    client = shared_redis.client()
    if client is None or not keys:
        return
    try:
        client.delete(*keys)
    except shared_redis.Errors as exc:
        # The cached entries still expire after MCP_INDEX_RESPONSE_CACHE_SECONDS.
        shared_redis.warn_unavailable("generation bump", exc)


def bump(slugs: Iterable[str]) -> None:
    """Invalidate these catalogs' cached reads, now and again when the transaction commits."""
    keys = sorted({_key(s) for s in slugs})
    if not keys or not settings.REDIS_URL:
        return
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))


def bump_builtin() -> None:
    """The registry tables changed: the built-in `all` catalog (and a root serving it)."""
    bump([BUILTIN])


def bump_everything() -> None:
    """A change that may alter every catalog's responses (trust configuration)."""
    bump([GLOBAL])

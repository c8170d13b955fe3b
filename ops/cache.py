"""Read-API response cache: ETag / 304, Cache-Control, and bodies in Redis by generation.

Only the standard read routes of publicly readable catalogs are stored (their bodies do not
depend on who asks); a cache hit answers from Redis without touching the database. Every
read route gets an ETag (the md5 of the body, as Django's ConditionalGetMiddleware makes
it, so switching the cache on or off does not change ETags) and `Cache-Control` with
stale-while-revalidate, so a CDN in front of the API can serve and revalidate it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import cast
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import resolve
from django.utils.cache import set_response_etag
from django.utils.http import parse_etags

from ops import generations
from ops import redis as shared_redis

# /v0/servers, /v0.1/servers/{name}/versions[/{version}] and the same under /c/<slug>/.
READ_ROUTE = re.compile(
    r"^/(?:c/(?P<slug>[a-z0-9][a-z0-9-]*)/)?v0(?:\.1)?/servers(?:/[^/]+/[^/]+/versions(?:/[^/]+)?)?$")
_PREFIX = "mcpidx:resp:"
# The WSGI environ key under which ops.fastpath says it found no stored page for the request
# at the generation it passed on (ops.generations.SEEN): the middleware need not look again.
ABSENT = "mcpidx.cache.absent"


def catalog_of(path: str) -> str | None:
    """The catalog slug a read route is served from, or None for any other path."""
    match = READ_ROUTE.match(path)
    if match is None:
        return None
    return match.group("slug") or settings.MCP_INDEX_DEFAULT_CATALOG


def url_digest(path: str, query_string: str) -> str:
    """The part of a cache key that names the page: the path and the sorted query."""
    query = urlencode(sorted(parse_qsl(query_string, keep_blank_values=True)))
    return hashlib.sha256(f"{path}?{query}".encode()).hexdigest()[:40]


def body_prefix(slug: str) -> str:
    """What every stored page of a catalog's key starts with (ops.fastpath builds the rest
    of the key inside Redis)."""
    return f"{_PREFIX}{slug}:"


def body_key(slug: str, token: str, digest: str) -> str:
    """Where a page of a catalog at a generation token is stored."""
    return f"{body_prefix(slug)}{token}:{digest}"


def _cache_key(slug: str, generation: generations.Generation, request: HttpRequest) -> str:
    return body_key(slug, generation.token,
                    url_digest(request.path, request.META.get("QUERY_STRING", "")))


def etag_of(body: bytes) -> str:
    """The ETag of a body: its md5, quoted, as Django's ConditionalGetMiddleware makes it."""
    return f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'


def store(key: str, etag: str, content_type: str, body: bytes) -> None:
    """Keep a page under its key (pages over MCP_INDEX_RESPONSE_CACHE_MAX_BYTES are not)."""
    client = shared_redis.client()
    if client is None or len(body) > settings.MCP_INDEX_RESPONSE_CACHE_MAX_BYTES:
        return
    try:
        client.set(key, f"{etag}\n{content_type}\n".encode() + body,
                   ex=settings.MCP_INDEX_RESPONSE_CACHE_SECONDS)
    except shared_redis.Errors as exc:
        shared_redis.warn_unavailable("response cache write", exc)


def _public_cache_control() -> str:
    return (f"public, max-age={settings.MCP_INDEX_CACHE_MAX_AGE}, "
            f"stale-while-revalidate={settings.MCP_INDEX_CACHE_STALE_WHILE_REVALIDATE}, "
            f"stale-if-error={settings.MCP_INDEX_CACHE_STALE_IF_ERROR}")


def public_cache_control() -> str:
    """Cache-Control of a public read answer."""
    return _public_cache_control()


def not_modified(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header matches the stored ETag."""
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in tags or etag.removeprefix("W/") in tags


def _answer(request: HttpRequest, etag: str, content_type: str, body: bytes,
            state: str) -> HttpResponse:
    if not_modified(request.META.get("HTTP_IF_NONE_MATCH"), etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = _public_cache_control()
    response["X-Cache"] = state
    return response


class ResponseCacheMiddleware:
    """Serve the read routes from Redis when the catalog's generation has the page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slug = catalog_of(request.path) if request.method in ("GET", "HEAD") else None
        if slug is None:
            return self.get_response(request)
        generation = (request.META.get(generations.SEEN) or generations.current(slug)
                      if settings.MCP_INDEX_RESPONSE_CACHE else None)
        if generation is None or not generation.public:
            return self._uncached(request)
        key = _cache_key(slug, generation, request)
        try:
            stored = None if request.META.get(ABSENT) else self._stored(key)
        except shared_redis.Errors as exc:
            shared_redis.warn_unavailable("response cache read", exc)
            return self._uncached(request)
        if stored is not None:
            # Resolve the route anyway (no database): metrics and logs label it like a miss.
            request.resolver_match = resolve(request.path_info)
            stored_etag, stored_type, body = stored.split(b"\n", 2)
            return _answer(request, stored_etag.decode(), stored_type.decode(), body, "HIT")
        # Ask the view for the full body (even for a conditional request) so it can be stored.
        condition = request.META.pop("HTTP_IF_NONE_MATCH", None)
        response = self.get_response(request)
        if condition is not None:
            request.META["HTTP_IF_NONE_MATCH"] = condition
        if (response.status_code != 200 or response.streaming or response.cookies
                or "no-store" in response.get("Cache-Control", "")):
            return response
        set_response_etag(response)
        etag, content_type = response["ETag"], response["Content-Type"]
        if request.method == "GET":
            store(key, etag, content_type, response.content)
        return _answer(request, etag, content_type, response.content, "MISS")

    @staticmethod
    def _stored(key: str) -> bytes | None:
        client = shared_redis.client()
        assert client is not None  # a generation exists only with Redis
        return cast("bytes | None", client.get(key))

    def _uncached(self, request: HttpRequest) -> HttpResponse:
        """No stored copy (cache off, private catalog, Redis down): the view answers, and
        ConditionalGetMiddleware adds the ETag and the 304."""
        response = self.get_response(request)
        if response.status_code in (200, 304) and not response.streaming:
            # A request with a token may be reading a private catalog: no shared caching.
            private = "HTTP_AUTHORIZATION" in request.META
            response["Cache-Control"] = "private, no-cache" if private else _public_cache_control()
            response["X-Cache"] = "BYPASS"
        return response

"""Anonymous reads of the standard API answered without the Django stack.

`DirectReadApp` wraps Django's WSGI handler, inside the cache-hit fast path (config/wsgi.py).
An anonymous `GET` of a public catalog's list, versions or version URL that the fast path did
not answer (a miss, or the response cache off) is read and rendered here with the views' own
parts (serving.query, serving.reader, serving.render): the same rows, bytes and ETag. What
the sixteen middlewares and DRF would add comes from elsewhere:
- the rate limit: the fast path's verdict when it charged the request, else one charge here;
- the headers every such answer carries (security headers, CORS, Cache-Control, Allow):
  learned from Django's last plain answer on the same route (ops.fastpath.HeaderBook), so a
  middleware added later changes both paths alike; until Django has answered a route once,
  its requests go to Django;
- the response cache: a public page is stored under the catalog's generation (the one the
  fast path's script read, ops.generations.SEEN), as ops.cache.ResponseCacheMiddleware
  stores it;
- request id, metrics and the access log, as ops.middleware records them;
- database connections: Django's request signals, so CONN_MAX_AGE applies; a connection
  that broke fails the read and Django answers (its health check replaces the connection).

Anything else goes on to Django, which answers it as always: a token, a feed URL, a ranked
search, a refused rate limit, an unknown catalog or server, a query Django would refuse
(problem+json wording stays in one place), a private catalog, a database error.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, connections
from django.http import HttpResponse, QueryDict
from django.urls import Resolver404, resolve

from curation.selectors import BUILTIN_SLUG, catalog_readable, catalog_resolve
from ops import cache, generations
from ops.fastpath import HeaderBook, ReadRoutes, StartResponse, WSGIApp, respond
from ops.ratelimit import PRECHARGED, Limiter, Rate, Verdict, client_ip, ip_bucket
from registry.api.errors import Problem
from registry.errors import RegistryError
from serving import reader, render
from serving.api.views import ServerListView, ServerVersionsView, ServerVersionView
from serving.query import parse_bool, parse_list_query

_Read = Callable[..., HttpResponse | None]


def _list(scope: Any, params: QueryDict, kwargs: dict[str, str]) -> HttpResponse | None:
    query = parse_list_query(params, scope=scope.slug)
    if query.ranked:  # its own staleness rules and costs: ServerListView answers
        return None
    page = reader.list_page(scope, query)
    return render.list_response(scope, page.rows, page.next_cursor)


def _versions(scope: Any, params: QueryDict, kwargs: dict[str, str]) -> HttpResponse | None:
    deleted = bool(parse_bool("include_deleted", params.get("include_deleted")))
    return render.list_response(
        scope, reader.server_versions(scope, kwargs["name"], include_deleted=deleted))


def _version(scope: Any, params: QueryDict, kwargs: dict[str, str]) -> HttpResponse | None:
    deleted = bool(parse_bool("include_deleted", params.get("include_deleted")))
    return render.entry_response(
        scope, reader.server_version(scope, kwargs["name"], kwargs["version"],
                                     include_deleted=deleted))


# A view class and its subclasses (the root's version URL also takes PUT) -> the read it does.
_READS: tuple[tuple[type, _Read], ...] = (
    (ServerListView, _list), (ServerVersionsView, _versions), (ServerVersionView, _version))


@functools.lru_cache(maxsize=4096)
def _match(path: str) -> tuple[_Read, tuple[tuple[str, str], ...]] | None:
    """The read of a path and its URL arguments; None for a path no read here answers
    (a feed URL, another view, no route). Paths repeat (a list page, a popular server):
    resolving one costs ~20 µs."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    cls = getattr(match.func, "cls", None)
    read = next((read for base, read in _READS if issubclass(cls, base)), None) if cls else None
    if read is None or "secret" in match.kwargs:
        return None
    return read, tuple(match.kwargs.items())


class DirectReadApp:
    """WSGI middleware answering anonymous standard reads (see the module doc).

    `reads` is entered around each read: config.wsgi passes the replica router's context
    when a read replica is configured, as ReplicaReadsMiddleware does for Django."""

    def __init__(self, app: WSGIApp, *,
                 reads: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
        self.app = app
        self.reads = reads
        self._limiter = Limiter()
        self._routes = ReadRoutes()
        self._headers = HeaderBook()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        candidate = self._routes.of(environ) if settings.MCP_INDEX_DIRECT_READS else None
        if candidate is None or environ.get("CONTENT_LENGTH") not in (None, "", "0"):
            return self.app(environ, start_response)
        _, route, digest, secure = candidate
        template = self._headers.template(route, secure)
        match = _match(environ["PATH_INFO"]) if template is not None else None
        if template is None or match is None:
            return self.app(environ, self._headers.learning(start_response, route, secure))
        read, arguments = match
        verdict = self._charge(environ)
        if verdict is not None and not verdict.allowed:
            return self.app(environ, start_response)  # Django answers the 429
        answered = self._read(environ, read, dict(arguments), digest)
        if answered is None:
            return self.app(environ, self._headers.learning(start_response, route, secure))
        etag, body, state = answered
        return respond(environ, start_response, started=started, route=route,
                       template=template, verdict=verdict, etag=etag,
                       content_type="application/json", body=body, state=state)

    def _charge(self, environ: dict[str, Any]) -> Verdict | None:
        """The fast path's verdict, else one charge to the client's anonymous bucket; kept in
        the environ so that Django, should it answer after all, does not charge again."""
        if not settings.MCP_INDEX_RATE_LIMITS:
            return None
        verdict: Verdict | None = environ.get(PRECHARGED)
        if verdict is None:
            bucket = ip_bucket(client_ip(environ))
            verdict = self._limiter.charge(bucket, Rate.parse(settings.MCP_INDEX_RATE_LIMIT_ANON),
                                           bucket)
            if verdict is not None:
                environ[PRECHARGED] = verdict
        return verdict

    def _read(self, environ: dict[str, Any], read: _Read, kwargs: dict[str, str], digest: str
              ) -> tuple[str, bytes, str] | None:
        """(ETag, body, X-Cache) of the page, stored when the catalog's pages are; None for
        whatever Django should answer."""
        slug = kwargs.get("slug", BUILTIN_SLUG)
        request_started.send(sender=self.__class__, environ=environ)
        # No health check's extra round trip (CONN_HEALTH_CHECKS): on a broken connection the
        # read fails, and Django answers instead after its own request start has found the
        # connection unusable and closed it.
        for connection in connections.all(initialized_only=True):
            connection.health_check_done = True  # type: ignore[attr-defined]
        try:
            with self.reads():
                generation = (environ.get(generations.SEEN) or generations.current(slug)
                              if settings.MCP_INDEX_RESPONSE_CACHE else None)
                scope = catalog_resolve(slug, known=generation)
                if not catalog_readable(scope, None):
                    return None
                params = QueryDict(get_bytes_from_wsgi(environ, "QUERY_STRING", ""))
                kwargs = {k: v for k, v in kwargs.items() if k != "slug"}
                response = read(scope, params, kwargs)
        except (RegistryError, Problem, DatabaseError):
            return None
        finally:
            request_finished.send(sender=self.__class__)
        if response is None or response.status_code != 200:
            return None
        body = response.content
        etag = cache.etag_of(body)
        if generation is None or not generation.public:
            return etag, body, "BYPASS"
        cache.store(cache.body_key(slug, generation.token, digest), etag, "application/json", body)
        return etag, body, "MISS"

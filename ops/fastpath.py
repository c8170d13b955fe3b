"""Cache hits answered before Django: one Redis round trip, then the stored bytes.

`CacheHitApp` wraps the WSGI application (config/wsgi.py). For an anonymous `GET` of a
standard read route it runs one Lua script that charges the client's rate-limit bucket, reads
the catalog's generation and, when the catalog is public, returns the stored page
(ops.cache). A hit is answered here: the status, the stored body and ETag (304 on a matching
If-None-Match), the rate-limit headers, a request id, and every other header the full stack
put on the same route's last answer (security headers, CORS, Cache-Control): learned from
Django's own responses, so a middleware added later changes both paths alike. Metrics and
the access log record it as the middleware would.

Everything else goes on to the application it wraps (serving.api.direct, then Django)
unchanged: other methods and routes, a token (its bucket and its catalog access need the
database), a URL the input boundary refuses, a host Django would refuse, an http request that
Django would redirect to https, a refused rate limit (Django answers the 429), a miss, a
private catalog, a Redis error. A request this layer has charged carries its verdict on
(ops.ratelimit.PRECHARGED), so nothing is charged twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import Resolver404, resolve

from ops import cache, generations, logs, metrics
from ops import redis as shared_redis
from ops.middleware import log_request, pretty_route, url_problem
from ops.ratelimit import (
    GCRA_FUNCTION,
    PRECHARGED,
    Rate,
    Verdict,
    bucket_keys,
    client_ip,
    ip_bucket,
    rate_headers,
)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# KEYS: rate bucket, IP block, catalog generation, global generation.
# ARGV: period ms (0: no rate limit), limit, body-key prefix ("mcpidx:resp:<slug>:"), page digest.
# Returns {allowed, remaining, retry ms, reset ms, stored page or false, the catalog's token and
# the global token as stored (false when either is missing or the catalog's has lapsed)}.
_SCRIPT = GCRA_FUNCTION + """
local verdict = {1, 0, 0, 0}
if tonumber(ARGV[1]) > 0 then
  verdict = gcra(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]))
  if verdict[1] == 0 then return {0, verdict[2], verdict[3], verdict[4], false, false, false} end
end
local own = redis.call('GET', KEYS[3])
local glob = redis.call('GET', KEYS[4])
if not own or not glob then return {1, verdict[2], 0, verdict[4], false, false, false} end
local token, public, untill = string.match(own, '^([^:]*):([^:]*):?(.*)$')
if untill ~= nil and untill ~= '' then
  local t = redis.call('TIME')
  if tonumber(t[1]) + tonumber(t[2]) / 1e6 >= tonumber(untill) then
    return {1, verdict[2], 0, verdict[4], false, false, false}
  end
end
if public ~= '1' then return {1, verdict[2], 0, verdict[4], false, own, glob} end
local stored = redis.call('GET', ARGV[3] .. token .. '.' .. glob .. ':' .. ARGV[4])
return {1, verdict[2], 0, verdict[4], stored or false, own, glob}
"""

# One connection per process (and thread) for it, whatever the number of apps.
_KEPT = shared_redis.KeptScript(_SCRIPT, "mcp-index:fastpath")

# Headers that belong to one answer; every other header of a route's answer is learned.
_OWN = frozenset({"content-type", "content-length", "etag", "x-cache", "x-request-id",
                  "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "set-cookie",
                  "date", "server"})
_MAX_SHAPES = 4096
_MAX_URLS = 4096
_UNSEEN: Any = object()
_NOT_MODIFIED_DROPS = frozenset({"content-type", "content-length"})


def _shape(path: str) -> str:
    """A path with its server name and version replaced: routes are learned per shape."""
    parts = path.split("/")
    if len(parts) >= 7 and "versions" in parts:  # …/servers/<ns>/<name>/versions[/<v>]
        at = parts.index("servers")
        shape = [*parts[: at + 1], "N", "N", *parts[at + 3: at + 4]]
        if len(parts) > at + 4:
            shape.append("latest" if parts[at + 4] == "latest" else "V")
        return "/".join(shape)
    return path


class HeaderBook:
    """The headers the full stack put on a route's last plain answer (a 200 with an ETag and
    no cookie), per route and scheme, less those that belong to one answer (`_OWN`)."""

    def __init__(self) -> None:
        self._learned: dict[tuple[str, bool], list[tuple[str, str]]] = {}

    def template(self, route: str, secure: bool) -> list[tuple[str, str]] | None:
        return self._learned.get((route, secure))

    def learning(self, start_response: StartResponse, route: str, secure: bool) -> StartResponse:
        """start_response that learns the route's headers from the answer passing through."""
        def learn(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names = {name.lower() for name, _ in headers}
            if status.startswith("200") and "set-cookie" not in names and "etag" in names:
                self._learned[(route, secure)] = [(n, v) for n, v in headers
                                                  if n.lower() not in _OWN]
            return start_response(status, headers, exc_info)
        return learn


def respond(environ: dict[str, Any], start_response: StartResponse, *, started: float,
            route: str, template: list[tuple[str, str]], verdict: Verdict | None, etag: str,
            content_type: str, body: bytes, state: str) -> list[bytes]:
    """Answer a read with the route's learned headers, its own ETag (304 on a matching
    If-None-Match), rate-limit headers and a request id; count and log it as the middleware
    would (ops.middleware.RequestContextMiddleware)."""
    request_id = logs.request_id_from(environ.get("HTTP_X_REQUEST_ID"))
    headers = [*template, ("ETag", etag), ("X-Cache", state)]
    if verdict is not None:
        headers += rate_headers(verdict)
    headers.append(("X-Request-ID", request_id))
    if cache.not_modified(environ.get("HTTP_IF_NONE_MATCH"), etag):
        status, body = 304, b""
        start_response("304 Not Modified",
                       [(n, v) for n, v in headers if n.lower() not in _NOT_MODIFIED_DROPS])
    else:
        status = 200
        headers += [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
    logs.bind_request_id(request_id)
    try:
        elapsed = time.perf_counter() - started
        metrics.observe_request(method="GET", route=route, status=status, seconds=elapsed,
                                cache=state)
        log_request("GET", environ.get("PATH_INFO", ""), environ, route, status, elapsed,
                    len(body))
    finally:
        logs.clear_request_id()
    return [body]


class ReadRoutes:
    """What a process knows about the read URLs it has seen: the metrics label of each path
    shape, and per URL (path, query) its catalog, label and page digest, or that it is no read
    route this layer may answer. Both bounded: URLs come from clients."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}  # path shape -> route label
        self._urls: dict[tuple[str, str], tuple[str, str, str] | None] = {}

    def of(self, environ: dict[str, Any]) -> tuple[str, str, str, bool] | None:
        """(catalog slug, route label, page digest, secure) of an anonymous GET of a standard
        read route that Django would serve as it is: the input boundary, the host check and
        the https redirect would let it through."""
        if not anonymous_get(environ):
            return None
        url = (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        read = self._urls.get(url, _UNSEEN)
        if read is _UNSEEN:  # what follows from the URL alone is worked out once per URL
            route = url_route(*url, self._labels)
            read = None if route is None else (*route, cache.url_digest(*url))
            if len(self._urls) >= _MAX_URLS:
                self._urls.clear()
            self._urls[url] = read
        secure = None if read is None else served_as_it_is(environ)
        return None if read is None or secure is None else (*read, secure)


def anonymous_get(environ: dict[str, Any]) -> bool:
    """A GET without a token, of an application mounted at the root."""
    return (environ.get("REQUEST_METHOD") == "GET" and "HTTP_AUTHORIZATION" not in environ
            and not environ.get("SCRIPT_NAME"))


def url_route(path: str, query: str, routes: dict[str, str]) -> tuple[str, str] | None:
    """(catalog slug, route label) of a standard read route's URL the input boundary lets
    through, else None."""
    if not path.isascii():
        return None
    slug = cache.catalog_of(path)
    if slug is None or url_problem(path, query) is not None:
        return None
    shape = _shape(path)
    route = routes.get(shape)
    if route is None:
        try:
            route = pretty_route(resolve(path).route)
        except Resolver404:
            return None
        if len(routes) < _MAX_SHAPES:  # slugs come from URLs: bound what is kept
            routes[shape] = route
    return slug, route


def served_as_it_is(environ: dict[str, Any]) -> bool | None:
    """Whether the request came over https, when Django would answer it without refusing its
    host or redirecting it to https; None when it would do either."""
    host = environ.get("HTTP_X_FORWARDED_HOST") if settings.USE_X_FORWARDED_HOST else None
    host = host or environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    secure = environ.get("wsgi.url_scheme") == "https"
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy and not secure:
        secure = environ.get(proxy[0], "").split(",")[0].strip() == proxy[1]
    if settings.SECURE_SSL_REDIRECT and not secure:
        return None
    return secure


class CacheHitApp:
    """WSGI middleware answering anonymous cache hits of the read API (see the module doc)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._routes = ReadRoutes()
        self._headers = HeaderBook()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        candidate = self._candidate(environ)
        if candidate is None:
            return self.app(environ, start_response)
        slug, route, digest, secure = candidate
        template = self._headers.template(route, secure)
        found = self._lookup(environ, slug, digest)
        if found is None:
            return self.app(environ, self._headers.learning(start_response, route, secure))
        verdict, stored, generation = found
        if verdict is not None:
            environ[PRECHARGED] = verdict
        if generation is not None:
            environ[generations.SEEN] = generation
            if stored is None and generation.public:
                environ[cache.ABSENT] = True  # the script looked for the page and found none
        if stored is None or template is None or (verdict is not None and not verdict.allowed):
            return self.app(environ, self._headers.learning(start_response, route, secure))
        etag, content_type, body = stored.split(b"\n", 2)
        return respond(environ, start_response, started=started, route=route,
                       template=template, verdict=verdict, etag=etag.decode(),
                       content_type=content_type.decode(), body=body, state="HIT")

    def _candidate(self, environ: dict[str, Any]) -> tuple[str, str, str, bool] | None:
        if not settings.MCP_INDEX_RESPONSE_CACHE or not settings.MCP_INDEX_FAST_CACHE_HITS:
            return None
        return self._routes.of(environ)

    def _lookup(self, environ: dict[str, Any], slug: str, digest: str
                ) -> tuple[Verdict | None, bytes | None, generations.Generation | None] | None:
        """The rate-limit verdict, the stored page and the catalog's generation, in one round
        trip; None on a Redis error."""
        client = shared_redis.client()
        if client is None:
            return None
        rate = Rate.parse(settings.MCP_INDEX_RATE_LIMIT_ANON)
        bucket = ip_bucket(client_ip(environ))
        limited = settings.MCP_INDEX_RATE_LIMITS
        try:
            allowed, remaining, retry, reset, stored, own, glob = _KEPT(
                client, [*bucket_keys(bucket, rate, bucket), generations.key(slug),
                         generations.key(generations.GLOBAL)],
                [rate.period_ms if limited else 0, rate.limit, cache.body_prefix(slug), digest])
        except shared_redis.Errors as exc:
            shared_redis.warn_unavailable("fast path", exc)
            return None
        verdict = Verdict(bool(allowed), rate.limit, int(remaining), int(retry), int(reset))
        return (verdict if limited else None), (stored or None), generations.of_values(own, glob)

"""The outermost middlewares: request context (id, access log, metrics) and the URL boundary.

The first also answers the operational endpoints itself (see ops.urls) before any other
middleware runs: load balancers, kubelets and Prometheus call them by pod address over plain
HTTP, without cookies or tokens, and must get the same answer whatever the host-name check,
SSL redirect, CSRF, authentication or rate limits would say.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.exception import response_for_exception
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, get_resolver, get_urlconf, resolve

from mcp_index_common.input import url_text_problem
from ops import logs, metrics
from ops.http import is_api_path, problem_response

access_log = logging.getLogger("mcp_index.access")

OPS_URLCONF = "ops.urls"
# Probes and scrapes arrive every few seconds: logged at DEBUG unless they fail.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
STATIC_ROUTE = "static"
# Also the name of the site's catch-all route (config/urls.py), which answers unknown API
# paths with problem+json: it is labelled like any other unknown path.
UNMATCHED_ROUTE = "unmatched"
_HEADER_MAX = 200  # logged header values (user agent, forwarded-for) are cut here
_PATH_MAX = 1000

_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^()]*\)")
_CONVERTER = re.compile(r"<\w+:(\w+)>")


@lru_cache(maxsize=1024)
def pretty_route(route: str) -> str:
    """`v0/servers/(?P<name>[^/]+/[^/]+)/versions$` -> `/v0/servers/<name>/versions`."""
    route = _NAMED_GROUP.sub(r"<\1>", route)
    route = _CONVERTER.sub(r"<\1>", route)
    route = route.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + route


def route_label(request: HttpRequest) -> str:
    """The URL pattern that served the request: a bounded label, never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        static = settings.STATIC_URL
        if static and request.path.startswith(static):
            return STATIC_ROUTE  # served by WhiteNoise before URL resolution
        return UNMATCHED_ROUTE  # redirects and refusals from middleware, unknown pages
    if match.url_name == UNMATCHED_ROUTE:
        return UNMATCHED_ROUTE  # the catch-all that turns unknown API paths into problem+json
    return pretty_route(match.route)


def _body_bytes(response: HttpResponseBase) -> int | None:
    if isinstance(response, HttpResponse):
        return len(response.content)
    length = response.get("Content-Length")  # streamed (static files): only if declared
    return int(length) if length and length.isdigit() else None


class RequestContextMiddleware:
    """Binds a request id, serves /healthz /readyz /metrics, logs and measures every request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        request_finished.connect(logs.clear_request_id, dispatch_uid="mcp_index_clear_request_id")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = logs.request_id_from(request.headers.get("X-Request-ID"))
        logs.bind_request_id(request_id)
        started = time.perf_counter()
        response: HttpResponseBase | None = None
        try:
            response = self._dispatch(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            elapsed = time.perf_counter() - started
            status = response.status_code if response is not None else 500
            route = route_label(request)
            cache = response.get("X-Cache") if response is not None else None
            metrics.observe_request(method=request.method or "", route=route, status=status,
                                    seconds=elapsed, cache=cache)
            log_request(request.method or "", request.path, request.META, route, status, elapsed,
                        _body_bytes(response) if response is not None else None)

    def _dispatch(self, request: HttpRequest) -> HttpResponseBase:
        try:
            match = resolve(request.path_info, urlconf=OPS_URLCONF)
        except Resolver404:
            return self.get_response(request)
        request.resolver_match = match
        try:
            response: HttpResponseBase = match.func(request, *match.args, **match.kwargs)
        except Exception as exc:  # as Django's handler would: a logged 500, inside our context
            return response_for_exception(request, exc)
        return response

def log_request(method: str, path: str, meta: Mapping[str, str], route: str, status: int,
                elapsed: float, size: int | None) -> None:
    """The access-log line of one answered request (also written by ops.fastpath)."""
    level = logging.DEBUG if route in QUIET_ROUTES and status < 400 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    fields: dict[str, object] = {
        # The path only: query strings can carry OAuth codes and other secrets.
        "method": method, "path": path[:_PATH_MAX], "route": route, "status": status,
        "duration_ms": round(elapsed * 1000, 2), "bytes": size,
        "client_ip": meta.get("REMOTE_ADDR", ""),
        "user_agent": meta.get("HTTP_USER_AGENT", "")[:_HEADER_MAX],
    }
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        fields["forwarded_for"] = forwarded[:_HEADER_MAX]
    access_log.log(level, "request", extra=fields)


def _url_problem(request: HttpRequest) -> tuple[str, str] | None:
    """(location, reason) of the first unacceptable part of the URL, or None."""
    # Django decodes the path itself; bytes that are not UTF-8 (an encoded surrogate) stay
    # percent-encoded there, harmless text. The query string is still raw: decoded here.
    return url_problem(request.path, request.META.get("QUERY_STRING", ""))


def url_problem(path: str, query: str) -> tuple[str, str] | None:
    """(location, reason) of the first unacceptable part of a decoded path and a raw query
    string, or None (also the fast path's check, ops.fastpath)."""
    problem = url_text_problem(path)
    if problem:
        return "path", problem
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        try:
            key_text = unquote_to_bytes(key.replace("+", " ")).decode("utf-8")
            value_text = unquote_to_bytes(value.replace("+", " ")).decode("utf-8")
        except UnicodeError:
            return f"query {_shown(key)}", "is not UTF-8"
        problem = url_text_problem(key_text) or url_text_problem(value_text)
        if problem:
            return f"query {_shown(key)}", problem
    return None


def _shown(raw_key: str) -> str:
    """A query parameter name as it may appear in a message (still percent-encoded)."""
    return repr(raw_key[:40]) if url_text_problem(raw_key) else raw_key[:40]


class InputBoundaryMiddleware:
    """400 for a URL whose path or query holds NUL, a lone surrogate or a control character.

    Nothing below (views, caches, rate limits, the database) ever sees such a URL: API
    paths answer problem+json, pages the site's 400 page (config.urls handler400).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        found = _url_problem(request)
        if found is None:
            return self.get_response(request)
        location, reason = found
        message = f"The URL {location} {reason}"
        if is_api_path(request.path):
            return problem_response(400, message, [{"message": reason, "location": location}])
        handler: Callable[..., HttpResponseBase] = (
            get_resolver(get_urlconf()).resolve_error_handler(400))
        return handler(request, exception=SuspiciousOperation(message))

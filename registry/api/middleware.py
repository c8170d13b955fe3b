"""HTTP behaviour shared by every API path: body limits, trailing slashes, NUL bytes, CORS."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

# Which paths are the API is shared with ops (rate-limit refusals).
from ops.http import RESOURCE_METADATA, is_api_path, problem_response


class BodySizeLimitMiddleware:
    """413 for any body over MCP_INDEX_MAX_BODY_BYTES, before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MCP_INDEX_MAX_BODY_BYTES
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            return problem_response(400, "Invalid Content-Length header")
        if size > limit:
            return problem_response(413, f"Request body is {size} bytes; the limit is {limit}")
        return self.get_response(request)


READ_METHODS = "GET, HEAD, OPTIONS"
WRITE_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
# What a browser-based client may read from a cross-origin response besides the basics.
EXPOSED_HEADERS = ("ETag, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, "
                   "WWW-Authenticate, X-Request-ID, Idempotent-Replayed")


class PermanentRedirect308(HttpResponsePermanentRedirect):
    status_code = 308


class ApiPathMiddleware:
    """Official quirks: 308 on a trailing slash, 400 on NUL bytes, open CORS for the API."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if not is_api_path(path):
            return self.get_response(request)
        if "\x00" in path or "\x00" in request.META.get("QUERY_STRING", ""):
            return problem_response(400, "NUL bytes are not allowed in the URL")
        if path.endswith("/") and len(path) > 1:
            target = path.rstrip("/")
            query = request.META.get("QUERY_STRING")
            return PermanentRedirect308(target + (f"?{query}" if query else ""))
        preflight = request.method == "OPTIONS"
        response = HttpResponse(status=204) if preflight else self.get_response(request)
        # JSON is never a document: nothing in it may load or run, nor be framed.
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        # CORS as GitHub documents for custom registries (any origin; GET and OPTIONS with
        # Authorization and Content-Type), plus the writes at the root (official #1436).
        # Catalog and feed URLs only read. No credentials mode: tokens go in a header.
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = (
            READ_METHODS if path.startswith(("/c/", RESOURCE_METADATA)) else WRITE_METHODS)
        response["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key"
        response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if preflight:
            response["Access-Control-Max-Age"] = "86400"
        return response

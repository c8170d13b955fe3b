"""The MCP endpoint as an ASGI app: `/mcp` and `/c/<slug>/mcp` in front of the SDK's app.

Per request, before the SDK sees it: the Host and Origin checks (DNS rebinding; 421 / 403),
the catalog from the path (404 when there is none), the bearer token and the catalog's read
access, exactly as the registry API's ReadView decides them (401 with WWW-Authenticate, 403).
The result goes into the ASGI scope for the tools (serving.mcp.tools.access_of), and the
request continues to the SDK's Streamable HTTP app, stateless, answering JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from curation import selectors as curation
from curation.selectors import CatalogRef
from curation.services import feeds as curation_feeds
from ops import ratelimit
from ops.http import PROBLEM_CONTENT_TYPE, problem_body
from registry.api.auth import caller_from_header
from registry.api.errors import Problem
from registry.errors import NotFound
from serving.mcp.reads import Access
from serving.mcp.server import build_server
from serving.mcp.tools import ACCESS_KEY, run_db

# The root, a catalog, or a catalog's feed URL (`/c/<slug>/k/<secret>/mcp`, docs/clients.md).
MCP_PATH = re.compile(r"^/(?:c/(?P<slug>[-a-zA-Z0-9_]+)/(?:k/(?P<secret>[^/]{1,100})/)?)?mcp/?\Z")
# Tool arguments are a few hundred bytes; anything near this is hostile (the SDK answers 413).
MAX_BODY = 64 * 1024
REALM = "mcp-index"


def is_mcp_path(path: str) -> bool:
    return MCP_PATH.match(path) is not None


def transport_security(allowed_hosts: list[str]) -> TransportSecuritySettings:
    """The SDK's Host/Origin allow-lists from Django's ALLOWED_HOSTS.

    A name allows itself on any port, over http and https. `*` allows every host, as it does
    for Django, so the SDK's check is off. A `.example.com` entry (Django: the domain and its
    subdomains) allows the domain itself: the SDK matches no wildcard subdomains, so list
    those by name (docs/mcp.md).
    """
    if "*" in allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    names = sorted({h.lstrip(".") for h in allowed_hosts if h.strip(".")})
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[form for n in names for form in (n, f"{n}:*")],
        allowed_origins=[form for n in names for scheme in ("http", "https")
                         for form in (f"{scheme}://{n}", f"{scheme}://{n}:*")])


def _access(slug: str, authorization: str) -> Access:
    """The catalog and caller of a request; Problem (401/403) or NotFound when refused."""
    ref = curation.catalog_resolve(slug)
    caller = caller_from_header(authorization)
    if not curation.catalog_readable(ref, caller):
        if caller is None:
            raise Problem(401, f"Catalog {slug} requires a token with read access: send "
                          "'Authorization: Bearer <token>'")
        raise Problem(403, f"Your token has no role in catalog {slug}")
    return Access(ref, caller)


def _feed_access(slug: str, secret: str, meta: dict[str, Any]) -> Access:
    """A feed URL's catalog, read anonymously whatever its visibility (as the feed's API
    reads are), charged to the feed's own rate-limit bucket; 404 for a revoked, unknown or
    foreign secret, counted as an authentication failure of the client address."""
    feed = curation_feeds.feed_authenticate(slug=slug, secret=secret)
    if feed is None:
        ratelimit.record_auth_failure(meta)
        raise Problem(404, "No such feed: it was revoked, or never issued for this catalog")
    wait = ratelimit.charge_key(meta, f"feed:{feed.pk}", settings.MCP_INDEX_RATE_LIMIT_FEED)
    if wait is not None:
        raise Problem(429, f"Too many requests on this feed; retry in {wait} s",
                      headers={"Retry-After": str(wait)})
    return Access(CatalogRef(slug, feed.catalog))


def _meta_of(scope: Scope) -> dict[str, Any]:
    """What ops.ratelimit reads of a request (client address, forwarded-for), from ASGI."""
    client = scope.get("client") or ("", 0)
    forwarded = Request(scope).headers.get("x-forwarded-for")
    meta: dict[str, Any] = {"REMOTE_ADDR": client[0]}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return meta


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(problem_body(status, detail)), status_code=status,
                    media_type=PROBLEM_CONTENT_TYPE, headers=headers)


class McpEndpoint:
    """The ASGI app serving every MCP path (and the SDK's lifespan: its session manager)."""

    def __init__(self, server: MCPServer | None = None) -> None:
        self.server = server or build_server()
        security = transport_security(list(settings.ALLOWED_HOSTS))
        self.guard = TransportSecurityMiddleware(security)
        self.app = self.server.streamable_http_app(
            streamable_http_path="/mcp", stateless_http=True, json_response=True,
            transport_security=security, max_request_body_size=MAX_BODY)

    @property
    def session_manager(self) -> Any:
        """What must run (once per process) for requests to be served: the lifespan's job."""
        return self.server.session_manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        match = MCP_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None:
            await _problem(404, "Not found")(scope, receive, send)
            return
        if scope["method"] != "POST":
            # Stateless and JSON-only: no server-initiated stream to GET (the SDK would hold
            # one open, a sync worker for each), no session to DELETE. The transport spec's
            # answer for a server without that stream is 405.
            await _problem(405, "The MCP endpoint takes POST only (stateless, JSON answers)",
                           {"Allow": "POST"})(scope, receive, send)
            return
        refused = await self.guard.validate_request(Request(scope), is_post=False)
        if refused is not None:
            await refused(scope, receive, send)
            return
        # The root serves what the root API serves: the default catalog (`all` unless set).
        slug = match.group("slug") or settings.MCP_INDEX_DEFAULT_CATALOG
        authorization = Request(scope).headers.get("authorization", "")
        try:
            if match.group("secret") is not None:
                access = await run_db(_feed_access, slug, match.group("secret"), _meta_of(scope))
            else:
                access = await run_db(_access, slug, authorization)
        except NotFound as exc:
            await _problem(404, exc.message)(scope, receive, send)
            return
        except Problem as exc:
            headers = exc.headers or None
            if exc.status_code == 401:
                error = ', error="invalid_token"' if authorization else ""
                headers = {"WWW-Authenticate": f'Bearer realm="{REALM}"{error}'}
            await _problem(exc.status_code, exc.problem_detail, headers)(scope, receive, send)
            return
        inner = {**scope, "path": "/mcp", "raw_path": b"/mcp", "root_path": "", ACCESS_KEY: access}
        await self.app(inner, receive, send)

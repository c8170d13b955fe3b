"""The standard read API (`GET …/servers`, `…/versions`, `…/versions/{version|latest}`).

The same views serve the root (`/v0`, `/v0.1`: the built-in catalog `all`, the registry
itself), every catalog (`/c/<slug>/v0.1/…`) and a default catalog at the root; the scope
comes from the URL and serving.reader reads it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from rest_framework.request import Request

from curation import selectors as curation
from curation.selectors import BUILTIN_SLUG, CatalogRef
from curation.services.feeds import feed_authenticate
from ops import generations, ratelimit
from registry.api.errors import Problem
from registry.api.views import RegistryView, VersionEditView
from serving import reader, render
from serving.query import parse_bool, parse_list_query, search_cursor
from serving.search import search_page


class ReadView(RegistryView):
    """Base: the scope from the URL (the root's is `all`), with read access enforced.

    Under a feed URL (`/c/<slug>/k/<secret>/…`) the secret is the credential: the feed's
    catalog is read whatever its visibility, charged to the feed's own rate-limit bucket.
    """

    feed_secret: str | None = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.feed_secret = kwargs.pop("secret", None)
        return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any
                          ) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.feed_secret is not None:
            response["Cache-Control"] = "private, no-cache"  # revocation takes effect at once
            response["Referrer-Policy"] = "no-referrer"
        return response

    def feed_scope(self, request: Request, slug: str, secret: str) -> CatalogRef:
        feed = feed_authenticate(slug=slug, secret=secret)
        if feed is None:
            ratelimit.record_auth_failure(request.META)
            raise Problem(404, "No such feed: it was revoked, or never issued for this catalog")
        wait = ratelimit.charge_key(request.META, f"feed:{feed.pk}", settings.MCP_INDEX_RATE_LIMIT_FEED)
        if wait is not None:
            raise Problem(429, f"Too many requests on this feed; retry in {wait} s",
                          headers={"Retry-After": str(wait)})
        return CatalogRef(slug, feed.catalog)

    def scope(self, request: Request, slug: str) -> CatalogRef:
        if self.feed_secret is not None:
            return self.feed_scope(request, slug, self.feed_secret)
        ref = curation.catalog_resolve(slug, known=request.META.get(generations.SEEN))
        if not curation.catalog_readable(ref, request.auth):
            if request.auth is None:
                raise Problem(401, f"Catalog {slug} requires a token with read access")
            raise Problem(403, f"Your token has no role in catalog {slug}")
        return ref

    def include_deleted(self, request: Request) -> bool:
        return bool(parse_bool("include_deleted", request.query_params.get("include_deleted")))


class ServerListView(ReadView):
    """GET servers: keyset-paginated list with updated_since and version filters; with
    `search`, the latest versions most relevant first (search cursors page them)."""

    def get(self, request: Request, slug: str = BUILTIN_SLUG) -> HttpResponse:
        scope = self.scope(request, slug)
        query = parse_list_query(request.query_params, scope=scope.slug)
        if query.ranked:  # most relevant first (serving.search), paged by a search cursor
            found = search_page(scope, query.search, limit=query.limit, offset=query.offset,
                                include_deleted=query.include_deleted,
                                updated_since=query.updated_since, facets=False,
                                highlights=False)
            following = found.next_offset
            response = render.list_response(
                scope, [hit.row for hit in found.hits],
                search_cursor(scope.slug, query, following) if following else None)
            if found.stale:  # the response cache must not keep what a rebuilt index reranks
                response["Cache-Control"] = "no-store"
            return response
        page = reader.list_page(scope, query)
        return render.list_response(scope, page.rows, page.next_cursor)


class ServerVersionsView(ReadView):
    """GET servers/{name}/versions: every version, newest first."""

    def get(self, request: Request, name: str, slug: str = BUILTIN_SLUG) -> HttpResponse:
        scope = self.scope(request, slug)
        rows = reader.server_versions(scope, name, include_deleted=self.include_deleted(request))
        return render.list_response(scope, rows)


class ServerVersionView(ReadView):
    """GET servers/{name}/versions/{version|latest}."""

    def get(self, request: Request, name: str, version: str, slug: str = BUILTIN_SLUG
            ) -> HttpResponse:
        scope = self.scope(request, slug)
        row = reader.server_version(scope, name, version,
                                    include_deleted=self.include_deleted(request))
        return render.entry_response(scope, row)


class RootServerVersionView(ServerVersionView, VersionEditView):
    """The registry's own version URL: GET reads it here, PUT replaces it (registry.api)."""

"""The standard read API of one catalog (`/c/<slug>/v0.1/…`, and the root for the default)."""

from __future__ import annotations

from django.http import HttpResponse
from rest_framework.request import Request

from curation import selectors
from curation.selectors import CatalogRef
from registry import selectors as registry_selectors
from registry.api.errors import Problem
from registry.api.responses import entry_response, list_response
from registry.api.views import RegistryView


class CatalogView(RegistryView):
    """Base: resolves the catalog from the URL and enforces read access."""

    def catalog(self, request: Request, slug: str) -> CatalogRef:
        ref = selectors.catalog_resolve(slug)
        if not selectors.catalog_readable(ref, request.auth):
            if request.auth is None:
                raise Problem(401, f"Catalog {slug} requires a token with read access")
            raise Problem(403, f"Your token has no role in catalog {slug}")
        return ref


class CatalogServerListView(CatalogView):
    """GET servers: the catalog's keyset-paginated list with every standard filter."""

    def get(self, request: Request, slug: str) -> HttpResponse:
        ref = self.catalog(request, slug)
        query = registry_selectors.parse_list_query(request.query_params)
        if ref.catalog is None:  # the built-in `all`: straight from the registry tables
            page = registry_selectors.list_page(query)
            return list_response(page.rows, page.next_cursor)
        result = selectors.catalog_list_page(ref.catalog, query)
        return list_response(result.page.rows, result.page.next_cursor, result.extras)


class CatalogServerVersionsView(CatalogView):
    """GET servers/{name}/versions within the catalog."""

    def get(self, request: Request, slug: str, name: str) -> HttpResponse:
        ref = self.catalog(request, slug)
        include_deleted = self.include_deleted(request)
        if ref.catalog is None:
            rows = registry_selectors.server_versions(name, include_deleted=include_deleted)
            return list_response(rows)
        result = selectors.catalog_server_versions(ref.catalog, name,
                                                   include_deleted=include_deleted)
        return list_response(result.page.rows, None, result.extras)


class CatalogServerVersionView(CatalogView):
    """GET servers/{name}/versions/{version|latest} within the catalog."""

    def get(self, request: Request, slug: str, name: str, version: str) -> HttpResponse:
        ref = self.catalog(request, slug)
        include_deleted = self.include_deleted(request)
        if ref.catalog is None:
            row = registry_selectors.server_version(name, version,
                                                    include_deleted=include_deleted)
            return entry_response(row)
        result = selectors.catalog_server_version(ref.catalog, name, version,
                                                  include_deleted=include_deleted)
        row = result.page.rows[0]
        return entry_response(row, result.extras.get(row["id"]))

"""Top-level routes: the standard API under /v0 and /v0.1, our extensions, admin, pages."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from ops.middleware import UNMATCHED_ROUTE
from registry.api import errors_views
from serving.api import resource as resource_views
from serving.api.urls import (
    catalog_read_urlpatterns,
    catalog_urlpatterns,
    probe_urlpattern,
    root_urlpatterns,
    search_urlpatterns,
    tools_urlpattern,
)

ext = f"v0.1/x/{settings.MCP_INDEX_NAMESPACE}/"

# The root API serves the default catalog; the built-in `all` is the registry tables as-is.
default_catalog = (
    [path(p, include((catalog_read_urlpatterns, "root-catalog"), namespace="root-" + p.rstrip("/")),
          {"slug": settings.MCP_INDEX_DEFAULT_CATALOG}) for p in ("v0/", "v0.1/")]
    if settings.MCP_INDEX_DEFAULT_CATALOG != "all" else []
)

urlpatterns = [
    path("", include("ops.urls")),  # /healthz, /readyz, /metrics
    path("", include("apidocs.urls")),  # /openapi.json, /openapi.yaml, /docs
    path("admin/", admin.site.urls),
    # RFC 9728 protected-resource metadata of the registry and of each catalog.
    path(".well-known/oauth-protected-resource", resource_views.metadata_view,
         name="resource-metadata"),
    # Any text after /c/: the view answers an impossible slug with a problem+json 404.
    re_path(r"^\.well-known/oauth-protected-resource/c/(?P<slug>[^/]+)$",
            resource_views.metadata_view, name="resource-metadata-catalog"),
    path(ext, include(("registry.api.ext_urls", "ext"), namespace="ext")),
    path(ext, include(("signing.api.urls", "signing"), namespace="signing")),
    path(ext, include(("curation.api.urls", "curation"), namespace="curation")),
    # Feed URLs: a catalog's reads with a read-only secret in the path (docs/clients.md).
    path("c/<slug:slug>/k/<str:secret>/v0/",
         include((catalog_read_urlpatterns, "feed-v0"), namespace="feed-v0")),
    path("c/<slug:slug>/k/<str:secret>/v0.1/",
         include((catalog_read_urlpatterns, "feed-v0.1"), namespace="feed-v0.1")),
    path(ext, include((search_urlpatterns, "search"), namespace="search")),
    path(ext, include(([tools_urlpattern(), probe_urlpattern()], "inventory"), namespace="inventory"),
         {"slug": settings.MCP_INDEX_DEFAULT_CATALOG}),
    path("c/<slug:slug>/v0/", include((catalog_urlpatterns, "c-v0"), namespace="c-v0")),
    path("c/<slug:slug>/v0.1/", include((catalog_urlpatterns, "c-v0.1"), namespace="c-v0.1")),
    *default_catalog,
    # The standard API: serving's reads of the registry itself (`all`), then registry's writes.
    path("v0/", include((root_urlpatterns, "v0"), namespace="v0")),
    path("v0.1/", include((root_urlpatterns, "v0.1"), namespace="v0.1")),
    # Unknown API paths answer problem+json for every method, even with DEBUG on; `[\s\S]`
    # and `\Z` so that no character (a newline) lets an API path fall through to the pages.
    re_path(r"^(?:v0|v0\.1|c)(?:/[\s\S]*)?\Z", errors_views.not_found, name=UNMATCHED_ROUTE),
    path("", include("web.urls")),
]

if settings.MCP_INDEX_BENCH_FLOOR:  # the read benchmark's floor (bench/floor.py); off by default
    from bench.floor import bare_view, floor_view

    urlpatterns[:0] = [path("_bench/floor", floor_view),
                       path("_bench/bare/<slug:key>", bare_view)]

handler400 = errors_views.bad_request
handler404 = errors_views.not_found
handler500 = errors_views.server_error

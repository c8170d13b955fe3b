"""Routes of the standard read API: the root's (with the registry's write routes) and a catalog's.

config/urls.py mounts `root_urlpatterns` at /v0/ and /v0.1/, `catalog_urlpatterns` at
/c/<slug>/v0/ and /c/<slug>/v0.1/, and `catalog_read_urlpatterns` at the root before the
root's own when the default catalog is not `all`.
"""

from django.conf import settings
from django.urls import URLPattern, URLResolver, path, re_path

from registry.api import urls as registry_urls
from registry.api import views as registry_views
from registry.api.urls import NAME, VERSION
from serving.api import search_views, tools, views


def read_urlpatterns(version_view: type[views.ServerVersionView]) -> list[URLPattern]:
    """servers, a server's versions, one version (served by `version_view`)."""
    return [
        path("servers", views.ServerListView.as_view(), name="servers"),
        re_path(rf"^servers/{NAME}/versions$", views.ServerVersionsView.as_view(),
                name="server-versions"),
        re_path(rf"^servers/{NAME}/versions/{VERSION}$", version_view.as_view(),
                name="server-version"),
    ]


def tools_urlpattern(prefix: str = "") -> URLPattern:
    """Our extension: a version's tool inventory (config/urls.py mounts it under the root's
    /v0.1/x/<ns>/; catalogs carry it under their own base URL)."""
    return re_path(rf"^{prefix}servers/{NAME}/versions/{VERSION}/tools$",
                   tools.VersionToolsView.as_view(), name="server-version-tools")


def probe_urlpattern() -> URLPattern:
    """Our extension: an administrator's "probe now" of a version (the root only)."""
    return re_path(rf"^servers/{NAME}/versions/{VERSION}/probe$", tools.ProbeNowView.as_view(),
                   name="server-version-probe")


# The registry itself: a version's URL also takes the PUT that replaces it.
root_urlpatterns: list[URLPattern | URLResolver] = [
    *read_urlpatterns(views.RootServerVersionView),
    *registry_urls.urlpatterns,
]

# Ranked search with scores and facets (config/urls mounts it under the root's x/<ns>/ too).
search_urlpatterns = [path("search", search_views.SearchView.as_view(), name="search")]

# A catalog's reads (also the root's, for a default catalog other than `all`).
catalog_read_urlpatterns = read_urlpatterns(views.ServerVersionView)
catalog_urlpatterns: list[URLPattern | URLResolver] = [
    *catalog_read_urlpatterns,
    path(f"x/{settings.MCP_INDEX_NAMESPACE}/search", search_views.SearchView.as_view(),
         name="search"),
    path("health", registry_views.HealthView.as_view(), name="health"),
    path("ping", registry_views.PingView.as_view(), name="ping"),
    tools_urlpattern(f"x/{settings.MCP_INDEX_NAMESPACE}/"),
]

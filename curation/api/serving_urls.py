"""Read routes of a catalog, mounted at /c/<slug>/v0/ and /c/<slug>/v0.1/ (and the root)."""

from django.urls import path, re_path

from curation.api import serving
from registry.api import views as registry_views
from registry.api.urls import NAME, VERSION

read_urlpatterns = [
    path("servers", serving.CatalogServerListView.as_view(), name="servers"),
    re_path(rf"^servers/{NAME}/versions$", serving.CatalogServerVersionsView.as_view(),
            name="server-versions"),
    re_path(rf"^servers/{NAME}/versions/{VERSION}$", serving.CatalogServerVersionView.as_view(),
            name="server-version"),
]

urlpatterns = [
    *read_urlpatterns,
    path("health", registry_views.HealthView.as_view(), name="health"),
    path("ping", registry_views.PingView.as_view(), name="ping"),
]

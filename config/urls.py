"""Top-level routes: the standard API under /v0 and /v0.1, our extensions, admin, pages."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from registry.api import errors_views

ext = f"v0.1/x/{settings.MCP_INDEX_NAMESPACE}/"

urlpatterns = [
    path("admin/", admin.site.urls),
    path(ext, include(("registry.api.ext_urls", "ext"), namespace="ext")),
    path("v0/", include(("registry.api.urls", "v0"), namespace="v0")),
    path("v0.1/", include(("registry.api.urls", "v0.1"), namespace="v0.1")),
    # Unknown API paths answer problem+json even with DEBUG on.
    re_path(r"^(?:v0|v0\.1|c)(?:/.*)?$", errors_views.not_found),
]

handler404 = errors_views.not_found
handler500 = errors_views.server_error

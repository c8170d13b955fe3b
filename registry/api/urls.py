"""Routes of the standard API's writes and meta endpoints, under both /v0 and /v0.1."""

from django.urls import path, re_path

from registry.api import auth_urls, views

# Names arrive URL-decoded (`io.github.x%2Fy` -> `io.github.x/y`); a name has one slash.
NAME = r"(?P<name>[^/]+/[^/]+)"
VERSION = r"(?P<version>[^/]+)"

# The write API. The read routes, and the PUT of a version that shares its URL with the read,
# are serving's (serving.api.urls mounts these after them).
urlpatterns = [
    re_path(rf"^servers/{NAME}/versions/{VERSION}/status$", views.VersionStatusView.as_view(),
            name="version-status"),
    re_path(rf"^servers/{NAME}/status$", views.ServerStatusView.as_view(), name="server-status"),
    path("publish", views.PublishView.as_view(), name="publish"),
    path("validate", views.ValidateView.as_view(), name="validate"),
    path("health", views.HealthView.as_view(), name="health"),
    path("ping", views.PingView.as_view(), name="ping"),
    path("version", views.VersionView.as_view(), name="version"),
    path("auth/none", views.AuthNoneView.as_view(), name="auth-none"),
]

# Namespace proofs: /auth/{http,dns,github-oidc,oidc,github-at}.
urlpatterns += auth_urls.urlpatterns

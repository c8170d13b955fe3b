"""Routes of the proof login endpoints; included by registry.api.urls under /v0 and /v0.1."""

from django.urls import path

from registry.api import auth_views

urlpatterns = [
    path("auth/http", auth_views.HttpAuthView.as_view(), name="auth-http"),
    path("auth/dns", auth_views.DnsAuthView.as_view(), name="auth-dns"),
    path("auth/github-oidc", auth_views.GitHubOidcAuthView.as_view(), name="auth-github-oidc"),
    path("auth/oidc", auth_views.OidcAuthView.as_view(), name="auth-oidc"),
    path("auth/github-at", auth_views.GitHubTokenAuthView.as_view(), name="auth-github-at"),
]

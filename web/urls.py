"""Page routes, mounted at the site root after the API."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from web import account_views, curation_views, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("guide/", views.guide, name="guide"),
    path("namespaces/<str:namespace>/", views.namespace_detail, name="namespace"),
    # Server names hold one slash (more in some mirrored entries): match lazily up to the
    # fixed suffixes so `versions/…` and `server.json` stay unambiguous.
    re_path(r"^servers/(?P<name>.+?)/versions/(?P<version>[^/]+)/server\.json$",
            views.server_json, name="server-json"),
    re_path(r"^servers/(?P<name>.+?)/versions/(?P<version>[^/]+)/$", views.server_detail,
            name="server-version"),
    re_path(r"^servers/(?P<name>.+)/$", views.server_detail, name="server"),
    path("catalogs/", curation_views.catalogs, name="catalogs"),
    path("catalogs/<slug:slug>/review/", curation_views.review_queue, name="review"),
    path("catalogs/<slug:slug>/review/decide/", curation_views.review_decide, name="review-decide"),
    path("catalogs/<slug:slug>/rules/", curation_views.rules_editor, name="rules"),
    path("catalogs/<slug:slug>/rules/preview/", curation_views.rules_preview, name="rules-preview"),
    path("upstreams/", curation_views.upstreams, name="upstreams"),
    path("upstreams/<slug:name>/sync/", curation_views.upstream_sync, name="upstream-sync"),
    path("account/", account_views.account, name="account"),
    path("account/tokens/", account_views.token_create, name="token-create"),
    path("account/tokens/<int:token_id>/revoke/", account_views.token_revoke, name="token-revoke"),
    path("account/feeds/", account_views.feed_create, name="feed-create"),
    path("account/feeds/<int:feed_id>/revoke/", account_views.feed_revoke, name="feed-revoke"),
    path("account/login/", auth_views.LoginView.as_view(
        template_name="web/login.html", redirect_authenticated_user=True,
        extra_context={"oidc_enabled": settings.MCP_INDEX_OIDC_ENABLED}), name="login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
]

if settings.MCP_INDEX_OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

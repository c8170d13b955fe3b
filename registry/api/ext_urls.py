"""Our extension routes, mounted under /v0.1/x/<MCP_INDEX_NAMESPACE>/."""

from django.urls import path

from registry.api import ext_views

urlpatterns = [
    path("whoami", ext_views.WhoAmIView.as_view(), name="whoami"),
    path("tokens", ext_views.TokensView.as_view(), name="tokens"),
    path("tokens/<int:token_id>", ext_views.TokenDetailView.as_view(), name="token-detail"),
]

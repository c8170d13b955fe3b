"""Curation extension routes, mounted under /v0.1/x/<MCP_INDEX_NAMESPACE>/."""

from django.urls import path

from curation.api import feeds, views

urlpatterns = [
    path("upstreams", views.UpstreamsView.as_view(), name="upstreams"),
    path("upstreams/<slug:name>", views.UpstreamDetailView.as_view(), name="upstream"),
    path("upstreams/<slug:name>/runs", views.UpstreamRunsView.as_view(), name="upstream-runs"),
    path("upstreams/<slug:name>/conflicts", views.UpstreamConflictsView.as_view(),
         name="upstream-conflicts"),
    path("upstreams/<slug:name>/sync", views.UpstreamSyncView.as_view(), name="upstream-sync"),
    path("catalogs", views.CatalogsView.as_view(), name="catalogs"),
    path("feeds", feeds.FeedsView.as_view(), name="feeds"),
    path("feeds/<int:feed_id>", feeds.FeedDetailView.as_view(), name="feed"),
    path("catalogs/<slug:slug>", views.CatalogDetailView.as_view(), name="catalog"),
    path("catalogs/<slug:slug>/rules", views.CatalogRulesView.as_view(), name="catalog-rules"),
    path("catalogs/<slug:slug>/pins", views.CatalogPinsView.as_view(), name="catalog-pins"),
    path("catalogs/<slug:slug>/overlays", views.CatalogOverlaysView.as_view(),
         name="catalog-overlays"),
    path("catalogs/<slug:slug>/reviews", views.CatalogReviewsView.as_view(),
         name="catalog-reviews"),
    path("catalogs/<slug:slug>/rebuild", views.CatalogRebuildView.as_view(),
         name="catalog-rebuild"),
]

"""Signing routes, mounted under /v0.1/x/<MCP_INDEX_NAMESPACE>/."""

from django.urls import path, re_path

from registry.api.urls import NAME, VERSION
from signing.api import views

urlpatterns = [
    re_path(
        rf"^servers/{NAME}/versions/{VERSION}/attestations$",
        views.AttestationsView.as_view(),
        name="attestations",
    ),
    path("principals", views.PrincipalsView.as_view(), name="principals"),
    path("policies", views.PoliciesView.as_view(), name="policies"),
    path("policies/<slug:slug>", views.PolicyView.as_view(), name="policy"),
    path("policies/<slug:slug>/evaluate", views.PolicyEvaluateView.as_view(), name="policy-evaluate"),
]

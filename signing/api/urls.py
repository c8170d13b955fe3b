"""Signing routes, mounted under /v0.1/x/<MCP_INDEX_NAMESPACE>/."""

from django.urls import path, re_path

from registry.api.urls import NAME, VERSION
from signing.api import trust_config, views

urlpatterns = [
    re_path(
        rf"^servers/{NAME}/versions/{VERSION}/attestations$",
        views.AttestationsView.as_view(),
        name="attestations",
    ),
    path("principals", trust_config.PrincipalsView.as_view(), name="principals"),
    path("principals/<slug:slug>", trust_config.PrincipalView.as_view(), name="principal"),
    path("trust-roots", trust_config.TrustRootsView.as_view(), name="trust-roots"),
    path("trust-roots/<slug:slug>", trust_config.TrustRootView.as_view(), name="trust-root"),
    path("policies", trust_config.PoliciesView.as_view(), name="policies"),
    path("policies/<slug:slug>", trust_config.PolicyView.as_view(), name="policy"),
    path("policies/<slug:slug>/evaluate", views.PolicyEvaluateView.as_view(), name="policy-evaluate"),
]

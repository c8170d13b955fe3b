"""Principals, trust roots and trust policies under /v0.1/x/<namespace>/.

Reads are public (identities, keys and roots are what anyone needs to re-verify, and
`mcp-index verify` saves policies from here); writes need a registry administrator (global
edit `*`). Each write parses its body in `signing.api.inputs` and calls one service in
`signing.services`, which audits it as the caller.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError
from django.db.models import Model, QuerySet
from django.http import HttpResponse
from rest_framework.request import Request

from registry.api.auth import require_caller
from registry.api.errors import Problem
from registry.api.render import json_response
from registry.api.views import RegistryView
from signing import services
from signing.api.inputs import policy_from_body, principal_from_body, trust_root_from_body
from signing.api.payloads import policy_json, principal_json, trust_root_json
from signing.models import Principal, TrustPolicy, TrustRoot

M = TypeVar("M", bound=Model)


def _dumps(body: Any, status: int = 200) -> HttpResponse:
    return json_response(json.dumps(body, separators=(",", ":")), status=status)


def _principals() -> QuerySet[Principal]:
    return Principal.objects.select_related("trust_root").order_by("slug")


def _roots() -> QuerySet[TrustRoot]:
    return TrustRoot.objects.prefetch_related("principals").order_by("slug")


def _policies() -> QuerySet[TrustPolicy]:
    return TrustPolicy.objects.prefetch_related("principals__trust_root").order_by("slug")


class TrustConfigView(RegistryView):
    """Base: the administrator check, the JSON body, and 404/409 for a slug."""

    what = "object"

    def admin(self, request: Request) -> str:
        """The caller's actor; 401 without a token, 403 without global edit."""
        caller = require_caller(request)
        if not caller.is_admin:
            raise Problem(403, "Only registry administrators (edit permission on '*') may "
                          "manage principals, trust roots and trust policies")
        return caller.actor

    def body(self, request: Request) -> dict[str, Any]:
        data = request.data
        if not isinstance(data, dict):
            raise Problem(400, "Request body must be a JSON object")
        return data

    def one(self, queryset: QuerySet[M], slug: str) -> M:
        found = queryset.filter(slug=slug).first()
        if found is None:
            raise Problem(404, f"{self.what.capitalize()} {slug} not found")
        return found

    def create(self, queryset: QuerySet[M], candidate: M, save: Callable[[], Any]) -> None:
        """Save a new object, 409 when its slug is taken (checked, and caught on a race)."""
        slug = getattr(candidate, "slug", "")
        if queryset.filter(slug=slug).exists():
            raise Problem(409, f"{self.what.capitalize()} {slug} already exists")
        try:
            save()
        except IntegrityError as exc:
            raise Problem(409, f"{self.what.capitalize()} {slug} already exists") from exc


class PrincipalsView(TrustConfigView):
    """GET every principal; POST adds one (the GET shape: id, kind, publicKey | sigstore, …)."""

    what = "principal"

    def get(self, request: Request) -> HttpResponse:
        items = [principal_json(p) for p in _principals()]
        return _dumps({"principals": items, "metadata": {"count": len(items)}})

    def post(self, request: Request) -> HttpResponse:
        actor = self.admin(request)
        principal = principal_from_body(self.body(request))
        self.create(Principal.objects.all(), principal,
                    lambda: services.principal_save(principal=principal, actor=actor))
        return _dumps(principal_json(principal), status=201)


class PrincipalView(TrustConfigView):
    """GET one principal; PATCH changes the given fields; DELETE removes it."""

    what = "principal"

    def get(self, request: Request, slug: str) -> HttpResponse:
        return _dumps(principal_json(self.one(_principals(), slug)))

    def patch(self, request: Request, slug: str) -> HttpResponse:
        actor = self.admin(request)
        principal = principal_from_body(self.body(request), existing=self.one(_principals(), slug))
        services.principal_save(principal=principal, actor=actor)
        return _dumps(principal_json(principal))

    def delete(self, request: Request, slug: str) -> HttpResponse:
        actor = self.admin(request)
        services.principal_delete(principal=self.one(_principals(), slug), actor=actor)
        return HttpResponse(status=204)


class TrustRootsView(TrustConfigView):
    """GET every trust root; POST adds one ({id, name, kind, trustedRoot, active})."""

    what = "trust root"

    def get(self, request: Request) -> HttpResponse:
        items = [trust_root_json(r) for r in _roots()]
        return _dumps({"trustRoots": items, "metadata": {"count": len(items)}})

    def post(self, request: Request) -> HttpResponse:
        actor = self.admin(request)
        root = trust_root_from_body(self.body(request))
        self.create(TrustRoot.objects.all(), root,
                    lambda: services.trust_root_save(root=root, actor=actor))
        return _dumps(trust_root_json(self.one(_roots(), root.slug)), status=201)


class TrustRootView(TrustConfigView):
    """GET one trust root; PATCH changes the given fields; DELETE removes an unused one."""

    what = "trust root"

    def get(self, request: Request, slug: str) -> HttpResponse:
        return _dumps(trust_root_json(self.one(_roots(), slug)))

    def patch(self, request: Request, slug: str) -> HttpResponse:
        actor = self.admin(request)
        root = trust_root_from_body(self.body(request), existing=self.one(_roots(), slug))
        services.trust_root_save(root=root, actor=actor)
        return _dumps(trust_root_json(self.one(_roots(), slug)))

    def delete(self, request: Request, slug: str) -> HttpResponse:
        actor = self.admin(request)
        services.trust_root_delete(root=self.one(TrustRoot.objects.all(), slug), actor=actor)
        return HttpResponse(status=204)


class PoliciesView(TrustConfigView):
    """GET every trust policy; POST adds one ({id, title, threshold, principals: [id], …})."""

    what = "policy"

    def get(self, request: Request) -> HttpResponse:
        items = [policy_json(p) for p in _policies()]
        return _dumps({"policies": items, "metadata": {"count": len(items)}})

    def post(self, request: Request) -> HttpResponse:
        actor = self.admin(request)
        change = policy_from_body(self.body(request))
        self.create(TrustPolicy.objects.all(), change.policy,
                    lambda: services.policy_save(policy=change.policy,
                                                 principals=change.principals, actor=actor))
        return _dumps(policy_json(self.one(_policies(), change.policy.slug)), status=201)


class PolicyView(TrustConfigView):
    """GET one trust policy, ready to save as a local policy file; PATCH; DELETE."""

    what = "policy"

    def get(self, request: Request, slug: str) -> HttpResponse:
        return _dumps(policy_json(self.one(_policies(), slug)))

    def patch(self, request: Request, slug: str) -> HttpResponse:
        actor = self.admin(request)
        change = policy_from_body(self.body(request), existing=self.one(_policies(), slug))
        services.policy_save(policy=change.policy, principals=change.principals, actor=actor)
        return _dumps(policy_json(self.one(_policies(), slug)))

    def delete(self, request: Request, slug: str) -> HttpResponse:
        actor = self.admin(request)
        services.policy_delete(policy=self.one(TrustPolicy.objects.all(), slug), actor=actor)
        return HttpResponse(status=204)

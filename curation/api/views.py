"""Our extension API for curation: upstreams and runs, catalogs, rules, pins, overlays, reviews."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from rest_framework.request import Request

from curation import selectors
from curation.api.payloads import (
    catalog_json,
    conflict_json,
    entry_json,
    optional_str,
    pin_json,
    rule_json,
    run_json,
    upstream_json,
)
from curation.models import Catalog, CatalogOverlay, SyncConflict, SyncRun, Upstream
from curation.services import catalogs as catalog_services
from curation.services import upstreams as upstream_services
from curation.tasks import upstream_sync_task
from registry.api.auth import require_caller
from registry.api.errors import Problem
from registry.api.render import json_response
from registry.api.views import RegistryView, _json_object


def _ok(body: Any, status: int = 200) -> HttpResponse:
    return json_response(json.dumps(body), status=status)


class AdminView(RegistryView):
    """Base for registry-administrator endpoints (global edit permission)."""

    def admin(self, request: Request) -> str:
        caller = require_caller(request)
        if not selectors.is_admin(caller):
            raise Problem(403, "Only registry administrators may manage upstreams and catalogs")
        return caller.actor

    def upstream(self, name: str) -> Upstream:
        upstream = Upstream.objects.filter(name=name).first()
        if upstream is None:
            raise Problem(404, f"No upstream named {name}")
        return upstream


class UpstreamsView(AdminView):
    """GET lists upstreams; POST adds one (`{name, base_url, auth_header?, …}`)."""

    def get(self, request: Request) -> HttpResponse:
        self.admin(request)
        return _ok({"upstreams": [upstream_json(u) for u in Upstream.objects.order_by("name")]})

    def post(self, request: Request) -> HttpResponse:
        actor = self.admin(request)
        body = dict(_json_object(request))
        name = body.pop("name", None)
        if not isinstance(name, str):
            raise Problem(422, "name is required")
        if Upstream.objects.filter(name=name).exists():
            raise Problem(409, f"Upstream {name} already exists")
        upstream, _ = upstream_services.upstream_save(name=name, fields=body, actor=actor)
        return _ok(upstream_json(upstream), status=201)


class UpstreamDetailView(AdminView):
    """GET one upstream with its last runs; PATCH changes it; DELETE removes it."""

    def get(self, request: Request, name: str) -> HttpResponse:
        self.admin(request)
        upstream = self.upstream(name)
        runs = [run_json(r) for r in upstream.runs.all()[:10]]
        return _ok({**upstream_json(upstream), "runs": runs})

    def patch(self, request: Request, name: str) -> HttpResponse:
        actor = self.admin(request)
        self.upstream(name)
        upstream, _ = upstream_services.upstream_save(name=name, fields=dict(_json_object(request)),
                                                      actor=actor)
        return _ok(upstream_json(upstream))

    def delete(self, request: Request, name: str) -> HttpResponse:
        actor = self.admin(request)
        upstream_services.upstream_delete(upstream=self.upstream(name), actor=actor)
        return HttpResponse(status=204)


class UpstreamRunsView(AdminView):
    """GET the sync runs of an upstream, newest first."""

    def get(self, request: Request, name: str) -> HttpResponse:
        self.admin(request)
        runs = SyncRun.objects.filter(upstream=self.upstream(name))[:100]
        return _ok({"runs": [run_json(r, log=True) for r in runs]})


class UpstreamConflictsView(AdminView):
    """GET the entries refused because they would shadow internal or reserved names."""

    def get(self, request: Request, name: str) -> HttpResponse:
        self.admin(request)
        rows = SyncConflict.objects.filter(upstream=self.upstream(name)).order_by("name", "version")
        return _ok({"conflicts": [conflict_json(c) for c in rows[:1000]]})


class UpstreamSyncView(AdminView):
    """POST starts a sync (`{"full": bool}`), queued after commit; 202."""

    def post(self, request: Request, name: str) -> HttpResponse:
        self.admin(request)
        upstream = self.upstream(name)
        body = _json_object(request) if request.body else {}
        full = body.get("full", False)
        if not isinstance(full, bool):
            raise Problem(422, "full must be true or false")
        transaction.on_commit(lambda: upstream_sync_task.delay(upstream.pk, full))
        return _ok({"queued": True, "upstream": name, "full": full}, status=202)


class CatalogBaseView(RegistryView):
    """Base: resolves a stored catalog and checks the caller's catalog role."""

    def catalog(self, request: Request, slug: str, role: str) -> tuple[Catalog, str]:
        ref = selectors.catalog_resolve(slug)
        if ref.catalog is None:
            raise Problem(400, "The built-in catalog 'all' has no settings to manage")
        caller = request.auth
        if role == "viewer" and ref.catalog.public:
            return ref.catalog, caller.actor if caller else "anonymous"
        caller = require_caller(request)
        if role not in selectors.catalog_roles(slug, caller):
            raise Problem(403, f"This needs the {role} role in catalog {slug}")
        return ref.catalog, caller.actor


class CatalogsView(AdminView):
    """GET the catalogs the caller may read; POST creates one (administrators)."""

    def get(self, request: Request) -> HttpResponse:
        catalogs = selectors.catalogs_visible(request.auth)
        return _ok({"catalogs": [{"slug": "all", "title": "Everything", "public": True}]
                    + [catalog_json(c) for c in catalogs]})

    def post(self, request: Request) -> HttpResponse:
        actor = self.admin(request)
        body = dict(_json_object(request))
        slug = body.pop("slug", None)
        if not isinstance(slug, str):
            raise Problem(422, "slug is required")
        catalog = catalog_services.catalog_create(slug=slug, fields=body, actor=actor)
        return _ok(catalog_json(catalog), status=201)


class CatalogDetailView(CatalogBaseView):
    """GET a catalog's settings, rules and pins; PATCH changes settings (owner)."""

    def get(self, request: Request, slug: str) -> HttpResponse:
        catalog, _ = self.catalog(request, slug, "viewer")
        return _ok({**catalog_json(catalog), "rules": [rule_json(r) for r in catalog.rules.all()],
                    "pins": [pin_json(p) for p in catalog.pins.order_by("name")]})

    def patch(self, request: Request, slug: str) -> HttpResponse:
        catalog, actor = self.catalog(request, slug, "owner")
        catalog = catalog_services.catalog_update(catalog=catalog,
                                                  fields=dict(_json_object(request)), actor=actor)
        return _ok(catalog_json(catalog))


class CatalogRulesView(CatalogBaseView):
    """GET the ordered rules; PUT replaces them (`{"rules": [...]}`, owner)."""

    def get(self, request: Request, slug: str) -> HttpResponse:
        catalog, _ = self.catalog(request, slug, "viewer")
        return _ok({"rules": [rule_json(r) for r in catalog.rules.all()]})

    def put(self, request: Request, slug: str) -> HttpResponse:
        catalog, actor = self.catalog(request, slug, "owner")
        rules = _json_object(request).get("rules")
        created = catalog_services.catalog_rules_replace(catalog=catalog, rules=rules, actor=actor)
        return _ok({"rules": [rule_json(r) for r in created]})


class CatalogPinsView(CatalogBaseView):
    """POST `{name, version, note?}` pins a server; `version: null` unpins (owner)."""

    def post(self, request: Request, slug: str) -> HttpResponse:
        catalog, actor = self.catalog(request, slug, "owner")
        body = _json_object(request)
        name = body.get("name")
        version = body.get("version")
        if not isinstance(name, str) or (version is not None and not isinstance(version, str)):
            raise Problem(422, "name (string) and version (string or null) are required")
        pin = catalog_services.catalog_pin(catalog=catalog, name=name, version=version,
                                           note=optional_str(body, "note"), actor=actor)
        return _ok(pin_json(pin) if pin else {"name": name, "version": None})


class CatalogOverlaysView(CatalogBaseView):
    """PUT `{name, tags, notes, featured, install_notes}` annotates a server (owner)."""

    def put(self, request: Request, slug: str) -> HttpResponse:
        catalog, actor = self.catalog(request, slug, "owner")
        body = _json_object(request)
        name, featured = body.get("name"), body.get("featured", False)
        if not isinstance(name, str) or not isinstance(featured, bool):
            raise Problem(422, "name (string) is required; featured must be a boolean")
        overlay = catalog_services.catalog_overlay_set(
            catalog=catalog, name=name, tags=body.get("tags", []), notes=optional_str(body, "notes"),
            featured=featured, install_notes=optional_str(body, "install_notes"), actor=actor)
        return _ok(_overlay_json(overlay))


def _overlay_json(o: CatalogOverlay) -> dict[str, Any]:
    return {"name": o.name, "tags": o.tags, "notes": o.notes, "featured": o.featured,
            "install_notes": o.install_notes}


class CatalogReviewsView(CatalogBaseView):
    """GET the pending queue (reviewer); POST a decision (reviewer).

    Body: `{name, version?, decision: approve|reject, reason, include_future?}`; without a
    version the decision covers the whole server.
    """

    def get(self, request: Request, slug: str) -> HttpResponse:
        catalog, _ = self.catalog(request, slug, "reviewer")
        return _ok({"pending": [entry_json(e) for e in selectors.review_queue(catalog)]})

    def post(self, request: Request, slug: str) -> HttpResponse:
        catalog, actor = self.catalog(request, slug, "reviewer")
        body = _json_object(request)
        name, version, decision = body.get("name"), body.get("version"), body.get("decision")
        include_future = body.get("include_future", False)
        if not isinstance(name, str) or (version is not None and not isinstance(version, str)):
            raise Problem(422, "name (string) is required; version must be a string if given")
        if decision not in ("approve", "reject") or not isinstance(include_future, bool):
            raise Problem(422, "decision must be approve or reject; include_future a boolean")
        reason = optional_str(body, "reason")
        created = catalog_services.review_decide(
            catalog=catalog, name=name, version=version, approve=decision == "approve",
            reason=reason, include_future=include_future, actor=actor)
        return _ok({"decisions": len(created), "name": name, "version": version,
                    "decision": decision}, status=201)


class CatalogRebuildView(CatalogBaseView):
    """POST queues a full rebuild of the catalog (owner); 202."""

    def post(self, request: Request, slug: str) -> HttpResponse:
        catalog, actor = self.catalog(request, slug, "owner")
        catalog_services.catalog_request_rebuild(catalog=catalog, actor=actor)
        return _ok({"queued": True, "catalog": slug}, status=202)

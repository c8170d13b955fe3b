"""Curation screens: catalogs, the review queue, the rules editor, upstream status."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from curation.models import Catalog, Upstream
from curation.services import catalogs as catalog_services
from curation.tasks import upstream_sync_task
from registry.errors import RegistryError
from web import curation
from web.curation_forms import (
    DecisionForm,
    DefaultActionForm,
    RuleFormSet,
    formset_payloads,
    rule_initial,
    rule_specs,
)


def _forbidden(request: HttpRequest, what: str) -> HttpResponse:
    return render(request, "web/403.html", {"what": what}, status=403)


def _catalog(request: HttpRequest, slug: str, role: str) -> Catalog | HttpResponse:
    """The catalog when the user holds `role` in it, else a 404 or 403 page."""
    catalog = Catalog.objects.filter(slug=slug).first()
    if catalog is None or not curation.catalog_readable(request.user, catalog):
        return render(request, "web/404.html", {"what": f"catalog {slug}"}, status=404)
    if role not in curation.roles(request.user, catalog):
        return _forbidden(request, f"the {role} role in catalog {slug}")
    return catalog


def _actor(request: HttpRequest) -> str:
    caller = curation.user_caller(request.user)
    assert caller is not None
    return caller.actor


@require_GET
def catalogs(request: HttpRequest) -> HttpResponse:
    """Every catalog the user may read: counts, API base URL, links to curate."""
    return render(request, "web/catalogs.html", {
        "cards": curation.catalogs_for(request.user), "is_admin": curation.is_admin(request.user),
        "base": request.build_absolute_uri("/").rstrip("/")})


@require_GET
@login_required
def review_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """Pending versions of a catalog, oldest first, each with approve and reject."""
    catalog = _catalog(request, slug, "reviewer")
    if isinstance(catalog, HttpResponse):
        return catalog
    return render(request, "web/review.html", {"catalog": catalog,
                                               "entries": curation.review_queue(catalog)})


@require_POST
@login_required
def review_decide(request: HttpRequest, slug: str) -> HttpResponse:
    """Record a reviewer's decision through curation's service."""
    catalog = _catalog(request, slug, "reviewer")
    if isinstance(catalog, HttpResponse):
        return catalog
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return render(request, "web/review.html", {"catalog": catalog, "form_errors": form.errors,
                                                   "entries": curation.review_queue(catalog)},
                      status=400)
    data = form.cleaned_data
    approve = data["decision"] == "approve"
    try:
        catalog_services.review_decide(
            catalog=catalog, name=data["name"], version=data["version"], approve=approve,
            reason=data["reason"], include_future=data["include_future"], actor=_actor(request))
    except RegistryError as exc:
        messages.error(request, str(exc))
        return redirect("web:review", slug=slug)
    verdict = "approved" if approve else "rejected"
    if request.headers.get("HX-Request") == "true":
        return render(request, "web/_review_done.html", {"name": data["name"],
                      "version": data["version"], "verdict": verdict, "catalog": catalog})
    messages.success(request, f"{data['name']} {data['version']} {verdict}.")
    return redirect("web:review", slug=slug)


@require_http_methods(["GET", "POST"])
@login_required
def rules_editor(request: HttpRequest, slug: str) -> HttpResponse:
    """Edit a catalog's ordered rules; saving rebuilds its membership."""
    catalog = _catalog(request, slug, "owner")
    if isinstance(catalog, HttpResponse):
        return catalog
    if request.method == "POST":
        formset = RuleFormSet(request.POST, prefix="rules")
        default = DefaultActionForm(request.POST)
        if formset.is_valid() and default.is_valid():
            try:
                catalog_services.catalog_rules_replace(catalog=catalog, actor=_actor(request),
                                                       rules=formset_payloads(formset))
                if default.cleaned_data["default_action"] != catalog.default_action:
                    catalog_services.catalog_update(catalog=catalog, actor=_actor(request), fields={
                        "default_action": default.cleaned_data["default_action"]})
            except RegistryError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Rules saved; the catalog is being rebuilt.")
                return redirect("web:rules", slug=slug)
        status = 400
    else:
        formset = RuleFormSet(prefix="rules",
                              initial=[rule_initial(r) for r in catalog.rules.order_by("position")])
        default = DefaultActionForm(initial={"default_action": catalog.default_action})
        status = 200
    return render(request, "web/rules.html", {"catalog": catalog, "formset": formset,
                                              "default": default}, status=status)


@require_POST
@login_required
def rules_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """What the rules being edited would admit (htmx partial; nothing is saved)."""
    catalog = _catalog(request, slug, "owner")
    if isinstance(catalog, HttpResponse):
        return catalog
    formset = RuleFormSet(request.POST, prefix="rules")
    default = DefaultActionForm(request.POST)
    if not (formset.is_valid() and default.is_valid()):
        return render(request, "web/_rules_preview.html", {"invalid": True})
    preview = curation.rules_preview(catalog, rule_specs(formset_payloads(formset)),
                                     default.cleaned_data["default_action"])
    return render(request, "web/_rules_preview.html", {"preview": preview})


@require_GET
@login_required
def upstreams(request: HttpRequest) -> HttpResponse:
    """Mirror status: last sync, counts, errors and conflicts per upstream."""
    if not curation.is_admin(request.user):
        return _forbidden(request, "registry administrator rights")
    return render(request, "web/upstreams.html", {"statuses": curation.upstream_statuses()})


@require_POST
@login_required
def upstream_sync(request: HttpRequest, name: str) -> HttpResponse:
    """Queue a sync now (incremental, or full with `full=1`), as the API does."""
    if not curation.is_admin(request.user):
        return _forbidden(request, "registry administrator rights")
    upstream = Upstream.objects.filter(name=name).first()
    if upstream is None:
        return render(request, "web/404.html", {"what": f"upstream {name}"}, status=404)
    full = request.POST.get("full") == "1"
    transaction.on_commit(lambda: upstream_sync_task.delay(upstream.pk, full))
    messages.success(request, f"{'Full' if full else 'Incremental'} sync of {name} queued.")
    return redirect("web:upstreams")

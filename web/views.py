"""Browse pages: home and search, server, namespace, raw server.json, guide."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from curation.models import Catalog
from mcp_index_common.clientconfig import server_key
from web import curation, selectors
from web.forms import SearchForm
from web.guide import scope_setup

PAGE_SIZE = 30


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def _results(request: HttpRequest, filters: selectors.Filters) -> dict:
    extra: dict = {}
    if filters.ranked:  # relevance order, facets and "did you mean" from the ranked search
        ranked = selectors.ranked_search(filters)
        found: object = ranked.versions
        extra = {"facets": ranked.facets, "suggestion": ranked.suggestion}
    else:
        found = selectors.server_search(filters)
    paginator = Paginator(found, PAGE_SIZE)  # type: ignore[arg-type]
    page = paginator.get_page(request.GET.get("page"))
    return {"page": page, "cards": [selectors.ServerCard.of(sv) for sv in page.object_list],
            "filters": filters, **extra}


def not_found(request: HttpRequest, what: str) -> HttpResponse:
    return render(request, "web/404.html", {"what": what}, status=404)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Search and browse the latest version of every server."""
    form = SearchForm(request.GET, user=request.user)
    context = {"form": form, **_results(request, form.filters())}
    template = "web/_results.html" if _is_htmx(request) else "web/home.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def server_detail(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    """One server: a version (the latest by default), how to run it, its history."""
    sv = selectors.server_version(name, version)
    if sv is None:
        return not_found(request, f"server {name}" + (f" version {version}" if version else ""))
    return render(request, "web/server.html", {"p": selectors.server_page(sv, request.user),
                                               "requested_version": version})


@require_GET
def server_json(request: HttpRequest, name: str, version: str) -> HttpResponse:
    """The manifest exactly as published, as a download."""
    sv = selectors.server_version(name, version)
    if sv is None:
        return not_found(request, f"server {name} version {version}")
    response = HttpResponse(sv.manifest_text, content_type="application/json; charset=utf-8")
    filename = f"{server_key(sv.name)}-{server_key(sv.version)}.server.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def namespace_detail(request: HttpRequest, namespace: str) -> HttpResponse:
    """Every server in a namespace."""
    form = SearchForm(request.GET, user=request.user)
    filters = selectors.Filters(**{**form.filters().__dict__, "namespace": namespace})
    context = {"form": form, "namespace": namespace,
               "counts": selectors.namespace_summary(namespace), **_results(request, filters)}
    if _is_htmx(request):
        response = render(request, "web/_results.html", context)
    elif not context["page"].paginator.count and not any(context["counts"].values()):
        return not_found(request, f"namespace {namespace}")
    else:
        response = render(request, "web/namespace.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def guide(request: HttpRequest) -> HttpResponse:
    """How to point clients and agents at this registry or one of its catalogs."""
    base = request.build_absolute_uri("/").rstrip("/")
    choices = curation.catalog_choices(request.user)
    slug = request.GET.get("catalog", "")
    catalog = Catalog.objects.filter(slug=slug).first() if slug in dict(choices) else None
    return render(request, "web/guide.html", {
        "base": base, "default_catalog": settings.MCP_INDEX_DEFAULT_CATALOG,
        "namespace": settings.MCP_INDEX_NAMESPACE, "catalogs": choices,
        "setup": scope_setup(base=base, catalog=catalog)})

"""/openapi.json, /openapi.yaml and /docs: the document as built by apidocs.document."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apidocs import document
from apidocs.page import page_context

# Public and the same for everyone: anything (a CDN, another site's renderer) may fetch it.
_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


@require_safe
def openapi_json(request: HttpRequest) -> HttpResponse:
    return HttpResponse(document.as_json(), content_type="application/json", headers=_HEADERS)


@require_safe
def openapi_yaml(request: HttpRequest) -> HttpResponse:
    return HttpResponse(document.as_yaml(), content_type="application/yaml; charset=utf-8",
                        headers=_HEADERS)


@require_safe
def docs(request: HttpRequest) -> HttpResponse:
    """Every operation rendered on the server: no script, nothing fetched from elsewhere."""
    return render(request, "apidocs/docs.html", page_context(document.document()))

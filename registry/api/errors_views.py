"""Django-level 404/500 handlers: problem+json on API paths, plain pages elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from registry.api.errors import problem_response
from registry.api.middleware import is_api_path


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request.path) or request.path.startswith("/v"):
        hint = ""
        if not request.path.startswith(("/v0/", "/v0.1/")):
            hint = " (did you mean /v0.1/servers?)"
        return problem_response(404, f"No such endpoint: {request.path}{hint}")
    return defaults.page_not_found(request, exception or Exception())


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path):
        return problem_response(500, "Internal server error")
    return defaults.server_error(request)

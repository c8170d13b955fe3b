"""Django-level 400/404/500 handlers: problem+json on API paths, plain pages elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from registry.api.errors import problem_response
from registry.api.middleware import is_api_path


# Also the catch-all of unknown API paths (config/urls.py), for every method: a POST to an
# unknown path is answered 404 problem+json, not with the CSRF failure page (there is no
# session or form behind an API path for CSRF to protect).
@csrf_exempt
def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request.path) or request.path.startswith("/v"):
        hint = ""
        if not request.path.startswith(("/v0/", "/v0.1/")):
            hint = " (did you mean /v0.1/servers?)"
        return problem_response(404, f"No such endpoint: {request.path}{hint}")
    return defaults.page_not_found(request, exception or Exception())


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A refused request (e.g. by ops.middleware.InputBoundaryMiddleware), with its reason."""
    reason = str(exception) if exception is not None and str(exception) else "Bad request"
    if is_api_path(request.path):
        return problem_response(400, reason)
    return render(request, "web/400.html", {"reason": reason}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path):
        return problem_response(500, "Internal server error")
    return defaults.server_error(request)

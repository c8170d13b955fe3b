"""A Content-Security-Policy on every HTML page: manifest text can never run script."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Scripts and styles come only from our static files (no inline code); icons may be any
# https image (an <img> cannot run an SVG's scripts).
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
          "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
          "frame-ancestors 'none'")


class ContentSecurityPolicyMiddleware:
    """Adds the policy to HTML responses outside the admin (which has inline code)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        html = response.get("Content-Type", "").startswith("text/html")
        if html and not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", POLICY)
        return response

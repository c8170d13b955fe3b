"""The benchmark floor: a constant body through the full middleware stack, no database.

Routed at `/_bench/floor` only when MCP_INDEX_BENCH_FLOOR is on (config/urls.py). The read
benchmark reports every endpoint as a ratio of this view's requests/s under the same
gunicorn config, so the numbers say what the app costs above Django + gunicorn itself.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

BODY = b'{"floor":true}'


def floor_view(request: HttpRequest) -> HttpResponse:
    """Always the same small JSON body."""
    return HttpResponse(BODY, content_type="application/json")

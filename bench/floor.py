"""The benchmark floors: a constant body through the full middleware stack, and the bare floor.

Routed only when MCP_INDEX_BENCH_FLOOR is on (config/urls.py); off by default.
- `/_bench/floor`: always the same small body, through the project's whole middleware stack:
  what the stack itself costs.
- `/_bench/bare/<key>`: the bytes an endpoint answered (written by the read benchmark to
  MCP_INDEX_BENCH_BARE_DIR/<key>.body), served by a Django handler with *no middleware*
  (bench/wsgi.py routes these paths to it): the real floor, what Django and gunicorn alone
  cost for the same response. The read benchmark reports every endpoint against both.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse

BODY = b'{"floor":true}'
_bodies: dict[str, bytes] = {}


def floor_view(request: HttpRequest) -> HttpResponse:
    """Always the same small JSON body."""
    return HttpResponse(BODY, content_type="application/json")


def bare_view(request: HttpRequest, key: str) -> HttpResponse:
    """The stored bytes of one endpoint, read once per process."""
    body = _bodies.get(key)
    if body is None:
        path = Path(os.environ.get("MCP_INDEX_BENCH_BARE_DIR", "")) / f"{key}.body"
        if not path.is_file():
            raise Http404(key)
        body = _bodies[key] = path.read_bytes()
    return HttpResponse(body, content_type="application/json")

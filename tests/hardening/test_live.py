"""The boundary on a real gunicorn (raw bytes on the wire, DEBUG pages, worker timeouts)."""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from tests.support.database import db_url
from tests.support.gunicorn import Gunicorn

pytestmark = pytest.mark.django_db(transaction=True)


def _cursor(name_json: str) -> str:
    return base64.urlsafe_b64encode(f'["{name_json}","1"]'.encode()).decode().rstrip("=")


@pytest.fixture
def debug_server(tmp_path):
    server = Gunicorn(tmp_path / "gunicorn.log", {"DJANGO_DEBUG": "1", "DATABASE_URL": db_url()})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_hostile_urls_on_a_debug_gunicorn(debug_server):
    server = debug_server

    # A lone surrogate inside a base64 cursor: the debug 500 page could not be encoded and
    # every middleware layer rendered it again, until gunicorn killed the worker (~30 s).
    started = time.monotonic()
    response = server.get("/v0/servers", params={"cursor": _cursor("\\ud800")})
    assert time.monotonic() - started < 10, server.output()
    assert response.status_code in (400, 500)
    if response.status_code == 500:  # until the cursor decoder refuses it (serving/)
        assert "UnicodeEncodeError" in response.text
        assert "\\ud800" in response.text  # escaped, so the page could be sent
    assert server.get("/v0/ping").status_code == 200  # the worker is still there

    nul_query = server.get("/v0/servers?search=a%00b")
    assert nul_query.status_code == 400
    assert nul_query.headers["Content-Type"] == "application/problem+json"
    surrogate_query = server.get("/c/all/v0.1/servers?search=%ED%A0%80")
    assert surrogate_query.status_code == 400
    newline = server.get("/v0/servers%0A")
    assert (newline.status_code, newline.headers["Content-Type"]) == (400, "application/problem+json")
    page = server.get("/servers/a%00b/")
    assert page.status_code == 400 and page.headers["Content-Type"].startswith("text/html")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        unknown = httpx.request(method, server.url + "/v0/nope", content=b"{}", timeout=20,
                                headers={"Content-Type": "application/json"})
        assert unknown.status_code == 404, (method, unknown.text[:200])
        assert unknown.headers["Content-Type"] == "application/problem+json"
    deep = httpx.post(server.url + "/v0/validate", content=b"[" * 100_000 + b"]" * 100_000,
                      headers={"Content-Type": "application/json"}, timeout=20)
    assert deep.status_code == 400 and "nested" in deep.json()["detail"]

"""VS Code's gallery and Copilot CLI, replayed step by step against the app under gunicorn,
for the root, a public catalog, and a private catalog through a feed URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from curation.models import Catalog
from curation.services.feeds import feed_create
from tests.support.clients import OFFICIAL, VsCodeGallery, copilot_cli_lookup
from tests.support.database import db_url
from tests.support.factories import CatalogFactory
from tests.support.gunicorn import Gunicorn

pytestmark = pytest.mark.django_db(transaction=True)
DB_SERVERS = [f"io.github.acme/db-{i:02}" for i in range(55)]  # more than a page of "db"
OTHER_SERVERS = [f"io.github.zeta/tool-{i:02}" for i in range(10)]
ALL = sorted(DB_SERVERS + OTHER_SERVERS)


@pytest.fixture
def registry(add_server: Callable[..., Any], tmp_path: Path) -> Iterator[Gunicorn]:
    """65 servers, a public catalog `team`, a private catalog `corp`; gunicorn serving them."""
    for name in ALL:
        add_server(name)
    add_server("io.github.acme/db-00", "1.1.0")  # two versions: latest must be 1.1.0
    CatalogFactory(slug="team", title="Team", actor="admin")
    CatalogFactory(slug="corp", title="Corp", public=False, actor="admin")
    server = Gunicorn(tmp_path / "gunicorn.log", {"DATABASE_URL": db_url()})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def feed_url(server: Gunicorn, slug: str = "corp") -> str:
    created = feed_create(catalog=Catalog.objects.get(slug=slug), name="vscode", actor="user:alice")
    return f"{server.url}/c/{slug}/k/{created.secret}"


def service_urls(server: Gunicorn) -> dict[str, str]:
    return {"root": server.url, "public catalog": f"{server.url}/c/team",
            "private catalog (feed)": feed_url(server)}


def replay_gallery(service_url: str) -> VsCodeGallery:
    """VS Code's sequence: probe, list, next page, resolve an installed server, a 404."""
    gallery = VsCodeGallery(service_url)
    assert gallery.probe() == "v0.1"
    first = gallery.first_page()
    assert first.names == ALL[:50] and first.cursor
    for item in first.items:
        assert item["_meta"][OFFICIAL]["isLatest"] is True
    assert next(i for i in first.items if i["server"]["name"] == "io.github.acme/db-00"
                )["server"]["version"] == "1.1.0"
    second = gallery.next_page(first.cursor)
    assert "%" not in second.url.split("cursor=")[1]  # sent exactly as received
    assert second.names == ALL[50:] and second.cursor is None
    installed = gallery.get_server("io.github.acme/db-00")
    assert installed is not None and installed["server"]["version"] == "1.1.0"
    assert gallery.get_server("io.github.acme/DB-00") is None  # names match exactly
    assert gallery.get_server("io.github.acme/not-there") is None
    return gallery


def test_vscode_gallery_on_every_kind_of_base_url(registry):
    urls = service_urls(registry)
    for label, url in urls.items():
        gallery = replay_gallery(url)
        assert all("Authorization" not in r.headers for r in gallery.requests), label
    secret = urls["private catalog (feed)"].rsplit("/k/", 1)[1]
    logged = registry.log_path.read_text()
    assert "/c/corp/k/<redacted>/v0.1/servers" in logged  # the access log, JSON
    assert "Not Found: /c/corp/k/<redacted>/" in logged  # Django's 404 warning
    assert secret not in logged


def test_a_private_catalog_without_a_feed_is_closed_to_vscode(registry):
    denied = httpx.get(f"{registry.url}/c/corp/v0.1/servers?limit=1", timeout=20)
    assert denied.status_code == 401 and denied.headers["WWW-Authenticate"].startswith("Bearer")
    gallery = VsCodeGallery(f"{registry.url}/c/corp")
    with pytest.raises(AssertionError, match="no registry API"):
        gallery.probe()


def test_copilot_cli_checks_a_server_with_no_authorization(registry):
    for label, url in service_urls(registry).items():
        found = copilot_cli_lookup(url, "io.github.zeta/tool-03")
        assert found.status_code == 200, (label, found.text[:200])
        assert found.json()["server"]["name"] == "io.github.zeta/tool-03"
        assert "Authorization" not in found.request.headers
        assert copilot_cli_lookup(url, "io.github.zeta/unknown").status_code == 404, label


def test_cors_preflight_as_a_browser_sends_it(registry):
    for url in (registry.url, f"{registry.url}/c/team", feed_url(registry)):
        preflight = httpx.options(f"{url}/v0.1/servers", timeout=20, headers={
            "Origin": "https://vscode.dev", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        methods = {m.strip() for m in preflight.headers["Access-Control-Allow-Methods"].split(",")}
        assert {"GET", "OPTIONS"} <= methods
        allowed = {h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "content-type"} <= allowed
    write = httpx.options(f"{registry.url}/v0.1/servers/x%2Fy/versions/1.0.0/status", timeout=20)
    assert "PATCH" in write.headers["Access-Control-Allow-Methods"]


def test_page_two_of_a_search_with_only_the_cursor(registry):
    """VS Code drops `search` from the next-page URL: the cursor alone must carry it.
    Results come ranked (most relevant first), so the pages are compared as sets."""
    for label, url in service_urls(registry).items():
        gallery = VsCodeGallery(url)
        gallery.probe()
        first = gallery.first_page(search="db")
        assert len(first.names) == 50 and set(first.names) <= set(DB_SERVERS), label
        assert first.cursor, label
        second = gallery.next_page(first.cursor)
        assert set(second.names) == set(DB_SERVERS) - set(first.names), label
        assert len(second.names) == len(DB_SERVERS) - 50, label

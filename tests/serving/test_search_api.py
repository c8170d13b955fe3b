"""The standard `search` parameter: ranked, paged by a cursor that carries the whole query."""

from __future__ import annotations

import pytest

from curation.selectors import catalog_resolve
from discovery import ranking
from tests.support.factories import CatalogFactory, ServerVersionFactory

pytestmark = pytest.mark.django_db
DESCRIPTIONS = ["PostgreSQL database tools", "Query a Postgres database with SQL",
                "A database of recipes", "Read and write files", "Weather forecasts",
                "Postgres backups and restores", "MySQL database admin"]


@pytest.fixture(autouse=True)
def fresh_indexes(settings) -> None:
    settings.MCP_INDEX_RESPONSE_CACHE = False
    ranking.forget()


@pytest.fixture
def servers(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for i, text in enumerate(DESCRIPTIONS):
            ServerVersionFactory(name=f"io.github.acme/s{i}", description=text)
        CatalogFactory(slug="team")
    assert catalog_resolve("team").catalog is not None


def names(body: dict) -> list[str]:
    return [s["server"]["name"] for s in body["servers"]]


@pytest.mark.parametrize("base", ["/v0.1", "/c/team/v0.1"])
def test_a_search_pages_with_the_cursor_alone(client, servers, base) -> None:
    whole = client.get(f"{base}/servers", {"search": "postgres database", "limit": 50}).json()
    assert names(whole)[0] in {"io.github.acme/s0", "io.github.acme/s1"}
    assert "io.github.acme/s4" not in names(whole)  # weather: not padded in
    first = client.get(f"{base}/servers", {"search": "postgres database", "limit": 2}).json()
    cursor = first["metadata"]["nextCursor"]
    assert cursor.startswith("s1.") and all(c.isalnum() or c in "-_." for c in cursor)
    second = client.get(f"{base}/servers", {"cursor": cursor, "limit": 2}).json()  # no search
    assert names(first) + names(second) == names(whole)[:4]


def test_the_cursor_keeps_the_filters(client, servers, django_capture_on_commit_callbacks
                                      ) -> None:
    from registry.services import version_set_status
    with django_capture_on_commit_callbacks(execute=True):
        version_set_status(name="io.github.acme/s1", version="1.0.0", status="deleted",
                           message=None, actor="t")
    seen = []
    page = client.get("/v0.1/servers", {"search": "postgres database", "limit": 1,
                                        "include_deleted": "true"}).json()
    while True:
        seen += names(page)
        cursor = page["metadata"].get("nextCursor")
        if not cursor:
            break
        page = client.get("/v0.1/servers", {"cursor": cursor, "limit": 1}).json()
    assert "io.github.acme/s1" in seen  # include_deleted came along in the cursor
    assert len(seen) == len(set(seen))


def test_a_tampered_or_foreign_cursor_is_a_400(client, servers) -> None:
    first = client.get("/v0.1/servers", {"search": "database", "limit": 1}).json()
    cursor = first["metadata"]["nextCursor"]
    payload, mac = cursor[3:].split(".")
    edited = "s1." + payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac
    for bad in (edited, cursor + "x", "s1.abc", "s1." + payload + ".", cursor[:-1]):
        response = client.get("/v0.1/servers", {"cursor": bad})
        assert response.status_code == 400, bad
        assert response["Content-Type"].startswith("application/problem+json")
    assert client.get("/c/team/v0.1/servers", {"cursor": cursor}).status_code == 400  # foreign


def test_listing_without_search_keeps_keyset_pages(client, servers) -> None:
    first = client.get("/v0.1/servers", {"limit": 3}).json()
    assert not first["metadata"]["nextCursor"].startswith("s1.")
    second = client.get("/v0.1/servers", {"limit": 3, "cursor": first["metadata"]["nextCursor"]})
    assert names(first) == sorted(names(first)) and names(second.json())[0] > names(first)[-1]


@pytest.mark.parametrize("search", ["%00", "a%00b", "%ED%A0%80", "%FF%FE", "x" * 501, "%25" * 400,
                                    "'%20OR%201=1%20--", "((((((", "%5C", "日本語", "%F0%9F%99%82" * 50])
def test_hostile_searches_are_4xx_or_answers_never_500(client, servers, search) -> None:
    response = client.get(f"/v0.1/servers?search={search}")
    assert response.status_code < 500
    if response.status_code == 200:
        assert isinstance(response.json()["servers"], list)

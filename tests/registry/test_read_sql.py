"""The hand-written SQL reads (registry.read_sql) answer exactly what the ORM path answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from registry import selectors
from registry.models import ServerVersion
from registry.services import version_ingest, version_set_status
from tests.support.data import SNAPSHOT, load_json
from tests.support.factories import CatalogFactory, ServerVersionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # each test ingests 300 snapshot entries


@pytest.fixture
def mixed() -> None:
    """Mirrored entries (upstream `_meta`, deleted and deprecated ones), local publishes,
    status messages, and timestamps with and without trailing zeros in the fraction."""
    for entry in load_json(SNAPSHOT)[:300]:
        version_ingest(entry=entry, origin="official")
    for version in ["1.0.0", "1.1.0", "2.0.0-rc.1"]:
        ServerVersionFactory(name="io.github.acme/db", version=version, actor="t")
    version_set_status(name="io.github.acme/db", version="1.0.0", status="deprecated",
                       message="use 1.1", actor="t")
    stamps = [datetime(2025, 1, 2, 3, 4, 5, 0, tzinfo=UTC),
              datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
              datetime(2025, 1, 2, 3, 4, 5, 7, tzinfo=UTC)]
    for sv, when in zip(ServerVersion.objects.filter(name="io.github.acme/db"), stamps, strict=True):
        ServerVersion.objects.filter(pk=sv.pk).update(published_at=when, updated_at=when,
                                                      status_changed_at=when)


def both(client, settings, path: str) -> tuple[dict, dict]:
    settings.MCP_INDEX_RESPONSE_CACHE = False
    selectors.SQL_READS = True
    try:
        fast = client.get(path)
        selectors.SQL_READS = False
        orm = client.get(path)
    finally:
        selectors.SQL_READS = True
    assert fast.status_code == orm.status_code, path
    return json.loads(fast.content), json.loads(orm.content)


QUERIES = ["/v0.1/servers", "/v0.1/servers?limit=100", "/v0.1/servers?include_deleted=true&limit=100",
           "/v0.1/servers?search=GitHub&limit=7", "/v0.1/servers?search=100%25_x",
           "/v0.1/servers?version=latest&limit=50", "/v0.1/servers?version=1.0.0",
           "/v0.1/servers?updated_since=2025-01-01T00:00:00Z&limit=100",
           "/v0/servers/io.github.acme%2Fdb/versions", "/v0/servers/io.github.acme%2Fdb/versions/latest",
           "/v0/servers/io.github.acme%2Fdb/versions/1.0.0", "/v0/servers/io.github.acme%2Fnope/versions",
           "/v0/servers/io.github.acme%2Fdb/versions/9.9.9"]


@pytest.mark.parametrize("path", QUERIES)
def test_sql_reads_match_the_orm(client, settings, mixed, path):
    fast, orm = both(client, settings, path)
    assert fast == orm
    assert json.dumps(fast) == json.dumps(orm)  # key order too


def walk_both(client, settings, base: str) -> int:
    """Follow nextCursor through `base`, comparing both paths on every page; pages walked."""
    cursor, pages = None, 0
    while True:
        fast, orm = both(client, settings, base + (f"&cursor={cursor}" if cursor else ""))
        assert fast == orm
        pages += 1
        cursor = fast["metadata"].get("nextCursor")
        if not cursor:
            return pages


def test_cursor_walks_match(client, settings, mixed):
    assert walk_both(client, settings, "/v0.1/servers?include_deleted=true&limit=37") > 3


def test_fractions_are_formatted_like_go(client, settings, mixed):
    fast, _ = both(client, settings, "/v0/servers/io.github.acme%2Fdb/versions")
    published = sorted(i["_meta"]["io.modelcontextprotocol.registry/official"]["publishedAt"]
                       for i in fast["servers"])
    assert published == ["2025-01-02T03:04:05.000007Z", "2025-01-02T03:04:05.12Z",
                         "2025-01-02T03:04:05Z"]


CATALOG_QUERIES = ["/c/corp/v0.1/servers", "/c/corp/v0.1/servers?limit=100&include_deleted=true",
                   "/c/corp/v0.1/servers?search=GitHub&limit=9", "/c/corp/v0.1/servers?version=latest",
                   "/c/corp/v0.1/servers?updated_since=2025-01-01T00:00:00Z&limit=100",
                   "/c/corp/v0.1/servers?version=1.0.0&limit=100"]


@pytest.fixture
def corp(mixed, django_capture_on_commit_callbacks):
    from curation.models import CatalogOverlay
    from curation.services.catalogs import catalog_overlay_set, catalog_pin

    with django_capture_on_commit_callbacks(execute=True):
        catalog = CatalogFactory(slug="corp", actor="t")
    catalog_overlay_set(catalog=catalog, name="io.github.acme/db", tags=["db"], notes="n",
                        featured=True, install_notes="", actor="t")
    catalog_pin(catalog=catalog, name="io.github.acme/db", version="1.1.0", note="", actor="t")
    assert CatalogOverlay.objects.exists()


@pytest.mark.parametrize("path", CATALOG_QUERIES)
def test_catalog_sql_reads_match_the_orm(client, settings, corp, path):
    fast, orm = both(client, settings, path)
    assert (fast == orm and fast["servers"]) or "version=1.0.0" in path
    assert json.dumps(fast) == json.dumps(orm)


def test_catalog_cursor_walks_match(client, settings, corp):
    assert walk_both(client, settings, "/c/corp/v0.1/servers?include_deleted=true&limit=41") > 3


def test_hot_reads_are_prepared_once_per_connection(client, settings, mixed):
    from django.db import connection

    settings.MCP_INDEX_RESPONSE_CACHE = False

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    before = len(prepared())
    for _ in range(3):
        assert client.get("/v0.1/servers").status_code == 200
        assert client.get("/v0/servers/io.github.acme%2Fdb/versions/latest").status_code == 200
        assert client.get("/v0.1/servers?search=acme").status_code == 200
        assert client.get("/v0.1/servers?updated_since=2025-01-01T00:00:00Z").status_code == 200
    statements = prepared()
    # list and get, each once; searches and updated_since feeds are planned per request
    assert len(statements) == before + 2
    assert not any("LIKE" in s or "updated_at >" in s for s in statements)
    settings.MCP_INDEX_PREPARED_READS = False
    assert client.get("/v0.1/servers?limit=7").status_code == 200
    assert len(prepared()) == before + 2

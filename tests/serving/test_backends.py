"""The SQL backend (serving.sql) answers exactly what the ORM backend (serving.orm) answers,
in every scope (the registry itself and a catalog with overlays and pins), for every query
shape, row by row and body by body."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.checks import run_checks
from django.db import connection

from curation.selectors import CatalogRef
from registry.api.render import upstream_members
from serving import orm, sql
from serving.query import ListQuery
from serving.rows import REMOVED_MESSAGE, EntryRow

pytestmark = pytest.mark.django_db
ALL = CatalogRef("all", None)


def both(client, settings, path: str) -> tuple[dict, dict]:
    """One GET answered by each backend."""
    settings.MCP_INDEX_RESPONSE_CACHE = False
    settings.MCP_INDEX_READ_BACKEND = "sql"
    fast = client.get(path)
    settings.MCP_INDEX_READ_BACKEND = "orm"
    oracle = client.get(path)
    assert fast.status_code == oracle.status_code, path
    return json.loads(fast.content), json.loads(oracle.content)


QUERIES = ["/v0.1/servers", "/v0.1/servers?limit=100", "/v0.1/servers?include_deleted=true&limit=100",
           "/v0.1/servers?search=GitHub&limit=7", "/v0.1/servers?search=100%25_x",
           "/v0.1/servers?version=latest&limit=50", "/v0.1/servers?version=1.0.0",
           "/v0.1/servers?updated_since=2025-01-01T00:00:00Z&limit=100",
           "/v0/servers/io.github.acme%2Fdb/versions", "/v0/servers/io.github.acme%2Fdb/versions/latest",
           "/v0/servers/io.github.acme%2Fdb/versions/1.0.0", "/v0/servers/io.github.acme%2Fnope/versions",
           "/v0/servers/io.github.acme%2Fdb/versions/9.9.9", "/c/all/v0.1/servers?limit=50",
           "/c/all/v0.1/servers/io.github.acme%2Fdb/versions/1.1.0"]


@pytest.mark.slow  # mixed ingests 300 snapshot entries
@pytest.mark.parametrize("path", QUERIES)
def test_sql_reads_match_the_orm(client, settings, mixed, path):
    fast, oracle = both(client, settings, path)
    assert fast == oracle
    assert json.dumps(fast) == json.dumps(oracle)  # key order too


def walk_both(client, settings, base: str) -> int:
    """Follow nextCursor through `base`, comparing both backends on every page; pages walked."""
    cursor, pages = None, 0
    while True:
        fast, oracle = both(client, settings, base + (f"&cursor={cursor}" if cursor else ""))
        assert fast == oracle
        pages += 1
        cursor = fast["metadata"].get("nextCursor")
        if not cursor:
            return pages


@pytest.mark.slow  # mixed ingests 300 snapshot entries
def test_cursor_walks_match(client, settings, mixed):
    assert walk_both(client, settings, "/v0.1/servers?include_deleted=true&limit=37") > 3


@pytest.mark.slow  # mixed ingests 300 snapshot entries
def test_fractions_are_formatted_like_go(client, settings, mixed):
    fast, _ = both(client, settings, "/v0/servers/io.github.acme%2Fdb/versions")
    published = sorted(i["_meta"]["io.modelcontextprotocol.registry/official"]["publishedAt"]
                       for i in fast["servers"])
    assert published == ["2025-01-02T03:04:05.000007Z", "2025-01-02T03:04:05.12Z",
                         "2025-01-02T03:04:05Z"]


CATALOG_QUERIES = ["/c/corp/v0.1/servers", "/c/corp/v0.1/servers?limit=100&include_deleted=true",
                   "/c/corp/v0.1/servers?search=GitHub&limit=9", "/c/corp/v0.1/servers?version=latest",
                   "/c/corp/v0.1/servers?updated_since=2025-01-01T00:00:00Z&limit=100",
                   "/c/corp/v0.1/servers?search=acme%2Fdb&include_deleted=true",
                   "/c/corp/v0.1/servers?version=1.0.0&limit=100",
                   "/c/corp/v0.1/servers/io.github.acme%2Fdb/versions",
                   "/c/corp/v0.1/servers/io.github.acme%2Fdb/versions?include_deleted=true",
                   "/c/corp/v0.1/servers/io.github.acme%2Fdb/versions/latest",
                   "/c/corp/v0.1/servers/io.github.acme%2Fdb/versions/1.1.0",
                   "/c/corp/v0.1/servers/io.github.acme%2Fdb/versions/1.0.0?include_deleted=true",
                   "/c/corp/v0.1/servers/io.github.acme%2Fdb/versions/1.0.0",
                   "/c/corp/v0.1/servers/io.github.acme%2Fnope/versions"]
# Not found: a version the catalog no longer includes (without include_deleted), a server it lacks.
CATALOG_MISSING = {"/c/corp/v0.1/servers/io.github.acme%2Fdb/versions/1.0.0",
                   "/c/corp/v0.1/servers/io.github.acme%2Fnope/versions"}


@pytest.mark.slow  # mixed ingests 300 snapshot entries
@pytest.mark.parametrize("path", CATALOG_QUERIES)
def test_catalog_sql_reads_match_the_orm(client, settings, corp, path):
    fast, oracle = both(client, settings, path)
    assert fast == oracle
    assert bool(fast.get("servers") or fast.get("server")) == (path not in CATALOG_MISSING)
    assert json.dumps(fast) == json.dumps(oracle)


@pytest.mark.slow  # mixed ingests 300 snapshot entries
def test_catalog_cursor_walks_match(client, settings, corp):
    assert walk_both(client, settings, "/c/corp/v0.1/servers?include_deleted=true&limit=41") > 3


SHAPES = [ListQuery(), ListQuery(limit=100), ListQuery(limit=100, include_deleted=True),
          ListQuery(search="github", limit=7), ListQuery(search="100%_x"),
          ListQuery(search="acme/db", include_deleted=True),
          ListQuery(version="latest", limit=50), ListQuery(version="1.0.0", include_deleted=True),
          ListQuery(updated_since=datetime(2025, 1, 1, tzinfo=UTC), include_deleted=True, limit=100),
          ListQuery(after=("io.github.acme/db", "1.0.0"), include_deleted=True, limit=5),
          ListQuery(after=("io.github.m", ""), limit=100)]


def comparable(rows: Any) -> Any:
    """Rows with the upstream's `_meta` as the members a response keeps: serving.sql reads
    them as text, the official block left out; serving.orm as the stored dict."""
    if rows is None:
        return None
    if isinstance(rows, EntryRow):
        return dataclasses.replace(rows, upstream_meta=upstream_members(rows.upstream_meta))
    return [comparable(row) for row in rows]


@pytest.mark.slow  # mixed ingests 300 snapshot entries
def test_rows_match_for_every_shape_and_scope(corp):
    """Row for row: the same EntryRow values, flags (attested, overlaid, pinned) included."""
    seen = set()
    for scope in (ALL, corp):
        for query in SHAPES:
            rows = sql.list_rows(scope, query)
            assert comparable(rows) == comparable(orm.list_rows(scope, query)), (scope.slug, query)
            seen |= {flag for row in rows for flag in ("attested", "overlaid", "pinned")
                     if getattr(row, flag)}
            seen |= {"removed" for row in rows if row.status_message == REMOVED_MESSAGE}
        for name in ("io.github.acme/db", "io.github.acme/nope"):
            for include_deleted in (False, True):
                assert comparable(sql.version_rows(scope, name, include_deleted=include_deleted)) \
                    == comparable(orm.version_rows(scope, name, include_deleted=include_deleted))
                for version in ("latest", "1.0.0", "1.1.0", "9.9.9"):
                    assert comparable(sql.version_row(scope, name, version,
                                                      include_deleted=include_deleted)) \
                        == comparable(orm.version_row(scope, name, version,
                                                      include_deleted=include_deleted))
    assert seen == {"attested", "overlaid", "pinned", "removed"}  # every special case was met


@pytest.mark.slow  # mixed ingests 300 snapshot entries
def test_hot_reads_are_prepared_once_per_connection(client, settings, mixed):
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
    # list, get and a ranked search's page of rows (by id), each once; substring searches and
    # updated_since feeds are planned per request
    assert len(statements) == before + 3
    assert not any("LIKE" in s or "updated_at >" in s for s in statements)
    settings.MCP_INDEX_PREPARED_READS = False
    assert client.get("/v0.1/servers?limit=7").status_code == 200
    assert len(prepared()) == before + 3


@pytest.mark.slow  # mixed ingests 300 snapshot entries
def test_catalog_reads_are_prepared_too(client, settings, corp):
    settings.MCP_INDEX_RESPONSE_CACHE = False

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            return cursor.fetchone()[0]

    before = prepared()
    for _ in range(3):
        for path in ("/c/corp/v0.1/servers", "/c/corp/v0.1/servers/io.github.acme%2Fdb/versions",
                     "/c/corp/v0.1/servers/io.github.acme%2Fdb/versions/latest",
                     "/c/corp/v0.1/servers?search=acme"):
            assert client.get(path).status_code == 200
    # list, versions, get and a ranked search's page of rows by id; not a substring search
    assert prepared() == before + 4


def test_the_backend_is_a_setting(settings):
    assert settings.MCP_INDEX_READ_BACKEND == "sql"  # the default on PostgreSQL
    assert not [e for e in run_checks() if e.id.startswith("serving.")]
    settings.MCP_INDEX_READ_BACKEND = "fast"
    assert [e.id for e in run_checks() if e.id.startswith("serving.")] == ["serving.E001"]

"""The three hot reads of the standard API as hand-written SQL, for PostgreSQL.

`registry.selectors` answers list pages, a server's versions and one version through the
ORM; on PostgreSQL it comes here instead. Same rows, same order, same filters (a test
compares the two paths), but without building a queryset per request, and with timestamps
formatted by PostgreSQL as the RFC 3339 text we serve, so no datetime objects are made and
formatted again. On a list page that is about half of the Python time of a request.

Only constant fragments (table and column names, fixed clauses) are put into the SQL text;
every value a request supplies is a bound parameter (hence the `noqa: S608` below).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import psycopg
from django.conf import settings
from django.db import connection, connections, router

from mcp_index_common.verification import VERIFIED
from registry.models import ServerVersion
from signing.models import Attestation

if TYPE_CHECKING:
    from registry.selectors import ListQuery

# The columns of a render row, in order: what every read (this module's and the ORM path's,
# `registry.selectors.ENTRY_FIELDS`) fetches. `attested`: a verified attestation exists.
ENTRY_FIELDS = ("id", "manifest_text", "status", "status_message", "status_changed_at",
                "published_at", "updated_at", "is_latest", "origin", "digest", "upstream_meta",
                "attested")


def rfc3339_sql(column: str) -> str:
    """Go's RFC3339Nano in UTC: seconds, then the fraction without trailing zeros, then Z."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"CASE WHEN date_part('microseconds', {column})::bigint %% 1000000 = 0 THEN '' "
            f"ELSE '.' || rtrim(to_char({utc}, 'US'), '0') END || 'Z'")


@lru_cache(maxsize=4)
def _columns(alias: str) -> str:
    """ENTRY_FIELDS as SQL (built once per alias, not per request)."""
    return ", ".join([
        f"{alias}.id", f"{alias}.manifest_text", f"{alias}.status", f"{alias}.status_message",
        rfc3339_sql(f"{alias}.status_changed_at"), rfc3339_sql(f"{alias}.published_at"),
        rfc3339_sql(f"{alias}.updated_at"), f"{alias}.is_latest", f"{alias}.origin", f"{alias}.digest",
        f"NULLIF({alias}.upstream_meta, '{{}}'::jsonb)",
        f"EXISTS (SELECT 1 FROM {Attestation._meta.db_table} att "  # noqa: S608
        f"WHERE att.version_id = {alias}.id AND att.state = '{VERIFIED}')",
    ])


_TABLE = ServerVersion._meta.db_table


def json_or_none(text: Any) -> Any:
    """A jsonb column as Django's psycopg setup returns it (text), decoded."""
    return json.loads(text) if isinstance(text, str) else text


def _rows(values: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    rows = []
    for value in values:
        row = dict(zip(ENTRY_FIELDS, value, strict=False))
        row["upstream_meta"] = json_or_none(row["upstream_meta"])
        rows.append(row)
    return rows


class _PreparingCursor(psycopg.Cursor):  # type: ignore[type-arg]
    """A server-side binding cursor whose statements are prepared once per connection."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                binary: bool | None = None) -> Any:
        return super().execute(query, params, prepare=True, binary=binary)


def fetch(sql: str, params: list[Any], *, prepare: bool = True) -> list[tuple[Any, ...]]:
    """Run a read where the ORM would (a configured read replica takes these reads).

    With MCP_INDEX_PREPARED_READS on PostgreSQL the statement is prepared on the connection
    the first time and then only bound and executed: planning was more than half of these
    queries' database time. Django's instrumentation (query logging, execute wrappers,
    error wrapping, connection health checks) still applies.
    """
    db = connections[router.db_for_read(ServerVersion)]
    if not (prepare and settings.MCP_INDEX_PREPARED_READS and db.vendor == "postgresql"):
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        wrapped = db._prepare_cursor(_PreparingCursor(db.connection))  # type: ignore[attr-defined]
    with wrapped as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def list_filters(query: ListQuery, alias: str = "", search_alias: str = ""
                 ) -> tuple[list[str], list[Any]]:
    """The WHERE clauses and parameters of the standard list filters and cursor."""
    a, sa = alias, search_alias or alias
    where: list[str] = []
    params: list[Any] = []
    if not query.include_deleted:
        where.append(f"{a}status <> 'deleted'")
    if query.search:
        where.append(f"{sa}search_text LIKE %s")
        params.append("%" + connection.ops.prep_for_like_query(query.search.lower()) + "%")
    if query.updated_since is not None:
        where.append(f"{a}updated_at > %s")
        params.append(query.updated_since)
    if query.version == "latest":
        where.append(f"{a}is_latest")
    elif query.version:
        where.append(f"{a}version = %s")
        params.append(query.version)
    if query.after is not None:
        where.append(f"({a}name, {a}version) > (%s, %s)")
        params += list(query.after)
    return where, params


def preparable(query: ListQuery) -> bool:
    """Whether one plan suits every value of this query shape's parameters."""
    return not query.search and query.updated_since is None


def list_page(query: ListQuery) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """One keyset page in (name, version) order and the key after which the next begins."""
    where, params = list_filters(query)
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    # The page's ids come from an index-only scan of the covering (name, version) index;
    # only those rows are read.
    sql = (f"SELECT {_columns('sv')}, sv.name, sv.version FROM {_TABLE} sv WHERE sv.id IN "  # noqa: S608
           f"(SELECT id FROM {_TABLE} {condition} ORDER BY name, version LIMIT {int(query.limit) + 1}) "
           f"ORDER BY sv.name, sv.version")
    # The limit is part of the text (a validated int), so a prepared statement's generic plan
    # knows it; searches and updated_since feeds are not prepared, since a generic plan for
    # any pattern or any time could be a bad one.
    values = fetch(sql, params, prepare=preparable(query))
    more = len(values) > query.limit
    values = values[: query.limit]
    after = (values[-1][-2], values[-1][-1]) if more and values else None
    return _rows(values), after


def server_versions(name: str, *, include_deleted: bool) -> list[dict[str, Any]]:
    visible = "" if include_deleted else "AND sv.status <> 'deleted'"
    return _rows(fetch(f"SELECT {_columns('sv')} FROM {_TABLE} sv WHERE sv.name = %s {visible} "  # noqa: S608
                        f"ORDER BY sv.published_at DESC, sv.id DESC", [name]))


def server_version(name: str, version: str, *, include_deleted: bool) -> list[dict[str, Any]]:
    visible = "" if include_deleted else "AND sv.status <> 'deleted'"
    which, params = ("sv.is_latest", [name]) if version == "latest" else \
        ("sv.version = %s", [name, version])
    return _rows(fetch(f"SELECT {_columns('sv')} FROM {_TABLE} sv WHERE sv.name = %s "  # noqa: S608
                        f"AND {which} {visible} LIMIT 1", params))

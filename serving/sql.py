"""The three reads of the standard API as hand-written SQL, for PostgreSQL, in every scope.

The registry itself (`all`) reads the version table alone; a catalog reads its entries
joined to the versions, with the catalog's own status, latest and timestamps. Same rows,
order and filters as serving.orm (a test compares the two for every query shape), but
without building a queryset per request, and with timestamps formatted by PostgreSQL as the
RFC 3339 text we serve, so no datetime objects are made and formatted again. On a list page
that is about half of the Python time of a request.

Only constant fragments (table and column names, fixed clauses) are put into the SQL text,
built once at import; every value a request supplies is a bound parameter (hence the
`noqa: S608` below). The page limit, a validated int, is part of the text: a prepared
statement's generic plan then knows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
from django.conf import settings
from django.db import connection, connections, router
from django.utils import timezone

from curation.models import CatalogEntry, CatalogOverlay, EntryState
from discovery.models import Inventory
from mcp_index_common.verification import VERIFIED
from registry.manifest import OFFICIAL_META_KEY
from registry.models import ServerVersion, Status
from serving.rows import PINNED_REASON, REMOVED_MESSAGE, EntryRow
from signing.models import Attestation

if TYPE_CHECKING:
    from curation.selectors import CatalogRef
    from serving.query import ListQuery


def rfc3339_sql(column: str) -> str:
    """Go's RFC3339Nano in UTC: seconds, then the fraction without trailing zeros, then Z."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"CASE WHEN date_part('microseconds', {column})::bigint %% 1000000 = 0 THEN '' "
            f"ELSE '.' || rtrim(to_char({utc}, 'US'), '0') END || 'Z'")


def _attested(version_id: str) -> str:
    return (f"EXISTS (SELECT 1 FROM {Attestation._meta.db_table} att "  # noqa: S608
            f"WHERE att.version_id = {version_id} AND att.state = '{VERIFIED}')")


def _inventoried(version_id: str) -> str:
    return (f"EXISTS (SELECT 1 FROM {Inventory._meta.db_table} inv "  # noqa: S608
            f"WHERE inv.server_version_id = {version_id})")


def _upstream_members(column: str) -> str:
    """The upstream's `_meta` less its official block (rendered from our columns instead), as
    PostgreSQL prints it; NULL when nothing is left. registry.api.render.meta_json splices
    the text into the response as it is."""
    return (f"CASE WHEN jsonb_typeof({column}) = 'object' "
            f"THEN NULLIF({column} - '{OFFICIAL_META_KEY}', '{{}}'::jsonb) END")


_SV = ServerVersion._meta.db_table
_CE = CatalogEntry._meta.db_table
_DELETED = Status.DELETED.value
_INCLUDED = f"ce.state = '{EntryState.INCLUDED.value}'"

# EntryRow's fields in order, for the registry scope (overlaid and pinned keep their default).
_VERSION_COLUMNS = ", ".join([
    "sv.id", "sv.name", "sv.version", "sv.manifest_text", "sv.status", "sv.status_message",
    rfc3339_sql("sv.status_changed_at"), rfc3339_sql("sv.published_at"),
    rfc3339_sql("sv.updated_at"), "sv.is_latest", "sv.origin", "sv.digest",
    _upstream_members("sv.upstream_meta"), _attested("sv.id"), _inventoried("sv.id"),
])
# The same for a catalog: its entry's status, latest and time; a version it no longer includes
# says so in the status message, changed when it left.
_ENTRY_COLUMNS = ", ".join([
    "ce.server_version_id", "ce.name", "ce.version", "sv.manifest_text", "ce.status",
    f"CASE WHEN {_INCLUDED} THEN sv.status_message ELSE '{REMOVED_MESSAGE}' END",
    rfc3339_sql(f"CASE WHEN {_INCLUDED} THEN sv.status_changed_at ELSE ce.updated_at END"),
    rfc3339_sql("sv.published_at"), rfc3339_sql("ce.updated_at"), "ce.is_latest", "sv.origin",
    "sv.digest", _upstream_members("sv.upstream_meta"), _attested("ce.server_version_id"),
    _inventoried("ce.server_version_id"),
    f"EXISTS (SELECT 1 FROM {CatalogOverlay._meta.db_table} o "  # noqa: S608
    "WHERE o.catalog_id = ce.catalog_id AND o.name = ce.name)",
    f"ce.reason = '{PINNED_REASON}'",
])
_FROM_VERSIONS = f"SELECT {_VERSION_COLUMNS} FROM {_SV} sv"  # noqa: S608
_FROM_ENTRIES = (f"SELECT {_ENTRY_COLUMNS} FROM {_CE} ce "  # noqa: S608
                 f"JOIN {_SV} sv ON sv.id = ce.server_version_id WHERE ce.catalog_id = %s AND ce.listed "
                 # Fail closed: an entry past its trust deadline is not served, even before the
                 # reconcile removes it (CatalogEntryQuerySet.served is the ORM form). "Now" is
                 # the application's clock (a parameter), the one deadlines are computed with.
                 "AND (ce.trust_until IS NULL OR ce.trust_until > %s)")

# A server's versions and one version, per scope and visibility: constant statements.
_VISIBLE = {False: f" AND sv.status <> '{_DELETED}'", True: ""}
_ENTRY_VISIBLE = {False: f" AND ce.status <> '{_DELETED}'", True: ""}
_VERSIONS = {deleted: f"{_FROM_VERSIONS} WHERE sv.name = %s{visible} "
             "ORDER BY sv.published_at DESC, sv.id DESC" for deleted, visible in _VISIBLE.items()}
_ENTRY_VERSIONS = {deleted: f"{_FROM_ENTRIES} AND ce.name = %s{visible} "
                   "ORDER BY sv.published_at DESC, ce.server_version_id DESC"
                   for deleted, visible in _ENTRY_VISIBLE.items()}
_VERSION = {(latest, deleted): f"{_FROM_VERSIONS} WHERE sv.name = %s AND "
            f"{'sv.is_latest' if latest else 'sv.version = %s'}{visible} LIMIT 1"
            for latest in (True, False) for deleted, visible in _VISIBLE.items()}
_ENTRY_VERSION = {(latest, deleted): f"{_FROM_ENTRIES} AND ce.name = %s AND "
                  f"{'ce.is_latest' if latest else 'ce.version = %s'}{visible} LIMIT 1"
                  for latest in (True, False) for deleted, visible in _ENTRY_VISIBLE.items()}


def _entries(values: list[tuple[Any, ...]]) -> list[EntryRow]:
    """Rows in EntryRow's field order; the upstream's `_meta` members stay the text Django's
    jsonb loader returns (rendered as they are: registry.api.render.meta_json)."""
    return [EntryRow.of(v) for v in values]


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
        where.append(f"{a}status <> '{_DELETED}'")
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
    """Whether one plan suits every value of this query shape's parameters: searches and
    updated_since feeds are planned per request, since a generic plan for any pattern or
    any time could be a bad one."""
    return not query.search and query.updated_since is None


def _entry_scope(catalog: Any) -> list[Any]:
    """The parameters of _FROM_ENTRIES: the catalog, and now for the trust deadline."""
    return [catalog.pk, timezone.now()]


def list_rows(scope: CatalogRef, query: ListQuery) -> list[EntryRow]:
    """Up to limit+1 rows of a keyset page in (name, version) order."""
    limit = int(query.limit) + 1
    if scope.catalog is None:
        where, params = list_filters(query)
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        # The page's ids come from an index-only scan of the covering (name, version) index;
        # only those rows are read.
        sql = (f"{_FROM_VERSIONS} WHERE sv.id IN (SELECT id FROM {_SV} {condition} "  # noqa: S608
               f"ORDER BY name, version LIMIT {limit}) ORDER BY sv.name, sv.version")
    else:
        where, params = list_filters(query, alias="ce.", search_alias="sv.")
        params = [*_entry_scope(scope.catalog), *params]
        condition = "".join(f" AND {w}" for w in where)
        sql = f"{_FROM_ENTRIES}{condition} ORDER BY ce.name, ce.version LIMIT {limit}"
    return _entries(fetch(sql, params, prepare=preparable(query)))


def version_rows(scope: CatalogRef, name: str, *, include_deleted: bool) -> list[EntryRow]:
    """A server's versions, newest publish first."""
    if scope.catalog is None:
        return _entries(fetch(_VERSIONS[include_deleted], [name]))
    return _entries(fetch(_ENTRY_VERSIONS[include_deleted], [*_entry_scope(scope.catalog), name]))


def version_row(scope: CatalogRef, name: str, version: str, *, include_deleted: bool
                ) -> EntryRow | None:
    """One version, or the latest for the literal `latest`."""
    latest = version == "latest"
    params: list[Any] = [name] if latest else [name, version]
    if scope.catalog is None:
        found = fetch(_VERSION[latest, include_deleted], params)
    else:
        found = fetch(_ENTRY_VERSION[latest, include_deleted],
                      [*_entry_scope(scope.catalog), *params])
    return _entries(found)[0] if found else None


_ROWS_OF = f"{_FROM_VERSIONS} WHERE sv.id = ANY(%s)"
_ENTRY_ROWS_OF = f"{_FROM_ENTRIES} AND ce.server_version_id = ANY(%s)"


def rows_of(scope: CatalogRef, version_ids: list[int]) -> list[EntryRow]:
    """The rows of these versions as the scope serves them, in the order of the ids given
    (a ranked page); ids the scope does not serve are left out."""
    if not version_ids:
        return []
    if scope.catalog is None:
        found = fetch(_ROWS_OF, [list(version_ids)])
    else:
        found = fetch(_ENTRY_ROWS_OF, [*_entry_scope(scope.catalog), list(version_ids)])
    by_id = {row.id: row for row in _entries(found)}
    return [by_id[i] for i in version_ids if i in by_id]

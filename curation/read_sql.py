"""A catalog's list page as hand-written SQL on PostgreSQL (see registry/read_sql.py).

Same rows, order and filters as `curation.selectors.catalog_list_page`'s ORM query (a test
compares them); timestamps come back as the RFC 3339 text we serve.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.utils import timezone

from curation.models import CatalogEntry, CatalogOverlay
from curation.trust import SERVED_SQL
from registry.models import ServerVersion
from registry.read_sql import (
    VERIFIED,
    fetch,
    json_or_none,
    list_filters,
    preparable,
    rfc3339_sql,
)
from registry.selectors import ListQuery
from signing.models import Attestation


@lru_cache(maxsize=1)
def _select() -> str:
    """The SELECT … FROM part: constant, built once (request values are parameters)."""
    return (
        "SELECT ce.server_version_id, ce.status, ce.is_latest, "  # noqa: S608
        f"{rfc3339_sql('ce.updated_at')}, ce.state, ce.reason, sv.manifest_text, "
        f"sv.status_message, {rfc3339_sql('sv.status_changed_at')}, "
        f"{rfc3339_sql('sv.published_at')}, sv.origin, sv.digest, "
        "NULLIF(sv.upstream_meta, '{}'::jsonb), "
        f"EXISTS (SELECT 1 FROM {Attestation._meta.db_table} att "
        f"WHERE att.version_id = ce.server_version_id AND att.state = '{VERIFIED}'), "
        f"EXISTS (SELECT 1 FROM {CatalogOverlay._meta.db_table} o "
        "WHERE o.catalog_id = ce.catalog_id AND o.name = ce.name), ce.name, ce.version "
        f"FROM {CatalogEntry._meta.db_table} ce "
        f"JOIN {ServerVersion._meta.db_table} sv ON sv.id = ce.server_version_id")


def catalog_list_values(catalog_id: int, query: ListQuery) -> list[tuple[Any, ...]]:
    """Up to limit+1 rows in curation.selectors._COLUMNS order, upstream `_meta` decoded."""
    where, params = list_filters(query, alias="ce.", search_alias="sv.")
    condition = " AND ".join(["ce.catalog_id = %s", "ce.listed", SERVED_SQL, *where])
    sql = f"{_select()} WHERE {condition} ORDER BY ce.name, ce.version LIMIT {int(query.limit) + 1}"
    rows = fetch(sql, [catalog_id, timezone.now(), *params], prepare=preparable(query))
    return [(*row[:12], json_or_none(row[12]), *row[13:]) for row in rows]

"""The one reader of the standard API, for the root and every catalog.

A scope is a resolved catalog (curation.selectors.catalog_resolve): the built-in `all` is the
registry's own tables, any other slug a catalog's entries; views never tell them apart. The
rows come from serving.sql (PostgreSQL) or serving.orm (SQLite, and the tests' oracle), as the
setting MCP_INDEX_READ_BACKEND says.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from django.conf import settings

from curation.models import Catalog, CatalogOverlay
from curation.selectors import CatalogRef
from registry.errors import NotFound
from serving import orm, sql
from serving.query import ListQuery, Page, encode_cursor
from serving.rows import EntryRow


class ReadBackend(Protocol):
    """What serving.sql and serving.orm both provide."""

    def list_rows(self, scope: CatalogRef, query: ListQuery) -> list[EntryRow]: ...

    def version_rows(self, scope: CatalogRef, name: str, *, include_deleted: bool
                     ) -> list[EntryRow]: ...

    def version_row(self, scope: CatalogRef, name: str, version: str, *, include_deleted: bool
                    ) -> EntryRow | None: ...

    def rows_of(self, scope: CatalogRef, version_ids: list[int]) -> list[EntryRow]: ...


BACKENDS: dict[str, ReadBackend] = {"sql": sql, "orm": orm}


def backend() -> ReadBackend:
    """The backend the settings choose (checked at start-up by serving.checks)."""
    return BACKENDS[settings.MCP_INDEX_READ_BACKEND]


def list_page(scope: CatalogRef, query: ListQuery) -> Page:
    """One keyset page in (name, version) order, as a single query."""
    rows = backend().list_rows(scope, query)
    if len(rows) <= query.limit:
        return Page(rows, None)
    rows = rows[: query.limit]
    return Page(rows, encode_cursor(rows[-1].name, rows[-1].version))


def rows_of(scope: CatalogRef, version_ids: list[int]) -> list[EntryRow]:
    """These versions as the scope serves them, in the given order (a ranked page)."""
    return backend().rows_of(scope, version_ids)


def server_versions(scope: CatalogRef, name: str, *, include_deleted: bool) -> list[EntryRow]:
    """All versions of a server, newest publish first; NotFound when none."""
    rows = backend().version_rows(scope, name, include_deleted=include_deleted)
    if not rows:
        raise NotFound("Server not found")
    return rows


def server_version(scope: CatalogRef, name: str, version: str, *, include_deleted: bool
                   ) -> EntryRow:
    """One version (or the literal `latest`); NotFound when absent or hidden."""
    row = backend().version_row(scope, name, version, include_deleted=include_deleted)
    if row is None:
        raise NotFound("Server not found")
    return row


def overlays(catalog: Catalog, names: Collection[str]) -> dict[str, CatalogOverlay]:
    """The catalog's overlays of these servers, by name: one query, none for no names."""
    if not names:
        return {}
    return {o.name: o for o in CatalogOverlay.objects.filter(catalog=catalog, name__in=names)}

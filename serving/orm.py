"""The three reads of the standard API through the ORM: on SQLite, and the oracle of serving.sql.

The same rows as serving.sql in every scope (the equivalence tests compare the two), built
from chainable queryset methods that have the same names on versions and on catalog entries
(registry.querysets, curation.querysets), so one list filter serves the registry and catalogs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Exists, OuterRef

from curation.models import CatalogEntry, CatalogOverlay, EntryState
from curation.querysets import CatalogEntryQuerySet
from discovery.models import Inventory
from registry.api.render import rfc3339
from registry.models import ServerVersion
from registry.querysets import ServerVersionQuerySet
from serving.rows import PINNED_REASON, REMOVED_MESSAGE, EntryRow
from signing.selectors import verified_attestation_exists

if TYPE_CHECKING:
    from curation.models import Catalog
    from curation.selectors import CatalogRef
    from serving.query import ListQuery

QS = TypeVar("QS", ServerVersionQuerySet, CatalogEntryQuerySet)

_VERSION_FIELDS = ("id", "name", "version", "manifest_text", "status", "status_message",
                   "status_changed_at", "published_at", "updated_at", "is_latest", "origin",
                   "digest", "upstream_meta", "attested", "inventoried")
_ENTRY_FIELDS = ("server_version_id", "name", "version", "server_version__manifest_text",
                 "status", "server_version__status_message", "server_version__status_changed_at",
                 "server_version__published_at", "updated_at", "is_latest",
                 "server_version__origin", "server_version__digest",
                 "server_version__upstream_meta", "attested", "inventoried", "overlaid", "state",
                 "reason")


def filter_list(qs: QS, query: ListQuery) -> QS:
    """Apply the list filters and the cursor to versions or to a catalog's entries."""
    qs = qs.visible(include_deleted=query.include_deleted)
    if query.search:
        qs = qs.search(query.search)
    if query.updated_since is not None:
        qs = qs.updated_since(query.updated_since)
    if query.version == "latest":
        qs = qs.latest_only()
    elif query.version:
        qs = qs.filter(version=query.version)
    if query.after is not None:
        qs = qs.after(*query.after)
    return qs


def _version(values: tuple[Any, ...]) -> EntryRow:
    (vid, name, version, text, status, message, changed, published, updated, latest, origin,
     digest, meta, attested, inventoried) = values
    return EntryRow(id=vid, name=name, version=version, manifest_text=text, status=status,
                    status_message=message, status_changed_at=rfc3339(changed),
                    published_at=rfc3339(published), updated_at=rfc3339(updated),
                    is_latest=latest, origin=origin, digest=digest, upstream_meta=meta or None,
                    attested=attested, inventoried=inventoried)


def _entry(values: tuple[Any, ...]) -> EntryRow:
    """A catalog's row: its status, latest and time; a version it left says so."""
    (vid, name, version, text, status, message, changed, published, updated, latest, origin,
     digest, meta, attested, inventoried, overlaid, state, reason) = values
    included = state == EntryState.INCLUDED
    changed_at: datetime = changed if included else updated
    return EntryRow(id=vid, name=name, version=version, manifest_text=text, status=status,
                    status_message=message if included else REMOVED_MESSAGE,
                    status_changed_at=rfc3339(changed_at), published_at=rfc3339(published),
                    updated_at=rfc3339(updated), is_latest=latest, origin=origin, digest=digest,
                    upstream_meta=meta or None, attested=attested, inventoried=inventoried,
                    overlaid=overlaid,
                    pinned=reason == PINNED_REASON)


def _versions(qs: ServerVersionQuerySet) -> ServerVersionQuerySet:
    return qs.annotate(attested=verified_attestation_exists(),
                       inventoried=Exists(Inventory.objects.filter(server_version_id=OuterRef("pk"))))


def _entries(catalog: Catalog) -> CatalogEntryQuerySet:
    # `attested`, `inventoried` and `overlaid` say whether a row needs the trust, inventory and
    # overlay queries at all.
    return CatalogEntry.objects.listed_in(catalog).annotate(
        attested=verified_attestation_exists("server_version_id"),
        inventoried=Exists(Inventory.objects.filter(
            server_version_id=OuterRef("server_version_id"))),
        overlaid=Exists(CatalogOverlay.objects.filter(catalog_id=OuterRef("catalog_id"),
                                                      name=OuterRef("name"))))


def _rows(scope: CatalogRef, values: Iterable[tuple[Any, ...]]) -> list[EntryRow]:
    make = _version if scope.catalog is None else _entry
    return [make(v) for v in values]


def list_rows(scope: CatalogRef, query: ListQuery) -> list[EntryRow]:
    """Up to limit+1 rows of a keyset page in (name, version) order."""
    if scope.catalog is None:
        # The page's ids first (from the covering index), then only those rows are read.
        page_ids = filter_list(ServerVersion.objects.all(), query).in_list_order().values("id")
        values = (_versions(ServerVersion.objects.filter(id__in=page_ids[: query.limit + 1]))
                  .in_list_order().values_list(*_VERSION_FIELDS))
    else:
        values = (filter_list(_entries(scope.catalog), query).in_list_order()
                  .values_list(*_ENTRY_FIELDS)[: query.limit + 1])
    return _rows(scope, values)


def version_rows(scope: CatalogRef, name: str, *, include_deleted: bool) -> list[EntryRow]:
    """A server's versions, newest publish first."""
    if scope.catalog is None:
        values = (_versions(ServerVersion.objects.named(name).visible(include_deleted=include_deleted))
                  .order_by("-published_at", "-id").values_list(*_VERSION_FIELDS))
    else:
        values = (_entries(scope.catalog).named(name).visible(include_deleted=include_deleted)
                  .order_by("-server_version__published_at", "-server_version_id")
                  .values_list(*_ENTRY_FIELDS))
    return _rows(scope, values)


def version_row(scope: CatalogRef, name: str, version: str, *, include_deleted: bool
                ) -> EntryRow | None:
    """One version, or the latest for the literal `latest`."""
    if scope.catalog is None:
        qs = ServerVersion.objects.named(name).visible(include_deleted=include_deleted)
        qs = qs.latest_only() if version == "latest" else qs.filter(version=version)
        found = _rows(scope, _versions(qs).values_list(*_VERSION_FIELDS)[:1])
    else:
        entries = _entries(scope.catalog).named(name).visible(include_deleted=include_deleted)
        entries = entries.latest_only() if version == "latest" else entries.filter(version=version)
        found = _rows(scope, entries.values_list(*_ENTRY_FIELDS)[:1])
    return found[0] if found else None


def rows_of(scope: CatalogRef, version_ids: list[int]) -> list[EntryRow]:
    """The rows of these versions as the scope serves them, in the order of the ids given
    (a ranked page); ids the scope does not serve are left out."""
    if not version_ids:
        return []
    if scope.catalog is None:
        values = _versions(ServerVersion.objects.filter(id__in=version_ids)).values_list(
            *_VERSION_FIELDS)
    else:
        values = (_entries(scope.catalog).filter(server_version_id__in=version_ids)
                  .values_list(*_ENTRY_FIELDS))
    by_id = {row.id: row for row in _rows(scope, values)}
    return [by_id[i] for i in version_ids if i in by_id]

"""ServerResponse / ServerList bodies of the read API, with every `_meta` block we add.

The root and every catalog answer through these, so the trust summary and a catalog's block
(its overlay of a server, its pin of a version) cannot drift between them. Each block's query
runs only when a row on the page needs it (EntryRow.attested, .inventoried, .overlaid).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.http import HttpResponse

from curation.selectors import CatalogRef
from discovery.inventory import inventory_meta_for_versions
from registry.api.render import entry_json, json_response, list_json
from serving import reader
from serving.rows import EntryRow
from signing.selectors import trust_meta_for_versions


def _catalog_meta(scope: CatalogRef, rows: Sequence[EntryRow]) -> dict[int, dict[str, Any]]:
    """Our `<ns>/catalog` block per version: the catalog, its overlay and its pin."""
    catalog = scope.catalog
    if catalog is None:
        return {}
    overlays = reader.overlays(catalog, {row.name for row in rows if row.overlaid})
    key = settings.MCP_INDEX_NAMESPACE + "/catalog"
    extras: dict[int, dict[str, Any]] = {}
    for row in rows:
        block: dict[str, Any] = {"catalog": catalog.slug}
        overlay = overlays.get(row.name)
        if overlay is not None:
            block.update(tags=overlay.tags, featured=overlay.featured)
            if overlay.notes:
                block["notes"] = overlay.notes
            if overlay.install_notes:
                block["installNotes"] = overlay.install_notes
        if row.pinned:
            block["pinned"] = True
        extras[row.id] = {key: block}
    return extras


def extras_for(scope: CatalogRef, rows: Sequence[EntryRow]) -> dict[int, dict[str, Any]]:
    """Per-version `_meta` additions: the catalog's block, the trust summary, then the tool
    inventory's (each one query for the page, run only when a row on it has one)."""
    extras = _catalog_meta(scope, rows)
    for version_id, block in trust_meta_for_versions([r.id for r in rows if r.attested]).items():
        extras.setdefault(version_id, {}).update(block)
    for version_id, block in inventory_meta_for_versions(
            [r.id for r in rows if r.inventoried]).items():
        extras.setdefault(version_id, {}).update(block)
    return extras


def list_response(scope: CatalogRef, rows: Sequence[EntryRow], next_cursor: str | None = None
                  ) -> HttpResponse:
    """A ServerList answer."""
    return json_response(list_json(rows, next_cursor, extras_for(scope, rows)))


def entry_response(scope: CatalogRef, row: EntryRow) -> HttpResponse:
    """A single ServerResponse answer."""
    return json_response(entry_json(row, extras_for(scope, [row]).get(row.id)))

"""Ranked search of one scope: the one implementation behind every search surface.

The standard `search` parameter, the extension endpoint `/v0.1/x/<ns>/search`, the web
catalog and the MCP tool `search_servers` all call `search_page`, so a query finds the same
servers in the same order wherever it is asked.

This module is the contract between the surfaces and the ranking. The ranking itself
(search documents, the lexical and semantic legs, their fusion) belongs in `discovery/`;
until it lands here, `search_page` is the registry's substring filter over latest versions
with the filters applied in Python: correct, unranked, and slow on big scopes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from curation.selectors import CatalogRef
from serving import reader
from serving.query import MAX_LIMIT, ListQuery
from serving.rows import EntryRow

REGISTRY_TYPES = ("npm", "pypi", "oci", "nuget", "mcpb")
TRANSPORTS = ("stdio", "streamable-http", "sse")


@dataclass(frozen=True)
class SearchFilters:
    """What a search is narrowed to before it is ranked (all optional)."""

    registry_type: str = ""  # one of REGISTRY_TYPES: a package of that registry
    transport: str = ""  # one of TRANSPORTS: a package or remote speaking it
    remote_only: bool = False  # only servers with a remote endpoint
    package_only: bool = False  # only servers with an installable package
    trusted_only: bool = False  # only versions with a verified attestation


@dataclass(frozen=True)
class Hit:
    """One ranked result: the version as the scope serves it, its score and highlights."""

    row: EntryRow
    score: float
    highlights: dict[str, str] = field(default_factory=dict)  # field -> snippet


@dataclass(frozen=True)
class SearchPage:
    """One page of a ranked search."""

    hits: list[Hit]
    total: int  # results above the relevance threshold, over all pages
    next_offset: int | None  # where the next page starts; None on the last page
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # facet -> value -> count
    suggestion: str | None = None  # "did you mean", when the query looks misspelt


def _matches(row: EntryRow, filters: SearchFilters) -> bool:
    if filters.trusted_only and not row.attested:
        return False
    manifest: dict[str, Any] = json.loads(row.manifest_text)
    packages = [p for p in manifest.get("packages") or [] if isinstance(p, dict)]
    remotes = [r for r in manifest.get("remotes") or [] if isinstance(r, dict)]
    if filters.remote_only and not remotes:
        return False
    if filters.package_only and not packages:
        return False
    if filters.registry_type and not any(p.get("registryType") == filters.registry_type
                                         for p in packages):
        return False
    if filters.transport:
        kinds = [(p.get("transport") or {}).get("type") for p in packages]
        kinds += [r.get("type") for r in remotes]
        if filters.transport not in kinds:
            return False
    return True


def search_page(scope: CatalogRef, text: str, filters: SearchFilters = SearchFilters(), *,
                limit: int = 30, offset: int = 0) -> SearchPage:
    """The latest versions in `scope` matching `text`, best first, `limit` from `offset`."""
    matched: list[EntryRow] = []
    after = None
    while True:
        page = reader.list_page(scope, ListQuery(limit=MAX_LIMIT, after=after, search=text,
                                                 version="latest"))
        matched += [row for row in page.rows if _matches(row, filters)]
        if page.next_cursor is None:
            break
        after = (page.rows[-1].name, page.rows[-1].version)
    window = matched[offset: offset + limit]
    following = offset + limit
    return SearchPage([Hit(row, 1.0) for row in window], len(matched),
                      following if following < len(matched) else None)

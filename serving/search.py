"""Ranked search of one scope: the one implementation behind every search surface.

The standard `search` parameter, the extension endpoint `/v0.1/x/<ns>/search`, the web
catalog and the MCP tool `search_servers` all call `search_page`, so a query finds the same
servers in the same order wherever it is asked.

This module is the contract between the surfaces and the ranking. The ranking itself
(search documents, the lexical and semantic legs, their fusion) is discovery.ranking; here
its ranked ids become the rows the scope serves, with scores and highlights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from curation.selectors import CatalogRef
from discovery import ranking
from serving import reader
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
    semantic: bool = False  # the semantic leg took part (False: lexical alone, no vectors yet)
    stale: bool = False  # ranked while the scope's index is being rebuilt: do not cache it


def search_page(scope: CatalogRef, text: str, filters: SearchFilters = SearchFilters(), *,
                limit: int = 30, offset: int = 0, include_deleted: bool = False,
                updated_since: datetime | None = None, legs: str = "fusion",
                facets: bool = True, highlights: bool = True) -> SearchPage:
    """The latest versions in `scope` matching `text`, best first, `limit` from `offset`.

    An empty `text` lists every latest version passing the filters, in name order. `legs`
    (fusion, lexical, semantic) exists for the quality benchmark; surfaces leave it. A surface
    that shows no facet counts or no highlights asks for none (`facets`, `highlights`).
    """
    ranked = ranking.rank(scope, text, ranking.Filters(
        registry_type=filters.registry_type, transport=filters.transport,
        remote_only=filters.remote_only, package_only=filters.package_only,
        trusted_only=filters.trusted_only, include_deleted=include_deleted,
        updated_since=updated_since), legs=legs, with_facets=facets)
    window = ranked.ids[offset: offset + limit]
    scores = dict(zip(ranked.ids[offset: offset + limit], ranked.scores[offset: offset + limit],
                      strict=True))
    hits = []
    for row in reader.rows_of(scope, window):
        if not highlights:
            hits.append(Hit(row, round(scores[row.id], 6)))
            continue
        description = json.loads(row.manifest_text).get("description")
        marked = ranking.highlight(description if isinstance(description, str) else "",
                                   ranked.matched_terms)
        hits.append(Hit(row, round(scores[row.id], 6),
                        {"description": marked} if "<mark>" in marked else {}))
    following = offset + limit
    return SearchPage(hits, len(ranked.ids), following if following < len(ranked.ids) else None,
                      ranked.facets, ranked.suggestion, ranked.semantic, ranked.stale)

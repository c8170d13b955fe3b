"""`GET /v0.1/x/<ns>/search` (and `/c/<slug>/v0.1/x/<ns>/search`): ranked search with scores,
highlights, facet counts and "did you mean", through the same serving.search as `search`."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from rest_framework.request import Request

from registry.api.render import entry_json, json_response
from serving import render
from serving.api.views import ReadView
from serving.query import (
    MAX_LIMIT,
    MAX_SEARCH,
    SEARCH_CURSOR_PREFIX,
    InvalidQuery,
    parse_bool,
    sign_state,
    verify_state,
)
from serving.search import REGISTRY_TYPES, TRANSPORTS, SearchFilters, search_page

DEFAULT_LIMIT = 20
_FLAGS = ("remote_only", "package_only", "trusted_only", "include_deleted")


def _choice(params: Any, name: str, allowed: tuple[str, ...]) -> str:
    value = (params.get(name) or "").strip()
    if value and value not in allowed:
        raise InvalidQuery(f"Invalid {name}: one of {', '.join(allowed)}", status=422)
    return value


def _limit(params: Any) -> int:
    raw = params.get("limit")
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidQuery(f"Invalid limit: expected an integer, got {raw!r}", status=422) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"Invalid limit: must be between 1 and {MAX_LIMIT}", status=422)
    return limit


def parse_search(params: Any, scope: str) -> dict[str, Any]:
    """The search's state: from the cursor when there is one (it carries everything)."""
    cursor = params.get("cursor") or ""
    if cursor:
        if not cursor.startswith(SEARCH_CURSOR_PREFIX):
            raise InvalidQuery("Invalid cursor: use the exact metadata.nextCursor value")
        return verify_state("x", cursor, scope)
    q = (params.get("q") or "").strip()
    if len(q) > MAX_SEARCH:
        raise InvalidQuery(f"Invalid q: at most {MAX_SEARCH} characters", status=422)
    state: dict[str, Any] = {"c": scope, "q": q, "o": 0,
                             "r": _choice(params, "registry_type", REGISTRY_TYPES),
                             "t": _choice(params, "transport", TRANSPORTS)}
    for flag in _FLAGS:
        state[flag] = bool(parse_bool(flag, params.get(flag)))
    return state


class SearchView(ReadView):
    """GET x/<ns>/search: the most relevant latest versions of the scope, with their scores."""

    def get(self, request: Request, slug: str = "") -> HttpResponse:
        scope = self.scope(request, slug or settings.MCP_INDEX_DEFAULT_CATALOG)
        state = parse_search(request.query_params, scope.slug)
        limit = _limit(request.query_params)
        filters = SearchFilters(registry_type=str(state.get("r") or ""),
                                transport=str(state.get("t") or ""),
                                remote_only=bool(state.get("remote_only")),
                                package_only=bool(state.get("package_only")),
                                trusted_only=bool(state.get("trusted_only")))
        page = search_page(scope, str(state.get("q") or ""), filters, limit=limit,
                           offset=int(state["o"]),
                           include_deleted=bool(state.get("include_deleted")))
        rows = [hit.row for hit in page.hits]
        extras = render.extras_for(scope, rows)
        # Each result is a ServerResponse (the stored manifest text embedded as is) with the
        # score and highlights after its `_meta`.
        results = [entry_json(hit.row, extras.get(hit.row.id))[:-1]
                   + f',"score":{json.dumps(hit.score)},"highlights":'
                   + json.dumps(hit.highlights, separators=(",", ":")) + "}"
                   for hit in page.hits]
        metadata: dict[str, Any] = {"count": len(results), "total": page.total}
        if page.next_offset is not None:
            metadata["nextCursor"] = sign_state("x", state | {"o": page.next_offset})
        body: dict[str, Any] = {"query": state.get("q") or "", "facets": page.facets,
                                "semantic": page.semantic, "metadata": metadata}
        if page.suggestion:
            body["suggestion"] = page.suggestion
        head = json.dumps(body, separators=(",", ":"))
        return json_response(head[:-1] + ',"results":[' + ",".join(results) + "]}")

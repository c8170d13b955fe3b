"""ServerResponse / ServerList bodies with every `_meta` block we add, built in one place.

Root and catalog endpoints both answer through these, so the trust summary (and any
caller-supplied block, such as a catalog's overlay) cannot drift between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse

from registry.api.render import entry_json, json_response, list_json
from signing.selectors import trust_meta_for_versions

Extras = Mapping[int, Mapping[str, Any]]


def _with_trust(rows: list[dict[str, Any]], extras: Extras | None) -> dict[int, dict[str, Any]]:
    """Per-version `_meta` additions: the given extras plus trust summaries.

    Only rows whose read found a verified attestation (`attested`; assumed when absent) are
    summarised, so a page without any costs no trust query.
    """
    merged: dict[int, dict[str, Any]] = {k: dict(v) for k, v in (extras or {}).items()}
    attested = [row["id"] for row in rows if row.get("attested", True)]
    for version_id, block in trust_meta_for_versions(attested).items():
        merged.setdefault(version_id, {}).update(block)
    return merged


def list_response(rows: list[dict[str, Any]], next_cursor: str | None = None,
                  extras: Extras | None = None) -> HttpResponse:
    """A ServerList answer."""
    return json_response(list_json(rows, next_cursor, _with_trust(rows, extras)))


def entry_response(row: dict[str, Any], extra: Mapping[str, Any] | None = None) -> HttpResponse:
    """A single ServerResponse answer."""
    merged = _with_trust([row], {row["id"]: extra} if extra else None)
    return json_response(entry_json(row, merged.get(row["id"])))


def entries_json(rows: list[dict[str, Any]]) -> str:
    """A JSON array of ServerResponses (for the all-versions status answer)."""
    merged = _with_trust(rows, None)
    return "[" + ",".join(entry_json(row, merged.get(row["id"])) for row in rows) + "]"

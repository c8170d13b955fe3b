"""Response bodies built from stored JSON text: no per-item serializer work on reads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpResponse

from registry.manifest import OFFICIAL_META_KEY


def rfc3339(value: datetime | str) -> str:
    """RFC 3339 in UTC with trailing zeros of the fraction trimmed (Go's RFC3339Nano).

    Text is passed through: registry.read_sql has PostgreSQL format it already."""
    if isinstance(value, str):
        return value
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def official_meta(row: Mapping[str, Any]) -> dict[str, Any]:
    """The `io.modelcontextprotocol.registry/official` object, in the official key order."""
    meta: dict[str, Any] = {"status": row["status"],
                            "statusChangedAt": rfc3339(row["status_changed_at"])}
    if row["status_message"]:
        meta["statusMessage"] = row["status_message"]
    meta["publishedAt"] = rfc3339(row["published_at"])
    meta["updatedAt"] = rfc3339(row["updated_at"])
    meta["isLatest"] = row["is_latest"]
    return meta


def entry_meta(row: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Response `_meta`: official block, upstream extension keys kept, then ours."""
    meta: dict[str, Any] = {OFFICIAL_META_KEY: official_meta(row)}
    ours = settings.MCP_INDEX_NAMESPACE + "/"
    for key, value in (row.get("upstream_meta") or {}).items():
        if key != OFFICIAL_META_KEY and not key.startswith(ours):
            meta[key] = value
    meta[ours + "registry"] = {"origin": row["origin"], "digest": "sha256:" + row["digest"]}
    if extra:
        meta.update(extra)
    return meta


def entry_json(row: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> str:
    """One ServerResponse as JSON text, embedding the stored manifest text."""
    return ('{"server":' + row["manifest_text"] + ',"_meta":'
            + json.dumps(entry_meta(row, extra), separators=(",", ":")) + "}")


def json_response(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="application/json")


def list_json(rows: list[dict[str, Any]], next_cursor: str | None,
              extras: Mapping[int, Mapping[str, Any]] | None = None) -> str:
    """A ServerList body: `{"servers":[…],"metadata":{"nextCursor"?,"count"}}`."""
    extras = extras or {}
    items = ",".join(entry_json(r, extras.get(r["id"])) for r in rows)
    metadata: dict[str, Any] = {}
    if next_cursor:
        metadata["nextCursor"] = next_cursor
    metadata["count"] = len(rows)
    return '{"servers":[' + items + '],"metadata":' + json.dumps(metadata) + "}"

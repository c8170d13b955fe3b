"""Response bodies built from stored JSON text: no per-item serializer work on reads.

A body is rendered from anything with a version's fields: a model instance after a write,
or a row of the read API (serving.rows.EntryRow). Apps above the registry add their own
`_meta` blocks to write responses through register_meta_contributor (signing registers its
trust summary there), so the registry needs no import of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.http import HttpResponse

from registry.manifest import OFFICIAL_META_KEY


class Renderable(Protocol):
    """The fields a ServerResponse is rendered from (timestamps as datetimes or RFC 3339)."""

    @property
    def id(self) -> int: ...
    @property
    def manifest_text(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def status_message(self) -> str: ...
    @property
    def status_changed_at(self) -> datetime | str: ...
    @property
    def published_at(self) -> datetime | str: ...
    @property
    def updated_at(self) -> datetime | str: ...
    @property
    def is_latest(self) -> bool: ...
    @property
    def origin(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def upstream_meta(self) -> Any: ...  # a mapping, or its JSON text (see meta_json)


Extras = Mapping[int, Mapping[str, Any]]
# Given version ids, `_meta` blocks to add per id (ids without any may be left out).
MetaContributor = Callable[[Sequence[int]], Extras]
_contributors: list[MetaContributor] = []


def register_meta_contributor(contributor: MetaContributor) -> None:
    """Add `_meta` blocks to write responses (call from an AppConfig.ready; once is enough)."""
    if contributor not in _contributors:
        _contributors.append(contributor)


def contributed_meta(version_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Every contributor's blocks for these versions, merged in registration order."""
    merged: dict[int, dict[str, Any]] = {}
    for contributor in _contributors:
        for version_id, block in contributor(version_ids).items():
            merged.setdefault(version_id, {}).update(block)
    return merged


def rfc3339(value: datetime | str) -> str:
    """RFC 3339 in UTC with trailing zeros of the fraction trimmed (Go's RFC3339Nano).

    Text is passed through: serving.sql has PostgreSQL format it already."""
    if isinstance(value, str):
        return value
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def official_meta(row: Renderable) -> dict[str, Any]:
    """The `io.modelcontextprotocol.registry/official` object, in the official key order."""
    meta: dict[str, Any] = {"status": row.status,
                            "statusChangedAt": rfc3339(row.status_changed_at)}
    if row.status_message:
        meta["statusMessage"] = row.status_message
    meta["publishedAt"] = rfc3339(row.published_at)
    meta["updatedAt"] = rfc3339(row.updated_at)
    meta["isLatest"] = row.is_latest
    return meta


def upstream_members(meta: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """The upstream's `_meta` members a response keeps: all but the official block and our
    own namespace's keys. `meta`: a mapping, or an object's JSON text."""
    members: Mapping[str, Any] = json.loads(meta) if isinstance(meta, str) else meta or {}
    ours = settings.MCP_INDEX_NAMESPACE + "/"
    return {key: value for key, value in members.items()
            if key != OFFICIAL_META_KEY and not key.startswith(ours)}


def entry_meta(row: Renderable, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Response `_meta`: official block, upstream extension keys kept, then ours."""
    ours = settings.MCP_INDEX_NAMESPACE + "/"
    meta: dict[str, Any] = {OFFICIAL_META_KEY: official_meta(row),
                            **upstream_members(row.upstream_meta)}
    meta[ours + "registry"] = {"origin": row.origin, "digest": "sha256:" + row.digest}
    if extra:
        meta.update(extra)
    return meta


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# Text that is its own JSON string body (no quote, backslash, control or non-ASCII character):
# statuses, RFC 3339 timestamps, origins, digests.
_PLAIN = re.compile(r"[A-Za-z0-9 ._:/+@-]*")


def _string(text: str) -> str:
    return '"' + text + '"' if _PLAIN.fullmatch(text) else _dumps(text)


def _official_json(row: Renderable) -> str:
    """official_meta(row) as JSON text, built without the encoder (a list page has 30);
    tests/serving/test_meta_render.py holds the two together."""
    message = ',"statusMessage":' + _dumps(row.status_message) if row.status_message else ""
    return ('{"status":' + _string(row.status) + ',"statusChangedAt":'
            + _string(rfc3339(row.status_changed_at)) + message + ',"publishedAt":'
            + _string(rfc3339(row.published_at)) + ',"updatedAt":'
            + _string(rfc3339(row.updated_at)) + ',"isLatest":'
            + ("true" if row.is_latest else "false") + "}")


def _spliceable(text: Any, extra: Mapping[str, Any] | None, ours: str) -> bool:
    """Whether meta_json may splice the members' text in as it is: text (or none) with no key
    of ours and no official block in it, and no extra block that could replace an upstream
    key. PostgreSQL prints a key as its plain characters, so a substring test finds them."""
    if text is not None and not isinstance(text, str):
        return False
    if text and (f'"{ours}' in text or f'"{OFFICIAL_META_KEY}"' in text):
        return False
    return not extra or all(key.startswith(ours) for key in extra)


def meta_json(row: Renderable, extra: Mapping[str, Any] | None = None) -> str:
    """entry_meta(row, extra) as JSON text. When the row holds the upstream's members as
    PostgreSQL printed them (serving.sql: the official block already left out), that text is
    spliced in as it is: no decoding and encoding of it per row, and its numbers exactly as
    stored. Otherwise (_spliceable) the members are decoded, filtered and encoded."""
    text = row.upstream_meta
    ours = settings.MCP_INDEX_NAMESPACE + "/"
    if not _spliceable(text, extra, ours):
        return _dumps(entry_meta(row, extra))
    members = text.strip()[1:-1].strip() if text else ""
    return ('{"' + OFFICIAL_META_KEY + '":' + _official_json(row)
            + ("," + members if members else "") + "," + _string(ours + "registry")
            + ':{"origin":' + _string(row.origin) + ',"digest":' + _string("sha256:" + row.digest)
            + "}" + ("," + _dumps(extra)[1:-1] if extra else "") + "}")


def entry_json(row: Renderable, extra: Mapping[str, Any] | None = None) -> str:
    """One ServerResponse as JSON text, embedding the stored manifest text."""
    return '{"server":' + row.manifest_text + ',"_meta":' + meta_json(row, extra) + "}"


def json_response(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="application/json")


def list_json(rows: Iterable[Renderable], next_cursor: str | None,
              extras: Extras | None = None) -> str:
    """A ServerList body: `{"servers":[…],"metadata":{"nextCursor"?,"count"}}`."""
    extras = extras or {}
    items = [entry_json(r, extras.get(r.id)) for r in rows]
    metadata: dict[str, Any] = {}
    if next_cursor:
        metadata["nextCursor"] = next_cursor
    metadata["count"] = len(items)
    return '{"servers":[' + ",".join(items) + '],"metadata":' + json.dumps(metadata) + "}"


def entry_response(row: Renderable) -> HttpResponse:
    """A single ServerResponse answering a write, with every contributed `_meta` block."""
    return json_response(entry_json(row, contributed_meta([row.id]).get(row.id)))


def entries_json(rows: Sequence[Renderable]) -> str:
    """A JSON array of ServerResponses (for the all-versions status answer)."""
    merged = contributed_meta([row.id for row in rows])
    return "[" + ",".join(entry_json(row, merged.get(row.id)) for row in rows) + "]"

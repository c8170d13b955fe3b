"""Screening upstream entries before the database: one bad entry is rejected, not its page.

PostgreSQL refuses NUL in text and jsonb, lone surrogates cannot be encoded, jsonb has no
Infinity or NaN, varchar columns and b-tree index rows have limits, and timestamps must stay
representable. Any of these inside one entry used to fail the insert of its whole page on
every run; here each becomes a rejection with a reason, found before a statement is sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mcp_index_common import input as boundary
from registry.models import RemoteUrl, ServerVersion
from registry.services import PreparedEntry

MAX_DEPTH = 32  # the real registry nests 8 deep
MAX_ENTRY_BYTES = 256 * 1024  # the largest real entry is ~26 kB
MAX_DESCRIPTION = 4000  # characters; the schema allows 100, stored-with-issues may be longer
_URL_BYTES = RemoteUrl._meta.get_field("url").max_length or 2000
# column -> its max_length (varchar columns refuse longer values, failing the whole insert)
_LIMITED: dict[str, int] = {f.attname: limit for f in ServerVersion._meta.concrete_fields
                            if isinstance(limit := getattr(f, "max_length", None), int)}
_TIMES = ("published_at", "updated_at", "status_changed_at")
# Prebuilt: json.dumps with any option builds an encoder per call. NaN and the infinities
# raise (the walk refuses them); NUL comes out as `\u0000`, a lone surrogate as itself.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


_UNPARSED = "x-mcp-index-unparsed"


def placeholder(reason: str) -> dict[str, str]:
    """What stands in for an entry the page parser could not take (see fetch.parse_page)."""
    return {_UNPARSED: reason}


def entry_problem(entry: Any) -> str | None:
    """Why a raw upstream entry cannot be stored at all, or None.

    The input boundary every request body passes (mcp_index_common.input), walked without
    recursion; integers of any size are kept, as the upstream serves them.
    """
    if isinstance(entry, dict) and isinstance(entry.get(_UNPARSED), str):
        return f"entry is {entry[_UNPARSED]}"
    if plainly_acceptable(entry):
        return None
    problem = boundary.value_problem(entry, max_depth=MAX_DEPTH, max_int=None, location="entry")
    return str(problem) if problem is not None else None


def plainly_acceptable(entry: Any) -> bool:
    """True when one pass of the C encoder shows the walk would find nothing; False when it
    might (the walk then says what, and where). About 15 µs for a real entry, the walk 60.

    The walk refuses NUL and lone surrogates in keys and strings, NaN and the infinities,
    and containers nested MAX_DEPTH or more below the entry; integers of any size pass.
    In the encoder's text NUL is always written `\\u0000` (the same six characters from a
    string holding a backslash only send that entry to the walk), a lone surrogate makes
    the UTF-8 encoding fail, NaN and the infinities raise, and nesting is no deeper than
    the number of opening brackets (or, past that, than the brackets outside strings).
    Anything the encoder cannot write (other types, integers of more digits than `int`
    prints, cycles, extreme depth) is left to the walk. (The walk's other refusal, the
    decoder's out-of-range number marker, never leaves mcp_index_common.input.)
    """
    try:
        text = _ENCODER.encode(entry)
    except (TypeError, ValueError, RecursionError):
        return False
    if "\\u0000" in text:
        return False
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return False
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return True
    return boundary.json_depth(text) <= MAX_DEPTH


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored in PostgreSQL text or jsonb, or None."""
    return boundary.text_problem(text)


def prepared_problem(prepared: PreparedEntry) -> str | None:
    """Why a parsed entry's columns exceed what the database holds, or None."""
    values = prepared.values
    for column, limit in _LIMITED.items():
        value = values.get(column)
        if isinstance(value, str) and len(value) > limit:
            return f"{column.replace('_', ' ')} is longer than {limit} characters"
    if len(values.get("description", "")) > MAX_DESCRIPTION:
        return f"description is longer than {MAX_DESCRIPTION} characters"
    if len(values.get("manifest_text", "").encode()) > MAX_ENTRY_BYTES:
        return f"server.json is larger than {MAX_ENTRY_BYTES} bytes"
    for url in prepared.remote_urls:
        if len(url.encode()) > _URL_BYTES:
            return f"a remote URL is longer than {_URL_BYTES} bytes"
    for column in _TIMES:
        when = values.get(column)
        if isinstance(when, datetime) and not _representable(when):
            return f"{column.replace('_', ' ')} is out of range"
    return None


def _representable(when: datetime) -> bool:
    try:
        when.astimezone(UTC)
    except (OverflowError, ValueError):
        return False
    return True


def printable(text: str, limit: int = 300) -> str:
    """Text from an upstream made safe to store and show: NUL and lone surrogates escaped."""
    text = text[:limit]
    if text_problem(text) is None:
        return text
    return (text.replace("\x00", "\\u0000")
            .encode("utf-8", "backslashreplace").decode("utf-8"))

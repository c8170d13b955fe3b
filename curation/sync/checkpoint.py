"""The checkpoint of a walk in progress: a frozen value, stored as JSON on its upstream.

`Upstream.checkpoint` holds `SyncCheckpoint.to_json()` while a walk is unfinished and None
when idle. `from_json` validates what it reads: a checkpoint that does not load raises
CheckpointError, and the sync then starts a fresh walk (saying why) instead of crashing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

FORMAT = 2
MODES = ("incremental", "full")
SEEN_CAP = 1000  # digests kept in the stored checkpoint (a run also remembers all of its own)
_DIGEST = re.compile(r"^[0-9a-f]{16}$")


class CheckpointError(ValueError):
    """A stored checkpoint that cannot be trusted: the walk restarts."""


@dataclass(frozen=True)
class SyncCheckpoint:
    """Where a walk is: its mode, window, cursor, progress and high-water candidates."""

    mode: str  # incremental | full
    walk: int  # id of the run that began the walk (FullSyncSeen rows are keyed by it)
    started_at: datetime
    since: datetime | None = None  # the updated_since of the whole walk (None: everything)
    cursor: str | None = None  # where the next page starts (None: at the beginning)
    pages: int = 0  # pages committed by this walk, over all its runs
    max_updated: datetime | None = None  # newest upstream updatedAt seen by the walk
    cap: datetime | None = None  # the upstream's clock (Date) when the walk began
    # Digests of the cursors this walk followed and of the pages it committed (newest last),
    # so that an upstream whose cursors loop is caught, also across a resume.
    seen: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise CheckpointError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if not _is_int(self.walk) or self.walk < 1:
            raise CheckpointError("walk must be a run id")
        if not _is_int(self.pages) or self.pages < 0:
            raise CheckpointError("pages must be a non-negative integer")
        if self.cursor is not None and not isinstance(self.cursor, str):
            raise CheckpointError("cursor must be a string")
        if not isinstance(self.seen, tuple) or not all(
                isinstance(d, str) and _DIGEST.match(d) for d in self.seen):
            raise CheckpointError("seen must be a list of 16-hex-digit digests")
        for field in ("started_at", "since", "max_updated", "cap"):
            value = getattr(self, field)
            if value is None and field != "started_at":
                continue
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise CheckpointError(f"{field} must be an aware datetime")

    @classmethod
    def begin(cls, *, mode: str, walk: int, started_at: datetime,
              since: datetime | None) -> SyncCheckpoint:
        """A fresh walk, before its first page."""
        return cls(mode=mode, walk=walk, started_at=started_at, since=since)

    def capped(self, cap: datetime) -> SyncCheckpoint:
        """The upstream's clock, recorded once per walk."""
        return self if self.cap is not None else replace(self, cap=cap)

    def advanced(self, *, cursor: str | None, max_updated: datetime | None,
                 seen: tuple[str, ...] = ()) -> SyncCheckpoint:
        """After one committed page (`seen`: the digests that page adds)."""
        return replace(self, cursor=cursor, pages=self.pages + 1, max_updated=max_updated,
                       seen=(self.seen + seen)[-SEEN_CAP:])

    def to_json(self) -> dict[str, Any]:
        return {"v": FORMAT, "mode": self.mode, "walk": self.walk,
                "started_at": self.started_at.isoformat(), "since": _time_out(self.since),
                "cursor": cursor_encode(self.cursor) if self.cursor is not None else None,
                "pages": self.pages,
                "max_updated": _time_out(self.max_updated), "cap": _time_out(self.cap),
                "seen": list(self.seen)}

    @classmethod
    def from_json(cls, data: Any, *, now: datetime) -> SyncCheckpoint:
        """Validate and load a stored checkpoint; also the untyped dict of earlier releases."""
        if not isinstance(data, dict):
            raise CheckpointError(f"expected an object, found {type(data).__name__}")
        version = data.get("v", 1)
        if version not in (1, FORMAT):
            raise CheckpointError(f"unknown checkpoint format {version!r}")
        for key in ("mode", "walk", "cursor"):
            if key not in data:
                raise CheckpointError(f"{key} is missing")
        started = data.get("started_at") if version == FORMAT else None
        cursor = data["cursor"]
        if version == FORMAT and cursor is not None:
            cursor = cursor_decode(cursor)
        return cls(mode=data["mode"], walk=data["walk"],
                   started_at=_time_in(started, "started_at") or now,
                   since=_time_in(data.get("since"), "since"), cursor=cursor,
                   pages=data.get("pages", 0),
                   max_updated=_time_in(data.get("max_updated"), "max_updated"),
                   cap=_time_in(data.get("cap"), "cap"), seen=_seen_in(data.get("seen", [])))


def cursor_encode(cursor: str) -> str:
    """Any string as base64 of its UTF-8 (lone surrogates kept): jsonb takes neither NUL nor
    lone surrogates, and an upstream's cursor must come back to it exactly as it was sent."""
    return base64.b64encode(cursor.encode("utf-8", "surrogatepass")).decode("ascii")


def cursor_decode(stored: Any) -> str:
    if not isinstance(stored, str):
        raise CheckpointError("cursor must be a base64 string")
    try:
        return base64.b64decode(stored, validate=True).decode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError) as exc:
        raise CheckpointError("cursor is not base64 of UTF-8") from exc


def cursor_digest(cursor: str) -> str:
    """A short digest of a followed cursor."""
    return _digest("cursor", cursor)


def page_digest(keys: list[str]) -> str:
    """A short digest of a page by its entries' identities."""
    return _digest("page", "\n".join(keys))


def _digest(kind: str, text: str) -> str:
    data = f"{kind}:{text}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:16]


def _seen_in(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > SEEN_CAP:
        raise CheckpointError(f"seen must be a list of at most {SEEN_CAP} digests")
    return tuple(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _time_out(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time_in(value: Any, field: str) -> datetime | None:
    """An ISO time; a naive one (written by releases that parsed `-0000` naively) is UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise CheckpointError(f"{field} must be an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CheckpointError(f"{field} is not an ISO 8601 time: {value[:40]!r}") from exc
    return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=UTC)

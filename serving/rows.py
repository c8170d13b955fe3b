"""What a read of the standard API returns: one row per version, the same in every scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

# The membership reason of a pinned version (curation.rules); the catalog's `_meta` says so.
PINNED_REASON = "pinned"
# What a catalog serves as the status message of a version it no longer includes.
REMOVED_MESSAGE = "removed from this catalog"


@dataclass(frozen=True)
class EntryRow:
    """One version as a scope serves it: the registry itself (`all`) or a catalog.

    In a catalog, status, latest and updated_at are the catalog's own (a version the catalog
    no longer includes is served as deleted there). Timestamps are RFC 3339 text, as served.
    """

    id: int
    name: str
    version: str
    manifest_text: str
    status: str
    status_message: str
    status_changed_at: str
    published_at: str
    updated_at: str
    is_latest: bool
    origin: str
    digest: str
    # The upstream's `_meta` (None when it had none): a dict (serving.orm), or as serving.sql
    # reads it, the JSON text of its members less the official block.
    upstream_meta: dict[str, Any] | str | None
    attested: bool  # a verified attestation exists: only then is a trust summary looked up
    inventoried: bool = False  # a tool inventory exists: only then is its summary looked up
    overlaid: bool = False  # the catalog has an overlay for this server: only then is it read
    pinned: bool = False  # the catalog pins this version

    @classmethod
    def of(cls, values: Iterable[Any]) -> EntryRow:
        """A row from values in field order (the trailing defaults may be left out).

        The same frozen row as the constructor makes, without its per-field
        `object.__setattr__` (about 2 µs a row, and a list page makes up to 101).
        """
        row = object.__new__(cls)
        row.__dict__.update(zip(FIELDS, values, strict=False))
        return row


FIELDS = tuple(f.name for f in fields(EntryRow))

"""Reads behind the standard API: list pages, a server's versions, one version."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from registry import read_sql
from registry.errors import NotFound, RegistryError
from registry.models import ServerVersion
from registry.querysets import ServerVersionQuerySet
from signing.selectors import verified_attestation_exists

# The columns a read needs (one definition, in read_sql); every read endpoint fetches exactly
# these. `attested` (annotated by `readable`) says whether the trust summary has anything to find.
ENTRY_FIELDS = read_sql.ENTRY_FIELDS
# False: every database goes through the ORM (tests compare the two paths).
SQL_READS = True
DEFAULT_LIMIT = 30
MAX_LIMIT = 100


class InvalidQuery(RegistryError):
    """A query parameter that cannot be honoured."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.title = "Unprocessable Entity" if status == 422 else "Bad Request"


@dataclass(frozen=True)
class ListQuery:
    """Parsed `GET /servers` parameters."""

    limit: int = DEFAULT_LIMIT
    after: tuple[str, str] | None = None
    search: str = ""
    updated_since: datetime | None = None
    version: str = ""
    include_deleted: bool = False


@dataclass(frozen=True)
class Page:
    """One page of list rows and the cursor to the next, if any."""

    rows: list[dict[str, Any]]
    next_cursor: str | None


def readable(qs: ServerVersionQuerySet) -> ServerVersionQuerySet:
    """`qs` with the `attested` annotation that ENTRY_FIELDS reads."""
    return qs.annotate(attested=verified_attestation_exists())


def rows_of(values: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """values_list tuples (in ENTRY_FIELDS order) as dicts."""
    return [dict(zip(ENTRY_FIELDS, v, strict=True)) for v in values]


def encode_cursor(name: str, version: str) -> str:
    """Opaque cursor: url-safe base64 of the last (name, version) on the page."""
    raw = json.dumps([name, version], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, version = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidQuery("Invalid cursor: use the exact metadata.nextCursor value "
                           "from a previous response") from exc
    if not isinstance(name, str) or not isinstance(version, str):
        raise InvalidQuery("Invalid cursor: use the exact metadata.nextCursor value "
                           "from a previous response")
    return name, version


def parse_bool(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise InvalidQuery(f"Invalid {name}: expected true or false, got {value!r}", status=422)


MAX_UTC_OFFSET = timedelta(hours=16)


def parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in value.upper():
        raise InvalidQuery("Invalid updated_since format: expected RFC3339 timestamp "
                           "(e.g., 2025-08-07T13:15:04.280Z)")
    offset = parsed.utcoffset()
    if offset is not None and abs(offset) >= MAX_UTC_OFFSET:  # PostgreSQL stores up to ±15:59
        raise InvalidQuery("Invalid updated_since: the UTC offset must be within ±15:59")
    return parsed


def parse_list_query(params: Any) -> ListQuery:
    """Validate query parameters with the official rules and messages."""
    raw_limit = params.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit not in (None, ""):
        try:
            limit = int(raw_limit)
        except ValueError:
            raise InvalidQuery(f"Invalid limit: expected an integer, got {raw_limit!r}",
                               status=422) from None
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidQuery(f"Invalid limit: must be between 1 and {MAX_LIMIT}", status=422)
    cursor = params.get("cursor")
    after = decode_cursor(cursor) if cursor else None
    since_raw = params.get("updated_since")
    since = parse_time(since_raw) if since_raw else None
    include_deleted = parse_bool("include_deleted", params.get("include_deleted"))
    if since is not None:
        if include_deleted is False:
            raise InvalidQuery("Cannot set include_deleted=false when using updated_since "
                               "(incremental sync requires deleted servers)")
        include_deleted = True
    return ListQuery(limit=limit, after=after, search=(params.get("search") or "").strip(),
                     updated_since=since, version=(params.get("version") or "").strip(),
                     include_deleted=bool(include_deleted))


def filter_list(qs: ServerVersionQuerySet, query: ListQuery) -> ServerVersionQuerySet:
    """Apply the list filters (not the cursor) to a queryset."""
    qs = qs.visible(include_deleted=query.include_deleted)
    if query.search:
        qs = qs.search(query.search)
    if query.updated_since is not None:
        qs = qs.updated_since(query.updated_since)
    if query.version == "latest":
        qs = qs.latest_only()
    elif query.version:
        qs = qs.filter(version=query.version)
    return qs


def sql_reads() -> bool:
    """PostgreSQL answers the three hot reads with hand-written SQL (registry.read_sql)."""
    return SQL_READS and connection.vendor == "postgresql"


def list_page(query: ListQuery) -> Page:
    """One keyset page in (name, version) order, as a single query.

    The inner query picks the page's ids from the covering index; only those rows are read.
    """
    if sql_reads():
        rows, after = read_sql.list_page(query)
        return Page(rows=rows, next_cursor=encode_cursor(*after) if after else None)
    qs = filter_list(ServerVersion.objects.all(), query)
    if query.after is not None:
        qs = qs.after(*query.after)
    page_ids = qs.in_list_order().values("id")[: query.limit + 1]
    values = list(readable(ServerVersion.objects.filter(id__in=page_ids)).in_list_order()
                  .values_list(*ENTRY_FIELDS, "name", "version"))
    more = len(values) > query.limit
    values = values[: query.limit]
    rows = rows_of(v[: len(ENTRY_FIELDS)] for v in values)
    cursor = encode_cursor(values[-1][-2], values[-1][-1]) if more and values else None
    return Page(rows=rows, next_cursor=cursor)


def server_versions(name: str, *, include_deleted: bool) -> list[dict[str, Any]]:
    """All versions of a server, newest publish first; NotFound when none."""
    if sql_reads():
        rows = read_sql.server_versions(name, include_deleted=include_deleted)
        if not rows:
            raise NotFound("Server not found")
        return rows
    values = (readable(ServerVersion.objects.named(name).visible(include_deleted=include_deleted))
              .order_by("-published_at", "-id").values_list(*ENTRY_FIELDS))
    rows = rows_of(values)
    if not rows:
        raise NotFound("Server not found")
    return rows


def server_version(name: str, version: str, *, include_deleted: bool) -> dict[str, Any]:
    """One version (or the literal `latest`); NotFound when absent or hidden."""
    if sql_reads():
        found = read_sql.server_version(name, version, include_deleted=include_deleted)
        if not found:
            raise NotFound("Server not found")
        return found[0]
    qs = ServerVersion.objects.named(name).visible(include_deleted=include_deleted)
    qs = qs.latest_only() if version == "latest" else qs.filter(version=version)
    rows = rows_of(readable(qs).values_list(*ENTRY_FIELDS)[:1])
    if not rows:
        raise NotFound("Server not found")
    return rows[0]


def version_row(sv: ServerVersion) -> dict[str, Any]:
    """The render row for a model instance (after a write; the trust summary is looked up)."""
    return {**{field: getattr(sv, field) for field in ENTRY_FIELDS[:-1]}, "attested": True}

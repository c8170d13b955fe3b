"""The list parameters of the standard API, parsed with the official rules, and its cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from mcp_index_common.input import text_problem
from registry.errors import RegistryError
from serving.rows import EntryRow

DEFAULT_LIMIT = 30
MAX_LIMIT = 100
MAX_SEARCH = 500  # characters: a sentence, not a document
MAX_UTC_OFFSET = timedelta(hours=16)
_BAD_CURSOR = "Invalid cursor: use the exact metadata.nextCursor value from a previous response"


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
    offset: int = 0  # a ranked search's position (search cursors), 0 on its first page

    @property
    def ranked(self) -> bool:
        """A search of latest versions: ranked by relevance, paged by a search cursor. A
        search of one exact version keeps the substring filter and keyset pages."""
        return bool(self.search) and self.version in ("", "latest")


@dataclass(frozen=True)
class Page:
    """One page of list rows and the cursor to the next, if any."""

    rows: list[EntryRow]
    next_cursor: str | None


def encode_cursor(name: str, version: str) -> str:
    """Opaque cursor: url-safe base64 of the last (name, version) on the page."""
    raw = json.dumps([name, version], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (name, version) a cursor from encode_cursor stands for; InvalidQuery otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, version = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidQuery(_BAD_CURSOR) from exc
    if not isinstance(name, str) or not isinstance(version, str):
        raise InvalidQuery(_BAD_CURSOR)
    # A forged cursor can smuggle what the URL boundary refuses (NUL, lone surrogates) past it
    # inside base64: the database would refuse the key, so refuse the cursor here.
    if text_problem(name) or text_problem(version):
        raise InvalidQuery(_BAD_CURSOR)
    return name, version


# A ranked search's cursor: `s1.<payload>.<mac>`, the payload the url-safe base64 of the whole
# query (scope, search, filters, position), the mac an HMAC-SHA256 of it under a key derived
# from SECRET_KEY. A client may send back only the cursor (VS Code drops `search` when it
# pages) and gets the next results of the same search; an edited or foreign cursor is a 400.
SEARCH_CURSOR_PREFIX = "s1."
MAX_CURSOR = 4096
_MAX_OFFSET = 1_000_000


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(kind: str, payload: str) -> str:
    key = hashlib.sha256(b"mcp-index.search-cursor:" + settings.SECRET_KEY.encode()).digest()
    return _b64(hmac.new(key, f"{kind}:{payload}".encode(), hashlib.sha256).digest()[:18])


def sign_state(kind: str, state: dict[str, Any]) -> str:
    """An opaque, tamper-evident cursor for a state (kind: which surface minted it)."""
    payload = _b64(json.dumps(state, separators=(",", ":"), sort_keys=True).encode())
    return f"{SEARCH_CURSOR_PREFIX}{payload}.{_mac(kind, payload)}"


def verify_state(kind: str, cursor: str, scope: str) -> dict[str, Any]:
    """The state a cursor from sign_state carries; 400 if edited, foreign or not ours."""
    if len(cursor) > MAX_CURSOR or not cursor.startswith(SEARCH_CURSOR_PREFIX):
        raise InvalidQuery(_BAD_CURSOR)
    payload, _, mac = cursor[len(SEARCH_CURSOR_PREFIX):].partition(".")
    if not hmac.compare_digest(mac.encode(), _mac(kind, payload).encode()):
        raise InvalidQuery(_BAD_CURSOR)
    try:
        state = json.loads(_unb64(payload))
    except (binascii.Error, ValueError) as exc:  # only we sign, so this is a bug, not input
        raise InvalidQuery(_BAD_CURSOR) from exc
    offset = state.get("o") if isinstance(state, dict) else None
    if (not isinstance(state, dict) or state.get("c") != scope or not isinstance(offset, int)
            or not 0 < offset <= _MAX_OFFSET):
        raise InvalidQuery(_BAD_CURSOR)  # another catalog's cursor, or not a position
    return state


def search_cursor(scope: str, query: ListQuery, offset: int) -> str:
    """The cursor of a ranked search's next page, from `offset`."""
    return sign_state("list", {
        "c": scope, "s": query.search, "v": query.version, "d": query.include_deleted,
        "u": query.updated_since.isoformat() if query.updated_since else None, "o": offset})


def _from_search_cursor(cursor: str, scope: str, limit: int) -> ListQuery:
    state = verify_state("list", cursor, scope)
    since = state.get("u")
    return ListQuery(limit=limit, search=str(state.get("s") or ""),
                     updated_since=datetime.fromisoformat(since) if since else None,
                     version=str(state.get("v") or ""), include_deleted=bool(state.get("d")),
                     offset=int(state["o"]))


def parse_bool(name: str, value: str | None) -> bool | None:
    """`true`/`1` or `false`/`0` (any case); None when absent; 422 otherwise."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise InvalidQuery(f"Invalid {name}: expected true or false, got {value!r}", status=422)


def parse_time(value: str) -> datetime:
    """An RFC 3339 timestamp with a time zone; 400 otherwise."""
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


def parse_list_query(params: Any, *, scope: str = "all") -> ListQuery:
    """Validate query parameters with the official rules and messages.

    A search cursor (a ranked search's next page) carries the whole query: the search, the
    filters and the position come from it, only `limit` from the request.
    """
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
    if cursor and cursor.startswith(SEARCH_CURSOR_PREFIX):
        return _from_search_cursor(cursor, scope, limit)
    after = decode_cursor(cursor) if cursor else None
    since_raw = params.get("updated_since")
    since = parse_time(since_raw) if since_raw else None
    include_deleted = parse_bool("include_deleted", params.get("include_deleted"))
    if since is not None:
        if include_deleted is False:
            raise InvalidQuery("Cannot set include_deleted=false when using updated_since "
                               "(incremental sync requires deleted servers)")
        include_deleted = True
    search = (params.get("search") or "").strip()
    if len(search) > MAX_SEARCH:
        raise InvalidQuery(f"Invalid search: at most {MAX_SEARCH} characters", status=422)
    query = ListQuery(limit=limit, after=after, search=search,
                      updated_since=since, version=(params.get("version") or "").strip(),
                      include_deleted=bool(include_deleted))
    if query.ranked and after is not None:  # a keyset position means nothing in a ranking
        raise InvalidQuery(_BAD_CURSOR)
    return query

"""Fetching one upstream list page: retries with backoff, Retry-After, parsing."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from curation.models import SyncRun
from curation.sync.errors import SyncError

log = logging.getLogger("curation.sync")

RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Page:
    """One parsed upstream page."""

    entries: list[Any]
    next_cursor: str | None
    date: datetime  # the upstream's Date, aware UTC (our clock when it sent none usable)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = http_date(value)
    return max(0.0, (when - datetime.now(UTC)).total_seconds()) if when is not None else None


def http_date(value: str | None) -> datetime | None:
    """An HTTP or RFC 2822 date as an aware UTC time; None when it is not one.

    `-0000` (RFC 2822: "zone unknown") and the asctime form carry no zone and parse naive;
    HTTP dates are UTC (RFC 9110), so they are read as UTC. A date whose conversion to UTC
    leaves the representable range is not a date.
    """
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _backoff(attempt: int) -> float:
    base = settings.MCP_INDEX_SYNC_BACKOFF_SECONDS * (2 ** attempt)
    jitter = 0.5 + random.random() / 2  # noqa: S311 - jitter, not cryptography
    return min(base, settings.MCP_INDEX_SYNC_MAX_WAIT_SECONDS) * jitter


def page_url(url: str, params: dict[str, Any]) -> str:
    """The list URL with its query, every value percent-encoded from its UTF-8.

    Lone surrogates are encoded as they came (surrogatepass): a cursor is opaque, and it has to
    go back byte for byte as the upstream's JSON decoder produced it.
    """
    query = "&".join(f"{quote(key, safe='')}="
                     f"{quote(str(value).encode('utf-8', 'surrogatepass'), safe='')}"
                     for key, value in params.items())
    return f"{url}?{query}" if query else url


def fetch_page(client: httpx.Client, url: str, params: dict[str, Any], run: SyncRun) -> Page:
    """GET one list page, retrying 429/5xx/timeouts with backoff (honouring Retry-After)."""
    attempts = settings.MCP_INDEX_SYNC_RETRIES
    target = page_url(url, params)
    for attempt in range(attempts + 1):
        wait: float | None = None
        try:
            response = client.get(target)
        except httpx.TransportError as exc:  # timeouts, refused or dropped connections
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == 200:
                return _parse_page(response)
            problem = f"HTTP {response.status_code}"
            if response.status_code not in RETRY_STATUSES:
                raise SyncError(f"upstream answered {problem}: {response.text[:200]}")
            wait = _retry_after(response)
        if attempt == attempts:
            raise SyncError(f"upstream failed after {attempts} retries: {problem}")
        delay = min(wait, settings.MCP_INDEX_SYNC_MAX_WAIT_SECONDS) if wait is not None \
            else _backoff(attempt)
        run.retries += 1
        log.warning("sync.retry upstream=%s problem=%r wait=%.2f", run.upstream.name, problem, delay)
        time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _parse_page(response: httpx.Response) -> Page:
    try:
        body = response.json()
    except ValueError as exc:
        raise SyncError(f"unparseable page: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("servers"), list):
        raise SyncError("unparseable page: expected an object with a servers array")
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    cursor = metadata.get("nextCursor")
    if cursor is not None and not isinstance(cursor, str):
        raise SyncError("unparseable page: nextCursor is not a string")
    # The upstream's clock caps the high-water mark; without a usable Date, ours does.
    date = http_date(response.headers.get("Date")) or datetime.now(UTC)
    return Page(body["servers"], cursor or None, date)

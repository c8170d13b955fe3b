"""Fetching one upstream list page: retries with backoff, Retry-After, parsing."""

from __future__ import annotations

import json
import logging
import random
import re
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
from curation.sync.screen import placeholder, printable

log = logging.getLogger("curation.sync")

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_PAGE_BYTES = 32 * 1024 * 1024  # a real page of 100 entries is ~0.3 MB
PAGE_DEADLINE_FACTOR = 4  # a whole page must arrive within 4 x the per-read timeout
PARSE_DEPTH = 100  # deeper entries are cut out when the page is too deep to parse


@dataclass(frozen=True)
class Page:
    """One parsed upstream page."""

    entries: list[Any]
    next_cursor: str | None
    date: datetime  # the upstream's Date, aware UTC (our clock when it sent none usable)


def _retry_after(value: str | None) -> float | None:
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
    """GET one list page, retrying 429/5xx/timeouts/cut or slow bodies with backoff.

    Retry-After is honoured up to MCP_INDEX_SYNC_MAX_WAIT_SECONDS; after
    MCP_INDEX_SYNC_RETRIES retries, or at once on another status or an oversized body, the
    page fails with a SyncError.
    """
    attempts = settings.MCP_INDEX_SYNC_RETRIES
    target = page_url(url, params)
    for attempt in range(attempts + 1):
        wait: float | None = None
        try:
            status, headers, raw = _get(client, target)
        except (httpx.TransportError, _TooSlow) as exc:  # timeouts, refused, reset, cut, slow
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if status == 200:
                return parse_page(raw, headers.get("Date"))
            problem = f"HTTP {status}"
            if status not in RETRY_STATUSES:
                text = printable(raw[:200].decode("utf-8", "replace"))
                raise SyncError(f"upstream answered {problem}: {text}")
            wait = _retry_after(headers.get("Retry-After"))
        if attempt == attempts:
            raise SyncError(f"upstream failed after {attempts} retries: {printable(problem)}")
        delay = min(wait, settings.MCP_INDEX_SYNC_MAX_WAIT_SECONDS) if wait is not None \
            else _backoff(attempt)
        run.retries += 1
        log.warning("sync.retry upstream=%s problem=%r wait=%.2f", run.upstream.name, problem, delay)
        time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


class _TooSlow(Exception):
    """The body did not arrive whole within the page deadline (a trickling upstream)."""


def _get(client: httpx.Client, target: str) -> tuple[int, httpx.Headers, bytes]:
    """Status, headers and body, read within the page deadline and MAX_PAGE_BYTES.

    The client's timeout bounds each read; a body trickled a few bytes at a time would
    never trip it, so the whole page also has a deadline.
    """
    seconds = settings.MCP_INDEX_SYNC_TIMEOUT_SECONDS * PAGE_DEADLINE_FACTOR
    deadline = time.monotonic() + seconds
    with client.stream("GET", target) as response:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_PAGE_BYTES:
            raise SyncError(f"upstream page is larger than {MAX_PAGE_BYTES} bytes")
        chunks, size = [], 0
        for chunk in response.iter_bytes():  # decoded: a compression bomb counts in full
            size += len(chunk)
            if size > MAX_PAGE_BYTES:
                raise SyncError(f"upstream page is larger than {MAX_PAGE_BYTES} bytes")
            if time.monotonic() > deadline:
                raise _TooSlow(f"the page did not arrive within {seconds:g} s")
            chunks.append(chunk)
            if response.status_code != 200 and size > 1024:
                break  # an error body: its start is all we show
        return response.status_code, response.headers, b"".join(chunks)


def parse_page(raw: bytes, date_header: str | None) -> Page:
    """A page from its body; SyncError when the page itself is unusable.

    Bytes that are not UTF-8 become lone surrogates (surrogateescape) and an entry nested
    beyond the parser's reach becomes a placeholder: either way only that entry is rejected
    (curation.sync.screen), not the page.
    """
    text = raw.decode("utf-8", "surrogateescape")
    try:
        try:
            body = json.loads(text)
        except RecursionError:
            body = json.loads(_cut_deep_containers(text))
    except RecursionError as exc:
        raise SyncError("unparseable page: nested too deep") from exc
    except ValueError as exc:
        raise SyncError(f"unparseable page: {printable(str(exc))}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("servers"), list):
        raise SyncError("unparseable page: expected an object with a servers array")
    metadata = body.get("metadata")
    cursor = metadata.get("nextCursor") if isinstance(metadata, dict) else None
    if cursor is not None and not isinstance(cursor, str):
        raise SyncError("unparseable page: nextCursor is not a string")
    # The upstream's clock caps the high-water mark; without a usable Date, ours does.
    date = http_date(date_header) or datetime.now(UTC)
    return Page(body["servers"], cursor or None, date)


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _cut_deep_containers(text: str) -> str:
    """The page with every entry-level container (depth 3: one of `servers`) that nests
    deeper than PARSE_DEPTH replaced by a placeholder naming the reason."""
    out: list[str] = []
    depth, start, deep, kept = 0, -1, False, 0
    for token in _TOKEN.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth == 3:
                start, deep = token.start(), False
            elif depth > PARSE_DEPTH:
                deep = True
        elif char in "]}":
            if depth == 3 and deep:
                out += [text[kept:start], json.dumps(placeholder(f"nested more than {PARSE_DEPTH} deep"))]
                kept = token.end()
            depth -= 1
    return "".join(out) + text[kept:]

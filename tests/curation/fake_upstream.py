"""A fake upstream registry: a real HTTP server on loopback with switchable faults.

Besides serving entries like the official list API it misbehaves on demand: one-shot faults
queued with `fault(...)` (statuses, sleeps, truncated, cut, reset, raw or deeply nested
bodies, raw bytes spliced in as an entry, trickled or endless bodies, a forced next
cursor) and standing misbehaviour set as attributes (`cursor_style` rewrites every cursor it
hands out, `ignore_cursor`, `nonce_cursors`, `wrap_cursor`, `date_header`, `delay`).
`request_budget` makes a test that would loop forever fail instead of hanging.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import copy
import json
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from registry.versioning import Candidate, pick_latest

OFFICIAL = "io.modelcontextprotocol.registry/official"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def stamp(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeRegistry:
    """Entries keyed by (name, version), served like the official list API."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}
        self._keys: list[tuple[str, str]] | None = None
        for entry in entries:
            self.put(entry)
        self.faults: deque[tuple[Any, ...]] = deque()
        self.requests: list[dict[str, list[str]]] = []
        self.required_auth: str | None = None
        self.hold_at: int | None = None  # block the request for this page number (1-based)
        self.reached = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        # raw attestation items served at /v0.1/x/<ns>/servers/{name}/versions/{v}/attestations
        self.attestations: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # standing misbehaviour
        self.cursor_style: Callable[[str], str] | None = None  # what a cursor looks like
        self.ignore_cursor = False  # every request gets the first page
        self.nonce_cursors = False  # every nextCursor is new, whatever it points at
        self.wrap_cursor = False  # the last page points back at the second
        self.date_header: str | None = None  # the Date header sent (None: the real one)
        self.delay = 0.0  # seconds before every list answer (a slow upstream)
        self.request_budget: int | None = None  # list requests answered before 410 Gone
        self.cursors_sent: list[str] = []  # every nextCursor handed out in a 200, in order
        self.cursors_received: list[str] = []  # every cursor a client sent (retries too)
        self._aliases: dict[str, str] = {}  # cursor handed out -> the real one

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/v0.1"

    def put(self, entry: dict[str, Any]) -> None:
        server = entry["server"]
        self.entries[(server["name"], server["version"])] = copy.deepcopy(entry)
        self._keys = None

    def remove(self, key: tuple[str, str]) -> None:
        del self.entries[key]
        self._keys = None
        self._relatest(key[0])

    def set_status(self, name: str, version: str, status: str, message: str = "") -> None:
        """A status change as the official registry makes it: updatedAt moves."""
        meta = self.entries[(name, version)]["_meta"][OFFICIAL]
        now = stamp()
        meta.update(status=status, statusChangedAt=now, updatedAt=now)
        meta.pop("statusMessage", None)
        if message:
            meta["statusMessage"] = message
        self._relatest(name)

    def _relatest(self, name: str) -> None:
        """isLatest moves as the official registry moves it (without touching updatedAt)."""
        metas = {v: e["_meta"][OFFICIAL] for (n, v), e in self.entries.items() if n == name}
        best = pick_latest([Candidate(v, _parse(m["publishedAt"]), m["status"] == "deleted")
                            for v, m in metas.items()])
        for version, meta in metas.items():
            meta["isLatest"] = best is not None and version == best.version

    def cursors_round_trip(self) -> bool:
        """Every cursor came back exactly as handed out, in order (retries repeat one)."""
        distinct = [c for i, c in enumerate(self.cursors_received)
                    if i == 0 or c != self.cursors_received[i - 1]]
        return distinct == self.cursors_sent

    def fault(self, *spec: Any) -> None:
        """Queue a one-shot fault for the next list request."""
        self.faults.append(spec)

    # --- serving ---

    def page(self, params: dict[str, list[str]]) -> tuple[dict[str, Any], str | None]:
        limit = int(params.get("limit", ["30"])[0])
        since = params.get("updated_since", [None])[0]
        include_deleted = since is not None or params.get("include_deleted", ["false"])[0] == "true"
        cursor = params.get("cursor", [None])[0]
        if cursor is not None:
            cursor = self._aliases.get(cursor, cursor)
        if self.ignore_cursor:
            cursor = None
        after = tuple(json.loads(base64.urlsafe_b64decode(cursor))) if cursor else None
        if self._keys is None or len(self._keys) != len(self.entries):
            self._keys = sorted(self.entries)
        start = bisect.bisect_right(self._keys, after) if after is not None else 0
        rows = []
        for key in self._keys[start:]:
            entry = self.entries[key]
            meta = entry["_meta"][OFFICIAL]
            if not include_deleted and meta["status"] == "deleted":
                continue
            if since is not None and _parse(meta["updatedAt"]) <= _parse(since):
                continue
            rows.append((key, entry))
            if len(rows) > limit:
                break
        more = len(rows) > limit
        rows = rows[:limit]
        body: dict[str, Any] = {"servers": [e for _, e in rows], "metadata": {"count": len(rows)}}
        next_cursor = None
        if more:
            next_cursor = self._cursor_after(rows[-1][0])
        elif self.wrap_cursor and rows and self._keys:
            next_cursor = self._cursor_after(self._keys[limit - 1])
        if next_cursor is not None:
            if self.nonce_cursors:
                next_cursor = self._alias(f"{next_cursor}.{len(self.cursors_sent)}", next_cursor)
            if self.cursor_style is not None:
                next_cursor = self._alias(self.cursor_style(next_cursor), next_cursor)
            body["metadata"]["nextCursor"] = next_cursor
        return body, next_cursor

    @staticmethod
    def _cursor_after(key: tuple[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()

    def _alias(self, alias: str, real: str) -> str:
        self._aliases[alias] = self._aliases.get(real, real)
        return alias

    def start(self) -> FakeRegistry:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                registry.handle(self)

            def date_time_string(self, timestamp: float | None = None) -> str:
                if registry.date_header is not None:
                    return registry.date_header
                return super().date_time_string(timestamp)

            # A fault may have reset the connection on purpose: no traceback for that.
            def handle(self) -> None:
                with contextlib.suppress(OSError, ValueError):
                    super().handle()

            def finish(self) -> None:
                with contextlib.suppress(OSError, ValueError):
                    super().finish()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        if parts.path.endswith("/attestations"):
            self._serve_attestations(request, parts.path)
            return
        if not parts.path.endswith("/servers"):
            self._send(request, 404, b'{"title":"Not Found","status":404}')
            return
        if self.required_auth and request.headers.get("Authorization") != self.required_auth:
            self._send(request, 401, b'{"title":"Unauthorized","status":401}')
            return
        # surrogatepass: a cursor holding a lone surrogate comes back as the string handed out
        params = parse_qs(parts.query, errors="surrogatepass")
        with self.lock:
            self.requests.append(params)
            number = len(self.requests)
            if self.request_budget is not None and number > self.request_budget:
                self._send(request, 410, b'{"title":"request budget exhausted","status":410}')
                return
            fault = self.faults.popleft() if self.faults else None
            if "cursor" in params:
                self.cursors_received.append(params["cursor"][0])
            try:
                body, _ = self.page(params)
            except ValueError:  # not a cursor this registry handed out
                if fault is None or fault[0] not in ("raw", "status", "reset", "deep"):
                    self._send(request, 400, b'{"title":"invalid cursor","status":400}')
                    return
                body = {"servers": [], "metadata": {}}  # the fault answers anyway
            if (fault is None or fault[0] in ("ok", "sleep", "malformed", "splice")) \
                    and "nextCursor" in body["metadata"]:
                self.cursors_sent.append(body["metadata"]["nextCursor"])
        if self.delay:
            time.sleep(self.delay)
        if self.hold_at is not None and number >= self.hold_at:
            self.reached.set()
            self.release.wait(20)
            return
        if fault is None:
            self._send(request, 200, json.dumps(body).encode())
            return
        kind = fault[0]
        if kind == "ok":
            self._send(request, 200, json.dumps(body).encode())
        elif kind == "status":
            headers = {"Retry-After": str(fault[2])} if len(fault) > 2 else {}
            self._send(request, fault[1], b'{"title":"error"}', headers)
        elif kind == "sleep":
            time.sleep(fault[1])
            self._send(request, 200, json.dumps(body).encode())
        elif kind == "truncate":
            raw = json.dumps(body).encode()
            self._send(request, 200, raw[: len(raw) // 2])
        elif kind == "malformed":
            body["servers"].insert(1, 42)
            body["servers"].insert(2, {"server": {"name": "no-version-here"}})
            self._send(request, 200, json.dumps(body).encode())
        elif kind == "cursor":  # this page's nextCursor is fault[1] (e.g. one already used)
            body["metadata"]["nextCursor"] = fault[1]
            self._send(request, 200, json.dumps(body).encode())
        elif kind == "raw":  # any bytes as the body
            self._send(request, 200, fault[1])
        elif kind == "splice":  # any bytes as the second entry of the page
            body["servers"].insert(1, "@@splice@@")
            self._send(request, 200, json.dumps(body).encode().replace(b'"@@splice@@"', fault[1]))
        elif kind == "deep":  # valid JSON nested fault[1] deep
            self._send(request, 200, b"[" * fault[1] + b"]" * fault[1])
        elif kind == "cut":  # announces the whole body, sends half, closes
            raw = json.dumps(body).encode()
            self._send(request, 200, raw[: len(raw) // 2], {"Content-Length": str(len(raw))})
            request.close_connection = True
        elif kind == "reset":  # TCP reset instead of an answer
            request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                          struct.pack("ii", 1, 0))
            request.connection.close()
        elif kind == "trickle":  # the page, a few bytes at a time, for up to fault[1] seconds
            self._trickle(request, json.dumps(body).encode(), fault[1])
        elif kind == "endless":  # a body that never ends (up to fault[1] bytes)
            self._endless(request, fault[1])

    def _trickle(self, request: BaseHTTPRequestHandler, raw: bytes, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            request.send_response(200)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(raw)))
            request.end_headers()
            sent = 0
            while sent < len(raw) and time.monotonic() < deadline:
                request.wfile.write(raw[sent:sent + 64])
                request.wfile.flush()
                sent += 64
                time.sleep(0.05)
            request.wfile.write(raw[sent:])
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _endless(self, request: BaseHTTPRequestHandler, limit: int) -> None:
        chunk = b"[" + b'"padding",' * 10000
        try:
            request.send_response(200)
            request.send_header("Content-Type", "application/json")
            request.end_headers()
            sent = 0
            while sent < limit:
                request.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        request.close_connection = True

    def _serve_attestations(self, request: BaseHTTPRequestHandler, path: str) -> None:
        match = re.match(r"^/v0\.1/x/[^/]+/servers/([^/]+)/versions/([^/]+)/attestations$", path)
        key = (unquote(match.group(1)), unquote(match.group(2))) if match else None
        if key is None or key not in self.attestations:
            self._send(request, 404, b'{"title":"Not Found","status":404}')
            return
        self._send(request, 200, json.dumps({"attestations": self.attestations[key]}).encode())

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, raw: bytes,
              headers: dict[str, str] | None = None) -> None:
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            headers = {"Content-Length": str(len(raw)), **(headers or {})}
            for key, value in headers.items():
                request.send_header(key, value)
            request.end_headers()
            request.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass

"""A fake upstream registry: a real HTTP server on loopback with switchable faults."""

from __future__ import annotations

import base64
import bisect
import copy
import json
import re
import threading
import time
from collections import deque
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

    def fault(self, *spec: Any) -> None:
        """Queue a one-shot fault for the next list request."""
        self.faults.append(spec)

    # --- serving ---

    def page(self, params: dict[str, list[str]]) -> tuple[dict[str, Any], str | None]:
        limit = int(params.get("limit", ["30"])[0])
        since = params.get("updated_since", [None])[0]
        include_deleted = since is not None or params.get("include_deleted", ["false"])[0] == "true"
        cursor = params.get("cursor", [None])[0]
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
            next_cursor = base64.urlsafe_b64encode(json.dumps(list(rows[-1][0])).encode()).decode()
            body["metadata"]["nextCursor"] = next_cursor
        return body, next_cursor

    def start(self) -> FakeRegistry:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                registry.handle(self)

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
        params = parse_qs(parts.query)
        with self.lock:
            self.requests.append(params)
            number = len(self.requests)
            fault = self.faults.popleft() if self.faults else None
            body, _ = self.page(params)
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
            request.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                request.send_header(key, value)
            request.end_headers()
            request.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass

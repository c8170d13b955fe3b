"""The CLI under test: a recording fake registry on loopback, and the outcome of one run.

The fake registry is a real ThreadingHTTPServer on 127.0.0.1 that records every request
(raw path, headers, body) and answers with the documented shapes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mcp_index_cli.main import main


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it; `target` is the raw, still-encoded request path."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)

    def json(self) -> Any:
        return json.loads(self.body)


Answer = tuple[int, Any] | tuple[int, Any, dict[str, str]]
Route = Callable[[Recorded], Answer]


@dataclass
class FakeRegistry:
    """Routes keyed by (METHOD, raw path); every request is kept in `requests`."""

    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def on(self, method: str, path: str, status: int = 200, body: Any = None,
           *, handler: Route | None = None) -> None:
        """Answer METHOD path with a fixed status/body, or with `handler(request)`."""
        self.routes[(method, path)] = handler or (lambda _request: (status, body))

    def only(self, method: str, path: str) -> Recorded:
        """The single request made to METHOD path (fails if there were none or several)."""
        matching = [r for r in self.requests if r.method == method and r.path == path]
        assert len(matching) == 1, f"{method} {path}: {len(matching)} requests"
        return matching[0]

    def answer(self, request: Recorded) -> Answer:
        self.requests.append(request)
        route = self.routes.get((request.method, request.path))
        if route is None:
            return 404, {"title": "Not Found", "status": 404, "detail": "no such route"}
        return route(request)


def _handler_for(fake: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Recorded(self.command, self.path,
                               {k.lower(): v for k, v in self.headers.items()}, body)
            status, payload, *extra = fake.answer(request)
            headers = extra[0] if extra else {}
            data = b"" if payload is None else (
                payload if isinstance(payload, bytes) else json.dumps(payload).encode())
            self.send_response(status)
            content_type = "application/problem+json" if status >= 400 else "application/json"
            self.send_header("Content-Type", headers.get("Content-Type", content_type))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class RunningServer:
    """Start a FakeRegistry on 127.0.0.1 in a thread; stop it cleanly."""

    def __init__(self, fake: FakeRegistry) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
        self.server.daemon_threads = True
        host, port = self.server.server_address[:2]
        fake.url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> RunningServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# The CLI's environment variables, cleared for every CLI test.
CLEARED_ENV = ("MCP_INDEX_REGISTRY", "MCP_INDEX_TOKEN", "MCP_INDEX_PRIVATE_KEY",
               "MCP_INDEX_OIDC_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL",
               "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "MCP_INDEX_DEBUG")


@dataclass(frozen=True)
class Run:
    """The outcome of one CLI invocation."""

    code: int
    out: str
    err: str


def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *also: str) -> Path:
    """Point XDG_CONFIG_HOME at a fresh directory and clear the CLI's variables (and `also`)."""
    home = tmp_path / "config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for name in (*CLEARED_ENV, *also):
        monkeypatch.delenv(name, raising=False)
    return home


def cli_runner(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run `mcp-index ARGS...` in-process and capture its exit code and output."""

    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


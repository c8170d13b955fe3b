"""Calling a WSGI application as a WSGI server does, inside a test's transaction."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from ops.logs import JsonFormatter

# Headers that differ between two answers of the same request.
VOLATILE = frozenset({"x-request-id", "ratelimit-remaining", "ratelimit-reset"})


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Counting:
    """Django's handler, counting the requests that reach it."""

    def __init__(self) -> None:
        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.django(environ, start_response)


def call(app: Any, url: str, method: str = "GET", *, signals: bool = False, **headers: str
         ) -> Answer:
    """One request; `signals`: Django's request signals close and replace connections as in
    production (only for a test outside a transaction)."""
    path, _, query = url.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.7", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": False,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "SERVER_PROTOCOL": "HTTP/1.1"}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    seen: list[Any] = []
    # As Django's test client does: the test's transaction must outlive the request.
    if not signals:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
    try:
        chunks = app(environ, lambda status, hs, exc_info=None: seen.append((status, hs)))
        body = b"".join(chunks)
        getattr(chunks, "close", lambda: None)()
    finally:
        if not signals:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
    status, hs = seen[0]
    return Answer(int(status.split()[0]), {k.lower(): v for k, v in hs}, body)


def stable(headers: dict[str, str]) -> dict[str, str]:
    """The headers two answers of the same request must share."""
    return {k: v for k, v in headers.items() if k not in VOLATILE}


@contextmanager
def access_log() -> Iterator[list[dict[str, Any]]]:
    """The access-log lines written inside the block, parsed (filled in when it ends)."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("mcp_index.access")
    access.addHandler(handler)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        access.removeHandler(handler)
        lines.extend(json.loads(text) for text in written.getvalue().splitlines())

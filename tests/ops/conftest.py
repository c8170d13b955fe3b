"""Fixtures: the app served for real by gunicorn on loopback, and a port that never answers
(helpers: tests/support/gunicorn.py, tests/support/network.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.gunicorn import Gunicorn


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """serve(env, workers=1) starts gunicorn and waits for it; every one is stopped at the end."""
    started: list[Gunicorn] = []

    def _serve(env: dict[str, str], workers: int = 1) -> Gunicorn:
        server = Gunicorn(tmp_path / f"gunicorn-{len(started)}.log", env, workers)
        started.append(server)
        server.wait_ready()
        return server

    yield _serve
    for server in started:
        server.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()

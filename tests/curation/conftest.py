"""Fixtures for curation: fast sync retries, a fake upstream on loopback (helpers:
tests/support/fake_upstream.py, snapshot() in tests/support/data.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.data import snapshot
from tests.support.fake_upstream import FakeRegistry


@pytest.fixture(autouse=True)
def _fast_retries(settings: Any) -> None:
    settings.MCP_INDEX_SYNC_TIMEOUT_SECONDS = 2
    settings.MCP_INDEX_SYNC_BACKOFF_SECONDS = 0.01
    settings.MCP_INDEX_SYNC_MAX_WAIT_SECONDS = 3
    settings.MCP_INDEX_SYNC_RETRIES = 4


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    """The first 400 snapshot entries served on loopback."""
    registry = FakeRegistry(snapshot(400)).start()
    yield registry
    registry.stop()


@pytest.fixture
def full_registry() -> Iterator[FakeRegistry]:
    """The whole snapshot (2,435 versions) served on loopback."""
    registry = FakeRegistry(snapshot()).start()
    yield registry
    registry.stop()

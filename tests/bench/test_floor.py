"""The benchmark floor route exists only when MCP_INDEX_BENCH_FLOOR is on."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.urls import clear_url_caches

import config.urls
from bench.floor import BODY

pytestmark = pytest.mark.django_db


@pytest.fixture
def reload_urls() -> Iterator[Callable[[], None]]:
    """Re-read config.urls under the current settings; restore the default routes afterwards."""
    def reload() -> None:
        importlib.reload(config.urls)
        clear_url_caches()

    yield reload
    reload()


def test_floor_is_not_routed_by_default(client: Client, settings, reload_urls: Callable[[], None]) -> None:
    settings.MCP_INDEX_BENCH_FLOOR = False
    reload_urls()
    assert client.get("/_bench/floor").status_code == 404


def test_floor_answers_when_on(client: Client, settings, reload_urls: Callable[[], None]) -> None:
    settings.MCP_INDEX_BENCH_FLOOR = True
    reload_urls()
    response = client.get("/_bench/floor")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == BODY
    assert client.get("/_bench/floor").content == BODY  # no state between requests

"""Fixtures for hostile-input tests: one of everything to aim at, and a write detector."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from curation.models import Catalog, Upstream
from registry import services
from registry.models import ServerVersion
from tests.support.api import Api
from tests.support.manifests import manifest
from tests.support.tokens import bearer

EXT = "/v0.1/x/io.mcpindex"
NAME = "io.github.acme/db"
VERSION = "1.0.0"
QUOTED = NAME.replace("/", "%2F")


def table_counts() -> dict[str, int]:
    """Rows per model: two equal snapshots mean a request wrote nothing."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()
            if m._meta.label != "sessions.Session"}


@pytest.fixture
def admin(client: Client) -> Api:
    """A global administrator (edit on `*`) speaking to any path (no prefix)."""
    api = Api(client, prefix="")
    api.token = bearer(["*"])
    return api


@pytest.fixture
def world(db: None, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """A published version, an upstream and a catalog listing the version."""
    with django_capture_on_commit_callbacks(execute=True):
        result = services.version_publish(document=manifest(NAME, VERSION), actor="test:setup")
        Upstream.objects.create(name="up", base_url="https://up.example/v0.1")
        Catalog.objects.create(slug="corp", title="Corp")
    return {"version": ServerVersion.objects.get(pk=result.version.pk)}


@pytest.fixture
def unchanged() -> Callable[[], None]:
    """Call once before the request (returns a checker): asserts nothing was written."""

    def start() -> Callable[[], None]:
        before = table_counts()

        def check() -> None:
            after = table_counts()
            assert after == before, {k: (before[k], after[k]) for k in after if after[k] != before[k]}

        return check

    return start


def assert_problem(response: Any, status: int | tuple[int, ...] = 400) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body

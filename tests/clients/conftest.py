"""Fixtures for the client-facing tests: a private catalog with servers, and its viewers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from curation.models import Catalog
from registry.services import token_create
from tests.support.api import Api
from tests.support.factories import CatalogFactory


@pytest.fixture
def private_catalog(add_server: Callable[..., Any], django_capture_on_commit_callbacks: Any
                    ) -> Catalog:
    """`corp`, readable only with a role, listing two servers (its membership built)."""
    add_server("io.github.acme/db", title="Acme Database")
    add_server("io.github.acme/files")
    with django_capture_on_commit_callbacks(execute=True):
        return CatalogFactory(slug="corp", title="Corp catalog", public=False, actor="admin")


@pytest.fixture
def viewer(client: Client) -> Api:
    """An API client whose token carries `catalog:corp:viewer`."""
    api = Api(client, prefix="")
    api.token = token_create(name="v", patterns=[], scopes=["catalog:corp:viewer"],
                             actor="test").secret
    return api

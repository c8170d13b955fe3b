"""serving.search: the one search behind every surface, its filters and its paging."""

from __future__ import annotations

import pytest

from curation.selectors import catalog_resolve
from serving.search import SearchFilters, search_page
from tests.support.factories import ServerVersionFactory
from tests.support.manifests import NPM, PYPI, REMOTE

pytestmark = pytest.mark.django_db


@pytest.fixture
def servers() -> None:
    ServerVersionFactory(name="io.github.acme/pg-tools", description="Query a database",
                         packages=NPM)
    ServerVersionFactory(name="io.github.acme/pg-tools", version="2.0.0",
                         description="Query a database", packages=NPM)
    ServerVersionFactory(name="io.github.acme/files", description="Read files", packages=PYPI)
    ServerVersionFactory(name="io.github.acme/remote-db", description="A database, hosted",
                         remotes=REMOTE)


def names(page) -> list[str]:
    return [hit.row.name for hit in page.hits]


def test_latest_versions_only_and_the_filters_apply(servers: None) -> None:
    scope = catalog_resolve("all")
    page = search_page(scope, "database")
    assert sorted(names(page)) == ["io.github.acme/pg-tools", "io.github.acme/remote-db"]
    assert {hit.row.version for hit in page.hits if hit.row.name.endswith("pg-tools")} == {"2.0.0"}
    assert names(search_page(scope, "database", SearchFilters(remote_only=True))) == [
        "io.github.acme/remote-db"]
    assert names(search_page(scope, "", SearchFilters(registry_type="pypi"))) == [
        "io.github.acme/files"]
    assert names(search_page(scope, "", SearchFilters(transport="streamable-http"))) == [
        "io.github.acme/remote-db"]
    assert search_page(scope, "database", SearchFilters(trusted_only=True)).hits == []


def test_pages_cover_every_result_once(servers: None) -> None:
    scope = catalog_resolve("all")
    first = search_page(scope, "", limit=2)
    assert first.total == 3 and first.next_offset == 2
    second = search_page(scope, "", limit=2, offset=first.next_offset)
    assert second.next_offset is None
    assert len(set(names(first)) | set(names(second))) == 3

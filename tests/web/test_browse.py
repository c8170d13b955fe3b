"""Home, search, filters, pagination, namespace and guide pages through the test client."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def names(response: Any) -> list[str]:
    """Server names listed on a results page, in order."""
    assert response.status_code == 200
    return re.findall(r'href="/servers/([^"]+)/"', response.content.decode())


def test_home_lists_latest_active_and_deprecated(client: Client, catalog_data: dict) -> None:
    listed = names(client.get("/"))
    assert listed == ["com.example/cloud", "com.example/events", "com.example/old",
                      "io.github.acme/db", "io.github.acme/files"]
    assert b"<strong>5</strong> servers" in client.get("/").content


def test_only_the_latest_version_is_listed(client: Client, add_server: Callable) -> None:
    add_server("io.github.acme/db", "1.0.0")
    add_server("io.github.acme/db", "1.1.0")
    body = client.get("/").content.decode()
    assert names(client.get("/")) == ["io.github.acme/db"]
    assert "v1.1.0" in body and "v1.0.0" not in body


@pytest.mark.parametrize(("params", "expected"), [
    # sort=name: the substring filter of name, title and description, in name order (the
    # default relevance order is test_a_query_ranks_by_relevance's)
    ({"q": "DATABASE", "sort": "name"}, ["io.github.acme/db"]),
    ({"q": "files on disk", "sort": "name"}, ["io.github.acme/files"]),
    ({"q": "example/c", "sort": "name"}, ["com.example/cloud"]),
    ({"registry_type": "npm"}, ["com.example/events", "io.github.acme/db"]),
    ({"registry_type": "pypi"}, ["com.example/old", "io.github.acme/files"]),
    ({"transport": "sse"}, ["com.example/events"]),
    ({"transport": "streamable-http"}, ["com.example/cloud"]),
    ({"kind": "remote"}, ["com.example/cloud", "com.example/events"]),
    ({"kind": "package"}, ["com.example/events", "com.example/old", "io.github.acme/db",
                           "io.github.acme/files"]),
    ({"status": "deprecated"}, ["com.example/old"]),
    ({"status": "deleted"}, ["com.example/gone"]),
    ({"namespace": "io.github.acme"}, ["io.github.acme/db", "io.github.acme/files"]),
    ({"namespace": "io.github.acme", "registry_type": "pypi"}, ["io.github.acme/files"]),
    ({"q": "nothing-matches-this"}, []),
    ({"q": "nothing-matches-this", "sort": "name"}, []),
])
def test_filters(client: Client, catalog_data: dict, params: dict, expected: list) -> None:
    assert names(client.get("/", params)) == expected


def test_sort_by_recently_published(client: Client, catalog_data: dict) -> None:
    listed = names(client.get("/", {"sort": "published"}))
    assert listed == ["com.example/old", "com.example/events", "com.example/cloud",
                      "io.github.acme/files", "io.github.acme/db"]


def test_bad_filter_values_are_ignored(client: Client, catalog_data: dict) -> None:
    response = client.get("/", {"registry_type": "<script>", "sort": "drop table", "page": "x"})
    assert len(names(response)) == 5


def test_pagination_with_counts(client: Client, add_server: Callable) -> None:
    for i in range(65):
        add_server(f"io.github.many/s{i:03d}")
    first = client.get("/")
    assert b"<strong>1\xe2\x80\x9330</strong> of <strong>65</strong>" in first.content
    assert b"Page 1 of 3" in first.content
    third = client.get("/", {"page": 3})
    assert names(third) == [f"io.github.many/s{i:03d}" for i in range(60, 65)]
    assert b"<strong>61\xe2\x80\x9365</strong> of <strong>65</strong>" in third.content


def test_htmx_request_gets_only_the_results(client: Client, catalog_data: dict) -> None:
    response = client.get("/", {"q": "acme", "sort": "name"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body and 'id="result-count"' in body
    assert names(response) == ["io.github.acme/db", "io.github.acme/files"]
    assert "HX-Request" in response["Vary"]


def test_search_is_a_constant_number_of_queries(client: Client, add_server: Callable,
                                                django_assert_num_queries: Callable) -> None:
    for i in range(40):
        add_server(f"io.github.many/s{i:03d}", packages=[{"registryType": "npm",
                   "identifier": f"s{i}", "version": "1.0.0"}], remotes=[
                   {"type": "sse", "url": f"https://s{i}.example/sse"}])
    with django_assert_num_queries(4):  # catalogs and trust policies for the filters, count, page
        response = client.get("/", {"registry_type": "npm", "transport": "sse", "q": "server",
                                    "sort": "name"})
    assert len(names(response)) == 30


def test_a_query_ranks_by_relevance(client: Client, catalog_data: dict) -> None:
    listed = names(client.get("/", {"q": "files on disk"}))
    assert listed[0] == "io.github.acme/files"
    body = client.get("/", {"q": "databse"}).content.decode()  # misspelt
    assert names(client.get("/", {"q": "databse"}))[0] == "io.github.acme/db"
    assert 'id="did-you-mean"' in body and ">database</a>" in body
    assert 'id="facets"' in body and "registrytype" in body


def test_a_ranked_search_is_a_bounded_number_of_queries(
        client: Client, add_server: Callable, django_assert_max_num_queries: Callable) -> None:
    for i in range(40):
        add_server(f"io.github.many/s{i:03d}", description=f"Weather station {i}")
    client.get("/", {"q": "weather"})  # builds the scope's search index
    with django_assert_max_num_queries(10):  # filters, index stamp, ranked rows, cards
        response = client.get("/", {"q": "weather station", "transport": "stdio"})
    assert len(names(response)) == 0
    with django_assert_max_num_queries(10):
        assert len(names(client.get("/", {"q": "weather station"}))) == 30


def test_namespace_page(client: Client, catalog_data: dict) -> None:
    response = client.get("/namespaces/com.example/")
    assert names(response) == ["com.example/cloud", "com.example/events", "com.example/old"]
    body = response.content.decode()
    assert "2 active, 1 deprecated, 1 deleted" in body
    assert client.get("/namespaces/com.nobody/").status_code == 404


def test_guide_shows_base_urls(client: Client) -> None:
    body = client.get("/guide/").content.decode()
    assert "http://testserver/c/&lt;catalog-slug&gt;" in body
    assert "chat.mcp.gallery.serviceUrl" in body


def test_pages_send_a_content_security_policy(client: Client, catalog_data: dict) -> None:
    for url in ("/", "/guide/", "/servers/io.github.acme/db/", "/account/login/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_api_is_untouched_by_the_pages(client: Client, catalog_data: dict) -> None:
    response = client.get("/v0.1/servers", {"version": "latest"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert client.get("/v0.1/nope")["Content-Type"].startswith("application/problem+json")


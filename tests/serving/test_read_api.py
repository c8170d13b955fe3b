"""The read side of the standard API: list, versions, one version, meta endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import ServerVersion
from tests.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(publish):
    for name, versions in {"io.github.acme/alpha": ["1.0.0", "1.1.0"],
                           "io.github.acme/beta": ["0.1.0"],
                           "io.github.acme/gamma": ["2.0.0", "3.0.0", "3.1.0"]}.items():
        for v in versions:
            publish(name, v, title=f"{name.split('/')[1].title()} server",
                    description=f"Does {name.split('/')[1]} things")


def names(body):
    return [(s["server"]["name"], s["server"]["version"]) for s in body["servers"]]


@pytest.mark.parametrize("prefix", ["/v0", "/v0.1"])
def test_list_is_ordered_by_name_and_version_under_both_prefixes(client, catalog, prefix):
    body = Api(client, prefix).get("/servers").json()
    assert names(body) == sorted(names(body))
    assert body["metadata"] == {"count": 6}


def test_cursor_pagination_walks_everything_once(api, catalog):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = api.get("/servers", **params).json()
        seen += names(body)
        pages += 1
        assert body["metadata"]["count"] == len(body["servers"])
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            break
    assert pages == 3
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 6


def test_bad_cursor_and_limits_are_rejected(api):
    assert api.get("/servers", cursor="%%%").status_code == 400
    assert api.get("/servers", cursor="bm90LWpzb24").status_code == 400
    for bad in ("0", "101", "abc", "-1"):
        response = api.get("/servers", limit=bad)
        assert response.status_code == 422
        assert response["Content-Type"] == "application/problem+json"


def test_search_matches_name_title_and_description_case_insensitively(api, catalog):
    assert {n for n, _ in names(api.get("/servers", search="ALPH").json())} == {
        "io.github.acme/alpha"}
    assert {n for n, _ in names(api.get("/servers", search="Beta server").json())} == {
        "io.github.acme/beta"}
    assert {n for n, _ in names(api.get("/servers", search="gamma things").json())} == {
        "io.github.acme/gamma"}
    assert api.get("/servers", search="100%_match").json()["servers"] == []


def test_version_filter_latest_and_exact(api, catalog):
    latest = names(api.get("/servers", version="latest").json())
    assert latest == [("io.github.acme/alpha", "1.1.0"), ("io.github.acme/beta", "0.1.0"),
                      ("io.github.acme/gamma", "3.1.0")]
    assert names(api.get("/servers", version="3.0.0").json()) == [("io.github.acme/gamma", "3.0.0")]


def test_updated_since_forces_include_deleted(api, publisher, catalog):
    publisher.send("PATCH", "/servers/io.github.acme%2Fbeta/versions/0.1.0/status",
                   {"status": "deleted"})
    assert "io.github.acme/beta" not in {n for n, _ in names(api.get("/servers").json())}
    since = (timezone.now() - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    body = api.get("/servers", updated_since=since).json()
    assert ("io.github.acme/beta", "0.1.0") in names(body)
    response = api.get("/servers", updated_since=since, include_deleted="false")
    assert response.status_code == 400
    assert "include_deleted=false" in response.json()["detail"]
    later = (timezone.now() + timedelta(minutes=5)).isoformat()
    assert api.get("/servers", updated_since=later).json()["servers"] == []


@pytest.mark.parametrize("bad", ["yesterday", "2025-13-01T00:00:00Z", "2025-01-01",
                                 "2025-01-01T00:00:00"])
def test_bad_updated_since_is_400(api, bad):
    response = api.get("/servers", updated_since=bad)
    assert response.status_code == 400
    assert "RFC3339" in response.json()["detail"]


def test_include_deleted_shows_deleted_versions(api, publisher, catalog):
    publisher.send("PATCH", "/servers/io.github.acme%2Fbeta/status", {"status": "deleted"})
    assert ("io.github.acme/beta", "0.1.0") in names(api.get("/servers",
                                                              include_deleted="true").json())
    assert api.get("/servers", include_deleted="maybe").status_code == 422


def test_versions_endpoint_newest_first_and_404(api, catalog):
    body = api.get("/servers/io.github.acme%2Fgamma/versions").json()
    assert [v for _, v in names(body)] == ["3.1.0", "3.0.0", "2.0.0"]
    assert "nextCursor" not in body["metadata"]
    missing = api.get("/servers/io.github.acme%2Fnope/versions")
    assert missing.status_code == 404
    assert missing.json() == {"title": "Not Found", "status": 404, "detail": "Server not found"}


def test_get_version_and_latest(api, catalog):
    body = api.get("/servers/io.github.acme%2Fgamma/versions/latest").json()
    assert body["server"]["version"] == "3.1.0"
    assert body["_meta"]["io.modelcontextprotocol.registry/official"]["isLatest"] is True
    exact = api.get("/servers/io.github.acme%2Fgamma/versions/2.0.0").json()
    assert exact["_meta"]["io.modelcontextprotocol.registry/official"]["isLatest"] is False
    assert api.get("/servers/io.github.acme%2Fgamma/versions/9.9.9").status_code == 404


def test_deleted_version_hidden_unless_include_deleted(api, publisher, catalog):
    publisher.send("PATCH", "/servers/io.github.acme%2Fbeta/versions/0.1.0/status",
                   {"status": "deleted"})
    assert api.get("/servers/io.github.acme%2Fbeta/versions/0.1.0").status_code == 404
    shown = api.get("/servers/io.github.acme%2Fbeta/versions/0.1.0", include_deleted="true")
    assert shown.json()["_meta"]["io.modelcontextprotocol.registry/official"]["status"] == "deleted"


def test_trailing_slash_redirects_308_and_unknown_path_is_problem_404(client):
    response = client.get("/v0/servers/?limit=2")
    assert response.status_code == 308
    assert response["Location"] == "/v0/servers?limit=2"
    missing = client.get("/v0/nothing-here")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"


def test_meta_endpoints(api, settings):
    settings.MCP_INDEX_GITHUB_CLIENT_ID = "Iv1.abc"
    assert api.get("/health").json() == {"status": "ok", "github_client_id": "Iv1.abc"}
    assert api.get("/ping").json() == {"pong": True}
    assert set(api.get("/version").json()) == {"version", "git_commit", "build_time"}


def test_cors_headers_on_api(api):
    response = api.get("/servers")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_conditional_get_returns_304(client, catalog):
    first = client.get("/v0/servers")
    etag = first["ETag"]
    again = client.get("/v0/servers", headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize("count", [3, 60])
def test_list_runs_a_constant_number_of_queries(api, django_assert_num_queries, count):
    now = timezone.now()
    ServerVersion.objects.bulk_create([
        ServerVersion(name=f"io.github.acme/s{i:03}", namespace="io.github.acme", version="1.0.0",
                      manifest={}, manifest_text="{}", status_changed_at=now, published_at=now,
                      updated_at=now, is_latest=True, digest="0" * 64) for i in range(count)])
    # one query for the page; no version on it has a verified attestation, so no trust query
    with django_assert_num_queries(1):
        body = api.get("/servers", limit=100).json()
    assert len(body["servers"]) == count
    with django_assert_num_queries(1):
        api.get("/servers/io.github.acme%2Fs001/versions")

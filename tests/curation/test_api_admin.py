"""Upstream management through the API and the admin: the auth header is never shown back."""

from __future__ import annotations

import pytest

from curation.models import Upstream
from tests.support.api import Api
from tests.support.factories import UpstreamFactory, UserFactory
from tests.support.tokens import bearer

pytestmark = pytest.mark.django_db
EXT = "/v0.1/x/io.mcpindex"


@pytest.fixture
def admin_api(client) -> Api:
    api = Api(client, prefix="")
    api.token = bearer(["*"])
    return api


def test_upstream_api_hides_the_auth_header_and_records_runs(admin_api, fake_registry,
                                                             django_capture_on_commit_callbacks):
    created = admin_api.send("POST", f"{EXT}/upstreams",
                             {"name": "official", "base_url": fake_registry.url,
                              "auth_header": "Bearer top-secret", "interval_minutes": 30})
    assert created.status_code == 201, created.content
    assert "top-secret" not in created.content.decode()
    assert created.json()["has_auth_header"] is True
    fake_registry.required_auth = "Bearer top-secret"
    with django_capture_on_commit_callbacks(execute=True):
        queued = admin_api.send("POST", f"{EXT}/upstreams/official/sync", {"full": False})
    assert queued.status_code == 202
    detail = admin_api.get(f"{EXT}/upstreams/official")
    assert "top-secret" not in detail.content.decode()
    run = detail.json()["runs"][0]
    assert run["state"] == "succeeded" and run["created"] == len(fake_registry.entries)
    runs = admin_api.get(f"{EXT}/upstreams/official/runs").json()["runs"]
    assert runs[0]["pages"] == run["pages"] and "log" in runs[0]
    assert admin_api.get(f"{EXT}/upstreams/official/conflicts").json() == {"conflicts": []}


def test_upstream_api_validates_and_needs_an_admin(client, admin_api):
    bad = admin_api.send("POST", f"{EXT}/upstreams", {"name": "x", "base_url": "ftp://nope"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    bad = admin_api.send("POST", f"{EXT}/upstreams", {"name": "x", "base_url": "https://a.example",
                                                      "page_size": 1000})
    assert bad.status_code == 400
    publisher = Api(client, prefix="")
    publisher.token = bearer(["io.github.acme/*"])
    assert publisher.get(f"{EXT}/upstreams").status_code == 403
    assert client.get(f"{EXT}/upstreams").status_code == 401


def test_admin_never_renders_the_auth_header(client, fake_registry):
    upstream = UpstreamFactory(base_url=fake_registry.url, auth_header="Bearer admin-secret")
    user = UserFactory(username="root", email="r@example.com", password="pw", superuser=True)
    client.force_login(user)
    page = client.get(f"/admin/curation/upstream/{upstream.pk}/change/")
    assert page.status_code == 200 and "admin-secret" not in page.content.decode()
    response = client.post(f"/admin/curation/upstream/{upstream.pk}/change/", {
        "name": "official", "base_url": fake_registry.url, "auth_header": "",
        "include_patterns": "[]", "exclude_patterns": "[]", "interval_minutes": 60,
        "priority": 100, "enabled": "on", "overlap_seconds": 300, "page_size": 100})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Upstream.objects.get().auth_header == "Bearer admin-secret"  # blank keeps it
    assert client.get("/admin/curation/syncrun/").status_code == 200
    assert client.get("/admin/curation/catalog/").status_code == 200

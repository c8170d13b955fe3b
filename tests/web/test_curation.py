"""Curation screens: catalogs, review queue, rules editor with preview, upstream status."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from curation.models import Catalog, CatalogEntry, CatalogRule, EntryState
from registry import services
from tests.support.factories import CatalogFactory, SyncRunFactory, UpstreamFactory, UserFactory

pytestmark = pytest.mark.django_db
ADMIN = "test:admin"


@pytest.fixture
def make_catalog(django_capture_on_commit_callbacks: Callable) -> Callable[..., Catalog]:
    def _make(slug: str = "team", **fields: Any) -> Catalog:
        with django_capture_on_commit_callbacks(execute=True):
            return CatalogFactory(slug=slug, actor=ADMIN, **fields)
    return _make


@pytest.fixture
def reviewed(add_server: Callable, make_catalog: Callable) -> Catalog:
    """A catalog that reviews every version, with two pending servers."""
    add_server("io.github.acme/db", title="Acme Database")
    add_server("io.github.acme/files")
    return make_catalog("team", title="Team catalog", review_mode="every_version")


@pytest.fixture
def admin(client: Client) -> Any:
    user = UserFactory(superuser=True, username="root", password="x" * 12)
    client.force_login(user)
    return user


def test_catalogs_page(client: Client, reviewed: Catalog, make_catalog: Callable) -> None:
    make_catalog("secret", public=False)
    body = client.get("/catalogs/").content.decode()
    assert "Team catalog" in body and "http://testserver/c/team" in body
    assert "secret" not in body  # private: needs a role
    assert 'badge pending">2<' in body
    assert "/catalogs/team/review/" not in body  # anonymous: no reviewer role


def test_review_queue_needs_the_reviewer_role(client: Client, reviewed: Catalog) -> None:
    assert client.get("/catalogs/team/review/").status_code == 302  # sign in first
    user = UserFactory(username="eve", password="x" * 12)
    client.force_login(user)
    assert client.get("/catalogs/team/review/").status_code == 403
    assert client.post("/catalogs/team/review/decide/", {
        "name": "io.github.acme/db", "version": "1.0.0", "decision": "approve"}).status_code == 403
    services.token_create(name="review", patterns=[], scopes=["catalog:team:reviewer"],
                          actor=ADMIN, owner=user)
    body = client.get("/catalogs/team/review/").content.decode()
    assert "Acme Database" in body and "io.github.acme/files" in body
    assert client.get("/catalogs/team/rules/").status_code == 403  # owners only


def test_approve_puts_the_version_in_the_catalog_api(client: Client, reviewed: Catalog,
                                                     admin: Any) -> None:
    listed = client.get("/c/team/v0.1/servers").json()["servers"]
    assert listed == []
    response = client.post("/catalogs/team/review/decide/", {
        "name": "io.github.acme/db", "version": "1.0.0", "decision": "approve",
        "reason": "looked at the code"})
    assert response.status_code == 302
    entry = CatalogEntry.objects.get(catalog=reviewed, name="io.github.acme/db")
    assert entry.state == EntryState.INCLUDED and entry.decided_by == "user:root"
    names = [s["server"]["name"] for s in client.get("/c/team/v0.1/servers").json()["servers"]]
    assert names == ["io.github.acme/db"]
    queue = client.get("/catalogs/team/review/").content.decode()
    assert "Acme Database" not in queue and "io.github.acme/files" in queue
    page = client.get("/servers/io.github.acme/db/").content.decode()
    assert "looked at the code" in page and 'badge ok">included<' in page


def test_reject_with_htmx_returns_the_row(client: Client, reviewed: Catalog, admin: Any) -> None:
    response = client.post("/catalogs/team/review/decide/", {
        "name": "io.github.acme/files", "version": "1.0.0", "decision": "reject",
        "reason": "<b>unmaintained</b>"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and ">rejected<" in body
    entry = CatalogEntry.objects.get(catalog=reviewed, name="io.github.acme/files")
    assert entry.state == EntryState.REJECTED
    page = client.get("/servers/io.github.acme/files/").content.decode()
    assert "&lt;b&gt;unmaintained&lt;/b&gt;" in page


def test_catalog_filter_on_search(client: Client, reviewed: Catalog, admin: Any) -> None:
    client.post("/catalogs/team/review/decide/", {
        "name": "io.github.acme/db", "version": "1.0.0", "decision": "approve"})
    body = client.get("/", {"catalog": "team"}).content.decode()
    assert re.findall(r'href="/servers/([^"]+)/"', body) == ["io.github.acme/db"]
    assert '<option value="team" selected>Team catalog</option>' in body


def rules_post(rules: list[dict[str, str]], default: str = "allow") -> dict[str, str]:
    data = {"rules-TOTAL_FORMS": str(len(rules)), "rules-INITIAL_FORMS": "0",
            "rules-MIN_NUM_FORMS": "0", "rules-MAX_NUM_FORMS": "1000", "default_action": default}
    for i, rule in enumerate(rules):
        data.update({f"rules-{i}-{k}": v for k, v in rule.items()})
    return data


def test_rules_preview_and_save(client: Client, add_server: Callable, make_catalog: Callable,
                                admin: Any) -> None:
    add_server("io.github.acme/db", packages=[{"registryType": "npm", "identifier": "db",
                                               "version": "1.0.0"}])
    add_server("io.github.acme/files")
    add_server("com.example/other")
    make_catalog("team")
    rules = [{"action": "deny", "namespace": "com.example"},
             {"action": "review", "registry_type": "npm"}, {"action": ""}]
    preview = client.post("/catalogs/team/rules/preview/", rules_post(rules)).content.decode()
    assert re.search(r'data-rule-count="1">1<', preview)
    assert re.search(r'data-rule-count="2">1<', preview)
    assert re.search(r'data-rule-count="default">1<', preview)
    assert "1 allow" in preview and "1 deny" in preview and "1 review" in preview
    assert not CatalogRule.objects.exists()  # a preview saves nothing

    saved = client.post("/catalogs/team/rules/", rules_post(rules, default="review"))
    assert saved.status_code == 302
    stored = list(CatalogRule.objects.order_by("position").values_list("action", "namespace",
                                                                      "registry_type"))
    assert stored == [("deny", "com.example", ""), ("review", "", "npm")]
    assert Catalog.objects.get(slug="team").default_action == "review"
    page = client.get("/catalogs/team/rules/").content.decode()
    assert 'value="com.example"' in page


def test_upstreams_page_and_sync_now(client: Client, admin: Any,
                                     django_capture_on_commit_callbacks: Callable) -> None:
    upstream = UpstreamFactory(base_url="https://registry.example/v0.1")
    SyncRunFactory(upstream=upstream, state="failed", created=3, error="HTTP 503 from upstream")
    body = client.get("/upstreams/").content.decode()
    assert "official" in body and "HTTP 503 from upstream" in body and ">failed<" in body
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/upstreams/official/sync/")
    assert response.status_code == 302 and len(callbacks) == 1


def test_upstreams_page_is_for_admins(client: Client) -> None:
    client.force_login(UserFactory(username="eve", password="x" * 12))
    assert client.get("/upstreams/").status_code == 403
    assert client.post("/upstreams/official/sync/").status_code == 403


def test_catalog_json_for_unknown_slug(client: Client, admin: Any) -> None:
    assert client.get("/catalogs/nope/review/").status_code == 404
    assert json.loads(client.get("/c/all/v0.1/servers").content)["metadata"]["count"] == 0

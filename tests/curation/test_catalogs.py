"""Catalogs through their public surface: rules, reviews, pins, overlays, serving, access."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import clear_url_caches

from curation.models import Catalog, CatalogEntry, Upstream
from curation.services.membership import catalogs_reconcile
from curation.sync import upstream_sync
from registry.models import ServerVersion
from registry.services import token_create
from tests.support.api import Api
from tests.support.factories import KeyPrincipalFactory, ServerVersionFactory, UpstreamFactory
from tests.support.manifests import manifest
from tests.support.tokens import bearer

pytestmark = pytest.mark.django_db
EXT = "/v0.1/x/io.mcpindex"
CATALOG_META = "io.mcpindex/catalog"
OFFICIAL = "io.modelcontextprotocol.registry/official"


@pytest.fixture
def admin(client: Client) -> Api:
    api = Api(client, prefix="")
    api.token = bearer(["*"])
    return api


@pytest.fixture
def mirrored(fake_registry) -> Any:
    UpstreamFactory(base_url=fake_registry.url)
    upstream_sync(upstream=Upstream.objects.get())
    return fake_registry


@pytest.fixture
def make_catalog(admin, django_capture_on_commit_callbacks):
    def _make(slug: str = "corp", rules: list[dict] | None = None, **fields: Any) -> Catalog:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.send("POST", f"{EXT}/catalogs", {"slug": slug, **fields})
            assert response.status_code == 201, response.content
            if rules is not None:
                response = admin.send("PUT", f"{EXT}/catalogs/{slug}/rules", {"rules": rules})
                assert response.status_code == 200, response.content
        return Catalog.objects.get(slug=slug)

    return _make


def walk(client: Client, base: str, headers: dict | None = None, **params: Any) -> list[dict]:
    """Every item of a list endpoint, following nextCursor."""
    items, cursor = [], None
    while True:
        query = {"limit": 100, **params, **({"cursor": cursor} if cursor else {})}
        response = client.get(f"{base}/servers", query, headers=headers or {})
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["servers"]
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            return items


def names(items: list[dict]) -> set[str]:
    return {i["server"]["name"] for i in items}


def test_builtin_all_is_the_root_api(client, mirrored):
    assert walk(client, "/c/all/v0.1") == walk(client, "/v0.1")
    latest = client.get("/c/all/v0/servers", {"version": "latest", "limit": 5}).json()
    assert latest == client.get("/v0/servers", {"version": "latest", "limit": 5}).json()


def test_deny_a_namespace(client, mirrored, make_catalog):
    everything = names(walk(client, "/v0.1"))
    denied = sorted(everything)[0].split("/")[0]
    make_catalog(rules=[{"action": "deny", "namespace": denied}])
    served = names(walk(client, "/c/corp/v0.1"))
    assert served == {n for n in everything if not n.startswith(denied + "/")}
    assert client.get(f"/c/corp/v0.1/servers/{sorted(everything)[0].replace('/', '%2F')}"
                      "/versions/latest").status_code == 404
    assert names(walk(client, "/v0.1")) == everything  # the root API is untouched


def test_rules_match_on_manifest_facts(client, mirrored, make_catalog):
    make_catalog(rules=[{"action": "allow", "kind": "remote"}], default_action="deny")
    served = walk(client, "/c/corp/v0.1")
    assert served and all(item["server"].get("remotes") for item in served)
    make_catalog("pypi", rules=[{"action": "allow", "registry_type": "pypi", "schema_valid": True}],
                 default_action="deny")
    for item in walk(client, "/c/pypi/v0.1"):
        assert any(p["registryType"] == "pypi" for p in item["server"]["packages"])


def test_review_new_servers_then_approve(client, admin, make_catalog):
    ServerVersionFactory(name="io.github.acme/db", version="1.0.0")
    ServerVersionFactory(name="io.github.acme/junk", version="1.0.0")
    make_catalog(review_mode="new_servers")
    assert walk(client, "/c/corp/v0.1") == []
    reviewer = Api(client, prefix="")
    reviewer.token = token_create(name="r", patterns=[], scopes=["catalog:corp:reviewer"],
                                  actor="test").secret
    queue = reviewer.get(f"{EXT}/catalogs/corp/reviews").json()["pending"]
    assert {(e["name"], e["state"]) for e in queue} == {("io.github.acme/db", "pending"),
                                                          ("io.github.acme/junk", "pending")}
    response = reviewer.send("POST", f"{EXT}/catalogs/corp/reviews",
                             {"name": "io.github.acme/db", "decision": "approve",
                              "reason": "vetted by security", "include_future": True})
    assert response.status_code == 201, response.content
    reviewer.send("POST", f"{EXT}/catalogs/corp/reviews",
                  {"name": "io.github.acme/junk", "version": "1.0.0", "decision": "reject",
                   "reason": "not useful"})
    assert names(walk(client, "/c/corp/v0.1")) == {"io.github.acme/db"}
    ServerVersionFactory(name="io.github.acme/db", version="1.1.0")
    catalogs_reconcile()  # what the beat task does
    latest = client.get("/c/corp/v0.1/servers/io.github.acme%2Fdb/versions/latest").json()
    assert latest["server"]["version"] == "1.1.0" and latest["_meta"][OFFICIAL]["isLatest"]
    assert reviewer.get(f"{EXT}/catalogs/corp/reviews").json()["pending"] == []
    viewer = Api(client, prefix="")
    viewer.token = token_create(name="v", patterns=[], scopes=["catalog:corp:viewer"],
                                actor="test").secret
    denied = viewer.send("POST", f"{EXT}/catalogs/corp/reviews",
                         {"name": "io.github.acme/junk", "decision": "approve"})
    assert denied.status_code == 403


def test_review_every_version_and_review_rules(client, make_catalog):
    ServerVersionFactory(name="io.github.acme/db", version="1.0.0")
    ServerVersionFactory(name="io.github.other/xtool", version="1.0.0")
    make_catalog(rules=[{"action": "review", "namespace": "io.github.other"}])
    assert names(walk(client, "/c/corp/v0.1")) == {"io.github.acme/db"}
    make_catalog("strict", review_mode="every_version")
    assert walk(client, "/c/strict/v0.1") == []


def test_pin_and_annotate(client, admin, mirrored, make_catalog):
    multi = (ServerVersion.objects.filter(is_latest=False, status="active")
             .exclude(name__in=ServerVersion.objects.filter(status="deleted").values("name"))
             .first())
    make_catalog()
    quoted = multi.name.replace("/", "%2F")
    response = admin.send("POST", f"{EXT}/catalogs/corp/pins",
                          {"name": multi.name, "version": multi.version, "note": "tested"})
    assert response.status_code == 200, response.content
    latest = client.get(f"/c/corp/v0.1/servers/{quoted}/versions/latest").json()
    assert latest["server"]["version"] == multi.version
    assert latest["_meta"][CATALOG_META]["pinned"] is True
    versions = client.get(f"/c/corp/v0.1/servers/{quoted}/versions").json()["servers"]
    assert [v["server"]["version"] for v in versions] == [multi.version]
    response = admin.send("PUT", f"{EXT}/catalogs/corp/overlays",
                          {"name": multi.name, "tags": ["database", "approved"], "featured": True,
                           "notes": "Use for reporting", "install_notes": "ask #platform"})
    assert response.status_code == 200, response.content
    item = client.get(f"/c/corp/v0/servers/{quoted}/versions/{multi.version}").json()
    assert item["_meta"][CATALOG_META] == {
        "catalog": "corp", "tags": ["database", "approved"], "featured": True,
        "notes": "Use for reporting", "installNotes": "ask #platform", "pinned": True}
    listed = [i for i in walk(client, "/c/corp/v0.1") if i["server"]["name"] == multi.name]
    assert listed[0]["_meta"][CATALOG_META]["tags"] == ["database", "approved"]
    admin.send("POST", f"{EXT}/catalogs/corp/pins", {"name": multi.name, "version": None})
    latest = client.get(f"/c/corp/v0.1/servers/{quoted}/versions/latest").json()
    assert latest["server"]["version"] != multi.version


def test_leaving_is_reported_as_deleted_under_updated_since(client, admin, mirrored, make_catalog,
                                                           django_capture_on_commit_callbacks):
    make_catalog()
    make_catalog("corp2")
    leaving = walk(client, "/c/corp/v0.1")[0]["server"]["name"]
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert walk(client, "/c/corp/v0.1", updated_since=since) == []
    with django_capture_on_commit_callbacks(execute=True):  # the rebuild task runs on commit
        admin.send("PUT", f"{EXT}/catalogs/corp/rules",
                   {"rules": [{"action": "deny", "name_pattern": leaving}]})
    changed = walk(client, "/c/corp/v0.1", updated_since=since)
    assert changed and names(changed) == {leaving}
    assert all(i["_meta"][OFFICIAL]["status"] == "deleted" for i in changed)
    assert leaving not in names(walk(client, "/c/corp/v0.1"))
    assert leaving in names(walk(client, "/c/corp/v0.1", include_deleted="true"))
    assert walk(client, "/c/corp2/v0.1", updated_since=since) == []
    with django_capture_on_commit_callbacks(execute=True):  # and coming back bumps it again
        admin.send("PUT", f"{EXT}/catalogs/corp/rules", {"rules": []})
    back = walk(client, "/c/corp/v0.1", updated_since=since)
    assert names(back) == {leaving}
    assert {i["_meta"][OFFICIAL]["status"] for i in back} != {"deleted"}


def test_private_catalog_needs_a_role(client, mirrored, make_catalog):
    make_catalog(public=False)
    assert client.get("/c/corp/v0.1/servers").status_code == 401
    other = token_create(name="o", patterns=[], scopes=["catalog:other:viewer"],
                         actor="test").secret
    response = client.get("/c/corp/v0.1/servers", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    viewer = token_create(name="v", patterns=[], scopes=["catalog:corp:viewer"],
                          actor="test").secret
    items = walk(client, "/c/corp/v0.1", headers={"Authorization": f"Bearer {viewer}"})
    assert len(items) == ServerVersion.objects.exclude(status="deleted").count()


def test_catalog_list_queries_are_constant(client, mirrored, make_catalog, settings,
                                           django_assert_num_queries):
    settings.MCP_INDEX_RESPONSE_CACHE = False  # the view's own cost (cached reads cost none)
    make_catalog()
    catalog = Catalog.objects.get()
    from curation.models import CatalogOverlay
    client.get("/c/corp/v0.1/servers")  # the process learns the catalog (and its generation)
    for limit in (3, 100):
        # one page: no overlay and no attestation, so neither of their queries; the catalog
        # itself comes from the process's generation-checked copy
        with django_assert_num_queries(1):
            assert client.get("/c/corp/v0.1/servers", {"limit": limit}).status_code == 200
    listed = CatalogEntry.objects.filter(catalog=catalog, listed=True).order_by("name", "version")
    overlaid = {e.name for e in listed[:30]}
    for name in overlaid:
        CatalogOverlay.objects.get_or_create(catalog=catalog, name=name, defaults={"tags": ["x"]})
    client.get("/c/corp/v0.1/servers")  # overlays changed the catalog's generation
    for limit in (3, 100):
        # one page, overlays of that page
        with django_assert_num_queries(2):
            body = client.get("/c/corp/v0.1/servers", {"limit": limit}).json()
        tags = {i["server"]["name"]: i["_meta"][CATALOG_META].get("tags") for i in body["servers"]}
        assert tags == {n: (["x"] if n in overlaid else None) for n in tags}
        assert any(n in overlaid for n in tags)
    # A ranked search: the first builds the catalog's search index; then one query checks
    # the index is current, one reads the page and one its overlays, whatever the page size.
    search = {"search": "mcp", "version": "latest"}
    found = [i["server"]["name"] for i in
             client.get("/c/corp/v0.1/servers", {**search, "limit": 100}).json()["servers"]]
    assert len(found) > 3
    for name in found[:3]:  # every page below holds an overlaid server, so reads overlays
        CatalogOverlay.objects.get_or_create(catalog=catalog, name=name, defaults={"tags": ["x"]})
    client.get("/c/corp/v0.1/servers", search)  # overlays moved the index's stamp
    for limit in (3, len(found)):
        with django_assert_num_queries(3):
            body = client.get("/c/corp/v0.1/servers", {**search, "limit": limit}).json()
        assert len(body["servers"]) == limit
        assert body["servers"][0]["_meta"][CATALOG_META].get("tags") == ["x"]


def test_bad_input_gets_problem_json(client, admin, make_catalog):
    make_catalog()
    bad = admin.send("PUT", f"{EXT}/catalogs/corp/rules", {"rules": [{"action": "maybe"}]})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    assert client.get("/c/nope/v0.1/servers").status_code == 404
    assert client.get("/c/corp/v0.1/servers", {"limit": 0}).status_code == 422
    assert client.get("/c/corp/v0.1/servers", {"cursor": "!!"}).status_code == 400
    anonymous = client.post(f"{EXT}/catalogs", {"slug": "x"}, content_type="application/json")
    assert anonymous.status_code == 401
    dup = admin.send("POST", f"{EXT}/catalogs", {"slug": "corp"})
    assert dup.status_code == 400


def test_root_api_can_serve_another_default_catalog(client, settings, mirrored, make_catalog):
    import config.urls

    everything = names(walk(client, "/v0.1"))
    denied = sorted(everything)[0]
    make_catalog(rules=[{"action": "deny", "name_pattern": denied}])
    settings.MCP_INDEX_DEFAULT_CATALOG = "corp"
    try:
        importlib.reload(config.urls)
        clear_url_caches()
        assert names(walk(client, "/v0.1")) == everything - {denied}
        assert client.get("/v0/ping").json() == {"pong": True}
    finally:
        settings.MCP_INDEX_DEFAULT_CATALOG = "all"
        importlib.reload(config.urls)
        clear_url_caches()
    assert names(walk(client, "/v0.1")) == everything


def test_a_local_publish_reaches_catalogs_when_it_commits(client, admin, make_catalog,
                                                          django_capture_on_commit_callbacks):
    from tests.support.manifests import manifest
    make_catalog("team", default_action="allow")
    publisher = Api(client)
    publisher.token = bearer(["io.github.acme/*"])
    with django_capture_on_commit_callbacks(execute=True):
        assert publisher.publish(manifest("io.github.acme/fresh", "1.0.0")).status_code == 200
    assert "io.github.acme/fresh" in names(walk(client, "/c/team/v0.1"))
    with django_capture_on_commit_callbacks(execute=True):
        publisher.send("PATCH", "/servers/io.github.acme%2Ffresh/versions/1.0.0/status",
                       {"status": "deprecated"})
    item = client.get("/c/team/v0.1/servers/io.github.acme%2Ffresh/versions/1.0.0").json()
    assert item["_meta"][OFFICIAL]["status"] == "deprecated"


def test_trust_summary_is_served_by_catalogs_as_by_the_root(client, admin, make_catalog,
                                                            django_capture_on_commit_callbacks):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from mcp_index_common import dsse
    from mcp_index_common.statements import statement_bytes_for
    from signing import services as signing_services
    make_catalog("team", default_action="allow")
    key = ed25519.Ed25519PrivateKey.generate()
    publisher = Api(client)
    publisher.token = bearer(["io.github.acme/*"])
    with django_capture_on_commit_callbacks(execute=True):
        KeyPrincipalFactory(slug="sec", display_name="Security", key=key)
        assert publisher.publish(manifest("io.github.acme/signed", "1.0.0")).status_code == 200
    sv = ServerVersion.objects.get(name="io.github.acme/signed")
    payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
    envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
    with django_capture_on_commit_callbacks(execute=True):
        signing_services.attestation_submit(version=sv, kind="dsse",
                                            content=json.dumps(envelope).encode(),
                                            submitted_by="test")
    trust_key = "io.mcpindex/trust"
    path = "/servers/io.github.acme%2Fsigned/versions/1.0.0"
    root = client.get("/v0.1" + path).json()["_meta"][trust_key]
    assert root["verifiedSigners"] == [{"principal": "sec", "displayName": "Security"}]
    for base in ("/c/team/v0.1", "/c/all/v0.1"):
        assert client.get(base + path).json()["_meta"][trust_key] == root
        listed = [i for i in walk(client, base) if i["server"]["name"] == "io.github.acme/signed"]
        assert listed[0]["_meta"][trust_key] == root
    team = client.get("/c/team/v0.1" + path).json()["_meta"]
    assert team[CATALOG_META]["catalog"] == "team"  # the catalog block is kept alongside

"""The read-API response cache: ETag/304, Cache-Control, Redis bodies, invalidation."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.db import connection, transaction
from django.test import Client

from curation.models import Upstream
from curation.services.membership import catalogs_reconcile
from curation.sync import upstream_sync
from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.models import ServerVersion
from registry.services import token_create
from tests.support.api import Api
from tests.support.data import snapshot
from tests.support.factories import (
    KeyPrincipalFactory,
    ServerVersionFactory,
    TrustPolicyFactory,
    UpstreamFactory,
)
from tests.support.fake_upstream import FakeRegistry, stamp
from tests.support.manifests import manifest
from tests.support.tokens import bearer

pytestmark = pytest.mark.django_db
EXT = "/v0.1/x/io.mcpindex"
NAME = "io.github.acme/db"
QUOTED = NAME.replace("/", "%2F")
TRUST = "io.mcpindex/trust"
CATALOG_META = "io.mcpindex/catalog"


@pytest.fixture
def admin(client: Client) -> Api:
    api = Api(client, prefix="")
    api.token = bearer(["*"])
    return api


@pytest.fixture
def catalog(admin, django_capture_on_commit_callbacks):
    def make(slug: str = "corp", **fields: Any) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.send("POST", f"{EXT}/catalogs", {"slug": slug, **fields})
        assert response.status_code == 201, response.content
    return make


def read(client: Client, path: str, **headers: str) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code in (200, 304), (path, response.status_code, response.content)
    return response


def listed(client: Client, path: str = "/v0.1/servers") -> dict[str, dict[str, Any]]:
    body = read(client, path).json()
    return {f'{i["server"]["name"]}@{i["server"]["version"]}': i for i in body["servers"]}


def test_a_cached_read_costs_no_database_query(client, publish, django_assert_num_queries):
    publish(NAME, "1.0.0")
    for path in ("/v0.1/servers", f"/v0/servers/{QUOTED}/versions",
                 f"/v0.1/servers/{QUOTED}/versions/latest", "/c/all/v0.1/servers?limit=5"):
        first = read(client, path)
        assert first["X-Cache"] == "MISS"
        with django_assert_num_queries(0):
            again = read(client, path)
        assert again["X-Cache"] == "HIT"
        assert again.content == first.content and again["ETag"] == first["ETag"]
        assert again["Content-Type"] == "application/json"


@pytest.mark.parametrize("cache_on", [True, False])
def test_every_read_endpoint_has_etag_304_and_cache_control(client, publish, catalog, settings,
                                                            cache_on):
    settings.MCP_INDEX_RESPONSE_CACHE = cache_on
    publish(NAME, "1.0.0")
    catalog()
    api_reads = ["/v0/servers", "/v0.1/servers?search=db", f"/v0.1/servers/{QUOTED}/versions",
                 f"/v0/servers/{QUOTED}/versions/1.0.0", f"/v0.1/servers/{QUOTED}/versions/latest",
                 "/c/all/v0.1/servers", "/c/corp/v0.1/servers", "/c/corp/v0/servers?limit=1"]
    for path in api_reads:
        response = read(client, path)
        assert response["ETag"].startswith('"'), path
        control = response["Cache-Control"]
        assert "public" in control and "max-age=30" in control, path
        assert "stale-while-revalidate=300" in control, path
        again = client.get(path, headers={"If-None-Match": response["ETag"]})
        assert again.status_code == 304 and again.content == b"", path
        assert again["ETag"] == response["ETag"]
        stale = client.get(path, headers={"If-None-Match": '"something-else"'})
        assert stale.status_code == 200 and stale.content == response.content
    # Other reads (extension endpoints, pages) get content ETags from ConditionalGetMiddleware.
    for path in (f"{EXT}/catalogs", f"{EXT}/policies", "/", f"/servers/{NAME}/"):
        response = client.get(path)
        assert response.status_code == 200 and response.has_header("ETag"), path
        assert client.get(path, headers={"If-None-Match": response["ETag"]}).status_code == 304


def test_etags_do_not_depend_on_the_cache(client, publish, settings):
    publish(NAME, "1.0.0")
    cached = read(client, "/v0.1/servers")["ETag"]
    settings.MCP_INDEX_RESPONSE_CACHE = False
    assert read(client, "/v0.1/servers")["ETag"] == cached


def test_publish_invalidates(client, publisher, publish):
    publish(NAME, "1.0.0")
    before = read(client, "/v0.1/servers")
    read(client, "/v0.1/servers")  # now cached
    latest = read(client, f"/v0.1/servers/{QUOTED}/versions/latest")
    assert publisher.publish(manifest(NAME, "1.1.0")).status_code == 200
    after = read(client, "/v0.1/servers", **{"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert set(listed(client)) == {f"{NAME}@1.0.0", f"{NAME}@1.1.0"}
    newest = read(client, f"/v0.1/servers/{QUOTED}/versions/latest").json()
    assert newest["server"]["version"] == "1.1.0" != latest.json()["server"]["version"]


def test_status_change_invalidates(client, publisher, publish):
    publish(NAME, "1.0.0")
    assert listed(client)[f"{NAME}@1.0.0"]["_meta"]["io.modelcontextprotocol.registry/official"][
        "status"] == "active"
    response = publisher.send("PATCH", f"/servers/{QUOTED}/versions/1.0.0/status",
                              {"status": "deprecated", "statusMessage": "use 2.x"})
    assert response.status_code == 200, response.content
    official = listed(client)[f"{NAME}@1.0.0"]["_meta"]["io.modelcontextprotocol.registry/official"]
    assert official["status"] == "deprecated" and official["statusMessage"] == "use 2.x"


def test_sync_invalidates_the_mirror_and_catalogs(client, catalog,
                                                  django_capture_on_commit_callbacks):
    registry = FakeRegistry(snapshot(40)).start()
    try:
        UpstreamFactory(base_url=registry.url)
        with django_capture_on_commit_callbacks(execute=True):
            upstream_sync(upstream=Upstream.objects.get())
            catalog()
        root = listed(client, "/v0.1/servers?limit=100")
        corp = listed(client, "/c/corp/v0.1/servers?limit=100")
        assert read(client, "/c/corp/v0.1/servers?limit=100")["X-Cache"] == "HIT"
        name, version = next(iter(root)).split("@")
        registry.set_status(name, version, "deprecated", "moved")
        extra = json.loads(json.dumps(snapshot(40)[0]))
        extra["server"]["version"] = "99.0.0"
        official = extra["_meta"]["io.modelcontextprotocol.registry/official"]
        official.update(publishedAt=stamp(), updatedAt=stamp(), isLatest=False)
        registry.put(extra)
        with django_capture_on_commit_callbacks(execute=True):
            upstream_sync(upstream=Upstream.objects.get())
            catalogs_reconcile()  # what beat runs after a sync
        for path, before in (("/v0.1/servers?limit=100", root),
                             ("/c/corp/v0.1/servers?limit=100", corp)):
            after = listed(client, path)
            key = f'{extra["server"]["name"]}@99.0.0'
            assert key in after and key not in before, path
            official = after[f"{name}@{version}"]["_meta"]["io.modelcontextprotocol.registry/official"]
            assert official["status"] == "deprecated", path
    finally:
        registry.stop()


def test_curation_decisions_invalidate_the_catalog(client, admin, catalog,
                                                   django_capture_on_commit_callbacks):
    ServerVersionFactory(name=NAME, version="1.0.0")
    ServerVersionFactory(name=NAME, version="1.1.0")
    catalog(review_mode="new_servers")
    assert listed(client, "/c/corp/v0.1/servers") == {}
    root_etag = read(client, "/v0.1/servers")["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        admin.send("POST", f"{EXT}/catalogs/corp/reviews", {"name": NAME, "decision": "approve"})
    assert set(listed(client, "/c/corp/v0.1/servers")) == {f"{NAME}@1.0.0", f"{NAME}@1.1.0"}
    # A decision in one catalog leaves other catalogs' cached pages alone.
    assert read(client, "/v0.1/servers")["X-Cache"] == "HIT"
    assert read(client, "/v0.1/servers")["ETag"] == root_etag
    with django_capture_on_commit_callbacks(execute=True):
        admin.send("PUT", f"{EXT}/catalogs/corp/overlays", {"name": NAME, "tags": ["db"]})
    item = listed(client, "/c/corp/v0.1/servers")[f"{NAME}@1.1.0"]
    assert item["_meta"][CATALOG_META]["tags"] == ["db"]
    latest = f"/c/corp/v0.1/servers/{QUOTED}/versions/latest"
    assert read(client, latest).json()["server"]["version"] == "1.1.0"
    with django_capture_on_commit_callbacks(execute=True):
        admin.send("POST", f"{EXT}/catalogs/corp/pins", {"name": NAME, "version": "1.0.0"})
    assert read(client, latest).json()["server"]["version"] == "1.0.0"
    with django_capture_on_commit_callbacks(execute=True):
        admin.send("POST", f"{EXT}/catalogs/corp/pins", {"name": NAME, "version": None})
    assert read(client, latest).json()["server"]["version"] == "1.1.0"
    with django_capture_on_commit_callbacks(execute=True):
        admin.send("PUT", f"{EXT}/catalogs/corp/rules",
                   {"rules": [{"action": "deny", "namespace": "io.github.acme"}]})
    assert listed(client, "/c/corp/v0.1/servers?include_deleted=false") == {}


def test_attestation_verification_invalidates(client, publish, django_capture_on_commit_callbacks):
    key = ed25519.Ed25519PrivateKey.generate()
    with django_capture_on_commit_callbacks(execute=True):
        alice = KeyPrincipalFactory(slug="alice", display_name="", key=key, actor="t")
        TrustPolicyFactory(slug="one", title="1", threshold=1, principals=[alice], actor="t")
    publish(NAME, "1.0.0")
    path = f"/v0.1/servers/{QUOTED}/versions/1.0.0"
    before = read(client, path).json()["_meta"].get(TRUST)
    sv = ServerVersion.objects.get(name=NAME, version="1.0.0")
    payload = statement_bytes_for(server_name=NAME, version="1.0.0", sha256=sv.digest)
    envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{EXT}/servers/{QUOTED}/versions/1.0.0/attestations",
                               data=json.dumps({"kind": "dsse", "content": envelope}),
                               content_type="application/json")
    assert response.status_code == 201, response.content
    after = read(client, path).json()["_meta"][TRUST]
    assert after != before and "alice" in json.dumps(after)


def test_private_catalogs_are_never_stored_or_shared(client, catalog, publish):
    publish(NAME, "1.0.0")
    catalog("secret", public=False)
    assert client.get("/c/secret/v0.1/servers").status_code == 401
    token = token_create(name="v", patterns=[], scopes=["catalog:secret:viewer"],
                         actor="test").secret
    for _ in range(2):
        response = client.get("/c/secret/v0.1/servers", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response["X-Cache"] == "BYPASS" and response["Cache-Control"] == "private, no-cache"
    assert client.get("/c/secret/v0.1/servers").status_code == 401


@pytest.mark.parametrize("cache_on", [True, False])
def test_visibility_change_takes_effect_at_once(client, admin, catalog, publish, settings,
                                                django_capture_on_commit_callbacks, cache_on):
    # Without the response cache the process still keeps catalogs by generation.
    settings.MCP_INDEX_RESPONSE_CACHE = cache_on
    publish(NAME, "1.0.0")
    catalog("corp")
    assert read(client, "/c/corp/v0.1/servers")["X-Cache"] == ("MISS" if cache_on else "BYPASS")
    read(client, "/c/corp/v0.1/servers")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.send("PATCH", f"{EXT}/catalogs/corp", {"public": False})
    assert response.status_code == 200, response.content
    assert client.get("/c/corp/v0.1/servers").status_code == 401


def test_redis_down_still_serves(client, publish, settings):
    publish(NAME, "1.0.0")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/v0.1/servers")
    assert response.status_code == 200 and response["X-Cache"] == "BYPASS"
    assert f"{NAME}" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_read_racing_a_commit_is_not_served_stale(client):
    """A reader that caches pre-commit data between the writer's two bumps loses it."""
    ServerVersionFactory(name=NAME, version="1.0.0")
    written, commit = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction.atomic():
            ServerVersionFactory(name=NAME, version="2.0.0")
            written.set()
            commit.wait(10)
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(10)
        racing = read(Client(), "/v0.1/servers")  # another connection: sees 1.0.0 only
        assert racing["X-Cache"] == "MISS" and "2.0.0" not in racing.content.decode()
        assert read(Client(), "/v0.1/servers")["X-Cache"] == "HIT"  # stored pre-commit
    finally:
        commit.set()
        thread.join(10)
    assert set(listed(Client())) == {f"{NAME}@1.0.0", f"{NAME}@2.0.0"}

"""Feed URLs (`/c/<slug>/k/<secret>/v0.1/…`): issued, read, rate limited, revoked, unlogged."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from curation.models import CatalogFeed
from ops.logs import JsonFormatter
from registry.models import AuditEvent
from registry.services import token_create
from tests.support.api import Api
from tests.support.factories import CatalogFactory

pytestmark = pytest.mark.django_db
FEEDS = "/v0.1/x/io.mcpindex/feeds"


def issue(viewer: Api, name: str = "laptop") -> dict:
    response = viewer.send("POST", FEEDS, {"catalog": "corp", "name": name})
    assert response.status_code == 201, response.content
    return response.json()


def path_of(feed: dict) -> str:
    return feed["url"].removeprefix("http://testserver")


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, as the production JSON formatter writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_a_feed_reads_a_private_catalog_without_any_header(client, private_catalog, viewer):
    assert client.get("/c/corp/v0.1/servers").status_code == 401
    feed = issue(viewer)
    assert feed["url"] == f"http://testserver/c/corp/k/{feed['secret']}"
    assert feed["secret"].startswith("mcpf_") and feed["prefix"] == feed["secret"][:11]
    base = path_of(feed)
    listed = client.get(f"{base}/v0.1/servers", {"version": "latest"})
    assert listed.status_code == 200
    assert {s["server"]["name"] for s in listed.json()["servers"]} == {
        "io.github.acme/db", "io.github.acme/files"}
    assert listed.json() == viewer.get("/c/corp/v0.1/servers", version="latest").json()
    assert listed["Cache-Control"] == "private, no-cache"
    one = client.get(f"{base}/v0.1/servers/io.github.acme%2Fdb/versions/latest")
    assert one.status_code == 200 and one.json()["server"]["name"] == "io.github.acme/db"
    assert client.get(f"{base}/v0/servers/io.github.acme%2Fdb/versions").status_code == 200
    assert client.get(f"{base}/v0.1/servers/io.github.acme%2Fnope/versions/latest").status_code == 404


def test_the_secret_is_shown_once_stored_hashed_and_audited(client, private_catalog, viewer):
    feed = issue(viewer)
    stored = CatalogFeed.objects.get(pk=feed["id"])
    assert feed["secret"] not in {stored.secret_hash, stored.prefix, stored.name}
    assert len(stored.secret_hash) == 64
    listed = viewer.get(FEEDS).json()["feeds"]
    assert [f["id"] for f in listed] == [feed["id"]]
    assert "secret" not in listed[0] and "url" not in listed[0]
    event = AuditEvent.objects.get(action="curation.feed.created")
    assert event.target == f"feed:{feed['id']}" and event.data["catalog"] == "corp"
    assert feed["secret"] not in str(event.data)


def test_revoking_ends_the_feed_at_once(client, private_catalog, viewer):
    feed = issue(viewer)
    base = path_of(feed)
    assert client.get(f"{base}/v0.1/servers").status_code == 200
    other = Api(client, prefix="")
    other.token = token_create(name="o", patterns=[], scopes=["catalog:corp:viewer"],
                               actor="someone-else").secret
    assert other.send("DELETE", f"{FEEDS}/{feed['id']}").status_code == 404
    assert client.get(f"{base}/v0.1/servers").status_code == 200
    revoked = viewer.send("DELETE", f"{FEEDS}/{feed['id']}")
    assert revoked.status_code == 200 and revoked.json()["revokedAt"]
    gone = client.get(f"{base}/v0.1/servers")
    assert gone.status_code == 404 and gone["Content-Type"] == "application/problem+json"
    assert AuditEvent.objects.filter(action="curation.feed.revoked",
                                     target=f"feed:{feed['id']}").count() == 1
    assert viewer.send("DELETE", f"{FEEDS}/{feed['id']}").status_code == 200  # idempotent


def test_a_feed_is_read_only_and_bound_to_its_catalog(client, private_catalog, viewer,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        CatalogFactory(slug="other", public=False, actor="admin")
    feed = issue(viewer)
    secret = feed["secret"]
    assert client.get(f"/c/other/k/{secret}/v0.1/servers").status_code == 404
    assert client.get(f"/c/corp/k/{secret}x/v0.1/servers").status_code == 404
    assert client.get("/c/corp/k/not-a-feed/v0.1/servers").status_code == 404
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(
            f"/c/corp/k/{secret}/v0.1/servers/io.github.acme%2Fdb/versions/1.0.0",
            data="{}", content_type="application/json")
        assert response.status_code == 405, (method, response.status_code)


def test_who_may_issue_a_feed(client, private_catalog, viewer):
    outsider = Api(client, prefix="")
    outsider.token = token_create(name="x", patterns=["io.github.x/*"], actor="x").secret
    assert outsider.send("POST", FEEDS, {"catalog": "corp", "name": "n"}).status_code == 403
    assert viewer.send("POST", FEEDS, {"catalog": "all", "name": "n"}).status_code == 403
    assert viewer.send("POST", FEEDS, {"catalog": "nope", "name": "n"}).status_code == 404
    assert viewer.send("POST", FEEDS, {"catalog": "corp"}).status_code == 400  # no name
    assert viewer.send("POST", FEEDS, {"name": "n"}).status_code == 422
    assert Api(client, prefix="").send("POST", FEEDS, {"catalog": "corp", "name": "n"}
                                       ).status_code == 401
    assert CatalogFeed.objects.count() == 0


def test_each_feed_has_its_own_rate_limit(client, private_catalog, viewer, settings):
    settings.MCP_INDEX_RATE_LIMIT_FEED = "3/m"
    first, second = path_of(issue(viewer, "a")), path_of(issue(viewer, "b"))
    for _ in range(3):
        assert client.get(f"{first}/v0.1/servers").status_code == 200
    refused = client.get(f"{first}/v0.1/servers")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert client.get(f"{second}/v0.1/servers").status_code == 200


def test_secrets_never_reach_logs_or_metric_labels(client, private_catalog, viewer, log_text):
    feed = issue(viewer)
    base, secret = path_of(feed), feed["secret"]
    client.get(f"{base}/v0.1/servers")
    client.get(f"{base}/v0.1/servers/io.github.acme%2Fnope/versions/latest")  # Django logs 404s
    client.get(f"/c/corp/k/{secret}-forged/v0.1/servers")
    logged = log_text.getvalue()
    assert "/c/corp/k/<redacted>/v0.1/servers" in logged
    assert "Not Found: /c/corp/k/<redacted>/" in logged
    assert secret not in logged
    metrics = client.get("/metrics").content.decode()
    assert secret not in metrics
    assert 'route="/c/<slug>/k/<secret>/v0.1/servers"' in metrics


def test_administrators_list_and_revoke_feeds_in_the_admin(admin_client, private_catalog, viewer):
    feed = issue(viewer)
    listing = admin_client.get("/admin/curation/catalogfeed/").content.decode()
    assert feed["prefix"] in listing and feed["secret"] not in listing
    response = admin_client.post("/admin/curation/catalogfeed/", {
        "action": "revoke", "_selected_action": [feed["id"]]})
    assert response.status_code == 302
    assert CatalogFeed.objects.get(pk=feed["id"]).revoked_at is not None
    assert AuditEvent.objects.get(action="curation.feed.revoked").actor == "admin:admin"

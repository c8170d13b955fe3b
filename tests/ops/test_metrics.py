"""/metrics: request series by route, registry state read at scrape time, token, workers."""

from __future__ import annotations

import hashlib
import socket
import time
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from curation.models import Catalog, SyncRun, Upstream
from curation.services.membership import catalogs_reconcile
from curation.sync import upstream_sync
from ops.metrics import BUCKETS
from registry.models import ServerVersion
from signing.models import Attestation
from tests.support.data import snapshot
from tests.support.database import db_url
from tests.support.factories import SyncRunFactory, UpstreamFactory
from tests.support.fake_upstream import FakeRegistry
from tests.support.manifests import manifest
from tests.support.network import free_port
from tests.support.redis import TEST_REDIS_URL

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response["Cache-Control"] == "no-store"
    return parse(response.content.decode())


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, route: str, status: str, method: str = "GET") -> float:
    return value(samples, "mcp_index_http_requests_total", method=method, route=route, status=status)


@pytest.mark.django_db
def test_requests_are_counted_by_route_pattern_and_status(client, publisher):
    before = scrape(client)
    assert client.get("/v0.1/servers").status_code == 200
    assert client.get("/v0.1/servers", {"limit": 5}).status_code == 200
    assert publisher.publish(manifest("io.github.acme/db")).status_code == 200
    versions = "/v0/servers/io.github.acme%2Fdb/versions"
    assert client.get(versions).status_code == 200
    assert client.get("/v0/servers/io.github.acme%2Fnope/versions").status_code == 404
    assert client.get("/v0/no-such-endpoint").status_code == 404
    assert client.get("/no-such-page/").status_code == 404
    static = client.get("/static/css/web.css")
    assert static.status_code == 200
    static.close()
    assert client.generic("BREW", "/v0.1/servers").status_code == 405
    after = scrape(client)

    def delta(route: str, status: str, method: str = "GET") -> float:
        return requests(after, route, status, method) - requests(before, route, status, method)

    assert delta("/v0.1/servers", "200") == 2  # query strings don't make new series
    assert delta("/v0/publish", "200", "POST") == 1
    assert delta("/v0/servers/<name>/versions", "200") == 1  # the pattern, not the name
    assert delta("/v0/servers/<name>/versions", "404") == 1
    assert delta("unmatched", "404") == 2  # unknown API path and unknown page
    assert delta("static", "200") == 1
    assert delta("/v0.1/servers", "405", "OTHER") == 1  # invented methods share one label
    assert delta("/metrics", "200") == 1  # the first scrape
    routes = {dict(labels)["route"] for name, labels in after if name == "mcp_index_http_requests_total"}
    assert not any("io.github" in r or "?" in r for r in routes), routes


@pytest.mark.django_db
def test_latency_histogram_has_buckets(client):
    before = scrape(client)
    for _ in range(3):
        client.get("/v0.1/servers")
    after = scrape(client)
    name = "mcp_index_http_request_duration_seconds"
    labels = {"method": "GET", "route": "/v0.1/servers"}
    buckets = sorted(float(dict(key)["le"]) for n, key in after
                     if n == f"{name}_bucket" and labels.items() <= dict(key).items())
    assert buckets == [*BUCKETS, float("inf")]
    assert value(after, f"{name}_count", **labels) - value(before, f"{name}_count", **labels) == 3
    assert value(after, f"{name}_bucket", le="+Inf", **labels) == value(after, f"{name}_count", **labels)
    assert value(after, f"{name}_sum", **labels) > value(before, f"{name}_sum", **labels)
    assert BUCKETS[0] == 0.005 and BUCKETS[-1] == 10.0


@pytest.mark.django_db
def test_sync_runs_come_from_the_database(client, settings):
    settings.MCP_INDEX_SYNC_RETRIES = 0
    settings.MCP_INDEX_SYNC_TIMEOUT_SECONDS = 2
    upstream_registry = FakeRegistry(snapshot(20)).start()
    try:
        good = UpstreamFactory(base_url=upstream_registry.url)
        assert upstream_sync(upstream=good).state == "succeeded"
        assert upstream_sync(upstream=good).state == "succeeded"
    finally:
        upstream_registry.stop()
    dead = UpstreamFactory(name="dead", base_url=f"http://127.0.0.1:{free_port()}/v0.1")
    assert upstream_sync(upstream=dead).state == "failed"
    SyncRunFactory(upstream=dead, mode="full")  # one in progress
    UpstreamFactory(name="idle")  # never synced (nothing listens on its port 9)

    samples = scrape(client)
    runs = "mcp_index_sync_runs_total"
    assert value(samples, runs, upstream="official", state="succeeded") == 2
    assert value(samples, runs, upstream="dead", state="failed") == 1
    assert value(samples, runs, upstream="dead", state="succeeded") == 0
    assert ((runs, frozenset({"upstream": "idle", "state": "failed"}.items())) in samples)  # zeros
    assert value(samples, "mcp_index_sync_runs_running", upstream="dead") == 1
    last = SyncRun.objects.filter(upstream=good, state="succeeded").latest("finished_at").finished_at
    stamp = "mcp_index_sync_last_success_timestamp_seconds"
    assert value(samples, stamp, upstream="official") == pytest.approx(last.timestamp())
    assert (stamp, frozenset({"upstream": "dead"}.items())) not in samples
    mirrored = ServerVersion.objects.filter(origin="official").count()
    assert mirrored and value(samples, "mcp_index_server_versions", origin="official",
                              status="active") + value(samples, "mcp_index_server_versions",
                                                       origin="official", status="deleted") \
        + value(samples, "mcp_index_server_versions", origin="official",
                status="deprecated") == mirrored


@pytest.mark.django_db
def test_attestations_are_counted_by_verification_state(client, publish):
    publish("io.github.acme/db", "1.0.0")
    version = ServerVersion.objects.get(name="io.github.acme/db")
    states = ["verified", "verified", "failed", "pending", "unverified"]
    for i, state in enumerate(states):
        content = f"envelope {i}"
        Attestation.objects.create(version=version, kind="dsse", content=content, state=state,
                                   content_sha256=hashlib.sha256(content.encode()).hexdigest(),
                                   submitted_by="tester")
    samples = scrape(client)
    name = "mcp_index_attestations"
    assert value(samples, name, state="verified", kind="dsse") == 2
    assert value(samples, name, state="failed", kind="dsse") == 1
    assert value(samples, name, state="pending", kind="dsse") == 1
    assert value(samples, name, state="unverified", kind="dsse") == 1
    assert (name, frozenset({"state": "verified", "kind": "sigstore"}.items())) in samples
    assert value(samples, name, state="verified", kind="sigstore") == 0


# Each app registers its own scrape-time series; what a scraper sees must not depend on that.
STATE_FAMILIES = {
    "mcp_index_sync_runs": ("counter", "Finished sync runs per upstream and final state.",
                            {"upstream", "state"}),
    "mcp_index_sync_runs_running": ("gauge", "Sync runs in progress per upstream.", {"upstream"}),
    "mcp_index_sync_last_success_timestamp_seconds": (
        "gauge", "Unix time the last successful sync of each upstream finished.", {"upstream"}),
    "mcp_index_attestations": ("gauge", "Attestations by verification state and kind.",
                               {"state", "kind"}),
    "mcp_index_server_versions": (
        "gauge", "Server versions by origin ('local' or upstream) and status.", {"origin", "status"}),
    "mcp_index_catalog_entries": ("gauge", "Catalog entries by catalog and membership state.",
                                  {"catalog", "state"}),
    "mcp_index_celery_queue_length": ("gauge", "Messages waiting in each Celery queue on the broker.",
                                      {"queue"}),
    "mcp_index_scrape_up": ("gauge", "1 if the source answered this scrape, 0 if it failed.",
                            {"source"}),
    "mcp_index_scrape_duration_seconds": ("gauge", "Time spent reading each source for this scrape.",
                                          {"source"}),
}


@pytest.mark.django_db
def test_scrape_time_series_keep_their_names_help_and_labels(client, settings, publish):
    settings.CELERY_BROKER_URL = TEST_REDIS_URL
    publish("io.github.acme/db", "1.0.0")
    Catalog.objects.create(slug="corp")
    catalogs_reconcile()
    upstream = Upstream.objects.create(name="u", base_url="http://127.0.0.1:9/v0.1")
    SyncRun.objects.create(upstream=upstream, mode="full", state="succeeded",
                           finished_at=timezone.now())
    response = client.get("/metrics")
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())
                if f.name in STATE_FAMILIES}
    seen = {name: (f.type, f.documentation, {label for s in f.samples for label in s.labels})
            for name, f in families.items()}
    assert seen == STATE_FAMILIES
    assert value(parse(response.content.decode()), "mcp_index_catalog_entries", catalog="corp",
                 state="included") == 1
    assert {dict(s.labels)["source"] for s in families["mcp_index_scrape_up"].samples} \
        == {"database", "broker"}


@pytest.mark.django_db
def test_queue_depth_is_read_from_a_redis_broker(client, settings):
    broker = redis.Redis.from_url(TEST_REDIS_URL)
    broker.rpush("celery", "m1", "m2", "m3")
    broker.rpush("celery\x06\x163", "urgent")  # kombu's list for priority 3
    broker.rpush("other", "not ours")
    settings.CELERY_BROKER_URL = ""
    assert not any(n == "mcp_index_celery_queue_length" for n, _ in scrape(client))
    settings.CELERY_BROKER_URL = TEST_REDIS_URL
    samples = scrape(client)
    assert value(samples, "mcp_index_celery_queue_length", queue="celery") == 4
    assert value(samples, "mcp_index_scrape_up", source="broker") == 1
    broker.lpop("celery")
    assert value(scrape(client), "mcp_index_celery_queue_length", queue="celery") == 3


@pytest.mark.django_db
def test_a_dead_broker_is_reported_not_raised(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    samples = scrape(client)
    assert value(samples, "mcp_index_scrape_up", source="broker") == 0
    assert value(samples, "mcp_index_scrape_up", source="database") == 1
    assert not any(n == "mcp_index_celery_queue_length" for n, _ in samples)


@pytest.mark.django_db
def test_scrape_cost_does_not_grow_with_rows(client, publish):
    upstream = UpstreamFactory(name="u")
    finished = timezone.now() - timedelta(minutes=5)
    SyncRun.objects.bulk_create([SyncRun(upstream=upstream, mode="incremental", state="succeeded",
                                         finished_at=finished) for _ in range(200)])
    for i in range(5):
        publish("io.github.acme/db", f"1.0.{i}")
    with CaptureQueriesContext(connection) as queries:
        scrape(client)
    assert len(queries) == 6  # upstreams, runs, last successes, attestations, versions, entries
    publish("io.github.acme/db", "2.0.0")
    with CaptureQueriesContext(connection) as queries:
        samples = scrape(client)
    assert len(queries) == 4  # whole-table sizes come from the cache for a minute
    assert value(samples, "mcp_index_server_versions", origin="local", status="active") == 5


@pytest.mark.django_db
def test_bearer_token_guards_the_metrics(client, settings):
    settings.MCP_INDEX_METRICS_TOKEN = "s3cret-scrape-token"
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic s3cret-scrape-token"}
                      ).status_code == 401
    scrape(client, Authorization="Bearer s3cret-scrape-token")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_share_their_request_counts(serve, tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, any worker's scrape adds up every worker's requests."""
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    server = serve({"DATABASE_URL": db_url(), "PROMETHEUS_MULTIPROC_DIR": str(multiproc)},
                   workers=2)
    # Keep one worker busy on a half-sent request so the other one answers the next ten.
    held = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    held.sendall(b"GET /v0.1/servers HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    time.sleep(0.3)
    try:
        for _ in range(10):
            assert server.get("/v0.1/servers").status_code == 200
        held.sendall(b"Connection: close\r\n\r\n")
        assert held.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        held.close()
    for _ in range(10):
        assert server.get("/v0.1/servers").status_code == 200
    for _ in range(4):  # whichever worker answers the scrape, the totals are the same
        samples = parse(server.get("/metrics").text)
        assert requests(samples, "/v0.1/servers", "200") == 21
        assert value(samples, "mcp_index_scrape_up", source="database") == 1
        assert not any(n.startswith("process_") for n, _ in samples)


@pytest.mark.django_db
def test_cache_outcomes_and_rate_limit_refusals_are_counted(client, settings, publish):
    publish("io.github.acme/db")
    before = scrape(client)
    client.get("/v0.1/servers?limit=3")  # miss, stored
    client.get("/v0.1/servers?limit=3")  # hit
    client.get("/v0.1/servers?limit=3")  # hit
    settings.MCP_INDEX_RATE_LIMIT_ANON = "1/m"
    client.get("/v0.1/servers?limit=4")
    assert client.get("/v0.1/servers?limit=4").status_code == 429
    settings.MCP_INDEX_RATE_LIMIT_ANON = "1000/m"
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("mcp_index_response_cache_total", result="hit") == 2
    assert delta("mcp_index_response_cache_total", result="miss") == 2
    assert delta("mcp_index_rate_limited_total") == 1

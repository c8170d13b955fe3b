"""Prometheus metrics: HTTP requests from this process, registry state read at scrape time.

Request counters and latencies are recorded by `ops.middleware` in each web
process. Under gunicorn with `PROMETHEUS_MULTIPROC_DIR` set, prometheus-client keeps them in
per-process files and a scrape answered by any worker aggregates them all.

Sync runs, verifications and queue depth happen in Celery workers, possibly on other hosts,
so they are not counted in-process: `StateCollector` reads them from the database and the
broker when /metrics is scraped (six GROUP BY queries, the two whole-table ones cached for a
minute). One scrape reaches one worker, so these series appear once whatever the number of
workers.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import time
from collections.abc import Iterable, Iterator
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from curation.models import CatalogEntry, SyncRun, Upstream
from ops.health import one_line
from ops.http import problem_response
from registry.models import ServerVersion
from signing.models import Attestation

log = logging.getLogger(__name__)

# The `*_created` companions of every counter double the output and no dashboard uses them.
disable_created_metrics()

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "mcp_index_http_requests_total", "HTTP requests answered, by method, route pattern and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "mcp_index_http_request_duration_seconds", "Time to answer an HTTP request, by route pattern.",
    ["method", "route"], buckets=BUCKETS,
)

FINISHED_SYNC_STATES = (SyncRun.State.SUCCEEDED, SyncRun.State.FAILED, SyncRun.State.INTERRUPTED)
ATTESTATION_STATES = [state for state, _ in Attestation.STATES]
ATTESTATION_KINDS = [kind for kind, _ in Attestation.KINDS]

# kombu's Redis transport keeps a queue's prioritised messages in sibling lists named
# "<queue>\x06\x16<priority>" (priorities 3, 6, 9); priority 0 is the plain list.
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)
_BROKER_TIMEOUT_SECONDS = 2.0
SIZES_CACHE_KEY = "ops:metrics:table-sizes"
SIZES_TTL_SECONDS = 60
RESPONSE_CACHE = Counter(
    "mcp_index_response_cache_total",
    "Read-API answers by response-cache outcome (hit, miss, bypass: not stored).", ["result"],
)
RATE_LIMITED = Counter(
    "mcp_index_rate_limited_total",
    "Requests answered 429: the rate limits, and the limit on unverified attestations.")
_CACHE_RESULTS = {"HIT": "hit", "MISS": "miss", "BYPASS": "bypass"}


def observe_request(*, method: str, route: str, status: int, seconds: float,
                    cache: str | None = None) -> None:
    """Count one answered request; unknown methods share one label to bound cardinality."""
    method = method if method in METHODS else "OTHER"
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
    if cache in _CACHE_RESULTS:
        RESPONSE_CACHE.labels(_CACHE_RESULTS[cache]).inc()
    if status == 429:
        RATE_LIMITED.inc()


def queue_names() -> list[str]:
    """Celery queues to measure: the default queue and any declared in settings."""
    names = [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None) or "celery"]
    for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or []:
        name = getattr(queue, "name", queue)
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


class StateCollector(Collector):
    """Sync runs, attestations, catalog sizes and Celery queue depth, read per scrape."""

    def describe(self) -> Iterable[Metric]:
        return []  # series are only known at scrape time; skip the registry's name check

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("mcp_index_scrape_up",
                               "1 if the source answered this scrape, 0 if it failed.", labels=["source"])
        spent = GaugeMetricFamily("mcp_index_scrape_duration_seconds",
                                  "Time spent reading each source for this scrape.", labels=["source"])
        sources: list[tuple[str, Iterator[Metric]]] = [("database", self._database())]
        if _redis_broker_url():
            sources.append(("broker", self._queues()))
        for source, produce in sources:
            started = time.perf_counter()
            try:
                metrics = list(produce)
            except Exception as exc:  # a dead source must not turn the scrape into a 500
                log.warning("metrics_source_failed source=%s error=%s", source, one_line(exc))
                metrics, ok = [], 0.0
            else:
                ok = 1.0
            up.add_metric([source], ok)
            spent.add_metric([source], time.perf_counter() - started)
            yield from metrics
        yield up
        yield spent

    def _database(self) -> Iterator[Metric]:
        upstreams = list(Upstream.objects.order_by("name").values_list("name", flat=True))
        runs = {(row["upstream__name"], row["state"]): row["n"] for row in
                SyncRun.objects.order_by().values("upstream__name", "state").annotate(n=Count("id"))}
        finished = CounterMetricFamily(
            "mcp_index_sync_runs", "Finished sync runs per upstream and final state.",
            labels=["upstream", "state"])
        running = GaugeMetricFamily(
            "mcp_index_sync_runs_running", "Sync runs in progress per upstream.", labels=["upstream"])
        for name in upstreams:
            for state in FINISHED_SYNC_STATES:
                finished.add_metric([name, state], runs.get((name, state), 0))
            running.add_metric([name], runs.get((name, SyncRun.State.RUNNING), 0))
        yield finished
        yield running

        last = GaugeMetricFamily(
            "mcp_index_sync_last_success_timestamp_seconds",
            "Unix time the last successful sync of each upstream finished.", labels=["upstream"])
        rows = (SyncRun.objects.order_by().filter(state=SyncRun.State.SUCCEEDED)
                .values("upstream__name").annotate(at=Max("finished_at")))
        for success in rows:
            if success["at"] is not None:
                last.add_metric([success["upstream__name"]], success["at"].timestamp())
        yield last

        counts = {(row["state"], row["kind"]): row["n"] for row in
                  Attestation.objects.order_by().values("state", "kind").annotate(n=Count("id"))}
        attestations = GaugeMetricFamily(
            "mcp_index_attestations", "Attestations by verification state and kind.",
            labels=["state", "kind"])
        for verification in ATTESTATION_STATES:
            for kind in ATTESTATION_KINDS:
                attestations.add_metric([verification, kind], counts.get((verification, kind), 0))
        yield attestations

        sizes = _table_sizes()
        versions = GaugeMetricFamily(
            "mcp_index_server_versions", "Server versions by origin ('local' or upstream) and status.",
            labels=["origin", "status"])
        for origin, status, n in sizes["versions"]:
            versions.add_metric([origin, status], n)
        yield versions
        entries = GaugeMetricFamily(
            "mcp_index_catalog_entries", "Catalog entries by catalog and membership state.",
            labels=["catalog", "state"])
        for catalog, membership, n in sizes["entries"]:
            entries.add_metric([catalog, membership], n)
        yield entries

    def _queues(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "mcp_index_celery_queue_length", "Messages waiting in each Celery queue on the broker.",
            labels=["queue"])
        client = redis.Redis.from_url(_redis_broker_url(), socket_timeout=_BROKER_TIMEOUT_SECONDS,
                                      socket_connect_timeout=_BROKER_TIMEOUT_SECONDS)
        try:
            names = queue_names()
            pipe = client.pipeline(transaction=False)
            for name in names:
                for key in (name, *(f"{name}{_PRIORITY_SEP}{p}" for p in _PRIORITY_STEPS)):
                    pipe.llen(key)
            lengths = pipe.execute()
        finally:
            client.close()
        per_queue = 1 + len(_PRIORITY_STEPS)
        for i, name in enumerate(names):
            depth.add_metric([name], sum(lengths[i * per_queue:(i + 1) * per_queue]))
        yield depth


def _table_sizes() -> dict[str, list[tuple[str, str, int]]]:
    """Versions and catalog entries: whole-table counts (~100 ms at 66,000 versions in two
    catalogs), so one scrape per SIZES_TTL_SECONDS pays for them, whichever worker it hits."""
    try:
        sizes: dict[str, list[tuple[str, str, int]]] | None = cache.get(SIZES_CACHE_KEY)
    except Exception:  # an unreachable cache only costs the recount
        sizes = None
    if sizes is None:
        sizes = {
            "versions": [(g["origin"], g["status"], g["n"]) for g in ServerVersion.objects.order_by()
                         .values("origin", "status").annotate(n=Count("id"))],
            "entries": [(g["catalog__slug"], g["state"], g["n"]) for g in CatalogEntry.objects
                        .order_by().values("catalog__slug", "state").annotate(n=Count("id"))],
        }
        with contextlib.suppress(Exception):
            cache.set(SIZES_CACHE_KEY, sizes, SIZES_TTL_SECONDS)
    return sizes


def _redis_broker_url() -> str:
    url: str = settings.CELERY_BROKER_URL
    return url if url.startswith(("redis://", "rediss://")) else ""


class _ThisProcess(Collector):
    """The default registry (request metrics, process and GC stats) of this process."""

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


@lru_cache(maxsize=1)
def scrape_registry() -> CollectorRegistry:
    """What /metrics exposes; built once per process so no collector is registered twice."""
    registry = CollectorRegistry(auto_describe=False)
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:  # the test prometheus-client itself makes
        # Every worker's request metrics, from the shared directory. Process stats are
        # per process and would be misleading here, so they are left out.
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(StateCollector())
    return registry


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition; needs `Authorization: Bearer` when a token is configured."""
    token: str = settings.MCP_INDEX_METRICS_TOKEN
    if token and not _authorized(request, token):
        return problem_response(401, "A valid metrics bearer token is required",
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"',
                                         "Cache-Control": "no-store"})
    # Prometheus text 0.0.4 unless the scraper asks for OpenMetrics or a newer text format.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = HttpResponse(encode(scrape_registry()), content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response

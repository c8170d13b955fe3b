"""Prometheus metrics: HTTP requests from this process, application state read at scrape time.

Request counters and latencies are recorded by `ops.middleware` in each web
process. Under gunicorn with `PROMETHEUS_MULTIPROC_DIR` set, prometheus-client keeps them in
per-process files and a scrape answered by any worker aggregates them all.

Sync runs, verifications and queue depth happen in Celery workers, possibly on other hosts,
so they are not counted in-process: `StateCollector` reads them when /metrics is scraped.
ops knows no application's tables: each app registers the series it reads from the database
(`register_collector`, from its AppConfig.ready), and ops adds the broker's queue depth and
whether each source answered. One scrape reaches one worker, so these series appear once
whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from itertools import chain

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ops.health import one_line
from ops.http import problem_response

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

# kombu's Redis transport keeps a queue's prioritised messages in sibling lists named
# "<queue>\x06\x16<priority>" (priorities 3, 6, 9); priority 0 is the plain list.
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)
_BROKER_TIMEOUT_SECONDS = 2.0
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


# Scrape sources: the apps' tables (registered) and, with a Redis broker, its queues.
DATABASE = "database"
BROKER = "broker"
# What an app contributes to a scrape: a function yielding metric families, read per scrape.
Collect = Callable[[], Iterable[Metric]]
_collectors: dict[str, list[Collect]] = {}


def register_collector(collect: Collect, *, source: str = DATABASE) -> None:
    """Add an app's scrape-time series (called from its AppConfig.ready; again is a no-op).

    Every collector of a source runs in one scrape step: `mcp_index_scrape_up{source}` is 0
    and the source's series are left out when any of them raises.
    """
    registered = _collectors.setdefault(source, [])
    if collect not in registered:
        registered.append(collect)


def cached_counts(name: str, count: Callable[[], list[tuple[str, str, int]]]
                  ) -> list[tuple[str, str, int]]:
    """Whole-table counts, e.g. versions by origin and status (~100 ms at 66,000 versions):
    one scrape per SIZES_TTL_SECONDS pays for them, whichever worker it hits."""
    key = f"ops:metrics:{name}"
    try:
        rows: list[tuple[str, str, int]] | None = cache.get(key)
    except Exception:  # an unreachable cache only costs the recount
        rows = None
    if rows is None:
        rows = count()
        with contextlib.suppress(Exception):
            cache.set(key, rows, SIZES_TTL_SECONDS)
    return rows


def queue_names() -> list[str]:
    """Celery queues to measure: the default queue and any declared in settings."""
    names = [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None) or "celery"]
    for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or []:
        name = getattr(queue, "name", queue)
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


class StateCollector(Collector):
    """The registered sources (the apps' tables) and Celery queue depth, read per scrape."""

    def describe(self) -> Iterable[Metric]:
        return []  # series are only known at scrape time; skip the registry's name check

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("mcp_index_scrape_up",
                               "1 if the source answered this scrape, 0 if it failed.", labels=["source"])
        spent = GaugeMetricFamily("mcp_index_scrape_duration_seconds",
                                  "Time spent reading each source for this scrape.", labels=["source"])
        sources: list[tuple[str, Iterable[Metric]]] = [
            (source, chain.from_iterable(collect() for collect in collectors))
            for source, collectors in _collectors.items()]
        if _redis_broker_url():
            sources.append((BROKER, self._queues()))
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

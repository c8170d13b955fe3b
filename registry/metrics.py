"""The registry's series on /metrics, read per scrape (registered by RegistryConfig.ready)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from ops.metrics import cached_counts
from registry.models import ServerVersion


def _version_counts() -> list[tuple[str, str, int]]:
    return [(g["origin"], g["status"], g["n"]) for g in ServerVersion.objects.order_by()
            .values("origin", "status").annotate(n=Count("id"))]


def collect() -> Iterator[Metric]:
    """Server versions by origin and status (a whole-table count, cached for a minute)."""
    versions = GaugeMetricFamily(
        "mcp_index_server_versions", "Server versions by origin ('local' or upstream) and status.",
        labels=["origin", "status"])
    for origin, status, n in cached_counts("server-versions", _version_counts):
        versions.add_metric([origin, status], n)
    yield versions

"""Signing's series on /metrics, read per scrape (registered by SigningConfig.ready)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from signing.models import Attestation

ATTESTATION_STATES = [state for state, _ in Attestation.STATES]
ATTESTATION_KINDS = [kind for kind, _ in Attestation.KINDS]


def collect() -> Iterator[Metric]:
    """Attestations by verification state and kind, zeros included."""
    counts = {(row["state"], row["kind"]): row["n"] for row in
              Attestation.objects.order_by().values("state", "kind").annotate(n=Count("id"))}
    attestations = GaugeMetricFamily(
        "mcp_index_attestations", "Attestations by verification state and kind.",
        labels=["state", "kind"])
    for verification in ATTESTATION_STATES:
        for kind in ATTESTATION_KINDS:
            attestations.add_metric([verification, kind], counts.get((verification, kind), 0))
    yield attestations

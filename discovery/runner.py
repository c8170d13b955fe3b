"""Running probes: a batch of due inventories in one event loop, with a global concurrency
limit and one per host, outcomes recorded one by one through discovery.services."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import anyio
from django.conf import settings

from discovery import services
from discovery.models import Inventory, Probe
from discovery.probe import ProbeResult, Target, probe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProbeReport:
    """What one batch did: how many were probed, by outcome, and how long it took."""

    discovered: int = 0
    probed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        return f"discovered {self.discovered}, probed {self.probed} in {self.seconds:.1f} s ({parts})"


def _target(inventory: Inventory) -> Target:
    return Target(inventory.url, inventory.transport, inventory.skip_reason)


async def _probe_all(inventories: list[Inventory], concurrency: int, per_host: int
                     ) -> list[tuple[Inventory, ProbeResult]]:
    """Probe concurrently: at most `concurrency` at once and `per_host` per host."""
    limit = anyio.Semaphore(max(1, concurrency))
    hosts: dict[str, anyio.Semaphore] = defaultdict(lambda: anyio.Semaphore(max(1, per_host)))
    results: list[tuple[Inventory, ProbeResult]] = []

    async def one(inventory: Inventory) -> None:
        async with hosts[inventory.host], limit:
            results.append((inventory, await probe(_target(inventory))))

    async with anyio.create_task_group() as group:
        for inventory in inventories:
            group.start_soon(one, inventory)
    return results


def probe_many(inventories: list[Inventory], *, requested_by: str = "",
               concurrency: int | None = None, per_host: int | None = None) -> ProbeReport:
    """Probe these inventories and record every outcome."""
    started = time.monotonic()
    results = anyio.run(_probe_all, inventories,
                        concurrency or settings.MCP_INDEX_PROBE_CONCURRENCY,
                        per_host or settings.MCP_INDEX_PROBE_PER_HOST)
    outcomes: Counter[str] = Counter()
    for inventory, result in results:
        services.probe_record(inventory_id=inventory.pk, result=result, requested_by=requested_by)
        outcomes[result.status] += 1
    return ProbeReport(probed=len(results), outcomes=dict(outcomes),
                       seconds=time.monotonic() - started)


def probe_one(inventory: Inventory, *, requested_by: str = "") -> Probe:
    """Probe one inventory now and record the outcome."""
    result = anyio.run(probe, _target(inventory))
    return services.probe_record(inventory_id=inventory.pk, result=result,
                                 requested_by=requested_by)


def probe_due(*, limit: int | None = None) -> ProbeReport:
    """Find new remote versions, claim a batch of due inventories and probe them."""
    discovered = services.inventories_discover()
    due = services.due_inventories(limit=limit or settings.MCP_INDEX_PROBE_BATCH)
    report = probe_many(due)
    log.info("discovery.probe.batch %s", report.summary())
    return ProbeReport(discovered=discovered, probed=report.probed, outcomes=report.outcomes,
                       seconds=report.seconds)

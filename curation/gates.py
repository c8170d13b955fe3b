"""Membership gates that apps above curation add (discovery's liveness and pinned tool sets).

curation cannot import the apps above it, so they register a gate from their AppConfig.ready.
A rebuild calls every gate once per batch with the versions its rules included; a gate
answers, for some of them, the membership they get instead (never a write of its own beyond
what its service audits), so a gate's verdict commits together with the membership.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from curation.models import Catalog
from curation.rules import Membership


@dataclass(frozen=True)
class Gated:
    """A version the rules included: what a gate is asked about."""

    id: int
    name: str
    version: str
    membership: Membership


Gate = Callable[[Catalog, Mapping[int, Gated], datetime], Mapping[int, Membership]]
_gates: list[Gate] = []


def register_gate(gate: Gate) -> None:
    """Add a gate (call from an AppConfig.ready; once is enough)."""
    if gate not in _gates:
        _gates.append(gate)


def gates_apply(catalog: Catalog, included: Mapping[int, Gated], now: datetime
                ) -> dict[int, Membership]:
    """Every gate's overrides, in registration order (a later gate sees the earlier ones)."""
    overrides: dict[int, Membership] = {}
    remaining = dict(included)
    for gate in _gates:
        if not remaining:
            break
        for version_id, membership in gate(catalog, remaining, now).items():
            overrides[version_id] = membership
            remaining.pop(version_id, None)
    return overrides

"""Totals of a fuzz run (cases, answers by status, time), printed at the end of the session."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Totals:
    tests: int = 0
    cases: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)

    def add(self, statuses: Counter[int], seconds: float) -> None:
        self.tests += 1
        self.cases += sum(statuses.values())
        self.statuses.update(statuses)
        self.seconds += seconds

    def line(self, name: str) -> str:
        by_status = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (f"fuzz/{name}: {self.cases} cases in {self.tests} tests, {self.seconds:.1f} s; "
                f"answers {by_status}")


RUNS: dict[str, Totals] = {}


def totals(name: str) -> Totals:
    return RUNS.setdefault(name, Totals())

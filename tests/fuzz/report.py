"""Totals of a fuzz run (cases, answers by status, time), printed at the end of the session.

A pytest plugin (tests/conftest.py loads it): under pytest-xdist each worker hands its
totals to the controller, which prints the sum.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest


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

    def as_dict(self) -> dict[str, Any]:
        return {"tests": self.tests, "cases": self.cases, "seconds": self.seconds,
                "statuses": {str(k): v for k, v in self.statuses.items()}}

    def merge(self, data: dict[str, Any]) -> None:
        self.tests += data["tests"]
        self.cases += data["cases"]
        self.seconds += data["seconds"]
        self.statuses.update({int(k): v for k, v in data["statuses"].items()})

    def line(self, name: str) -> str:
        by_status = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (f"fuzz/{name}: {self.cases} cases in {self.tests} tests, {self.seconds:.1f} s "
                f"of requests; answers {by_status}")


RUNS: dict[str, Totals] = {}


def totals(name: str) -> Totals:
    return RUNS.setdefault(name, Totals())


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker
        workeroutput["fuzz_runs"] = {name: run.as_dict() for name, run in RUNS.items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    for name, data in getattr(node, "workeroutput", {}).get("fuzz_runs", {}).items():
        totals(name).merge(data)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for name, run in RUNS.items():
        if run.tests:
            terminalreporter.write_line(run.line(name))

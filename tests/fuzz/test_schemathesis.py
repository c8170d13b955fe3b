"""Schemathesis against our own /openapi.json on a live server: every operation, with and
without a token, positive and negative cases, and the four response checks.

Bounded and repeatable: Hypothesis is derandomised (the same cases every run), the example
count per operation and mode is fixed, shrinking is off (a failure is reported with its
curl line instead of being minimised), and each test starts from the same seeded database.
The totals (cases, answers by status, time) are printed at the end of the run.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apidocs import document
from tests.fuzz.report import totals
from tests.fuzz.seed import SERVER, UPSTREAM, Seeded, path_slug
from tests.fuzz.server import FuzzServer

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Cases per operation and mode. A server.json body (publish, edit) costs Hypothesis about
# a second per case to build, so those get fewer: 102 operations x 2 modes, > 1,000 cases.
EXAMPLES = 10
SERVER_JSON_EXAMPLES = 4
MIN_TOTAL_CASES = 1000
MODES = ("anonymous", "admin")
OPERATIONS = [(method, path) for method, path, _ in document.operations()]


def _examples(op: dict[str, Any]) -> int:
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    return SERVER_JSON_EXAMPLES if "ServerDetail" in str(body.get("schema")) else EXAMPLES


_OPS = {(m, p): op for m, p, op in document.operations()}

TOTALS = totals("schemathesis")


@pytest.fixture(scope="module")
def live_schema(fuzz_server: FuzzServer) -> Any:
    """The document as the live server serves it (and it is the one the source builds)."""
    raw = requests.get(f"{fuzz_server.url}/openapi.json", timeout=30).json()
    assert raw == document.document()
    return schemathesis.openapi.from_dict(raw)


def _floor(op: dict[str, Any]) -> int:
    """The cases an operation must get: all of them, unless there is nothing to vary."""
    return _examples(op) if op.get("parameters") or op.get("requestBody") else 1


def test_the_run_is_at_least_1000_cases() -> None:
    """Every operation test asserts its floor, so the floors add up to what a run sends."""
    assert sum(_floor(op) for op in _OPS.values()) * len(MODES) >= MIN_TOTAL_CASES


def aimed_path(seeded: Seeded, path: str) -> dict[str, Any]:
    """Path parameters naming what seed() stored."""
    return {"serverName": SERVER, "version": seeded.versions[0], "name": UPSTREAM,
            "token_id": seeded.token_id, "slug": path_slug(path), "feed_id": seeded.feed_id,
            "secret": seeded.feed_secret}


def _describe(failure: Failure, response: Any, case: Any) -> str:
    curl = case.as_curl_command(headers=dict(response.request.headers))
    return f"{failure.code} {failure.title} [{response.status_code}]: {curl[:600]}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation(live_schema: Any, fuzz_server: FuzzServer, seeded: Seeded, method: str,
                   path: str, mode: str) -> None:
    operation = live_schema[path][method]
    headers = fuzz_server.admin_headers if mode == "admin" else {}
    # Random values mostly miss every stored object (404); a third of the cases aim at the
    # seeded ones instead, so the handlers behind the lookups are fuzzed too.
    names = {p.name for p in operation.path_parameters}
    aimed = {k: v for k, v in aimed_path(seeded, path).items() if k in names}
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE),
                         operation.as_strategy(GenerationMode.POSITIVE, path_parameters=aimed))
    failures: dict[str, str] = {}
    statuses: Counter[int] = Counter()
    started = time.monotonic()

    @settings(max_examples=_examples(_OPS[(method, path)]), derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(base_url=fuzz_server.url, headers=headers, timeout=60)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, Failure) as exc:
            for failure in getattr(exc, "exceptions", (exc,)):
                failures.setdefault(f"{failure.code} {response.status_code}",
                                    _describe(failure, response, case))

    run()
    TOTALS.add(statuses, time.monotonic() - started)
    assert sum(statuses.values()) >= _floor(_OPS[(method, path)]), statuses
    assert not failures, "\n".join(failures.values())

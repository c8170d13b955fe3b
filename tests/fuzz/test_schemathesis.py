"""Schemathesis against our own /openapi.json on a live server: every operation, with and
without a token, positive and negative cases, and the four response checks.

Bounded and repeatable: Hypothesis is derandomised (the same cases every run), the example
count per operation and mode is fixed, shrinking is off (a failure is reported with its
curl line instead of being minimised), and each test starts from the same seeded database.
The run's totals (cases, statuses, time) are printed at the end of the module.
"""

from __future__ import annotations

import re
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
from tests.fuzz.seed import POLICY, PUBLIC_CATALOG, SERVER, UPSTREAM, Seeded
from tests.fuzz.server import FuzzServer

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Cases per operation and mode. A server.json body (publish, edit) costs Hypothesis about
# a second per case to build, so those get fewer: 79 operations x 2 modes, > 1,000 cases.
EXAMPLES = 10
SERVER_JSON_EXAMPLES = 4
MIN_TOTAL_CASES = 1000
MODES = ("anonymous", "admin")
OPERATIONS = [(method, path) for method, path, _ in document.operations()]


def _examples(op: dict[str, Any]) -> int:
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    return SERVER_JSON_EXAMPLES if "ServerDetail" in str(body.get("schema")) else EXAMPLES


_OPS = {(m, p): op for m, p, op in document.operations()}

# Defects issue 12 lists that another change fixes ("boundary"): a failure matching one is
# reported as an xfail with its reason until then, and passes after. Any other failure fails.
_LONE_SURROGATE = re.compile(
    r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}",
    re.IGNORECASE)
_HUGE_INTEGER = re.compile(r"(?<![\w.])-?\d{16,}(?![\w.])")


def _content_type(response: Any) -> str:
    """Schemathesis' responses keep headers lower-cased, each a list of values."""
    return (response.headers.get("content-type") or [""])[0]


def _sent(response: Any) -> tuple[str, str]:
    body = response.request.body or b""
    return (response.request.url or "",
            body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body))


def _hostile_body(url: str, body: str) -> bool:
    return ("\\u0000" in body or "%00" in url or bool(_LONE_SURROGATE.search(body))
            or bool(_HUGE_INTEGER.search(body)))


KNOWN_DEFECTS: list[tuple[str, Any]] = [
    ("issue 12: NUL, a lone surrogate or an integer above 2^53 in a body or query string",
     lambda r: r.status_code >= 500 and _hostile_body(*_sent(r))),
    ("issue 12: a non-ASCII github_token", lambda r: r.status_code >= 500
     and "/auth/github-at" in _sent(r)[0]),
    ("issue 12: a write to an unknown API path answers Django's HTML CSRF page",
     lambda r: r.status_code == 403 and _content_type(r).startswith("text/html")),
]


def _known(response: Any) -> str | None:
    return next((reason for reason, match in KNOWN_DEFECTS if match(response)), None)

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
    """Path parameters naming what seed() stored (`slug` is a policy's under policies/)."""
    slug = POLICY if "/policies/" in path else PUBLIC_CATALOG
    return {"serverName": SERVER, "version": seeded.versions[0], "name": UPSTREAM,
            "token_id": seeded.token_id, "slug": slug}


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
    known: set[str] = set()
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
            reason = _known(response)
            if reason is not None:
                known.add(reason)
                return
            for failure in getattr(exc, "exceptions", (exc,)):
                failures.setdefault(f"{failure.code} {response.status_code}",
                                    _describe(failure, response, case))

    run()
    TOTALS.add(statuses, time.monotonic() - started)
    assert sum(statuses.values()) >= _floor(_OPS[(method, path)]), statuses
    assert not failures, "\n".join(failures.values())
    if known:
        pytest.xfail("; ".join(sorted(known)))

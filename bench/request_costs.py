"""What one request costs, in µs, in-process: each middleware, Redis round trips, metrics, logs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_perf REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/request_costs.py [--requests 3000] [--rounds 5]

Calls the WSGI application itself (no socket, no gunicorn) with production settings, the
response cache and the rate limits on, the metrics in multiprocess files as under gunicorn,
the access log written as JSON lines to /dev/null. Rows, each the median of `--rounds`
rounds of `--requests` calls:
- the bare floor: a Django WSGI handler with no middleware whose view returns the same bytes;
- a cached list page and a cached get, through the whole stack, and through the fast path;
- the same uncached (response cache off), through the whole stack and read directly;
- the whole stack less one middleware, for each one (its marginal cost);
- the parts on their own: a Redis GET, the rate-limit script, a generation lookup, a metrics
  observation, an access-log line, rendering a list page's JSON.
Prints a Markdown table (bench/RESULTS.md, "Per-request costs").
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_METRICS_DIR = tempfile.mkdtemp(prefix="mcp-index-costs-")
for key, value in {"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "0",
                   "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-" + "x" * 32,
                   "MCP_INDEX_JWT_PRIVATE_KEY": "22" * 32, "LOG_LEVEL": "INFO", "LOG_FORMAT": "json",
                   "DJANGO_ALLOWED_HOSTS": "testserver", "MCP_INDEX_RESPONSE_CACHE": "1",
                   "MCP_INDEX_RATE_LIMITS": "1", "MCP_INDEX_RATE_LIMIT_ANON": "100000000/s",
                   "DJANGO_SECURE_SSL_REDIRECT": "0", "REDIS_URL": "redis://127.0.0.1:6379/6",
                   "PROMETHEUS_MULTIPROC_DIR": _METRICS_DIR}.items():
    os.environ.setdefault(key, value)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from ops import generations, metrics  # noqa: E402
from ops import redis as shared_redis  # noqa: E402
from ops.fastpath import CacheHitApp  # noqa: E402
from ops.ratelimit import Limiter, Rate  # noqa: E402
from serving.api.direct import DirectReadApp  # noqa: E402

LIST = "/v0.1/servers?limit=30"
GET = "/v0.1/servers/{name}/versions/latest"
_bare_body: dict[str, bytes] = {}


def bare_view(request: Any, key: str) -> HttpResponse:
    return HttpResponse(_bare_body[key], content_type="application/json")


urlpatterns = [path("_bare/<str:key>", bare_view)]


def environ(url: str) -> dict[str, Any]:
    path_info, _, query = url.partition("?")
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path_info, "QUERY_STRING": query,
            "SERVER_NAME": "testserver", "SERVER_PORT": "80", "HTTP_HOST": "testserver",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "request-costs/1",
            "HTTP_ACCEPT": "application/json", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "SERVER_PROTOCOL": "HTTP/1.1"}


def call(app: Callable[..., Any], url: str) -> tuple[str, bytes]:
    status: list[str] = []
    body = b"".join(app(environ(url), lambda s, h, exc_info=None: status.append(s)))
    return status[0], body


def per_request(action: Callable[[], Any], requests: int, rounds: int) -> float:
    """Median over rounds of the mean µs per call."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(requests):
            action()
        samples.append((time.perf_counter() - started) / requests * 1e6)
    return statistics.median(samples)


def app_with(middleware: list[str], urlconf: str | None = None) -> WSGIHandler:
    with override_settings(MIDDLEWARE=middleware, **({"ROOT_URLCONF": urlconf} if urlconf else {})):
        return WSGIHandler()


def run_under(middleware: list[str], urlconf: str | None, fn: Callable[[], float]) -> float:
    with override_settings(MIDDLEWARE=middleware, **({"ROOT_URLCONF": urlconf} if urlconf else {})):
        return fn()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n, rounds = args.requests, args.rounds
    logging.getLogger("mcp_index.access").handlers = [logging.FileHandler(os.devnull)]
    logging.getLogger("mcp_index.access").propagate = False
    full = list(settings.MIDDLEWARE)
    app = WSGIHandler()
    status, body = call(app, LIST)
    assert status.startswith("200"), status
    name = __import__("json").loads(body)["servers"][0]["server"]["name"]
    get_url = GET.format(name=name)  # PATH_INFO is already decoded
    rows: list[tuple[str, float]] = []
    for label, url in (("list", LIST), ("get", get_url)):
        call(app, url)  # store it
        status, cached = call(app, url)
        assert status.startswith("200"), status
        _bare_body[label] = cached
        bare = app_with([], __name__)
        rows.append((f"bare floor ({label} bytes, no middleware)",
                     run_under([], __name__, lambda b=bare, k=label: per_request(
                         lambda: call(b, f"/_bare/{k}"), n, rounds))))
        rows.append((f"cached {label}, whole stack",
                     per_request(lambda u=url: call(app, u), n, rounds)))
        fast = CacheHitApp(app)
        call(fast, url)  # learns the route's headers
        rows.append((f"cached {label}, fast path (ops.fastpath)",
                     per_request(lambda u=url, f=fast: call(f, u), n, rounds)))
    with override_settings(MCP_INDEX_RESPONSE_CACHE=False):
        direct = DirectReadApp(app)
        for label, url in (("list", LIST), ("get", get_url)):
            call(direct, url)  # learns the route's headers
            rows.append((f"uncached {label}, whole stack (Django, DRF, the view)",
                         per_request(lambda u=url: call(app, u), n, rounds)))
            rows.append((f"uncached {label}, direct read (serving.api.direct)",
                         per_request(lambda u=url, d=direct: call(d, u), n, rounds)))
    for middleware in full:
        less = [m for m in full if m != middleware]
        reduced = app_with(less)
        cost = run_under(less, None, lambda r=reduced: per_request(lambda: call(r, LIST), n, rounds))
        rows.append((f"cached list without {middleware.rsplit('.', 1)[-1]}", cost))
    client = shared_redis.client()
    assert client is not None
    rows.append(("Redis GET round trip", per_request(lambda: client.get("mcpidx:none"), n, rounds)))
    limiter = Limiter()
    rate = Rate.parse("100000000/s")
    rows.append(("rate-limit script (GCRA)", per_request(
        lambda: limiter.charge("ip:127.0.0.9", rate, "ip:127.0.0.9"), n, rounds)))
    rows.append(("generation lookup", per_request(lambda: generations.current("all"), n, rounds)))
    rows.append(("metrics observation (multiprocess files)", per_request(
        lambda: metrics.observe_request(method="GET", route="/v0.1/servers", status=200,
                                        seconds=0.001, cache="HIT"), n, rounds)))
    access = logging.getLogger("mcp_index.access")
    rows.append(("access-log line (JSON)", per_request(
        lambda: access.info("request", extra={"method": "GET", "path": LIST, "route": "/v0.1/servers",
                                              "status": 200, "duration_ms": 1.0, "bytes": 100,
                                              "client_ip": "127.0.0.1", "user_agent": "x"}),
        n, rounds)))
    print(f"| part | µs per request (median of {rounds} rounds of {n}) |\n|---|---|")
    for label, micros in rows:
        print(f"| {label} | {micros:,.0f} |")


if __name__ == "__main__":
    main()

"""/healthz (the process is alive) and /readyz (it can reach its database, broker and cache).

Readiness opens its own short-lived connections with explicit timeouts instead of using the
request's persistent ones, so a dead or black-holed dependency makes the probe answer 503
within a few seconds and never leaves a broken connection behind. (The persistent database
connection recovers on its own: settings enable CONN_HEALTH_CHECKS.)
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable

import kombu
import redis
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)

OK = "ok"
SKIPPED = "skipped"  # not configured: nothing to check
NO_STORE = {"Cache-Control": "no-store"}

_PASSWORD_IN_URL = re.compile(r"(://[^/\s@:]*:)[^/\s@]+@")


def one_line(exc: BaseException) -> str:
    """`Class: message` on one line, at most 300 characters, with URL passwords masked."""
    text = " ".join(str(exc).split()) or "no detail"
    text = _PASSWORD_IN_URL.sub(r"\1***@", text)
    return f"{type(exc).__name__}: {text}"[:300]


def _timeout() -> int:
    return int(getattr(settings, "MCP_INDEX_HEALTH_TIMEOUT_SECONDS", 2))


def check_database(alias: str = "default") -> str:
    """`SELECT 1` on a fresh connection built from the alias's settings, then closed."""
    base = connections[alias]
    settings_dict = copy.deepcopy(base.settings_dict)
    options = settings_dict.setdefault("OPTIONS", {})
    options.pop("pool", None)  # one connection, not a pool per probe
    if base.vendor == "postgresql":
        options["connect_timeout"] = max(_timeout(), 2)  # libpq rounds anything lower up to 2
    probe = type(base)(settings_dict, alias)
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        probe.close()
    return OK


def _redis_ping(url: str) -> str:
    client = redis.Redis.from_url(url, socket_timeout=_timeout(), socket_connect_timeout=_timeout())
    try:
        client.ping()
    finally:
        client.close()
    return OK


def check_broker() -> str:
    """PING a Redis broker; connect once to any other kombu broker (AMQP, …)."""
    url: str = settings.CELERY_BROKER_URL
    if not url:
        return SKIPPED  # tasks run inline in the web process
    if url.startswith(("redis://", "rediss://")):
        return _redis_ping(url)
    with kombu.Connection(url, connect_timeout=_timeout()) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=_timeout())
    return OK


def check_cache() -> str:
    """PING the shared Redis cache when one is configured."""
    url: str = settings.REDIS_URL
    return _redis_ping(url) if url else SKIPPED


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
}


def _run(check: Callable[[], str]) -> str:
    try:
        return check()
    except Exception as exc:  # any failure is an answer, never a 500
        return f"error: {one_line(exc)}"


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: answers as long as the process serves requests; touches nothing external."""
    return JsonResponse({"status": "ok"}, headers=NO_STORE)


@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 200 when every configured dependency answers, 503 naming the ones that don't."""
    checks = {name: _run(check) for name, check in CHECKS.items()}
    failed = {name: result for name, result in checks.items() if result not in (OK, SKIPPED)}
    if failed:
        log.warning("readiness_failed %s", " ".join(f"{k}={v!r}" for k, v in failed.items()))
    return JsonResponse({"status": "error" if failed else "ok", "checks": checks},
                        status=503 if failed else 200, headers=NO_STORE)

"""The suite's own Redis database: never the developer's broker, one per pytest-xdist worker.

Each test starts from an empty database (tests/conftest.py flushes it), so the suite must not
share a database with anything that keeps state there: the default is db 15, not db 0 (which
`make worker` suggests for a developer's Celery broker), and a flush of a database configured
as CELERY_BROKER_URL is refused. Under xdist, worker gwN uses db (base - N).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit, urlunsplit

import redis

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _db(url: str) -> int:
    parts = urlsplit(url)
    query_db = parse_qs(parts.query).get("db")
    path = parts.path.strip("/")
    return int(query_db[0] if query_db else path or 0)


def worker_url(base: str, worker: str | None) -> str:
    """`base` for a serial run and xdist's gw0; db (base - N) for worker gwN."""
    if not worker:
        return base
    index = int(worker.removeprefix("gw"))
    db = _db(base) - index
    if db < 0:
        raise ValueError(f"xdist worker {worker} has no Redis db below {base}: use fewer workers "
                         "or a higher db in TEST_REDIS_URL")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{db}", query=""))


TEST_REDIS_URL = worker_url(os.environ.get("TEST_REDIS_URL") or DEFAULT_TEST_REDIS_URL,
                            os.environ.get("PYTEST_XDIST_WORKER"))


def same_database(a: str, b: str) -> bool:
    """Whether two redis:// URLs name the same database of the same server."""
    pa, pb = urlsplit(a), urlsplit(b)
    if not (pa.scheme.startswith("redis") and pb.scheme.startswith("redis")):
        return False

    def host(parts: object) -> str:
        name = getattr(parts, "hostname", None) or "127.0.0.1"
        return "loopback" if name in _LOOPBACK else name

    return (host(pa), pa.port or 6379, _db(a)) == (host(pb), pb.port or 6379, _db(b))


class BrokerDatabaseError(RuntimeError):
    """The test Redis database is someone's Celery broker: flushing it would drop their tasks."""


def flush(url: str, *, brokers: Iterable[str]) -> None:
    """Empty the test database `url`, unless it is one of the configured `brokers`."""
    for broker in brokers:
        if broker and same_database(url, broker):
            raise BrokerDatabaseError(
                f"refusing to flush {url}: it is configured as CELERY_BROKER_URL ({broker}); "
                "set TEST_REDIS_URL to a database of its own (the default is db 15)")
    redis.Redis.from_url(url).flushdb()


def kill_kept(client: redis.Redis, name: str) -> int:
    """Close, from the server's side, the connections named `name` on the client's database
    (ops.redis.KeptScript's; other xdist workers use other databases); how many there were."""
    db = client.connection_pool.connection_kwargs.get("db", 0)
    found = [c["id"] for c in client.client_list() if c.get("name") == name
             and int(c.get("db", -1)) == db]
    for client_id in found:
        client.client_kill_filter(_id=client_id)
    return len(found)

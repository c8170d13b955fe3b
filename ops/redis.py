"""The shared Redis connection (settings.REDIS_URL): short timeouts, one pool per process."""

from __future__ import annotations

import logging
import time
from functools import lru_cache

import redis
from django.conf import settings

log = logging.getLogger("mcp_index.redis")

# Redis is a cache here: when it is slow or down, callers carry on without it.
Errors = (redis.RedisError, OSError)

_last_warning = 0.0


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25,
                                health_check_interval=30)


def client() -> redis.Redis | None:
    """The Redis client, or None when no REDIS_URL is configured."""
    url = settings.REDIS_URL
    return _client_for(url) if url else None


def warn_unavailable(what: str, exc: BaseException) -> None:
    """Log that Redis failed, at most once a minute per process (it may fail per request)."""
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        log.warning("redis.unavailable during=%s error=%s", what, exc)

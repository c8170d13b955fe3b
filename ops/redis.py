"""The shared Redis connection (settings.REDIS_URL): short timeouts, one pool per process;
and a kept connection for a script called on every request (KeptScript)."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from redis.connection import AbstractConnection

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


def _packed(*parts: str | int) -> bytes:
    """A command in the Redis protocol (RESP arrays of bulk strings)."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class KeptScript:
    """A Lua script run on a connection each process and thread keeps for it: for a call made
    on every request (ops.fastpath), where checking a connection out of the pool (a poll of
    its socket), redis-py's command dispatch and its argument encoding cost more than the
    round trip's own work. Replies are parsed as the client parses them (hiredis); a failed
    call drops the connection and raises as the client would (one of `Errors`)."""

    def __init__(self, source: str, name: str) -> None:
        self.source = source
        self.name = name  # the connection's CLIENT SETNAME: CLIENT LIST tells them apart
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        self._kept = threading.local()

    def __call__(self, client: redis.Redis, keys: list[str], args: list[str | int]) -> Any:
        command = _packed("EVALSHA", self.sha, len(keys), *keys, *args)
        connection = self._connection(client)
        try:
            try:
                connection.send_packed_command([command])
                return connection.read_response()
            except redis.exceptions.NoScriptError:  # a restarted or flushed Redis
                client.script_load(self.source)
                connection.send_packed_command([command])
                return connection.read_response()
        except BaseException:
            connection.disconnect()
            self._kept.connection = None
            raise

    def _connection(self, client: redis.Redis) -> AbstractConnection:
        """This thread's connection to the client's server; a new one after a fork (the
        parent's socket is its own) or a failure."""
        kept = getattr(self._kept, "connection", None)
        if kept is None or kept[0] != os.getpid() or kept[1] is not client:
            pool = client.connection_pool
            options = {**pool.connection_kwargs, "client_name": self.name}
            kept = (os.getpid(), client, pool.connection_class(**options))
            self._kept.connection = kept
        return kept[2]

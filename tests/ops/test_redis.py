"""ops.redis.KeptScript: the fast path's script on a connection each process keeps."""

from __future__ import annotations

import os
import uuid

import pytest
import redis
from django.conf import settings

from ops import redis as shared_redis
from ops.redis import KeptScript
from tests.support.redis import kill_kept

NAME = "mcp-index:test-kept"
ECHO = "return {KEYS[1], ARGV[1], tonumber(ARGV[2]) + 1}"


@pytest.fixture
def client() -> redis.Redis:
    found = shared_redis.client()
    assert found is not None, settings.REDIS_URL
    return found


def test_a_kept_script_answers_as_the_client_would(client):
    script = KeptScript(ECHO, NAME)
    assert script(client, ["k:é"], ["ü", 41]) == [b"k:\xc3\xa9", b"\xc3\xbc", 42]
    assert script(client, ["k"], ["", 0]) == [b"k", b"", 1]  # again, on the same connection


def test_it_reloads_a_script_redis_forgot(client):
    script = KeptScript(ECHO, NAME)
    script(client, ["k"], ["v", 1])
    client.script_flush()  # as after a restart of Redis
    assert script(client, ["k"], ["v", 1]) == [b"k", b"v", 2]


def test_a_dropped_connection_fails_one_call_then_a_new_one_is_made(client):
    name = f"{NAME}:{uuid.uuid4().hex[:8]}"
    script = KeptScript(ECHO, name)
    script(client, ["k"], ["v", 1])
    assert kill_kept(client, name) == 1
    with pytest.raises(shared_redis.Errors):
        script(client, ["k"], ["v", 1])
    assert script(client, ["k"], ["v", 1]) == [b"k", b"v", 2]


def _port(script: KeptScript, client: redis.Redis) -> int:
    """The local port of the connection the script keeps in this process."""
    return script._connection(client)._sock.getsockname()[1]  # type: ignore[attr-defined]


def test_a_forked_worker_does_not_share_its_parent_s_connection(client):
    """gunicorn forks its workers from a master that may have called the script already."""
    script = KeptScript("return redis.call('INCR', KEYS[1])", NAME)
    client.delete("kept:calls")
    script(client, ["kept:calls"], [])
    parent_port = _port(script, client)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: call, report its connection's port, leave at once
        try:
            script(client, ["kept:calls"], [])
            os.write(write, str(_port(script, client)).encode())
        finally:
            os._exit(0)
    os.close(write)
    child_port = int(os.read(read, 16) or b"0")
    os.waitpid(child, 0)
    assert child_port not in (0, parent_port)  # the child called on a connection of its own
    assert script(client, ["kept:calls"], []) == 3  # and the parent's still works
    assert _port(script, client) == parent_port

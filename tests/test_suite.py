"""The suite's own isolation: its Redis database is not a broker's, and one per xdist worker."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.support import redis as test_redis


def test_the_app_under_test_uses_the_suites_redis_database() -> None:
    assert settings.REDIS_URL == test_redis.TEST_REDIS_URL
    assert test_redis.DEFAULT_TEST_REDIS_URL.endswith("/15")  # not db 0, the developer's broker


def test_each_xdist_worker_gets_a_database_of_its_own() -> None:
    base = "redis://127.0.0.1:6379/15"
    assert test_redis.worker_url(base, None) == base
    assert test_redis.worker_url(base, "gw0") == base
    assert test_redis.worker_url(base, "gw1") == "redis://127.0.0.1:6379/14"
    assert test_redis.worker_url("redis://h:6390/?db=3", "gw2") == "redis://h:6390/1"
    with pytest.raises(ValueError, match="no Redis db below"):
        test_redis.worker_url("redis://127.0.0.1:6379/1", "gw2")


@pytest.mark.parametrize(("a", "b", "same"), [
    ("redis://127.0.0.1:6379/0", "redis://localhost/0", True),
    ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/0", True),
    ("redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/0", False),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6380/0", False),
    ("redis://127.0.0.1:6379/2", "redis://:secret@127.0.0.1:6379?db=2", True),
    ("redis://127.0.0.1:6379/0", "amqp://127.0.0.1:5672//", False),
])
def test_same_database(a: str, b: str, same: bool) -> None:
    assert test_redis.same_database(a, b) is same


def test_a_broker_database_is_never_flushed() -> None:
    # Port 1: were the guard to let it through, the flush would fail to connect, not succeed.
    with pytest.raises(test_redis.BrokerDatabaseError, match="CELERY_BROKER_URL"):
        test_redis.flush("redis://127.0.0.1:1/0", brokers=["", "redis://localhost:1/0"])

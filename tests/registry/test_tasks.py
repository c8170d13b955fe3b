"""Background tasks, including one run by a real Celery worker through Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection
from django.utils import timezone

from registry.models import IdempotencyRecord
from registry.tasks import purge_idempotency_records
from tests.support.redis import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


def make_records() -> None:
    IdempotencyRecord.objects.create(key="old", actor="a", request_hash="x", status_code=200,
                                     response_body="{}")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=48))
    IdempotencyRecord.objects.create(key="new", actor="a", request_hash="y", status_code=200,
                                     response_body="{}")


@pytest.mark.django_db
def test_purge_keeps_recent_records():
    make_records()
    assert purge_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_task_through_redis():
    try:
        redis.Redis.from_url(TEST_REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is required for the test suite at {TEST_REDIS_URL} (make services)")
    make_records()
    db = connection.settings_dict
    env = {**os.environ, "CELERY_BROKER_URL": TEST_REDIS_URL,
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": "worker-test", "MCP_INDEX_JWT_PRIVATE_KEY": "33" * 32}
    queue = f"test-{os.getpid()}-{time.time_ns()}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
         "--concurrency=1", "-Q", queue, "--loglevel=warning", "--without-heartbeat",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # set_as_current=False: otherwise every later shared_task.delay() in this process
        # would go to this app (Redis) instead of running inline as the test settings say.
        client = Celery(broker=TEST_REDIS_URL, set_as_current=False)
        client.send_task("registry.tasks.purge_idempotency_records", queue=queue)
        client.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not IdempotencyRecord.objects.filter(key="old").exists():
                break
            assert worker.poll() is None, worker.stdout.read().decode()[-2000:]
            time.sleep(0.3)
        assert not IdempotencyRecord.objects.filter(key="old").exists()
        assert IdempotencyRecord.objects.filter(key="new").exists()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        assert worker.stdout is not None
        worker.stdout.close()

"""The commands compose runs, run here: migrate on a throwaway database, gunicorn with
deploy/gunicorn.conf.py, a Celery worker and beat on the test Redis, and their health checks.
Every process runs in its own group and is stopped when its test ends."""

from __future__ import annotations

import json
import os
import re
import shelve
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.data import ROOT
from tests.support.database import database_url, query
from tests.support.deploy import app_env, group_alive, http, run_migrate, running, wait_for
from tests.support.network import free_port

pytestmark = pytest.mark.slow  # each runs a command of the image: migrate, gunicorn, celery


def with_port(command: list[str], port: int) -> list[str]:
    return [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in command]


def test_migrate_creates_the_schema_and_is_idempotent(compose: dict[str, Any], migrated_db: str) -> None:
    tables = {row[0] for row in query(migrated_db, "SELECT tablename FROM pg_tables")}
    assert {"registry_serverversion", "curation_catalog", "signing_attestation",
            "django_session"} <= tables
    again = run_migrate(compose, migrated_db)
    assert again.returncode == 0 and "No migrations to apply" in again.stdout


@pytest.fixture
def web(compose: dict[str, Any], migrated_db: str, collected_static: Path, tmp_path: Path):
    """compose's `web` command on a free loopback port, serving the collected static files."""
    port = free_port()
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_999999.db").write_bytes(b"stale")  # left over from a previous run
    service = compose["services"]["web"]
    env = app_env(service, DATABASE_URL=database_url(migrated_db), GUNICORN_BIND=f"127.0.0.1:{port}",
                  PROMETHEUS_MULTIPROC_DIR=str(metrics), MCP_INDEX_TEST_STATIC_ROOT=str(collected_static),
                  DJANGO_SETTINGS_MODULE="tests.deploy.static_settings")
    log = tmp_path / "gunicorn.log"
    with running(service["command"], env, log) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: http(base + "/v0/health")[0] == 200, 60, proc, log)
        yield {"base": base, "port": port, "proc": proc, "env": env, "metrics": metrics,
               "service": service}


def test_gunicorn_serves_the_api_pages_and_static_files(web: dict[str, Any]) -> None:
    base = web["base"]
    status, body = http(base + "/v0.1/servers")
    assert status == 200
    assert json.loads(body)["servers"] == []
    status, page = http(base + "/", headers={"Host": "localhost"})
    assert status == 200
    # Production static storage: hashed names from the manifest, served by whitenoise.
    manifest = json.loads((Path(web["env"]["MCP_INDEX_TEST_STATIC_ROOT"]) / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/web.css"]
    assert f"/static/{hashed}".encode() in page
    status, css = http(f"{base}/static/{hashed}")
    assert status == 200 and css
    # /healthz is another branch's; when it is here it answers the agreed body.
    status, body = http(base + "/healthz")
    if status != 404:
        assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_gunicorn_config_runs_the_configured_workers_and_clears_metrics(web: dict[str, Any]) -> None:
    master = web["proc"].pid
    deadline = time.monotonic() + 20  # on a loaded machine the second fork may lag the first
    while True:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if len(children) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(children) == int(web["env"]["WEB_CONCURRENCY"]) == 2
    assert not (web["metrics"] / "counter_999999.db").exists()


def test_health_check_commands(web: dict[str, Any]) -> None:
    """The image's and compose's checks, pointed at this server; their exit status matches
    what the endpoint answers (/readyz and /healthz may not exist on this branch yet)."""
    env = web["env"]
    service_check = web["service"]["healthcheck"]["test"][1:]
    image_check = ["python", "deploy/healthcheck.py", "http://127.0.0.1:8000/healthz"]
    for command in (service_check, image_check):
        url = with_port(command, web["port"])[-1]
        expected = 0 if http(url, headers={"Host": "localhost"})[0] == 200 else 1
        result = subprocess.run(with_port(command, web["port"]), cwd=ROOT, env=env, timeout=30, check=False)
        assert result.returncode == expected, command
    ok = subprocess.run(["python", "deploy/healthcheck.py", web["base"] + "/v0/health"], cwd=ROOT,
                        env=env, timeout=30, check=False)
    missing = subprocess.run(["python", "deploy/healthcheck.py", web["base"] + "/v0/nope"], cwd=ROOT,
                             env=env, timeout=30, check=False)
    assert (ok.returncode, missing.returncode) == (0, 1)


def test_worker_answers_the_health_check_and_runs_tasks(
        compose: dict[str, Any], migrated_db: str, tmp_path: Path) -> None:
    service = compose["services"]["worker"]
    env = app_env(service, DATABASE_URL=database_url(migrated_db), HOSTNAME=socket.gethostname())
    log = tmp_path / "worker.log"
    check = service["healthcheck"]["test"]
    assert check[0] == "CMD-SHELL"

    def pinged() -> bool:
        result = subprocess.run(["sh", "-c", check[1]], cwd=ROOT, env=env, capture_output=True,
                                timeout=60, check=False)
        return result.returncode == 0

    with running(service["command"], env, log) as proc:
        wait_for(lambda: b"ready." in log.read_bytes(), 90, proc, log)
        wait_for(pinged, 60, proc, log)
        subprocess.run(["celery", "-A", "config", "call", "registry.tasks.purge_idempotency_records"],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
        done = re.compile(rb"Task registry\.tasks\.purge_idempotency_records\[[-0-9a-f]+\] succeeded")
        wait_for(lambda: done.search(log.read_bytes()) is not None, 60, proc, log)


def test_beat_starts_keeps_its_schedule_and_passes_its_check(
        compose: dict[str, Any], migrated_db: str, tmp_path: Path) -> None:
    service = compose["services"]["beat"]
    schedule = str(tmp_path / "celerybeat-schedule")  # compose's /tmp path, made private

    def private(command: list[str]) -> list[str]:
        return [part.replace("/tmp/celerybeat-schedule", schedule) for part in command]

    env = app_env(service, DATABASE_URL=database_url(migrated_db))
    check = private(service["healthcheck"]["test"][1:])
    log = tmp_path / "beat.log"
    with running(private(service["command"]), env, log) as proc:
        wait_for(lambda: b"beat: Starting..." in log.read_bytes(), 60, proc, log)
        wait_for(lambda: any(tmp_path.glob("celerybeat-schedule*")), 30, proc, log)
        assert subprocess.run(check, cwd=ROOT, env=env, timeout=30, check=False).returncode == 0
    assert proc.returncode is not None
    stale = subprocess.run([*check[:-1], "0"], cwd=ROOT, env=env, timeout=30, check=False)
    assert stale.returncode == 1
    with shelve.open(schedule, flag="r") as store:
        assert {"curation-reconcile-catalogs", "signing-verify-pending"} <= set(store["entries"])


def test_processes_are_stopped(tmp_path: Path) -> None:
    """`running` ends the whole process group, children included, even one ignoring SIGTERM."""
    log = tmp_path / "sleep.log"
    script = "sleep 300 & trap '' TERM; sleep 300 & wait"
    with running(["sh", "-c", script], dict(os.environ), log, grace=1) as proc:
        wait_for(lambda: group_alive(proc.pid), 10, proc, log)
    assert proc.returncode is not None
    assert not group_alive(proc.pid)

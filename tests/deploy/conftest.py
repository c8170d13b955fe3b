"""Deployment files as data, and the means to run the commands they run: throwaway
PostgreSQL databases, the environment compose gives the app, bounded child processes."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "mcp-index"
VENV_BIN = Path(sys.executable).parent

# What an operator would export before `docker compose up` (the file requires both keys).
COMPOSE_SHELL = {
    "DJANGO_SECRET_KEY": "deploy-test-secret-key",
    "MCP_INDEX_JWT_PRIVATE_KEY": "22" * 32,
    "WORKER_CONCURRENCY": "1",
}

_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable substitution: ${X}, ${X:-default}, ${X-default}, ${X:?error}, $$."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.groups()
        current = env.get(name)
        if op in (":?", "?") and not current:
            raise KeyError(f"{name}: {arg}")
        if op == ":-" and not current:
            return arg
        if op == "-" and current is None:
            return arg
        return current or ""

    return _VARIABLE.sub(substitute, value)


def load_compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """deploy/compose.yaml as compose sees it with COMPOSE_SHELL exported."""
    return interpolate(load_compose(), COMPOSE_SHELL)


def app_env(service: dict[str, Any], **overrides: str) -> dict[str, str]:
    """A compose service's environment with the local test services in place of its
    hostnames, and none of the test run's own Django settings leaking in."""
    leaking = ("DJANGO_", "MCP_INDEX_", "DATABASE", "CELERY", "REDIS", "PROMETHEUS", "GUNICORN",
               "WEB_CONCURRENCY", "TEST_", "LOG_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(leaking)}
    env.update({key: str(value) for key, value in service.get("environment", {}).items()})
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    env.update(CELERY_BROKER_URL=redis_url, REDIS_URL=redis_url,
               PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONDONTWRITEBYTECODE="1")
    env.update(overrides)
    return env


# --- PostgreSQL ------------------------------------------------------------------------

def _server() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    return {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432,
            "user": db["USER"] or "postgres", "password": db["PASSWORD"] or None}


def database_url(name: str) -> str:
    server = _server()
    auth = server["user"] + (f":{server['password']}" if server["password"] else "")
    return f"postgres://{auth}@{server['host']}:{server['port']}/{name}"


def admin_sql(sql: str) -> None:
    with psycopg.connect(dbname="postgres", autocommit=True, **_server()) as conn:
        conn.execute(sql)


def query(name: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(dbname=name, **_server()) as conn:
        return conn.execute(sql, params).fetchall()


@contextlib.contextmanager
def throwaway_database(template: str | None = None) -> Iterator[str]:
    """A fresh database (optionally a copy of `template`), dropped afterwards."""
    name = f"mcp_index_deploy_{uuid.uuid4().hex[:10]}"
    copy = f" TEMPLATE {template}" if template else ""
    deadline = time.monotonic() + 15
    while True:  # a template must have no sessions; a just-stopped server may linger briefly
        try:
            admin_sql(f"CREATE DATABASE {name}{copy}")
            break
        except psycopg.errors.ObjectInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        yield name
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run_migrate(compose_cfg: dict[str, Any], name: str) -> subprocess.CompletedProcess[str]:
    """compose's one-shot `migrate` service against database `name`."""
    service = compose_cfg["services"]["migrate"]
    return subprocess.run(service["command"], cwd=ROOT, env=app_env(service, DATABASE_URL=database_url(name)),
                          capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture(scope="module")
def migrated_db(compose: dict[str, Any]) -> Iterator[str]:
    """A throwaway database migrated by compose's `migrate` command."""
    with throwaway_database() as name:
        result = run_migrate(compose, name)
        assert result.returncode == 0, result.stdout + result.stderr
        yield name


# --- processes -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies, which a container's PID 1
    may never reap, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], log: Path,
            grace: float = 20) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command` in its own process group; always stop the whole group afterwards
    (SIGTERM, then SIGKILL after `grace` seconds or for anything left behind)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(grace)
            if proc.poll() is None or group_alive(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def wait_for(check: Callable[[], bool], timeout: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll `check` until it holds; fail early with the log if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc.poll() is not None:
            pytest.fail(f"{proc.args} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout}s waiting on {proc.args}:\n{log.read_text()[-3000:]}")


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 10) -> tuple[int, bytes]:
    """(status, body) of a request to a local server, errors included."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Dockerfile's collectstatic step, run as written, into a temporary STATIC_ROOT."""
    dockerfile = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    (command,) = [line.strip()[len("RUN "):] for line in dockerfile.splitlines()
                  if line.strip().startswith("RUN ") and "collectstatic" in line]
    root = tmp_path_factory.mktemp("static")
    env = app_env({}, DJANGO_SETTINGS_MODULE="tests.deploy.static_settings",
                  MCP_INDEX_TEST_STATIC_ROOT=str(root))
    env.pop("PYTHONDONTWRITEBYTECODE")
    result = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return root

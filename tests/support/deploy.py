"""Deployment files as data, and the means to run the commands they run: the environment
compose gives the app, bounded child processes, plain HTTP to a local server."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.data import ROOT
from tests.support.database import database_url
from tests.support.redis import TEST_REDIS_URL

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


def app_env(service: dict[str, Any], **overrides: str) -> dict[str, str]:
    """A compose service's environment with the local test services in place of its
    hostnames, and none of the test run's own Django settings leaking in."""
    leaking = ("DJANGO_", "MCP_INDEX_", "DATABASE", "CELERY", "REDIS", "PROMETHEUS", "GUNICORN",
               "WEB_CONCURRENCY", "TEST_", "LOG_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(leaking)}
    env.update({key: str(value) for key, value in service.get("environment", {}).items()})
    env.update(CELERY_BROKER_URL=TEST_REDIS_URL, REDIS_URL=TEST_REDIS_URL,
               PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONDONTWRITEBYTECODE="1")
    env.update(overrides)
    return env


def run_migrate(compose_cfg: dict[str, Any], name: str) -> subprocess.CompletedProcess[str]:
    """compose's one-shot `migrate` service against database `name`."""
    service = compose_cfg["services"]["migrate"]
    return subprocess.run(service["command"], cwd=ROOT, env=app_env(service, DATABASE_URL=database_url(name)),
                          capture_output=True, text=True, timeout=180, check=False)


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

"""The app served for real: config.wsgi under gunicorn on a loopback port, production settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.data import ROOT
from tests.support.network import free_port
from tests.support.redis import TEST_REDIS_URL

START_TIMEOUT = 30.0


class Gunicorn:
    """config.wsgi (or `app`, with more gunicorn `args`) under gunicorn with production settings
    (DEBUG off) and the given env."""

    def __init__(self, log_path: Path, env: dict[str, str], workers: int = 1, *,
                 app: str = "config.wsgi:application", args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "ops-test", "MCP_INDEX_JWT_PRIVATE_KEY": "44" * 32,
            "DJANGO_SECURE_COOKIES": "0", "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "MCP_INDEX_OWNERSHIP_CHECKS": "0",
            "REDIS_URL": TEST_REDIS_URL, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
            **env,
        }
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--timeout", "60", "--graceful-timeout", "2", *args],
            cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        """Until /healthz answers (it touches nothing else, so it works with dead dependencies)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not start:\n{self.output()}")

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=20, **kw)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()

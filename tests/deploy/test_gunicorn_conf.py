"""deploy/gunicorn.conf.py: what the environment turns into (the server itself runs in
test_commands)."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.deploy import DEPLOY

KNOBS = ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_BIND", "PORT",
         "GUNICORN_MAX_REQUESTS", "GUNICORN_ACCESS_LOG", "FORWARDED_ALLOW_IPS", "LOG_LEVEL")


def load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> dict[str, Any]:
    for name in KNOBS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = load(monkeypatch, tmp_path)
    cpus = len(os.sched_getaffinity(0))
    assert conf["workers"] == min(2 * cpus + 1, 8)
    assert (conf["threads"], conf["worker_class"]) == (1, "sync")
    assert conf["bind"] == "0.0.0.0:8000"
    assert conf["preload_app"] is True
    assert conf["timeout"] == 60 and conf["graceful_timeout"] == 30
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (2000, 200)
    assert conf["accesslog"] is None and conf["errorlog"] == "-"
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert conf["control_socket_disable"] is True
    assert conf["worker_tmp_dir"] == "/dev/shm"
    assert conf["loglevel"] == "info"


def test_environment_knobs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = load(monkeypatch, tmp_path, WEB_CONCURRENCY="5", GUNICORN_THREADS="4", PORT="9000",
                GUNICORN_TIMEOUT="90", GUNICORN_ACCESS_LOG="1", FORWARDED_ALLOW_IPS="*",
                LOG_LEVEL="WARNING", GUNICORN_MAX_REQUESTS="500")
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (5, 4, "gthread")
    assert conf["bind"] == "0.0.0.0:9000"
    assert conf["timeout"] == 90 and conf["accesslog"] == "-"
    assert conf["forwarded_allow_ips"] == "*" and conf["loglevel"] == "warning"
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (500, 50)
    assert load(monkeypatch, tmp_path, GUNICORN_BIND="127.0.0.1:1234", WEB_CONCURRENCY="")["bind"] \
        == "127.0.0.1:1234"


def test_metrics_directory_is_created_and_emptied(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "gauge_live_all_123.db").write_bytes(b"x")
    (metrics / "keep.txt").write_text("not ours")
    load(monkeypatch, tmp_path)
    assert sorted(p.name for p in metrics.iterdir()) == ["keep.txt"]


def test_metrics_directory_defaults_when_unset_or_empty(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    load(monkeypatch, tmp_path, PROMETHEUS_MULTIPROC_DIR="")
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "mcp-index-metrics")
    assert (tmp_path / "mcp-index-metrics").is_dir()


def test_child_exit_marks_the_worker_dead(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = load(monkeypatch, tmp_path)
    dead: list[int] = []
    monkeypatch.setitem(conf["child_exit"].__globals__, "multiprocess",
                        SimpleNamespace(mark_process_dead=dead.append))
    conf["child_exit"](None, SimpleNamespace(pid=4242))
    assert dead == [4242]
    # Without prometheus-client installed the hook is a no-op.
    monkeypatch.setitem(conf["child_exit"].__globals__, "multiprocess", None)
    conf["child_exit"](None, SimpleNamespace(pid=4243))
    assert dead == [4242]

"""gunicorn settings; every deployment runs
`gunicorn -c deploy/gunicorn.conf.py config.wsgi:application`.

The app is synchronous Django whose requests wait on PostgreSQL and Redis (milliseconds) and,
on publish, on outbound ownership and proof checks (up to MCP_INDEX_OWNERSHIP_TIMEOUT_SECONDS,
30 s by default). Knobs, all optional:

| Variable                  | Default                    | Why                                        |
|---------------------------|----------------------------|--------------------------------------------|
| WEB_CONCURRENCY           | 2 x CPUs + 1, at most 8    | worker processes; set it in containers     |
| GUNICORN_THREADS          | 1 (sync workers)           | >1: gthread, a slow publish holds a thread |
| GUNICORN_TIMEOUT          | 60                         | above the 30 s outbound limits of publish  |
| GUNICORN_GRACEFUL_TIMEOUT | 30                         | drain time on shutdown and rolling updates |
| GUNICORN_BIND             | 0.0.0.0:$PORT (PORT=8000)  |                                            |
| GUNICORN_MAX_REQUESTS     | 2000 (+ up to 10 % jitter) | recycles workers to bound memory growth    |
| GUNICORN_KEEPALIVE        | 75                         | gthread only: above usual LB idle timeouts |
| GUNICORN_ACCESS_LOG       | off                        | the app logs each request itself           |
| FORWARDED_ALLOW_IPS       | 127.0.0.1,::1              | proxies trusted for X-Forwarded-Proto      |
| PROMETHEUS_MULTIPROC_DIR  | /tmp/mcp-index-metrics     | per-process metric files, emptied at start |

Database connections per pod = workers x threads (CONN_MAX_AGE keeps them open): budget them
against max_connections, see docs/deploy.md.
"""

from __future__ import annotations

import glob
import os
import tempfile
from typing import Any

try:
    from prometheus_client import multiprocess
except ImportError:  # metrics not installed: nothing to clean up when a worker exits
    multiprocess = None


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _default_workers() -> int:
    # sched_getaffinity honours cpusets (docker --cpuset-cpus); CPU quotas are not visible,
    # which is why containers should set WEB_CONCURRENCY explicitly.
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(2 * cpus + 1, 8)


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_env_int('PORT', 8000)}"
workers = _env_int("WEB_CONCURRENCY", _default_workers())
threads = _env_int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

# Import Django once in the master: workers fork with the app loaded (less memory, faster
# restarts) and a broken configuration stops the master instead of looping worker boots.
preload_app = True

timeout = _env_int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 75)
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The heartbeat file lives in memory: a disk-backed /tmp can stall workers, and the root
# filesystem is read-only in the Helm chart.
_SHM = "/dev/shm"  # noqa: S108 - gunicorn makes its heartbeat file there with mkstemp
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
# gunicorn >= 25 opens a control socket under $HOME; containers run with no writable home.
control_socket_disable = True

accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "").lower() in ("1", "true", "on") else None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

def _fresh_metrics_dir() -> str:
    """Prometheus multiprocess mode: each process writes its samples to files in this
    directory and /metrics sums them. It must exist, without a previous run's files, before
    the app is imported, which with preload_app is before any server hook runs."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.path.join(
        tempfile.gettempdir(), "mcp-index-metrics"
    )
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)
    return path


metrics_dir = _fresh_metrics_dir()


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges so /metrics does not report them forever."""
    if multiprocess is not None:
        multiprocess.mark_process_dead(worker.pid)

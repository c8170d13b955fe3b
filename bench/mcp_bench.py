"""MCP `tools/call` latency under gunicorn, and what serving /mcp costs the plain API.

    make bench-mcp                      # both deployments, results printed as Markdown
    python bench/mcp_bench.py --modes wsgi --calls 300

Data: the official registry snapshot (shared/data, 2,435 versions of 949 servers) imported into
the database `mcp_index_bench_mcp` once (`--reload` imports it again). For each deployment:

- `wsgi`: production's `gunicorn -c deploy/gunicorn.conf.py config.wsgi:application` (sync
  workers, the MCP endpoint inside through a2wsgi: serving/mcp/wsgi.py);
- `asgi`: the same config with `-k uvicorn_worker.UvicornWorker config.asgi:application` (an
  ASGI router: MCP to the SDK app, the rest to Django's ASGI handler);

with WEB_CONCURRENCY=2 (this machine has 2 cores), DEBUG off, rate limits on, response cache
off. Per tool: 20 untimed calls, then `--calls` sequential calls on one keep-alive connection
(p50/p99 of their wall time), each answer checked (200, no error, structured content). Then
wrk (`-t2 -c16 -d15s`) on `/_bench/floor` and `/v0.1/servers` for requests/s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import wrk  # noqa: E402
from tests.support.data import SHARED  # noqa: E402

DATABASE = "mcp_index_bench_mcp"
SNAPSHOT = SHARED / "data" / "official-registry-2025-12-18.json"
PG = "postgres://postgres@127.0.0.1:5432/"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
           "MCP-Protocol-Version": "2025-06-18"}
MODES = {
    "wsgi": ["config.wsgi:application"],
    "asgi": ["-k", "uvicorn_worker.UvicornWorker", "config.asgi:application"],
}
# Django under ASGI runs each request's sync code in a thread of its own, and with persistent
# connections each thread keeps one open: 16 wrk connections exhausted PostgreSQL's
# max_connections (500s, "too many clients") in the first run. Django's advice for ASGI is
# CONN_MAX_AGE=0, so the ASGI rows use it; WSGI keeps production's default.
MODE_ENV = {"wsgi": {}, "asgi": {"DATABASE_CONN_MAX_AGE": "0"}}


def dataset(reload: bool) -> None:
    env = {**os.environ, "DATABASE_URL": PG + DATABASE, "DJANGO_DEBUG": "1"}
    with psycopg.connect(PG + "postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if exists and not reload:
            return
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "import_servers", str(SNAPSHOT), "--origin", "official"],
                   cwd=ROOT, env=env, check=True)


class Server:
    """gunicorn with the production config, in its own process group."""

    def __init__(self, mode: str, log: Path) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
               "DATABASE_URL": PG + DATABASE, "DJANGO_DEBUG": "0",
               "DJANGO_SECRET_KEY": "bench-" + "x" * 40, "MCP_INDEX_JWT_PRIVATE_KEY": "22" * 32,
               "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_SSL_REDIRECT": "0",
               "LOG_LEVEL": "WARNING", "REDIS_URL": "redis://127.0.0.1:6379/9",
               "MCP_INDEX_RATE_LIMITS": "1", "MCP_INDEX_RATE_LIMIT_ANON": "1000000000/s",
               "MCP_INDEX_RESPONSE_CACHE": "0", "MCP_INDEX_BENCH_FLOOR": "1",
               "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "2",
               **MODE_ENV[mode]}
        (ROOT / "staticfiles").mkdir(exist_ok=True)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", *MODES[mode]],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/_bench/floor", timeout=2).status_code == 200:
                    time.sleep(2)  # the second worker
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        raise SystemExit(f"gunicorn did not start; see {log}")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)


def sample_names() -> tuple[str, str]:
    """A server with an npm package, and one with a remote, from the snapshot."""
    entries = json.loads(SNAPSHOT.read_text())
    packaged = next(e["server"]["name"] for e in entries if any(
        p.get("registryType") == "npm" for p in e["server"].get("packages") or []))
    remote = next(e["server"]["name"] for e in entries if e["server"].get("remotes"))
    return packaged, remote


def tool_calls() -> dict[str, dict[str, Any]]:
    packaged, _ = sample_names()
    return {
        "search_servers": {"query": "postgres", "limit": 10},
        "get_server": {"name": packaged},
        "get_install_config": {"name": packaged, "client": "vscode"},
    }


def latency(base: str, tool: str, args: dict[str, Any], calls: int) -> dict[str, float]:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": tool, "arguments": args}}
    times: list[float] = []
    with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as client:
        for i in range(20 + calls):
            start = time.perf_counter()
            response = client.post("/mcp", json=body)
            elapsed = (time.perf_counter() - start) * 1000
            result = response.json().get("result") if response.status_code == 200 else None
            if not result or result.get("isError") or "structuredContent" not in result:
                raise SystemExit(f"{tool}: {response.status_code} {response.text[:300]}")
            if i >= 20:
                times.append(elapsed)
    times.sort()
    return {"p50": statistics.median(times), "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
            "mean": statistics.fmean(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="wsgi,asgi")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--duration", default="15s")
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()
    dataset(args.reload)
    out = Path(tempfile.mkdtemp(prefix="mcp-bench-"))
    print("| deployment | search_servers p50 / p99 ms | get_server p50 / p99 ms | "
          "get_install_config p50 / p99 ms | floor req/s | /v0.1/servers req/s |")
    print("|---|---|---|---|---|---|", flush=True)
    for mode in args.modes.split(","):
        server = Server(mode, out / f"{mode}-gunicorn.log")
        try:
            lat = {tool: latency(server.base, tool, a, args.calls) for tool, a in tool_calls().items()}
            rps = {path: wrk.run(server.base + path, duration=args.duration, connections=16,
                                 threads=2, out=out / f"{mode}-{path.strip('/').replace('/', '-')}.txt")
                   for path in ("/_bench/floor", "/v0.1/servers")}
        finally:
            server.stop()
        cells = [f"{lat[t]['p50']:.2f} / {lat[t]['p99']:.2f}" for t in lat]
        cells += [f"{r.rps:,.0f}" + (f" INVALID ({r.invalid})" if r.invalid else "")
                  for r in rps.values()]
        print(f"| {mode} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nraw reports and logs: {out}")


if __name__ == "__main__":
    main()

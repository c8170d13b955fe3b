"""Read-API benchmark against the floor: `make bench` (see bench/RESULTS.md, "How to run").

For each dataset size (66k and 660k versions, databases mcp_index_bench and
mcp_index_bench660) it serves the app with `gunicorn -c deploy/gunicorn.conf.py` on loopback
with production settings, and runs `wrk -t2 -c32 --latency` against the floor (a constant
body, bench/floor.py) and five read endpoints, twice: cold (MCP_INDEX_RESPONSE_CACHE=0, every
request reaches PostgreSQL) and warm (response cache on, a dedicated Redis db flushed first).
Before each measured run a URL gets a few checked requests and an untimed priming run (every
worker has served it; warm, it is cached). Each endpoint is reported as a ratio of the floor's
requests/s in the same run, with the issue's targets checked, and with its database
transactions per request (pg_stat_database), which shows that cold requests reach PostgreSQL
and warm ones do not. Raw wrk reports go to bench/out/; any non-2xx makes a row INVALID.

Environment (or the matching options): BENCH_SIZES=66k,660k  DURATION=30s  WEB_CONCURRENCY=4
SKIP_LOAD=1 (never load; by default a missing or wrong-sized dataset is loaded) FORCE_LOAD=1
BENCH_REDIS_URL=redis://127.0.0.1:6379/9  BENCH_PG=postgres://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import wrk  # noqa: E402

OUT = ROOT / "bench" / "out"
# Targets as shares of the bare floor (the same bytes from a Django view with no middleware).
CACHED_TARGET = 0.80


@dataclass(frozen=True)
class Size:
    """A dataset and the targets that apply to it."""

    label: str
    versions: int
    database: str
    uncached_list_get: float  # uncached list and get: at least this share of the bare floor
    uncached_search: float | None  # uncached search (set at 660k only)


SIZES = {
    "66k": Size("66k", 66_000, "mcp_index_bench", 0.40, None),
    "660k": Size("660k", 660_000, "mcp_index_bench660", 0.30, 0.15),
}
# (key, label); the floor first. The list/get target covers every list and get row.
ENDPOINTS = [
    ("floor", "floor (constant body)"),
    ("list", "list first page"),
    ("deep", "list deep cursor (~90%)"),
    ("search", "search `github`, limit=30"),
    ("get", "get latest"),
    ("catalog", "catalog list (/c/team)"),
]
LIST_GET = ("list", "deep", "get", "catalog")
BARE = "bare:"  # results key prefix of an endpoint's bare floor


@dataclass(frozen=True)
class Measurement:
    """One endpoint in one mode: wrk's numbers plus what the database and gunicorn did."""

    result: wrk.WrkResult
    queries_per_request: float
    worker_restarts: int


def pg(database: str) -> str:
    return os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432") + "/" + database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- datasets ---

def dataset_ready(size: Size) -> bool:
    try:
        with psycopg.connect(pg(size.database)) as conn:
            count = conn.execute("SELECT count(*) FROM registry_serverversion").fetchone()
            team = conn.execute("SELECT count(*) FROM curation_catalog WHERE slug = 'team'").fetchone()
    except psycopg.Error:
        return False
    return bool(count and team and count[0] == size.versions and team[0] == 1)


def dataset_load(size: Size) -> None:
    print(f"loading {size.versions} versions into {size.database} …", flush=True)
    env = {**os.environ, "DATABASE_URL": pg(size.database), "DJANGO_SETTINGS_MODULE": "config.settings"}
    command = [sys.executable, str(ROOT / "bench" / "load_dataset.py"), "--generate",
               str(size.versions), "--recreate"]
    if subprocess.run(command, env=env, cwd=ROOT, check=False).returncode:
        raise SystemExit(f"loading {size.database} failed")


def dataset_facts(size: Size) -> dict[str, Any]:
    with psycopg.connect(pg(size.database)) as conn:
        def one(sql: str) -> Any:
            row = conn.execute(sql).fetchone()
            return row[0] if row else None
        return {
            "versions": one("SELECT count(*) FROM registry_serverversion"),
            "servers": one("SELECT count(*) FROM registry_serverversion WHERE is_latest"),
            "deleted": one("SELECT count(*) FROM registry_serverversion WHERE status = 'deleted'"),
            "remote_urls": one("SELECT count(*) FROM registry_remoteurl"),
            "catalog_servers": one("SELECT count(DISTINCT name) FROM curation_catalogentry "
                                   "WHERE state = 'included'"),
            "catalog_versions": one("SELECT count(*) FROM curation_catalogentry "
                                    "WHERE state = 'included'"),
            "db_size": one("SELECT pg_size_pretty(pg_database_size(current_database()))"),
            "sv_size": one("SELECT pg_size_pretty(pg_total_relation_size('registry_serverversion'))"),
            "postgres": one("SHOW server_version"),
        }


def cursor_after(name: str, version: str) -> str:
    """The API's opaque cursor (serving.query.encode_cursor) for a page after a row."""
    raw = json.dumps([name, version], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def endpoint_paths(size: Size) -> dict[str, str]:
    with psycopg.connect(pg(size.database)) as conn:
        deep = conn.execute(
            "SELECT name, version FROM registry_serverversion WHERE status <> 'deleted' "
            "ORDER BY name, version OFFSET (SELECT count(*) * 9 / 10 FROM registry_serverversion "
            "WHERE status <> 'deleted') LIMIT 1").fetchone()
        latest = conn.execute(  # the middle one, in name order, of servers with 3+ versions
            "WITH s AS (SELECT name FROM registry_serverversion GROUP BY name "
            "HAVING count(*) >= 3 AND bool_or(is_latest AND status <> 'deleted')) "
            "SELECT name FROM s ORDER BY name OFFSET (SELECT count(*) / 2 FROM s) LIMIT 1"
        ).fetchone()
    assert deep and latest, "dataset is empty"
    return {
        "floor": "/_bench/floor",
        "list": "/v0.1/servers",
        "deep": "/v0.1/servers?cursor=" + cursor_after(*deep),
        "search": "/v0.1/servers?search=github&limit=30",
        "get": f"/v0.1/servers/{quote(latest[0], safe='')}/versions/latest",
        "catalog": "/c/team/v0.1/servers",
    }


# --- the server under test ---

class Gunicorn:
    """`gunicorn -c deploy/gunicorn.conf.py bench.wsgi:application` (the production application
    plus the bare floor, bench/wsgi.py) in its own process group."""

    def __init__(self, size: Size, cached: bool, workers: int, redis_url: str, log: Path,
                 bare_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.workers = workers
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": pg(size.database),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-" + "x" * 32,
            "MCP_INDEX_JWT_PRIVATE_KEY": "22" * 32,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": redis_url,
            # Limits on, as in production (one Redis round trip per request), with a quota
            # that 32 connections from one address never reach.
            "MCP_INDEX_RATE_LIMITS": "1",
            "MCP_INDEX_RATE_LIMIT_ANON": "1000000000/s",
            "MCP_INDEX_RESPONSE_CACHE": "1" if cached else "0",
            "MCP_INDEX_BENCH_FLOOR": "1",
            "MCP_INDEX_BENCH_BARE_DIR": str(bare_dir),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        (ROOT / "staticfiles").mkdir(exist_ok=True)  # whitenoise warns without STATIC_ROOT
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                 "bench.wsgi:application"], cwd=ROOT, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        answered: float | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.proc.returncode}); see {self.log}")
            try:
                with urllib.request.urlopen(self.base + "/_bench/floor", timeout=5) as response:
                    if response.status == 200 and answered is None:
                        answered = time.monotonic()
            except OSError:
                pass
            # Every worker booted (per gunicorn's log; 15 s at most if its log says otherwise).
            if answered is not None and (self.boots() >= self.workers
                                         or time.monotonic() - answered > 15):
                time.sleep(1)  # the last worker to boot may still be loading the app
                return self
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer /_bench/floor within 60 s; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group: master and workers
        try:
            self.proc.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def boots(self) -> int:
        return self.log.read_text(errors="replace").count("Booting worker")


def warm_up(url: str, key: str, count: int) -> None:
    """A few sequential requests; each must be a 200 with the expected shape."""
    for _ in range(count):
        with urllib.request.urlopen(url, timeout=60) as response:
            body = json.loads(response.read())
        if key in ("list", "deep", "search", "catalog") and not body.get("servers"):
            raise SystemExit(f"{url} answered an empty list")
        if key == "get" and "server" not in body:
            raise SystemExit(f"{url} answered no server")


def transactions(database: str) -> int:
    """Committed + rolled back transactions of a database (each autocommit query is one)."""
    with psycopg.connect(pg("postgres")) as conn:  # not the measured database itself
        row = conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                           "WHERE datname = %s", [database]).fetchone()
    return int(row[0]) if row else 0


def _run(server: Gunicorn, size: Size, url: str, key: str, args: argparse.Namespace, raw: Path
         ) -> Measurement:
    """Checked warm-up, an untimed priming run, then the measured wrk run of one URL."""
    before, boots = transactions(size.database), server.boots()
    warm_up(url, key, args.warmup)
    # Untimed load first: every worker has served this URL (and, warm, it is cached).
    primed = wrk.run(url, duration=args.prime, connections=args.connections,
                     threads=args.threads, out=raw.with_suffix(".prime.txt"))
    result = wrk.run(url, duration=args.duration, connections=args.connections,
                     threads=args.threads, out=raw)
    time.sleep(args.settle)  # idle backends publish their statistics within 10 s
    served = args.warmup + primed.requests + result.requests
    queries = (transactions(size.database) - before) / served
    return Measurement(result, queries, server.boots() - boots)


def measure(size: Size, cached: bool, paths: dict[str, str], args: argparse.Namespace,
            stamp: str) -> dict[str, Measurement]:
    """Every endpoint, each followed by its bare floor (the same bytes, no middleware)."""
    mode = "warm" if cached else "cold"
    redis.Redis.from_url(args.redis_url).flushdb()
    results: dict[str, Measurement] = {}
    log = OUT / f"{stamp}-{size.label}-{mode}-gunicorn.log"
    bare_dir = OUT / f"{stamp}-{size.label}-{mode}-bare"
    bare_dir.mkdir(parents=True, exist_ok=True)
    with Gunicorn(size, cached, args.workers, args.redis_url, log, bare_dir) as server:
        for key, label in ENDPOINTS:
            url = server.base + paths[key]
            runs = [(key, url, label)]
            if key != "floor":
                with urllib.request.urlopen(url, timeout=60) as response:
                    (bare_dir / f"{key}.body").write_bytes(response.read())
                runs.append((BARE + key, f"{server.base}/_bench/bare/{key}", "  bare floor"))
            for name, target, shown in runs:
                raw = OUT / f"{stamp}-{size.label}-{mode}-{name.replace(':', '-')}.txt"
                m = results[name] = _run(server, size, target, key, args, raw)
                result = m.result
                flag = f"  !!! INVALID: {result.invalid}" if result.invalid else ""
                print(f"  {size.label} {mode:4} {shown:28} {result.rps:9.1f} req/s  "
                      f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
                      f"{m.queries_per_request:4.2f} q/req{flag}", flush=True)
                if result.invalid:
                    print(f"\n!!! {size.label} {mode} {shown}: {result.invalid} — this row is "
                          f"INVALID (raw report: {raw.relative_to(ROOT)})\n", file=sys.stderr,
                          flush=True)
    return results


# --- report ---

def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _share(m: Measurement | None, floor: Measurement | None) -> float | None:
    if m is None or floor is None or m.result.invalid or floor.result.invalid or not floor.result.rps:
        return None
    return m.result.rps / floor.result.rps


def _cells(results: dict[str, Measurement], key: str) -> list[str]:
    m = results.get(key)
    if m is None:
        return ["—"] * 7
    r = m.result
    if r.invalid:
        return [f"**INVALID: {r.invalid}**", "", "", "", "", "", ""]
    bare = results.get(BARE + key)
    shares = [_share(m, results.get("floor")), _share(m, bare)]
    return [f"{r.rps:.1f}", f"{r.p50_ms:.2f} ms", f"{r.p99_ms:.2f} ms",
            f"{bare.result.rps:.0f}" if bare and not bare.result.invalid else "—",
            *(_pct(v) if v is not None else "—" for v in shares), f"{m.queries_per_request:.2f}"]


def ratio(results: dict[str, Measurement], key: str) -> float | None:
    """An endpoint's requests/s over its bare floor's; None when either is invalid or missing."""
    return _share(results.get(key), results.get(BARE + key))


def target_lines(size: Size, cold: dict[str, Measurement], warm: dict[str, Measurement]
                 ) -> list[str]:
    checks: list[tuple[str, dict[str, Measurement], tuple[str, ...], float]] = []
    if warm:
        checks.append(("cached reads (warm)", warm, tuple(k for k, _ in ENDPOINTS[1:]),
                       CACHED_TARGET))
    if cold:
        checks.append(("uncached list and get (cold)", cold, LIST_GET, size.uncached_list_get))
        if size.uncached_search is not None:
            checks.append(("uncached search (cold)", cold, ("search",), size.uncached_search))
    lines = []
    for title, results, keys, floor_share in checks:
        values = {k: ratio(results, k) for k in keys}
        bad = [k for k, v in values.items() if v is None or v < floor_share]
        numbers = ", ".join(f"{k} {_pct(v) if v is not None else 'INVALID'}"
                            for k, v in values.items())
        verdict = "PASS" if not bad else "FAIL"
        lines.append(f"- **{verdict}** {title} ≥ {_pct(floor_share)} of the bare floor: {numbers}")
    return lines


def render(size: Size, facts: dict[str, Any], cold: dict[str, Measurement],
           warm: dict[str, Measurement], meta: dict[str, Any]) -> str:
    out = [
        f"### {size.versions:,} versions — {meta['when']}",
        "",
        f"Commit `{meta['commit']}`; {meta['cpus']} CPUs, load average {meta['load_before']} "
        f"before, {meta['load_after']} after; PostgreSQL {facts['postgres']}; "
        f"`gunicorn -c deploy/gunicorn.conf.py` with WEB_CONCURRENCY={meta['workers']}; "
        f"`wrk -t{meta['threads']} -c{meta['connections']} -d{meta['duration']} --latency`.",
        f"Dataset `{size.database}`: {facts['versions']:,} versions of {facts['servers']:,} servers "
        f"({facts['deleted']:,} deleted), {facts['remote_urls']:,} remote URLs; catalog `team` "
        f"includes {facts['catalog_servers']:,} servers ({facts['catalog_versions']:,} versions); "
        f"database {facts['db_size']} (server versions {facts['sv_size']}).",
        "",
        "Each mode: req/s, p50, p99, the bare floor's req/s for the same bytes (a Django view "
        "with no middleware, same gunicorn, measured right after), the share of the middleware "
        "floor (`/_bench/floor`), the share of the bare floor, database transactions per request.",
        "",
        "| endpoint | cold req/s | p50 | p99 | bare | /mw floor | /bare | q/req "
        "| warm req/s | p50 | p99 | bare | /mw floor | /bare | q/req |",
        "|---|" + "---:|" * 14,
    ]
    for key, label in ENDPOINTS:
        row = _cells(cold, key) + _cells(warm, key)
        out.append(f"| {label} | " + " | ".join(row) + " |")
    restarts = {f"{mode} {k}": m.worker_restarts for mode, res in (("cold", cold), ("warm", warm))
                for k, m in res.items() if m.worker_restarts}
    out += ["", "q/req: database transactions per request (pg_stat_database), ~0 when served "
            "from the response cache."]
    missed = [f"{k} {m.queries_per_request:.2f}" for k, m in warm.items()
              if k != "floor" and not k.startswith(BARE) and m.queries_per_request > 0.05]
    if missed:
        out.append("**Warm requests reached PostgreSQL** (q/req: " + ", ".join(missed) + "): the "
                   "response cache did not serve them, so these warm rows measure uncached reads.")
    if restarts:
        out.append("Worker restarts during a run (gunicorn max_requests): "
                   + ", ".join(f"{k} {v}" for k, v in restarts.items()) + ".")
    out += ["", *target_lines(size, cold, warm), ""]
    return "\n".join(out)


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()
    return done.stdout.strip() + ("+dirty" if dirty else "")


def _load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Read-API benchmark against the floor.")
    parser.add_argument("--sizes", default=env("BENCH_SIZES", "66k,660k"),
                        help="comma-separated: " + ", ".join(SIZES))
    parser.add_argument("--modes", default=env("BENCH_MODES", "cold,warm"))
    parser.add_argument("--duration", default=env("DURATION", "30s"))
    parser.add_argument("--connections", type=int, default=int(env("CONNECTIONS", "32")))
    parser.add_argument("--threads", type=int, default=int(env("THREADS", "2")))
    parser.add_argument("--workers", type=int, default=int(env("WEB_CONCURRENCY", "4")))
    parser.add_argument("--warmup", type=int, default=3,
                        help="sequential requests per URL, checked, before wrk")
    parser.add_argument("--prime", default=env("PRIME", "2s"),
                        help="untimed wrk run per URL before the measured one")
    parser.add_argument("--settle", type=float, default=11.0,
                        help="seconds after each run (statistics, and a pause between runs)")
    parser.add_argument("--redis-url", default=env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--skip-load", action="store_true", default=env("SKIP_LOAD", "") == "1")
    parser.add_argument("--force-load", action="store_true", default=env("FORCE_LOAD", "") == "1")
    args = parser.parse_args()
    sizes = [SIZES[s.strip()] for s in args.sizes.split(",") if s.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    OUT.mkdir(exist_ok=True)
    wrk.ensure_wrk()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = [f"## Read API against the floor — run {stamp}", ""]
    invalid = 0
    for size in sizes:
        if args.force_load or (not args.skip_load and not dataset_ready(size)):
            dataset_load(size)
        if not dataset_ready(size):
            raise SystemExit(f"{size.database} does not hold {size.versions} versions and the "
                             f"team catalog (run without SKIP_LOAD=1 to load it)")
        facts, paths = dataset_facts(size), endpoint_paths(size)
        meta = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": git_commit(),
                "cpus": os.cpu_count(), "load_before": _load(), "workers": args.workers,
                "threads": args.threads, "connections": args.connections,
                "duration": args.duration}
        cold = measure(size, False, paths, args, stamp) if "cold" in modes else {}
        warm = measure(size, True, paths, args, stamp) if "warm" in modes else {}
        meta["load_after"] = _load()
        invalid += sum(bool(m.result.invalid) for res in (cold, warm) for m in res.values())
        section = render(size, facts, cold, warm, meta)
        print("\n" + section, flush=True)
        report.append(section)
    path = OUT / f"read-bench-{stamp}.md"
    path.write_text("\n".join(report))
    print(f"report: {path.relative_to(ROOT)}")
    if invalid:
        print(f"!!! {invalid} INVALID row(s): non-2xx responses or timeouts; see the tables above",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

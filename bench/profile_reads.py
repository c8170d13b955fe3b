"""Where an uncached read spends its time, in-process (Django test client, no network).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_bench \\
        .venv/bin/python bench/profile_reads.py [--requests 200] [--batches 5] [--cprofile]

For each endpoint of the read benchmark, N requests through the full middleware stack with
production settings (no response cache), timed per phase: the whole request, DRF dispatch,
the reader (queries and row decoding), the trust-summary query, JSON rendering, and the
time spent inside database calls. `--cprofile` also writes the top functions to bench/out/.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
for key, value in {"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "0",
                   "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-" + "x" * 32,
                   "MCP_INDEX_JWT_PRIVATE_KEY": "22" * 32, "LOG_LEVEL": "WARNING",
                   "DJANGO_ALLOWED_HOSTS": "testserver", "MCP_INDEX_RESPONSE_CACHE": "0",
                   "MCP_INDEX_RATE_LIMITS": "0", "MCP_INDEX_BENCH_FLOOR": "1",
                   "DJANGO_SECURE_SSL_REDIRECT": "0"}.items():
    os.environ.setdefault(key, value)

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from bench.read_bench import ENDPOINTS, Size, endpoint_paths  # noqa: E402
from curation import selectors as curation_selectors  # noqa: E402
from serving import reader, render  # noqa: E402

OUT = ROOT / "bench" / "out"


class Phases:
    """Accumulated seconds per phase; database time is charged to the innermost phase too."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.queries: dict[str, int] = defaultdict(int)
        self.stack: list[str] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.stack.append(name)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started
            self.stack.pop()

    def wrap(self, owner: Any, attr: str, name: str) -> None:
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.phase(name):
                return original(*args, **kwargs)

        setattr(owner, attr, timed)

    def db(self, execute: Callable[..., Any], sql: str, params: Any, many: bool,
           context: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            where = self.stack[-1] if self.stack else "other"
            self.seconds["db"] += elapsed
            self.seconds[f"db in {where}"] += elapsed
            self.queries[where] += 1

    def snapshot(self) -> Phases:
        copy = Phases()
        copy.seconds.update(self.seconds)
        copy.queries.update(self.queries)
        return copy

    def reset(self) -> None:
        self.seconds.clear()
        self.queries.clear()


def instrument(phases: Phases) -> None:
    phases.wrap(APIView, "dispatch", "view")
    # serving's views call these through the modules, so wrapping them there times them.
    for module, attr in ((reader, "list_page"), (reader, "server_versions"),
                         (reader, "server_version"), (curation_selectors, "catalog_resolve")):
        phases.wrap(module, attr, "selector")
    # render.py calls these through its module globals, so wrapping them there times them.
    phases.wrap(render, "trust_meta_for_versions", "trust")
    phases.wrap(render, "list_json", "render")
    phases.wrap(render, "entry_json", "render")


def report(label: str, phases: Phases, count: int) -> str:
    s = phases.seconds
    per = {k: v / count * 1000 for k, v in s.items()}
    total = per.get("total", 0.0)
    view = per.get("view", 0.0)
    selector, trust, render = per.get("selector", 0.0), per.get("trust", 0.0), per.get("render", 0.0)
    queries = sum(phases.queries.values()) / count
    return (f"| {label} | {total:.2f} | {total - view:.2f} | {view - selector - trust - render:.2f} "
            f"| {selector:.2f} ({per.get('db in selector', 0.0):.2f}) "
            f"| {trust:.2f} ({per.get('db in trust', 0.0):.2f}) | {render:.2f} "
            f"| {per.get('db', 0.0):.2f} | {queries:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per batch")
    parser.add_argument("--batches", type=int, default=5, help="the quickest batch is reported")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated endpoint keys")
    args = parser.parse_args()
    database = connection.settings_dict["NAME"]
    os.environ.setdefault("BENCH_PG", os.environ["DATABASE_URL"].rsplit("/", 1)[0])
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT count(*) FROM registry_serverversion").fetchone()
    versions = row[0] if row else 0
    paths = endpoint_paths(Size(database, versions, database, 0, None))
    phases = Phases()
    instrument(phases)
    client = Client()
    only = {k for k in args.only.split(",") if k}
    lines = [f"{database}: {versions} versions; ms per request, the quickest of {args.batches} "
             f"batches of {args.requests} (database time in parentheses)", "",
             "| endpoint | total | middleware + Django | DRF + view glue | selector (db) "
             "| trust summary (db) | render JSON | all db | queries |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    with connection.execute_wrapper(phases.db):
        for key, label in ENDPOINTS:
            if only and key not in only:
                continue
            url = paths[key]
            for _ in range(10):  # warm the connection, caches and code paths
                assert client.get(url).status_code == 200, url
            profiler = cProfile.Profile() if args.cprofile else None
            best: Phases | None = None
            for _ in range(args.batches):  # the quickest batch: the least disturbed by others
                phases.reset()
                if profiler:
                    profiler.enable()
                for _ in range(args.requests):
                    with phases.phase("total"):
                        response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code)
                if profiler:
                    profiler.disable()
                if best is None or phases.seconds["total"] < best.seconds["total"]:
                    best = phases.snapshot()
            if profiler:
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
                OUT.mkdir(exist_ok=True)
                (OUT / f"profile-{database}-{key}.txt").write_text(text.getvalue())
            assert best is not None
            lines.append(report(label, best, args.requests))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

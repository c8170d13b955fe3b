"""Ranked search latency on a loaded bench database, against the floor, cold and warm.

    python -m bench.search_bench --database mcp_index_search_bench66 [--requests 200]

Serves the app as the read benchmark does (bench/read_bench.Gunicorn: deploy/gunicorn.conf.py,
production settings, one worker so the in-process search index is built once) and sends
sequential requests from one client:
- build: the first search of a fresh process (reads the scope's documents and vectors and
  builds its BM25 postings: what a worker pays once, and again after a write);
- floor: /_bench/floor, the middleware stack alone;
- cold: `GET /v0.1/servers?search=…` with every query string new (the judged queries with a
  distinct number appended), response cache on but never hit: ranking, rows, render;
- warm: the same queries again: answered from the response cache.
- bare floor: the bytes of one search answer from a Django handler with no middleware
  (bench/floor.py), the real floor.
Prints p50/p99 per mode and the ratios to both floors (floor p50 / mode p50: with one worker
and one client, the ratio of their request rates), plus the load average. `--ann-min 1000000000`
serves with exact vector scans; `--settle` waits for the HNSW graph of a large store.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import redis

from bench.read_bench import OUT, Gunicorn, Size

QRELS = Path(__file__).resolve().parent / "search_quality" / "qrels.json"


def timed(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as response:
        response.read()
        assert response.status == 200, url
    return (time.perf_counter() - started) * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait after the first search (the HNSW graph of a large "
                             "store is built in a background thread: exact until then)")
    parser.add_argument("--ann-min", type=int, default=None,
                        help="MCP_INDEX_ANN_MIN_VECTORS for the server (10**9: exact scans)")
    args = parser.parse_args()
    queries = [q["query"] for q in json.loads(QRELS.read_text())]
    size = Size("search", 0, args.database, 0.0, None)
    OUT.mkdir(exist_ok=True)
    bare_dir = OUT / "search-bare"
    bare_dir.mkdir(exist_ok=True)
    results: dict[str, list[float]] = {}
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
    redis.Redis.from_url(redis_url).flushdb()  # "cold" means no earlier run's cached answers
    server = Gunicorn(size, True, 1, redis_url, OUT / "search-gunicorn.log", bare_dir)
    if args.ann_min is not None:
        server.env["MCP_INDEX_ANN_MIN_VECTORS"] = str(args.ann_min)
    with server:
        base = server.base

        def search(text: str) -> str:
            return base + "/v0.1/servers?" + urlencode({"search": text, "version": "latest"})

        results["build"] = [timed(search("postgres database"))]
        time.sleep(args.settle)
        with urllib.request.urlopen(search(queries[0] + " bare"), timeout=300) as response:
            (bare_dir / "search.body").write_bytes(response.read())
        results["floor"] = [timed(base + "/_bench/floor") for _ in range(args.requests)]
        results["bare floor"] = [timed(base + "/_bench/bare/search")
                                 for _ in range(args.requests)]
        texts = [f"{queries[i % len(queries)]} {i}" for i in range(args.requests)]
        results["cold"] = [timed(search(t)) for t in texts]
        results["warm"] = [timed(search(t)) for t in texts]
    floor = statistics.median(results["floor"])
    bare = statistics.median(results["bare floor"])
    print(f"load average {os.getloadavg()}; database {args.database}; "
          f"ANN from {args.ann_min or 'the default'} vectors; settled {args.settle:.0f} s")
    print("| mode | requests | p50 | p99 | ratio to the middleware floor | to the bare floor |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode, values in results.items():
        middle = statistics.median(values)
        print(f"| {mode} | {len(values)} | {pct(values, 0.5):.1f} ms | {pct(values, 0.99):.1f} ms"
              f" | {floor / middle:.0%} | {bare / middle:.0%} |")


if __name__ == "__main__":
    main()

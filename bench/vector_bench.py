"""The semantic leg at scale: exact scan against HNSW indexes, on the real vectors.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_bench DJANGO_DEBUG=1 \\
        .venv/bin/python -m bench.vector_bench [--size 257000] [--libraries faiss,usearch]

Reads every stored embedding of the bench database (the 66k-version dataset has about 20k
distinct texts) and grows them to `--size` vectors the way the 660k dataset grows its
servers: each copy is a stored vector plus a little noise (cosine about 0.97 to its
original: the copies' texts differ only by a `-c<k>` in the name). Embedding 200k more texts
would take about 1.6 hours on this machine (35.6 texts/s, bench/RESULTS.md). The queries are
the judged queries of bench/search_quality, embedded by the real model.

For each method: build seconds (one thread), query p50/p99 in ms for the semantic leg's
depth (discovery.ranking.SEMANTIC_DEPTH), recall at that depth against the exact scan, and
the RSS the index added. `--allowed 0.3` also measures a scope that admits 30% of the vectors
(a catalog): faiss filters inside the graph search; usearch and hnswlib over-fetch x4.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from bench.search_quality.rules import QUERIES  # noqa: E402
from discovery import embedding, ranking  # noqa: E402
from discovery.models import Embedding  # noqa: E402

Search = Callable[[np.ndarray, np.ndarray | None, int], np.ndarray]


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def vectors(size: int, seed: int = 1) -> np.ndarray:
    stored = np.stack([embedding.from_bytes(bytes(v)) for v in Embedding.objects.filter(
        model=embedding.MODEL_ID).values_list("vector", flat=True).iterator(chunk_size=5000)])
    rng = np.random.default_rng(seed)
    if size <= len(stored):
        return np.ascontiguousarray(stored[:size])
    extra = stored[rng.integers(0, len(stored), size - len(stored))]
    extra = extra + rng.normal(scale=0.0128, size=extra.shape).astype(np.float32)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    return np.ascontiguousarray(np.concatenate([stored, extra]).astype(np.float32))


def exact(data: np.ndarray) -> Search:
    def search(q: np.ndarray, allowed: np.ndarray | None, k: int) -> np.ndarray:
        sims = data @ q
        if allowed is not None:
            sims = np.where(allowed, sims, -2.0)
        top = np.argpartition(-sims, k - 1)[:k]
        return top[np.argsort(-sims[top])]
    return search


def faiss_index(data: np.ndarray, m: int, ef_construction: int, ef: int) -> Search:
    import faiss

    faiss.omp_set_num_threads(1)
    index = faiss.IndexHNSWFlat(data.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(data)

    def search(q: np.ndarray, allowed: np.ndarray | None, k: int) -> np.ndarray:
        params = faiss.SearchParametersHNSW(efSearch=max(ef, k))
        bits = None
        if allowed is not None:  # as discovery.vectors: the beam widens as the filter narrows
            params.efSearch = max(ef, int(k / max(allowed.mean(), 1e-3) * 1.2))
            bits = np.packbits(allowed, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
        _, labels = index.search(q.reshape(1, -1), k, params=params)
        del bits
        return labels[0][labels[0] >= 0]
    return search


def usearch_index(data: np.ndarray, m: int, ef_construction: int, ef: int) -> Search:
    from usearch.index import Index

    index = Index(ndim=data.shape[1], metric="ip", dtype="f32", connectivity=m,
                  expansion_add=ef_construction, expansion_search=ef)
    index.add(np.arange(len(data)), data, threads=1)

    def search(q: np.ndarray, allowed: np.ndarray | None, k: int) -> np.ndarray:
        want = k if allowed is None else 4 * k
        labels = index.search(q, want, threads=1).keys.astype(np.int64)
        if allowed is not None:
            labels = labels[allowed[labels]]
        return labels[:k]
    return search


def hnswlib_index(data: np.ndarray, m: int, ef_construction: int, ef: int) -> Search:
    import hnswlib

    index = hnswlib.Index(space="ip", dim=data.shape[1])
    index.init_index(max_elements=len(data), M=m, ef_construction=ef_construction)
    index.set_num_threads(1)
    index.add_items(data, np.arange(len(data)))
    index.set_ef(ef)

    def search(q: np.ndarray, allowed: np.ndarray | None, k: int) -> np.ndarray:
        if allowed is None:
            labels, _ = index.knn_query(q, k)
            return labels[0].astype(np.int64)
        labels, _ = index.knn_query(q, k, filter=lambda label: bool(allowed[label]))
        return labels[0].astype(np.int64)
    return search


BUILDERS = {"faiss": faiss_index, "usearch": usearch_index, "hnswlib": hnswlib_index}


def timed(search: Search, queries: np.ndarray, allowed: np.ndarray | None, k: int
          ) -> tuple[list[np.ndarray], float, float]:
    found, times = [], []
    for q in queries:
        started = time.perf_counter()
        found.append(search(q, allowed, k))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return found, statistics.median(times), times[int(len(times) * 0.99) - 1]


def recall(found: list[np.ndarray], truth: list[np.ndarray], at: int | None = None) -> float:
    """Share of the exact top `at` (all of it by default) found in the same top `at`."""
    return float(np.mean([len(set(f[:at].tolist()) & set(t[:at].tolist())) / len(t[:at])
                          for f, t in zip(found, truth, strict=True)]))


def recalls(found: list[np.ndarray], truth: list[np.ndarray]) -> str:
    return " / ".join(f"{recall(found, truth, at):.3f}" for at in (10, 50, None))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=257_000)
    parser.add_argument("--libraries", default="faiss,usearch")
    parser.add_argument("--params", default="32,80,256",
                        help="M,efConstruction,efSearch sets separated by ';'")
    parser.add_argument("--allowed", type=float, default=0.3)
    args = parser.parse_args()
    depth = ranking.SEMANTIC_DEPTH
    data = vectors(args.size)
    encoder = embedding.encoder()
    assert encoder is not None, "the model did not load"
    queries = encoder.encode([q for _, q, _ in QUERIES])
    queries = np.concatenate([queries, queries + 0.0])  # twice: enough samples for p99
    allowed = np.random.default_rng(2).random(len(data)) < args.allowed
    print(f"{len(data)} vectors, {len(queries)} queries, depth {depth}, "
          f"load {os.getloadavg()}")
    truth, p50, p99 = timed(exact(data), queries, None, depth)
    truth_f, p50_f, p99_f = timed(exact(data), queries, allowed, depth)
    print(f"| exact (numpy) | - | - | {p50:.1f} / {p99:.1f} | 1.000 | {p50_f:.1f} / {p99_f:.1f}"
          f" | 1.000 | - |")
    for name in args.libraries.split(","):
        for spec in args.params.split(";"):
            m, ef_construction, ef = (int(x) for x in spec.split(","))
            gc.collect()
            before = rss_mib()
            started = time.perf_counter()
            try:
                search = BUILDERS[name](data, m, ef_construction, ef)
            except ImportError as exc:
                print(f"| {name} | not installed: {exc} |")
                break
            built = time.perf_counter() - started
            added = rss_mib() - before
            found, p50, p99 = timed(search, queries, None, depth)
            found_f, p50_f, p99_f = timed(search, queries, allowed, depth)
            print(f"| {name} M {m} efC {ef_construction} ef {ef} | {built:.1f} | {added:.0f} | "
                  f"{p50:.2f} / {p99:.2f} | {recalls(found, truth)} | "
                  f"{p50_f:.2f} / {p99_f:.2f} | {recalls(found_f, truth_f)} | "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} |")
            del search
    print(f"load {os.getloadavg()}")
    print("| method | build s | RSS added MiB | p50 / p99 ms | recall@10 / @50 / @depth | "
          f"p50 / p99 ms, {args.allowed:.0%} allowed | recall | peak RSS MiB |")


if __name__ == "__main__":
    main()

"""Does the HNSW graph change what people see? The judged queries, ranked twice end to end.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_bench660 DJANGO_DEBUG=1 \\
        .venv/bin/python -m bench.ann_agreement [--scope all]

Runs every judged query of bench/search_quality through serving.search.search_page (the one
search of every surface) with the semantic leg on an exact scan, then again on the HNSW
graph (discovery.vectors), and compares the first 10 results: how many queries get the
same 10 in the same order, the same 10 in any order, the mean overlap of the top 10, and
that overlap counting the generated copies of one server (`<name>-c<k>`) as one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ["MCP_INDEX_ANN_BACKGROUND"] = "0"
os.environ["MCP_INDEX_SEARCH_REBUILD_BACKGROUND"] = "0"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from curation.selectors import catalog_resolve  # noqa: E402
from discovery import ranking, vectors  # noqa: E402
from serving.search import search_page  # noqa: E402

QRELS = ROOT / "bench" / "search_quality" / "qrels.json"


def top10(scope_slug: str, queries: list[str]) -> tuple[list[list[str]], float]:
    scope = catalog_resolve(scope_slug)
    search_page(scope, "warm up")
    started = time.perf_counter()
    out = [[h.row.name for h in search_page(scope, q, limit=10, facets=False,
                                             highlights=False).hits] for q in queries]
    return out, (time.perf_counter() - started) / len(queries) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scope", default="all")
    args = parser.parse_args()
    queries = [q["query"] for q in json.loads(QRELS.read_text())]
    settings.MCP_INDEX_ANN_MIN_VECTORS = 10**12
    exact, exact_ms = top10(args.scope, queries)
    ranking.forget()
    settings.MCP_INDEX_ANN_MIN_VECTORS = 1
    approximate, ann_ms = top10(args.scope, queries)
    store = vectors.store(refresh=False)
    assert store._graph is not None, "the graph was not built"
    same_order = sum(a == e for a, e in zip(approximate, exact, strict=True))
    same_set = sum(set(a) == set(e) for a, e in zip(approximate, exact, strict=True))
    overlap = statistics.mean(len(set(a) & set(e)) / max(len(e), 1)
                              for a, e in zip(approximate, exact, strict=True))
    def originals(names: list[str]) -> set[str]:  # the generated copies' original servers
        return {re.sub(r"-c\d+$", "", n) for n in names}

    base_overlap = statistics.mean(
        len(originals(a) & originals(e)) / max(len(originals(e)), 1)
        for a, e in zip(approximate, exact, strict=True))
    print(f"scope {args.scope}: {store.count} vectors, {len(queries)} queries, "
          f"load {os.getloadavg()}")
    print(f"same top 10 in the same order: {same_order}/{len(queries)}; same top 10: "
          f"{same_set}/{len(queries)}; mean top-10 overlap {overlap:.3f}; search_page "
          f"{exact_ms:.1f} ms exact vs {ann_ms:.1f} ms graph (mean, in process); overlap of "
          f"the original servers shown (copies `-c<k>` of one server counted once) "
          f"{base_overlap:.3f}")


if __name__ == "__main__":
    main()

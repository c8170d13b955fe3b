"""Search quality on the judged query set: nDCG@10, recall@10 and MRR per method and split.

    DATABASE_URL=postgres://…/mcp_index_search DJANGO_DEBUG=1 \\
        python -m bench.search_quality.evaluate [--http http://127.0.0.1:8000] [--per-query]

The database must hold the snapshot (`manage.py import_servers …official-registry….json`)
and, for the semantic rows, its embeddings (`manage.py search_index --embed`). Methods:
- substring: the standard list's substring filter over latest versions (the search before
  this work), through serving.reader;
- bm25, embeddings, fusion: serving.search.search_page with legs lexical / semantic / fusion;
- http: `GET /v0.1/servers?search=…&version=latest&limit=10` on a running server.

Metrics: nDCG@10 with gains 2^grade - 1 over the ideal ordering of every judged server;
recall@10 = relevant servers (grade >= 2) in the top 10 / min(10, relevant servers);
MRR = 1 / rank of the first relevant server (0 when none is in the top 10).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

import httpx  # noqa: E402

from bench.search_quality.evaluate_math import K, mrr, ndcg, recall  # noqa: E402
from curation.selectors import catalog_resolve  # noqa: E402
from serving import reader  # noqa: E402
from serving.query import ListQuery  # noqa: E402
from serving.search import search_page  # noqa: E402

QRELS = Path(__file__).resolve().parent / "qrels.json"


def substring(query: str) -> list[str]:
    page = reader.list_page(catalog_resolve("all"),
                            ListQuery(limit=K, search=query, version="latest"))
    return [row.name for row in page.rows]


def ranked_by(legs: str) -> Callable[[str], list[str]]:
    def run(query: str) -> list[str]:
        page = search_page(catalog_resolve("all"), query, limit=K, legs=legs)
        return [hit.row.name for hit in page.hits]
    return run


def over_http(base: str) -> Callable[[str], list[str]]:
    client = httpx.Client(base_url=base, timeout=60)

    def run(query: str) -> list[str]:
        response = client.get("/v0.1/servers", params={"search": query, "version": "latest",
                                                       "limit": K})
        response.raise_for_status()
        return [s["server"]["name"] for s in response.json()["servers"]]
    return run


def evaluate(methods: dict[str, Callable[[str], list[str]]], qrels: list[dict[str, Any]]
             ) -> tuple[dict[tuple[str, str], dict[str, float]], dict[str, dict[int, float]]]:
    table: dict[tuple[str, str], dict[str, float]] = {}
    per_query: dict[str, dict[int, float]] = {}
    for method, run in methods.items():
        per_query[method] = {}
        sums: dict[str, dict[str, float]] = {}
        for q in qrels:
            ranked = run(q["query"])
            scores = {"ndcg": ndcg(ranked, q["grades"]), "recall": recall(ranked, q["grades"]),
                      "mrr": mrr(ranked, q["grades"])}
            per_query[method][q["id"]] = scores["ndcg"]
            for split in (q["split"], "all"):
                bucket = sums.setdefault(split, {"n": 0, "ndcg": 0, "recall": 0, "mrr": 0})
                bucket["n"] += 1
                for key, value in scores.items():
                    bucket[key] += value
        for split, bucket in sums.items():
            n = bucket["n"]
            table[method, split] = {k: bucket[k] / n for k in ("ndcg", "recall", "mrr")} | {
                "n": n}
    return table, per_query


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", default="", help="base URL of a running server to query too")
    parser.add_argument("--per-query", action="store_true")
    parser.add_argument("--methods", default="substring,bm25,embeddings,fusion")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    qrels = json.loads(QRELS.read_text())
    known = {"substring": substring, "bm25": ranked_by("lexical"),
             "embeddings": ranked_by("semantic"), "fusion": ranked_by("fusion")}
    methods = {m: known[m] for m in args.methods.split(",") if m}
    if args.http:
        methods["http"] = over_http(args.http)
    table, per_query = evaluate(methods, qrels)
    print("| method | split | queries | nDCG@10 | recall@10 | MRR |")
    print("|---|---|---:|---:|---:|---:|")
    for split in ("dev", "test", "all"):
        for method in methods:
            r = table[method, split]
            print(f"| {method} | {split} | {r['n']:.0f} | {r['ndcg']:.3f} | {r['recall']:.3f} "
                  f"| {r['mrr']:.3f} |")
    if args.per_query:
        for q in qrels:
            cells = " ".join(f"{m}={per_query[m][q['id']]:.2f}" for m in methods)
            print(f"{q['split']:4} {q['kind']:8} {q['query'][:38]:38} {cells}")


if __name__ == "__main__":
    main()

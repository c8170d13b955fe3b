"""Vectors for the 660k-version dataset without embedding 200k texts (about 1.6 hours here).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_bench660 DJANGO_DEBUG=1 \\
        .venv/bin/python -m bench.fill_vectors --from mcp_index_bench

The generated copies of a server (bench/generate.py: `<name>-c<k>`) keep its title and
description, so a copy's embedded text differs from its original's only by the `c<k>` in the
name words (when it has no title). This gives each document without a vector the real vector
of a document of the same original server (from this database, or from the embedded 66k
dataset named by `--from`), plus a little noise (cosine about 0.97, what the model gives two
such texts), stored under the document's own text hash. The search documents must exist
(`manage.py search_index`). bench/RESULTS.md says which numbers were measured on these.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402

from discovery import embedding  # noqa: E402
from discovery.models import Embedding, SearchDocument  # noqa: E402

_COPY = re.compile(r"-c\d+$")


def original(name: str) -> str:
    return _COPY.sub("", name)


def known_vectors(database: str | None) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Original server name -> one real vector of it (this database first, then --from),
    and --from's vectors by text hash (the same text there: its real vector)."""
    out: dict[str, bytes] = {}
    by_hash: dict[str, bytes] = {}
    vectors = dict(Embedding.objects.filter(model=embedding.MODEL_ID)
                   .values_list("content_hash", "vector").iterator(chunk_size=5000))
    for name, key in SearchDocument.objects.values_list("name", "embed_hash").iterator(
            chunk_size=20000):
        if key in vectors:
            out.setdefault(original(name), bytes(vectors[key]))
    if database:
        params = settings.DATABASES["default"]
        with psycopg.connect(host=params["HOST"], port=params["PORT"] or 5432,
                             user=params["USER"], dbname=database) as other:
            rows = other.execute(
                "SELECT d.name, e.vector FROM discovery_searchdocument d JOIN "
                "discovery_embedding e ON e.content_hash = d.embed_hash AND e.model = %s",
                [embedding.MODEL_ID])
            for name, vector in rows:
                out.setdefault(original(name), bytes(vector))
            by_hash = {key: bytes(vector) for key, vector in other.execute(
                "SELECT content_hash, vector FROM discovery_embedding WHERE model = %s",
                [embedding.MODEL_ID])}
    return out, by_hash


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from", dest="source", default=None)
    parser.add_argument("--noise", type=float, default=0.0128)
    args = parser.parse_args()
    started = time.perf_counter()
    known, real = known_vectors(args.source)
    have = set(Embedding.objects.filter(model=embedding.MODEL_ID)
               .values_list("content_hash", flat=True))
    rng = np.random.default_rng(5)
    batch: list[Embedding] = []
    made = copied = skipped = 0
    for name, key in SearchDocument.objects.values_list("name", "embed_hash").iterator(
            chunk_size=20000):
        if key in have:
            continue
        if key in real:  # the same text was embedded in --from: its real vector
            batch.append(Embedding(content_hash=key, model=embedding.MODEL_ID, vector=real[key]))
            have.add(key)
            copied += 1
            continue
        base = known.get(original(name))
        if base is None:
            skipped += 1
            continue
        vector = embedding.from_bytes(base) + rng.normal(
            scale=args.noise, size=embedding.DIMENSIONS).astype(np.float32)
        batch.append(Embedding(content_hash=key, model=embedding.MODEL_ID,
                               vector=embedding.to_bytes(vector / np.linalg.norm(vector))))
        have.add(key)
        made += 1
        if len(batch) >= 5000:
            Embedding.objects.bulk_create(batch)
            batch = []
    Embedding.objects.bulk_create(batch)
    print(f"vectors copied={copied} made={made} without an original={skipped} "
          f"seconds={time.perf_counter() - started:.1f}")


if __name__ == "__main__":
    main()

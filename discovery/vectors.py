"""The semantic leg's vectors: every stored embedding of the model, once per process.

`VectorStore` holds all `Embedding` rows of one model in one append-only float32 matrix,
read incrementally (rows with an id above the last one read), so rebuilding a scope's search
index after a write reads no vector again; a scope maps each of its documents to a row of the
store (several documents with the same text share one). `nearest` answers a scope's query:
the `depth` most similar documents that pass the scope's filters, at or above a floor.

Two ways to answer, with the same results (a test holds them equal):
- exact: one matrix-vector product over the store (about 100 MB/s of vectors per core), fine
  to ~100k vectors;
- approximate: an HNSW graph (faiss-cpu `IndexHNSWFlat`, inner product, M 32), searched with
  the scope's allowed rows as a bitmap (faiss's `IDSelectorBitmap`), so filters apply inside
  the search and no result is lost to them. Used once the store holds
  `MCP_INDEX_ANN_MIN_VECTORS` vectors; the graph is built in a background thread
  (`MCP_INDEX_ANN_BACKGROUND`) and searches stay exact until it is ready. New vectors join
  the graph as they are read.
Why faiss, and its parameters: bench/vector_bench.py, numbers in bench/RESULTS.md.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from discovery import embedding
from discovery.models import Embedding

log = logging.getLogger(__name__)

HNSW_M = 32
EF_CONSTRUCTION = 160
EF_SEARCH = 1500  # the search beam; widened as a filter narrows (depth / allowed share)
MIN_SHARE = 0.05  # a scope admitting fewer of the store's vectors is scanned exactly
_GROW = 1.5


@dataclass(frozen=True)
class Nearest:
    """A scope's semantic matches: document positions, best first, and their cosines."""

    positions: np.ndarray
    similarities: np.ndarray
    approximate: bool


class VectorStore:
    """Every embedding of one model, as rows of one matrix (append-only, thread-safe)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._matrix = np.zeros((0, embedding.DIMENSIONS), dtype=np.float32)
        self._count = 0
        self._row_of: dict[str, int] = {}
        self._last_id = 0
        self._lock = threading.Lock()
        self._graph: _Graph | None = None
        self._graph_building = False

    @property
    def count(self) -> int:
        return self._count

    def refresh(self) -> None:
        """Read the embeddings stored since the last refresh (all of them the first time)."""
        with self._lock:
            newest = (Embedding.objects.filter(model=self.model).order_by("-id")
                      .values_list("id", flat=True).first()) or 0
            if newest < self._last_id:  # the table was emptied (a new database): start over
                self._reset()
            if newest == self._last_id:
                return
            rows = (Embedding.objects.filter(model=self.model, id__gt=self._last_id)
                    .order_by("id").values_list("id", "content_hash", "vector"))
            for vid, key, vector in rows.iterator(chunk_size=5000):
                self._last_id = vid
                if key in self._row_of:
                    continue
                self._append(key, embedding.from_bytes(bytes(vector)))
        self._maybe_graph()

    def _reset(self) -> None:
        self._matrix = np.zeros((0, embedding.DIMENSIONS), dtype=np.float32)
        self._count, self._row_of, self._last_id = 0, {}, 0
        self._graph = None

    def _append(self, key: str, vector: np.ndarray) -> None:
        if self._count == len(self._matrix):
            grown = np.zeros((max(1024, int(len(self._matrix) * _GROW)), embedding.DIMENSIONS),
                             dtype=np.float32)
            grown[: self._count] = self._matrix[: self._count]
            self._matrix = grown  # readers holding the old matrix keep a consistent copy
        self._matrix[self._count] = vector
        self._row_of[key] = self._count
        self._count += 1

    def rows_of(self, hashes: list[str]) -> np.ndarray:
        """The store row of each text hash, -1 where the text has no vector yet."""
        get = self._row_of.get
        return np.fromiter((get(h, -1) for h in hashes), dtype=np.int64, count=len(hashes))

    def _maybe_graph(self) -> None:
        if self._count < settings.MCP_INDEX_ANN_MIN_VECTORS:
            return
        graph = self._graph
        if graph is not None:
            graph.extend(self._matrix, self._count)
            return
        if self._graph_building:
            return
        self._graph_building = True
        if settings.MCP_INDEX_ANN_BACKGROUND:
            threading.Thread(target=self._build_graph, name="ann-build", daemon=True).start()
        else:
            self._build_graph()

    def _build_graph(self) -> None:
        started = time.perf_counter()
        try:
            graph = _Graph()
            graph.extend(self._matrix, self._count)
            graph.extend(self._matrix, self._count)  # rows read while it was building
            self._graph = graph
            log.info("event=ann.built vectors=%d seconds=%.1f", graph.size,
                     time.perf_counter() - started)
        except Exception:  # the exact path keeps answering; the log says why
            log.exception("event=ann.failed")
        finally:
            self._graph_building = False

    def nearest(self, query: np.ndarray, doc_rows: np.ndarray, allowed: np.ndarray, *,
                depth: int, floor: float) -> Nearest:
        """The `depth` documents most similar to `query` among `allowed` (a mask over the
        scope's documents, whose store rows are `doc_rows`), at or above `floor`."""
        usable = allowed & (doc_rows >= 0)
        present = np.zeros(self._count, dtype=bool)
        present[doc_rows[usable]] = True
        rows = np.flatnonzero(present)  # the allowed store rows, sorted
        if not len(rows):
            return Nearest(np.zeros(0, np.int64), np.zeros(0, np.float32), False)
        graph = self._graph
        approximate = (graph is not None and len(rows) > 4 * depth
                       and len(rows) >= MIN_SHARE * graph.size)
        if approximate:
            assert graph is not None
            found, sims = graph.search(query, rows, depth)
        else:
            matrix, count = self._matrix, self._count
            # A product over the whole store beats gathering most of it first.
            sims = ((matrix[:count] @ query)[rows] if len(rows) > count // 5
                    else matrix[rows] @ query)
            if len(rows) > depth:
                top = np.argpartition(-sims, depth - 1)[:depth]
                found, sims = rows[top], sims[top]
            else:
                found = rows
        row_sim = dict(zip(found.tolist(), sims.tolist(), strict=True))
        hit = np.zeros(self._count, dtype=bool)
        hit[found] = True
        candidates = np.flatnonzero(usable & hit[np.maximum(doc_rows, 0)])
        similarity = np.fromiter((row_sim[r] for r in doc_rows[candidates].tolist()),
                                 dtype=np.float32, count=len(candidates))
        keep = similarity >= floor
        candidates, similarity = candidates[keep], similarity[keep]
        order = np.lexsort((candidates, -similarity))[:depth]  # best first, ties by position
        return Nearest(candidates[order], similarity[order], approximate)


class _Graph:
    """An HNSW graph over the store's rows (labels are rows), grown as rows are added."""

    def __init__(self) -> None:
        import faiss  # loaded only where the store is large enough

        self._faiss = faiss
        faiss.omp_set_num_threads(settings.MCP_INDEX_ANN_BUILD_THREADS)
        self._index = faiss.IndexHNSWFlat(embedding.DIMENSIONS, HNSW_M,
                                          faiss.METRIC_INNER_PRODUCT)
        self._index.hnsw.efConstruction = EF_CONSTRUCTION
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def extend(self, matrix: np.ndarray, count: int) -> None:
        with self._lock:
            start = self.size
            if count > start:
                self._index.add(np.ascontiguousarray(matrix[start:count]))

    def search(self, query: np.ndarray, rows: np.ndarray, depth: int
               ) -> tuple[np.ndarray, np.ndarray]:
        """The `depth` nearest rows among `rows` (sorted store rows) and their cosines."""
        faiss = self._faiss
        with self._lock:
            size = self.size
            rows = rows[rows < size]
            bitmap = np.zeros(size, dtype=bool)
            bitmap[rows] = True
            bits = np.packbits(bitmap, bitorder="little")  # alive until the search returns
            selector = faiss.IDSelectorBitmap(size, faiss.swig_ptr(bits))
            share = max(len(rows) / max(size, 1), MIN_SHARE)
            params = faiss.SearchParametersHNSW(
                sel=selector, efSearch=max(EF_SEARCH, int(depth / share * 1.2)))
            sims, labels = self._index.search(query.reshape(1, -1).astype(np.float32), depth,
                                              params=params)
        keep = labels[0] >= 0
        return labels[0][keep].astype(np.int64), sims[0][keep]


_stores: dict[str, VectorStore] = {}
_stores_lock = threading.Lock()


def store(model: str = embedding.MODEL_ID, *, refresh: bool = True) -> VectorStore:
    """The process's store of `model`'s vectors (read up to the database's newest first,
    unless `refresh` is false: a search reads the store its index was built with)."""
    with _stores_lock:
        found = _stores.get(model)
        if found is None:
            found = _stores[model] = VectorStore(model)
    if refresh:
        found.refresh()
    return found


def forget() -> None:
    """Drop every store (the next search reads the vectors again): for tests and benchmarks."""
    with _stores_lock:
        _stores.clear()

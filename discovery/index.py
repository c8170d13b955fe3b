"""A scope's search index, built once per process and kept current without stalling reads.

An index per scope (the registry `all`, or a catalog) lives in the process: the scope's
served latest versions, their documents (discovery.models, or built in memory for a version
the refresh task has not reached yet), BM25 postings and each document's row in the vector
store (discovery.vectors). The scope's stamp (the newest version, catalog entry, document and
embedding, and the catalog's cache generation: one query of index-only aggregates) says when
it is out of date.

Rebuilding is cheap after the first build: documents are kept per version with their content
hash and their analysed terms per content hash, so only what changed is read and analysed
again, and vectors are read only once (the store is incremental). With
`MCP_INDEX_SEARCH_REBUILD_BACKGROUND` (on in production) a search that finds its index out of
date is answered from the index it has while a thread builds the new one: the answer is
marked stale (`ScopeIndex.stale`), so the response cache does not keep it, and versions the
scope no longer serves are dropped when its rows are read (serving.reader.rows_of).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import close_old_connections, connection

from curation.models import CatalogEntry, CatalogOverlay
from curation.selectors import CatalogRef
from discovery import vectors
from discovery.documents import NOTES_WEIGHT, TAG_WEIGHT, Document, document_of
from discovery.lexical import Analyzer, BM25Index
from discovery.models import Embedding, SearchDocument
from discovery.services import document_from_row
from ops import generations
from registry.models import ServerVersion, Status

log = logging.getLogger(__name__)
_DELETED = Status.DELETED.value


@dataclass(frozen=True)
class FacetColumns:
    """Per document facet values as arrays, so filters and counts are vector operations."""

    registry_types: dict[str, np.ndarray]  # value -> bool per document
    transports: dict[str, np.ndarray]
    namespaces: list[str]
    namespace_codes: np.ndarray  # index into namespaces, per document
    has_remote: np.ndarray
    has_package: np.ndarray

    @classmethod
    def of(cls, docs: list[Document]) -> FacetColumns:
        size = len(docs)
        multi: dict[str, dict[str, np.ndarray]] = {"registry_types": {}, "transports": {}}
        codes: dict[str, int] = {}
        namespace_codes = np.zeros(size, dtype=np.int32)
        for i, doc in enumerate(docs):
            for attribute in ("registry_types", "transports"):
                for value in getattr(doc, attribute):
                    column = multi[attribute].get(value)
                    if column is None:
                        column = multi[attribute][value] = np.zeros(size, dtype=bool)
                    column[i] = True
            namespace_codes[i] = codes.setdefault(doc.namespace, len(codes))
        return cls(multi["registry_types"], multi["transports"], list(codes), namespace_codes,
                   np.fromiter((d.has_remote for d in docs), dtype=bool, count=size),
                   np.fromiter((d.has_package for d in docs), dtype=bool, count=size))


@dataclass
class ScopeIndex:
    """One scope's searchable state, immutable once built."""

    stamp: tuple[Any, ...]
    ids: np.ndarray
    docs: list[Document]
    status: np.ndarray  # True where deleted
    updated: np.ndarray  # epoch seconds
    trust_until: np.ndarray  # epoch seconds, inf when none
    keys: dict[str, list[int]]
    bm25: BM25Index
    vocabulary: list[str]
    vector_rows: np.ndarray  # each document's row in the vector store, -1 without a vector
    facets: FacetColumns
    tags: list[str] = field(default_factory=list)
    built_seconds: float = 0.0
    stale: bool = False  # answered while a newer index is being built

    @property
    def has_vector(self) -> np.ndarray:
        return self.vector_rows >= 0


def _epoch(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("inf")


def scope_stamp(scope: CatalogRef) -> tuple[Any, ...]:
    """What changes whenever the scope's searchable state may have changed: one query of
    index-only aggregates (documents, vectors, and the scope's versions or catalog entries),
    plus the catalog's cache generation (overlay edits move it)."""
    # Only the models' own table names are formatted in; values go as parameters.
    aggregates = (f"SELECT (SELECT MAX(updated_at) FROM {SearchDocument._meta.db_table}), "  # noqa: S608
                  f"(SELECT MAX(id) FROM {Embedding._meta.db_table}), MAX(updated_at), MAX(id)")
    if scope.catalog is None:
        sql = f"{aggregates} FROM {ServerVersion._meta.db_table}"
        params: list[Any] = []
    else:
        sql = (f"{aggregates}, (SELECT MAX(id) FROM {CatalogOverlay._meta.db_table} "  # noqa: S608
               f"WHERE catalog_id = %s) FROM {CatalogEntry._meta.db_table} "
               "WHERE catalog_id = %s AND listed")
        params = [scope.catalog.pk, scope.catalog.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if scope.catalog is None:
        return ("all", *row)
    generation = generations.current(scope.slug)
    return (scope.slug, scope.catalog.pk, *row, generation.token if generation else None)


def _served(scope: CatalogRef) -> list[tuple[int, str, datetime, datetime | None]]:
    if scope.catalog is None:
        return [(vid, status, updated, None) for vid, status, updated in
                ServerVersion.objects.filter(is_latest=True).order_by("name")
                .values_list("id", "status", "updated_at")]
    return list(CatalogEntry.objects.filter(catalog=scope.catalog, listed=True, is_latest=True)
                .order_by("name")
                .values_list("server_version_id", "status", "updated_at", "trust_until"))


class _Documents:
    """The process's documents by version id, each with its content and embedding hashes;
    a build reads again only the rows whose content hash moved."""

    def __init__(self) -> None:
        self._by_version: dict[int, tuple[str, Document, str]] = {}
        self._used: dict[int, int] = {}  # version id -> the last build that used it
        self._builds = 0
        self._largest = 0
        self._lock = threading.Lock()

    def of(self, ids: list[int]) -> list[tuple[str, Document, str]]:
        with self._lock:
            found = self._read(ids)
            self._builds += 1
            self._largest = max(self._largest, len(ids))
            used = self._used
            for vid in ids:
                used[vid] = self._builds
            if len(self._by_version) > 2 * self._largest + 1000:  # versions no longer served
                recent = self._builds - 8
                self._by_version = {vid: entry for vid, entry in self._by_version.items()
                                    if used.get(vid, 0) >= recent}
                self._used = {vid: used[vid] for vid in self._by_version if vid in used}
            return found

    def _read(self, ids: list[int]) -> list[tuple[str, Document, str]]:
        wanted = set(ids)
        rows = SearchDocument.objects.all()
        if len(ids) < 900:
            rows = rows.filter(server_version_id__in=ids)
        hashes = {vid: key for vid, key in rows.values_list("server_version_id", "content_hash")
                  .iterator(chunk_size=20000) if vid in wanted}
        known = self._by_version
        stale = [vid for vid, key in hashes.items()
                 if vid not in known or known[vid][0] != key]
        for start in range(0, len(stale), 2000):
            for row in SearchDocument.objects.filter(server_version_id__in=stale[start:start + 2000]):
                known[row.server_version_id] = (row.content_hash, document_from_row(row),
                                                row.embed_hash)
        missing = [vid for vid in ids if vid not in hashes]  # the refresh task is behind
        built: dict[int, tuple[str, Document, str]] = {}
        for vid, manifest in ServerVersion.objects.filter(id__in=missing).values_list(
                "id", "manifest"):
            doc = document_of(manifest if isinstance(manifest, dict) else {})
            built[vid] = (doc.content_hash(), doc, doc.embed_hash())
        return [known[vid] if vid in hashes else built[vid] for vid in ids]

    def forget(self) -> None:
        with self._lock:
            self._by_version.clear()
            self._used.clear()


_documents = _Documents()
_analyzer = Analyzer()


def build_index(scope: CatalogRef, stamp: tuple[Any, ...]) -> ScopeIndex:
    """Read the scope's served versions, documents and vectors, and index them."""
    started = time.perf_counter()
    served = _served(scope)
    ids = [s[0] for s in served]
    entries = _documents.of(ids)
    docs = [doc for _, doc, _ in entries]
    analysed = [_analyzer.analysed(key, doc.fields()) for key, doc, _ in entries]
    tags = [""] * len(docs)
    if scope.catalog is not None:  # the catalog's own words for its servers
        position = {doc.name: i for i, doc in enumerate(docs)}
        for o in CatalogOverlay.objects.filter(catalog=scope.catalog):
            i = position.get(o.name)
            if i is not None:
                tag_text = " ".join(t for t in o.tags if isinstance(t, str))
                tags[i] = tag_text
                analysed[i] = _analyzer.merged(analysed[i], [(tag_text, TAG_WEIGHT),
                                                             (o.notes, NOTES_WEIGHT)])
    bm25 = _analyzer.index(analysed)
    keys: dict[str, list[int]] = {}
    for i, doc in enumerate(docs):
        for key in doc.keys:
            keys.setdefault(key, []).append(i)
    store = vectors.store()
    return ScopeIndex(
        stamp=stamp, ids=np.array(ids, dtype=np.int64), docs=docs,
        status=np.array([s[1] == _DELETED for s in served], dtype=bool),
        updated=np.array([s[2].timestamp() for s in served], dtype=np.float64),
        trust_until=np.array([_epoch(s[3]) for s in served], dtype=np.float64),
        keys=keys, bm25=bm25, vocabulary=sorted(bm25.postings),
        vector_rows=store.rows_of([embed for _, _, embed in entries]),
        facets=FacetColumns.of(docs), tags=tags,
        built_seconds=time.perf_counter() - started)


_indexes: dict[str, ScopeIndex] = {}
_building: set[str] = set()  # scopes a background thread is rebuilding
_build_lock = threading.Lock()  # one build at a time (they share the caches above)
_state_lock = threading.Lock()  # guards _building


def scope_index(scope: CatalogRef) -> ScopeIndex:
    """The scope's index: rebuilt when its stamp moved (in the background, when allowed and
    an older index can answer meanwhile)."""
    stamp = scope_stamp(scope)
    index = _indexes.get(scope.slug)
    if index is not None and index.stamp == stamp:
        return index
    if index is not None and settings.MCP_INDEX_SEARCH_REBUILD_BACKGROUND:
        with _state_lock:
            start = scope.slug not in _building
            _building.add(scope.slug)
        if start:
            threading.Thread(target=_rebuild, args=(scope, stamp), daemon=True,
                             name=f"search-index-{scope.slug}").start()
        return _stale(index)
    with _build_lock:
        index = _indexes.get(scope.slug)
        if index is None or index.stamp != stamp:
            index = build_index(scope, stamp)
            _indexes[scope.slug] = index
    return index


def _stale(index: ScopeIndex) -> ScopeIndex:
    return ScopeIndex(**{**index.__dict__, "stale": True})


def _rebuild(scope: CatalogRef, stamp: tuple[Any, ...]) -> None:
    try:
        with _build_lock:
            index = _indexes[scope.slug] = build_index(scope, stamp)
        log.info("event=search.index_rebuilt scope=%s seconds=%.2f", scope.slug,
                 index.built_seconds)
    except Exception:  # the old index keeps answering; the next search tries again
        log.exception("event=search.index_rebuild_failed scope=%s", scope.slug)
    finally:
        with _state_lock:
            _building.discard(scope.slug)
        close_old_connections()
        connection.close()


def forget() -> None:
    """Drop every scope's index and the cached documents and vectors (the next search reads
    them again): for tests and benchmarks."""
    with _build_lock:
        _indexes.clear()
    _documents.forget()
    _analyzer.forget()
    vectors.forget()

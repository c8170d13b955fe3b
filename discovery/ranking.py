"""Ranked search of one scope: filters first, then BM25 and embeddings fused by rank.

An index per scope (the registry `all`, or a catalog) lives in the process: the scope's
served latest versions, their documents (discovery.models, or built in memory for a version
the refresh task has not reached yet), BM25 postings and the embedding matrix. It is rebuilt
when the scope's stamp changes (the newest version, catalog entry, document and embedding,
and the catalog's cache generation), checked with a few index-only aggregates per search.

Ranking (docs/search.md has the measurements behind every constant):
- lexical: BM25 over weighted fields; unknown query words are corrected to vocabulary words
  within a small edit distance, and prefixes extend to longer words (postgres → postgresql);
- semantic: cosine of the query's embedding with each document's (exact, numpy), used only
  when the model loads and the scope's documents have vectors (until then lexical alone);
- fusion: reciprocal rank fusion of the two rankings (k = RRF_K), each leg cut first by its
  own relevance threshold, so unrelated servers are not padded in;
- an exact name or package identifier comes first.
"""

from __future__ import annotations

import html
import re
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from curation.models import CatalogEntry, CatalogOverlay
from curation.selectors import CatalogRef
from discovery import embedding
from discovery.documents import NOTES_WEIGHT, TAG_WEIGHT, Document, document_of
from discovery.lexical import BM25Index, stem, terms, words
from discovery.models import Embedding, SearchDocument
from discovery.services import document_from_row
from mcp_index_common.verification import VERIFIED
from ops import generations
from registry.models import ServerVersion, Status
from signing.models import Attestation

RRF_K = 60
SEMANTIC_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
SEMANTIC_MIN = 0.30  # cosine below which a server is not related to the query at all
SEMANTIC_MARGIN = 0.40  # ... nor one this far below the query's best semantic match
LEXICAL_RELATIVE = 0.2  # a lexical match under this share of the best one is noise
CORRECTION_WEIGHT = 0.8
PREFIX_WEIGHT = 0.6
MAX_PREFIX = 8
EXACT_BOOST = 1.0  # above any fused score (at most 2 / (RRF_K + 1))
_DELETED = Status.DELETED.value


@dataclass(frozen=True)
class Filters:
    """What narrows a search before ranking (serving.search.SearchFilters, plus the list's)."""

    registry_type: str = ""
    transport: str = ""
    remote_only: bool = False
    package_only: bool = False
    trusted_only: bool = False
    include_deleted: bool = False
    updated_since: datetime | None = None


@dataclass(frozen=True)
class Ranked:
    """The ranked ids of one search (all pages), the facets and the suggestion."""

    ids: list[int]
    scores: list[float]
    matched_terms: list[str]
    facets: dict[str, dict[str, int]]
    suggestion: str | None
    semantic: bool  # whether the semantic leg took part


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
    vectors: np.ndarray | None  # rows match docs; zero rows where a document has no vector
    has_vector: np.ndarray
    tags: list[str] = field(default_factory=list)
    built_seconds: float = 0.0


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


def build_index(scope: CatalogRef, stamp: tuple[Any, ...]) -> ScopeIndex:
    """Read the scope's served versions, documents and vectors, and index them."""
    started = time.perf_counter()
    served = _served(scope)
    ids = [s[0] for s in served]
    stored = {row.server_version_id: row for row in SearchDocument.objects.filter(
        server_version_id__in=ids)} if len(ids) < 900 else {
        row.server_version_id: row for row in SearchDocument.objects.iterator(chunk_size=5000)}
    missing = [vid for vid in ids if vid not in stored]
    built = {vid: document_of(m if isinstance(m, dict) else {}) for vid, m in
             ServerVersion.objects.filter(id__in=missing).values_list("id", "manifest")
             } if missing else {}
    docs = [document_from_row(stored[vid]) if vid in stored else built[vid] for vid in ids]
    tags = [""] * len(docs)
    fields = [doc.fields() for doc in docs]
    if scope.catalog is not None:  # the catalog's own words for its servers
        position = {doc.name: i for i, doc in enumerate(docs)}
        for o in CatalogOverlay.objects.filter(catalog=scope.catalog):
            i = position.get(o.name)
            if i is not None:
                tag_text = " ".join(t for t in o.tags if isinstance(t, str))
                tags[i] = tag_text
                fields[i] = [*fields[i], (tag_text, TAG_WEIGHT), (o.notes, NOTES_WEIGHT)]
    bm25 = BM25Index(fields)
    keys: dict[str, list[int]] = {}
    for i, doc in enumerate(docs):
        for key in doc.keys:
            keys.setdefault(key, []).append(i)
    vectors, has_vector = _vectors(ids, stored, docs)
    return ScopeIndex(
        stamp=stamp, ids=np.array(ids, dtype=np.int64), docs=docs,
        status=np.array([s[1] == _DELETED for s in served], dtype=bool),
        updated=np.array([s[2].timestamp() for s in served], dtype=np.float64),
        trust_until=np.array([_epoch(s[3]) for s in served], dtype=np.float64),
        keys=keys, bm25=bm25, vocabulary=sorted(bm25._postings), vectors=vectors,
        has_vector=has_vector, tags=tags, built_seconds=time.perf_counter() - started)


def _vectors(ids: list[int], stored: dict[int, SearchDocument], docs: list[Document]
             ) -> tuple[np.ndarray | None, np.ndarray]:
    hashes = [stored[vid].embed_hash if vid in stored else doc.embed_hash()
              for vid, doc in zip(ids, docs, strict=True)]
    wanted = set(hashes)
    found: dict[str, bytes] = {}
    rows = Embedding.objects.filter(model=embedding.MODEL_ID)
    if len(wanted) < 900:
        rows = rows.filter(content_hash__in=sorted(wanted))
    for key, vector in rows.values_list("content_hash", "vector").iterator(chunk_size=5000):
        if key in wanted:
            found[key] = bytes(vector)
    has_vector = np.array([h in found for h in hashes], dtype=bool)
    if not found:
        return None, has_vector
    matrix = np.zeros((len(ids), embedding.DIMENSIONS), dtype=np.float32)
    for i, key in enumerate(hashes):
        if key in found:
            matrix[i] = embedding.from_bytes(found[key])
    return matrix, has_vector


_indexes: dict[str, ScopeIndex] = {}
_build_lock = threading.Lock()


def scope_index(scope: CatalogRef) -> ScopeIndex:
    """The scope's index, rebuilt when its stamp moved."""
    stamp = scope_stamp(scope)
    index = _indexes.get(scope.slug)
    if index is not None and index.stamp == stamp:
        return index
    with _build_lock:
        index = _indexes.get(scope.slug)
        if index is None or index.stamp != stamp:
            index = build_index(scope, stamp)
            _indexes[scope.slug] = index
    return index


def _mask(index: ScopeIndex, filters: Filters) -> np.ndarray:
    mask = np.ones(len(index.docs), dtype=bool)
    if not filters.include_deleted:
        mask &= ~index.status
    if filters.updated_since is not None:
        mask &= index.updated > filters.updated_since.timestamp()
    mask &= index.trust_until > timezone.now().timestamp()
    if filters.trusted_only:
        mask &= np.isin(index.ids, _attested(index))
    for i, doc in enumerate(index.docs):
        if not mask[i]:
            continue
        if ((filters.remote_only and not doc.has_remote)
                or (filters.package_only and not doc.has_package)
                or (filters.registry_type and filters.registry_type not in doc.registry_types)
                or (filters.transport and filters.transport not in doc.transports)):
            mask[i] = False
    return mask


def _attested(index: ScopeIndex) -> np.ndarray:
    return np.array(sorted(set(Attestation.objects.filter(state=VERIFIED)
                               .values_list("version_id", flat=True))), dtype=np.int64)


def _query_terms(index: ScopeIndex, text: str) -> tuple[list[tuple[str, float]], str | None]:
    """Weighted query terms (corrections and prefixes included) and a suggestion, if any."""
    out: dict[str, float] = {}
    suggestion_words = []
    corrected = False
    for word in words(text):
        term = stem(word)
        found = terms(word)
        if not found:
            suggestion_words.append(word)
            continue
        if index.bm25.known(term):
            out[term] = max(out.get(term, 0.0), 1.0)
            suggestion_words.append(word)
        else:
            fixes = index.bm25.correct(term)
            for fix in fixes:
                out[fix] = max(out.get(fix, 0.0), CORRECTION_WEIGHT)
            suggestion_words.append(index.bm25.surface.get(fixes[0], fixes[0]) if fixes else word)
            corrected = corrected or bool(fixes)
        if len(term) >= 4:
            start = bisect_left(index.vocabulary, term)
            for longer in index.vocabulary[start: start + MAX_PREFIX + 1]:
                if not longer.startswith(term):
                    break
                if longer != term:
                    out[longer] = max(out.get(longer, 0.0), PREFIX_WEIGHT)
    return list(out.items()), (" ".join(suggestion_words) if corrected else None)


def _rrf(order: np.ndarray, size: int) -> np.ndarray:
    contribution = np.zeros(size, dtype=np.float64)
    contribution[order] = 1.0 / (RRF_K + 1 + np.arange(len(order)))
    return contribution


def rank(scope: CatalogRef, text: str, filters: Filters, *, legs: str = "fusion") -> Ranked:
    """Every match of `text` in `scope`, best first (`legs`: fusion, lexical or semantic)."""
    index = scope_index(scope)
    mask = _mask(index, filters)
    text = text.strip()
    if not text:
        ids = index.ids[mask]
        return Ranked([int(i) for i in ids], [1.0] * len(ids), [], facets(index, mask), None,
                      False)
    size = len(index.docs)
    qterms, suggestion = _query_terms(index, text)
    fused = np.zeros(size, dtype=np.float64)
    matched = np.zeros(size, dtype=bool)
    if legs in ("fusion", "lexical"):
        lex = np.where(mask, index.bm25.scores(qterms), 0.0)
        top = float(lex.max()) if size else 0.0
        if top > 0:
            keep = lex >= top * LEXICAL_RELATIVE
            order = np.flatnonzero(keep)[np.argsort(-lex[keep], kind="stable")]
            fused += LEXICAL_WEIGHT * _rrf(order, size)
            matched |= keep
    semantic = False
    if (legs in ("fusion", "semantic") and index.vectors is not None
            and settings.MCP_INDEX_SEARCH_SEMANTIC):
        encoder = embedding.encoder()
        if encoder is not None:
            semantic = True
            query = encoder.encode([text])[0]
            sims = np.where(mask & index.has_vector, index.vectors @ query, -1.0)
            best = float(sims.max()) if size else -1.0
            keep = (sims >= SEMANTIC_MIN) & (sims >= best - SEMANTIC_MARGIN)
            order = np.flatnonzero(keep)[np.argsort(-sims[keep], kind="stable")]
            fused += SEMANTIC_WEIGHT * _rrf(order, size)
            matched |= keep
    exact = [i for i in index.keys.get(text.lower(), []) if mask[i]]
    for i in exact:
        fused[i] += EXACT_BOOST
        matched[i] = True
    positions = np.flatnonzero(matched)
    positions = positions[np.argsort(-fused[positions], kind="stable")]
    return Ranked([int(index.ids[i]) for i in positions], [float(fused[i]) for i in positions],
                  [t for t, _ in qterms], facets(index, np.isin(np.arange(size), positions)),
                  suggestion, semantic)


def facets(index: ScopeIndex, mask: np.ndarray) -> dict[str, dict[str, int]]:
    """Counts of the matched servers by package type, transport, namespace and trust."""
    out: dict[str, dict[str, int]] = {"registry_type": {}, "transport": {}, "namespace": {},
                                      "trust": {}}
    chosen = np.flatnonzero(mask)
    for i in chosen:
        doc = index.docs[i]
        for key, values in (("registry_type", doc.registry_types),
                            ("transport", doc.transports), ("namespace", [doc.namespace])):
            for value in values:
                out[key][value] = out[key].get(value, 0) + 1
    attested = int(np.isin(index.ids[chosen], _attested(index)).sum()) if len(chosen) else 0
    out["trust"] = {"attested": attested, "unattested": len(chosen) - attested}
    top = sorted(out["namespace"].items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    out["namespace"] = dict(top)
    return out


def highlight(text: str, matched_terms: list[str], *, width: int = 200) -> str:
    """`text` HTML-escaped, shortened around the first match, matched words in <mark>."""
    if not text or not matched_terms:
        return html.escape(text[:width])
    stems = set(matched_terms)
    pieces = re.split(r"([A-Za-z0-9]+)", text)
    first = next((i for i, p in enumerate(pieces) if stem(p.lower()) in stems), None)
    start = 0
    if first is not None and len(text) > width:
        offset = sum(len(p) for p in pieces[:first])
        start = max(0, offset - width // 3)
    out, length = [], 0
    for piece in pieces:
        length += len(piece)
        if length <= start:
            continue
        if length - start > width + len(piece):
            break
        escaped = html.escape(piece)
        out.append(f"<mark>{escaped}</mark>" if stem(piece.lower()) in stems else escaped)
    return ("…" if start else "") + "".join(out)


def forget() -> None:
    """Drop every scope's index (the next search rebuilds it): for tests and benchmarks."""
    with _build_lock:
        _indexes.clear()

"""Ranked search of one scope: filters first, then BM25 and embeddings fused by rank.

Each scope (the registry `all`, or a catalog) has an index in the process (discovery.index:
its served latest versions, their documents, BM25 postings and vector rows).

Ranking (docs/search.md has the measurements behind every constant):
- lexical: BM25 over weighted fields; unknown query words are corrected to vocabulary words
  within a small edit distance, and prefixes extend to longer words (postgres → postgresql);
- semantic: cosine of the query's embedding with the documents' (discovery.vectors: exact,
  or an HNSW graph past ~100k vectors, the same results), the SEMANTIC_DEPTH nearest, used
  only when the model loads and the scope's documents have vectors (until then lexical alone);
- fusion: reciprocal rank fusion of the two rankings (k = RRF_K), each leg cut first by its
  own relevance threshold, so unrelated servers are not padded in;
- an exact name or package identifier comes first.
"""

from __future__ import annotations

import functools
import html
import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.utils import timezone

from curation.selectors import CatalogRef
from discovery import embedding, vectors
from discovery import index as indexes
from discovery.index import ScopeIndex, scope_index
from discovery.lexical import stem, terms, words
from mcp_index_common.verification import VERIFIED
from signing.models import Attestation

RRF_K = 60
SEMANTIC_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
SEMANTIC_MIN = 0.30  # cosine below which a server is not related to the query at all
SEMANTIC_MARGIN = 0.40  # ... nor one this far below the query's best semantic match
SEMANTIC_DEPTH = 250  # the semantic leg's nearest documents (an ANN index answers a depth)
LEXICAL_RELATIVE = 0.2  # a lexical match under this share of the best one is noise
CORRECTION_WEIGHT = 0.8
PREFIX_WEIGHT = 0.6
MAX_PREFIX = 8
EXACT_BOOST = 1.0  # above any fused score (at most 2 / (RRF_K + 1))


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
    stale: bool = False  # ranked by an index a newer one is being built to replace


def _mask(index: ScopeIndex, filters: Filters) -> np.ndarray:
    mask = np.ones(len(index.docs), dtype=bool)
    if not filters.include_deleted:
        mask &= ~index.status
    if filters.updated_since is not None:
        mask &= index.updated > filters.updated_since.timestamp()
    mask &= index.trust_until > timezone.now().timestamp()
    if filters.trusted_only:
        mask &= np.isin(index.ids, _attested(index))
    columns = index.facets
    if filters.remote_only:
        mask &= columns.has_remote
    if filters.package_only:
        mask &= columns.has_package
    if filters.registry_type:
        mask &= columns.registry_types.get(filters.registry_type, False)
    if filters.transport:
        mask &= columns.transports.get(filters.transport, False)
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


@functools.lru_cache(maxsize=1024)
def _query_vector(text: str) -> np.ndarray | None:
    """The query's embedding (the same query again, or its next page, is not encoded twice)."""
    encoder = embedding.encoder()
    return None if encoder is None else encoder.encode([text])[0]


def rank(scope: CatalogRef, text: str, filters: Filters, *, legs: str = "fusion",
         with_facets: bool = True) -> Ranked:
    """Every match of `text` in `scope`, best first (`legs`: fusion, lexical or semantic;
    facet counts only `with_facets`)."""
    found = scope_index(scope)
    mask = _mask(found, filters)
    text = text.strip()
    if not text:
        ids = found.ids[mask]
        return Ranked(ids.tolist(), [1.0] * len(ids), [],
                      facets(found, mask) if with_facets else {}, None, False, found.stale)
    size = len(found.docs)
    qterms, suggestion = _query_terms(found, text)
    fused = np.zeros(size, dtype=np.float64)
    matched = np.zeros(size, dtype=bool)
    if legs in ("fusion", "lexical"):
        lex = np.where(mask, found.bm25.scores(qterms), 0.0)
        top = float(lex.max()) if size else 0.0
        if top > 0:
            keep = np.flatnonzero(lex >= top * LEXICAL_RELATIVE)
            order = keep[np.argsort(-lex[keep], kind="stable")]
            fused += LEXICAL_WEIGHT * _rrf(order, size)
            matched[keep] = True
    semantic = False
    if (legs in ("fusion", "semantic") and found.has_vector.any()
            and settings.MCP_INDEX_SEARCH_SEMANTIC):
        query = _query_vector(text)
        if query is not None:
            semantic = True
            nearest = vectors.store(refresh=False).nearest(
                query, found.vector_rows, mask, depth=SEMANTIC_DEPTH, floor=SEMANTIC_MIN)
            if len(nearest.positions):
                best = float(nearest.similarities[0])
                order = nearest.positions[nearest.similarities >= best - SEMANTIC_MARGIN]
                fused += SEMANTIC_WEIGHT * _rrf(order, size)
                matched[order] = True
    exact = [i for i in found.keys.get(text.lower(), []) if mask[i]]
    for i in exact:
        fused[i] += EXACT_BOOST
        matched[i] = True
    positions = np.flatnonzero(matched)
    positions = positions[np.argsort(-fused[positions], kind="stable")]
    return Ranked(found.ids[positions].tolist(), fused[positions].tolist(),
                  [t for t, _ in qterms], facets(found, matched) if with_facets else {},
                  suggestion, semantic, found.stale)


def facets(found: ScopeIndex, mask: np.ndarray) -> dict[str, dict[str, int]]:
    """Counts of the matched servers by package type, transport, namespace and trust."""
    columns = found.facets
    out: dict[str, dict[str, int]] = {
        "registry_type": {k: int(np.count_nonzero(v & mask))
                          for k, v in columns.registry_types.items()},
        "transport": {k: int(np.count_nonzero(v & mask)) for k, v in columns.transports.items()},
    }
    for key in ("registry_type", "transport"):
        out[key] = {k: n for k, n in out[key].items() if n}
    counts = np.bincount(columns.namespace_codes[mask], minlength=len(columns.namespaces))
    top = np.flatnonzero(counts)
    named = sorted(((columns.namespaces[i], int(counts[i])) for i in top.tolist()),
                   key=lambda kv: (-kv[1], kv[0]))[:20]
    out["namespace"] = dict(named)
    chosen = int(np.count_nonzero(mask))
    attested = int(np.isin(found.ids[mask], _attested(found)).sum()) if chosen else 0
    out["trust"] = {"attested": attested, "unattested": chosen - attested}
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
    """Drop every scope's index and what builds it (for tests and benchmarks)."""
    indexes.forget()
    _query_vector.cache_clear()

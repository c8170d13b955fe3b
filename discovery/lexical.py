"""The lexical leg of search: BM25 over weighted fields, with typo tolerance.

Our own BM25 (Okapi, k1 = 1.2, b = 0.75) over term statistics kept in process, per scope:
a scope is at most tens of thousands of documents (one per server), so the postings fit in
memory and a query touches only the postings of its few terms. Chosen over `bm25s` (same
scores on this data, docs/search.md) because it needs no extra dependency, builds
incrementally per field weight and answers the same on PostgreSQL and SQLite.

Fields carry weights (a term in a server's name counts more than one in its description),
which is BM25F in its simplest form: term frequencies are summed with the field's weight.
Query terms absent from the vocabulary are corrected to close vocabulary terms (optimal
string alignment distance 1, or 2 for words of 7 letters and more, candidates found through
shared trigrams), which also gives the "did you mean" suggestion.
"""

from __future__ import annotations

import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.2
B = 0.75
# A word too common to say anything of what a server does, in a query or a document.
STOPWORDS = frozenset([
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "for", "from", "get", "i",
    "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so", "that", "the",
    "their", "them", "then", "this", "to", "up", "us", "use", "using", "want", "we", "what",
    "which", "with", "you", "your", "mcp", "server", "servers", "model", "context", "protocol",
])
_WORD = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    """A light suffix stripper: plurals and -ing/-ed, enough that "emails" meets "email"."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""),
                         ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("xes", "ches", "shes", "sses", "zes")):
                continue
            return word[: len(word) - len(suffix)] + keep
    return word


def words(text: str) -> list[str]:
    """Lower-cased alphanumeric words of a text, stopwords kept (camelCase is not split:
    PostgreSQL, MySQL and GitHub are one word each)."""
    return _WORD.findall(text.lower())


def terms(text: str) -> list[str]:
    """The index terms of a text: its words without stopwords, stemmed."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (edits and adjacent swaps), or limit+1 past it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i: i + 3] for i in range(len(padded) - 2)}


@dataclass(frozen=True)
class Analysed:
    """One document's index terms (ids in the analyzer's vocabulary, unique, with summed field
    weights) and its weighted length."""

    terms: np.ndarray  # int32
    weights: np.ndarray  # float32
    length: float


class Analyzer:
    """Turns documents' weighted fields into index terms, remembering each document's result
    by its content hash, so a rebuilt index analyses only what changed; and makes BM25
    indexes of analysed documents. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forget()

    def _forget(self) -> None:
        self._ids: dict[str, int] = {}
        self._terms: list[str] = []
        self._surface: dict[str, str] = {}  # term -> its shortest word (for suggestions)
        self._stems: dict[str, str] = {}
        self._cache: dict[str, tuple[Analysed, int]] = {}  # content hash -> (result, build)
        self._build = 0
        self._largest = 0

    def forget(self) -> None:
        with self._lock:
            self._forget()

    def _analyse(self, fields: Iterable[tuple[str, float]]) -> dict[int, float]:
        out: dict[int, float] = {}
        stems, ids, surface = self._stems, self._ids, self._surface
        for text, weight in fields:
            for word in words(text):
                if word in STOPWORDS:
                    continue
                term = stems.get(word)
                if term is None:
                    term = stems[word] = stem(word)
                    # The shortest word (then the first in order) made into this term: the
                    # suggestion never depends on which documents this process read first.
                    known = surface.get(term)
                    if known is None or (len(word), word) < (len(known), known):
                        surface[term] = word
                tid = ids.get(term)
                if tid is None:
                    tid = ids[term] = len(self._terms)
                    self._terms.append(term)
                out[tid] = out.get(tid, 0.0) + weight
        return out

    @staticmethod
    def _packed(counts: dict[int, float]) -> Analysed:
        return Analysed(np.fromiter(counts.keys(), dtype=np.int32, count=len(counts)),
                        np.fromiter(counts.values(), dtype=np.float32, count=len(counts)),
                        float(sum(counts.values())))

    def analysed(self, key: str, fields: Iterable[tuple[str, float]]) -> Analysed:
        """The index terms of a document whose content hash is `key`."""
        with self._lock:
            found = self._cache.get(key)
            result = self._packed(self._analyse(fields)) if found is None else found[0]
            self._cache[key] = (result, self._build)
            return result

    def merged(self, base: Analysed, fields: Iterable[tuple[str, float]]) -> Analysed:
        """`base` with more fields (a catalog's tags and notes for its server): not cached."""
        with self._lock:
            extra = self._analyse(fields)
        counts = dict(zip(base.terms.tolist(), base.weights.tolist(), strict=True))
        for tid, weight in extra.items():
            counts[tid] = counts.get(tid, 0.0) + weight
        return self._packed(counts)

    def index(self, documents: Sequence[Analysed]) -> BM25Index:
        """The BM25 index of these analysed documents (positions are document numbers)."""
        size = len(documents)
        lengths = np.fromiter((d.length for d in documents), dtype=np.float32, count=size)
        counts = np.fromiter((len(d.terms) for d in documents), dtype=np.int64, count=size)
        postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if counts.sum():
            term_ids = np.concatenate([d.terms for d in documents])
            weights = np.concatenate([d.weights for d in documents])
            docs = np.repeat(np.arange(size, dtype=np.int32), counts)
            order = np.argsort(term_ids, kind="stable")  # documents stay ascending per term
            term_ids, docs, weights = term_ids[order], docs[order], weights[order]
            bounds = (np.flatnonzero(np.diff(term_ids)) + 1).tolist()
            starts, ends = [0, *bounds], [*bounds, len(term_ids)]
            with self._lock:
                names = [self._terms[t] for t in term_ids[starts].tolist()]
                surface = {name: self._surface[name] for name in names}
            for name, start, end in zip(names, starts, ends, strict=True):
                postings[name] = (docs[start:end], weights[start:end])
        else:
            surface = {}
        self._prune(size)
        return BM25Index(postings, surface, lengths)

    def _prune(self, size: int) -> None:
        """Forget documents no build has used lately, once the cache is well past the
        largest index (the documents of versions no longer served)."""
        with self._lock:
            self._build += 1
            self._largest = max(self._largest, size)
            if len(self._cache) > 2 * self._largest + 1000:
                recent = self._build - 8
                self._cache = {k: v for k, v in self._cache.items() if v[1] >= recent}


class BM25Index:
    """BM25 postings of one scope's documents (made by `Analyzer.index`)."""

    def __init__(self, postings: dict[str, tuple[np.ndarray, np.ndarray]],
                 surface: dict[str, str], lengths: np.ndarray) -> None:
        self.postings = postings  # term -> (document numbers, weighted term frequencies)
        self.surface = surface  # term -> a word it was made of (for suggestions)
        self.size = len(lengths)
        self.average = float(lengths.mean()) if self.size else 0.0
        self._norm = K1 * (1 - B + B * lengths / (self.average or 1.0))
        self._grams: dict[str, list[str]] | None = None  # built on the first typo

    @classmethod
    def of(cls, documents: Sequence[Sequence[tuple[str, float]]]) -> BM25Index:
        """The index of documents given as weighted fields (no cache)."""
        analyzer = Analyzer()
        return analyzer.index([analyzer._packed(analyzer._analyse(fields))
                               for fields in documents])

    def idf(self, term: str) -> float:
        found = self.postings.get(term)
        df = 0 if found is None else len(found[0])
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        return term in self.postings

    def correct(self, term: str) -> list[str]:
        """Vocabulary terms within a small edit distance of an unknown term, closest first."""
        if len(term) < 4 or term.isdigit():
            return []
        if self._grams is None:
            grams: dict[str, list[str]] = defaultdict(list)
            for known in self.postings:
                if len(known) >= 3 and not known.isdigit():
                    for gram in _trigrams(known):
                        grams[gram].append(known)
            self._grams = dict(grams)
        limit = 2 if len(term) >= 7 else 1
        shared: dict[str, int] = defaultdict(int)
        for gram in _trigrams(term):
            for known in self._grams.get(gram, ()):
                shared[known] += 1
        scored = []
        for known, count in shared.items():
            if count < 2:
                continue
            distance = osa_distance(term, known, limit)
            if distance <= limit:
                # Closest first; among equals, the commoner word (what people meant).
                scored.append((distance, -len(self.postings[known][0]), known))
        return [known for _, _, known in sorted(scored)[:2]]

    def scores(self, query_terms: Iterable[tuple[str, float]]) -> np.ndarray:
        """BM25 of every document for weighted query terms (a dense array, zero = no match)."""
        out = np.zeros(self.size, dtype=np.float32)
        for term, weight in query_terms:
            found = self.postings.get(term)
            if found is None:
                continue
            docs, tf = found
            out[docs] += weight * self.idf(term) * tf * (K1 + 1) / (tf + self._norm[docs])
        return out

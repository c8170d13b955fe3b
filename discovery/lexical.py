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
class LexicalHit:
    """A document's BM25 score and the query terms it matched (for highlights)."""

    doc: int
    score: float


class BM25Index:
    """BM25 postings of one scope's documents, each a list of (text, weight) fields."""

    def __init__(self, documents: Sequence[Sequence[tuple[str, float]]]) -> None:
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        self.surface: dict[str, str] = {}  # term -> a word it was made of (for suggestions)
        lengths = np.zeros(len(documents), dtype=np.float32)
        for doc, fields in enumerate(documents):
            length = 0.0
            for text, weight in fields:
                for word in words(text):
                    if word in STOPWORDS:
                        continue
                    term = stem(word)
                    self.surface.setdefault(term, word)
                    row = postings[term]
                    row[doc] = row.get(doc, 0.0) + weight
                    length += weight
            lengths[doc] = length
        self.size = len(documents)
        self.average = float(lengths.mean()) if self.size else 0.0
        self._norm = K1 * (1 - B + B * lengths / (self.average or 1.0))
        self._postings = {term: (np.fromiter(row.keys(), dtype=np.int32, count=len(row)),
                                 np.fromiter(row.values(), dtype=np.float32, count=len(row)))
                          for term, row in postings.items()}
        self._grams: dict[str, list[str]] | None = None  # built on the first typo

    def idf(self, term: str) -> float:
        found = self._postings.get(term)
        df = 0 if found is None else len(found[0])
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        return term in self._postings

    def correct(self, term: str) -> list[str]:
        """Vocabulary terms within a small edit distance of an unknown term, closest first."""
        if len(term) < 4 or term.isdigit():
            return []
        if self._grams is None:
            grams: dict[str, list[str]] = defaultdict(list)
            for known in self._postings:
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
                scored.append((distance, -len(self._postings[known][0]), known))
        return [known for _, _, known in sorted(scored)[:2]]

    def scores(self, query_terms: Iterable[tuple[str, float]]) -> np.ndarray:
        """BM25 of every document for weighted query terms (a dense array, zero = no match)."""
        out = np.zeros(self.size, dtype=np.float32)
        for term, weight in query_terms:
            found = self._postings.get(term)
            if found is None:
                continue
            docs, tf = found
            out[docs] += weight * self.idf(term) * tf * (K1 + 1) / (tf + self._norm[docs])
        return out

"""The metrics of the quality benchmark (no Django: the model comparison imports them too)."""

from __future__ import annotations

import math

K = 10


def ndcg(ranked: list[str], grades: dict[str, int]) -> float:
    dcg = sum((2 ** grades.get(n, 0) - 1) / math.log2(i + 2) for i, n in enumerate(ranked[:K]))
    ideal = sorted(grades.values(), reverse=True)[:K]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], grades: dict[str, int]) -> float:
    relevant = {n for n, g in grades.items() if g >= 2}
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:K])) / min(K, len(relevant))


def mrr(ranked: list[str], grades: dict[str, int]) -> float:
    for i, name in enumerate(ranked[:K]):
        if grades.get(name, 0) >= 2:
            return 1.0 / (i + 1)
    return 0.0

"""Metric functions for the evals: pure, no I/O, table-tested in tests/test_eval_metrics.py."""
from __future__ import annotations

import math
import re
from typing import Iterable, Sequence

_MARKER = re.compile(r"\[(\d{1,3})\]")
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")


def dedupe(ids: Iterable[str]) -> list[str]:
    """Document ids in first-seen order (several chunks of one document count once)."""
    return list(dict.fromkeys(ids))


def hit_at(ranked: Sequence[str], expected: Sequence[str], k: int) -> float:
    """1.0 if any expected document is among the first k distinct documents."""
    if not expected:
        return 0.0
    return 1.0 if set(dedupe(ranked)[:k]) & set(expected) else 0.0


def reciprocal_rank(ranked: Sequence[str], expected: Sequence[str]) -> float:
    for i, d in enumerate(dedupe(ranked), start=1):
        if d in expected:
            return 1.0 / i
    return 0.0


def ndcg_at(ranked: Sequence[str], expected: Sequence[str], k: int = 10) -> float:
    """Binary-relevance nDCG over distinct documents; ideal = all expected documents first."""
    if not expected:
        return 0.0
    docs = dedupe(ranked)[:k]
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(docs) if d in expected)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(set(expected)), k)))
    return dcg / ideal if ideal else 0.0


def marker_validity(text: str, citation_numbers: Sequence[int]) -> float | None:
    """Share of [n] markers in the answer that resolve to a shown citation (None if no markers)."""
    markers = [int(m) for m in _MARKER.findall(text)]
    if not markers:
        return None
    shown = set(citation_numbers)
    return sum(m in shown for m in markers) / len(markers)


def citation_precision(cited: Sequence[str], expected: Sequence[str]) -> float | None:
    """Share of distinct cited documents that are expected (None when nothing was cited)."""
    docs = dedupe(cited)
    if not docs:
        return None
    return sum(d in expected for d in docs) / len(docs)


def citation_recall(cited: Sequence[str], expected: Sequence[str]) -> float | None:
    """1.0 if at least one expected document is cited (any one answers the case; None if none expected)."""
    if not expected:
        return None
    return 1.0 if set(cited) & set(expected) else 0.0


def _norm(s: str) -> str:
    s = s.replace("\\", "").replace("**", "").replace("’", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", s).lower()


def include_coverage(text: str, groups: Sequence[Sequence[str]]) -> float | None:
    """Share of must_include groups with at least one alternative in the text (None if no groups)."""
    if not groups:
        return None
    t = _norm(text)
    return sum(any(_norm(alt) in t for alt in g) for g in groups) / len(groups)


def refusal_outcome(answerable: bool, refused: bool) -> str:
    """'correct_refusal' | 'missed_refusal' | 'false_refusal' | 'answered'."""
    if not answerable:
        return "correct_refusal" if refused else "missed_refusal"
    return "false_refusal" if refused else "answered"


def own_words(text: str) -> str:
    """The assistant's own words: quoted source text and citation markers removed."""
    return _MARKER.sub("", _QUOTED.sub("", text))


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None

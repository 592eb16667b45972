"""Metric functions for the evals: pure, no I/O, table-tested in tests/test_eval_metrics.py."""
from __future__ import annotations

import math
import re
from typing import Iterable, Sequence

from assistant.facts.model import plain

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


# -- answer-first, off-topic, wrong-place, verbatim citations (the answers issue) -----------------
_LABEL_LINE = re.compile(r"^\s*(\*\*[^*]{2,80}\*\*|[^.!?]{2,60}:)\s*$")
_SENT_END = re.compile(r"(?<=[.!?])[\"”)]?\s+(?=[\"“(¿¡*]?[A-ZÁÉÍÓÚÑ0-9$£€])")
_QUOTE_MARKED = re.compile(r"“([^”]+)”\s*((?:\[\d+\])+)")
_JOIN = " … "


def first_sentences(text: str, n: int = 2) -> str:
    """The first ``n`` sentences a reader meets, skipping labels such as "**What the sources say:**"
    and "It depends on where you work:"; each bullet line counts as at least one sentence."""
    out: list[str] = []
    for line in text.splitlines():
        s = line.strip()
        if not s or _LABEL_LINE.match(s):
            continue
        s = s.lstrip("-*• ").strip()
        for piece in _SENT_END.split(s):
            if piece.strip():
                out.append(piece.strip())
            if len(out) >= n:
                return " ".join(out)
    return " ".join(out)


def answer_first(text: str, groups: Sequence[Sequence[str]]) -> float | None:
    """1.0 when every key-fact group appears in the first two sentences (None if no groups)."""
    if not groups:
        return None
    head = _norm(first_sentences(text, 2))
    return 1.0 if all(any(_norm(alt) in head for alt in g) for g in groups) else 0.0


def quoted(text: str) -> list[tuple[str, list[int]]]:
    """(quote, [n, ...]) for every “quoted” passage followed by its markers."""
    return [(m.group(1), [int(x) for x in re.findall(r"\d+", m.group(2))])
            for m in _QUOTE_MARKED.finditer(text)]


def _plain(s: str) -> str:
    return plain(s).lower()  # the text as a reader sees it, as the facts' verbatim check reads it


def verbatim_rate(text: str, sources: dict[int, str]) -> float | None:
    """Share of quotes in the text the user sees that are verbatim in the source their number
    points to (pieces joined with " … " are checked one by one). None when nothing is quoted."""
    qs = quoted(text)
    if not qs:
        return None
    ok = 0
    for quote, ns in qs:
        src = " ".join(_plain(sources.get(n, "")) for n in ns)
        pieces = [_plain(p) for p in quote.split(_JOIN) if p.strip()]
        ok += bool(src) and all(p in src for p in pieces)
    return ok / len(qs)


def off_topic_rate(cited_docs: Sequence[str], expected: Sequence[str]) -> float | None:
    """Share of quoted or stated sentences whose source is not an expected document."""
    if not cited_docs or not expected:
        return None
    base = {d[:-3] if d.endswith("-es") else d for d in expected}
    return sum((d[:-3] if d.endswith("-es") else d) not in base for d in cited_docs) / len(cited_docs)


def wrong_place(lines_with_places: Sequence[tuple[str, str]], allowed: Sequence[str] | None,
                names: dict[str, str | Sequence[str]]) -> bool:
    """True when a cited line is for a jurisdiction outside ``allowed`` (the question's scope; None
    = any single place is a guess unless named) and the line does not name that place (in any of
    the names given for it: English and Spanish)."""
    for line, jur in lines_with_places:
        if allowed is not None and jur in allowed:
            continue
        if allowed is None and jur == "US":
            continue
        given = names.get(jur, jur)
        if any(n and n.lower() in line.lower() for n in ([given] if isinstance(given, str) else given)):
            continue
        return True
    return False

"""The LLM-free answerer: the best-supported sentences of the retrieved passages, each cited.

It never writes a claim of its own: every sentence is copied verbatim from a passage (Markdown
escaped), labelled as quoted, and followed by the number of its source.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .citations import escape_markdown, to_citation
from .embeddings import Embedder
from .prompts import text as t
from .types import Citation, Passage

_SENT_SPLIT = re.compile(r"(?<=[.!?])[\"”)]?\s+(?=[\"“(¿¡]?[A-ZÁÉÍÓÚÑ0-9])|\n+")
_META_LINE = re.compile(r"^\s*[-*]?\s*\*\*[^*]{2,40}:\*\*|^\s*#|^\s*\*[^*].*\*\s*$|^\s*```")
_WORD = re.compile(r"[a-záéíóúñü0-9]+")
_SOURCE_LINE = re.compile(r"^\*\*(Rule|Official source|In effect since|Last verified|Regla|Fuente oficial|"
                          r"Vigente desde|Última verificación):\*\*")
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_FULL = re.compile(r"^[\"“(¿¡]?[A-ZÁÉÍÓÚÑ0-9].*[.!?)\"”]$", re.S)  # ":" would introduce a list
_STOP = set("the a an and or of to in on is are be for with that this it as at by from your you "
            "can do does what how when my me i if not no el la los las de del que y en un una por "
            "para con es se su sus".split())
LEXICAL_WEIGHT = 0.35   # weight of word overlap next to embedding similarity
FIGURE_BONUS = 0.15     # "how much / what rate / when" questions prefer sentences with figures
_ASKS_FIGURE = re.compile(r"\b(how\s+(much|many|long|often|soon)|what('?s|\s+is)\s+the\s+(rate|"
                          r"amount|minimum|deadline|limit)|rate|per\s+(mile|minute|hour|trip)|minimum\s+"
                          r"(pay|wage)|deadline|when|cu[aá]nt[oa]s?|cu[aá]ndo|tarifa|m[ií]nimo)\b", re.I)
_HAS_FIGURE = re.compile(r"[$£€]\s?\d|\d+(\.\d+)?\s?(%|cents?|¢)|\b\d+\s+(days?|hours?|weeks?|months?|"
                         r"years?|d[ií]as|horas|semanas|meses|años)\b|\b(19|20)\d\d\b", re.I)
_CROSS_REF = re.compile(r"^(see|for (more|other)|read (our|the) |para m[aá]s|vea|consulte nuestra)\b|"
                        r"\b[a-z]{2,}-[a-z]{2,}-[a-z-]{2,}\b", re.I)
RANK_PENALTY = 0.03     # later passages need a slightly better sentence to be picked
MIN_CHARS = 30          # shorter fragments are not worth quoting alone
PER_PASSAGE = 3         # at most this many sentences from one passage


@dataclass(frozen=True)
class Extract:
    text: str
    citations: tuple[Citation, ...]


_SOFT_BREAK = re.compile(r"(?<=\S)[ \t]*\n(?![ \t]*(?:[-*•>#]|\d+[.)]|\n))[ \t]*(?=\S)")


def sentences(passage_text: str) -> list[str]:
    """Sentences of a passage; hard-wrapped lines are joined, list items and headings kept apart."""
    out, fragments = [], []
    for line in _SENT_SPLIT.split(_SOFT_BREAK.sub(" ", passage_text)):
        s = line.strip().lstrip("-*•> ").strip()
        if len(s) < MIN_CHARS or _META_LINE.match(line) or _SOURCE_LINE.match(s) or _CROSS_REF.search(s):
            continue  # too short, a heading or source line, or a pointer to another document
        s = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), s).replace("**", "").strip()
        # A quote should read as a sentence: starts like one and ends like one. List-item fragments
        # ("lists the reasons for deactivation,") are used only when a passage has nothing better.
        (out if _FULL.match(s) else fragments).append(s)
    return out or fragments


def _words(s: str) -> set[str]:
    return {w for w in _WORD.findall(s.lower()) if w not in _STOP}


def extract(question: str, qvec: Sequence[float], passages: Sequence[Passage], embedder: Embedder,
            language: str, max_sentences: int) -> Extract:
    cands: list[tuple[int, int, str]] = []  # (passage index, position, sentence)
    for pi, p in enumerate(passages):
        for si, s in enumerate(sentences(p.text)):
            cands.append((pi, si, s))
    if not cands:
        return Extract("", ())
    vecs = np.asarray(embedder.embed([c[2] for c in cands]), dtype=np.float32)
    sims = vecs @ np.asarray(qvec, dtype=np.float32)
    qw = _words(question)
    wants_figure = bool(_ASKS_FIGURE.search(question))
    scores = []
    for (pi, _si, s), sim in zip(cands, sims):
        overlap = len(qw & _words(s)) / max(1, len(qw))
        bonus = FIGURE_BONUS if wants_figure and _HAS_FIGURE.search(s) else 0.0
        scores.append(float(sim) + LEXICAL_WEIGHT * overlap + bonus - RANK_PENALTY * pi)
    picked: list[int] = []
    per: dict[int, int] = {}
    for i in np.argsort(scores)[::-1]:
        pi = cands[i][0]
        if per.get(pi, 0) >= PER_PASSAGE:
            continue
        picked.append(int(i))
        per[pi] = per.get(pi, 0) + 1
        if len(picked) >= max_sentences:
            break
    # Group by source, the source with the best sentence first; each source's sentences stay in
    # document order so they read as the source wrote them.
    best: dict[int, float] = {}
    for i in picked:
        best[cands[i][0]] = max(best.get(cands[i][0], -9.0), scores[i])
    picked.sort(key=lambda i: (-best[cands[i][0]], cands[i][0], cands[i][1]))
    numbers: dict[int, int] = {}
    lines = []
    for i in picked:
        pi, _si, s = cands[i]
        n = numbers.setdefault(pi, len(numbers) + 1)
        lines.append(f"- “{escape_markdown(s)}” [{n}]")
    body = "\n".join([t(language, "extractive_intro"), "", *lines, "", t(language, "extractive_outro")])
    cites = tuple(to_citation(n, passages[pi]) for pi, n in sorted(numbers.items(), key=lambda x: x[1]))
    return Extract(body, cites)

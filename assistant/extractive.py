"""The LLM-free answerer: the best-supported sentences of the retrieved passages, each cited.

It never writes a claim of its own: every quote is copied verbatim from a passage (Markdown escaped)
and followed by the number of its source. A list item is quoted with its lead-in and a table row
with its header ("lead-in … item"); headings, source lines, disclaimers, cross-references and
sentences that start with a pronoun whose subject was cut off are never quoted. Only sentences
that clear a relevance floor are kept, and a sentence from another place than the one asked about
is labelled with its place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .citations import escape_markdown, to_citation
from .embeddings import Embedder
from .types import Citation, Passage
from .understanding.places import place_name, plausible_without_place, scope

JOIN = " … "  # between a lead-in and its list item, or a table header and its row
WORK_NAMES = {
    "en": {"rideshare": "rideshare drivers", "delivery": "delivery workers", "grocery": "grocery shoppers",
           "courier": "couriers", "freelance": "freelancers", "annotation": "data annotators",
           "care": "care workers"},
    "es": {"rideshare": "conductores de viajes", "delivery": "repartidores", "grocery": "compradores de "
           "supermercado", "courier": "mensajeros", "freelance": "trabajadores independientes",
           "annotation": "etiquetadores de datos", "care": "cuidadores"},
}
_SENT_SPLIT = re.compile(r"(?<=[.!?])[\"”)]?\s+(?=[\"“(¿¡]?[A-ZÁÉÍÓÚÑ0-9])")
_META_LINE = re.compile(r"^\s*[-*]?\s*\*\*(Rule|Official source|In effect since|Last verified|Regla|"
                        r"Fuente oficial|Vigente desde|Última verificación):\*\*|^\s*#|^\s*\*[^*].*\*\s*$|"
                        r"^\s*```|^\s*\|?\s*:?-{3,}", re.I)
_DISCLAIMER = re.compile(r"general information|not legal advice|informaci[oó]n general|no es asesor[ií]a|"
                         r"^jurisdic(tion|ci[oó]n):|last verified|[uú]ltima verificaci[oó]n", re.I)
# Words whose final period does not end a sentence (legal citations, abbreviations).
_ABBREV = re.compile(r"(?:\b(?:Cal|Minn|Mass|Wash|Colo|Ill|Ont|Stat|Sec|Secs|No|Nos|Inc|Corp|Co|Gen|Rev|"
                     r"Admin|Reg|Regs|Lab|Bus|Prof|Civ|Proc|Gov|Ins|Unemp|Ann|Ch|ch|art|Art|núm|Núm|Dr|"
                     r"Mr|Ms|Mrs|St|vs|v|e\.g|i\.e|approx|U\.S\.C|C\.F\.R|U\.S|N\.Y|D\.C|L\.L\.C|etc)|"
                     r"\b[A-Z])\.$")
_PRONOUN = re.compile(r"^(it|its|they|their|them|this|these|that|those|he|she|such|both|esto|esta|este|"
                      r"estos|estas|ese|esa|eso|ellos|ellas|ella|él|dicha|dicho)\b", re.I)
_WORD = re.compile(r"[a-záéíóúñü0-9]+")
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_FULL = re.compile(r"^[\"“(¿¡]?[A-ZÁÉÍÓÚÑ0-9$£€].*[.!?)\"”]$", re.S)
_STOP = set("the a an and or of to in on is are be for with that this it as at by from your you "
            "can do does what how when my me i if not no el la los las de del que y en un una por "
            "para con es se su sus".split())
LEXICAL_WEIGHT = 0.35   # weight of word overlap next to embedding similarity
FIGURE_BONUS = 0.15     # "how much / what rate / when" questions prefer sentences with figures
LANGUAGE_BONUS = 0.10   # a Spanish question gets Spanish passages first
PRONOUN_PENALTY = 0.25  # "It took effect ..." without the sentence before it
# "How much" questions prefer sentences with amounts; "when" questions, sentences with dates.
_ASKS_AMOUNT = re.compile(r"\b(how\s+(much|many)|what('?s|\s+is)\s+the\s+(rate|amount|minimum|limit)|"
                          r"rate|per\s+(mile|minute|hour|trip|offer)|minimum|cu[aá]nt[oa]s?|tarifa|"
                          r"m[ií]nimo)\b", re.I)
_ASKS_TIME = re.compile(r"\b(how\s+(long|often|soon)|deadline|when|cu[aá]ndo|plazo|desde\s+cu[aá]ndo)\b",
                        re.I)
_HAS_AMOUNT = re.compile(r"[$£€]\s?\d|\d+(\.\d+)?\s?(%|cents?|¢)|\b\d+\s+(hours?|horas)\b", re.I)
_HAS_TIME = re.compile(r"\b\d+\s+(days?|weeks?|months?|years?|d[ií]as|semanas|meses|años)\b|"
                       r"\b(19|20)\d\d\b", re.I)
_CROSS_REF = re.compile(r"^(see|for (more|other)|read (our|the) |para m[aá]s|vea|consulte nuestra)\b|"
                        r"\b[a-z]{2,}-[a-z]{2,}-[a-z-]{2,}\b", re.I)
RANK_PENALTY = 0.03     # later passages need a slightly better sentence to be picked
MIN_CHARS = 24          # shorter fragments are not worth quoting alone
PER_PASSAGE = 2         # at most this many sentences from one passage
NEAR_DUPLICATE = 0.7    # word-set overlap above which a sentence repeats one already picked


@dataclass(frozen=True)
class Extract:
    lines: tuple[str, ...]           # "- “quote” [n]" bullets
    citations: tuple[Citation, ...]
    quotes: tuple[str, ...] = ()     # the plain quotes, for the evals

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


_SOFT_BREAK = re.compile(r"(?<=\S)[ \t]*\n(?![ \t]*(?:[-*•>#|]|\d+[.)]|\n))[ \t]*(?=\S)")


def _clean(s: str) -> str:
    return _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), s).replace("**", "").strip()


def _split(text: str) -> list[str]:
    """Sentences of a paragraph, not split after legal abbreviations ("Cal. Lab. Code § 2775")."""
    out: list[str] = []
    for piece in _SENT_SPLIT.split(text):
        if out and _ABBREV.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def sentences(passage_text: str) -> list[str]:
    """Quotable units of a passage: sentences; list items with their lead-in; table rows with the
    header row. Headings, source lines, disclaimers and cross-references are dropped."""
    units, fragments = [], []
    lead = ""
    header = ""
    for raw in _SOFT_BREAK.sub(" ", passage_text).split("\n"):
        line = raw.strip()
        if not line:
            continue
        if _META_LINE.match(line):
            continue
        if line.startswith("|"):
            cells = [_clean(c) for c in line.strip("|").split("|")]
            row = " | ".join(c for c in cells)
            if not header:
                header = row
                continue
            units.append(f"{header}{JOIN}{row}")
            continue
        header = ""
        is_item = bool(re.match(r"^([-*•]|\d+[.)])\s+", line))
        text = _clean(re.sub(r"^([-*•>]|\d+[.)])\s+", "", line))
        if is_item:
            if lead and len(text) >= 8 and not _CROSS_REF.search(text):
                units.append(f"{lead}{JOIN}{text}")
            elif len(text) >= MIN_CHARS and _FULL.match(text) and not _CROSS_REF.search(text):
                fragments.append(text)
            continue
        for s in _split(text):
            s = s.strip()
            if len(s) < MIN_CHARS or _CROSS_REF.search(s) or _DISCLAIMER.search(s):
                continue
            (units if _FULL.match(s) else fragments).append(s)
        last = _split(text)[-1].strip() if text else ""
        lead = last if last.endswith(":") and not _DISCLAIMER.search(last) else ""
    return units or fragments


def _words(s: str) -> set[str]:
    return {w for w in _WORD.findall(s.lower()) if w not in _STOP}


def extract(question: str, qvec: Sequence[float], passages: Sequence[Passage], embedder: Embedder,
            language: str, max_sentences: int, *, start: int = 1, floor: float = -9.0,
            keep_best: bool = True,
            where: str | None = None, work: str | None = None, place_penalty: float = 0.0) -> Extract:
    """Up to ``max_sentences`` quotes, numbered from ``start``; a quote from a place other than
    ``where`` (or any non-federal place when ``where`` is unknown) is labelled with its place.
    ``place_penalty``: with no ``where``, taken off sentences from a country the question is
    unlikely to be about (understanding.plausible_without_place), as the search does."""
    cands: list[tuple[int, int, str]] = []  # (passage index, position, unit)
    for pi, p in enumerate(passages):
        for si, s in enumerate(sentences(p.text)):
            if not s.rstrip().endswith("?"):  # a guide's own question ("Is your law in force yet?") answers nothing
                cands.append((pi, si, s))
    if not cands or max_sentences <= 0:
        return Extract((), ())
    vecs = np.asarray(embedder.embed([c[2] for c in cands]), dtype=np.float32)
    sims = vecs @ np.asarray(qvec, dtype=np.float32)
    qw = _words(question)
    wants_amount = bool(_ASKS_AMOUNT.search(question))
    wants_time = bool(_ASKS_TIME.search(question))
    scores = []
    for (pi, _si, s), sim in zip(cands, sims):
        overlap = len(qw & _words(s)) / max(1, len(qw))
        score = float(sim) + LEXICAL_WEIGHT * overlap - RANK_PENALTY * pi
        if (wants_amount and _HAS_AMOUNT.search(s)) or (wants_time and _HAS_TIME.search(s)):
            score += FIGURE_BONUS
        if passages[pi].language == language:
            score += LANGUAGE_BONUS
        if _PRONOUN.match(s.split(JOIN)[0]):
            score -= PRONOUN_PENALTY
        if where is None and not plausible_without_place(passages[pi].jurisdiction, language):
            score -= place_penalty
        scores.append(score)
    picked: list[int] = []
    per: dict[int, int] = {}
    seen: list[set[str]] = []
    for i in np.argsort(scores)[::-1]:
        pi = cands[i][0]
        if (picked or not keep_best) and scores[i] < floor:
            break
        if per.get(pi, 0) >= PER_PASSAGE:
            continue
        w = _words(cands[i][2])
        if any(len(w & s) / max(1, len(w | s)) >= NEAR_DUPLICATE for s in seen):
            continue
        picked.append(int(i))
        seen.append(w)
        per[pi] = per.get(pi, 0) + 1
        if len(picked) >= max_sentences:
            break
    # Best quote first; a source's quotes stay together, in document order.
    best: dict[int, float] = {}
    for i in picked:
        best[cands[i][0]] = max(best.get(cands[i][0], -9.0), scores[i])
    picked.sort(key=lambda i: (-best[cands[i][0]], cands[i][0], cands[i][1]))
    numbers: dict[int, int] = {}
    lines, quotes = [], []
    inside = set(scope(where) or ())
    for i in picked:
        pi, _si, s = cands[i]
        p = passages[pi]
        n = numbers.setdefault(pi, start + len(numbers))
        label = ""
        if (inside and p.jurisdiction not in inside) or (not inside and p.jurisdiction != "US"):
            label = f"**{place_name(p.jurisdiction, language)}:** "
        if work and p.worker_types and work not in p.worker_types:  # a rule for other workers
            kinds = ", ".join(WORK_NAMES.get(language, WORK_NAMES["en"]).get(w, w) for w in p.worker_types)
            label += f"**{'Para' if language == 'es' else 'For'} {kinds}:** "
        lang = "" if p.language == language else (" (en inglés)" if language == "es" else
                                                  f" ({'in English' if p.language == 'en' else 'en español'})")
        lines.append(f"- {label}“{escape_markdown(s)}” [{n}]{lang}")
        quotes.append(s)
    cites = tuple(to_citation(n, passages[pi]) for pi, n in sorted(numbers.items(), key=lambda x: x[1]))
    return Extract(tuple(lines), cites, tuple(quotes))

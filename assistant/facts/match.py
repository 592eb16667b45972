"""Pick the fact records that answer a question, and render the direct answer from them.

A record answers when it is for a place in the question's scope, for the worker's kind of work, is
about what is asked (how much, when, can they, whom to contact), and is close to the question in
meaning. Its evidence must still be verbatim in the document version the public sees: a record
whose document was changed, taken down or never indexed is not used.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from ..embeddings import Embedder
from ..prompts import text
from ..retrieval import terms
from ..types import Citation, Passage
from ..understanding.intent import ASKS
from ..understanding.places import place_name, scope
from .model import Fact, Rendered, check_figures, format_date, plain, render, render_value

_YEAR = re.compile(r"\b(20[12]\d)\b")


@dataclass(frozen=True)
class Weights:
    """How a record's match score is made (a logistic model's log-odds, fitted on the dev split's
    cases: does the record's sentence hold the case's key fact?). Every number is a setting."""

    floor: float             # least score for a record to lead the answer
    second_gap: float        # a second record leads too when within this of the best
    section_bonus: float     # the record's evidence section was retrieved for the question
    doc_bonus: float         # the record's document was retrieved
    ask_bonus: float         # the record answers the kind of question asked
    topic_bonus: float       # the record's topic is the question's
    keyword_bonus: float     # per keyword of the record found in the question (up to 3)
    overlap_weight: float    # times the share of the question's words in the record's sentence
    similarity_weight: float  # times the cosine of the question and the record
    question_weight: float = 0.0  # times the best cosine of the question and the record's examples
    questions_mean_weight: float = 0.0  # times their mean cosine

# When the topic model is this sure of a question's topic, a record whose topic it gives less than
# TOPIC_NOT is not a candidate, however close its words are.
TOPIC_SURE, TOPIC_NOT = 0.6, 0.05
# With no place, records on a topic the classifier gives under TOPIC_UNLIKELY are not led with once
# some topic has TOPIC_LIKELY (picked on the dev split).
TOPIC_LIKELY, TOPIC_UNLIKELY = 0.4, 0.15

# Each feature of a (question, record) pair and the weight that multiplies it.
FEATURES = {"similarity": "similarity_weight", "section": "section_bonus", "doc": "doc_bonus",
            "ask": "ask_bonus", "topic": "topic_bonus", "keywords": "keyword_bonus",
            "overlap": "overlap_weight", "question": "question_weight",
            "questions_mean": "questions_mean_weight"}


@dataclass(frozen=True)
class Match:
    rendered: Rendered
    score: float
    features: Mapping[str, float] = field(default_factory=dict)


def asked_year(question: str, today: dt.date) -> int | None:
    """A year the question asks about ("in 2024"), when it is not this year."""
    years = [int(y) for y in _YEAR.findall(question)]
    return years[0] if years and years[0] != today.year else None


class FactBook:
    """The records, their vectors for matching, and the check against visible document text."""

    def __init__(self, facts: Sequence[Fact], embedder: Embedder, cache_dir: Path | None = None):
        self.facts = list(facts)
        self.embedder = embedder
        self.cache_dir = cache_dir
        self._vecs: dict[str, np.ndarray] | None = None
        self._statics: dict[str, tuple[str, str, frozenset[str]]] = {}
        self._lock = threading.Lock()
        self._stacked: tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray] | None = None

    def _text(self, f: Fact) -> str:
        v = f.latest()
        parts = [render_value(f, v, "en"), " ".join(f.keywords)]
        if "es" in f.text:
            parts.append(render_value(f, v, "es"))
        return " ".join(parts)

    def _static(self, f: Fact) -> tuple[str, str, frozenset[str]]:
        """(text to embed, its cache key, words of its sentences and keywords), once per record."""
        got = self._statics.get(f.id)
        if got is None:
            text = self._text(f)
            key = hashlib.sha256((text + self.embedder.name).encode()).hexdigest()[:20]
            got = (text, key, frozenset(terms(text)))
            self._statics[f.id] = got
        return got

    def vectors(self, facts: Sequence[Fact]) -> np.ndarray:
        """Unit vectors of these records; each is embedded once (memory, then the data dir)."""
        if not facts:
            return np.zeros((0, 1), dtype=np.float32)
        return self._embed_keyed([self._static(f)[:2] for f in facts], query=False)

    def question_vectors(self, facts: Sequence[Fact]) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors of the records' example questions, and for each row the index of its
        record in ``facts`` (records without examples have no rows)."""
        items, owner = [], []
        for i, f in enumerate(facts):
            for q in f.questions:
                items.append((q, "q:" + hashlib.sha256((q + self.embedder.name).encode()).hexdigest()[:20]))
                owner.append(i)
        if not items:
            return np.zeros((0, 1), dtype=np.float32), np.zeros(0, dtype=np.int64)
        return self._embed_keyed(items, query=True), np.asarray(owner, dtype=np.int64)

    def _matrices(self, facts: Sequence[Fact]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The records' and their examples' vectors, stacked once per set of records (the visible
        set rarely changes; restacking it cost about 5 ms a question). Call with the lock held."""
        key = tuple(f.id for f in facts)
        if self._stacked is None or self._stacked[0] != key:
            self._stacked = (key, self.vectors(facts), *self.question_vectors(facts))
        return self._stacked[1:]

    def _embed_keyed(self, items: Sequence[tuple[str, str]], query: bool) -> np.ndarray:
        """(text, cache key) pairs to unit vectors, embedding only those not cached yet."""
        if self._vecs is None:
            self._vecs = self._load_cache()
        missing = list({key: text for text, key in items if key not in self._vecs}.items())
        if missing:
            vecs = np.asarray(self.embedder.embed([text for _k, text in missing], query=query),
                              dtype=np.float32)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
            for (key, _t), v in zip(missing, vecs):
                self._vecs[key] = v
            self._save_cache()
        return np.stack([self._vecs[key] for _t, key in items])

    def warm(self, visible: Sequence[str]) -> None:
        """Embed now the records that quote a visible document (the first question then waits for
        nothing)."""
        shown = set(visible)
        with self._lock:
            self._matrices([f for f in self.facts if self._quotes(f, shown)])

    @staticmethod
    def _quotes(f: Fact, shown: set[str]) -> bool:
        return any(e.doc_id in shown for v in f.values for e in v.evidence)

    def _cache_path(self) -> Path | None:
        return self.cache_dir / f"fact-vectors-{self.embedder.name}.npz" if self.cache_dir else None

    def _load_cache(self) -> dict[str, np.ndarray]:
        path = self._cache_path()
        if path and path.exists():
            try:
                with np.load(path) as z:
                    return {k: z[k] for k in z.files}
            except (OSError, ValueError):
                pass  # a damaged cache is rebuilt
        return {}

    def _save_cache(self) -> None:
        path = self._cache_path()
        if not path or self._vecs is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, **self._vecs)
            tmp.replace(path)
        except OSError:
            pass  # a read-only data dir only costs the embedding at the next start

    def match(self, question: str, qvec: Sequence[float], *, language: str, place: str | None,
              work: str | None, asks: Sequence[str], today: dt.date, passages: Sequence[Passage],
              verbatim: Callable[[str, Sequence[str]], bool], w: Weights,
              topic: str | None = None, query: str | None = None,
              visible: Sequence[str] | None = None, topic_probs: Mapping[str, float] | None = None,
              intent_probs: Mapping[str, float] | None = None, also: Sequence[str] = ()) -> list[Match]:
        """Records that answer the question, best first (at most one per record). ``visible``: the
        documents the reader may see; records quoting none of them are not considered.
        ``topic_probs`` / ``intent_probs``: the classifier's probabilities; a record's topic and
        kind-of-question bonuses are then weighed by how likely its topic and kind are, not by
        whether they are the single best guess."""
        shown = set(visible) if visible is not None else None
        facts = [f for f in self.facts if shown is None or self._quotes(f, shown)]
        if not facts:
            return []
        q = np.asarray(qvec, dtype=np.float32)
        q = q / max(float(np.linalg.norm(q)), 1e-9)
        with self._lock:
            vecs, qvecs, owner = self._matrices(facts)
        sims = vecs @ q
        asked_like = np.zeros(len(facts), dtype=np.float32)  # best cosine with a record's examples
        asked_mean = np.zeros(len(facts), dtype=np.float32)  # and the mean cosine
        if len(owner):
            qs = qvecs @ q
            np.maximum.at(asked_like, owner, qs)
            np.add.at(asked_mean, owner, qs)
            asked_mean /= np.maximum(np.bincount(owner, minlength=len(facts)), 1)
        places = set(scope(place) or ()) | (set(also) if place else set())
        retrieved = {(base_doc(p.doc_id), p.section.split(" > ")[-1]) for p in passages}
        retrieved_docs = {base_doc(p.doc_id) for p in passages}
        folded = _loose(question)
        year = asked_year(question, today)
        qterms = terms(query or question)
        out: list[Match] = []
        sure_topic = max(topic_probs.values()) >= TOPIC_SURE if topic_probs else False
        for f, sim, like, mean in zip(facts, sims, asked_like, asked_mean):
            if places and (f.jurisdiction not in places or not f.covers(place)):
                continue
            if sure_topic and topic_probs.get(f.topic, 0.0) < TOPIC_NOT:
                continue  # the question is surely on another topic: a pay floor never answers a tax question
            if not f.applies_to(work):
                continue
            r = render(f, language, today, year)
            if r is None:
                continue
            ev = (base_doc(r.evidence.doc_id), r.evidence.section)
            x = {"similarity": float(sim), "section": float(ev in retrieved),
                 "doc": float(ev[0] in retrieved_docs),
                 "ask": ask_likelihood(f.asks, asks, intent_probs),
                 "topic": float(topic_probs.get(f.topic, 0.0) if topic_probs else topic == f.topic),
                 "keywords": float(min(3, sum(1 for k in f.keywords if _loose(k) in folded))),
                 "overlap": len(qterms & self._static(f)[2]) / max(1, len(qterms)),
                 "question": float(like), "questions_mean": float(mean)}
            score = sum(getattr(w, FEATURES[k]) * v for k, v in x.items())
            if score >= w.floor and verbatim(r.evidence.doc_id, r.evidence.quote):
                out.append(Match(r, score, x))
        out.sort(key=lambda m: -m.score)
        return out


def ask_likelihood(fact_asks: Sequence[str], asks: Sequence[str],
                   intent_probs: Mapping[str, float] | None) -> float:
    """How likely the question asks what the record answers: the summed probability of the
    intents whose kinds of fact include one of the record's; without probabilities, 1 or 0."""
    if not intent_probs:
        return float(bool(set(asks) & set(fact_asks)))
    want = set(fact_asks)
    return sum(p for intent, p in intent_probs.items() if want & set(ASKS.get(intent, ())))


def _loose(text: str) -> str:
    """Lower case, hyphens as spaces: "self employment tax" finds "self-employment tax"."""
    return " " + re.sub(r"[\s\-–]+", " ", text.lower()) + " "


def base_doc(doc_id: str) -> str:
    """The document a translation is of ("x-es" is the Spanish text of "x")."""
    return doc_id[:-3] if doc_id.endswith("-es") else doc_id


def lead(matches: Sequence[Match], w: Weights, place: str | None,
         within: Sequence[str] = ()) -> list[Match]:
    """The one or two records the answer opens with. For a question with no place whose best
    records are for particular places, one record per place, the federal (or EU-wide) one first
    ("it depends on where you work"); the same when the best record is for a place ``within`` the
    named one ("new york": the city's rule and the state's, each with its place)."""
    if not matches:
        return []
    best = matches[0]
    if (place is None and best.rendered.fact.jurisdiction != "US") or \
            best.rendered.fact.jurisdiction in within:
        by_place: dict[str, Match] = {}
        for m in matches:
            if m.rendered.fact.topic != best.rendered.fact.topic:
                continue  # one rule, place by place: not a tax rule beside an unemployment one
            j = m.rendered.fact.jurisdiction
            # A federal or EU-wide record applies wherever the worker is: keep the best one.
            if m.score >= best.score - w.second_gap * 2 or (j in ("US", "EU") and j not in by_place):
                by_place.setdefault(j, m)
        ordered = sorted(by_place.values(), key=lambda m: (m.rendered.fact.jurisdiction not in ("US", "EU"),
                                                          -m.score))
        if place is None and len(ordered) == 1 and ordered[0].rendered.fact.jurisdiction not in ("US", "EU"):
            return []  # one place's rule under "it depends on where you work" reads as the only rule
        return ordered[:4]
    out = [best]
    for m in matches[1:]:
        same_rule = m.rendered.fact.topic == best.rendered.fact.topic and \
            m.rendered.fact.jurisdiction == best.rendered.fact.jurisdiction
        if m.score >= best.score - w.second_gap and same_rule:
            out.append(m)
            break
    return out


def next_step(matches: Sequence[Match], leads: Sequence[Match], topic: str | None) -> Match | None:
    """The record that says what to do next (a deadline, whom to contact, a step) for the same
    topic and place as the answer, when it is not already the answer."""
    if not leads and not topic:
        return None
    used = {m.rendered.fact.id for m in leads}
    want_topic = leads[0].rendered.fact.topic if leads else topic
    places = set(scope(leads[0].rendered.fact.jurisdiction) or ()) if leads else None
    for m in matches:
        f = m.rendered.fact
        if f.id in used or f.topic != want_topic or (places is not None and f.jurisdiction not in places):
            continue
        if f.kind in ("deadline", "agency") or set(f.asks) & {"what_to_do", "whom_to_contact"}:
            return m
    return None


def citation(n: int, r: Rendered, row: Mapping[str, object] | None) -> Citation:
    row = row or {}
    return Citation(n=n, doc_id=r.evidence.doc_id, title=str(row.get("title") or r.evidence.doc_id),
                    doc_type=str(row.get("doc_type") or "guide"), jurisdiction=r.fact.jurisdiction,
                    section=r.evidence.section, page=None, quote=r.evidence.text,
                    source_url=r.fact.published_at or str(row.get("source_url") or ""),
                    effective_date=r.value.effective_from.isoformat(),
                    last_verified=r.fact.last_verified.isoformat(), chunk_id=f"fact:{r.fact.id}")


def as_of_line(r: Rendered, language: str, today: dt.date) -> str:
    lines = []
    if r.historical:
        lines.append(text(language, "fact_historical", year=str(r.value.effective_from.year)))
    else:
        lines.append(text(language, "fact_as_of" if r.value.start_confirmed else "fact_as_of_unconfirmed",
                          today=format_date(today, language),
                          since=format_date(r.value.effective_from, language),
                          checked=format_date(r.fact.last_verified, language)))
    if r.stale and r.fact.next_change:
        who = r.fact.published_by.get(language) or r.fact.published_by.get("en") or "the agency"
        rule = r.fact.next_change_rule.get(language) or r.fact.next_change_rule.get("en")
        key = "fact_stale" if rule else "fact_stale_norule"
        lines.append(text(language, key, when=format_date(r.fact.next_change, language), rule=rule or "",
                          who=who, url=r.fact.published_at or "-"))
    return " ".join(lines)


def direct_lines(leads: Sequence[Match], language: str, place: str | None, first_n: int
                 ) -> tuple[list[str], list[Rendered]]:
    """The opening sentences with their [n] markers, numbered from ``first_n``."""
    rs = [m.rendered for m in leads]
    places = {r.fact.jurisdiction for r in rs}
    lines: list[str] = []
    if place is None and (len(places) > 1 or places - {"US"}):
        lines.append(text(language, "fact_depends"))
        for i, r in enumerate(rs):
            label = "" if r.evidence.language == language else f" {text(language, 'fact_english_quote')}"
            lines.append(f"- **{place_name(r.fact.jurisdiction, language)}:** {r.sentence} "
                         f"[{first_n + i}]{label}")
        lines.append("")
        lines.append(text(language, "fact_choose"))
        return lines, rs
    sentence = " ".join(f"{r.sentence} [{first_n + i}]" for i, r in enumerate(rs))
    lines.append(sentence)
    return lines, rs


def figure_check(rs: Sequence[Rendered]) -> list[str]:
    """Problems: numbers in a rendered sentence that its cited quote does not contain."""
    bad = []
    for r in rs:
        missing = check_figures(r.sentence, " ".join(r.evidence.quote))
        if missing:
            bad.append(f"{r.fact.id}: {', '.join(missing)}")
    return bad


def verbatim_in(text: str, pieces: Sequence[str], normalised: bool = False) -> bool:
    """Every piece is in the text (both compared as a reader sees them; ``normalised``: the text
    already went through facts.plain)."""
    body = text if normalised else plain(text)
    return bool(text) and all(plain(piece) in body for piece in pieces)

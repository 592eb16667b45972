"""Facts: sourced, dated records of the rules a worker acts on, beside the prose of the corpus.

One record (corpus/facts/*.yaml) per rule: a pay floor, a rate or threshold, a deadline, a right,
a benefit or an agency. Each keeps its history of values (``effective_from`` / ``effective_to``), when
it is next expected to change, when it was last verified, and for every value its evidence: a
verbatim quote of a corpus section that contains every figure the value states.

This module loads and validates the records, picks the value in force on a date, renders the
record as one plain sentence in English or Spanish, and checks that every number in a rendered
sentence appears in the quote it cites. Matching a record to a question lives in core (it needs the
understanding of the question); this module is pure data + functions.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from ..understanding.places import scope

KINDS = ("pay_floor", "rate", "threshold", "deadline", "right", "benefit", "agency")
ASKS = ("how_much", "when", "can_they", "what_to_do", "whom_to_contact")
WORKER_TYPES = ("rideshare", "delivery", "grocery", "courier", "freelance", "annotation", "care", "all")
LANGS = ("en", "es")
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# A number as written in prose: 1,234.56 / 0.45 / 15.3 / 2025. Signs and units are not part of it.
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.,])\d+(?:\.\d+)?(?![\w])")
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
           "octubre", "noviembre", "diciembre"),
}


class FactError(ValueError):
    """A facts file is malformed or its evidence does not hold (message names file, id and fix)."""


@dataclass(frozen=True)
class Evidence:
    doc_id: str
    section: str
    quote: tuple[str, ...]  # one or more verbatim pieces of the section (a table row with its header)
    language: str = "en"

    @property
    def text(self) -> str:
        return " … ".join(self.quote)


@dataclass(frozen=True)
class Value:
    effective_from: dt.date
    effective_to: dt.date | None
    figures: Mapping[str, str]
    evidence: tuple[Evidence, ...]
    # False when effective_from is only the date a rule was adopted or reported (a veto override,
    # a news report) and its start in law is not confirmed: answers then never say "in force since".
    start_confirmed: bool = True

    def in_force(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def evidence_for(self, language: str) -> Evidence:
        return next((e for e in self.evidence if e.language == language), self.evidence[0])


@dataclass(frozen=True)
class Fact:
    id: str
    kind: str
    jurisdiction: str
    worker_types: tuple[str, ...]
    topic: str
    asks: tuple[str, ...]
    text: Mapping[str, str]          # template per language, placeholders from figures + dates
    values: tuple[Value, ...]        # oldest first
    last_verified: dt.date
    next_change: dt.date | None = None
    next_change_rule: Mapping[str, str] = field(default_factory=dict)
    published_at: str = ""           # the official page where the current figure is published
    published_by: Mapping[str, str] = field(default_factory=dict)
    keywords: tuple[str, ...] = ()
    source_file: str = ""
    # Questions workers ask that this record answers (corpus/facts/questions/): matching only.
    questions: tuple[str, ...] = ()
    # Places inside ``jurisdiction`` the record does not cover ("outside New York City": US-NY-NYC).
    not_in: tuple[str, ...] = ()

    def covers(self, place: str | None) -> bool:
        """False for a place inside one the record leaves out (a NYC driver and the rule for the
        rest of New York State)."""
        levels = scope(place) or []
        return not any(x in levels for x in self.not_in)

    def value_on(self, on: dt.date) -> Value | None:
        """The value in force on a date; None if the record says nothing for that date."""
        for v in reversed(self.values):
            if v.in_force(on):
                return v
        return None

    def value_for_year(self, year: int) -> Value | None:
        """The value in force for most of a year (the latest one that started on or before 1 July)."""
        mid = dt.date(year, 7, 1)
        got = self.value_on(mid)
        if got:
            return got
        for v in reversed(self.values):
            if v.effective_from.year == year or (v.effective_from <= dt.date(year, 12, 31) and
                                                 (v.effective_to is None or v.effective_to.year >= year)):
                return v
        return None

    def latest(self) -> Value:
        return self.values[-1]

    def due(self, today: dt.date) -> bool:
        """The expected change date has passed and no value from it on is recorded: the figure
        in force today may differ from the newest one we have."""
        if self.next_change is None or today < self.next_change:
            return False
        current = self.value_on(today)
        return current is None or current.effective_from < self.next_change

    def applies_to(self, worker_type: str | None) -> bool:
        return worker_type is None or "all" in self.worker_types or worker_type in self.worker_types


# -- loading and validation ------------------------------------------------------------------------
def _date(v: Any, where: str) -> dt.date:
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise FactError(f"{where}: '{v}' is not an ISO date (YYYY-MM-DD)") from None


def _lang_map(v: Any, where: str, required: bool = True) -> dict[str, str]:
    if v is None and not required:
        return {}
    if not isinstance(v, dict) or "en" not in v or not all(k in LANGS for k in v):
        raise FactError(f"{where}: give an 'en' text (and optionally 'es'), got {v!r}")
    return {k: str(x) for k, x in v.items()}


def parse_fact(d: Mapping[str, Any], source: str = "") -> Fact:
    fid = d.get("id") or "?"
    where = f"{source}: fact '{fid}'"
    for key in ("id", "kind", "jurisdiction", "worker_types", "topic", "asks", "text", "values",
                "last_verified"):
        if key not in d:
            raise FactError(f"{where}: missing '{key}'")
    if d["kind"] not in KINDS:
        raise FactError(f"{where}: kind '{d['kind']}' is not one of {', '.join(KINDS)}")
    bad = [w for w in d["worker_types"] if w not in WORKER_TYPES]
    if bad:
        raise FactError(f"{where}: unknown worker_types {bad}; use {', '.join(WORKER_TYPES)}")
    bad = [a for a in d["asks"] if a not in ASKS]
    if bad:
        raise FactError(f"{where}: unknown asks {bad}; use {', '.join(ASKS)}")
    text = _lang_map(d["text"], f"{where} text")
    values = []
    for i, v in enumerate(d["values"]):
        vw = f"{where} value {i + 1}"
        figures = {str(k): str(x) for k, x in (v.get("figures") or {}).items()}
        ev = []
        for e in v.get("evidence") or ():
            q = e.get("quote")
            quote = tuple(q) if isinstance(q, list) else (str(q),) if q else ()
            if not e.get("doc_id") or not e.get("section") or not quote:
                raise FactError(f"{vw}: evidence needs doc_id, section and quote")
            ev.append(Evidence(str(e["doc_id"]), str(e["section"]), tuple(map(str, quote)),
                               str(e.get("language", "en"))))
        if not ev:
            raise FactError(f"{vw}: no evidence; every value needs a verbatim quote")
        start = _date(v.get("effective_from"), f"{vw} effective_from")
        end = _date(v["effective_to"], f"{vw} effective_to") if v.get("effective_to") else None
        if end and end < start:
            raise FactError(f"{vw}: effective_to is before effective_from")
        confirmed = v.get("start_confirmed", True)
        if not isinstance(confirmed, bool):
            raise FactError(f"{vw}: start_confirmed must be true or false")
        values.append(Value(start, end, figures, tuple(ev), confirmed))
    if not values:
        raise FactError(f"{where}: no values")
    values.sort(key=lambda x: x.effective_from)
    for lang, tmpl in text.items():
        for name in _PLACEHOLDER.findall(tmpl):
            if name not in ("year", "from", "to") and any(name not in v.figures for v in values):
                raise FactError(f"{where}: text ({lang}) uses {{{name}}}, which a value has no figure for")
    return Fact(
        id=str(d["id"]), kind=d["kind"], jurisdiction=str(d["jurisdiction"]),
        worker_types=tuple(d["worker_types"]), topic=str(d["topic"]), asks=tuple(d["asks"]),
        text=text, values=tuple(values), last_verified=_date(d["last_verified"], f"{where} last_verified"),
        next_change=_date(d["next_change"], f"{where} next_change") if d.get("next_change") else None,
        next_change_rule=_lang_map(d.get("next_change_rule"), f"{where} next_change_rule", False),
        published_at=str(d.get("published_at") or ""),
        published_by=_lang_map(d.get("published_by"), f"{where} published_by", False),
        keywords=tuple(str(k) for k in d.get("keywords") or ()), source_file=source,
        not_in=tuple(str(x) for x in d.get("not_in") or ()))


QUESTIONS = "questions"  # the subfolder of example questions per record


def load_facts(facts_dir: Path) -> list[Fact]:
    """Every record in ``facts_dir/*.yaml`` (a missing directory means no facts), with its example
    questions from ``facts_dir/questions/*.yaml``. Parsed once per set of file versions: the records
    are immutable, and every Assistant of a process shares them."""
    paths = sorted(Path(facts_dir).glob("*.yaml")) + sorted((Path(facts_dir) / QUESTIONS).glob("*.yaml"))
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    return list(_load(key))


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: 10x faster


@functools.lru_cache(maxsize=8)
def _load(key: tuple[tuple[str, int, int], ...]) -> tuple[Fact, ...]:
    out: list[Fact] = []
    seen: set[str] = set()
    asked: dict[str, tuple[str, ...]] = {}
    for name, _mtime, _size in key:
        path = Path(name)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader) or {}
        except yaml.YAMLError as exc:
            raise FactError(f"{path.name}: not valid YAML ({exc})") from None
        if path.parent.name == QUESTIONS:
            asked.update(_questions(data, f"{QUESTIONS}/{path.name}", asked))
            continue
        for d in data.get("facts") or ():
            f = parse_fact(d, path.name)
            if f.id in seen:
                raise FactError(f"{path.name}: fact id '{f.id}' is used twice")
            seen.add(f.id)
            out.append(f)
    unknown = sorted(set(asked) - seen)
    if unknown:
        raise FactError(f"{QUESTIONS}/: questions for records that do not exist: {', '.join(unknown)}")
    return tuple(replace(f, questions=asked.get(f.id, ())) for f in out)


def _questions(data: Any, where: str, earlier: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, Mapping):
        raise FactError(f"{where}: expected a mapping of record id to a list of questions")
    out: dict[str, tuple[str, ...]] = {}
    for fid, qs in data.items():
        if fid in earlier:
            raise FactError(f"{where}: questions for '{fid}' are given twice")
        if not isinstance(qs, list) or not all(isinstance(q, str) and q.strip() for q in qs):
            raise FactError(f"{where}: '{fid}' needs a list of non-empty questions")
        out[str(fid)] = tuple(q.strip() for q in qs)
    return out


def plain(text: str) -> str:
    """Markdown text as a reader sees it, for verbatim checks: emphasis and escapes removed, spaces
    collapsed, typographic quotes kept."""
    text = re.sub(r"\*\*|__|\\(?=[^\w\s])", "", text)
    return re.sub(r"\s+", " ", text).strip()


def markdown_sections(markdown: str) -> dict[str, str]:
    """Heading text -> the section's text up to the next heading (any level)."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in markdown.splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            current = m.group(1).strip()
            out.setdefault(current, [])
        else:
            out.setdefault(current, []).append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def numbers(text: str) -> set[Decimal]:
    """The numbers written in a text, normalised (5.20 == 5.2; 20,000 == 20000)."""
    got = set()
    for m in _NUMBER.findall(text):
        try:
            got.add(Decimal(m.replace(",", "")).normalize())
        except InvalidOperation:
            continue
    return got


def check_figures(sentence: str, quote: str) -> list[str]:
    """Numbers of a rendered sentence that its quote does not contain (empty = the check passes)."""
    have = numbers(quote)
    return sorted({str(n) for n in numbers(sentence) if n not in have})


def check_evidence(facts: Iterable[Fact], docs: Mapping[str, str]) -> list[str]:
    """Problems with the evidence of the records: ``docs`` maps doc_id -> Markdown text. Each quote
    must be verbatim in its section, and every figure of the value must appear in the quote."""
    problems = []
    for f in facts:
        for v in f.values:
            for e in v.evidence:
                where = f"{f.source_file}: {f.id} ({v.effective_from}, {e.doc_id})"
                if e.doc_id not in docs:
                    problems.append(f"{where}: no document '{e.doc_id}' in the manifest")
                    continue
                sections = markdown_sections(docs[e.doc_id])
                if e.section not in sections:
                    problems.append(f"{where}: no section '{e.section}'")
                    continue
                body = plain(sections[e.section])
                for piece in e.quote:
                    if plain(piece) not in body:
                        problems.append(f"{where}: quote not verbatim in '{e.section}': {piece[:80]!r}")
                joined = " ".join(e.quote)
                for name, fig in v.figures.items():
                    if not numbers(fig):
                        if plain(fig).lower() not in plain(joined).lower():
                            problems.append(f"{where}: figure {name}={fig!r} is not in its quote")
                        continue
                    missing = numbers(fig) - numbers(joined)
                    if missing:
                        problems.append(f"{where}: figure {name}={fig!r} is not in its quote")
                lang_tmpl = f.text.get(e.language) or f.text["en"]
                rendered = render_value(f, v, e.language if e.language in f.text else "en")
                bad = check_figures(rendered, joined)
                if bad and lang_tmpl:
                    problems.append(f"{where}: rendered sentence has {bad}, not in its quote")
    return problems


# Kinds whose figure names mean the same thing in every record (per_minute, per_mile, hourly ...).
# Thresholds and benefits reuse generic names (amount, threshold) for different things.
SAME_FIGURE_KINDS = ("pay_floor", "rate")


def conflicting_figures(facts: Sequence[Fact]) -> list[str]:
    """Pairs of records for the same place, topic and kind of work that state the same money figure
    (same name, pay floors and rates) with different amounts for overlapping dates."""
    def money(s: str) -> bool:
        return bool(re.match(r"\s*(?:CA)?[$£€]", str(s)))

    def overlap(a: Value, b: Value) -> bool:
        end = dt.date.max
        return a.effective_from <= (b.effective_to or end) and b.effective_from <= (a.effective_to or end)

    rules = [f for f in facts if f.kind in SAME_FIGURE_KINDS]
    out = []
    for i, a in enumerate(rules):
        for b in rules[i + 1:]:
            work_a, work_b = set(a.worker_types), set(b.worker_types)
            if (a.jurisdiction, a.topic) != (b.jurisdiction, b.topic) or not (work_a & work_b or "all" in work_a | work_b):
                continue
            for va in a.values:
                for vb in b.values:
                    for name in sorted(va.figures.keys() & vb.figures.keys()) if overlap(va, vb) else ():
                        x, y = va.figures[name], vb.figures[name]
                        if money(x) and money(y) and numbers(x) != numbers(y):
                            out.append(f"{a.id} ({va.effective_from}) and {b.id} ({vb.effective_from}) give "
                                       f"{name} as {x} and {y} for the same place, topic, work and dates")
    return out


def due_figures(facts: Iterable[Fact], today: dt.date) -> list[dict[str, Any]]:
    """Records whose figure was expected to change by ``today`` with no value recorded from that
    date on: each may be out of date. Oldest due date first, for whoever checks them."""
    out = []
    for f in (f for f in facts if f.due(today)):
        latest = f.latest()
        out.append({"id": f.id, "jurisdiction": f.jurisdiction, "topic": f.topic,
                    "figures": dict(latest.figures), "from": latest.effective_from.isoformat(),
                    "next_change": f.next_change.isoformat(),
                    "rule": f.next_change_rule.get("en", ""), "last_verified": f.last_verified.isoformat(),
                    "published_at": f.published_at or ""})
    return sorted(out, key=lambda r: (r["next_change"], r["id"]))


# -- rendering -------------------------------------------------------------------------------------
def format_date(d: dt.date, language: str) -> str:
    month = _MONTHS["es" if language == "es" else "en"][d.month - 1]
    return f"{d.day} de {month} de {d.year}" if language == "es" else f"{month} {d.day}, {d.year}"


def render_value(f: Fact, v: Value, language: str) -> str:
    tmpl = f.text.get(language) or f.text["en"]
    fill = dict(v.figures)
    fill["year"] = str(v.effective_from.year)
    fill["from"] = format_date(v.effective_from, language)
    fill["to"] = format_date(v.effective_to, language) if v.effective_to else ""
    return _PLACEHOLDER.sub(lambda m: fill.get(m.group(1), m.group(0)), tmpl)


@dataclass(frozen=True)
class Rendered:
    """A fact rendered for one answer: the sentence, the value used and its evidence."""

    fact: Fact
    value: Value
    sentence: str
    evidence: Evidence
    stale: bool          # the value's expected change date has passed with no newer value recorded
    historical: bool     # the value is not the one in force today (the question asked about a year)


def render(f: Fact, language: str, today: dt.date, year: int | None = None) -> Rendered | None:
    """The record as one sentence for a question about ``year`` (or about today)."""
    v = f.value_for_year(year) if year else f.value_on(today)
    historical = bool(year) and v is not None and not v.in_force(today)
    if v is None and not year:
        v = f.latest() if f.latest().effective_from <= today else None
    if v is None:
        return None
    stale = f.due(today)  # for a past year too: today's figure may differ from the newest we have
    ev = v.evidence_for(language)
    return Rendered(f, v, render_value(f, v, language), ev, stale, historical)

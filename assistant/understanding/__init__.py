"""Understand a question: its language, where the worker works, the kind of work, what is asked.

- places.py: jurisdiction codes and the place a question names or implies (datasets + data/places.yaml)
- intent.py: kind of work, topic and intent, learned from labelled examples (data/examples_*.jsonl)
- data/work.yaml: platforms and words -> kind of work

``understand()`` is the one entry point the pipeline calls; each part can be called alone in tests.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import yaml

from .places import (canonical, city_also_meant, country_of, eu_members, find_places, fold, in_us, pick_place,  # noqa: F401
                     place_name, plausible_without_place, scope, valid_jurisdiction)

DATA = Path(__file__).with_name("data")
History = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Understanding:
    language: str
    place: str | None            # the jurisdiction to answer for
    place_how: str               # "sidebar", "home", "named", "clue", "platform" or "" (none)
    named: str | None            # a place the question itself names or implies
    work: str | None             # rideshare, delivery, grocery, courier, freelance, annotation, care
    intent: str                  # how_much, when, can_they, what_to_do, whom_to_contact, platform_policy,
                                 # individual_strategy, fraud, out_of_scope, or "" when unsure
    topic: str | None = None
    asks: tuple[str, ...] = ()   # the kinds of fact that answer it (for the facts layer)
    scores: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    # The classifier's probability of each topic and intent (the facts layer weighs records by
    # them rather than by the single best guess).
    topic_probs: dict[str, float] = field(default_factory=dict)
    intent_probs: dict[str, float] = field(default_factory=dict)
    # "words" when a platform or work word names the work, "model" when only the classifier guessed
    # it (a guess ranks sources; it never hides a record written for other kinds of work).
    work_how: str = ""
    # Places inside ``place`` that the question's words may mean too ("new york": the city as well
    # as the state); their sources and records are considered, labelled with their place.
    within: tuple[str, ...] = ()
    # A US state or city with no documents of its own, answered with US federal rules (``place`` is
    # then "US"): the answer says so.
    federal_for: str | None = None

    @property
    def named_work(self) -> str | None:
        """The kind of work the question's own words name; a classifier guess only ranks sources."""
        return self.work if self.work_how == "words" else None


# -- language ---------------------------------------------------------------------------------------
_ES_WORDS = set("el la los las de del que qué y en un una por para con mi me puedo cómo como cuánto "
                "cuanto pagan pago trabajo trabajador trabajadores tengo derecho derechos es está son "
                "si no sin plataforma cuenta desactivar desactivaron impuestos seguro salud propinas "
                "dónde donde cuando cuándo porque qué hago pueden soy estoy hay q xq pq".split())
_EN_WORDS = set("the a an and of to in is are my me can do does what how when where why for with "
                "i you it on get paid pay if not without im i'm dont".split())


def detect_language(text: str) -> str:
    """en or es, from function words (short, typo-ridden questions defeat general identifiers)."""
    words = re.findall(r"[a-záéíóúñü']+", text.lower())
    es = sum(w in _ES_WORDS for w in words) + 2 * sum(ch in "ñ¿¡áéíóú" for ch in text.lower())
    en = sum(w in _EN_WORDS for w in words)
    return "es" if es > en else "en"


# -- kind of work -----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _work_data() -> dict:
    return yaml.safe_load((DATA / "work.yaml").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _work_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    d = _work_data()
    table = {fold(k): v for k, v in {**d["words"], **d["platforms"]}.items()}
    keys = sorted(table, key=len, reverse=True)
    return re.compile(r"(?<![\w])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w])"), table


def work_from_words(text: str) -> str | None:
    """The kind of work a platform or work word names; platforms beat generic words."""
    pat, table = _work_pattern()
    platforms = {fold(k) for k in _work_data()["platforms"]}
    found = [m.group(1) for m in pat.finditer(fold(text))]
    for key in found:
        if key in platforms:
            return table[key]
    return table[found[0]] if found else None


# -- follow-ups -------------------------------------------------------------------------------------
_FOLLOW_UP = re.compile(r"^\s*(and|what about|how about|y|¿?y si|what if|also|but|same|does that|"
                        r"is that|can they|do they|it|that|this|those)\b", re.I)


def retrieval_query(question: str, history: History) -> str:
    """Fold the previous user turn into the search query for short or pronoun-led follow-ups."""
    prev = [text for role, text in history if role == "user"]
    if prev and (len(question.split()) < 9 or _FOLLOW_UP.search(question)):
        return f"{prev[-1]} {question}"
    return question


# -- the place to answer for --------------------------------------------------------------------------
def choose_place(question: str, history: History, sidebar: str | None,
                 catalog_places: Iterable[str] = ()) -> tuple[str | None, str, str | None, list[str]]:
    """(place, how, named, warnings). The question's own place wins over the sidebar when they do
    not overlap; clue words and platforms only fill in when nothing else says where."""
    sidebar = canonical(sidebar)
    hits = find_places(question, catalog_places)
    if not hits:  # a follow-up keeps the place of the turn before
        for role, text in reversed(list(history)):
            if role == "user":
                hits = find_places(text, catalog_places)
                break
    hit = pick_place(hits)
    named = hit.code if hit else None
    warnings: list[str] = []
    if hit is None:
        return sidebar, "sidebar" if sidebar else "", None, warnings
    if sidebar is None:
        return named, hit.how, named, warnings
    if hit.how in ("clue", "platform"):
        if country_of(named) != country_of(sidebar) and named not in (scope(sidebar) or ()):
            warnings.append(f"other_country:{named}")
        return sidebar, "sidebar", named, warnings
    if named in (scope(sidebar) or ()):
        return sidebar, "sidebar", named, warnings     # the sidebar is more specific
    if sidebar in (scope(named) or ()):
        return named, hit.how, named, warnings         # the question is more specific
    warnings.append(f"asked_other:{named}:{sidebar}")
    return named, hit.how, named, warnings

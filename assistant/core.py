"""Assistant + build_assistant(settings): the composition root of the read side.

``Assistant._run`` reads like the data flow: clean -> redact -> understand -> gate -> retrieve ->
facts -> answer -> verify -> next step. Each stage is a method with a typed result.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

from . import answer as A
from .catalog import Catalog
from .config import Settings, load_settings
from .embeddings import Embedder, build_embedder
from .errors import BadQuestion, ConfigError
from .facts import load_facts, plain
from .facts.match import (TOPIC_LIKELY, TOPIC_UNLIKELY, FactBook, Match, Weights, lead, next_step,
                          verbatim_in)
from .llm import ChatModel, build_chat_model
from .prompts import text as t
from .redact import redact, redact_history
from .retrieval import Retriever
from .store import VectorStore
from .types import Answer, Passage, Referral
from .understanding import Understanding, choose_place, city_also_meant, country_of, detect_language, \
    place_name, retrieval_query, scope, work_from_words
from .understanding.places import subnational_labour_law
from .understanding.intent import ASKS, IntentModel, load_or_train

log = logging.getLogger(__name__)
History = Sequence[tuple[str, str]]  # (role, text) pairs, oldest first
RANK_DEPTH = 10  # documents ranked and recorded in Answer.extra for the evals (nDCG@10)


class AnswerStream:
    """Iterate for text pieces as they arrive; ``.answer`` holds the final Answer afterwards."""

    def __init__(self, gen: Iterator[str]) -> None:
        self._gen = gen
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        return self._gen

    def close(self) -> None:
        self._gen.close()


class Assistant:
    def __init__(self, settings: Settings, embedder: Embedder, store: VectorStore, catalog: Catalog,
                 chat_model: ChatModel | None = None, clock: Callable[[], dt.date] | None = None,
                 intent_model: IntentModel | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.catalog = catalog
        self.chat_model = chat_model
        self.clock = clock or dt.date.today
        self.retriever = Retriever(settings, embedder, store, catalog)
        self.factbook = FactBook(load_facts(settings.facts_dir), embedder, Path(settings.data_dir))
        self._intent = intent_model
        self._intent_lock = threading.Lock()
        self._texts: dict[tuple[str, str], str] = {}
        self.weights = Weights(settings.fact_floor, settings.fact_second_gap, settings.fact_section_bonus,
                               settings.fact_doc_bonus, settings.fact_ask_bonus, settings.fact_topic_bonus,
                               settings.fact_keyword_bonus, settings.fact_overlap_weight,
                               settings.fact_similarity_weight, settings.fact_question_weight,
                               settings.fact_questions_mean_weight)

    @property
    def mode(self) -> str:
        return "generative" if self.chat_model else "extractive"

    def close(self) -> None:
        self.store.close()
        self.catalog.close()

    def warm(self) -> None:
        """Do the one-off work of the first question now: the classifier, the places tables and
        the vectors of the fact records the catalog can show (cached in the data dir)."""
        from .understanding.places import find_places

        self.intent_model()
        find_places("warm up")
        self.factbook.warm(list(self.catalog.visible(self.store.name)))

    # -- public API -------------------------------------------------------------------------
    def ask(self, question: str, jurisdiction: str | None = None, history: History = (),
            include_drafts: bool = False) -> Answer:
        s = self.stream(question, jurisdiction, history, include_drafts)
        for _ in s:
            pass
        assert s.answer is not None
        return s.answer

    def stream(self, question: str, jurisdiction: str | None = None, history: History = (),
               include_drafts: bool = False) -> AnswerStream:
        """``include_drafts``: also answer from documents awaiting review (signed-in users only)."""
        holder = AnswerStream(iter(()))
        holder._gen = self._run(question, jurisdiction, tuple(history), holder, include_drafts)
        return holder

    # -- pipeline ---------------------------------------------------------------------------
    def _run(self, question: str, jurisdiction: str | None, history: tuple[tuple[str, str], ...],
             out: AnswerStream, drafts: bool = False) -> Iterator[str]:
        started = time.perf_counter()
        q = self.clean(question)
        q, had_pii = redact(q)
        # The earlier turns reach search and the LLM too: they are redacted at the same boundary.
        history, history_pii = redact_history(history)
        had_pii = had_pii or history_pii
        query = retrieval_query(q, history)
        qvec = self.retriever.embed_query(query)
        u = self.understand(q, history, jurisdiction, qvec)
        warnings = A.place_warnings(u, had_pii, jurisdiction)
        if self._federal_only(u):
            # A US state or city without documents: federal rules apply there too, so they answer,
            # labelled as federal (a Houston courier's 1099 question was refused before).
            u = replace(u, place="US", within=(), federal_for=u.place)
        gated = self.gate(q, u, query, qvec, warnings, drafts)
        if gated is not None:
            yield from A.pieces(gated.text)
            out.answer = replace(gated, latency_ms=_ms(started))
            return
        ranked = self.retriever.search(query, u.place, k=max(self.settings.top_k, RANK_DEPTH),
                                       include_drafts=drafts, qvec=qvec, work=u.work, also=u.within,
                                       language=u.language)
        passages = self._select(ranked[:self.settings.top_k])
        support = passages[0].score if passages else 0.0
        leads, step = self.facts(q, qvec, u, passages, drafts, query)
        trace = {"ranked_doc_ids": [p.doc_id for p in ranked], "query": query, "where": u.place,
                 "understanding": {"place": u.place, "how": u.place_how, "work": u.work,
                                   "intent": u.intent, "topic": u.topic,
                                   "scores": {k: round(v, 3) for k, v in u.scores.items()}}}
        if support < self.settings.refusal_threshold and not leads:
            ans = self._refusal(u, passages, warnings)
            yield from A.pieces(ans.text)
            out.answer = replace(ans, support=support, latency_ms=_ms(started),
                                 extra={**ans.extra, **trace})
            return
        warnings.extend(A.source_warnings(passages, u, leads))
        refs = self.referrals_for(u.federal_for or u.place or A.answer_country(passages, leads),
                                  A.topic_of(u, leads), u.language, work=u.named_work)
        if self.chat_model is not None:
            ans = yield from A.generative(self, q, qvec, passages, u, history, warnings, leads, refs)
        else:
            ans = A.extractive(self, q, qvec, passages, u, warnings, leads, refs, step)
            yield from A.pieces(ans.text)
        out.answer = replace(ans, support=support, latency_ms=_ms(started),
                             extra={**ans.extra, **trace})

    # -- stages -----------------------------------------------------------------------------
    def clean(self, question: str) -> str:
        q = (question or "").strip()
        q = "".join(ch for ch in q if ch.isprintable() or ch in "\n\t")
        if not q or not any(ch.isalnum() for ch in q):
            raise BadQuestion("Please type a question, for example: “Can the app deactivate me "
                              "without telling me why?”")
        if len(q) > self.settings.max_question_chars:
            raise BadQuestion(f"Your question is too long ({len(q)} characters). Please keep it under "
                              f"{self.settings.max_question_chars} characters.")
        return q

    def intent_model(self) -> IntentModel | None:
        with self._intent_lock:
            if self._intent is None:
                self._intent = load_or_train(self.embedder)
            return self._intent

    def understand(self, q: str, history: History, sidebar: str | None,
                   qvec: Sequence[float]) -> Understanding:
        language = detect_language(q)
        place, how, named, pw = choose_place(q, history, sidebar, self.places())
        work = work_from_words(q)
        work_how = "words" if work else ""
        intent, topic, scores = "", None, {}
        topic_probs: dict[str, float] = {}
        intent_probs: dict[str, float] = {}
        model = self.intent_model()
        if model is not None:
            # The folded query (a follow-up with the turn before) is what the question means.
            vec, text = qvec, retrieval_query(q, history)
            pred = model.predict(vec, text)
            intent, topic = pred["intent"].label, pred["topic"].label
            scores = {"intent": pred["intent"].prob, "topic": pred["topic"].prob,
                      "work": pred["work"].prob,
                      "fraud": model.fraud_prob(text, vec)}
            topic = None if topic == "none" else topic
            # The fact weights were fitted on the vector model's topic probabilities (the n-gram
            # half reads long stories as topic-less, and a record on the story's topic fell under
            # the floor): the records are weighed by those, the topic label is the mixed model's.
            topic_probs, intent_probs = pred["topic"].vector_probs, pred["intent"].probs
            if intent == "platform_policy" and pred["intent"].prob < self.settings.intent_min:
                # "The company decides" changes the answer's shape: only when the model is sure.
                intent = max((k for k in intent_probs if k != intent), key=intent_probs.__getitem__)
            if work is None and pred["work"].label != "none" and pred["work"].prob >= self.settings.work_min:
                work, work_how = pred["work"].label, "model"
        return Understanding(language=language, place=place, place_how=how, named=named, work=work,
                             intent=intent, topic=topic, asks=ASKS.get(intent, ()), scores=scores,
                             warnings=tuple(pw), topic_probs=topic_probs, intent_probs=intent_probs,
                             work_how=work_how,
                             within=city_also_meant(q, place) if how in ("named", "home") else ())

    def gate(self, q: str, u: Understanding, query: str, qvec: Sequence[float], warnings: list[str],
             drafts: bool) -> Answer | None:
        """An answer that is not a search: fraud, case strategy, out of scope, a place we lack."""
        s = u.scores
        reason = None
        if s.get("fraud", 0.0) >= self.settings.fraud_min:
            reason = "fraud"
        elif u.intent == "individual_strategy" and s.get("intent", 0.0) >= self.settings.intent_min:
            reason = "individual"
        elif u.intent == "out_of_scope" and s.get("intent", 0.0) >= self.settings.intent_min:
            reason = "out_of_scope"
        if reason:
            key = "disallowed" if reason == "fraud" else reason
            return Answer(text=t(u.language, key), mode="refusal", warnings=tuple(warnings),
                          referrals=tuple(self.referrals_for(u.place, u.topic, u.language)),
                          jurisdiction=u.place, language=u.language, extra={"reason": reason})
        if self._no_documents_for(u):
            return self._uncovered(u, query, qvec, warnings, drafts)
        return None

    def facts(self, q: str, qvec: Sequence[float], u: Understanding, passages: Sequence[Passage],
              drafts: bool, query: str | None = None) -> tuple[list[Match], Match | None]:
        """The records the answer opens with, and one that says what to do next. A question
        about a company's own policy still gets the law when a record answers it ("does the
        Minnesota law cover DoorDash?"); only with none does it hear that the company decides.
        With no place, it gets no "it depends on where you work" overview: the company's own rule
        is what it asks about, and the law of some place beside it would read as the answer."""
        if u.intent == "platform_policy" and u.place is None:
            return [], None
        visible = self.catalog.visible(self.store.name, include_drafts=drafts)

        def verbatim(doc_id: str, pieces: Sequence[str]) -> bool:
            row = visible.get(doc_id)
            if row is None:
                return False
            return verbatim_in(self._text(doc_id, row["version"]), pieces, normalised=True)

        matches = self.factbook.match(q, qvec, language=u.language, place=u.place,
                                      work=u.named_work,
                                      asks=u.asks, today=self.clock(), passages=passages,
                                      verbatim=verbatim, w=self.weights, topic=u.topic, query=query,
                                      visible=list(visible), topic_probs=u.topic_probs,
                                      intent_probs=u.intent_probs, also=u.within)
        if u.place is None and u.topic_probs and max(u.topic_probs.values()) >= TOPIC_LIKELY:
            # No place: a record on a topic the question is unlikely to be about would open an
            # "it depends on where you work" on the wrong subject (an injured courier was told
            # about New York's unemployment settlement).
            matches = [m for m in matches if u.topic_probs.get(m.rendered.fact.topic, 0.0) >= TOPIC_UNLIKELY]
        if u.place is None:
            # Nothing says where the worker is: another country's rule is a guess, unless the
            # question's language makes it a likely one (Spanish: Spain). US and EU-wide rules stay;
            # an English question about Amazon Flex got Spain's Rider Law as "it depends".
            matches = [m for m in matches if A.plausible_without_place(m.rendered.fact.jurisdiction, u.language)]
        leads = lead(matches, self.weights, u.place, within=u.within)
        step = next_step(matches, leads, u.topic) if u.place or leads else None
        return leads, step

    # -- helpers ----------------------------------------------------------------------------
    def _text(self, doc_id: str, version: str) -> str:
        """A document version's text as a reader sees it (facts.plain), cached: versions never change."""
        key = (doc_id, version)
        if key not in self._texts:
            self._texts[key] = plain(self.catalog.get_text(doc_id, version) or "")
        return self._texts[key]

    def places(self) -> list[str]:
        """Jurisdictions that have documents the public can see (cities become recognisable)."""
        return sorted({r["jurisdiction"] for r in self.catalog.visible(self.store.name).values()})

    def covers(self, place: str) -> bool:
        """True when some document is for this place or a place above it, other than its country's
        national rules alone where states or provinces set most work rules (places.yaml
        subnational_labour_law): a US state or a Canadian province without its own documents is
        answered by `_uncovered`, with the national rules as the nearest sources. Mexico's federal
        labour law answers for Jalisco; the EU's rules are law in every member state."""
        have = set(self.places())
        above = [p for p in scope(place) or () if p in have]
        country = country_of(place)
        national_only = above == [country] and place != country and country in subnational_labour_law()
        return bool(above) and not national_only

    def _no_documents_for(self, u: Understanding) -> bool:
        """The question's place, and the places inside it the words may mean, have no documents."""
        return bool(u.place) and not self.covers(u.place) and not any(self.covers(w) for w in u.within)

    def _federal_only(self, u: Understanding) -> bool:
        """A US place that no document covers, while US federal documents exist."""
        return (self._no_documents_for(u) and country_of(u.place) == "US" and u.place != "US"
                and "US" in self.places())

    def _select(self, passages: list[Passage]) -> list[Passage]:
        if not passages:
            return []
        floor = passages[0].score * self.settings.passage_min_ratio
        return [p for p in passages if p.score >= floor]

    def _uncovered(self, u: Understanding, query: str, qvec: Sequence[float], warnings: list[str],
                   drafts: bool) -> Answer:
        name = place_name(u.place, u.language)
        country = country_of(u.place)
        national = country is not None and country in self.places() and u.place != country
        in_us = country == "US"
        lines = [t(u.language, "uncovered_us" if in_us else "uncovered_country" if national else "uncovered",
                   place=name, country=place_name(country, u.language) if country else "")]
        nearest: list[Passage] = []
        if national:  # national rules apply everywhere in the country: the nearest sources
            nearest = [p for p in self.retriever.search(query, country, k=3, include_drafts=drafts, qvec=qvec)
                       if p.jurisdiction == country]
            if nearest:
                lines.append(t(u.language, "nearest_federal" if in_us else "nearest_country",
                               country=place_name(country, u.language)))
        refs = self.referrals_for(u.place, u.topic, u.language, fallback=in_us)
        lines.extend(A.referral_lines(refs, u.language))
        return Answer(text="\n\n".join(lines), mode="refusal", warnings=tuple(warnings),
                      referrals=tuple(refs), passages=tuple(nearest), jurisdiction=u.place,
                      language=u.language, extra={"reason": "uncovered_place", "place": name})

    def _refusal(self, u: Understanding, nearest: Sequence[Passage], warnings: list[str]) -> Answer:
        where = u.place
        name = place_name(where, u.language) if where else ""
        place = (f" for {name}" if u.language == "en" else f" para {name}") if where else ""
        # Nothing answered the question, so its topic is a guess: the place's own help first.
        refs = self.referrals_for(where, None, u.language)
        lines = [t(u.language, "refusal", where=place)]
        if nearest:
            lines.append(t(u.language, "refusal_nearest"))
        lines.extend(A.referral_lines(refs, u.language))
        return Answer(text="\n\n".join(lines), mode="refusal", warnings=tuple(warnings),
                      referrals=tuple(refs), passages=tuple(nearest[:3]), jurisdiction=where,
                      language=u.language)

    def referrals_for(self, where: str | None, topic: str | None = None, language: str = "en",
                      limit: int = 2, fallback: bool = True, work: str | None = None) -> list[Referral]:
        """Help for a place (and the places above it) and topic: agencies that handle the topic
        first, then legal aid. With no place, US help only when ``fallback``; never another
        country's agencies."""
        places = scope(where) or (["US"] if fallback else [])
        refs = [r for r in self.catalog.referrals() if set(r.jurisdictions) & set(places) and r.helps(work)]
        def depth(r: Referral) -> int:
            return max(len(scope(j) or ()) for j in r.jurisdictions if j in places)

        def general(r: Referral) -> bool:  # help with any work dispute, not one program
            return (r.kind == "legal_aid" and "disputes" in r.issues) or \
                r.kind in ("worker_center", "driver_association")

        # Help for the topic first, then general legal aid and worker groups. Help for another
        # topic (tax clinics for a deactivation, a health marketplace) is not help.
        refs = [r for r in refs if (topic and topic in r.issues) or general(r)
                or (not topic and r.kind != "legal_aid" and depth(r) > 1)]

        def broadest(r: Referral) -> int:  # a city's own agency before a state one that also lists the city
            return min(len(scope(j) or ()) for j in r.jurisdictions)

        def key(r: Referral) -> tuple:
            return (not (topic and topic in r.issues), -depth(r), -broadest(r), language not in r.languages,
                    r.id)

        refs.sort(key=key)
        return refs[:limit]

    def documents(self) -> list[dict]:
        return self.catalog.documents(self.store.name)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def ensure_data_dir(path: Path) -> None:
    """The index and catalog need a directory this process can write. Say which setting to change
    instead of a traceback from deep inside Chroma or SQLite."""
    where = f"The data directory {path} (set by GIGRIGHTS_DATA_DIR)"
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{where} is a file, not a directory. Set GIGRIGHTS_DATA_DIR to a directory "
                          "(it is created if it does not exist), or move that file away.")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(f"{where} cannot be written ({exc.strerror or exc}). Set GIGRIGHTS_DATA_DIR to "
                          "a directory this user can write, or give this user write access to it "
                          "(a read-only disk cannot hold the index).") from None


def open_index(settings: Settings, embedder_name: str) -> tuple[VectorStore, Catalog]:
    ensure_data_dir(Path(settings.data_dir))
    store = VectorStore(data_dir=settings.data_dir, embedder_name=embedder_name,
                        host=settings.chroma_host, port=settings.chroma_port,
                        timeout_s=settings.store_timeout_s)
    catalog = Catalog(Path(settings.data_dir) / "catalog.sqlite3")
    return store, catalog


def build_assistant(settings: Settings | None = None, *, embedder: Embedder | None = None,
                    chat_model: ChatModel | None = None,
                    clock: Callable[[], dt.date] | None = None) -> Assistant:
    """Wire settings -> providers -> store -> Assistant. Collaborators can be passed in (tests)."""
    settings = settings or load_settings()
    embedder = embedder or build_embedder(settings)
    store, catalog = open_index(settings, embedder.name)
    if chat_model is None:
        chat_model = build_chat_model(settings)
    return Assistant(settings, embedder, store, catalog, chat_model, clock=clock)


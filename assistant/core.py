"""Assistant + build_assistant(settings): the composition root of the read side."""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator, Sequence

from .catalog import Catalog
from .citations import verify
from .config import Settings, load_settings
from .embeddings import Embedder, build_embedder
from .errors import BadQuestion, ContextTooLong, ProviderError, StreamInterrupted
from .extractive import extract
from .llm import ChatModel, build_chat_model
from .prompts import build_messages, fit_budget
from .prompts import text as t
from .redact import redact
from .retrieval import Retriever
from .store import VectorStore
from .types import Answer, Passage, Referral
from .understand import JURISDICTION_NAMES, brand_terms, detect_jurisdiction, detect_language, \
    out_of_scope, retrieval_query, scope, uncovered_place

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
                 chat_model: ChatModel | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.catalog = catalog
        self.chat_model = chat_model
        self.retriever = Retriever(settings, embedder, store, catalog)

    @property
    def mode(self) -> str:
        return "generative" if self.chat_model else "extractive"

    def close(self) -> None:
        self.store.close()
        self.catalog.close()

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
        q = (question or "").strip()
        q = "".join(ch for ch in q if ch.isprintable() or ch in "\n\t")
        if not q or not any(ch.isalnum() for ch in q):
            raise BadQuestion("Please type a question, for example: “Can the app deactivate me "
                              "without telling me why?”")
        if len(q) > self.settings.max_question_chars:
            raise BadQuestion(f"Your question is too long ({len(q)} characters). Please keep it under "
                              f"{self.settings.max_question_chars} characters.")
        q, had_pii = redact(q)
        language = detect_language(q)
        named = detect_jurisdiction(q)
        where = jurisdiction or named
        warnings: list[str] = [t(language, "pii")] if had_pii else []
        if jurisdiction and named and not set(scope(named) or ()) & set(scope(jurisdiction) or ()):
            where = named  # the question names another place: answer for that place, and say so
            warnings.append(f"You asked about {JURISDICTION_NAMES[named]}, so these sources are for "
                            f"{JURISDICTION_NAMES[named]}, not {JURISDICTION_NAMES[jurisdiction]}.")
        scope_issue = out_of_scope(q)
        if scope_issue is not None:
            key = "disallowed" if scope_issue == "fraud" else scope_issue
            ans = Answer(text=t(language, key), mode="refusal", warnings=tuple(warnings),
                         referrals=tuple(self.referrals_for(where)), jurisdiction=where,
                         language=language, extra={"reason": scope_issue})
            yield ans.text
            out.answer = replace(ans, latency_ms=_ms(started))
            return
        elsewhere = None if jurisdiction else uncovered_place(q)
        if elsewhere is not None:
            place, in_us = elsewhere
            nearest: list[Passage] = []
            lines = [t(language, "uncovered_us" if in_us else "uncovered", place=place)]
            if in_us:  # federal rules apply everywhere in the US: show them as the nearest sources
                nearest = self.retriever.search(retrieval_query(q, history), "US", k=3,
                                                include_drafts=drafts)
                nearest = [p for p in nearest if p.jurisdiction == "US"]
                if nearest:
                    lines.append(t(language, "nearest_federal"))
            ans = Answer(text="\n\n".join(lines), mode="refusal", warnings=tuple(warnings),
                         referrals=tuple(self.referrals_for("US" if in_us else None)),
                         passages=tuple(nearest), jurisdiction=None, language=language,
                         extra={"reason": "uncovered_place", "place": place})
            yield ans.text
            out.answer = replace(ans, latency_ms=_ms(started))
            return
        query = retrieval_query(q, history)
        brands = brand_terms(q)
        if brands:
            query = f"{query} ({brands})"
        qvec = self.retriever.embed_query(query)
        ranked = self.retriever.search(query, where, k=max(self.settings.top_k, RANK_DEPTH),
                                       include_drafts=drafts, qvec=qvec)
        passages = self._select(ranked[:self.settings.top_k])
        support = passages[0].score if passages else 0.0
        trace = {"ranked_doc_ids": [p.doc_id for p in ranked], "query": query, "where": where}

        if support < self.settings.refusal_threshold:
            ans = self._refusal(q, where, language, passages, warnings)
            for piece in _pieces(ans.text):
                yield piece
            out.answer = replace(ans, support=support, latency_ms=_ms(started),
                                 extra={**ans.extra, **trace})
            return

        warnings.extend(self._source_warnings(passages, where, language))
        if self.chat_model is not None:
            ans = yield from self._generative(q, qvec, passages, language, history, where, warnings)
        else:
            ans = self._extractive(q, qvec, passages, language, where, warnings)
            for piece in _pieces(ans.text):
                yield piece
        out.answer = replace(ans, support=support, latency_ms=_ms(started), extra={**ans.extra, **trace})

    def _select(self, passages: list[Passage]) -> list[Passage]:
        if not passages:
            return []
        floor = passages[0].score * self.settings.passage_min_ratio
        return [p for p in passages if p.score >= floor]

    def _source_warnings(self, passages: Sequence[Passage], where: str | None, lang: str) -> list[str]:
        w = []
        places = sorted({p.jurisdiction for p in passages if p.jurisdiction != "US"})
        if where is None and places:
            w.append(t(lang, "no_location",
                       places=", ".join(JURISDICTION_NAMES.get(x, x) for x in places)))
        if any(p.doc_type == "platform_terms" for p in passages):
            w.append(t(lang, "platform_terms"))
        if any(p.review_status != "approved" for p in passages):
            w.append(t(lang, "draft"))
        return w

    def _extractive(self, q: str, qvec: Sequence[float], passages: Sequence[Passage], language: str,
                    where: str | None, warnings: list[str]) -> Answer:
        ex = extract(q, qvec, passages, self.embedder, language, self.settings.extractive_max_sentences)
        if not ex.citations:
            return self._refusal(q, where, language, passages, warnings)
        return Answer(text=ex.text, mode="extractive", citations=ex.citations,
                      warnings=tuple(warnings), passages=tuple(passages), jurisdiction=where,
                      language=language)

    def _generative(self, q: str, qvec: Sequence[float], passages: Sequence[Passage], language: str,
                    history: History, where: str | None, warnings: list[str]
                    ) -> Iterator[str]:  # returns Answer via StopIteration
        assert self.chat_model is not None
        # Only the sources that fit the prompt budget are given, and only they can be cited.
        passages = fit_budget(passages, self.settings.context_token_budget)
        got: list[str] = []
        incomplete = False
        try:
            for attempt in (1, 2):
                try:
                    for piece in self.chat_model.stream(build_messages(q, passages, language, history,
                                                                       where)):
                        got.append(piece)
                        yield piece
                    break
                except ContextTooLong:
                    if attempt == 2 or len(passages) < 2:
                        raise
                    passages = passages[:len(passages) // 2]  # trim the context and try once more
                    log.warning("context too long: retrying with %d sources", len(passages))
        except StreamInterrupted as exc:
            if not exc.partial.strip():
                return (yield from self._fallback(q, qvec, passages, language, where, warnings, exc))
            got = [exc.partial]
            incomplete = True
            warnings.append(t(language, "incomplete"))
        except ProviderError as exc:
            return (yield from self._fallback(q, qvec, passages, language, where, warnings, exc))
        v = verify("".join(got), passages)
        warnings.extend(v.warnings)
        if not v.citations:
            warnings.append(t(language, "no_citations"))
        return Answer(text=v.text, mode="generative", citations=v.citations,
                      warnings=tuple(dict.fromkeys(warnings)), passages=tuple(passages),
                      jurisdiction=where, language=language, incomplete=incomplete,
                      extra={"model": self.chat_model.name})

    def _fallback(self, q: str, qvec: Sequence[float], passages: Sequence[Passage], language: str,
                  where: str | None, warnings: list[str], exc: Exception) -> Iterator[str]:
        log.warning("falling back to extractive answer: %s", exc)
        warnings.insert(0, t(language, "llm_fallback", why=str(exc).rstrip(".")))
        ans = self._extractive(q, qvec, passages, language, where, warnings)
        yield "\n\n"
        for piece in _pieces(ans.text):
            yield piece
        return replace(ans, extra={"fallback_reason": str(exc)})

    def _refusal(self, q: str, where: str | None, language: str, nearest: Sequence[Passage],
                 warnings: list[str]) -> Answer:
        place = f" for {JURISDICTION_NAMES.get(where, where)}" if where and language == "en" else (
            f" para {JURISDICTION_NAMES.get(where, where)}" if where else "")
        refs = self.referrals_for(where)
        lines = [t(language, "refusal", where=place)]
        if nearest:
            lines.append(t(language, "refusal_nearest"))
        if refs:
            lines.append(t(language, "refusal_help"))
            lines.extend(f"- {r.name}: {r.url}" for r in refs)
        return Answer(text="\n\n".join(lines[:2]) + ("\n\n" + "\n".join(lines[2:]) if refs else ""),
                      mode="refusal", warnings=tuple(warnings), referrals=tuple(refs),
                      passages=tuple(nearest[:3]), jurisdiction=where, language=language)

    def referrals_for(self, where: str | None, limit: int = 3) -> list[Referral]:
        places = scope(where) or ["US"]
        refs = [r for r in self.catalog.referrals() if set(r.jurisdictions) & set(places)]
        # Most specific place first; legal-aid finders are always useful.
        refs.sort(key=lambda r: (-max(len(scope(j) or ()) for j in r.jurisdictions
                                       if j in places), r.kind != "legal_aid", r.id))
        return refs[:limit]

    def documents(self) -> list[dict]:
        return self.catalog.documents(self.store.name)


def _pieces(text: str) -> Iterator[str]:
    for line in text.splitlines(keepends=True):
        yield line


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def open_index(settings: Settings, embedder_name: str) -> tuple[VectorStore, Catalog]:
    store = VectorStore(data_dir=settings.data_dir, embedder_name=embedder_name,
                        host=settings.chroma_host, port=settings.chroma_port,
                        timeout_s=settings.store_timeout_s)
    catalog = Catalog(Path(settings.data_dir) / "catalog.sqlite3")
    return store, catalog


def build_assistant(settings: Settings | None = None, *, embedder: Embedder | None = None,
                    chat_model: ChatModel | None = None) -> Assistant:
    """Wire settings -> providers -> store -> Assistant. Collaborators can be passed in (tests)."""
    settings = settings or load_settings()
    embedder = embedder or build_embedder(settings)
    store, catalog = open_index(settings, embedder.name)
    if chat_model is None:
        chat_model = build_chat_model(settings)
    return Assistant(settings, embedder, store, catalog, chat_model)

"""Dense retrieval with metadata filters; the catalog decides which versions are visible."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Sequence

from .catalog import Catalog
from .config import Settings
from .embeddings import Embedder
from .errors import IndexMissing
from .lexical import BM25Index
from .store import VectorStore
from .types import Passage
from .understanding.places import plausible_without_place, scope


class Retriever:
    def __init__(self, settings: Settings, embedder: Embedder, store: VectorStore,
                 catalog: Catalog) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.catalog = catalog
        self.bm25 = BM25Index(lambda text: [_stem(w) for w in _WORD.findall(text.lower())
                                            if w not in _STOP and len(w) > 1])

    def embed_query(self, question: str) -> list[float]:
        return self.embedder.embed([question], query=True)[0]

    def search(self, question: str, jurisdiction: str | None = None, k: int | None = None,
               include_drafts: bool | None = None, qvec: list[float] | None = None,
               work: str | None = None, also: Sequence[str] = (),
               language: str | None = None) -> list[Passage]:
        """``qvec``: the question's vector when the caller already embedded it. ``work``: the
        worker's kind of work; documents for other kinds of work rank lower (not out: "does the
        rideshare law cover DoorDash?" is answered by the rideshare law). ``language``: with no
        place, passages for a country the question is unlikely to be about rank lower (not out: a
        UK court ruling may still be the only source on a point)."""
        k = k or self.settings.top_k
        drafts = self.settings.include_drafts if include_drafts is None else include_drafts
        current = self.catalog.visible(self.store.name, include_drafts=drafts)
        if not current:
            raise IndexMissing("The knowledge base is empty. An operator needs to build it: "
                               "`gigrights ingest --manifest corpus/manifest.yaml` (or `make run`).")
        # Filter on the visible versions themselves (not a 'current' flag), so the public keeps the
        # approved version while a draft update waits for review.
        clauses: list[dict[str, Any]] = [{"version": {"$in": sorted({r["version"] for r in current.values()})}}]
        places = scope(jurisdiction)
        if places:
            places = places + [p for p in also if p not in places]  # "new york": the city's sources too
            clauses.append({"jurisdiction": {"$in": places}})
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        qvec = qvec if qvec is not None else self.embed_query(question)
        hits = self.store.query(qvec, max(k, self.settings.candidate_k), where)
        if self.settings.lexical_candidates:
            hits += self._lexical_hits(question, qvec, current, places, {h["id"] for h in hits})
        out: list[Passage] = []
        qterms = terms(question)
        w = self.settings.lexical_weight
        for h in hits:
            row = current.get(h["meta"]["doc_id"])
            # Only the catalog's current, indexed version is visible: a crashed or in-flight ingest
            # can leave other versions' chunks in the store, and they must never be cited.
            if row is None or row["version"] != h["meta"]["version"]:
                continue
            p = to_passage(h, row)
            lex = coverage(qterms, f"{p.title} {p.section} {p.text}")
            local = self.settings.local_boost if places and len(places) > 1 and \
                p.jurisdiction == places[-1] else 0.0
            other_work = self.settings.work_mismatch_penalty if work and p.worker_types and \
                work not in p.worker_types else 0.0
            unlikely = self.settings.unlikely_place_penalty if not places and language and \
                not plausible_without_place(p.jurisdiction, language) else 0.0
            out.append(replace(p, score=round(p.score + w * lex + local - other_work - unlikely, 4), dense=p.score,
                               lexical=lex))
        out.sort(key=lambda p: -p.score)
        return out[:k]

    def _lexical_hits(self, question: str, qvec: list[float], current: dict[str, dict[str, Any]],
                      places: list[str] | None, seen: set[str]) -> list[dict[str, Any]]:
        """BM25 candidates the dense search missed, scored with their stored vectors."""
        versions = {r["version"] for r in current.values()}
        self.bm25.ensure(versions, self.store.all_chunks)
        allowed = set(places) if places else None
        top = self.bm25.top(question, self.settings.lexical_candidates, lambda m: m["version"] in versions
                            and (allowed is None or m["jurisdiction"] in allowed))
        missing = [cid for cid, _ in top if cid not in seen]
        out = []
        for c in self.store.get_with_vectors(missing):
            cos = sum(a * b for a, b in zip(c["vector"], qvec))
            out.append({"id": c["id"], "text": c["text"], "meta": c["meta"], "score": float(cos)})
        return out


_WORD = re.compile(r"[a-z0-9áéíóúñü]+")
_STOP = set("""a an the and or but if of to in on at by for with from about as is are was were be been
being do does did can could should would will may might must i me my we our you your he she it its
they them their this that these those what which who whom how why when where there here not no yes
any all some get got have has had am so than then too very just also into out up down over under
again more most other such only own same both each few off once per el la los las de del que y en un
una por para con es se su sus mi me yo lo le al como qué cómo cuánto cuando dónde si no""".split())


_SUFFIX = re.compile(r"(ations?|ing|ions?|ed|es|s|ly|mente|ción|ciones)$")


def _stem(w: str) -> str:
    if len(w) > 4:
        w = _SUFFIX.sub("", w) or w
    return w[:6]


def terms(text: str) -> set[str]:
    """Content words, crudely stemmed (first 6 letters), for lexical support."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def coverage(qterms: set[str], text: str) -> float:
    """Share of the question's content words that appear in the text."""
    if not qterms:
        return 0.0
    return len(qterms & terms(text)) / len(qterms)


def to_passage(hit: dict[str, Any], row: dict[str, Any]) -> Passage:
    m = hit["meta"]
    page = m.get("page", -1)
    return Passage(
        chunk_id=hit["id"], text=hit["text"], score=float(hit["score"]), doc_id=m["doc_id"],
        version=m["version"], title=row["title"], doc_type=row["doc_type"],
        jurisdiction=row["jurisdiction"], language=row["language"], section=m.get("section", ""),
        page=None if page is None or page < 0 else int(page),
        source_url=m.get("sec_source_url") or row["source_url"] or "",
        publisher=row["publisher"] or "",
        effective_date=m.get("sec_effective") or row["effective_date"] or "",
        last_verified=m.get("sec_verified") or row["last_verified"] or "",
        review_status=row["review_status"], rule=m.get("sec_rule") or "",
        worker_types=tuple(row.get("worker_types") or ()))

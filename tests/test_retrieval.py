"""Retrieval: BM25 candidates next to dense search, visibility and jurisdiction filters."""
from __future__ import annotations

from assistant.core import Assistant
from assistant.lexical import BM25Index
from assistant.retrieval import Retriever, terms


def _chunk(i, text, version="v1", jur="US"):
    return {"id": f"c{i}", "text": text, "meta": {"version": version, "jurisdiction": jur, "title": "",
                                                     "section": ""}}


def test_bm25_ranks_rare_terms_and_filters():
    idx = BM25Index(lambda t: sorted(terms(t)))
    chunks = [_chunk(1, "Drivers get paid for trip time."), _chunk(2, "Form 1099-K reports card payments."),
              _chunk(3, "Form 1099-K thresholds changed.", version="old"), _chunk(4, "Tips are extra.", jur="UK")]
    idx.ensure({"v1"}, lambda: chunks)
    top = idx.top("what is form 1099-K", 5, lambda m: True)
    assert top[0][0] == "c2" and "c3" not in [c for c, _ in top]   # old version not indexed
    assert idx.top("tips", 5, lambda m: m["jurisdiction"] == "US") == []
    idx.ensure({"v1", "old"}, lambda: chunks)                          # visible set changed: rebuilt
    assert {c for c, _ in idx.top("1099-K", 5, lambda m: True)} == {"c2", "c3"}


def test_lexical_candidates_are_scored_with_stored_vectors(shared_assistant):
    a = shared_assistant
    r = Retriever(a.settings.model_copy(update={"lexical_candidates": 5}), a.embedder, a.store, a.catalog)
    q = "Sec. 12 workers compensation fund on trips"
    qvec = r.embed_query(q)
    visible = a.catalog.visible(a.store.name)
    extra = r._lexical_hits(q, qvec, visible, ["US", "US-WA"], seen=set())
    assert any("workers compensation fund" in h["text"] for h in extra)
    assert all(h["meta"]["jurisdiction"] in ("US", "US-WA") for h in extra)
    dense = {h["id"]: h["score"] for h in a.store.query(qvec, 30, None)}
    for h in extra:  # the same cosine the dense search reports for that chunk
        assert abs(h["score"] - dense[h["id"]]) < 1e-3
    seen = {h["id"] for h in extra}
    assert all(h["id"] not in seen for h in r._lexical_hits(q, qvec, visible, None, seen=seen))


def test_drafts_and_versions_are_respected_by_both_sources(shared_assistant):
    a: Assistant = shared_assistant
    visible = {r["version"] for r in a.catalog.visible(a.store.name).values()}
    for p in a.retriever.search("pay tips deactivation taxes sick time receipts", k=20):
        assert p.version in visible

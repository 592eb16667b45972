"""Retrieval: BM25 candidates next to dense search, visibility and jurisdiction filters."""
from __future__ import annotations

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


def _retriever(a, **update):
    """The assistant's retriever with settings changed; dense search fetches one candidate."""
    return Retriever(a.settings.model_copy(update={"candidate_k": 1, **update}), a.embedder, a.store,
                     a.catalog)


def test_lexical_candidates_are_scored_with_stored_vectors(shared_assistant):
    """A passage only the keyword search finds gets the cosine the dense search reports for the
    same chunk (from its stored vector), the place filter, and never comes twice."""
    a = shared_assistant
    q = "IRS penalty quarterly"
    dense = _retriever(a, lexical_candidates=0).search(q, k=1)
    [hybrid] = _retriever(a, lexical_candidates=20).search(q, k=1)
    assert hybrid.doc_id == "us-tax" and hybrid.chunk_id != dense[0].chunk_id  # found by its words alone
    every = {p.chunk_id: p for p in _retriever(a, lexical_candidates=0).search(q, k=50)}
    assert abs(hybrid.dense - every[hybrid.chunk_id].dense) < 1e-3
    assert hybrid.score > dense[0].score  # ranked on that cosine plus its word overlap
    all_hybrid = _retriever(a, lexical_candidates=20).search(q, k=50)
    assert len({p.chunk_id for p in all_hybrid}) == len(all_hybrid) == len(every)
    # the Washington passage is the best keyword match, but a California question never gets it
    q = "Sec. 12 workers compensation fund on trips"
    assert "wa-sick" in [p.doc_id for p in _retriever(a, lexical_candidates=20).search(q, k=50)]
    places = {p.jurisdiction for p in _retriever(a, lexical_candidates=20).search(q, "US-CA", k=50)}
    assert places == {"US", "US-CA"}


V2 = """# Seattle deactivation rights

## Zebra review panel in Seattle

From 2026 a Seattle app company must send every deactivation to a zebra review panel of three
workers before it takes effect.
"""
DRAFT_DOC = """# Quokka courier rules

## Zebra review panel for couriers

A quokka courier may ask the zebra review panel to look at any deactivation again.
"""


def test_drafts_and_versions_are_respected_by_both_sources(index_copy, embedder):
    """A draft second version of an approved document and a draft-only document, both matching the
    question best by meaning and by words: the public gets the approved first version and never a
    draft; a signed-in reviewer gets the newest version of each and no old one. Both with dense
    search alone and with keyword candidates."""
    from assistant.core import build_assistant
    from conftest import settings_for
    from ingest.library import Library

    a = build_assistant(settings_for(index_copy), embedder=embedder)
    try:
        col = a.store.name
        v1 = a.catalog.visible(col)["seattle-deact"]["version"]
        lib = Library(a, actor="tester")
        assert lib.new_version("seattle-deact", V2.encode(), "seattle-2026.md").status == "updated"
        form = {"title": "Quokka courier rules", "doc_type": "guide", "jurisdiction": "US-WA-Seattle",
                "topics": ["deactivation"], "source_url": "https://example.org/quokka",
                "effective_date": "2026-01-01"}
        quokka = lib.add_upload(DRAFT_DOC.encode(), "quokka.md", form)
        assert quokka.status == "added"
        v2 = a.catalog.visible(col, include_drafts=True)["seattle-deact"]["version"]
        assert v2 != v1 and a.catalog.get("seattle-deact", v2, col)["review_status"] == "draft"
        q = "Seattle zebra review panel deactivation quokka"
        versions = lambda ps, doc: {p.version for p in ps if p.doc_id == doc}  # noqa: E731
        # k=1 with one dense candidate: the keyword candidates decide; k=50: every visible chunk
        for sources, k in (({"lexical_candidates": 0, "candidate_k": 30}, 50), ({"lexical_candidates": 0}, 1),
                           ({"lexical_candidates": 20}, 1), ({"lexical_candidates": 20}, 3)):
            r = _retriever(a, **sources)
            public = r.search(q, "US-WA-Seattle", k=k, include_drafts=False)
            reviewer = r.search(q, "US-WA-Seattle", k=k, include_drafts=True)
            assert versions(public, "seattle-deact") <= {v1} and not versions(public, quokka.doc_id), (sources, k)
            assert not any("zebra" in p.text for p in public), (sources, k)
            assert versions(reviewer, "seattle-deact") <= {v2}, (sources, k)
            assert "zebra" in reviewer[0].text, (sources, k)
            if k == 50:
                assert versions(public, "seattle-deact") == {v1}
                assert versions(reviewer, "seattle-deact") == {v2} and versions(reviewer, quokka.doc_id)
    finally:
        a.close()

"""Ingest: idempotency, atomic replacement, failures that change nothing, crash reconcile, locking."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from assistant.core import build_assistant
from assistant.errors import IndexLocked, IndexMissing, ProviderError
from assistant.types import DocMeta
from conftest import ROOT, settings_for
from ingest.manifest import load_manifest
from ingest.pipeline import Ingestor


def _meta(doc_id="gig-guide", **kw):
    base = dict(doc_id=doc_id, title="Gig guide", doc_type="guide", jurisdiction="US-CO",
                source_url="https://example.org/g", effective_date="2025-01-01")
    base.update(kw)
    return DocMeta(**base)


@pytest.fixture
def fresh(tmp_path, embedder):
    s = settings_for(tmp_path / "data")
    a = build_assistant(s, embedder=embedder)
    yield a, Ingestor(s, embedder, a.store, a.catalog)
    a.close()


def _doc(tmp_path, text, name="guide.md"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_reingest_is_idempotent_and_update_replaces(tmp_path, fresh):
    a, ing = fresh
    p = _doc(tmp_path, "# Guide\n\n## Colorado receipts\n\nColorado drivers get a receipt for every trip.\n")
    assert ing.ingest_path(p, _meta()).status == "added"
    ids_before = {c["id"] for c in a.store.all_chunks()}
    assert ing.ingest_path(p, _meta()).status == "unchanged"
    assert {c["id"] for c in a.store.all_chunks()} == ids_before
    p.write_text("# Guide\n\n## Colorado deactivation\n\nColorado drivers get 7 days notice before "
                 "deactivation.\n")
    out = ing.ingest_path(p, _meta())
    assert out.status == "updated"
    ans = a.ask("How much notice before deactivation in Colorado?", "US-CO")
    assert ans.citations and "7 days" in ans.citations[0].quote
    texts = [p.text for p in a.retriever.search("Colorado receipt for every trip", "US-CO", k=10)]
    assert not any("receipt" in t for t in texts)  # the old version is never retrieved
    rows = a.catalog.documents(a.store.name)
    assert [r["current"] for r in rows].count(True) == 1 and len(rows) == 2  # old kept in catalog


def test_failed_update_leaves_previous_version_untouched(tmp_path, fresh):
    a, ing = fresh
    good = _doc(tmp_path, "# Guide\n\n## Colorado tips\n\nColorado delivery apps must pass on all tips.\n")
    ing.ingest_path(good, _meta())
    count = a.store.count()
    bad = tmp_path / "guide.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj <<>> garbage")  # truncated PDF for the same doc_id
    out = ing.ingest_path(bad, _meta())
    assert out.status == "failed" and "PDF" in out.reason
    assert a.store.count() == count
    assert a.ask("Do apps have to pass on tips in Colorado?", "US-CO").citations[0].doc_id == "gig-guide"


class _FailingEmbedder:
    """Real embeddings for the first call, then the provider fails (F21)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0
        self.name, self.max_tokens = inner.name, inner.max_tokens

    def count_tokens(self, t):
        return self.inner.count_tokens(t)

    def embed(self, texts, *, query=False):
        self.calls += 1
        if self.calls > 1:
            raise ProviderError("embedding service failed")
        return self.inner.embed(texts, query=query)


def test_embedding_failure_halfway_leaves_no_chunks(tmp_path, fresh, embedder):
    a, _ = fresh
    s = a.settings.model_copy(update={"embed_batch_size": 2})
    ing = Ingestor(s, _FailingEmbedder(embedder), a.store, a.catalog)
    body = "\n\n".join(f"## Part {i}\n\nColorado rule number {i} says something about pay." for i in range(8))
    out = ing.ingest_path(_doc(tmp_path, "# Big\n\n" + body), _meta("big"))
    assert out.status == "failed"
    assert a.store.count({"doc_id": "big"}) == 0
    assert a.catalog.documents(a.store.name)[0]["status"] == "failed"
    assert Ingestor(a.settings, embedder, a.store, a.catalog).ingest_path(
        tmp_path / "guide.md", _meta("big")).status == "added"  # retry works


def test_reconcile_after_crash_hides_and_removes_partial_version(tmp_path, fresh, embedder):
    a, ing = fresh
    p = _doc(tmp_path, "# Guide\n\n## Colorado pay\n\nColorado pay rule text for drivers.\n")
    meta = _meta()
    # Simulate a crash after chunks were written but before the catalog commit.
    from ingest.splitter import split
    a.catalog.begin_version(meta, "deadbeef", a.store.name, str(p), "x")
    chunks = split(meta.doc_id, "deadbeef", meta.title, [{"text": p.read_text(), "page": None}],
                   chunk_size=500, overlap=50, max_tokens=300, count_tokens=embedder.count_tokens)
    a.store.upsert(meta, chunks, embedder.embed([c.text for c in chunks]))
    with pytest.raises(IndexMissing):  # never visible uncommitted: the catalog has nothing current
        a.retriever.search("Colorado pay rule", "US-CO")
    fixed = ing.reconcile()
    assert fixed["interrupted"] == 1 and a.store.count() == 0
    assert ing.ingest_path(p, meta).status == "added"


def test_manifest_ingest_counts_and_referrals(tmp_path, corpus, embedder):
    s = settings_for(tmp_path / "d")
    a = build_assistant(s, embedder=embedder)
    try:
        ing = Ingestor(s, embedder, a.store, a.catalog)
        m = load_manifest(corpus)
        r1 = ing.ingest_manifest(m)
        assert r1.count("added") == len(m.documents) and r1.count("failed") == 0
        r2 = ing.ingest_manifest(m)
        assert r2.count("unchanged") == len(m.documents)
        assert {r.id for r in a.catalog.referrals()} == {"seattle-ols", "lawhelp"}
    finally:
        a.close()


def test_second_process_gets_a_clear_lock_message(index_copy):
    a = build_assistant(settings_for(index_copy))
    try:
        code = ("import sys\nfrom assistant.core import build_assistant\nfrom assistant.config import "
                "load_settings\ntry:\n    build_assistant(load_settings(data_dir=sys.argv[1]))\n"
                "except Exception as e:\n    print(type(e).__name__, e)\n")
        out = subprocess.run([sys.executable, "-c", code, str(index_copy)], capture_output=True,
                             text=True, timeout=120, cwd=ROOT)
        assert out.stdout.startswith("IndexLocked")
        assert "GIGRIGHTS_CHROMA_HOST" in out.stdout and f"pid {__import__('os').getpid()}" in out.stdout
    finally:
        a.close()
    # released: the same directory opens again
    build_assistant(settings_for(index_copy)).close()


def test_lock_is_exclusive_within_a_process_too(index_copy):
    a = build_assistant(settings_for(index_copy))
    try:
        with pytest.raises(IndexLocked):
            build_assistant(settings_for(index_copy))
    finally:
        a.close()


def test_same_file_checked_on_another_day_is_unchanged(tmp_path, fresh):
    """Regression: the version hash included last_verified, which `ingest FILE` sets to today."""
    a, ing = fresh
    p = _doc(tmp_path, "# Guide\n\n## Colorado receipts\n\nColorado drivers get a receipt for every trip.\n")
    assert ing.ingest_path(p, _meta(last_verified="2026-11-30")).status == "added"
    assert ing.ingest_path(p, _meta(last_verified="2026-12-01")).status == "unchanged"


def test_prune_unpublishes_a_document_removed_from_the_manifest(tmp_path, corpus, embedder):
    """Regression: --prune set current=0, but the public query ignored it and kept citing the doc."""
    import yaml

    from ingest.manifest import load_manifest as load

    s = settings_for(tmp_path / "d")
    a = build_assistant(s, embedder=embedder)
    try:
        ing = Ingestor(s, embedder, a.store, a.catalog)
        ing.ingest_manifest(load(corpus))
        q = "Does a Seattle app have to tell me in writing why I was deactivated?"
        assert "seattle-deact" in {c.doc_id for c in a.ask(q, "US-WA-Seattle").citations}
        raw = yaml.safe_load(corpus.read_text())
        smaller = tmp_path / "c2"
        smaller.mkdir()
        kept = [d for d in raw["documents"] if d["doc_id"] != "seattle-deact"]
        for d in kept:
            src = corpus.parent / d["path"]
            (smaller / d["path"]).parent.mkdir(parents=True, exist_ok=True)
            (smaller / d["path"]).write_bytes(src.read_bytes())
        (smaller / "manifest.yaml").write_text(yaml.safe_dump({"documents": kept}))
        ing.ingest_manifest(load(smaller / "manifest.yaml"), prune=True)
        assert "seattle-deact" not in a.catalog.visible(a.store.name)
        assert "seattle-deact" not in {c.doc_id for c in a.ask(q, "US-WA-Seattle").citations}
        assert "seattle-deact" not in {p.doc_id for p in a.retriever.search(q, "US-WA-Seattle", k=10)}
    finally:
        a.close()


def test_a_flagged_manifest_document_is_held_unless_the_manifest_says_why(tmp_path, corpus, embedder):
    """co-receipts has hidden HTML text; it is published only because its manifest entry gives
    accept_flags. Without it, the same file stays a draft for review (issue 10, item 9)."""
    import yaml

    raw = yaml.safe_load(corpus.read_text(encoding="utf-8"))
    for e in raw["documents"]:
        e.pop("accept_flags", None)
    bare = corpus.with_name("manifest-no-accept.yaml")
    bare.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    for manifest, want in ((bare, "draft"), (corpus, "approved")):
        s = settings_for(tmp_path / manifest.stem)
        a = build_assistant(s, embedder=embedder)
        try:
            rep = Ingestor(s, embedder, a.store, a.catalog).ingest_manifest(load_manifest(manifest))
            out = next(o for o in rep.outcomes if o.doc_id == "co-receipts")
            assert out.flags and out.held == (want == "draft")
            row = a.catalog.current(a.store.name, include_drafts=True)["co-receipts"]
            assert row["review_status"] == want
            assert all(o.held is False for o in rep.outcomes if o.doc_id != "co-receipts")
        finally:
            a.close()

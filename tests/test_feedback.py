"""Feedback on answers: stored in the real catalog (sqlite), redacted, one row per answer; answers
come from the real pipeline over the mini index."""
from __future__ import annotations

import json
import sqlite3

import pytest

from assistant import feedback as fb
from assistant.catalog import Catalog
from assistant.errors import BadFeedback

SEATTLE = ("Can the app deactivate me without telling me why?", "US-WA-Seattle")
MAX = 500


@pytest.fixture
def catalog(index_copy):
    c = Catalog(index_copy / "catalog.sqlite3")
    yield c
    c.close()


@pytest.fixture(scope="module")
def seattle_answer(shared_assistant):
    return shared_assistant.ask(*SEATTLE)


def _record(catalog, shared_assistant, answer, rating, reasons=(), comment="", fid="a1", question=SEATTLE[0]):
    return fb.record(catalog, shared_assistant.store.name, fid, question, answer, rating, reasons, comment,
                     max_comment_chars=MAX)


def test_a_thumbs_down_is_stored_with_the_question_place_reasons_and_cited_versions(
        catalog, shared_assistant, seattle_answer):
    _record(catalog, shared_assistant, seattle_answer, "down", ["wrong_place", "wrong"], "the notice is 30 days")
    [row] = catalog.feedback()
    assert row["rating"] == "down" and row["question"] == SEATTLE[0]
    assert row["place"] == "US-WA-Seattle" and row["language"] == "en" and row["mode"] == "extractive"
    assert row["reasons"] == ["wrong", "wrong_place"]  # in the fixed order, whatever order was clicked
    assert row["comment"] == "the notice is 30 days"
    version = catalog.visible(shared_assistant.store.name)["seattle-deact"]["version"]
    # two passages of one document cited: one entry, with the version they came from
    assert row["citations"] == [{"doc_id": "seattle-deact", "version": version,
                                 "title": "Seattle deactivation rights"}]
    assert isinstance(row["created_at"], float) and row["created_at"] <= row["updated_at"]


def test_a_fact_records_citation_gets_the_visible_version_and_its_fact_id(catalog, shared_assistant):
    """A fact record's citation has no passage (chunk id "fact:<id>"): the version is the one
    visible when asked, and the record's id is among the answer's facts even when it is a pay
    check's rule rather than the answer's lead."""
    ans = shared_assistant.ask("I got $38 for 3 hours of deliveries in NYC last week. Is that legal?")
    fact_cites = [c for c in ans.citations if c.chunk_id.startswith("fact:")]
    assert fact_cites, [c.chunk_id for c in ans.citations]
    _record(catalog, shared_assistant, ans, "down", ["out_of_date"])
    [row] = catalog.feedback("down")
    visible = catalog.visible(shared_assistant.store.name)
    want = {c.doc_id: str((visible.get(c.doc_id) or {}).get("version") or "") for c in ans.citations}
    assert {c["doc_id"]: c["version"] for c in row["citations"]} == want
    assert want["nyc-pay"] == visible["nyc-pay"]["version"]
    assert {c.chunk_id.removeprefix("fact:") for c in fact_cites} <= set(row["facts"])


def test_a_second_click_updates_the_same_row(catalog, shared_assistant, seattle_answer):
    _record(catalog, shared_assistant, seattle_answer, "up")
    [first] = catalog.feedback()
    _record(catalog, shared_assistant, seattle_answer, "down", ["didnt_answer"], "too vague")
    [row] = catalog.feedback()
    assert row["rating"] == "down" and row["reasons"] == ["didnt_answer"]
    assert row["created_at"] == first["created_at"] and row["updated_at"] >= first["updated_at"]
    _record(catalog, shared_assistant, seattle_answer, "up", ["didnt_answer"], "too vague")
    [row] = catalog.feedback()
    assert row["rating"] == "up" and row["reasons"] == [] and row["comment"] == ""  # reasons go with down
    _record(catalog, shared_assistant, seattle_answer, "down", fid="another-answer")
    assert len(catalog.feedback()) == 2 and len(catalog.feedback("up")) == 1
    assert catalog.withdraw_feedback("a1") and [r["id"] for r in catalog.feedback()] == ["another-answer"]


def test_personal_data_is_redacted_before_it_is_stored(catalog, shared_assistant, seattle_answer, index_copy):
    question = ("I'm Maria, call me at 206-555-0147 or maria.lopez@example.com. Can the app deactivate "
                "me without telling me why?")
    _record(catalog, shared_assistant, seattle_answer, "down", ["wrong"],
            "write to maria.lopez@example.com, my SSN is 123-45-6789", question=question)
    [row] = catalog.feedback()
    assert "[PHONE]" in row["question"] and "[EMAIL]" in row["question"]
    assert "[EMAIL]" in row["comment"] and "[SSN]" in row["comment"]
    catalog.close()
    raw = sqlite3.connect(index_copy / "catalog.sqlite3")
    stored = json.dumps(raw.execute("SELECT * FROM feedback").fetchall())
    raw.close()
    for personal in ("555-0147", "maria.lopez", "example.com", "123-45-6789"):
        assert personal not in stored
    data = b"".join(p.read_bytes() for p in index_copy.glob("catalog.sqlite3*"))  # the WAL too
    assert b"maria.lopez" not in data and b"555-0147" not in data


def test_bad_input_gets_a_clear_message_and_keeps_what_was_stored(catalog, shared_assistant, seattle_answer):
    _record(catalog, shared_assistant, seattle_answer, "down", ["wrong"], "first")
    before = catalog.feedback()
    with pytest.raises(BadFeedback, match=r"too long \(501 characters\)\. Please keep it under 500"):
        _record(catalog, shared_assistant, seattle_answer, "down", ["wrong"], "x" * 501)
    with pytest.raises(BadFeedback, match="Unknown reason “spam”: choose from Wrong, Out of date, "):
        _record(catalog, shared_assistant, seattle_answer, "down", ["spam"])
    with pytest.raises(BadFeedback, match="thumbs up or a thumbs down"):
        _record(catalog, shared_assistant, seattle_answer, "sideways")
    assert catalog.feedback() == before


def test_a_spanish_answer_gets_its_messages_in_spanish(catalog, shared_assistant):
    ans = shared_assistant.ask("¿cuánto me tienen que pagar por hora como repartidor?", "US-NY-NYC")
    assert ans.language == "es"
    with pytest.raises(BadFeedback, match="Motivo desconocido «spam»: elija entre Incorrecta, "):
        _record(catalog, shared_assistant, ans, "down", ["spam"])
    assert fb.reason_label("wrong_place", "es") == "Lugar equivocado"


def test_a_catalog_written_before_feedback_keeps_its_documents(tmp_path):
    """Opening an older catalog file (no feedback table, no worker_types column) adds what is
    missing and keeps every document row."""
    from assistant.types import DocMeta

    path = tmp_path / "catalog.sqlite3"
    c = Catalog(path)
    c.begin_version(DocMeta("old-doc", "An old document", "guide", "US"), "v1", "c", "old.md", "sha")
    c.commit_version("old-doc", "v1", "c", 3)
    c.close()
    old = sqlite3.connect(path)  # back to the schema of a catalog written before both
    old.execute("DROP TABLE feedback")
    old.execute("ALTER TABLE documents DROP COLUMN worker_types")
    old.commit()
    old.close()
    c = Catalog(path)
    c.put_feedback({"id": "x", "question": "q", "place": None, "language": "en", "mode": "refusal",
                    "rating": "down", "reasons": ["didnt_answer"], "comment": "", "citations": [], "facts": []})
    c.close()
    c = Catalog(path)
    try:
        [doc] = c.documents()
        assert (doc["doc_id"], doc["title"], doc["chunk_count"], doc["current"]) == \
            ("old-doc", "An old document", 3, True)
        assert doc["worker_types"] == []
        assert [r["id"] for r in c.feedback()] == ["x"]
    finally:
        c.close()


def test_counts_by_place_and_by_document():
    rows = [{"rating": "down", "place": "US-WA-Seattle", "citations": [
                {"doc_id": "a", "version": "v2", "title": "A"}, {"doc_id": "a", "version": "v1", "title": "A"},
                {"doc_id": "b", "version": "v1", "title": "B"}]},
            {"rating": "down", "place": None, "citations": [{"doc_id": "b", "version": "v1", "title": "B"}]},
            {"rating": "down", "place": "US-WA-Seattle", "citations": [{"doc_id": "b", "version": "", "title": "B"}]},
            {"rating": "up", "place": "US-WA-Seattle", "citations": [{"doc_id": "a", "version": "v2", "title": "A"}]}]
    assert fb.down_by_document(rows) == [
        {"doc_id": "b", "title": "B", "thumbs_down": 3, "versions": "v1"},
        {"doc_id": "a", "title": "A", "thumbs_down": 1, "versions": "v1, v2"}]  # one answer, two versions
    assert len(fb.for_place(rows, None)) == 4
    assert len(fb.for_place(rows, "US-WA-Seattle")) == 3 and len(fb.for_place(rows, "")) == 1


def test_the_cli_exports_feedback(index_copy, shared_assistant, seattle_answer, monkeypatch, capsys):
    from ingest.cli import main

    c = Catalog(index_copy / "catalog.sqlite3")
    _record(c, shared_assistant, seattle_answer, "up", fid="up-1")
    _record(c, shared_assistant, seattle_answer, "down", ["wrong_place"], "not my city", fid="down-1")
    c.close()
    monkeypatch.setenv("GIGRIGHTS_DATA_DIR", str(index_copy))
    assert main(["feedback", "list", "--json", "--down"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["id"] == "down-1" and row["reasons"] == ["wrong_place"] and row["created"][:2] == "20"
    assert row["citations"][0]["doc_id"] == "seattle-deact"
    assert main(["feedback", "list"]) == 0
    out = capsys.readouterr().out
    assert "[Wrong place]" in out and "comment: 'not my city'" in out and "up " in out
    assert "cited: Seattle deactivation rights (seattle-deact version " in out
    monkeypatch.setenv("GIGRIGHTS_DATA_DIR", str(index_copy / "nowhere"))
    assert main(["feedback", "list"]) == 0
    assert capsys.readouterr().out == "No feedback stored yet.\n" and not (index_copy / "nowhere").exists()

"""The Streamlit page through AppTest, over a real index (extractive mode)."""
from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT


@pytest.fixture(scope="module")
def app_data(tmp_path_factory, built_index):
    dst = tmp_path_factory.mktemp("appdata") / "data"
    shutil.copytree(built_index, dst)
    (dst / "index.lock").unlink(missing_ok=True)
    return dst


@pytest.fixture
def at(app_data, monkeypatch):
    monkeypatch.setenv("GIGRIGHTS_DATA_DIR", str(app_data))
    monkeypatch.delenv("GIGRIGHTS_LLM_BASE_URL", raising=False)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    return app


def test_page_loads_with_mode_and_notice(at):
    assert not at.exception
    assert at.title[0].value == "Gig Rights Assistant"
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "quote the sources word for word" in captions and "not legal advice" in captions
    assert "extractive" not in captions  # the reader is told what answers are, not an internal mode name
    assert at.sidebar.selectbox[0].value is None


def test_the_first_screen_has_the_place_picker_the_notice_and_examples_to_tap(at):
    """On a phone the first screen showed only a title; the picker and notice were behind the
    sidebar icon."""
    main_captions = " ".join(c.value for c in at.main.caption)
    assert "not legal advice" in main_captions
    picker = next(sb for sb in at.main.selectbox if sb.label == "Where do you work?")
    picker.set_value("US-NY-NYC").run()
    assert at.sidebar.selectbox[0].value == "US-NY-NYC"  # one place, wherever it was picked
    example = next(b for b in at.main.button if "$38 for 3 hours" in b.label)
    example.click().run()
    assert not at.exception
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.chat_message[0].text[0].value.startswith("I got $38 for 3 hours")
    assert not any(sb.label == "Where do you work?" for sb in at.main.selectbox)  # the welcome is gone


def test_chat_shows_answer_with_citation_quote(at):
    at.sidebar.selectbox[0].set_value("US-WA-Seattle").run()
    at.chat_input[0].set_value("Can the app deactivate me without telling me why?").run()
    assert not at.exception
    msgs = at.chat_message
    assert [m.name for m in msgs] == ["user", "assistant"]
    answer_md = " ".join(m.value for m in msgs[1].markdown)
    assert "[1]" in answer_md and "Seattle" in answer_md
    exp = msgs[1].expander
    assert exp and exp[0].label.startswith("\\[1\\] Seattle deactivation rights")
    quote = exp[0].text[0].value
    assert "in writing" in quote and "deactivat" in quote
    # the answer says which place it answers for, and the places whose rules it also uses
    assert msgs[1].caption[0].value.replace("\\", "") == \
        "Answering for: Seattle (and Washington State, United States (federal))"
    # the transcript and its citations survive a rerun
    at.run()
    assert len(at.chat_message) == 2 and at.chat_message[1].expander[0].text[0].value == quote


def test_follow_up_keeps_history(at):
    at.sidebar.selectbox[0].set_value("US-WA-Seattle").run()
    at.chat_input[0].set_value("Can a Seattle app deactivate me without notice?").run()
    at.chat_input[0].set_value("and can I ask for a review?").run()
    assert len(at.chat_message) == 4
    assert at.chat_message[3].expander[0].label.find("Seattle") > 0


def test_a_spanish_answer_has_spanish_labels_and_its_place(at):
    """The source labels ("Rule", "In effect since", "Official source") were English under a
    Spanish answer, and no answer said which place it was for."""
    at.sidebar.selectbox[0].set_value("US-NY-NYC").run()
    at.chat_input[0].set_value("¿cuánto me tienen que pagar por hora como repartidor?").run()
    assert not at.exception
    msg = at.chat_message[1]
    assert msg.caption[0].value.replace("\\", "").startswith("Respuesta para: Ciudad de Nueva York (y ")
    labels = " ".join(c.value for c in msg.caption)
    assert "Vigente desde:" in labels and "In effect since" not in labels


def test_refusal_shows_referrals_and_no_citations(at):
    at.chat_input[0].set_value("What's the best pizza in town?").run()
    msg = at.chat_message[1]
    text = " ".join(m.value for m in msg.markdown)
    assert "outside what my sources cover" in text or "could not find" in text
    assert not [e for e in msg.expander if e.label.startswith("\\[")]


def test_hostile_question_is_shown_as_text(at):
    at.chat_input[0].set_value("<img src=x onerror=alert(1)> can they deactivate me?").run()
    assert not at.exception
    assert at.chat_message[0].text[0].value.startswith("<img src=x")  # st.text: never HTML


def test_quality_page_shows_latest_report(at):
    from evals.report import latest_report

    at.switch_page("ui/quality.py").run()
    assert not at.exception
    assert at.title[0].value == "Answer quality"
    assert at.dataframe  # the metrics table of the committed report
    assert at.subheader[0].value == f"Latest report: {latest_report().parent.name}"


def test_quality_page_shows_a_newer_local_run_from_the_data_dir(at, app_data):
    """`gigrights eval` writes to <data dir>/eval-reports: the page finds it there, next to the
    committed reports in evals/reports."""
    import json

    from evals.report import default_out, latest_report

    report = json.loads(latest_report().read_text(encoding="utf-8"))
    report["created"] = "2999-01-01T00:00:00+00:00"
    out = default_out(app_data)
    out.mkdir(parents=True)
    (out / "report.json").write_text(json.dumps(report), encoding="utf-8")
    try:
        at.switch_page("ui/quality.py").run()
        assert not at.exception
        assert at.subheader[0].value == f"Latest report: {out.name}"
        assert out.name in [r["report"] for r in at.dataframe[-1].value.to_dict("records")]  # the trend
    finally:
        shutil.rmtree(app_data / "eval-reports")


@pytest.fixture
def library_at(app_data, monkeypatch):
    from assistant.auth import hash_password

    h = hash_password("s3cret-pass", iterations=1000)
    monkeypatch.setenv("GIGRIGHTS_DATA_DIR", str(app_data))
    monkeypatch.setenv("GIGRIGHTS_LIBRARY_USERS", f"rita:reviewer:{h};ed:editor:{h}")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    app.switch_page("ui/library.py").run()
    return app


def _sign_in(at, name, password):
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at.button[0].click().run()


def test_library_requires_sign_in_and_slows_failures(library_at, monkeypatch):
    from assistant import auth
    from ui.state import get_assistant

    at = library_at
    assert not at.exception and at.title[0].value == "Library", (at.error, at.info, at.title)
    assert not at.tabs  # no controls before sign-in
    _sign_in(at, "rita", "wrong")
    assert at.error[0].value == "Wrong user name or password."
    assert not at.tabs
    # A longer first lock than the shipped 2 s, so that a slow run of the page cannot outlast it.
    monkeypatch.setattr(auth, "BASE_LOCK_S", 60.0)
    try:
        for _ in range(auth.FREE_FAILURES - 1):  # the first failures cost nothing...
            _sign_in(at, "ed", "wrong")
            assert at.error[0].value == "Wrong user name or password."
        _sign_in(at, "ed", "wrong")  # ...then each one locks the name for longer
        assert at.error[0].value == "Wrong user name or password. Wait 60 seconds before trying again."
        _sign_in(at, "ed", "s3cret-pass")  # even the right password waits
        assert at.error[0].value.startswith("Too many failed attempts. Try again in ")
        assert not at.tabs and not at.exception
    finally:
        get_assistant().catalog.record_login("ed", True)  # the shared test catalog: unlock ed


def test_library_review_flow_in_the_page(library_at, app_data, embedder):
    at = library_at
    _sign_in(at, "rita", "s3cret-pass")
    assert not at.exception
    assert "Signed in as rita (reviewer)" in at.caption[0].value
    assert [t.label for t in at.tabs][:2] == ["Add", "Review (0)"]
    # the Add tab validates the form before anything is stored
    next(b for b in at.button if b.label == "Add as draft").click().run()
    assert any("Choose a file or give a URL first" in e.value for e in at.error)
    # a draft added through the same service appears for review; approving it publishes it
    from conftest import make_pdf
    from ingest.library import Library
    from ui.state import get_assistant

    a = get_assistant()  # the page's own (cached) assistant
    pdf = make_pdf(app_data / "up.pdf", ["Boulder couriers must get a printed weekly pay notice "
                                         "that lists every tip."]).read_bytes()
    form = {"title": "Boulder courier pay notice", "doc_type": "agency_guidance", "jurisdiction": "US-CO",
            "topics": ["pay_transparency"], "source_url": "https://example.org/boulder",
            "effective_date": "2025-01-01"}
    out = Library(a, "ed").add_upload(pdf, "up.pdf", form)
    q = ("Do Boulder couriers get a weekly pay notice listing tips?", "US-CO")
    assert out.doc_id not in [c.doc_id for c in a.ask(*q).citations]
    at.run()
    assert any(t.label == "Review (1)" for t in at.tabs)
    next(b for b in at.button if b.label == "Approve").click().run()
    assert not at.exception
    assert any(t.label == "Review (0)" for t in at.tabs)
    assert out.doc_id in [c.doc_id for c in a.ask(*q).citations]
    assert a.catalog.audit_log(doc_id=out.doc_id)[0]["actor"] == "rita"
    # the stale list names the figures that are past their expected change date
    due = [h.value for h in at.subheader if h.value.startswith("Figures due for a check")]
    assert due and due[0] != "Figures due for a check (0)"


def _answer_feedback(question):
    """The page's own catalog rows for the newest answer (the module's app data is shared)."""
    from ui.state import get_assistant

    return [r for r in get_assistant().catalog.feedback() if r["id"] == question]


def test_a_thumbs_down_with_reasons_is_stored_with_the_answers_citations(at):
    at.sidebar.selectbox[0].set_value("US-WA-Seattle").run()
    at.chat_input[0].set_value("Can the app deactivate me without telling me why? "
                               "Text me at 206-555-0147").run()
    fid = at.session_state["messages"][1]["id"]
    msg = at.chat_message[1]
    assert len(msg.feedback) == 1 and not msg.button_group  # reasons only after a thumbs down
    msg.feedback[0].set_value(0).run()
    msg = at.chat_message[1]
    assert not at.exception
    [row] = _answer_feedback(fid)  # stored at once, before any reason is chosen
    assert row["rating"] == "down" and row["reasons"] == []
    why = msg.button_group[0]
    assert why.label == "What went wrong? (optional)"
    assert why.format_func("didnt_answer") == "Didn't answer my question"
    why.select("wrong_place").run()
    at.chat_message[1].button_group[0].select("out_of_date").run()
    note = next(t for t in at.chat_message[1].text_input if t.label.startswith("Anything else?"))
    note.input("It's Tacoma, not Seattle. maria@example.com")
    next(b for b in at.chat_message[1].button if b.label == "Send").click().run()
    assert not at.exception
    [row] = _answer_feedback(fid)  # updated, not a second row
    assert row["rating"] == "down" and row["reasons"] == ["out_of_date", "wrong_place"]
    assert row["comment"] == "It's Tacoma, not Seattle. [EMAIL]"
    assert "[PHONE]" in row["question"] and "555-0147" not in row["question"]
    assert row["place"] == "US-WA-Seattle" and row["mode"] == "extractive"
    assert {c["doc_id"] for c in row["citations"]} == {"seattle-deact"}
    assert all(c["version"] for c in row["citations"])
    assert "Thanks for your feedback." in [c.value for c in at.chat_message[1].caption]
    # the feedback stays with its answer after the next question, and a second click updates it
    at.chat_input[0].set_value("and can I ask for a review?").run()
    assert at.chat_message[1].feedback[0].value == 0
    at.chat_message[1].feedback[0].set_value(1).run()
    [row] = _answer_feedback(fid)
    assert row["rating"] == "up" and row["reasons"] == [] and row["comment"] == ""
    assert not at.chat_message[1].button_group
    at.chat_message[1].feedback[0].set_value(None).run()  # the thumb clicked again: taken back
    assert _answer_feedback(fid) == []


def test_feedback_controls_follow_a_spanish_answer(at):
    at.sidebar.selectbox[0].set_value("US-NY-NYC").run()
    at.chat_input[0].set_value("¿cuánto me tienen que pagar por hora como repartidor?").run()
    at.chat_message[1].feedback[0].set_value(0).run()
    msg = at.chat_message[1]
    assert msg.button_group[0].label == "¿Qué estuvo mal? (opcional)"
    assert msg.button_group[0].format_func("wrong_place") == "Lugar equivocado"
    assert [b.label for b in msg.button] == ["Enviar"]
    assert "Gracias por su opinión." in [c.value for c in msg.caption]
    # the comment box stops at the limit the store checks (assistant/feedback.py, test_feedback.py)
    assert msg.text_input[0].max_chars == 500


def test_the_library_shows_which_answers_failed_where_and_what_they_cited(library_at):
    import re

    from assistant import feedback as fb
    from ui.state import get_assistant

    a = get_assistant()
    seattle = a.ask("Can the app deactivate me without telling me why?", "US-WA-Seattle")
    tax = a.ask("When do I pay estimated tax?", "US")
    for fid, ans, rating, reasons in (("lib-1", seattle, "down", ["wrong_place"]), ("lib-2", tax, "up", []),
                                      ("lib-3", tax, "down", ["out_of_date", "hard_to_read"])):
        fb.record(a.catalog, a.store.name, fid, f"question {fid}", ans, rating, reasons,
                  max_comment_chars=500)
    at = library_at
    _sign_in(at, "rita", "s3cret-pass")
    assert [t.label for t in at.tabs][-1] == "Feedback"
    place = next(sb for sb in at.selectbox if sb.label == "Place")
    assert place.value is None and place.format_func(None) == "All"
    rows = [r for r in a.catalog.feedback() if r["id"].startswith("lib-")]
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Thumbs down"]) >= 2 and int(metrics["Thumbs up"]) >= 1
    down = at.dataframe[-2].value.to_dict("records")
    mine = {r["question"]: r for r in down if r["question"].startswith("question lib-")}
    assert set(mine) == {"question lib-1", "question lib-3"}  # thumbs up are counted, not listed
    assert mine["question lib-1"]["place"] == "Seattle"
    assert mine["question lib-1"]["reasons"] == "Wrong place"
    assert mine["question lib-1"]["documents cited"] == "Seattle deactivation rights"
    assert mine["question lib-3"]["reasons"] == "Out of date, Hard to read"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", mine["question lib-1"]["when"])  # not a Unix time
    docs = {r["doc_id"]: r for r in at.dataframe[-1].value.to_dict("records")}
    assert docs["seattle-deact"]["title"] == "Seattle deactivation rights"
    assert docs["seattle-deact"]["thumbs_down"] >= 1
    # one place: only its answers
    place.set_value("US-WA-Seattle").run()
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Thumbs down"]) == len([r for r in a.catalog.feedback("down")
                                               if r["place"] == "US-WA-Seattle"])
    down = at.dataframe[-2].value.to_dict("records")
    assert {r["place"] for r in down} == {"Seattle"} and "question lib-3" not in [r["question"] for r in down]
    assert len(rows) == 3
    # the audit log reads as times too (it showed Unix timestamps)
    audit = at.dataframe[-3].value.to_dict("records")
    assert audit and list(audit[0])[:3] == ["when", "who", "action"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", r["when"]) for r in audit)


def test_session_rate_limit(at):
    for i in range(10):
        at.chat_input[0].set_value(f"Can the app deactivate me without notice? ({i})").run()
    assert len(at.chat_message) == 20 and not at.warning
    at.chat_input[0].set_value("one more question about deactivation").run()
    assert "asking very fast" in at.warning[0].value
    assert len(at.chat_message) == 20  # no answer was produced


@pytest.mark.parametrize("page", ["app.py", "ui/library.py"])
def test_a_data_dir_that_is_a_file_is_explained_on_the_page(tmp_path, monkeypatch, page):
    """The Ask and Library pages showed a raw traceback (issue 10, item 14)."""
    import streamlit as st

    bad = tmp_path / "data"
    bad.write_text("x")
    monkeypatch.setenv("GIGRIGHTS_DATA_DIR", str(bad))
    st.cache_resource.clear()  # the assistant of earlier tests is cached in this process
    try:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        app.run()
        if page != "app.py":
            app.switch_page(page).run()
        assert not app.exception, app.exception
        errors = " ".join(e.value for e in app.error)
        assert "GIGRIGHTS_DATA_DIR" in errors and "is a file, not a directory" in errors
    finally:
        st.cache_resource.clear()


_UPLOAD = """
import logging
import sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
from pathlib import Path
from assistant.config import load_settings
from assistant.core import build_assistant
from ingest.library import Library
a = build_assistant(load_settings())
form = {"title": "Denver courier handbook", "doc_type": "guide", "jurisdiction": "US-CO",
        "topics": ["pay_transparency"], "source_url": "https://example.org/handbook",
        "effective_date": "2026-01-01"}
Library(a, actor="rita").add_upload(Path(sys.argv[1]).read_bytes(), "handbook.pdf", form)
"""


def test_the_app_start_repairs_an_upload_cut_off_by_kill_9(tmp_path, monkeypatch, built_index):
    """A Library upload (the service the page calls) is killed with -9 while its chunks are being
    written (issue 10, item 15). Nothing published is lost and the upload is never public; before,
    the cut-off version stayed "pending" for ever, because nothing repaired it while the app held
    the index. Now the next app start marks it failed ("Interrupted…") and drops its chunks."""
    import signal
    import sqlite3
    import subprocess
    import sys

    import streamlit as st

    from assistant.config import load_settings
    from assistant.core import build_assistant
    from conftest import make_pdf

    data = tmp_path / "data"
    shutil.copytree(built_index, data)
    (data / "index.lock").unlink(missing_ok=True)
    pdf = make_pdf(tmp_path / "handbook.pdf", [
        f"Page {n} of the Denver courier handbook. Couriers keep a log of every delivery, the tips "
        f"shown in the app, the miles driven and the waiting time at restaurant number {n}." * 3
        for n in range(1, 31)])

    def visible():
        a = build_assistant(load_settings(data_dir=data))
        try:
            rows = a.catalog.current(a.store.name, include_drafts=True)
            for doc_id, row in rows.items():  # every visible version has exactly its chunks
                n = a.store.count({"$and": [{"doc_id": doc_id}, {"version": row["version"]}]})
                assert n == row["chunk_count"], (doc_id, n, row["chunk_count"])
            return set(rows), a.store.versions_present()
        finally:
            a.close()

    before, _ = visible()
    db = sqlite3.connect(f"file:{data / 'catalog.sqlite3'}?mode=ro", uri=True, timeout=5)
    known = {r[0] for r in db.execute("SELECT doc_id FROM documents")}
    env = {**__import__("os").environ, "GIGRIGHTS_DATA_DIR": str(data), "GIGRIGHTS_EMBED_BATCH_SIZE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", _UPLOAD, str(pdf)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    writes: list[str] = []
    try:
        for line in proc.stderr:  # the ingest's own log line: kill inside the chunk writes
            if "writing chunks" in line:
                writes.append(line.strip())
                if len(writes) == 2:  # the first chunk is stored, the second on its way
                    proc.send_signal(signal.SIGKILL)
                    break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    new = [r for r in db.execute("SELECT doc_id, status FROM documents") if r[0] not in known]
    db.close()
    assert proc.returncode == -signal.SIGKILL and len(writes) == 2, f"killed after the writes? {writes}"
    assert [status for _d, status in new] == ["pending"]
    after, _ = visible()
    assert after == before  # nothing published lost; the cut-off upload not visible

    monkeypatch.setenv("GIGRIGHTS_DATA_DIR", str(data))
    st.cache_resource.clear()  # a fresh app start: get_assistant runs again
    try:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        app.run()
        assert not app.exception
    finally:
        st.cache_resource.clear()  # release this data dir's index lock for the checks below
    db = sqlite3.connect(data / "catalog.sqlite3")
    status, error = db.execute("SELECT status, error FROM documents WHERE doc_id=?", (new[0][0],)).fetchone()
    db.close()
    assert status == "failed" and "Interrupted" in error
    after, present = visible()
    assert after == before and not any(d == new[0][0] for d, _v in present)

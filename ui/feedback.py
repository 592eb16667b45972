"""Feedback in the UI: the thumbs under each answer (Ask page) and what advocates see (Library)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from assistant import feedback as fb
from assistant.core import Assistant
from assistant.errors import BadFeedback
from assistant.prompts import text
from assistant.understanding.places import place_name
from ui.state import signed_in

RATING = {0: "down", 1: "up"}  # st.feedback("thumbs") gives 0 for down, 1 for up


def _save(assistant: Assistant, msg: dict[str, Any]) -> None:
    """Store what the reader chose so far (a widget callback: it runs before the page does)."""
    fid = msg["id"]
    state = st.session_state
    state.pop(f"fb-error-{fid}", None)
    rating = RATING.get(state.get(f"fb-{fid}"))  # type: ignore[arg-type]
    if rating is None:  # the thumb clicked again: taken back
        assistant.catalog.withdraw_feedback(fid)
        state.pop(f"fb-saved-{fid}", None)
        return
    try:
        fb.record(assistant.catalog, assistant.store.name, fid, msg["question"], msg["answer"], rating,
                  state.get(f"fb-why-{fid}") or (), state.get(f"fb-note-{fid}") or "",
                  max_comment_chars=assistant.settings.feedback_max_comment_chars,
                  include_drafts=bool(signed_in()))
        state[f"fb-saved-{fid}"] = True
    except BadFeedback as exc:
        state[f"fb-error-{fid}"] = str(exc)


def answer_feedback(assistant: Assistant, msg: dict[str, Any]) -> None:
    """Thumbs up or down under one answer; after a thumbs down, optional reasons and a comment.
    One stored row per answer: each change updates it."""
    fid, lang = msg["id"], msg["answer"].language
    rating = st.feedback("thumbs", key=f"fb-{fid}", on_change=_save, args=(assistant, msg))
    if rating == 0:
        st.pills(text(lang, "ui_feedback_why"), fb.REASONS, selection_mode="multi", key=f"fb-why-{fid}",
                 format_func=lambda code: fb.reason_label(code, lang), on_change=_save,
                 args=(assistant, msg))
        st.text_input(text(lang, "ui_feedback_comment"), key=f"fb-note-{fid}",
                      max_chars=assistant.settings.feedback_max_comment_chars)
        st.button(text(lang, "ui_feedback_send"), key=f"fb-send-{fid}", on_click=_save,
                  args=(assistant, msg))
    error = st.session_state.get(f"fb-error-{fid}")
    if error:
        st.error(error)
    elif rating is not None and st.session_state.get(f"fb-saved-{fid}"):
        st.caption(text(lang, "ui_feedback_thanks"))


def _place(code: str | None) -> str:
    return place_name(code) if code else "Not set"


def feedback_tab(assistant: Assistant) -> None:
    """For advocates: which answers failed, for which place, and which documents they cited."""
    rows = assistant.catalog.feedback()
    places = sorted({r["place"] or "" for r in rows})
    place = st.selectbox("Place", [None, *places], key="fb-place",
                         format_func=lambda p: "All" if p is None else _place(p))
    rows = fb.for_place(rows, place)
    down = [r for r in rows if r["rating"] == "down"]
    c1, c2 = st.columns(2)
    c1.metric("Thumbs up", len(rows) - len(down))
    c2.metric("Thumbs down", len(down))
    st.subheader(f"Answers with a thumbs down ({len(down)})")
    if not down:
        st.info("No thumbs down yet" + ("" if place is None else " for this place") + ".")
        return
    st.caption("Questions and comments are stored with personal numbers, emails and addresses removed.")
    st.dataframe([{"when": fb.when(r["updated_at"]), "question": r["question"], "place": _place(r["place"]),
                   "reasons": ", ".join(fb.reason_label(c) for c in r["reasons"]), "comment": r["comment"],
                   "documents cited": "; ".join(c["title"] for c in r["citations"]),
                   "answer": r["mode"]} for r in down], hide_index=True)
    st.subheader("Documents cited by thumbs-down answers")
    st.dataframe(fb.down_by_document(down), hide_index=True)

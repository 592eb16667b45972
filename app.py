"""Streamlit chat UI. Thin: builds the assistant once, renders answers and their sources."""
from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st

from assistant.citations import escape_markdown
from assistant.core import Assistant
from assistant.errors import AssistantError, BadQuestion
from assistant.types import Answer
from assistant.prompts import text
from assistant.understanding.places import place_name, scope
from ui.feedback import answer_feedback
from ui.state import allow_question, get_assistant, signed_in

# A local icon: a worker's visit must reach no third party (":material/..." icons load from Google).
st.set_page_config(page_title="Gig Rights Assistant",
                   page_icon=str(Path(__file__).with_name("ui") / "favicon.png"))


def answering_for(ans: Answer) -> str:
    """"Answering for: Seattle (and Washington, United States (federal))": the place an answer is
    for, and the places above it whose rules it also uses; empty when no place is known."""
    if not ans.jurisdiction or ans.extra.get("reason") == "uncovered_place":
        return ""
    lang = ans.language
    above = [place_name(p, lang) for p in reversed(scope(ans.jurisdiction) or [])][1:]
    name = place_name(ans.jurisdiction, lang)
    if not above:
        return text(lang, "ui_answering_for", place=name)
    return text(lang, "ui_answering_also", place=name, above=", ".join(above))


def render_answer(ans: Answer) -> None:
    lang = ans.language
    where_for = answering_for(ans)
    if where_for:
        st.caption(escape_markdown(where_for))
    st.markdown(ans.text)
    if ans.incomplete:
        st.warning(text(lang, "ui_incomplete"))
    for w in ans.warnings:
        st.info(w)
    for c in ans.citations:
        where = text(lang, "ui_page", page=str(c.page)) if c.page else (c.section or "")
        label = f"[{c.n}] {c.title} — {place_name(c.jurisdiction, lang)}"
        with st.expander(escape_markdown(label)):
            st.caption(escape_markdown(f"{c.doc_type.replace('_', ' ')} · {where}"))
            if c.rule:
                st.caption(escape_markdown(text(lang, "ui_rule", rule=c.rule)))
            st.caption(escape_markdown(text(lang, "ui_dates", since=c.effective_date or "n/a",
                                            verified=c.last_verified or "n/a")))
            st.text(c.quote)  # document text is shown as text, never as HTML or Markdown
            if c.source_url.startswith("https://"):
                st.link_button(text(lang, "ui_official"), c.source_url)
    if ans.refused and ans.passages:
        with st.expander(text(lang, "ui_nearest")):
            for p in ans.passages:
                st.text(f"{p.title} ({place_name(p.jurisdiction, lang)})\n"
                        f"{p.source_url}")
    for r in ans.referrals:
        if r.url in ans.text:
            continue  # already listed in the answer
        st.markdown(f"**{escape_markdown(r.name)}** — {escape_markdown(r.how(ans.language))}  \n{r.url}")


def sidebar(assistant: Assistant | None) -> str | None:
    with st.sidebar:
        st.header("Where do you work?")
        options = [None, *(assistant.places() if assistant is not None else [])]
        choice = st.selectbox("Location", options, key="jurisdiction",
                              format_func=lambda j: "Not set (search everywhere)" if j is None
                              else f"{place_name(j)} ({j})")
        if assistant is not None:
            st.caption("Answers quote the sources word for word, each with its citation."
                       if assistant.mode == "extractive" else
                       "Answers are written by an AI model from the sources; every sentence cites one.")
        st.caption("This assistant gives information, not legal advice. Check the official source "
                   "and contact legal aid or the agency named for decisions about your case.")
        if st.button("New conversation"):
            st.session_state.messages = []
    return choice


# After an answer lands, a phone showed the bottom of its sources: the start of the answer was
# off-screen. This scrolls the newest answer's first line to the top of the view. It runs in
# Streamlit's same-origin component frame and loads nothing.
_SCROLL = """<script>
const doc = window.parent.document;
const go = () => {
  const msgs = doc.querySelectorAll('[data-testid="stChatMessage"]');
  if (msgs.length) { msgs[msgs.length - 1].scrollIntoView({block: "start"}); return true; }
  return false;
};
// Streamlit keeps a chat scrolled to its end while the page settles: hold the start in view for
// 6 s and until the page has been quiet for 1.5 s, unless the reader acts first. Until 30 s, a late
// render that scrolls the start away (the feedback buttons mounting on a slow phone) is undone too;
// the reader's own scrolling never is.
let moved = false, last = Date.now();
const started = last;
for (const ev of ["wheel", "touchmove", "keydown", "mousedown", "touchstart"]) {
  doc.addEventListener(ev, () => { moved = true; }, {once: true});
}
const watch = new MutationObserver(() => { last = Date.now(); });
watch.observe(doc.body, {subtree: true, childList: true});
const away = () => {
  const msgs = doc.querySelectorAll('[data-testid="stChatMessage"]');
  if (!msgs.length) return false;
  const top = msgs[msgs.length - 1].getBoundingClientRect().top;
  return top < -5 || top > 120;
};
const timer = setInterval(() => {
  const now = Date.now();
  const settled = now - started > 6000 && now - last > 1500;
  if (moved || now - started > 30000) { clearInterval(timer); watch.disconnect(); }
  else if (!settled || away()) go();
}, 100);
doc.body.dataset.answerStart = "held";
</script>"""


def keep_answer_start_in_view() -> None:
    import streamlit.components.v1 as components

    components.html(_SCROLL, height=0)


# The first screen on a phone showed only a title: the place picker, the "not legal advice" line
# and "New conversation" sat behind the sidebar icon. These are questions as workers ask them.
EXAMPLES = ("Can DoorDash deactivate me without telling me why?",
            "I got $38 for 3 hours of deliveries in NYC last week. Is that legal?",
            "How much is self-employment tax on my Uber money?",
            "¿Me pagan el tiempo que espero pedidos en Seattle?")


def _picked_place() -> None:
    st.session_state["jurisdiction"] = st.session_state["first_place"]


def welcome(assistant: Assistant) -> None:
    """The first screen: what this is, the place picker, and example questions to tap."""
    st.markdown("Ask about your rights as a driver, courier, shopper or freelancer. Answers quote "
                "laws and agency guides word for word, with the source and its date.")
    st.caption("Information, not legal advice. For a decision about your case, contact legal aid or "
               "the agency named in the answer.")
    options = [None, *assistant.places()]
    current = st.session_state.get("jurisdiction")
    st.selectbox("Where do you work?", options, key="first_place", on_change=_picked_place,
                 index=options.index(current) if current in options else 0,
                 format_func=lambda j: "Choose your place (or just ask)" if j is None else place_name(j))
    st.caption("Or try one of these:")
    for i, q in enumerate(EXAMPLES):
        if st.button(q, key=f"example-{i}"):
            st.session_state["example_question"] = q


def chat() -> None:
    st.title("Gig Rights Assistant")
    st.session_state.setdefault("messages", [])
    try:
        assistant: Assistant | None = get_assistant()
    except AssistantError as exc:
        assistant = None
        st.error(str(exc))
    jurisdiction = sidebar(assistant)
    if not st.session_state.messages and assistant is not None:
        welcome(assistant)
        jurisdiction = st.session_state.get("jurisdiction")
    for msg in st.session_state.messages:
        with st.chat_message(msg["role"]):
            if msg["role"] == "assistant":
                render_answer(msg["answer"])
                if assistant is not None and "id" in msg:
                    answer_feedback(assistant, msg)
            else:
                st.text(msg["text"])
    if st.session_state.pop("scroll_to_answer", False):
        keep_answer_start_in_view()
    max_chars = assistant.settings.max_question_chars if assistant else 2000
    question = st.chat_input("Ask about pay, deactivation, taxes, benefits…", max_chars=max_chars,
                             disabled=assistant is None) or st.session_state.pop("example_question", None)
    if not question or assistant is None:
        return
    if not allow_question(assistant.settings.max_questions_per_minute):
        st.warning("You're asking very fast. Please wait a minute before the next question.")
        return
    with st.chat_message("user"):
        st.text(question)
    history = [(m["role"], m["text"]) for m in st.session_state.messages][-4:]
    with st.chat_message("assistant"):
        try:
            # Signed-in Library users can test questions against drafts; the public never sees them.
            stream = assistant.stream(question, jurisdiction, history,
                                      include_drafts=bool(signed_in()))
            # While it streams the text is unchecked: show it as plain text, never as Markdown, so
            # no image or link in it is fetched. The verified answer is rendered after the rerun.
            box, got = st.empty(), []
            for piece in stream:
                got.append(piece)
                box.text("".join(got))
        except BadQuestion as exc:
            st.warning(str(exc))
            return
        except AssistantError as exc:
            st.error(str(exc))
            return
    answer = stream.answer
    if answer is None:
        return
    st.session_state.messages.append({"role": "user", "text": question})
    # The id is the answer's (one feedback row per answer), random, and tied to no one.
    st.session_state.messages.append({"role": "assistant", "text": answer.text, "answer": answer,
                                      "id": uuid.uuid4().hex, "question": question})
    st.session_state.scroll_to_answer = True
    st.rerun()  # render the verified answer with its sources from the transcript


st.navigation([st.Page(chat, title="Ask", icon=":material/chat:", default=True),
               st.Page("ui/pay.py", title=text("en", "ui_pay_title"), icon=":material/calculate:"),
               st.Page("ui/quality.py", title="Quality", icon=":material/monitoring:"),
               st.Page("ui/library.py", title="Library", icon=":material/library_books:")]).run()

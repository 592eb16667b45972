"""Check my pay: the minimum a place's pay rule requires for what the worker did, the shortfall,
the working with a source for every figure, and whom to contact.

Thin: the rules, the figures, the formula and every message come from assistant.paycheck over the
facts of the same assistant the Ask page uses (so the page, the chat and `gigrights check-pay`
agree); every string is in assistant/prompts.py. Built for a phone: one column, top to bottom.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import streamlit as st

from assistant import paycheck
from assistant.citations import escape_markdown
from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.facts import Fact, render
from assistant.prompts import text
from assistant.understanding.places import place_name
from ui.state import get_assistant

LANGUAGES = ("en", "es")
UNITS = ("hours", "minutes")
PERIOD_DAYS = 7  # the dates the form opens with: the last week, today included


def language() -> str:
    """English, unless the link says ?lang=es or the reader switches; the link follows the switch."""
    if st.session_state.get("pay_lang") not in LANGUAGES:
        asked = st.query_params.get("lang")
        st.session_state.pay_lang = asked if asked in LANGUAGES else "en"
    lang = st.radio(text("en", "ui_pay_language"), LANGUAGES, key="pay_lang", horizontal=True,
                    format_func=lambda code: text(code, "ui_language_name"))
    if lang == "en":
        st.query_params.pop("lang", None)  # English is the default: a plain link
    elif st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang


def _forget_result() -> None:
    st.session_state.pop("pay_shown", None)


def choose_rule(facts: list[Fact], lang: str) -> tuple[str, str | None, Fact] | None:
    """The place (only places with a pay rule), the kind of work where the place's rules differ
    by it, and the rule that applies; None until they are chosen."""
    place = st.selectbox(text(lang, "ui_pay_place"), paycheck.places(facts), index=None, key="pay_place",
                         placeholder=text(lang, "ui_pay_choose"), on_change=_forget_result,
                         format_func=lambda code: place_name(code, lang))
    if place is None:
        return None
    rules = paycheck.rules_for(facts, place, None)
    work = None
    if paycheck.ambiguous(rules):
        work = st.selectbox(text(lang, "ui_pay_work"), paycheck.kinds_of_work(rules), index=None,
                            key="pay_work", on_change=_forget_result,
                            format_func=lambda w: text(lang, f"ui_work_{w}"))
        if work is None:
            return None
        rules = paycheck.rules_for(facts, place, work)
    rule = rules[0]
    kinds = ", ".join(text(lang, f"ui_work_{w}") for w in rule.worker_types)
    st.caption(escape_markdown(text(lang, "ui_pay_rule", place=place_name(rule.jurisdiction, lang),
                                    kinds=kinds)))
    return place, work, rule


def numbers(rule: Fact, lang: str, today: dt.date) -> dict[str, Any]:
    """Only what the rule uses: the period and its time for an hourly rule; one offer's date,
    minutes and miles for a per-offer rule; and what the app paid without tips."""
    if paycheck.RULES[rule.id] == "per_offer":
        st.caption(text(lang, "ui_pay_per_offer"))
        start = end = st.date_input(text(lang, "ui_pay_day"), value=today, key="pay_day")
        minutes = st.number_input(text(lang, "ui_pay_offer_minutes"), value=None, step=1.0,
                                  key="pay_offer_minutes")
        miles = st.number_input(text(lang, "ui_pay_offer_miles"), value=None, step=0.1, key="pay_miles")
    else:
        start = st.date_input(text(lang, "ui_pay_start"), value=today - dt.timedelta(days=PERIOD_DAYS - 1),
                              key="pay_start")
        end = st.date_input(text(lang, "ui_pay_end"), value=today, key="pay_end")
        unit = st.radio(text(lang, "ui_pay_unit"), UNITS, horizontal=True, key="pay_unit",
                        format_func=lambda u: text(lang, f"pay_{u}"))
        label = text(lang, "ui_pay_time", unit=text(lang, f"pay_{unit}").capitalize(),
                     time=paycheck.time_is(rule, lang))
        amount = st.number_input(label, value=None, step=0.5, key="pay_time")
        minutes = None if amount is None else (amount * 60 if unit == "hours" else amount)
        miles = None
    paid = st.number_input(text(lang, "ui_pay_paid", sign=paycheck.currency_sign(rule)), value=None,
                           step=1.0, format="%.2f", key="pay_paid")
    return {"start": start, "end": end, "minutes": minutes, "miles": miles, "paid": paid}


def cite(src: Mapping[str, Any], row: Mapping[str, Any], lang: str) -> None:
    """One figure's source: the document's title and section, the verbatim quote, the dates and
    the official link."""
    title = str(row.get("title") or src["doc_id"])
    with st.expander(escape_markdown(text(lang, "ui_pay_figure", title=title, section=src["section"]))):
        st.caption(escape_markdown(text(lang, "ui_dates", since=src["effective_from"],
                                        verified=src["last_verified"])))
        st.text("\n".join(src["pieces"]))  # document text is shown as text, never as Markdown
        url = src["published_at"] or str(row.get("source_url") or "")
        if url.startswith("https://"):
            st.link_button(text(lang, "ui_official"), url)
            st.caption(escape_markdown(url))


def result(c: paycheck.PayCheck, visible: Mapping[str, Mapping[str, Any]]) -> None:
    lang, sign = c.language, c.currency
    if c.needs or c.minimum is None:  # a number is missing, or no verified figure covers the dates
        st.warning(paycheck.summary(c))
        return
    least = text(lang, "pay_least") if c.stale else ""
    st.metric(text(lang, "ui_pay_minimum_least" if c.stale else "ui_pay_minimum"),
              paycheck.money(c.minimum, sign))
    if c.shortfall:
        st.metric(text(lang, "ui_pay_shortfall"), paycheck.money(c.shortfall, sign))
        st.error(text(lang, "ui_pay_short", least=least, short=paycheck.money(c.shortfall, sign)))
    elif c.shortfall is not None and not c.stale:
        st.success(text(lang, "ui_pay_ok"))
    else:  # only part of the period has a figure, or the figure may have gone up since
        st.info(paycheck.summary(c).split("\n")[0])
    st.subheader(text(lang, "ui_pay_working"))
    for line, src in zip(c.lines, c.sources):  # one line and one source per figure used
        st.markdown(escape_markdown(line))
        cite(src, visible.get(src["doc_id"]) or {}, lang)
    for w in c.warnings:
        st.warning(w)


def what_to_do(a: Assistant, rule: Fact, place: str, work: str | None, lang: str, today: dt.date,
               visible: Mapping[str, Mapping[str, Any]]) -> None:
    """Whom to contact and by when, from the records (each cited), then the referral directory."""
    steps = [r for r in (render(f, lang, today) for f in
                         paycheck.next_steps(a.factbook.facts, place, rule, work)) if r][:2]
    refs = a.referrals_for(place, rule.topic, lang, work=work)
    if not steps and not refs:
        return
    st.subheader(text(lang, "next_step"))
    for r in steps:
        st.markdown(escape_markdown(r.sentence))
        cite(paycheck.source(r.fact, r.value, lang), visible.get(r.evidence.doc_id) or {}, lang)
    for ref in refs:
        phone = f" · {escape_markdown(ref.phone)}" if ref.phone else ""
        st.markdown(f"**{escape_markdown(ref.name)}**{phone} — {escape_markdown(ref.how(lang))}  \n{ref.url}")


def page() -> None:
    lang = language()
    st.title(text(lang, "ui_pay_title"))
    st.markdown(text(lang, "ui_pay_intro"))
    st.caption(text(lang, "ui_pay_notice"))
    try:
        a = get_assistant()
    except AssistantError as exc:  # no usable data directory or index: say what to fix, not a traceback
        st.error(str(exc))
        return
    chosen = choose_rule(a.factbook.facts, lang)
    if chosen is None:
        return
    place, work, rule = chosen
    today = a.clock()
    given = numbers(rule, lang, today)
    if st.button(text(lang, "ui_pay_button"), type="primary"):
        st.session_state.pay_shown = True
    if not st.session_state.get("pay_shown"):
        return
    try:
        c = paycheck.check(rule, **given, today=today, language=lang)
    except paycheck.PayInputError as exc:
        st.error(str(exc))
        return
    visible = a.catalog.visible(a.store.name)
    result(c, visible)
    what_to_do(a, rule, place, work, lang, today, visible)


page()

"""Compose an answer: the direct sentence from the facts, the as-of line, supporting quotes, and
"What you can do"; or the same facts given to the LLM first, with the figure check on its text."""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Iterator, Sequence

from .citations import verify
from .errors import ContextTooLong, ProviderError, StreamInterrupted
from .extractive import extract
from .facts.match import Match, base_doc, as_of_line, citation, direct_lines, figure_check
from . import paycheck
from .facts.model import check_figures, render
from .prompts import build_messages, fit_budget
from .prompts import text as t
from .types import Answer, Citation, Passage, Referral
from .understanding import Understanding, country_of, eu_members, place_name, plausible_without_place, scope

if TYPE_CHECKING:
    from .core import Assistant

log = logging.getLogger(__name__)
_MARKED_SENTENCE = re.compile(r"[^.!?\n]*?[.!?]?\s*(?:\[\d+\])+")


def pieces(text: str) -> Iterator[str]:
    for line in text.splitlines(keepends=True):
        yield line


# -- warnings ---------------------------------------------------------------------------------------
def place_warnings(u: Understanding, had_pii: bool, sidebar: str | None) -> list[str]:
    w = [t(u.language, "pii")] if had_pii else []
    for code in u.warnings:
        kind, *rest = code.split(":")
        if kind == "asked_other":
            named, side = rest
            w.append(t(u.language, "asked_other", named=place_name(named, u.language),
                       sidebar=place_name(side, u.language)))
        elif kind == "other_country":
            w.append(t(u.language, "other_country", named=place_name(rest[0], u.language),
                       sidebar=place_name(sidebar, u.language)))
    if u.place and country_of(u.place) in eu_members():
        w.append(t(u.language, "eu_national", place=place_name(u.place, u.language)))
    return w


def source_warnings(passages: Sequence[Passage], u: Understanding, leads: Sequence[Match]) -> list[str]:
    w = []
    # With a direct answer, quotes come only from its places, and "It depends" names them.
    places = [] if leads else sorted({p.jurisdiction for p in passages if p.jurisdiction != "US"})
    if u.place is None and places:
        w.append(t(u.language, "no_location",
                   places=", ".join(place_name(x, u.language) for x in places)))
    if any(p.doc_type == "platform_terms" for p in passages):
        w.append(t(u.language, "platform_terms"))
    if any(p.review_status != "approved" for p in passages):
        w.append(t(u.language, "draft"))
    return w


def answer_country(passages: Sequence[Passage], leads: Sequence[Match]) -> str | None:
    """With no place asked, the country the answer's sources are for (for the help lines)."""
    js = [m.rendered.fact.jurisdiction for m in leads] or [p.jurisdiction for p in passages[:3]]
    countries = {country_of(j) for j in js}
    return countries.pop() if len(countries) == 1 else None


def topic_of(u: Understanding, leads: Sequence[Match]) -> str | None:
    """The topic of the help lines: the leading record's, else the classifier's."""
    return leads[0].rendered.fact.topic if leads else u.topic


# -- help -------------------------------------------------------------------------------------------
def referral_lines(refs: Sequence[Referral], language: str, first: str = "") -> list[str]:
    """"What you can do": ``first`` (a step from the facts), then each place to get help on one
    short line (name, phone, link, first step)."""
    if not refs and not first:
        return []
    out = [f"**{t(language, 'next_step')}**"] + ([f"- {first}"] if first else [])
    for r in refs:
        how = r.how(language).strip()
        first = re.split(r"(?<=[.!?])\s", how, maxsplit=1)[0] if how else ""
        phone = f" · {r.phone}" if r.phone else ""
        out.append(f"- **{r.name}**{phone} · {r.url}" + (f" — {first}" if first else ""))
    return ["\n".join(out)]


def federal_note(u: Understanding) -> str:
    """Says that a US place without documents is answered with federal rules."""
    return t(u.language, "uncovered_us", place=place_name(u.federal_for, u.language))


# -- extractive -------------------------------------------------------------------------------------
def extractive(a: "Assistant", q: str, qvec: Sequence[float], passages: Sequence[Passage],
               u: Understanding, warnings: list[str], leads: Sequence[Match],
               refs: Sequence[Referral], step: Match | None = None) -> Answer:
    s = a.settings
    today = a.clock()
    blocks: list[str] = []
    cites: list[Citation] = []
    visible = a.catalog.visible(a.store.name)
    not_covered = u.intent == "platform_policy" and not leads  # the company decides; no record says
    if not_covered:
        blocks.append(t(u.language, "platform_policy"))
    if u.federal_for:  # first: what follows is federal, and the state may have its own rules
        blocks.append(federal_note(u))
    pay, pay_cite = pay_check_block(a, q, u, today, visible, len(cites) + 1)
    if pay:
        blocks.append(pay)
    if pay_cite:
        cites.append(pay_cite)
    if leads:
        lines, rendered = direct_lines(leads, u.language, u.place, len(cites) + 1)
        cites += [citation(len(cites) + i + 1, r, visible.get(r.evidence.doc_id)) for i, r in enumerate(rendered)]
        blocks.append("\n".join(lines))
        if u.place is not None or {r.fact.jurisdiction for r in rendered} <= {"US"}:
            blocks.append(f"*{as_of_line(rendered[0], u.language, today)}*")
    n_quotes = s.supporting_quotes if leads else s.extractive_max_sentences
    lead_sections = {(m.rendered.evidence.doc_id, m.rendered.evidence.section) for m in leads}
    # After a direct answer, supporting quotes come from the places it is about, not others.
    lead_places = {j for m in leads for j in scope(m.rendered.fact.jurisdiction) or ()}
    # They support it: from its documents (other sections than the one it cites), or from the
    # best passage of the search (the second best was off-topic more often than not: on dev,
    # off_topic 0.146 -> 0.126 with must_include unchanged; none at all lost must_include).
    lead_docs = {base_doc(m.rendered.evidence.doc_id) for m in leads}
    support = [p for i, p in enumerate(passages)
               if (p.doc_id, p.section.split(" > ")[-1]) not in lead_sections
               and (base_doc(p.doc_id) in lead_docs or i == 0)
               and (p.jurisdiction in lead_places or u.place is not None)] if leads else list(passages)
    if not_covered and u.place is None:
        # The company decides and nothing says where the worker is: one city's or state's law
        # beside "I don't have its terms" reads as the answer (a Top Dasher question got NYC's
        # minimum pay table). National and EU-wide guidance stays.
        support = [p for p in support if "-" not in p.jurisdiction]
    if leads and any(p.language == u.language for p in support):
        # A translation of the lead's document is among them: quote the reader's language only (an
        # English question about BC's engaged-time pay got its support from the Spanish version).
        support = [p for p in support if p.language == u.language]
    # After a direct answer a quote must earn its place: none is better than background.
    ex = extract(q, qvec, support, a.embedder, u.language, n_quotes, start=len(cites) + 1,
                 floor=s.support_floor if leads else s.quote_floor, keep_best=not leads,
                 where=u.place, work=u.work, place_penalty=s.unlikely_place_penalty)
    if not ex.citations and not leads:
        return a._refusal(u, passages, warnings)
    if ex.lines:
        blocks.append(f"**{t(u.language, 'from_sources')}**\n" + ex.text)
    cites.extend(ex.citations)
    first = ""
    if step is not None:
        r = step.rendered
        cites.append(citation(len(cites) + 1, r, a.catalog.visible(a.store.name).get(r.evidence.doc_id)))
        first = f"{r.sentence} [{len(cites)}]"
    blocks.extend(referral_lines(refs, u.language, first))
    bad = figure_check([m.rendered for m in leads] + ([step.rendered] if step else []))
    return Answer(text="\n\n".join(blocks), mode="extractive", citations=tuple(cites),
                  warnings=tuple(dict.fromkeys(warnings)), referrals=tuple(refs),
                  passages=tuple(passages), jurisdiction=u.place, language=u.language,
                  facts=tuple(m.rendered.fact.id for m in leads),
                  extra={"figure_check": bad, "quotes": list(ex.quotes),
                         "not_covered": "platform_policy" if not_covered else "place" if u.federal_for else "",
                         "lead_sentences": [m.rendered.sentence for m in leads]})


def pay_check_block(a: "Assistant", q: str, u: Understanding, today, visible,
                    n: int) -> tuple[str, Citation | None]:
    """"$38 for 3 hours in NYC": the pay check, first, with the rate it used cited as [n] (the
    record's quote holds the rate; the minimum and shortfall are computed from it)."""
    got = paycheck.from_question(a.factbook.facts, q, u.place, u.work, today, u.language)
    if got is None:
        return "", None
    f, c = got
    r = render(f, u.language, today)
    label = f"**{t(u.language, 'pay_check')}**"
    if c.needs or c.minimum is None or r is None:
        return f"{label} " + paycheck.summary(c).replace("\n", " "), None
    first, *working = paycheck.summary(c).split("\n")
    return (f"{label} {first} [{n}]\n" + "\n".join(f"- {ln}" for ln in working),
            citation(n, r, visible.get(r.evidence.doc_id)))


# -- generative -------------------------------------------------------------------------------------
def fact_passages(leads: Sequence[Match], a: "Assistant") -> list[Passage]:
    """The leading facts as the first sources for the model: the quote, with its dates."""
    visible = a.catalog.visible(a.store.name)
    out = []
    for m in leads:
        r = m.rendered
        row = visible.get(r.evidence.doc_id) or {}
        out.append(Passage(chunk_id=f"fact:{r.fact.id}", text=" ".join(r.evidence.quote), score=m.score,
                           doc_id=r.evidence.doc_id, version=str(row.get("version", "")),
                           title=str(row.get("title", r.evidence.doc_id)),
                           doc_type=str(row.get("doc_type", "guide")), jurisdiction=r.fact.jurisdiction,
                           language=r.evidence.language, section=r.evidence.section, page=None,
                           source_url=r.fact.published_at or str(row.get("source_url", "")),
                           publisher=str(row.get("publisher", "")),
                           effective_date=r.value.effective_from.isoformat(),
                           last_verified=r.fact.last_verified.isoformat()))
    return out


def generated_figure_check(text: str, passages: Sequence[Passage]) -> list[str]:
    """Sentences of a generated answer with a number its cited sources do not contain."""
    bad = []
    for m in _MARKED_SENTENCE.finditer(text):
        sentence = m.group(0)
        ns = [int(x) for x in re.findall(r"\[(\d+)\]", sentence)]
        quote = " ".join(passages[n - 1].text for n in ns if 1 <= n <= len(passages))
        body = re.sub(r"\[\d+\]", "", sentence)
        missing = check_figures(body, quote)
        if missing:
            bad.append(f"{sentence.strip()[:80]} ({', '.join(missing)})")
    return bad


def generative(a: "Assistant", q: str, qvec: Sequence[float], passages: Sequence[Passage],
               u: Understanding, history, warnings: list[str], leads: Sequence[Match],
               refs: Sequence[Referral]) -> Iterator[str]:  # returns Answer via StopIteration
    assert a.chat_model is not None
    if u.federal_for:  # the model's text may not say it; the warning above the answer does
        warnings.append(federal_note(u))
    given = fact_passages(leads, a) + list(passages)
    given = fit_budget(given, a.settings.context_token_budget)
    got: list[str] = []
    incomplete = False
    try:
        for attempt in (1, 2):
            try:
                for piece in a.chat_model.stream(build_messages(q, given, u.language, history, u.place)):
                    got.append(piece)
                    yield piece
                break
            except ContextTooLong:
                if attempt == 2 or len(given) < 2:
                    raise
                given = given[:len(given) // 2]  # trim the context and try once more
                log.warning("context too long: retrying with %d sources", len(given))
    except StreamInterrupted as exc:
        if not exc.partial.strip():
            return (yield from _fallback(a, q, qvec, passages, u, warnings, leads, refs, exc))
        got = [exc.partial]
        incomplete = True
        warnings.append(t(u.language, "incomplete"))
    except ProviderError as exc:
        return (yield from _fallback(a, q, qvec, passages, u, warnings, leads, refs, exc))
    raw = "".join(got)
    bad = generated_figure_check(raw, given)
    v = verify(raw, given)
    warnings.extend(v.warnings)
    if bad:
        warnings.append(t(u.language, "figure_unchecked"))
    if not v.citations:
        warnings.append(t(u.language, "no_citations"))
    return Answer(text=v.text, mode="generative", citations=v.citations,
                  warnings=tuple(dict.fromkeys(warnings)), passages=tuple(given), referrals=tuple(refs),
                  jurisdiction=u.place, language=u.language, incomplete=incomplete,
                  facts=tuple(m.rendered.fact.id for m in leads),
                  extra={"model": a.chat_model.name, "figure_check": bad})


def _fallback(a: "Assistant", q: str, qvec: Sequence[float], passages: Sequence[Passage],
              u: Understanding, warnings: list[str], leads: Sequence[Match], refs: Sequence[Referral],
              exc: Exception) -> Iterator[str]:
    log.warning("falling back to extractive answer: %s", exc)
    warnings.insert(0, t(u.language, "llm_fallback", why=str(exc).rstrip(".")))
    ans = extractive(a, q, qvec, passages, u, warnings, leads, refs)
    yield "\n\n"
    yield from pieces(ans.text)
    from dataclasses import replace

    return replace(ans, extra={**ans.extra, "fallback_reason": str(exc)})

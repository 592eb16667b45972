"""Facts: the corpus records hold (verbatim quotes, figures in quotes, every figure covered), values
by date, staleness, the figure check, and direct answers from the facts in the pipeline."""
from __future__ import annotations

import datetime as dt
import json
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.facts import (check_evidence, check_figures, conflicting_figures, load_facts, numbers, parse_fact,
                             render)
from assistant.facts.match import as_of_line
from conftest import ROOT, settings_for

sys.path.insert(0, str(ROOT / "scripts"))
from check_facts import corpus_docs, uncovered  # noqa: E402


def test_every_corpus_record_quotes_its_section_verbatim_with_all_its_figures():
    facts = load_facts(ROOT / "corpus" / "facts")
    assert len(facts) >= 300
    docs = {k: v[1] for k, v in corpus_docs().items()}
    assert check_evidence(facts, docs) == []


def test_every_money_and_deadline_figure_in_the_english_corpus_has_a_record():
    facts = load_facts(ROOT / "corpus" / "facts")
    assert uncovered(facts, corpus_docs()) == []


def test_every_record_has_dates_and_both_languages():
    for f in load_facts(ROOT / "corpus" / "facts"):
        assert f.last_verified and f.values and {"en", "es"} <= set(f.text), f.id
        assert all(v.effective_from for v in f.values), f.id


DOC = textwrap.dedent("""\
    # Seattle pay

    ## Seattle rates

    | Rate | 2024 | 2025 |
    |---|---|---|
    | Per offer (minimum) | $5.00 | $5.20 |
    """)


def _fact(**over):
    d = {"id": "sea", "kind": "pay_floor", "jurisdiction": "US-WA-Seattle", "worker_types": ["delivery"],
         "topic": "minimum_pay", "asks": ["how_much"], "last_verified": "2026-11-26",
         "next_change": "2026-01-01", "published_at": "https://example.org/ols",
         "published_by": {"en": "the OLS"}, "next_change_rule": {"en": "every January 1"},
         "text": {"en": "In Seattle in {year}, an app must pay at least {per_offer} per offer.",
                  "es": "En Seattle en {year}, la app debe pagar al menos {per_offer} por oferta."},
         "values": [{"effective_from": "2024-01-13", "effective_to": "2024-12-31",
                     "figures": {"per_offer": "$5.00"},
                     "evidence": [{"doc_id": "d", "section": "Seattle rates",
                                   "quote": ["| Rate | 2024 | 2025 |", "| Per offer (minimum) | $5.00 | $5.20 |"]}]},
                    {"effective_from": "2025-01-01", "effective_to": "2025-12-31",
                     "figures": {"per_offer": "$5.20"},
                     "evidence": [{"doc_id": "d", "section": "Seattle rates",
                                   "quote": ["| Rate | 2024 | 2025 |", "| Per offer (minimum) | $5.00 | $5.20 |"]}]}]}
    d.update(over)
    return parse_fact(d, "test.yaml")


def test_checks_fail_on_a_changed_quote_and_on_a_figure_missing_from_its_quote():
    good = _fact()
    assert check_evidence([good], {"d": DOC}) == []
    changed = {"d": DOC.replace("$5.20", "$5.40")}
    assert any("not verbatim" in p for p in check_evidence([good], changed))
    wrong = _fact(values=[{**v, "figures": {"per_offer": "$5.25"}} for v in [
        {"effective_from": "2025-01-01", "evidence": [{"doc_id": "d", "section": "Seattle rates",
                                                       "quote": "| Per offer (minimum) | $5.00 | $5.20 |"}]}]])
    problems = check_evidence([wrong], {"d": DOC})
    assert any("not in its quote" in p for p in problems)


def test_values_by_date_and_staleness():
    f = _fact()
    r2024 = render(f, "en", dt.date(2026, 12, 1), year=2024)
    assert r2024.sentence == "In Seattle in 2024, an app must pay at least $5.00 per offer."
    assert r2024.historical and r2024.stale  # the 2026 figure is not recorded: today's may differ
    today = render(f, "en", dt.date(2026, 12, 1))
    assert today.value.figures["per_offer"] == "$5.20" and today.stale  # 2026 rates never recorded
    line = as_of_line(today, "en", dt.date(2026, 12, 1))
    assert "expected to change on January 1, 2026" in line and "https://example.org/ols" in line
    then = render(f, "es", dt.date(2025, 6, 1))
    assert then.sentence.startswith("En Seattle en 2025") and not then.stale
    assert render(f, "en", dt.date(2023, 1, 1)) is None  # nothing in force yet


def _offer(id, start, end, amount, work="delivery"):
    """A Seattle record with one per-offer value (for the conflict check)."""
    return _fact(id=id, worker_types=[work], values=[{
        "effective_from": start, "effective_to": end, "figures": {"per_offer": amount},
        "evidence": [{"doc_id": "d", "section": "Seattle rates", "quote": amount}]}])


def test_the_same_figure_is_never_stated_two_ways_for_one_place_topic_and_date():
    # a deliberately conflicting pair: two Seattle delivery records giving 2025 a different per-offer minimum
    (problem,) = conflicting_figures([_fact(), _offer("sea-copy", "2025-01-01", "2025-12-31", "$5.40")])
    assert "sea (2025-01-01) and sea-copy (2025-01-01)" in problem and "$5.20 and $5.40" in problem
    # the same amount written another way, another period, or another kind of work is not a conflict
    assert conflicting_figures([_fact(), _offer("sea-same", "2025-01-01", "2025-12-31", "$5.2")]) == []
    assert conflicting_figures([_fact(), _offer("sea-2026", "2026-01-01", None, "$5.40")]) == []
    assert conflicting_figures([_fact(), _offer("sea-ride", "2025-01-01", None, "$5.40", "rideshare")]) == []
    # and the corpus states each figure one way
    assert conflicting_figures(load_facts(ROOT / "corpus" / "facts")) == []


def test_figure_check_compares_numbers_not_spelling():
    assert numbers("$20,000 and 200 payments, 15.3%") == numbers("20000 200 15.30")
    assert check_figures("at least $5.20 per offer", "| Per offer | $5.00 | $5.20 |") == []
    assert check_figures("at least $5.25 per offer", "| Per offer | $5.00 | $5.20 |") == ["5.25"]


@pytest.fixture
def facts_dir(tmp_path):
    d = tmp_path / "facts"
    d.mkdir()
    (d / "test.yaml").write_text(textwrap.dedent("""\
        facts:
        - id: seattle-deactivation-notice
          kind: deadline
          jurisdiction: US-WA-Seattle
          worker_types: [all]
          topic: deactivation
          asks: [when, can_they]
          keywords: [notice, deactivat, warning]
          text:
            en: "In Seattle, an app must tell you in writing why, at least {days} days before it deactivates you."
            es: "En Seattle, la app debe decirle por escrito por qué, al menos {days} días antes de desactivarle."
          last_verified: 2026-11-01
          values:
          - effective_from: 2025-01-01
            figures: {days: "14"}
            evidence:
            - doc_id: seattle-deact
              section: Notice before deactivation in Seattle
              quote: "The notice must come at least 14 days before the deactivation, except in cases of serious misconduct."
        - id: seattle-deactivation-changed
          kind: deadline
          jurisdiction: US-WA-Seattle
          worker_types: [all]
          topic: deactivation
          asks: [when]
          keywords: [notice, deactivat, warning, days]
          text: {en: "In Seattle, the notice must come {days} days before.", es: "En Seattle, {days} días antes."}
          last_verified: 2026-11-01
          values:
          - effective_from: 2025-01-01
            figures: {days: "30"}
            evidence:
            - doc_id: seattle-deact
              section: Notice before deactivation in Seattle
              quote: "The notice must come at least 30 days before the deactivation."
        """), encoding="utf-8")
    return d


def test_answer_opens_with_the_fact_cited_and_dated(shared_assistant, facts_dir):
    s = settings_for(shared_assistant.settings.data_dir, facts_dir=facts_dir)
    a = Assistant(s, shared_assistant.embedder, shared_assistant.store, shared_assistant.catalog,
                  clock=lambda: dt.date(2026, 12, 1))
    ans = a.ask("how much warning does a seattle app have to give before deactivating me?")
    first = ans.text.splitlines()[0]
    assert first == ("In Seattle, an app must tell you in writing why, at least 14 days before it "
                     "deactivates you. [1]")
    assert ans.facts == ("seattle-deactivation-notice",)
    c = ans.citations[0]
    assert c.doc_id == "seattle-deact" and "at least 14 days before" in c.quote
    assert c.effective_date == "2025-01-01" and c.last_verified == "2026-11-01"
    assert "As of December 1, 2026" in ans.text and ans.extra["figure_check"] == []
    # The record whose quote is not in the indexed document (the text changed) is never used.
    assert "30 days" not in ans.text


def _facts_dir(tmp_path: Path, questions: str) -> Path:
    import yaml

    d = tmp_path / "facts"
    (d / "questions").mkdir(parents=True)
    record = {k: v for k, v in _fact().__dict__.items()}  # only for its id
    (d / "sea.yaml").write_text(yaml.safe_dump({"facts": [{
        "id": record["id"], "kind": "pay_floor", "jurisdiction": "US-WA-Seattle",
        "worker_types": ["delivery"], "topic": "minimum_pay", "asks": ["how_much"],
        "last_verified": "2026-11-26", "text": {"en": "At least {per_offer}.", "es": "Al menos {per_offer}."},
        "values": [{"effective_from": "2025-01-01", "figures": {"per_offer": "$5.20"},
                    "evidence": [{"doc_id": "d", "section": "Seattle rates", "quote": "$5.20"}]}]}]}),
        encoding="utf-8")
    (d / "questions" / "sea.yaml").write_text(questions, encoding="utf-8")
    return d


def test_example_questions_attach_to_their_records_and_unknown_ids_fail(tmp_path):
    from assistant.facts import FactError

    d = _facts_dir(tmp_path, 'sea:\n- "seattle doordash min per offer?"\n- "cuanto pagan por oferta en seattle"\n')
    (f,) = load_facts(d)
    assert f.questions == ("seattle doordash min per offer?", "cuanto pagan por oferta en seattle")
    bad = _facts_dir(tmp_path / "b", 'sea:\n- "ok"\nno-such-record:\n- "what?"\n')
    with pytest.raises(FactError, match="no-such-record"):
        load_facts(bad)
    empty = _facts_dir(tmp_path / "c", 'sea:\n- ""\n')
    with pytest.raises(FactError, match="non-empty"):
        load_facts(empty)


def test_every_corpus_record_has_example_questions_in_both_languages():
    import py3langid

    for f in load_facts(ROOT / "corpus" / "facts"):
        assert len(f.questions) >= 4, f.id
        langs = {py3langid.classify(q)[0] for q in f.questions}
        assert "en" in langs, f.id


def test_no_place_and_one_places_rule_is_not_an_it_depends():
    """A courts-and-classification question with no place opened with "It depends on where you
    work: Minnesota: ... deactivation", one state's rule under a heading that promises a choice."""
    from assistant.facts.match import Match, Weights, lead

    today = dt.date(2026, 12, 1)
    w = Weights(9.0, 1.5, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    mn = Match(render(_fact(id="mn", jurisdiction="US-MN"), "en", today), 10.0)
    sea = Match(render(_fact(id="sea"), "en", today), 9.8)
    us = Match(render(_fact(id="us", jurisdiction="US"), "en", today), 9.5)
    assert lead([mn], w, None) == []
    assert [m.rendered.fact.id for m in lead([mn, sea], w, None)] == ["mn", "sea"]
    assert [m.rendered.fact.id for m in lead([mn, us], w, None)] == ["us", "mn"]  # federal first
    assert [m.rendered.fact.id for m in lead([mn], w, "US-MN")] == ["mn"]  # the worker's own place


def test_a_start_only_reported_is_never_shown_as_in_force_since():
    """NYC's Intro 276 record is dated by the Council's veto overrides (its start in law is not
    confirmed), and the answer said "In force since January 29, 2026"."""
    from assistant.facts import FactError
    from assistant.facts.match import as_of_line

    today = dt.date(2026, 12, 1)
    v = _fact().values[-1]
    raw = {"effective_from": "2025-01-01", "figures": {"per_offer": "$5.20"},
           "evidence": [{"doc_id": "d", "section": "Seattle rates", "quote": "| Per offer (minimum) | $5.00 | $5.20 |"}]}
    sure = render(_fact(values=[raw]), "en", today)
    unsure = render(_fact(values=[{**raw, "start_confirmed": False}]), "es", today)
    assert "In force since January 1, 2025" in as_of_line(sure, "en", today)
    line = as_of_line(unsure, "es", today)
    assert "Vigente desde" not in line and "No pudimos confirmar" in line
    assert v.start_confirmed
    with pytest.raises(FactError, match="start_confirmed"):
        _fact(values=[{**raw, "start_confirmed": "maybe"}])


def test_figures_past_their_expected_change_are_listed_for_a_check(capsys):
    """Issue 11: `gigrights docs stale` and the Library list the figures whose next-change date
    has passed with no newer verified value (Seattle's 2026 rates, for one)."""
    from assistant.facts import due_figures
    from ingest.cli import main

    f = _fact(next_change="2026-01-01")  # the newest value is 2025's
    assert [r["id"] for r in due_figures([f], dt.date(2026, 3, 1))] == ["sea"]
    assert due_figures([f], dt.date(2025, 12, 31)) == []  # not due yet
    newer = _fact(values=[*[{"effective_from": v.effective_from.isoformat(),
                             "effective_to": v.effective_to.isoformat() if v.effective_to else None,
                             "figures": dict(v.figures),
                             "evidence": [{"doc_id": "d", "section": "Seattle rates", "quote": "| Per offer (minimum) | $5.00 | $5.20 |"}]}
                           for v in f.values[:1]],
                          {"effective_from": "2026-01-01", "figures": {"per_offer": "$5.20"},
                           "evidence": [{"doc_id": "d", "section": "Seattle rates", "quote": "| Per offer (minimum) | $5.00 | $5.20 |"}]}])
    assert due_figures([newer], dt.date(2026, 3, 1)) == []  # a value from the change date on
    assert main(["docs", "stale", "--json", "--today", "2026-12-02"]) == 0
    shipped = {r["id"] for r in json.loads(capsys.readouterr().out)}
    assert "seattle-app-minimum-payment" in shipped and "nyc-delivery-minimum-pay" not in shipped

"""The eval runner over the real pipeline: the CI gate on the starter corpus, the CLI, the judge."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant.config import load_settings
from assistant.core import build_assistant
from conftest import ROOT, settings_for
from evals import thresholds as T
from evals.report import write_report
from evals.runner import Case, evaluate, load_cases, run_product, split_paths
from ingest.manifest import load_manifest
from ingest.pipeline import Ingestor


@pytest.fixture(scope="module")
def starter_index(tmp_path_factory, embedder):  # about 30 s: the 72 starter documents
    data = tmp_path_factory.mktemp("starter")
    s = settings_for(data)
    a = build_assistant(s, embedder=embedder)
    try:
        rep = Ingestor(s, embedder, a.store, a.catalog).ingest_manifest(
            load_manifest(ROOT / "corpus" / "manifest.yaml"))
        assert rep.count("failed") == 0
    finally:
        a.close()
    return data


@pytest.mark.timeout(1200)  # 400 cases, the baseline and 290 understanding questions on 2 cores
def test_eval_gate_on_starter_corpus(starter_index, embedder, tmp_path):
    """CI fails here when answer quality drops under the floors in evals/thresholds.py, on the dev
    split, the held-out test split and the held-out understanding questions."""
    dev, test = load_cases(split_paths("dev")), load_cases(split_paths("test"))
    assert len(dev) >= 120 and len(test) >= 150
    assert 0.10 <= sum(not c.answerable for c in dev) / len(dev) <= 0.20
    assert sum(c.language == "es" for c in test) / len(test) >= 0.25
    assert sum(c.place is None for c in test) / len(test) >= 0.5
    cases = dev + test
    a = build_assistant(settings_for(starter_index), embedder=embedder)
    try:
        report = evaluate(a, cases)
    finally:
        a.close()
    p, b = report["product"], report["baseline"]
    print(json.dumps({sp: {k: s[k] for k in ("hit@5", "must_include", "answer_first", "off_topic",
                                             "correct_refusal")} for sp, s in report["splits"].items()}))
    assert set(report["splits"]) == {"dev", "test"} and report["understanding"]["cases"] >= 250
    assert report["gate_failures"] == [], report["gate_failures"]
    assert p["hit@5"] > b["hit@5"] and p["mrr"] > b["mrr"]  # ahead of the naive baseline
    assert p["citation_validity"] >= T.CITATION_VALIDITY_MIN
    j, md = write_report(report, tmp_path / "r")
    text = md.read_text()
    assert "naive baseline" in text and "## By tag" in text and "Latency histogram" in text
    assert "## Dev and test side by side" in text and "### Confusion: intent" in text
    assert json.loads(j.read_text())["product"]["cases"] == len(cases)


def _case(**kw):
    base = {"id": "t-1", "question": "Can the app deactivate me without telling me why?",
            "jurisdiction": "US-WA-Seattle", "history": [], "expected_docs": ["seattle-deact"],
            "expected_section": None, "must_include": [["14 days"]], "answerable": True,
            "language": "en", "tags": ["deactivation"]}
    base.update(kw)
    return json.dumps(base)


CASES = [
    _case(),
    _case(id="t-2", question="What is the minimum pay for delivery workers in NYC?", jurisdiction=None,
          expected_docs=["nyc-pay"], must_include=[["April 1"]], tags=["minimum_pay"]),
    _case(id="t-3", question="does texas have a minimum pay law?", jurisdiction=None, expected_docs=[],
          must_include=[], answerable=False, tags=["other-jurisdiction"]),
]


def _eval(ds, data_dir, *extra):
    env = {**os.environ, "GIGRIGHTS_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "ingest", "eval", "--dataset", str(ds), *map(str, extra)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_cli_eval_writes_report_and_compares(tmp_path, index_copy):
    """`gigrights eval` writes into the data dir unless --out is given (never into evals/reports),
    compares with the previous run (deltas and the cases that flipped) and exits 1 under the gate,
    0 above it."""
    committed = sorted(p.name for p in (ROOT / "evals" / "reports").iterdir())
    ds = tmp_path / "mini.jsonl"
    ds.write_text("\n".join(CASES) + "\n")
    r1 = _eval(ds, index_copy)
    assert r1.returncode == 1 and "GATE FAILED" in r1.stdout, r1.stdout + r1.stderr
    assert f"dev: must_include = 0.000, threshold >= {T.FLOORS['dev']['must_include'][1]}" in r1.stdout  # the 14 days are not quoted
    assert "hit@5" in r1.stdout and "baseline" in r1.stdout
    [first] = (index_copy / "eval-reports").glob("*/report.json")  # <data dir>/eval-reports/<time>
    assert f"report: {first.parent / 'report.md'}" in r1.stdout
    assert sorted(p.name for p in (ROOT / "evals" / "reports").iterdir()) == committed
    rep1 = json.loads(first.read_text())
    assert rep1["product"]["hit@5"] == 1.0 and rep1["product"]["correct_refusal"] == 1.0
    assert rep1["comparison"]["previous"].startswith("evals/reports/")  # the newest committed one

    # the same cases, but t-1 now expects another document: its hit@5 flips 1 -> 0
    ds.write_text("\n".join([_case(expected_docs=["nyc-pay"])] + CASES[1:]) + "\n")
    r2 = _eval(ds, index_copy, "--out", tmp_path / "r2")
    assert r2.returncode == 1 and f"compared with {first}" in r2.stdout, r2.stdout + r2.stderr
    rep2 = json.loads((tmp_path / "r2" / "report.json").read_text())
    cmp_ = rep2["comparison"]
    assert cmp_["previous"] == str(first)
    assert cmp_["flipped"] == [{"id": "t-1", "before": {"hit@5": 1.0, "refusal": "answered"},
                                "after": {"hit@5": 0.0, "refusal": "answered"}}]
    assert cmp_["deltas"]["hit@5"] == [0.5, 1.0] and cmp_["deltas"]["correct_refusal"] == [1.0, 1.0]
    md = (tmp_path / "r2" / "report.md").read_text()
    assert f"## Compared with {first}" in md and "Cases that flipped: 1" in md
    assert "| hit@5 | 0.500 | 1.000 | -0.500 worse |" in md

    ds.write_text(CASES[2] + "\n")  # only the question to refuse: above every floor
    r3 = _eval(ds, index_copy, "--out", tmp_path / "r3")
    assert r3.returncode == 0 and "GATE FAILED" not in r3.stdout, r3.stdout + r3.stderr
    assert f"compared with {tmp_path / 'r2' / 'report.json'}" not in r3.stdout  # --out dirs are not runs
    assert f"compared with {first}" in r3.stdout
    assert sorted(p.name for p in (ROOT / "evals" / "reports").iterdir()) == committed


def test_latest_report_and_trend_read_the_committed_and_the_data_dir_reports(tmp_path):
    from evals.report import REPORTS, default_out, latest_report, report_files, trend

    committed = latest_report()
    assert committed is not None and committed.parent.parent == REPORTS
    assert latest_report(data_dir=tmp_path) == committed  # no local run yet
    out = default_out(tmp_path)
    assert out.parent == tmp_path / "eval-reports"
    report = json.loads(committed.read_text(encoding="utf-8"))
    report["created"] = "2999-01-01T00:00:00+00:00"
    report["product"]["hit@5"] = 0.123
    out.mkdir(parents=True)
    (out / "report.json").write_text(json.dumps(report), encoding="utf-8")
    assert latest_report(data_dir=tmp_path) == out / "report.json"
    assert latest_report(exclude=out, data_dir=tmp_path) == committed
    assert latest_report() == committed  # without the data dir, only the committed reports
    assert report_files(tmp_path)[-1] == out / "report.json"
    rows = trend(limit=2, data_dir=tmp_path)
    assert [r["report"] for r in rows] == [committed.parent.name, out.name] and rows[-1]["hit@5"] == 0.123


def test_judge_scores_faithfulness_through_the_llm_seam(tmp_path, index_copy, embedder):
    """The judge's verdicts, scripted as a mix, give exactly their share of SUPPORTED; a judge
    error is counted apart and scores nothing."""
    from evals.judge import cited_sentences, judge_results
    from llm_stub import StubServer

    assert cited_sentences("- “Apps must pay.” [1]\n- “Notice first.” [1][2]") == [
        ("Apps must pay.", [1]), ("Notice first.", [1, 2])]
    ds = tmp_path / "cases.jsonl"
    ds.write_text("\n".join(CASES) + "\n")
    verdicts = ["SUPPORTED", "UNSUPPORTED", ("status", 400), "supported", "UNSUPPORTED", "UNSUPPORTED",
                "SUPPORTED"] * 10
    stub = StubServer().start()
    try:
        stub.script = [v if isinstance(v, tuple) else ("stream", v) for v in verdicts]
        s = load_settings(data_dir=index_copy, llm_base_url=stub.base_url, llm_model="judge-model",
                          llm_max_retries=0)
        from assistant.llm import OpenAIChatModel

        judge = OpenAIChatModel(s)
        a = build_assistant(settings_for(index_copy), embedder=embedder)
        try:
            results = run_product(a, load_cases([ds]))
            out = judge_results(judge, results, a)
            answered = [a.ask(r.case.question, r.case.jurisdiction) for r in results if not r.refused]
        finally:
            a.close()
        n = len(stub.requests)
        assert n == sum(len(cited_sentences(ans.text)) for ans in answered) >= 4
        asked = verdicts[:n]
        supported = sum(v in ("SUPPORTED", "supported") for v in asked)
        assert out["model"] == "judge-model" and out["errors"] == 1 and out["sentences"] == n - 1
        assert out["faithfulness"] == supported / (n - 1) and 0 < out["faithfulness"] < 1
        prompt = stub.requests[0]["body"]["messages"][0]["content"]
        assert "<passage>" in prompt and "<sentence>" in prompt
        first_sentence = cited_sentences(answered[0].text)[0][0]
        assert first_sentence in prompt
    finally:
        stub.stop()


def test_issue_examples_on_the_starter_corpus(starter_index, embedder):
    """The answers issue's examples, on the real corpus: the worker's rule first, from the facts."""
    a = build_assistant(settings_for(starter_index), embedder=embedder)
    try:
        ans = a.ask("seattle doordash - whats the minimum they have to pay per offer in 2025")
        first = ans.text.splitlines()[0]
        assert "$0.45" in first and "$0.77" in first and "$5.20" in first
        assert ans.facts[0] == "seattle-app-minimum-payment"
        # A rideshare driver gets the state's rideshare rule, not Seattle's delivery ordinance.
        ans = a.ask("uber driver in seattle, whats the minimum i get per trip?")
        assert ans.facts and ans.facts[0] == "wa-tnc-minimum-pay-seattle"
        assert "Rideshare drivers for companies like Uber" not in ans.text.split("\n\n")[0]
        ans = a.ask("when did seattle gig worker minimum pay start")
        assert "January 13, 2024" in " ".join(ans.text.splitlines()[:1])
        # Found reading answers at phone width: one rule place by place, no other place's quotes
        # after a federal answer, and TLC says New York City.
        ans = a.ask("doordash deactivated me. can i get unemployment??")
        topics = {f.id: f.topic for f in a.factbook.facts}
        assert ans.facts and {topics[f] for f in ans.facts} == {"unemployment"}
        ans = a.ask("when are the quartely tax payments due? started doing uber eats this year n never paid any")
        assert "April 15" in ans.text.splitlines()[0] and "New York" not in ans.text
        assert not any("New York" in w for w in ans.warnings)
        ans = a.ask("lyft keeps locking me out of the app for hours even tho my tlc license is fine")
        assert ans.jurisdiction == "US-NY-NYC"
        ans = a.ask("Soy repartidor en España, ¿me pueden desactivar sin explicación?")
        assert not ans.refused and ans.language == "es" and ans.jurisdiction == "ES"
        assert all(r.jurisdictions[0] in ("EU", "ES") for r in ans.referrals)
        # Found reading dev answers (session of 2026-12-02):
        # a Buffalo driver asking about "outside nyc" got NYC's TLC rule;
        ans = a.ask("lyft driver in buffalo. is there any minimum pay outside nyc?")
        assert ans.jurisdiction == "US-NY" and not any(f.startswith("nyc-") for f in ans.facts)
        # a question about what a law covers was told "the company decides" and got no rule;
        ans = a.ask("does the minnesota rideshare pay law cover doordash drivers")
        assert "set by the company" not in ans.text
        # ...and its answer is the record that says so, though that record is about drivers: a
        # record that says which work it leaves out is for the workers left out too
        assert ans.facts[:1] == ("mn-tnc-law-coverage",) and "food delivery" in ans.text.split("\n\n")[0]
        ans = a.ask("does the massachusetts rideshare union law cover doordash and instacart people too")
        assert "ma-rideshare-union-right" in ans.facts, ans.facts
        # "around LA" is Los Angeles, and "en nueva york" brings in the city's own rule
        ans = a.ask("drive lyft around LA. i want to see all the data lyft has on me, how do i ask")
        assert ans.jurisdiction == "US-CA" and not ans.refused
        # with no place, no other country's rule as "it depends" for an English question, and no
        # record on a topic the question is unlikely to be about (read at phone width, 2026-12-02)
        ans = a.ask("i read that truck drivers are exempt from forced arbitration under some supreme "
                    "court case. does that cover amazon flex or uber drivers too?")
        assert not any(f.startswith(("es-", "uk-", "on-")) for f in ans.facts), ans.facts
        ans = a.ask("got doored on my ebike doing uber eats last night, wrist is messed up and i cant "
                    "ride for weeks probably. uber support just says 'we're sorry to hear'. what do i do now")
        assert "ny-unemployment-uber-settlement" not in ans.facts and "New York" not in ans.text.split("\n\n")[0]
        ans = a.ask("soy repartidor de uber eats en nueva york cuanto me tienen que pagar")
        assert ans.facts[:1] == ("nyc-delivery-minimum-pay",) and "Ciudad de Nueva York" in ans.text.splitlines()[0]
        # a question about tax got Massachusetts' pay floor as its answer;
        ans = a.ask("lyft driver in boston, whats the best way to pay less tax this year? should i set up an LLC")
        assert "ma-settlement-pay-floor" not in ans.facts
        # a company's own rule, asked with no place, got another place's law as "it depends"; and
        # "set by the company, I don't have its terms" counts as saying the sources do not cover it.
        ans = a.ask("how does uber calculate my acceptance rate")
        assert not ans.facts and ans.extra["not_covered"] == "platform_policy"
        assert "set by the company" in ans.text.split("\n\n")[0]
        case = Case("p", "how does uber calculate my acceptance rate", None, (), (), False, "en", ())
        assert run_product(a, [case])[0].refused
        # ...but only when the model is sure it is about the company's rule, not the law.
        ans = a.ask("do delivery apps have to pay me for the time im waiting between orders?")
        assert not ans.extra.get("not_covered") and "set by the company" not in ans.text
        # the brief's own example: the answer leads with the arithmetic on the official rate, cited
        ans = a.ask("I got $38 for 3 hours of deliveries in NYC last week, is that legal?")
        first = ans.text.split("\n\n")[0]
        assert "$66.39" in first and "$28.39 short" in first and "[1]" in first
        assert ans.citations[0].doc_id == "nyc-delivery-minimum-pay" and "22.13" in ans.citations[0].quote
        # ...and its first place to get help is the city's agency, not a state office that also lists NYC
        assert ans.referrals[0].id.startswith("nyc-dcwp"), [r.id for r in ans.referrals]
        # read at phone width: a DoorDash courier hurt in Yonkers was told to report to the Black Car
        # Fund, which does not cover couriers (the record saying so was for rideshare drivers only)
        ans = a.ask("i deliver for doordash in yonkers and got hurt on my bike. can i claim from the black car fund")
        assert ans.facts == ("ny-black-car-fund-not-delivery",) and "does not cover" in ans.text.splitlines()[0]
        # after a direct answer, quotes come from its documents or the best passage.
        ans = a.ask("seattle doordash - whats the minimum they have to pay per offer in 2025")
        lead_docs = {c.doc_id for c in ans.citations[:len(ans.facts)]}
        top = set(ans.extra["ranked_doc_ids"][:1])
        n = len(ans.facts)
        quotes = ans.citations[n:n + len(ans.extra["quotes"])]
        assert quotes and all(c.doc_id in lead_docs | top for c in quotes), quotes
    finally:
        a.close()

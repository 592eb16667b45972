"""Run the eval datasets through the real pipeline (build_assistant), score, report, gate."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from assistant.config import Settings
from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.types import Answer
from assistant.understanding import place_name, scope

from . import metrics as M
from . import thresholds as T

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT / "evals" / "datasets"          # *.jsonl here: the dev split (knobs are tuned on it)
TEST_SPLIT = DATASETS / "test"                     # held out: nothing is tuned on it


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    jurisdiction: str | None
    expected_docs: tuple[str, ...]
    must_include: tuple[tuple[str, ...], ...]
    answerable: bool
    language: str
    tags: tuple[str, ...]
    history: tuple[tuple[str, str], ...] = ()
    expected_section: str | None = None
    first_two: tuple[tuple[str, ...], ...] = ()   # key facts a good answer states first
    place: str | None = None                      # where the worker is (labels the wrong-place check)
    work: str | None = None
    split: str = "dev"


def split_paths(split: str) -> list[Path]:
    dev = sorted(DATASETS.glob("*.jsonl"))
    test = sorted(TEST_SPLIT.glob("*.jsonl"))
    return {"dev": dev, "test": test, "both": dev + test}[split]


def load_cases(paths: Sequence[Path] | None = None) -> list[Case]:
    out = []
    for path in paths or split_paths("dev"):
        split = "test" if Path(path).parent.name == "test" else "dev"
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                out.append(Case(id=d["id"], question=d["question"], jurisdiction=d.get("jurisdiction"),
                                expected_docs=tuple(d.get("expected_docs") or ()),
                                must_include=tuple(tuple(g) for g in d.get("must_include") or ()),
                                answerable=bool(d["answerable"]), language=d.get("language", "en"),
                                tags=tuple(d.get("tags") or ()),
                                history=tuple(tuple(h) for h in d.get("history") or ()),
                                expected_section=d.get("expected_section"),
                                first_two=tuple(tuple(g) for g in d.get("first_two") or ()),
                                place=d.get("place"), work=d.get("work"), split=split))
            except (ValueError, KeyError) as exc:
                raise SystemExit(f"{path}:{n}: bad case ({exc})") from None
    return out


@dataclass
class Result:
    case: Case
    ranked: list[str]
    cited: list[str]
    text: str
    refused: bool
    latency_ms: float
    language: str
    marker_numbers: list[int] = field(default_factory=list)
    error: str = ""
    answer: Answer | None = None


def run_product(a: Assistant, cases: Sequence[Case]) -> list[Result]:
    out = []
    for c in cases:
        t = time.perf_counter()
        try:
            ans = a.ask(c.question, c.jurisdiction, c.history)
        except AssistantError as exc:
            out.append(Result(c, [], [], "", True, (time.perf_counter() - t) * 1000, c.language,
                              error=str(exc)))
            continue
        # "This is set by the company, and I don't have its terms", or "I don't have documents for
        # Texas yet; these are US federal rules", says the sources do not cover the question as
        # asked: for the refusal counts, that is a refusal (with general guidance or the federal
        # rules after it).
        refused = ans.refused or bool(ans.extra.get("not_covered"))
        out.append(Result(c, list(ans.extra.get("ranked_doc_ids", [])), [x.doc_id for x in ans.citations],
                          ans.text, refused, ans.latency_ms, answer_language(ans.text),
                          [x.n for x in ans.citations], answer=ans))
    return out


def _langid(text: str) -> str:
    """An identifier independent of the product's own detector (py3langid, English/Spanish)."""
    global _IDENT
    if _IDENT is None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        ident.set_languages(["en", "es"])
        _IDENT = ident
    return _IDENT.classify(text)[0]


_IDENT = None


def answer_language(text: str) -> str:
    own = M.own_words(text)
    return _langid(own) if own.strip() else "en"


def _marked_lines(r: Result) -> list[tuple[str, str, str]]:
    """(line, cited doc_id, cited jurisdiction) for every [n] marker in the answer text."""
    if r.answer is None:
        return []
    by_n = {c.n: c for c in r.answer.citations}
    out = []
    for line in r.text.splitlines():
        for n in M._MARKER.findall(line):
            c = by_n.get(int(n))
            if c is not None:
                out.append((line, c.doc_id, c.jurisdiction))
    return out


def quote_language_ok(r: Result) -> float | None:
    """Share of quotes in the question's language, or labelled as another language."""
    if r.answer is None:
        return None
    lines = [ln for ln in r.text.splitlines() if "“" in ln]
    if not lines:
        return None
    ok = 0
    for ln in lines:
        labelled = "in English" in ln or "en inglés" in ln or "en español" in ln
        ok += labelled or _langid(M.own_words(ln) or ln) == r.case.language or \
            _langid(" ".join(q for q, _ in M.quoted(ln))) == r.case.language
    return ok / len(lines)


def answer_metrics(r: Result) -> dict[str, float | None]:
    """The answers-issue metrics of one case (None where a metric does not apply)."""
    if r.answer is None or r.refused or not r.case.answerable:
        return {"answer_first": None, "off_topic": None, "wrong_place": None, "figure_check": None,
                "citation_verbatim": None, "quote_language": None}
    a = r.answer
    lines = _marked_lines(r)
    place = r.case.jurisdiction or r.case.place
    allowed = scope(place) if place else None
    names = {j: (place_name(j), place_name(j, "es")) for _l, _d, j in lines}  # a Spanish line names it in Spanish
    return {
        "answer_first": M.answer_first(r.text, r.case.first_two),
        "off_topic": M.off_topic_rate([d for _l, d, _j in lines], r.case.expected_docs),
        "wrong_place": float(M.wrong_place([(ln, j) for ln, _d, j in lines], allowed, names)),
        "figure_check": 0.0 if a.extra.get("figure_check") else 1.0,
        "citation_verbatim": M.verbatim_rate(r.text, {c.n: c.quote for c in a.citations}),
        "quote_language": quote_language_ok(r),
    }


def score(results: Sequence[Result]) -> dict[str, Any]:
    ans = [r for r in results if r.case.answerable]
    una = [r for r in results if not r.case.answerable]
    outcomes = [M.refusal_outcome(r.case.answerable, r.refused) for r in results]
    answered = [r for r in ans if not r.refused]
    lat = [r.latency_ms for r in results]
    extra = [answer_metrics(r) for r in results]
    return {
        "cases": len(results), "answerable": len(ans), "unanswerable": len(una),
        "hit@1": M.mean(M.hit_at(r.ranked, r.case.expected_docs, 1) for r in ans),
        "hit@3": M.mean(M.hit_at(r.ranked, r.case.expected_docs, 3) for r in ans),
        "hit@5": M.mean(M.hit_at(r.ranked, r.case.expected_docs, 5) for r in ans),
        "mrr": M.mean(M.reciprocal_rank(r.ranked, r.case.expected_docs) for r in ans),
        "ndcg@10": M.mean(M.ndcg_at(r.ranked, r.case.expected_docs, 10) for r in ans),
        "citation_validity": M.mean(M.marker_validity(r.text, r.marker_numbers) for r in results),
        "citation_precision": M.mean(M.citation_precision(r.cited, r.case.expected_docs) for r in answered),
        "citation_recall": M.mean(M.citation_recall(r.cited, r.case.expected_docs) for r in answered),
        "must_include": M.mean(M.include_coverage(r.text, r.case.must_include) for r in ans),
        "correct_refusal": (outcomes.count("correct_refusal") / len(una)) if una else None,
        "false_refusal": (outcomes.count("false_refusal") / len(ans)) if ans else None,
        "language_match": M.mean(float(r.language == r.case.language) for r in results),
        **{k: M.mean(per[k] for per in extra) for k in ("answer_first", "off_topic", "wrong_place",
                                                        "figure_check", "citation_verbatim",
                                                        "quote_language")},
        "latency_p50_ms": M.percentile(lat, 50), "latency_p95_ms": M.percentile(lat, 95),
    }


def breakdowns(results: Sequence[Result]) -> dict[str, dict[str, dict[str, Any]]]:
    groups: dict[str, dict[str, list[Result]]] = {"jurisdiction": {}, "tag": {}, "language": {}}
    for r in results:
        groups["jurisdiction"].setdefault(r.case.jurisdiction or "(not set)", []).append(r)
        groups["language"].setdefault(r.case.language, []).append(r)
        for t in r.case.tags:
            groups["tag"].setdefault(t, []).append(r)
    keep = ("cases", "hit@5", "mrr", "must_include", "answer_first", "off_topic", "correct_refusal",
            "false_refusal")
    return {g: {k: {m: v for m, v in score(rs).items() if m in keep} for k, rs in sorted(d.items())}
            for g, d in groups.items()}


def gate(summary: dict[str, Any], split: str = "dev") -> list[str]:
    """Threshold failures (empty = pass). Floors per split are named in evals/thresholds.py."""
    fails = []
    for name, (op, limit) in T.FLOORS.get(split, {}).items():
        v = summary.get(name)
        if v is None:
            continue
        if (op == ">=" and v < limit - 1e-9) or (op == "<=" and v > limit + 1e-9):
            fails.append(f"{name} = {v:.3f}, threshold {op} {limit}")
    return fails


def case_rows(results: Sequence[Result]) -> list[dict[str, Any]]:
    return [{"id": r.case.id, "split": r.case.split, "hit@5": M.hit_at(r.ranked, r.case.expected_docs, 5),
             "refusal": M.refusal_outcome(r.case.answerable, r.refused),
             "must_include": M.include_coverage(r.text, r.case.must_include),
             **{k: v for k, v in answer_metrics(r).items()},
             "cited": M.dedupe(r.cited), "ranked": M.dedupe(r.ranked)[:5], "error": r.error,
             "latency_ms": round(r.latency_ms, 1)} for r in results]


def evaluate(a: Assistant, cases: Sequence[Case], *, baseline: bool = True,
             judge: Any = None, understanding: bool = True) -> dict[str, Any]:
    results = run_product(a, cases)
    report: dict[str, Any] = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "mode": a.mode, "embedder": a.embedder.name,
        "settings": {"top_k": a.settings.top_k, "refusal_threshold": a.settings.refusal_threshold,
                     "lexical_weight": a.settings.lexical_weight, "chunk_size": a.settings.chunk_size},
        "product": score(results), "breakdowns": breakdowns(results), "cases": case_rows(results),
    }
    splits = sorted({r.case.split for r in results})
    report["splits"] = {sp: score([r for r in results if r.case.split == sp]) for sp in splits}
    if baseline:
        from .baseline import NaiveBaseline

        b = NaiveBaseline.from_catalog(a)
        report["baseline"] = score(b.run(cases))
    if judge is not None:
        from .judge import judge_results

        report["judge"] = judge_results(judge, results, a)
    if understanding:
        from .understanding import load_test, predict
        from .understanding import score as understanding_score

        rows = load_test()
        model = a.intent_model()
        if rows and model is not None:
            places = a.places()
            report["understanding"] = understanding_score(
                rows, predict(rows, a.embedder, model, a.settings.work_min, places),
                a.settings.fraud_min, places)
    report["gate_failures"] = [f"{sp}: {f}" for sp, summary in report["splits"].items()
                               for f in gate(summary, sp)]
    if report.get("understanding"):
        report["gate_failures"] += [f"understanding: {f}" for f in gate(report["understanding"],
                                                                         "understanding")]
    return report


def main(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.core import build_assistant

    from .report import compare_with_latest, default_out, write_report

    cases = load_cases(args.dataset or split_paths(getattr(args, "split", None) or "dev"))
    judge = None
    if getattr(args, "judge", False):
        from assistant.llm import build_chat_model

        judge = build_chat_model(settings)
        if judge is None:
            print("error: --judge needs an LLM (set GIGRIGHTS_LLM_BASE_URL and GIGRIGHTS_LLM_MODEL)")
            return 2
    # The answers are scored in the product's default mode for this configuration; the judge model
    # only grades them.
    a = build_assistant(settings.model_copy(update={"top_k": args.k}) if args.k else settings)
    try:
        report = evaluate(a, cases, judge=judge)
    finally:
        a.close()
    out = args.out or default_out(settings.data_dir)
    previous = compare_with_latest(report, exclude=out, data_dir=settings.data_dir)
    paths = write_report(report, out)
    if args.json:
        print(json.dumps(report["product"] | {"baseline": report.get("baseline")}, indent=2))
    else:
        from .report import table

        print(table(report))
        if previous:
            print(f"\ncompared with {previous}")
        print(f"\nreport: {paths[1]}")
    if report["gate_failures"]:
        print("\nGATE FAILED:\n  " + "\n  ".join(report["gate_failures"]))
        return 1
    return 0

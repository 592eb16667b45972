"""Eval reports: JSON + Markdown (bars, latency histogram, comparison with the previous report)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from . import metrics as M

MAIN = ("hit@1", "hit@3", "hit@5", "mrr", "ndcg@10", "citation_validity", "citation_verbatim",
        "citation_precision", "citation_recall", "must_include", "answer_first", "off_topic",
        "wrong_place", "figure_check", "correct_refusal", "false_refusal", "language_match",
        "quote_language", "latency_p50_ms", "latency_p95_ms")
UNDERSTANDING = ("place_accuracy", "us_place_for_non_us", "work_accuracy", "topic_accuracy",
                 "intent_accuracy", "fraud_recall", "fraud_false_positive")
REPORTS = Path(__file__).resolve().parent / "reports"  # the committed reports (evals/reports)
RUNS = "eval-reports"  # under the data dir: where `gigrights eval` writes unless --out is given


def runs_dir(data_dir: Path) -> Path:
    return Path(data_dir) / RUNS


def default_out(data_dir: Path, now: dt.datetime | None = None) -> Path:
    """``<data dir>/eval-reports/<timestamp>``: a run never writes into the source tree by default."""
    return runs_dir(data_dir) / (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")


def report_files(data_dir: Path | None = None) -> list[Path]:
    """Every report.json in the committed reports and, with ``data_dir``, in that data dir's runs,
    oldest first (by the time written in the report)."""
    dirs = [REPORTS] + ([runs_dir(data_dir)] if data_dir is not None else [])
    return _by_creation([p for d in dirs if d.is_dir() for p in d.glob("*/report.json")])


def _f(v: Any, key: str = "") -> str:
    if v is None:
        return "n/a"
    if "latency" in key:
        return f"{v:.1f}"
    return f"{v:.0f}" if isinstance(v, float) and v > 2 else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _bar(v: float | None, width: int = 20) -> str:
    if v is None:
        return ""
    n = round(max(0.0, min(1.0, v)) * width)
    return "█" * n + "░" * (width - n)


def table(report: dict[str, Any]) -> str:
    p, b = report["product"], report.get("baseline") or {}
    lines = [f"{'metric':<20}{'product':>10}{'baseline':>10}", "-" * 40]
    for k in MAIN:
        lines.append(f"{k:<20}{_f(p.get(k), k):>10}{_f(b.get(k), k):>10}")
    lines.append(f"{'cases':<20}{p['cases']:>10}")
    return "\n".join(lines)


def _by_creation(paths: list[Path]) -> list[Path]:
    def created(p: Path) -> str:
        try:
            return str(json.loads(p.read_text(encoding="utf-8")).get("created", ""))
        except (OSError, ValueError):
            return ""
    return sorted(paths, key=lambda p: (created(p), p.name))


def latest_report(exclude: Path | None = None, data_dir: Path | None = None) -> Path | None:
    """The newest report, committed or (with ``data_dir``) run locally, other than ``exclude``."""
    found = [p for p in report_files(data_dir)
             if exclude is None or p.parent.resolve() != Path(exclude).resolve()]
    return found[-1] if found else None


def compare_with_latest(report: dict[str, Any], exclude: Path | None = None,
                        data_dir: Path | None = None) -> Path | None:
    prev_path = latest_report(exclude, data_dir)
    if prev_path is None:
        return None
    prev = json.loads(prev_path.read_text(encoding="utf-8"))
    before = {c["id"]: c for c in prev.get("cases", [])}
    flipped = []
    for c in report["cases"]:
        old = before.get(c["id"])
        if old and (old["refusal"] != c["refusal"] or old["hit@5"] != c["hit@5"]):
            flipped.append({"id": c["id"], "before": {k: old[k] for k in ("hit@5", "refusal")},
                            "after": {k: c[k] for k in ("hit@5", "refusal")}})
    deltas = {k: (report["product"].get(k), prev["product"].get(k)) for k in MAIN}
    try:
        shown = str(prev_path.relative_to(REPORTS.parents[1]))
    except ValueError:
        shown = str(prev_path)
    report["comparison"] = {"previous": shown, "deltas": deltas, "flipped": flipped}
    return prev_path


def markdown(report: dict[str, Any]) -> str:
    p, b = report["product"], report.get("baseline") or {}
    out = [f"# Eval report {report['created']}", "",
           f"Mode **{report['mode']}**, embedder `{report['embedder']}`, settings {report['settings']}, "
           f"{p['cases']} cases ({p['answerable']} answerable, {p['unanswerable']} not).", "",
           "| metric | product | naive baseline | product |", "|---|---|---|---|"]
    for k in MAIN:
        v = p.get(k)
        out.append(f"| {k} | {_f(v, k)} | {_f(b.get(k), k)} | {_bar(v) if 'latency' not in k else ''} |")
    splits = report.get("splits") or {}
    if len(splits) > 1:
        from .thresholds import TARGETS

        names = list(splits)
        out += ["", "## Dev and test side by side", "",
                "The dev split is what knobs are tuned on; the test split is held out.", "",
                "| metric | " + " | ".join(names) + " | target (test) |", "|---|" + "---|" * (len(names) + 1)]
        for k in MAIN:
            out.append(f"| {k} | " + " | ".join(_f(splits[n].get(k), k) for n in names)
                       + f" | {_f(TARGETS.get(k), k) if k in TARGETS else ''} |")
    und = report.get("understanding")
    if und:
        out += ["", f"## Understanding (held-out labelled questions: {und['cases']})", "",
                "| metric | value |", "|---|---|"]
        out += [f"| {k} | {_f(und.get(k))} |" for k in UNDERSTANDING]
        for label, table_ in (und.get("confusion") or {}).items():
            classes = sorted({c for row in table_.values() for c in row} | set(table_))
            out += ["", f"### Confusion: {label} (rows: label, columns: predicted)", "",
                    "| | " + " | ".join(classes) + " |", "|---|" + "---|" * len(classes)]
            for want in classes:
                row = table_.get(want, {})
                out.append(f"| **{want}** | " + " | ".join(str(row.get(c, "")) for c in classes) + " |")
    if report.get("judge"):
        out += ["", f"Judge ({report['judge'].get('model')}): faithfulness "
                    f"{_f(report['judge'].get('faithfulness'))} over {report['judge'].get('sentences')} sentences."]
    out += ["", "## By tag (hit@5, must_include, answer-first, off-topic)", "",
            "| tag | cases | hit@5 | | must_include | answer_first | off_topic |", "|---|---|---|---|---|---|---|"]
    for tag, s in report["breakdowns"]["tag"].items():
        out.append(f"| {tag} | {s['cases']} | {_f(s.get('hit@5'))} | {_bar(s.get('hit@5'), 10)} | "
                   f"{_f(s.get('must_include'))} | {_f(s.get('answer_first'))} | {_f(s.get('off_topic'))} |")
    for group in ("jurisdiction", "language"):
        out += ["", f"## By {group}", "", f"| {group} | cases | hit@5 | mrr | must_include | correct refusal |"
                f" false refusal |", "|---|---|---|---|---|---|---|"]
        for k, s in report["breakdowns"][group].items():
            out.append(f"| {k} | {s['cases']} | {_f(s.get('hit@5'))} | {_f(s.get('mrr'))} | "
                       f"{_f(s.get('must_include'))} | {_f(s.get('correct_refusal'))} | "
                       f"{_f(s.get('false_refusal'))} |")
    lat = [c["latency_ms"] for c in report["cases"]]
    out += ["", "## Latency histogram (ms)", "", "```"]
    if lat:
        top = max(lat)
        edges = [top * i / 8 for i in range(9)]
        for lo, hi in zip(edges, edges[1:]):
            n = sum(lo <= x < hi or (hi == top and x == top) for x in lat)
            out.append(f"{lo:7.0f}-{hi:<7.0f} {'█' * n} {n}")
    out.append("```")
    cmp_ = report.get("comparison")
    if cmp_:
        out += ["", f"## Compared with {cmp_['previous']}", "", "| metric | now | before | change |",
                "|---|---|---|---|"]
        for k, (now, before) in cmp_["deltas"].items():
            if now is not None and before is not None:
                d = now - before
                mark = "better" if (d > 0) != (k in ("false_refusal",) or "latency" in k) and d else (
                    "worse" if d else "")
                out.append(f"| {k} | {_f(now)} | {_f(before)} | {d:+.3f} {mark} |")
        out += ["", f"Cases that flipped: {len(cmp_['flipped'])}", ""]
        out += [f"- {f['id']}: {f['before']} -> {f['after']}" for f in cmp_["flipped"]]
    bad = [c for c in report["cases"] if c["refusal"] in ("missed_refusal", "false_refusal") or
           (c["refusal"] == "answered" and not c["hit@5"])]
    out += ["", f"## Cases to look at ({len(bad)})", ""]
    out += [f"- {c['id']}: {c['refusal']}, hit@5={c['hit@5']:.0f}, top={c['ranked'][:3]}" for c in bad]
    if report.get("gate_failures"):
        out += ["", "## Gate failures", ""] + [f"- {g}" for g in report["gate_failures"]]
    return "\n".join(out) + "\n"


def write_report(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    j = out_dir / "report.json"
    m = out_dir / "report.md"
    j.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    m.write_text(markdown(report), encoding="utf-8")
    return j, m


def trend(limit: int = 20, data_dir: Path | None = None) -> list[dict[str, Any]]:
    """Main metrics of the most recent reports (committed, and with ``data_dir`` run locally),
    oldest first (for the Quality page)."""
    rows = []
    for p in report_files(data_dir)[-limit:]:
        r = json.loads(p.read_text(encoding="utf-8"))
        rows.append({"report": p.parent.name, **{k: r["product"].get(k) for k in MAIN},
                     "baseline_hit@5": (r.get("baseline") or {}).get("hit@5")})
    return rows


__all__ = ["table", "markdown", "write_report", "compare_with_latest", "latest_report", "default_out",
           "report_files", "trend", "M"]

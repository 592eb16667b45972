"""Quality page: the latest eval report and the trend over reports (read-only)."""
from __future__ import annotations

import json

import streamlit as st

from assistant.config import load_settings
from evals.report import MAIN, UNDERSTANDING, latest_report, trend

st.title("Answer quality")
st.caption("Scores from `gigrights eval` over evals/datasets on the starter corpus, next to a naive "
           "baseline (fixed 1000/200 windows, same embedder, plain top-k, first passages as answer).")
data_dir = load_settings().data_dir  # local runs are in <data dir>/eval-reports
path = latest_report(data_dir=data_dir)
if path is None:
    st.info("No eval report yet. Run `gigrights eval` to create one.")
else:
    report = json.loads(path.read_text(encoding="utf-8"))
    p, b = report["product"], report.get("baseline") or {}
    st.subheader(f"Latest report: {path.parent.name}")
    st.text(f"mode {report['mode']} · embedder {report['embedder']} · {p['cases']} cases")
    splits = report.get("splits") or {"all": p}
    rows = [{"metric": k, **{f"product ({n})": s.get(k) for n, s in splits.items()},
             "baseline": b.get(k)} for k in MAIN]
    st.dataframe(rows, hide_index=True)
    st.caption("dev: the cases knobs are tuned on; test: held out, never tuned on.")
    und = report.get("understanding")
    if und:
        st.subheader("Understanding (held-out labelled questions)")
        st.dataframe([{"metric": k, "value": und.get(k)} for k in UNDERSTANDING], hide_index=True)
    if report.get("gate_failures"):
        st.error("Below the CI thresholds: " + "; ".join(report["gate_failures"]))
    tags = report["breakdowns"]["tag"]
    st.subheader("must_include and answer-first by topic tag")
    st.bar_chart([{"tag": t, "must_include": s.get("must_include") or 0.0,
                   "answer_first": s.get("answer_first") or 0.0}
                  for t, s in tags.items() if s.get("must_include") is not None], x="tag",
                 y=["must_include", "answer_first"], stack=False)
    history = trend(data_dir=data_dir)
    if len(history) > 1:
        st.subheader("Trend over reports")
        st.line_chart({k: [h.get(k) or 0.0 for h in history] for k in ("hit@5", "mrr", "must_include",
                                                                       "correct_refusal")})
    st.dataframe(history, hide_index=True)

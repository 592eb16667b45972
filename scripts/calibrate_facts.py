"""Fit the fact-matching weights (assistant/config.py fact_*) on the DEV split only.

For every answerable dev case, each candidate record gets its features (section retrieved, document
retrieved, kind of question, topic, keywords, word overlap, cosine) and a label: does its rendered
sentence hold the case's key fact (first_two, else must_include)? A logistic regression on these
gives the weights; its intercept sets the floor. Prints the weights and the precision of the leading
record at several floors. Never run it on the test split.

    GIGRIGHTS_DATA_DIR=... python scripts/calibrate_facts.py
"""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.config import load_settings  # noqa: E402
from assistant.core import build_assistant  # noqa: E402
from assistant.facts.match import Weights, _base, _loose  # noqa: E402
from assistant.retrieval import terms  # noqa: E402
from assistant.understanding import retrieval_query  # noqa: E402
from assistant.core import RANK_DEPTH  # noqa: E402
from evals.runner import load_cases, split_paths  # noqa: E402

NAMES = ("similarity", "section", "doc", "ask", "topic", "keywords", "overlap")


def features(a, case):
    q = case.question
    query = retrieval_query(q, case.history)
    qv = a.retriever.embed_query(query)
    u = a.understand(q, case.history, case.jurisdiction, qv)
    ranked = a.retriever.search(query, u.place, k=RANK_DEPTH, qvec=qv)
    visible = a.catalog.visible(a.store.name)
    probe = Weights(-1e9, 0, 0, 0, 0, 0, 0, 0, 1.0)  # score = cosine only: every candidate
    ms = a.factbook.match(q, qv, language=u.language, place=u.place, work=u.work, asks=u.asks,
                          today=a.clock(), passages=ranked, verbatim=lambda d, p: d in visible, w=probe,
                          topic=u.topic, query=query, visible=list(visible))
    secs = {(_base(p.doc_id), p.section.split(" > ")[-1]) for p in ranked}
    docs = {_base(p.doc_id) for p in ranked}
    qt = terms(query)
    groups = case.first_two or case.must_include
    for m in ms[:10]:
        f, ev = m.rendered.fact, m.rendered.evidence
        x = [m.score, (_base(ev.doc_id), ev.section) in secs, _base(ev.doc_id) in docs,
             bool(set(u.asks) & set(f.asks)), u.topic == f.topic,
             min(3, sum(_loose(k) in _loose(q) for k in f.keywords)),
             len(qt & terms(f"{m.rendered.sentence} {' '.join(f.keywords)}")) / max(1, len(qt))]
        good = any(any(alt.lower() in m.rendered.sentence.lower() for alt in g) for g in groups)
        yield case.id, np.array(x, dtype=float), good


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    a = build_assistant(load_settings())
    rows = [r for c in load_cases(split_paths("dev")) if c.answerable for r in features(a, c)]
    X = np.stack([r[1] for r in rows])
    y = np.array([r[2] for r in rows])
    clf = LogisticRegression(C=1.0, max_iter=3000).fit(X, y)
    print("weights:", dict(zip(NAMES, np.round(clf.coef_[0], 2))), "intercept", round(float(clf.intercept_[0]), 2))
    raw = X @ clf.coef_[0]
    by = defaultdict(list)
    for (cid, _x, good), s in zip(rows, raw):
        by[cid].append((s, good))
    for p in (0.2, 0.3, 0.4, 0.5):
        floor = np.log(p / (1 - p)) - clf.intercept_[0]
        lead = [max(v) for v in by.values()]
        chosen = [g for s, g in lead if s >= floor]
        print(f"p>={p}: floor {floor:.2f}, cases led by a record {len(chosen)}/{len(by)}, "
              f"precision {np.mean(chosen) if chosen else 0:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

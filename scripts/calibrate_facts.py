"""Fit the fact-matching weights (assistant/config.py fact_*) on the DEV split only.

For every answerable dev case, each candidate record (the best 25 by the current weights) gets its
features (Match.features: cosine with the record and with its example questions, section and
document retrieved, the probability of its kind of question and of its topic, keywords, word
overlap) and a label: does its rendered sentence hold the case's key fact (first_two, else
must_include)? The weights are a conditional logit over each case's candidates (the right record
first), printed beside a per-record logistic fit for comparison, with the precision of the leading
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
from assistant.facts.match import FEATURES, Weights  # noqa: E402
from assistant.understanding import retrieval_query  # noqa: E402
from assistant.core import RANK_DEPTH  # noqa: E402
from evals.runner import load_cases, split_paths  # noqa: E402

NAMES = tuple(FEATURES)  # the order of the weights printed
CANDIDATES = 25          # records per case, best first by the current weights


def features(a, case):
    q = case.question
    query = retrieval_query(q, case.history)
    qv = a.retriever.embed_query(query)
    u = a.understand(q, case.history, case.jurisdiction, qv)
    ranked = a.retriever.search(query, u.place, k=RANK_DEPTH, qvec=qv)
    visible = a.catalog.visible(a.store.name)
    w = a.weights
    probe = Weights(-1e9, *(getattr(w, n) for n in list(Weights.__dataclass_fields__)[1:]))  # every candidate
    ms = a.factbook.match(q, qv, language=u.language, place=u.place, work=u.work, asks=u.asks,
                          today=a.clock(), passages=ranked, verbatim=lambda d, p: d in visible, w=probe,
                          topic=u.topic, query=query, visible=list(visible), topic_probs=u.topic_probs,
                          intent_probs=u.intent_probs)
    groups = case.first_two or case.must_include
    for m in ms[:CANDIDATES]:
        x = [m.features[n] for n in NAMES]
        good = any(any(alt.lower() in m.rendered.sentence.lower() for alt in g) for g in groups)
        yield case.id, np.array(x, dtype=float), good


def rank_fit(rows, l2: float = 0.05) -> np.ndarray:
    """Weights that put a record holding the key fact first among each case's candidates: a
    conditional logit (softmax over a case's records), fitted by L-BFGS with a little L2."""
    from scipy.optimize import minimize

    cases = defaultdict(list)
    for cid, x, good in rows:
        cases[cid].append((x, good))
    groups = [(np.stack([x for x, _ in v]), np.array([g for _, g in v])) for v in cases.values()
              if any(g for _, g in v)]

    def loss(w):
        total, grad = l2 * w @ w, 2 * l2 * w
        for X, g in groups:
            z = X @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            pg = p[g].sum()
            total -= np.log(pg)
            # d(-log sum_{good} p)/dw = E_p[x] - E_{p|good}[x]
            grad += p @ X - (p[g] / pg) @ X[g]
        return total / len(groups), grad / len(groups)

    return minimize(loss, np.zeros(len(NAMES)), jac=True, method="L-BFGS-B").x


def top1(rows, w) -> tuple[float, int]:
    by = defaultdict(list)
    for cid, x, good in rows:
        by[cid].append((float(x @ w), good))
    with_good = [v for v in by.values() if any(g for _, g in v)]
    return float(np.mean([max(v)[1] for v in with_good])), len(with_good)


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    a = build_assistant(load_settings())
    rows = [r for c in load_cases(split_paths("dev")) if c.answerable for r in features(a, c)]
    X = np.stack([r[1] for r in rows])
    y = np.array([r[2] for r in rows])
    clf = LogisticRegression(C=1.0, max_iter=3000).fit(X, y)
    print("pointwise weights:", dict(zip(NAMES, np.round(clf.coef_[0], 2))),
          "intercept", round(float(clf.intercept_[0]), 2), "top-1 %.3f of %d" % top1(rows, clf.coef_[0]))
    w = rank_fit(rows)
    print("ranking weights:", dict(zip(NAMES, np.round(w, 2))), "top-1 %.3f of %d" % top1(rows, w))
    # The floor: a one-feature logistic model of "the best record holds the key fact" on its score.
    best = {}
    for cid, x, good in rows:
        s = float(x @ w)
        if cid not in best or s > best[cid][0]:
            best[cid] = (s, good)
    s = np.array([[v[0]] for v in best.values()])
    g = np.array([v[1] for v in best.values()])
    cal = LogisticRegression(C=1.0).fit(s, g)
    for p in (0.2, 0.3, 0.4, 0.5):
        floor = (np.log(p / (1 - p)) - cal.intercept_[0]) / cal.coef_[0][0]
        chosen = g[s[:, 0] >= floor]
        print(f"p>={p}: floor {floor:.2f}, cases led by a record {len(chosen)}/{len(g)}, "
              f"precision {chosen.mean() if len(chosen) else 0:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Text in a document that reads as instructions to an AI model ("Note for AI assistants: disregard
the guidance above…"), found by a classifier rather than a phrase list, so paraphrases are caught.

A cheap word filter picks the sentences worth a look (they address a model, a bot or "the user",
or talk of instructions); a logistic regression over the embedder's vectors, fitted on the
labelled sentences in ``data/instructions.jsonl`` (instructions to a model in English and Spanish,
and ordinary sentences of guides and laws that mention AI, assistants or instructions, including
the starter corpus's own), decides. It is fitted once per process and embedder (about a second).
A flagged document is held for a reviewer, never published at once (ingest.pipeline).
"""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

DATA = Path(__file__).with_name("data") / "instructions.jsonl"
THRESHOLD = 0.5  # cross-validated on the examples: 94% right, 3 of 130 ordinary sentences above it
# Sentences that could be addressed to a model: only these are embedded and classified.
CUES = re.compile(
    r"\b(ai|a\.i\.|assistants?|chatbots?|bots?|chatgpt|gpt|llms?|language models?|models?|"
    r"system|prompts?|instructions?|directives?|the user|the reader|automated|machine|"
    r"ia|asistentes?|modelos?|instrucciones|el usuario|ignore|disregard|ignora|olvida)\b", re.I)

_lock = threading.Lock()
_models: dict[str, tuple[np.ndarray, float]] = {}


def examples(path: Path = DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _model(embedder) -> tuple[np.ndarray, float]:  # noqa: ANN001 - assistant.embeddings.Embedder
    with _lock:
        if embedder.name not in _models:
            from sklearn.linear_model import LogisticRegression

            rows = examples()
            x = np.asarray(embedder.embed([r["text"] for r in rows]), dtype=np.float32)
            y = np.array([bool(r["instruction"]) for r in rows])
            clf = LogisticRegression(C=16.0, max_iter=3000).fit(x, y)
            _models[embedder.name] = (clf.coef_[0].astype(np.float32), float(clf.intercept_[0]))
        return _models[embedder.name]


def candidates(texts: Iterable[str], split: Callable[[str], list[str]]) -> list[str]:
    """The sentences of ``texts`` that the word filter lets through, each once."""
    seen: dict[str, None] = {}
    for text in texts:
        for s in split(text):
            s = " ".join(s.split())
            if 12 <= len(s) <= 600 and CUES.search(s):
                seen.setdefault(s, None)
    return list(seen)


def scores(sentences: Sequence[str], embedder) -> list[float]:  # noqa: ANN001
    if not sentences:
        return []
    coef, intercept = _model(embedder)
    x = np.asarray(embedder.embed(list(sentences)), dtype=np.float32)
    return [float(p) for p in 1.0 / (1.0 + np.exp(-(x @ coef + intercept)))]


def flags(texts: Iterable[str], embedder) -> list[str]:  # noqa: ANN001
    """Reviewer flags for the sentences that read as instructions to an AI model."""
    from assistant.extractive import sentences as split

    found = candidates(texts, split)
    return [f"Text that reads as instructions to an AI model (classifier, p={p:.2f}): {s[:200]!r}"
            for s, p in zip(found, scores(found, embedder)) if p >= THRESHOLD]

"""Kind of work, topic and intent, learned from labelled example questions.

The examples (data/examples_en.jsonl, data/examples_es.jsonl: {"q", "lang", "place", "work", "topic",
"intent"}) are written the way workers write. ``gigrights understanding train`` fits one logistic
regression per label on the embedder's vectors (scikit-learn) and stores the weights as data
(data/intent-<embedder>.npz) with a hash of the examples; at run time a prediction is one matrix
product. With no stored model for the configured embedder, the model is fitted at start-up.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

DATA = Path(__file__).with_name("data")
LABELS = ("work", "topic", "intent")
NONE = "none"  # the class for "not said" (work, topic)
INTENTS = ("how_much", "when", "can_they", "what_to_do", "whom_to_contact", "platform_policy",
           "individual_strategy", "fraud", "out_of_scope")
# The facts an intent asks for: "can they" is answered by a right, "how much" by a figure...
ASKS = {"how_much": ("how_much",), "when": ("when",), "can_they": ("can_they",),
        "what_to_do": ("what_to_do", "whom_to_contact"), "whom_to_contact": ("whom_to_contact",)}


def example_files(data_dir: Path = DATA) -> list[Path]:
    return sorted(data_dir.glob("examples_*.jsonl"))


def load_examples(paths: Iterable[Path] | None = None) -> list[dict]:
    out = []
    for path in paths if paths is not None else example_files():
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError as exc:
                    raise ValueError(f"{path}:{n}: not JSON ({exc})") from None
    return out


def examples_hash(examples: Sequence[dict]) -> str:
    blob = json.dumps([[e["q"], e.get("work"), e.get("topic"), e.get("intent")] for e in examples],
                      ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Prediction:
    label: str
    prob: float
    probs: dict[str, float]


@dataclass(frozen=True)
class FraudHead:
    """A yes/no model for requests to deceive: the mean of a logistic regression on the question's
    vector and one on its word uni- and bigrams (TF-IDF), since the telling words ("fake",
    "spoof", "so the irs doesnt see") and the meaning both matter."""

    emb_coef: np.ndarray
    emb_intercept: float
    vocab: list[str]
    idf: np.ndarray
    word_coef: np.ndarray
    word_intercept: float

    def prob(self, text: str, vec: np.ndarray) -> float:
        pe = 1 / (1 + np.exp(-(float(self.emb_coef @ vec) + self.emb_intercept)))
        x = self.vectorizer.transform([text]).toarray()[0].astype(np.float32)
        pw = 1 / (1 + np.exp(-(float(x @ self.word_coef) + self.word_intercept)))
        return float((pe + pw) / 2)


    @functools.cached_property
    def vectorizer(self):  # noqa: ANN201 - sklearn's TfidfVectorizer, validated once
        v = _vectorizer(self.vocab)
        v.idf_ = self.idf
        v.transform(["warm"])
        return v


def _vectorizer(vocab: list[str] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode",
                           vocabulary=vocab)


class IntentModel:
    def __init__(self, classes: dict[str, list[str]], coef: dict[str, np.ndarray],
                 intercept: dict[str, np.ndarray], embedder: str, source_hash: str,
                 fraud: FraudHead | None = None) -> None:
        self.classes, self.coef, self.intercept = classes, coef, intercept
        self.embedder, self.source_hash = embedder, source_hash
        self.fraud = fraud

    def fraud_prob(self, text: str, vec: Sequence[float]) -> float:
        if self.fraud is None:
            return self.predict(vec)["intent"].probs.get("fraud", 0.0)
        return self.fraud.prob(text, np.asarray(vec, dtype=np.float32))

    def predict(self, vec: Sequence[float]) -> dict[str, Prediction]:
        x = np.asarray(vec, dtype=np.float32)
        out = {}
        for label in LABELS:
            z = self.coef[label] @ x + self.intercept[label]  # one row per class (train() sees to it)
            p = np.exp(z - z.max())
            p /= p.sum()
            i = int(p.argmax())
            out[label] = Prediction(self.classes[label][i], float(p[i]),
                                    {c: float(v) for c, v in zip(self.classes[label], p)})
        return out

    def save(self, path: Path) -> None:
        arrays = {}
        for label in LABELS:
            arrays[f"{label}_coef"] = self.coef[label]
            arrays[f"{label}_intercept"] = self.intercept[label]
        meta = {"classes": self.classes, "embedder": self.embedder, "hash": self.source_hash}
        if self.fraud is not None:
            f = self.fraud
            meta.update(fraud_vocab=f.vocab, fraud_emb_intercept=f.emb_intercept,
                        fraud_word_intercept=f.word_intercept)
            arrays.update(fraud_emb_coef=f.emb_coef, fraud_idf=f.idf, fraud_word_coef=f.word_coef)
        np.savez_compressed(path, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)

    @classmethod
    def load(cls, path: Path) -> "IntentModel":
        z = np.load(path, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
        fraud = None
        if "fraud_vocab" in meta:
            fraud = FraudHead(z["fraud_emb_coef"], float(meta["fraud_emb_intercept"]), meta["fraud_vocab"],
                              z["fraud_idf"], z["fraud_word_coef"], float(meta["fraud_word_intercept"]))
        return cls(meta["classes"], {k: z[f"{k}_coef"] for k in LABELS},
                   {k: z[f"{k}_intercept"] for k in LABELS}, meta["embedder"], meta["hash"], fraud)


def model_path(embedder_name: str, data_dir: Path = DATA) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in embedder_name)
    return data_dir / f"intent-{safe}.npz"


def train(examples: Sequence[dict], embedder, c: float = 4.0) -> IntentModel:
    """One multinomial logistic regression per label over the examples' question vectors."""
    from sklearn.linear_model import LogisticRegression

    vecs = np.asarray(embedder.embed([e["q"] for e in examples], query=True), dtype=np.float32)
    classes, coef, intercept = {}, {}, {}
    for label in LABELS:
        y = [e.get(label) or NONE for e in examples]
        clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        clf.fit(vecs, y)
        classes[label] = [str(x) for x in clf.classes_]
        coef[label] = clf.coef_.astype(np.float32)
        intercept[label] = clf.intercept_.astype(np.float32)
        if len(classes[label]) == 2:  # sklearn keeps one row for two classes: make it two
            coef[label] = np.vstack([-coef[label], coef[label]]) / 2
            intercept[label] = np.array([-intercept[label][0], intercept[label][0]]) / 2
    y = np.array([e.get("intent") == "fraud" for e in examples])
    fraud = None
    if y.any() and not y.all():
        emb = LogisticRegression(C=c * 2, max_iter=3000, class_weight="balanced").fit(vecs, y)
        v = _vectorizer()
        words = v.fit_transform([e["q"] for e in examples])
        wl = LogisticRegression(C=c * 5, max_iter=3000, class_weight="balanced").fit(words, y)
        vocab = [w for w, _ in sorted(v.vocabulary_.items(), key=lambda kv: kv[1])]
        fraud = FraudHead(emb.coef_[0].astype(np.float32), float(emb.intercept_[0]), vocab,
                          v.idf_.astype(np.float32), wl.coef_[0].astype(np.float32),
                          float(wl.intercept_[0]))
    return IntentModel(classes, coef, intercept, embedder.name, examples_hash(examples), fraud)


def load_or_train(embedder, data_dir: Path = DATA) -> IntentModel | None:
    """The stored model for this embedder if it matches the examples; else fit one now."""
    examples = load_examples(example_files(data_dir))
    if not examples:
        return None
    path = model_path(embedder.name, data_dir)
    if path.exists():
        m = IntentModel.load(path)
        if m.source_hash == examples_hash(examples):
            return m
    return train(examples, embedder)

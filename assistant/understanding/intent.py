"""Kind of work, topic and intent, learned from labelled example questions.

The examples (data/examples_en.jsonl, data/examples_es.jsonl: {"q", "lang", "place", "work", "topic",
"intent"}) are written the way workers write. ``gigrights understanding train`` fits one logistic
regression per label on the embedder's vectors (scikit-learn), and one per label on the question's
character n-grams (TF-IDF), and stores the weights as data (data/intent-<embedder>.npz) with a hash
of the examples. A prediction is the mean of the two models' probabilities: the vector carries the
meaning, the n-grams the telling words, misspelt or inflected ("deactivted", "desactivaron").
In 5-fold cross-validation on the examples, mixing the two raised topic accuracy from 0.70 to 0.78,
intent from 0.72 to 0.78 and kind of work from 0.83 to 0.92. With no stored model for the configured
embedder, the model is fitted at start-up.
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
    vector_probs: dict[str, float]  # the vector model's alone (``probs`` mixes in the n-grams)


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
        return _fitted(self.vocab, self.idf, chars=False)


def _vectorizer(vocab: list[str] | None = None, chars: bool = False):
    from sklearn.feature_extraction.text import TfidfVectorizer

    if chars:  # n-grams of 2 to 5 letters inside words; seen in at least two examples
        return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                               strip_accents="unicode", min_df=1 if vocab else 2, vocabulary=vocab)
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode",
                           vocabulary=vocab)


def _fitted(vocab: list[str], idf: np.ndarray, chars: bool):
    """A stored vectorizer made usable again (its vocabulary and idf), checked once."""
    v = _vectorizer(vocab, chars=chars)
    v.idf_ = idf
    v.transform(["warm"])
    return v


# The share of the character n-gram model in a prediction (0.5 was best in cross-validation on the
# examples, for topic and kind of work; intent was within 0.01 of its best).
TEXT_WEIGHT = 0.5


@dataclass(frozen=True)
class TextHead:
    """One logistic regression per label on the question's character n-grams (TF-IDF); its classes
    are the embedding model's, in the same order."""

    vocab: list[str]
    idf: np.ndarray
    coef: dict[str, np.ndarray]
    intercept: dict[str, np.ndarray]

    @functools.cached_property
    def vectorizer(self):  # noqa: ANN201 - sklearn's TfidfVectorizer, validated once
        return _fitted(self.vocab, self.idf, chars=True)

    def features(self, text: str) -> np.ndarray:
        return self.vectorizer.transform([text]).toarray()[0].astype(np.float32)

    def logits(self, label: str, x: np.ndarray) -> np.ndarray:
        return self.coef[label].astype(np.float32) @ x + self.intercept[label]


class IntentModel:
    def __init__(self, classes: dict[str, list[str]], coef: dict[str, np.ndarray],
                 intercept: dict[str, np.ndarray], embedder: str, source_hash: str,
                 fraud: FraudHead | None = None, text: TextHead | None = None) -> None:
        self.classes, self.coef, self.intercept = classes, coef, intercept
        self.embedder, self.source_hash = embedder, source_hash
        self.fraud, self.text = fraud, text

    def fraud_prob(self, text: str, vec: Sequence[float]) -> float:
        if self.fraud is None:
            return self.predict(vec)["intent"].probs.get("fraud", 0.0)
        return self.fraud.prob(text, np.asarray(vec, dtype=np.float32))

    def predict(self, vec: Sequence[float], text: str | None = None) -> dict[str, Prediction]:
        """Each label's classes and probabilities for a question's vector and, when given, its
        text (the question the vector was made from)."""
        x = np.asarray(vec, dtype=np.float32)
        grams = self.text.features(text) if text is not None and self.text is not None else None
        out = {}
        for label in LABELS:
            pv = _softmax(self.coef[label] @ x + self.intercept[label])  # one row per class (train() sees to it)
            p = pv if grams is None else \
                (1 - TEXT_WEIGHT) * pv + TEXT_WEIGHT * _softmax(self.text.logits(label, grams))
            i = int(p.argmax())
            names = self.classes[label]
            out[label] = Prediction(names[i], float(p[i]), {c: float(v) for c, v in zip(names, p)},
                                    {c: float(v) for c, v in zip(names, pv)})
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
        if self.text is not None:
            meta["text_vocab"] = self.text.vocab
            arrays["text_idf"] = self.text.idf
            for label in LABELS:  # half precision: the n-gram weights are most of the file
                arrays[f"text_{label}_coef"] = self.text.coef[label].astype(np.float16)
                arrays[f"text_{label}_intercept"] = self.text.intercept[label]
        np.savez_compressed(path, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)

    @classmethod
    def load(cls, path: Path) -> "IntentModel":
        z = np.load(path, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
        fraud = None
        if "fraud_vocab" in meta:
            fraud = FraudHead(z["fraud_emb_coef"], float(meta["fraud_emb_intercept"]), meta["fraud_vocab"],
                              z["fraud_idf"], z["fraud_word_coef"], float(meta["fraud_word_intercept"]))
        text = None
        if "text_vocab" in meta:
            text = TextHead(meta["text_vocab"], z["text_idf"], {k: z[f"text_{k}_coef"] for k in LABELS},
                            {k: z[f"text_{k}_intercept"] for k in LABELS})
        return cls(meta["classes"], {k: z[f"{k}_coef"] for k in LABELS},
                   {k: z[f"{k}_intercept"] for k in LABELS}, meta["embedder"], meta["hash"], fraud, text)


def model_path(embedder_name: str, data_dir: Path = DATA) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in embedder_name)
    return data_dir / f"intent-{safe}.npz"


def train(examples: Sequence[dict], embedder, c: float = 4.0) -> IntentModel:
    """One multinomial logistic regression per label over the examples' question vectors."""
    from sklearn.linear_model import LogisticRegression

    vecs = np.asarray(embedder.embed([e["q"] for e in examples], query=True), dtype=np.float32)
    chars = _vectorizer(chars=True)
    grams = chars.fit_transform([e["q"] for e in examples])
    classes, coef, intercept = {}, {}, {}
    tcoef, tintercept = {}, {}
    for label in LABELS:
        y = [e.get(label) or NONE for e in examples]
        clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(vecs, y)
        classes[label] = [str(x) for x in clf.classes_]
        coef[label], intercept[label] = _rows(clf)
        tl = LogisticRegression(C=c * 5,  # same labels, so the same sorted classes
                                 max_iter=3000, class_weight="balanced").fit(grams, y)
        tcoef[label], tintercept[label] = _rows(tl)
    vocab = [w for w, _ in sorted(chars.vocabulary_.items(), key=lambda kv: kv[1])]
    text = TextHead(vocab, chars.idf_.astype(np.float32), tcoef, tintercept)
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
    return IntentModel(classes, coef, intercept, embedder.name, examples_hash(examples), fraud, text)


def _rows(clf) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001 - a fitted LogisticRegression
    """A fitted model's weights with one row per class (sklearn keeps one row for two classes)."""
    coef, intercept = clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32)
    if len(clf.classes_) == 2:
        coef = np.vstack([-coef, coef]) / 2
        intercept = np.array([-intercept[0], intercept[0]], dtype=np.float32) / 2
    return coef, intercept


def _softmax(z: np.ndarray) -> np.ndarray:
    p = np.exp(z - z.max())
    return p / p.sum()


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

"""BM25 over the visible chunks: a second candidate source next to dense search, so that passages
sharing the question's rare words (a statute number, "1099-K", a city) are considered even when the
embedder ranks them low. Built lazily from the store and rebuilt when the visible versions change."""
from __future__ import annotations

import math
import threading
from collections import Counter
from typing import Any, Callable, Iterable

K1 = 1.5   # BM25 term-frequency saturation
B = 0.75   # BM25 length normalisation


class BM25Index:
    def __init__(self, stem_terms: Callable[[str], list[str]]) -> None:
        self._terms = stem_terms
        self._lock = threading.Lock()
        self._key: tuple[str, ...] | None = None
        self._docs: list[dict[str, Any]] = []
        self._tf: list[Counter[str]] = []
        self._idf: dict[str, float] = {}
        self._avg = 1.0

    def ensure(self, versions: Iterable[str], load: Callable[[], list[dict[str, Any]]]) -> None:
        key = tuple(sorted(set(versions)))
        with self._lock:
            if key == self._key:
                return
            wanted = set(key)
            docs = [c for c in load() if c["meta"]["version"] in wanted]
            tfs = [Counter(self._terms(f"{c['meta'].get('title', '')} {c['meta'].get('section', '')} "
                                       f"{c['text']}")) for c in docs]
            df: Counter[str] = Counter()
            for tf in tfs:
                df.update(tf.keys())
            n = max(1, len(docs))
            self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
            self._avg = sum(sum(tf.values()) for tf in tfs) / n or 1.0
            self._docs, self._tf, self._key = docs, tfs, key

    def top(self, question: str, k: int, keep: Callable[[dict[str, Any]], bool]) -> list[tuple[str, float]]:
        q = set(self._terms(question))
        with self._lock:
            scored = []
            for doc, tf in zip(self._docs, self._tf):
                if not keep(doc["meta"]):
                    continue
                length = sum(tf.values())
                s = 0.0
                for t in q:
                    f = tf.get(t)
                    if f:
                        s += self._idf[t] * f * (K1 + 1) / (f + K1 * (1 - B + B * length / self._avg))
                if s > 0:
                    scored.append((doc["id"], s))
        scored.sort(key=lambda x: -x[1])
        return scored[:k]

"""The naive baseline every report is compared with: fixed 1000/200-character windows, the same
embedder, plain top-k cosine (no jurisdiction filter, no lexical support, no refusal), and the first
passages pasted as the answer."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from assistant.core import Assistant

from .runner import Case, Result

WINDOW = 1000
OVERLAP = 200
TOP_K = 5
ANSWER_PASSAGES = 2


@dataclass
class NaiveBaseline:
    assistant: Assistant
    doc_ids: list[str]
    texts: list[str]
    matrix: np.ndarray

    @classmethod
    def from_catalog(cls, a: Assistant) -> "NaiveBaseline":
        """Rebuild each current document's text from its stored chunks (by character offsets), then
        cut it into fixed windows."""
        current = a.catalog.visible(a.store.name)
        pieces: dict[str, dict[int, str]] = {}
        for c in a.store.all_chunks():
            m = c["meta"]
            if m["doc_id"] in current and current[m["doc_id"]]["version"] == m["version"]:
                pieces.setdefault(m["doc_id"], {})[int(m["char_start"])] = c["text"]
        doc_ids, texts = [], []
        for doc_id, parts in sorted(pieces.items()):
            full, end = "", 0
            for start in sorted(parts):
                text = parts[start]
                if start + len(text) <= end:
                    continue
                full += ("\n" if start > end else "") + text[max(0, end - start):]
                end = start + len(text)
            for i in range(0, max(1, len(full) - OVERLAP), WINDOW - OVERLAP):
                doc_ids.append(doc_id)
                texts.append(full[i:i + WINDOW])
        matrix = np.asarray(a.embedder.embed(texts), dtype=np.float32) if texts else np.zeros((0, 1))
        return cls(a, doc_ids, texts, matrix)

    def run(self, cases: Sequence[Case]) -> list[Result]:
        out = []
        for c in cases:
            t = time.perf_counter()
            q = np.asarray(self.assistant.embedder.embed([c.question], query=True)[0], dtype=np.float32)
            order = np.argsort(self.matrix @ q)[::-1][:max(TOP_K, 10)]
            ranked = [self.doc_ids[i] for i in order]
            top = order[:ANSWER_PASSAGES]
            text = "\n\n".join(f"{self.texts[i]} [{n}]" for n, i in enumerate(top, start=1))
            out.append(Result(c, ranked, [self.doc_ids[i] for i in top], text, False,
                              (time.perf_counter() - t) * 1000, "en", list(range(1, len(top) + 1))))
        return out

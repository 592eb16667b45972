"""Optional LLM-judge metric through the same ChatModel seam: faithfulness of each answer sentence
to the passage it cites. Only runs with an LLM configured (`gigrights eval --judge`)."""
from __future__ import annotations

import re
from typing import Any, Sequence

from assistant.core import Assistant
from assistant.errors import ProviderError
from assistant.llm import ChatModel
from assistant.prompts import judge_messages

from .runner import Result

_SENTENCE_WITH_MARKERS = re.compile(r"([^\n.!?]*[.!?]?[”\"]?)\s*((?:\[\d+\])+)")
MAX_SENTENCES = 400  # bound the judge's cost per run


def cited_sentences(text: str) -> list[tuple[str, list[int]]]:
    out = []
    for m in _SENTENCE_WITH_MARKERS.finditer(text):
        sentence = m.group(1).strip(" -“”\"")
        if sentence:
            out.append((sentence, [int(n) for n in re.findall(r"\d+", m.group(2))]))
    return out


def judge_results(judge: ChatModel, results: Sequence[Result], a: Assistant) -> dict[str, Any]:
    supported = total = errors = 0
    for r in results:
        if r.refused or total >= MAX_SENTENCES:
            continue
        ans = a.ask(r.case.question, r.case.jurisdiction, r.case.history)
        quotes = {c.n: c.quote for c in ans.citations}
        for sentence, numbers in cited_sentences(ans.text):
            passage = "\n\n".join(quotes[n] for n in numbers if n in quotes)
            if not passage or total >= MAX_SENTENCES:
                continue
            try:
                verdict = "".join(judge.stream(judge_messages(sentence, passage))).strip().upper()
            except ProviderError:
                errors += 1
                continue
            total += 1
            supported += verdict.startswith("SUPPORTED")
    return {"model": judge.name, "sentences": total, "errors": errors,
            "faithfulness": supported / total if total else None}

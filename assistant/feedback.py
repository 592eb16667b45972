"""Feedback on answers: a thumbs up or down, optional reasons and a short comment.

What is stored says which questions failed, for which place, and which document versions were cited,
so advocates can see what the corpus needs next. No account, address or session: the question and
the comment are redacted (``redact.py``, the pipeline's own redaction) before they are stored.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Iterable, Sequence

from .catalog import Catalog
from .errors import BadFeedback
from .prompts import text
from .redact import redact
from .types import Answer

RATINGS = ("up", "down")
REASONS = ("wrong", "out_of_date", "wrong_place", "didnt_answer", "hard_to_read")


def reason_label(code: str, language: str = "en") -> str:
    return text(language, f"ui_reason_{code}") if code in REASONS else code


def cited_versions(answer: Answer, catalog: Catalog, collection: str,
                   include_drafts: bool = False) -> list[dict[str, str]]:
    """The documents an answer cites, once each, with the version each citation quoted: the
    passage's own version, or (for a fact record's evidence) the version visible when asked."""
    passage_version = {p.chunk_id: p.version for p in answer.passages}
    visible: dict[str, dict[str, Any]] | None = None
    out: dict[tuple[str, str], dict[str, str]] = {}
    for c in answer.citations:
        version = passage_version.get(c.chunk_id)
        if version is None:
            visible = catalog.visible(collection, include_drafts) if visible is None else visible
            version = str((visible.get(c.doc_id) or {}).get("version") or "")
        out.setdefault((c.doc_id, version), {"doc_id": c.doc_id, "version": version, "title": c.title})
    return list(out.values())


def fact_ids(answer: Answer) -> list[str]:
    """The fact records an answer used: the ones it opens with, and any other it cites (a pay
    check's rule, the next step)."""
    cited = [c.chunk_id.removeprefix("fact:") for c in answer.citations if c.chunk_id.startswith("fact:")]
    return list(dict.fromkeys([*answer.facts, *cited]))


def record(catalog: Catalog, collection: str, feedback_id: str, question: str, answer: Answer,
           rating: str, reasons: Sequence[str] = (), comment: str = "", *, max_comment_chars: int,
           include_drafts: bool = False) -> dict[str, Any]:
    """Check, redact and store one answer's feedback (a second call with the same ``feedback_id``
    updates it). Raises BadFeedback, in the answer's language, for input it cannot store."""
    lang = answer.language
    if rating not in RATINGS or not feedback_id:
        raise BadFeedback(text(lang, "feedback_bad_rating"))
    for r in reasons:
        if r not in REASONS:
            raise BadFeedback(text(lang, "feedback_unknown_reason", reason=str(r),
                                   choices=", ".join(reason_label(c, lang) for c in REASONS)))
    comment = (comment or "").strip()
    if len(comment) > max_comment_chars:
        raise BadFeedback(text(lang, "feedback_too_long", n=str(len(comment)),
                               limit=str(max_comment_chars)))
    row = {"id": feedback_id, "question": redact(question.strip())[0], "place": answer.jurisdiction,
           "language": lang, "mode": answer.mode, "rating": rating,
           # Reasons say what was wrong: they go with a thumbs down only.
           "reasons": [r for r in REASONS if r in reasons] if rating == "down" else [],
           "comment": redact(comment)[0] if rating == "down" else "",
           "citations": cited_versions(answer, catalog, collection, include_drafts),
           "facts": fact_ids(answer)}
    catalog.put_feedback(row)
    return row


def when(ts: float) -> str:
    """A stored time as people read it (local time, to the minute)."""
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def for_place(rows: Iterable[dict[str, Any]], place: str | None) -> list[dict[str, Any]]:
    """``place`` None: every row; "" the answers given with no place; else that place's."""
    return [r for r in rows if place is None or (r["place"] or "") == place]


def down_by_document(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """How many thumbs-down answers cited each document (and which versions), most first."""
    count: Counter[str] = Counter()
    titles: dict[str, str] = {}
    versions: dict[str, set[str]] = {}
    for r in rows:
        if r["rating"] != "down":
            continue
        for doc_id in dict.fromkeys(c["doc_id"] for c in r["citations"]):
            count[doc_id] += 1
        for c in r["citations"]:
            titles.setdefault(c["doc_id"], c.get("title") or c["doc_id"])
            versions.setdefault(c["doc_id"], set()).add(c["version"])
    return [{"doc_id": d, "title": titles[d], "thumbs_down": n,
             "versions": ", ".join(sorted(v for v in versions[d] if v))}
            for d, n in sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))]

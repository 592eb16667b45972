"""Value types shared by the read side, the ingest side, the UI, the CLI and the evals."""
from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

DOC_TYPES = (
    "law", "regulation", "agency_guidance", "court_decision", "guide",
    "platform_terms", "benefits_guide", "referral",
)
# Authority order when sources disagree (lower index = more authoritative).
AUTHORITY = {t: i for i, t in enumerate(
    ("law", "regulation", "agency_guidance", "court_decision", "guide", "benefits_guide",
     "referral", "platform_terms"))}


def clean_title(title: str) -> str:
    """A title safe to show and to cite: one line, no control, format or direction-override
    characters (U+202E would reverse the text around it in every citation), no runs of spaces.
    The zero-width joiners that Persian, Hindi and emoji need are kept."""
    title = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                    for ch in str(title)
                    if ch in "\u200c\u200d" or unicodedata.category(ch) not in ("Cf", "Cs", "Co", "Cn"))
    return " ".join(title.split())


@dataclass(frozen=True)
class DocMeta:
    """Document-level metadata (one catalog row; copied flat onto every chunk)."""

    doc_id: str
    title: str
    doc_type: str
    jurisdiction: str
    language: str = "en"
    topics: tuple[str, ...] = ()
    source_url: str = ""
    publisher: str = ""
    effective_date: str = ""
    last_verified: str = ""
    review_status: str = "approved"
    added_by: str = "cli"
    translation_of: str = ""
    worker_types: tuple[str, ...] = ()  # the kinds of work the document is for; () = every kind

    def __post_init__(self) -> None:  # every way in (manifest, CLI, Library, catalog) passes here
        object.__setattr__(self, "title", clean_title(self.title))


@dataclass(frozen=True)
class Chunk:
    """A piece of one document version, ready to embed and store."""

    id: str
    doc_id: str
    version: str
    index: int
    text: str
    section: str
    page: int | None
    char_start: int
    char_end: int
    tokens: int
    # From the section's own source block ("**Rule:**", "**Official source:**", ...), when it has one.
    rule: str = ""
    source_url: str = ""
    effective: str = ""
    verified: str = ""


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its document metadata. ``score`` = dense + lexical_weight * lexical."""

    chunk_id: str
    text: str
    score: float
    doc_id: str
    version: str
    title: str
    doc_type: str
    jurisdiction: str
    language: str
    section: str
    page: int | None
    source_url: str
    publisher: str
    effective_date: str
    last_verified: str
    review_status: str = "approved"
    rule: str = ""         # the legal citation of the section (e.g. "Cal. Lab. Code § 2775")
    worker_types: tuple[str, ...] = ()  # the kinds of work the document is for; () = every kind
    dense: float = 0.0     # cosine similarity from the embedder
    lexical: float = 0.0   # share of the question's content words found in the passage


@dataclass(frozen=True)
class Citation:
    """One numbered source shown with an answer. ``quote`` is verbatim text of the passage."""

    n: int
    doc_id: str
    title: str
    doc_type: str
    jurisdiction: str
    section: str
    page: int | None
    quote: str
    source_url: str
    effective_date: str
    last_verified: str = ""
    chunk_id: str = ""
    rule: str = ""


@dataclass(frozen=True)
class Referral:
    id: str
    name: str
    kind: str
    url: str
    jurisdictions: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    phone: str | None = None
    how_to_reach: str = ""
    how_to_reach_es: str = ""                 # the same in Spanish, for Spanish answers
    worker_types: tuple[str, ...] = ()        # the kinds of work it helps; () = every kind

    def how(self, language: str) -> str:
        """How to reach it, in the reader's language where we have it."""
        return self.how_to_reach_es if language == "es" and self.how_to_reach_es else self.how_to_reach

    def helps(self, work: str | None) -> bool:
        return not (work and self.worker_types and work not in self.worker_types)


@dataclass(frozen=True)
class Answer:
    """What the UI renders, the CLI prints and the evals score."""

    text: str
    mode: str  # "extractive" | "generative" | "refusal"
    citations: tuple[Citation, ...] = ()
    warnings: tuple[str, ...] = ()
    referrals: tuple[Referral, ...] = ()
    passages: tuple[Passage, ...] = ()  # what was retrieved and shown to the answerer
    support: float = 0.0
    jurisdiction: str | None = None
    language: str = "en"
    incomplete: bool = False
    latency_ms: float = 0.0
    facts: tuple[str, ...] = ()  # ids of the fact records the answer opens with
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.mode == "refusal"

    def to_dict(self) -> dict[str, Any]:
        cites = [
            {k: getattr(c, k) for k in ("n", "doc_id", "title", "doc_type", "jurisdiction", "section",
                                        "page", "quote", "source_url", "effective_date", "last_verified",
                                        "rule")}
            for c in self.citations
        ]
        from .citations import unescape_markdown

        return {
            "answer": unescape_markdown(self.text) if self.mode != "generative" else self.text,
            "mode": self.mode,
            "refused": self.refused,
            "incomplete": self.incomplete,
            "jurisdiction": self.jurisdiction,
            "language": self.language,
            "support": round(self.support, 4),
            "citations": cites,
            "warnings": list(self.warnings),
            "referrals": [asdict(r) for r in self.referrals],
            "facts": list(self.facts),
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)

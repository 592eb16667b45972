"""Structure-aware chunking: Markdown headings, statute sections and PDF pages, token-bounded.

Chunk text is a verbatim slice of the document (so quotes can be checked); what gets embedded is
the chunk prefixed with its document title and section path. Every embedded text fits the
embedder's limit as counted by the embedder's own tokenizer; nothing is silently truncated.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.types import Chunk

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_STATUTE = re.compile(
    r"^[ \t]*((?:§{1,2}[ \t]*\d[\w.\-()]*|(?:SEC\.|Sec\.|Section|SECTION)[ \t]+\d[\w.\-()]*|"
    r"(?:Article|ARTICLE|Art\.)[ \t]+\d+[\w]*)[^\n]{0,120})$", re.M)
SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]
STATUTE_LEVEL = 7  # statute headings nest under the Markdown path


@dataclass(frozen=True)
class Section:
    path: str
    start: int
    end: int
    page: int | None


def _headings(text: str, statutes: bool) -> list[tuple[int, int, str]]:
    found = [(m.start(), len(m.group(1)), m.group(2).strip()) for m in _MD_HEADING.finditer(text)]
    md_starts = {s for s, _, _ in found}
    for m in (_STATUTE.finditer(text) if statutes else ()):
        if m.start() not in md_starts:
            found.append((m.start(), STATUTE_LEVEL, m.group(1).strip()))
    return sorted(found)


def sections(pages: Sequence[dict], statutes: bool = True) -> tuple[str, list[Section]]:
    """Join pages into one text and cut it at headings; each section keeps its heading path."""
    parts, out, offset = [], [], 0
    stack: list[tuple[int, str]] = []
    for p in pages:
        text = p["text"]
        base = offset
        cuts = _headings(text, statutes)
        bounds = [0] + [s for s, _, _ in cuts] + [len(text)]
        labels: list[tuple[int, str] | None] = [None] + [(lvl, title) for _, lvl, title in cuts]
        for i in range(len(bounds) - 1):
            if labels[i] is not None:
                lvl, title = labels[i]  # type: ignore[misc]
                while stack and stack[-1][0] >= lvl:
                    stack.pop()
                stack.append((lvl, title))
            if bounds[i + 1] > bounds[i] and text[bounds[i]:bounds[i + 1]].strip():
                out.append(Section(" > ".join(t for _, t in stack), base + bounds[i],
                                   base + bounds[i + 1], p.get("page")))
        parts.append(text)
        offset += len(text) + 2
    return "\n\n".join(parts), out


def split(doc_id: str, version: str, title: str, pages: Sequence[dict], *, chunk_size: int,
          overlap: int, max_tokens: int, count_tokens: Callable[[str], int],
          statutes: bool = True) -> list[Chunk]:
    """``statutes``: also cut at lines like "§ 2775" or "Sec. 7" (off for Markdown, whose prose
    lines may start with "Section 7 of ...")."""
    full, secs = sections(pages, statutes)
    chunks: list[Chunk] = []
    for sec in secs:
        for start, end in _split_span(full, sec, title, chunk_size, overlap, max_tokens, count_tokens):
            raw = full[start:end]
            lead = len(raw) - len(raw.lstrip())
            body = raw.strip()
            if not body or _MD_HEADING.fullmatch(body):
                continue  # empty, or a bare heading (it is in the section path anyway)
            tokens = count_tokens(embed_text(title, sec.path, body))
            chunks.append(Chunk(id=f"{doc_id}:{version}:{len(chunks)}", doc_id=doc_id, version=version,
                                index=len(chunks), text=body, section=sec.path, page=sec.page,
                                char_start=start + lead, char_end=start + lead + len(body),
                                tokens=tokens))
    return chunks


def _split_span(full: str, sec: Section, title: str, size: int, overlap: int, max_tokens: int,
                count_tokens: Callable[[str], int]) -> list[tuple[int, int]]:
    text = full[sec.start:sec.end]
    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=min(overlap, size // 2),
                                              separators=SEPARATORS, add_start_index=True,
                                              strip_whitespace=False)
    spans = []
    for d in splitter.create_documents([text]):
        s = sec.start + d.metadata["start_index"]
        e = s + len(d.page_content)
        if count_tokens(embed_text(title, sec.path, full[s:e].strip())) > max_tokens:
            if size <= 100:
                raise ValueError(f"cannot fit text into {max_tokens} tokens")
            sub = Section(sec.path, s, e, sec.page)
            spans.extend(_split_span(full, sub, title, size // 2, overlap // 2, max_tokens, count_tokens))
        else:
            spans.append((s, e))
    return spans


def embed_text(title: str, section: str, body: str) -> str:
    head = f"{title} — {section}" if section and section != title else title
    return f"{head}\n{body}"

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

# Linear-time patterns only (documents are untrusted): the heading text is taken whole and its
# closing "###" sequence removed in Python, the statute number is bounded.
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S[^\n]*)$", re.M)
_STATUTE = re.compile(
    r"^[ \t]*((?:§{1,2}[ \t]*\d[\w.\-()]{0,40}|(?:SEC\.|Sec\.|Section|SECTION)[ \t]+\d[\w.\-()]{0,40}|"
    r"(?:Article|ARTICLE|Art\.)[ \t]+\d{1,6}\w{0,10})[^\n]{0,120})$", re.M)
SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]
STATUTE_LEVEL = 7  # statute headings nest under the Markdown path
_SOURCE_FIELDS = {
    "rule": re.compile(r"\*\*(?:Rule|Regla|Ley):\*\*\s*(.+)"),
    "source_url": re.compile(r"\*\*(?:Official source|Fuente oficial):\*\*\s*<?(https://\S+?)>?\s*$", re.M),
    "effective": re.compile(r"\*\*(?:In effect since|Vigente desde):\*\*\s*(.+)"),
    "verified": re.compile(r"\*\*(?:Last verified|Última verificación):\*\*\s*(.+)"),
}


def source_block(text: str) -> dict[str, str]:
    """The section's own source block, as our corpus documents write it (empty if none)."""
    out = {}
    for key, pattern in _SOURCE_FIELDS.items():
        m = pattern.search(text)
        if m:
            out[key] = m.group(1).strip()[:200]
    return out
MAX_LABEL_CHARS = 150  # a heading longer than this is cut in the section path (the text keeps it)
MAX_HEADING_LINE = 300  # a longer line is content, never dropped or merged as a "bare heading"


@dataclass(frozen=True)
class Section:
    path: str
    start: int
    end: int
    page: int | None


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL_CHARS else text[:MAX_LABEL_CHARS - 1].rstrip() + "…"


def _md_title(raw: str) -> str:
    t = raw.rstrip(" \t")
    core = t.rstrip("#")  # an optional closing sequence needs a space before it ("C#" stays)
    if core != t and (not core or core[-1] in " \t"):
        t = core.rstrip(" \t")
    return _label(t)


def _headings(text: str, statutes: bool) -> list[tuple[int, int, str]]:
    found = [(m.start(), len(m.group(1)), _md_title(m.group(2))) for m in _MD_HEADING.finditer(text)]
    md_starts = {s for s, _, _ in found}
    for m in (_STATUTE.finditer(text) if statutes else ()):
        if m.start() not in md_starts:
            found.append((m.start(), STATUTE_LEVEL, _label(m.group(1))))
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
    lines may start with "Section 7 of ...").

    A span that is only heading lines never becomes a chunk of its own: it is joined to the text
    that follows it on the same page when that fits; otherwise a bare Markdown heading is dropped
    (it is in the section path) and a statute line is kept (it may be the only copy of its words).
    """
    full, secs = sections(pages, statutes)
    fitted: dict[str, str] = {}
    spans: list[tuple[Section, str, int, int]] = []
    for sec in secs:
        if sec.path not in fitted:
            fitted[sec.path] = _fit_path(title, sec.path, max_tokens, count_tokens)
        path = fitted[sec.path]
        for start, end in _split_span(full, sec, title, path, chunk_size, overlap, max_tokens,
                                      count_tokens):
            spans.append((sec, path, start, end))

    def fits(path: str, s: int, e: int) -> bool:
        return count_tokens(embed_text(title, path, full[s:e].strip())) <= max_tokens

    kept: list[tuple[Section, str, int, int]] = []
    pending: tuple[Section, str, int, int] | None = None  # heading-only span waiting for its body

    def flush() -> None:
        nonlocal pending
        if pending is not None and not _md_only(full, pending[2], pending[3]):
            kept.append(pending)
        pending = None

    for sec, path, s, e in spans:
        if not full[s:e].strip():
            continue
        if pending is not None:
            psec, _, ps, pe = pending
            joinable = psec.page == sec.page and (s <= pe or not full[pe:s].strip())
            if joinable and fits(path, ps, max(pe, e)):
                s, e = ps, max(pe, e)
                pending = None
            else:
                flush()
        if _heading_only(full, s, e):
            pending = (sec, path, s, e)
        else:
            kept.append((sec, path, s, e))
    flush()

    chunks: list[Chunk] = []
    sources: dict[int, dict[str, str]] = {}
    for sec, path, start, end in kept:
        if sec.start not in sources:  # the section's own source block applies to all its chunks
            sources[sec.start] = source_block(full[sec.start:sec.end])
        raw = full[start:end]
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        tokens = count_tokens(embed_text(title, path, body))
        chunks.append(Chunk(id=f"{doc_id}:{version}:{len(chunks)}", doc_id=doc_id, version=version,
                            index=len(chunks), text=body, section=path, page=sec.page,
                            char_start=start + lead, char_end=start + lead + len(body),
                            tokens=tokens, **sources[sec.start]))
    return chunks


def _lines(full: str, s: int, e: int) -> list[str] | None:
    """The stripped lines of full[s:e] if it consists of whole lines of the document, else None."""
    raw = full[s:e]
    a = s + (len(raw) - len(raw.lstrip()))
    b = s + len(raw.rstrip())
    if b - a > MAX_HEADING_LINE * 8 or (a > 0 and full[a - 1] != "\n") or (b < len(full)
                                                                             and full[b] != "\n"):
        return None
    return [ln.strip() for ln in full[a:b].split("\n") if ln.strip()]


def _heading_only(full: str, s: int, e: int) -> bool:
    lines = _lines(full, s, e)
    return bool(lines) and all(len(ln) <= MAX_HEADING_LINE and (_MD_HEADING.fullmatch(ln)
                                                                or _STATUTE.fullmatch(ln))
                               for ln in lines)  # type: ignore[union-attr]


def _md_only(full: str, s: int, e: int) -> bool:
    lines = _lines(full, s, e)
    return bool(lines) and all(_MD_HEADING.fullmatch(ln) for ln in lines)  # type: ignore[union-attr]


def _fit_path(title: str, path: str, max_tokens: int, count_tokens: Callable[[str], int]) -> str:
    """The section path as embedded and stored: shortened (outer headings first, then the innermost
    one) until title + path take at most half the token budget, leaving room for the text."""
    budget = max_tokens // 2
    if count_tokens(embed_text(title, "", "")) > budget:
        raise ValueError(f"the document title is too long to embed within {max_tokens} tokens; "
                         "shorten it")
    parts = path.split(" > ") if path else []
    while parts:
        candidate = " > ".join(parts)
        if count_tokens(embed_text(title, candidate, "")) <= budget:
            return candidate
        if len(parts) > 1:
            parts = parts[1:]
        else:
            last = parts[0]
            parts = [last[:len(last) // 2].rstrip() + "…"] if len(last) > 8 else []
    return ""


def _split_span(full: str, sec: Section, title: str, path: str, size: int, overlap: int,
                max_tokens: int, count_tokens: Callable[[str], int]) -> list[tuple[int, int]]:
    text = full[sec.start:sec.end]
    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=min(overlap, size // 2),
                                              separators=SEPARATORS, add_start_index=True,
                                              strip_whitespace=False)
    spans = []
    cursor = 0
    for d in splitter.create_documents([text]):
        idx = d.metadata["start_index"]
        if idx < 0 or text[idx:idx + len(d.page_content)] != d.page_content:
            idx = text.find(d.page_content, cursor)  # never trust an offset we did not check
            if idx < 0:
                raise ValueError("the splitter returned text that is not in the document")
        cursor = idx
        s = sec.start + idx
        e = s + len(d.page_content)
        if count_tokens(embed_text(title, path, full[s:e].strip())) > max_tokens:
            if size <= 1:
                raise ValueError(f"cannot fit text into {max_tokens} tokens")
            sub = Section(sec.path, s, e, sec.page)
            spans.extend(_split_span(full, sub, title, path, max(1, size // 2), overlap // 2,
                                     max_tokens, count_tokens))
        else:
            spans.append((s, e))
    return spans


def embed_text(title: str, section: str, body: str) -> str:
    head = f"{title} — {section}" if section and section != title else title
    return f"{head}\n{body}"

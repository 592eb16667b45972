"""Parse and verify ``[n]`` markers and quotes; make answer text safe to render as Markdown."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .types import Citation, Passage

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_QUOTE = re.compile(r"[\"“]([^\"”]{20,400})[\"”]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+|!~$])")


@dataclass(frozen=True)
class Verified:
    text: str
    citations: tuple[Citation, ...]
    warnings: tuple[str, ...]


def unescape_markdown(text: str) -> str:
    """Plain text for terminals and JSON (inverse of escape_markdown)."""
    return re.sub(r"\\([\\`*_{}\[\]<>()#+|!~$])", r"\1", text)


def escape_markdown(text: str) -> str:
    """Escape document text so Markdown renders it literally (no links, images, HTML, headings)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


_REF_DEF = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:[ \t]*\S+.*$", re.M)   # [r]: https://...
_REF_IMAGE = re.compile(r"!\[[^\]]*\](?:\[[^\]]*\])?")                 # ![a][r], ![a]
_REF_LINK = re.compile(r"(?<!!)\[([^\]]*[^\]\d\s,][^\]]*)\]\[[^\]]*\]")   # [text][r], not [1][2]
_BARE_URL = re.compile(r"(?<![(<\w/:.])(?:https?://|www\.)[^\s<>()\[\]]+", re.I)


def sanitize(text: str, allowed_urls: Sequence[str] = ()) -> tuple[str, list[str]]:
    """Make generated text safe to render: no image of any syntax (inline, reference, HTML, made
    of entities), no link or bare URL except the cited sources' own, no HTML tags."""
    import html

    warnings: list[str] = []
    allowed = {u.rstrip("/") for u in allowed_urls if u}
    text = html.unescape(html.unescape(text))  # "&#33;[](x)" must not become "![](x)" later

    def _auto(m: re.Match[str]) -> str:
        if m.group(1).rstrip("/") in allowed:
            return m.group(1)
        warnings.append("A link that is not one of the cited sources was removed.")
        return ""

    text = _AUTOLINK.sub(_auto, text)
    if _TAG.search(text):
        text = _TAG.sub("", text)
        warnings.append("HTML in the generated answer was removed.")
    if _REF_DEF.search(text):
        text = _REF_DEF.sub("", text)
        warnings.append("A link definition in the generated answer was removed.")
    if _IMAGE.search(text) or _REF_IMAGE.search(text):
        text = _IMAGE.sub("", text)
        text = _REF_IMAGE.sub("", text)
        warnings.append("An image in the generated answer was removed.")
    text = _REF_LINK.sub(lambda m: m.group(1), text)

    def _link(m: re.Match[str]) -> str:
        if m.group(2).rstrip("/") in allowed:
            return m.group(0)
        warnings.append("A link that is not one of the cited sources was removed.")
        return m.group(1)

    text = _LINK.sub(_link, text)

    def _bare(m: re.Match[str]) -> str:
        url = m.group(0).rstrip(".,;:")
        if url.rstrip("/") in allowed:
            return m.group(0)
        warnings.append("A link that is not one of the cited sources was removed.")
        return "[link removed]" + m.group(0)[len(url):]

    text = _BARE_URL.sub(_bare, text)
    return text.replace("![", "!\\["), sorted(set(warnings))


def _norm(s: str) -> str:
    s = s.replace("“", '"').replace("”", '"').replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", s).strip().lower()


def verify(text: str, passages: Sequence[Passage]) -> Verified:
    """Keep only markers that point at a passage given to the model, renumber them by first use,
    check quoted phrases are verbatim in a cited passage, and build the citation list."""
    warnings: list[str] = []
    order: dict[int, int] = {}  # original n -> new n
    dropped: set[int] = set()

    def _sub(m: re.Match[str]) -> str:
        kept = []
        for raw in m.group(1).split(","):
            n = int(raw)
            if 1 <= n <= len(passages):
                order.setdefault(n, len(order) + 1)
                if order[n] not in kept:
                    kept.append(order[n])
            else:
                dropped.add(n)
        return "".join(f"[{k}]" for k in kept)

    text = _MARKER.sub(_sub, text)
    text = re.sub(r"(\[\d+\])(?:\1)+", r"\1", text)  # "[1][1]" -> "[1]"
    text = re.sub(r"[ \t]+([.,;:])", r"\1", text)
    if dropped:
        warnings.append("Removed citation marker(s) " + ", ".join(f"[{n}]" for n in sorted(dropped))
                        + " that did not match any source.")
    cited = [passages[n - 1] for n in sorted(order, key=order.get)]
    cited_norm = [_norm(p.text) for p in cited]

    def _quote(m: re.Match[str]) -> str:
        if any(_norm(m.group(1)) in p for p in cited_norm):
            return m.group(0)
        warnings.append("A quoted phrase was not found word for word in the cited sources; "
                        "its quotation marks were removed.")
        return m.group(1)

    text = _QUOTE.sub(_quote, text)
    text, sw = sanitize(text, [p.source_url for p in cited])
    warnings.extend(sw)
    citations = tuple(to_citation(i + 1, p) for i, p in enumerate(cited))
    return Verified(text=text.strip(), citations=citations, warnings=tuple(dict.fromkeys(warnings)))


def to_citation(n: int, p: Passage) -> Citation:
    return Citation(n=n, doc_id=p.doc_id, title=p.title, doc_type=p.doc_type,
                    jurisdiction=p.jurisdiction, section=p.section, page=p.page, quote=p.text,
                    source_url=p.source_url, effective_date=p.effective_date,
                    last_verified=p.last_verified, chunk_id=p.chunk_id, rule=p.rule)

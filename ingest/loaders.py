"""Turn file bytes into pages of text. Runs inside the parse worker (see parse_worker.py).

Every loader returns ``{"pages": [{"text", "page"}], "title", "warnings", "flags"}`` or raises
``LoadError`` with a message that tells the uploader what to do.
"""
from __future__ import annotations

import io
import re
from typing import Any

import yaml

INSTRUCTION_LIKE = re.compile(
    r"(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+|your\s+|of\s+the\s+)?"
    r"(previous|prior|above|earlier|preceding)\s+(instructions|rules|prompts?|directions)|"
    r"(ignore|disregard|forget)\s+(all\s+)?your\s+(instructions|rules|system\s+prompt)|"
    r"you are now|system prompt|<\|im_start\|>|<\|endoftext\|>|"
    r"ignora\s+(todas\s+)?las\s+instrucciones", re.I)


class LoadError(Exception):
    pass


_EXTENSIONS = ((".pdf", "pdf"), (".html", "html"), (".htm", "html"), (".md", "md"),
               (".markdown", "md"), (".txt", "txt"), (".docx", "docx"))


def kind_of(name: str, head: bytes) -> str:
    """The loader to use. Content that starts like a PDF is a PDF whatever its name; otherwise the
    extension decides (a text file that merely mentions "%PDF-" stays text). Only a file with no
    known extension is sniffed for a PDF header later in its first 1 KB (allowed by the spec)."""
    n = name.lower()
    if head[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    for ext, kind in _EXTENSIONS:
        if n.endswith(ext):
            return kind
    if b"%PDF-" in head[:1024]:
        return "pdf"
    shown = name if len(name) <= 80 else name[:40] + "…" + name[-30:]
    raise LoadError(f"Unsupported file type for {shown!r}. Upload a PDF, HTML, Markdown (.md), "
                    "text (.txt) or Word (.docx) file.")


_BINARY_MESSAGE = ("This looks like a binary file, not text. Upload the document as PDF, HTML, "
                   "Markdown, text or DOCX.")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_UTF8_SEQ = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
BINARY_CONTROL_SHARE = 0.02  # text with more control/undecodable characters than this is binary


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved without a BOM: ASCII-heavy text has a NUL in every other byte."""
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.4 * half and even < 0.05 * half:
        return data.decode("utf-16-le", errors="replace")
    if even > 0.4 * half and odd < 0.05 * half:
        return data.decode("utf-16-be", errors="replace")
    return None


def decode_text(data: bytes) -> tuple[str, list[str]]:
    warnings = []
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="replace")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")  # the BOM picks the byte order
    elif (utf16 := _utf16_without_bom(data)) is not None:
        text = utf16
    else:
        if data.count(b"\x00") > max(8, len(data) // 100):
            raise LoadError(_BINARY_MESSAGE)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            good = len(_UTF8_SEQ.findall(data))
            bad = data.decode("utf-8", errors="replace").count("\ufffd")
            if good > bad:  # UTF-8 with a few stray bytes: do not turn every accent into mojibake
                text = data.decode("utf-8", errors="replace")
                warnings.append(f"{bad} byte(s) that are not valid UTF-8 were replaced with \ufffd.")
            else:
                text = data.decode("cp1252", errors="replace")
                warnings.append("The file is not valid UTF-8; it was read as Windows-1252/Latin-1. "
                                "Check special characters, or save it as UTF-8 and upload again.")
    if text and len(_CONTROL.findall(text)) > max(8, BINARY_CONTROL_SHARE * len(text)):
        raise LoadError(_BINARY_MESSAGE)
    if "\x00" in text:
        text = text.replace("\x00", "")
        warnings.append("NUL characters were removed.")
    return text, warnings


_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*$\r?\n?", re.S | re.M)


def _front_matter(text: str) -> tuple[str, dict[str, Any], list[str]]:
    """Split a Markdown file's YAML front matter (a block between ``---`` lines at the very top)
    from its text. It is metadata, not the document: indexed, it would be quoted as the answer."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return text, {}, []
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return text, {}, ["The block between the --- lines at the top is not valid YAML front matter; "
                          "it was indexed as text."]
    if not isinstance(meta, dict):
        return text, {}, []
    return text[m.end():], meta, []


def load_text(data: bytes, kind: str) -> dict[str, Any]:
    text, warnings = decode_text(data)
    if not text.strip():
        raise LoadError("The file is empty. Upload a file that contains text.")
    title = None
    if kind == "md":
        text, front, more = _front_matter(text)
        warnings += more
        if not text.strip():
            raise LoadError("This Markdown file holds only front matter (the block between the --- lines "
                            "at the top) and no text. Add the document's text below that block.")
        if isinstance(front.get("title"), str) and front["title"].strip():
            title = front["title"].strip()
    m = re.search(r"^#[ \t]+(\S.*)$", text, re.M) if kind == "md" and title is None else None
    if m:
        title = m.group(1).strip()
    return {"pages": [{"text": text, "page": None}], "title": title, "warnings": warnings}


# Zero means exactly zero: "font-size: 0.9em" is small print, not hidden text.
_ZERO = r"(?:0+(?:\.0*)?|\.0+)(?:[a-z%]+)?\s*(?:!important\s*)?(?:;|$)"
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|"
                           rf"(?<![\w-])(?:font-size|opacity)\s*:\s*{_ZERO}", re.I)
_DROP_TAGS = ["script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
              "nav", "header", "footer", "aside", "form", "button", "select", "input", "meta", "link",
              "head"]


_BLOCK_TAGS = {"p", "div", "section", "article", "main", "tr", "table", "ul", "ol", "dl", "blockquote",
               "pre", "figure", "figcaption", "caption", "address", "details", "summary", "hr"}
_HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}


def _html_text(root: Any) -> str:
    """Serialise visible text with Markdown headings, list dashes and block breaks. Iterative and
    read-only: bs4 tree edits (insert_after, replace_with) cost O(subtree) each, O(n^2) on
    deeply nested pages."""
    from bs4 import NavigableString
    from bs4.element import PreformattedString

    out: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, CDATA, doctype: never shown
                out.append(str(node))
            continue
        name = node.name
        if closing:
            if name in ("td", "th"):
                out.append(" | ")  # keep table cells apart
            elif name in ("dt", "dd"):
                out.append(" \n")
            elif name in _BLOCK_TAGS:
                out.append("\n\n")
            continue
        if name in _HEADING_TAGS:
            heading = " ".join(node.get_text(" ").split())  # one line, or it is no heading
            out.append(f"\n\n{'#' * _HEADING_TAGS[name]} {heading}\n\n" if heading else "\n\n")
            continue
        if name == "br":
            out.append("\n")
            continue
        if name == "li":
            out.append("\n- ")
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    return "".join(out)


def load_html(data: bytes) -> dict[str, Any]:
    from bs4 import BeautifulSoup, CData, Comment, Declaration, ProcessingInstruction

    text, warnings = decode_text(data)
    soup = BeautifulSoup(text, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    flags = []
    for c in soup.find_all(string=lambda s: isinstance(s, (Comment, CData, Declaration,
                                                            ProcessingInstruction))):
        c.extract()  # comments (and CDATA/PIs, which browsers treat as comments) are never shown
    # Tags inside a removed tag are skipped by id: ``tag.decomposed`` on a Tag falls back to a
    # subtree search in bs4, and decomposing nested tags one by one is O(n^2) on deep nesting.
    gone: set[int] = set()

    def remove(tag: Any) -> None:
        gone.update(id(t) for t in tag.find_all(True))
        tag.decompose()

    for tag in soup.find_all(_DROP_TAGS):
        if id(tag) not in gone:
            remove(tag)
    for tag in soup.find_all(True):
        if id(tag) in gone:
            continue
        attrs = tag.attrs or {}
        if ("hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true"
                or _HIDDEN_STYLE.search(str(attrs.get("style", "")))):
            hidden = tag.get_text(" ", strip=True)
            if hidden:
                flags.append(f"Hidden text removed: {hidden[:80]!r}")
            remove(tag)
    root = soup.find("main") or soup.find("article") or soup.body or soup
    body = _html_text(root)
    body = re.sub(r"[ \t\r\f\v\xa0]+", " ", body)
    body = re.sub(r"(?: \| ?)+\n", "\n", body)  # trailing cell separator at the end of a row
    body = re.sub(r"[ \t]*\n[ \t]*", "\n", body)
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    if not body:
        raise LoadError("No readable text was found in this web page.")
    return {"pages": [{"text": body, "page": None}], "title": title, "warnings": warnings,
            "flags": flags}


def load_docx(data: bytes) -> dict[str, Any]:
    import docx

    try:
        d = docx.Document(io.BytesIO(data))
    except Exception:
        raise LoadError("This Word file could not be opened. Save it again as .docx (or PDF) and "
                        "upload that.") from None
    from docx.table import Table

    lines = []
    for block in d.iter_inner_content():  # paragraphs and tables, in document order
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    txt = " ".join(cell.text.split())
                    if txt and (not cells or cells[-1] != txt):  # merged cells repeat their text
                        cells.append(txt)
                if cells:
                    lines.append(" | ".join(cells))
            continue
        style = (block.style.name or "") if block.style is not None else ""
        txt = block.text.strip()
        if not txt:
            continue
        m = re.match(r"Heading (\d)", style)
        lines.append(f"{'#' * int(m.group(1))} {' '.join(txt.split())}" if m else txt)
    if not lines:
        raise LoadError("The Word file has no text.")
    title = (d.core_properties.title or None) if d.core_properties else None
    return {"pages": [{"text": "\n\n".join(lines), "page": None}], "title": title, "warnings": []}


_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _clean(text: str) -> str:
    """No NULs or other C0 controls (they break JSON/SQLite/tokenizers downstream) and no lone
    surrogates (pypdf can produce them from broken ToUnicode maps; they cannot be encoded)."""
    return _SURROGATE.sub("\ufffd", _UNSAFE_CHARS.sub("", text))


def load_bytes(name: str, data: bytes, max_pages: int = 500, max_chars: int = 5_000_000) -> dict[str, Any]:
    if not data:
        raise LoadError("The file is empty (0 bytes). Upload the document again.")
    kind = kind_of(name, data)
    if kind == "pdf":
        out = load_pdf(data, max_pages, max_chars)
    elif kind == "html":
        out = load_html(data)
    elif kind == "docx":
        out = load_docx(data)
    else:
        out = load_text(data, kind)
    out.setdefault("flags", [])
    for p in out["pages"]:
        p["text"] = _clean(p["text"])
    if out.get("title"):
        out["title"] = _clean(str(out["title"])) or None
    total = sum(len(p["text"]) for p in out["pages"])
    if total > max_chars:
        raise LoadError(f"This file holds more than {max_chars:,} characters of text; split it.")
    # Hidden text is not indexed, but instructions in it are still worth a reviewer's look.
    for p in out["pages"] + out.pop("hidden", []):
        m = INSTRUCTION_LIKE.search(p["text"])
        if m:
            out["flags"].append(f"Text that looks like instructions to an AI model: {m.group(0)!r}"
                                + (f" (page {p['page']})" if p["page"] else ""))
    out["kind"] = kind
    return out


from .pdf_loader import (  # noqa: E402  (pypdf lives in its own module, which needs LoadError)
    load_pdf)

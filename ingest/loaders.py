"""Turn file bytes into pages of text. Runs inside the parse worker (see parse_worker.py).

Every loader returns ``{"pages": [{"text", "page"}], "title", "warnings", "flags"}`` or raises
``LoadError`` with a message that tells the uploader what to do.
"""
from __future__ import annotations

import io
import re
from typing import Any

INSTRUCTION_LIKE = re.compile(
    r"(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier)\s+"
    r"(instructions|rules|prompts?)|you are now|system prompt|<\|im_start\|>|"
    r"ignora\s+(todas\s+)?las\s+instrucciones", re.I)
SCANNED_MIN_CHARS = 20      # a page with less text than this counts as image-only
SCANNED_REJECT_SHARE = 0.8  # reject when this share of pages has no text layer
PDF_DECOMPRESS_LIMIT = 25_000_000  # bytes any one stream may inflate to (pypdf default: 75 MB)


class LoadError(Exception):
    pass


def kind_of(name: str, head: bytes) -> str:
    n = name.lower()
    if head[:1024].lstrip().startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf"
    for ext, kind in ((".pdf", "pdf"), (".html", "html"), (".htm", "html"), (".md", "md"),
                      (".markdown", "md"), (".txt", "txt"), (".docx", "docx")):
        if n.endswith(ext):
            return kind
    raise LoadError(f"Unsupported file type for {name!r}. Upload a PDF, HTML, Markdown (.md), "
                    "text (.txt) or Word (.docx) file.")


def decode_text(data: bytes) -> tuple[str, list[str]]:
    warnings = []
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="replace")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        if data.count(b"\x00") > max(8, len(data) // 100):
            raise LoadError("This looks like a binary file, not text. Upload the document as PDF, "
                            "HTML, Markdown, text or DOCX.")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            warnings.append("The file is not valid UTF-8; it was read as Windows-1252/Latin-1. "
                            "Check special characters, or save it as UTF-8 and upload again.")
    if "\x00" in text:
        text = text.replace("\x00", "")
        warnings.append("NUL characters were removed.")
    return text, warnings


def load_text(data: bytes, kind: str) -> dict[str, Any]:
    text, warnings = decode_text(data)
    if not text.strip():
        raise LoadError("The file is empty. Upload a file that contains text.")
    title = None
    m = re.search(r"^#\s+(.+)$", text, re.M) if kind == "md" else None
    if m:
        title = m.group(1).strip()
    return {"pages": [{"text": text, "page": None}], "title": title, "warnings": warnings}


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0", re.I)
_DROP_TAGS = ["script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
              "nav", "header", "footer", "aside", "form", "button", "select", "input", "meta", "link",
              "head"]


def load_html(data: bytes) -> dict[str, Any]:
    from bs4 import BeautifulSoup, Comment

    text, warnings = decode_text(data)
    soup = BeautifulSoup(text, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    flags = []
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if getattr(tag, "decomposed", False):
            continue
        attrs = tag.attrs or {}
        if ("hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true"
                or _HIDDEN_STYLE.search(str(attrs.get("style", "")))):
            hidden = tag.get_text(" ", strip=True)
            if hidden:
                flags.append(f"Hidden text removed: {hidden[:80]!r}")
            tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    for level in range(1, 7):
        for h in root.find_all(f"h{level}"):
            h.replace_with(f"\n\n{'#' * level} {h.get_text(' ', strip=True)}\n\n")
    for br in root.find_all("br"):
        br.replace_with("\n")
    for li in root.find_all("li"):
        li.insert_before("\n- ")
    for block in root.find_all(["p", "div", "section", "tr", "table", "ul", "ol", "blockquote"]):
        block.insert_after("\n\n")
    body = root.get_text("")
    body = re.sub(r"[ \t\r\f\v]+", " ", body)
    body = re.sub(r"\n[ \t]+", "\n", body)
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
    lines = []
    for para in d.paragraphs:
        style = (para.style.name or "") if para.style is not None else ""
        txt = para.text.strip()
        if not txt:
            continue
        m = re.match(r"Heading (\d)", style)
        lines.append(f"{'#' * int(m.group(1))} {txt}" if m else txt)
    if not lines:
        raise LoadError("The Word file has no text.")
    title = (d.core_properties.title or None) if d.core_properties else None
    return {"pages": [{"text": "\n\n".join(lines), "page": None}], "title": title, "warnings": []}


def load_pdf(data: bytes, max_pages: int, max_chars: int) -> dict[str, Any]:
    import pypdf
    import pypdf.filters
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    # Text-only ingestion: lower decompression limits and never shell out to jbig2dec
    # (pypdf 7: a per-context Configuration replaces the old module constants).
    pypdf.overwrite_configuration(
        zlib_maximum_output_length=PDF_DECOMPRESS_LIMIT, lzw_maximum_output_length=PDF_DECOMPRESS_LIMIT,
        run_length_maximum_output_length=PDF_DECOMPRESS_LIMIT,
        jbig2_maximum_output_length=PDF_DECOMPRESS_LIMIT, brotli_maximum_output_length=PDF_DECOMPRESS_LIMIT,
        maximum_declared_stream_length=PDF_DECOMPRESS_LIMIT,
        array_based_stream_maximum_output_length=PDF_DECOMPRESS_LIMIT, jbig2dec_binary=None)
    if b"%PDF-" not in data[:1024]:
        raise LoadError("This file is not a PDF (it does not start like one). Upload the real PDF.")
    warnings: list[str] = []
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            if reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
                raise LoadError("This PDF is password-protected. Please upload an unlocked copy.")
            warnings.append("The PDF had an owner password (copy/print restrictions); it was opened "
                            "without one.")
        n = len(reader.pages)
        if n > max_pages:
            raise LoadError(f"This PDF has {n} pages; the limit is {max_pages}. Split it into "
                            "smaller files.")
        pages, empty, total = [], [], 0
        for i, page in enumerate(reader.pages, start=1):
            txt = page.extract_text() or ""
            total += len(txt)
            if total > max_chars:
                raise LoadError(f"This PDF holds more than {max_chars:,} characters of text; split it "
                                "into smaller files.")
            if len(txt.strip()) < SCANNED_MIN_CHARS:
                empty.append(i)
            pages.append({"text": txt, "page": i})
    except LoadError:
        raise
    except FileNotDecryptedError:
        raise LoadError("This PDF is password-protected. Please upload an unlocked copy.") from None
    except DependencyError:
        raise LoadError("OPERATOR: this PDF uses AES encryption and the server lacks the "
                        "'cryptography' package (pip install 'pypdf[crypto]').") from None
    except LimitReachedError:
        raise LoadError("This PDF is too large when decompressed (it may be a 'zip bomb'). Upload "
                        "a normal text PDF.") from None
    except (PyPdfError, Exception) as exc:  # pypdf: many errors are bugs, not API
        raise LoadError(f"This PDF could not be read ({type(exc).__name__}); it may be damaged or "
                        "truncated. Try saving it again as PDF.") from None
    if not pages:
        raise LoadError("This PDF has no pages.")
    if len(empty) / len(pages) > SCANNED_REJECT_SHARE:
        raise LoadError("This file appears to be a scanned image with no text layer, so the assistant "
                        "can't read it. Please upload a text-based PDF or run OCR first (e.g. OCRmyPDF).")
    if empty:
        warnings.append("Pages with no text layer were skipped: " + ", ".join(map(str, empty)))
    title = None
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:
        pass
    return {"pages": [p for p in pages if p["page"] not in empty], "title": str(title) if title else None,
            "warnings": warnings}


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
    total = sum(len(p["text"]) for p in out["pages"])
    if total > max_chars:
        raise LoadError(f"This file holds more than {max_chars:,} characters of text; split it.")
    for p in out["pages"]:
        m = INSTRUCTION_LIKE.search(p["text"])
        if m:
            out["flags"].append(f"Text that looks like instructions to an AI model: {m.group(0)!r}"
                                + (f" (page {p['page']})" if p["page"] else ""))
    out["kind"] = kind
    return out

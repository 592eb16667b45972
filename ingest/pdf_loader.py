"""The PDF loader: the only module that imports pypdf. Runs inside the parse worker.

Decompression limits are lowered for text-only ingestion, encrypted files are opened only when they
have no user password, scanned (image-only) pages are detected, and every pypdf error becomes a
LoadError with a message for the uploader.
"""
from __future__ import annotations

import io
from typing import Any

from .loaders import LoadError

SCANNED_MIN_CHARS = 20      # a page with less text than this counts as image-only
SCANNED_REJECT_SHARE = 0.8  # reject when this share of pages has no text layer
PDF_DECOMPRESS_LIMIT = 25_000_000  # bytes any one stream may inflate to (pypdf default: 75 MB)
HIDDEN_MIN_PT = 1.5  # text drawn smaller than this (in points, after scaling) is hidden text

_PDF_OUTPUT_LIMITS = ("zlib_maximum_output_length", "lzw_maximum_output_length",
                      "run_length_maximum_output_length", "jbig2_maximum_output_length",
                      "brotli_maximum_output_length", "maximum_declared_stream_length",
                      "array_based_stream_maximum_output_length")


def _pdf_limits(current: Any) -> dict[str, Any]:
    """Lower pypdf's decompression limits for text-only ingestion, never raise one that is already
    lower (an operator's or a test's); 0 means "no limit" in pypdf, so it gets ours."""
    out: dict[str, Any] = {}
    for field in _PDF_OUTPUT_LIMITS:
        if hasattr(current, field):
            v = getattr(current, field)
            out[field] = PDF_DECOMPRESS_LIMIT if not v or v <= 0 else min(v, PDF_DECOMPRESS_LIMIT)
    if hasattr(current, "jbig2dec_binary"):
        out["jbig2dec_binary"] = None  # never shell out to jbig2dec
    return out


def _has_images(page: Any, max_visits: int = 200) -> bool:
    """Does the page draw image XObjects (directly or inside form XObjects, as scanners do)?
    Bounded and cycle-safe: hostile files nest forms in loops."""
    todo, seen, visits = [page.get("/Resources")], set(), 0
    while todo and visits < max_visits:
        visits += 1
        res = todo.pop()
        try:
            res = res.get_object() if res is not None else None
            xobjects = res.get("/XObject") if hasattr(res, "get") else None
            xobjects = xobjects.get_object() if xobjects is not None else None
            for ref in (xobjects.values() if hasattr(xobjects, "values") else ()):
                key = getattr(ref, "idnum", None)
                if key is not None and key in seen:
                    continue
                seen.add(key)
                x = ref.get_object()
                sub = x.get("/Subtype")
                if sub == "/Image":
                    return True
                if sub == "/Form":
                    todo.append(x.get("/Resources"))
        except Exception:  # a damaged resource dictionary is not an image
            continue
    return False




def _is_white(fill: tuple[str, tuple[float, ...]] | None) -> bool:
    if fill is None:
        return False
    space, v = fill
    if space == "gray":
        return v[0] >= 0.97
    if space == "rgb":
        return min(v) >= 0.97
    if space == "cmyk":
        return max(v) <= 0.03
    return False


def _scale(m) -> float:
    """How much a 2-D matrix [a b c d e f] scales lengths (the square root of its determinant)."""
    try:
        return abs(float(m[0]) * float(m[3]) - float(m[1]) * float(m[2])) ** 0.5
    except (TypeError, ValueError, IndexError):
        return 1.0


def _page_text(page) -> tuple[str, list[str]]:
    """The page's text without what a reader cannot see (white, invisible or tiny text), and the
    hidden pieces. Follows the fill colour and text render mode through q/Q, as a viewer does."""
    state = {"fill": None, "mode": 0}
    stack: list[tuple] = []
    hidden: list[str] = []

    def before(op: bytes, args, cm, tm) -> None:  # noqa: ANN001 - pypdf's visitor signature
        try:
            if op == b"q":
                stack.append((state["fill"], state["mode"]))
            elif op == b"Q" and stack:
                state["fill"], state["mode"] = stack.pop()
            elif op == b"g" and len(args) == 1:
                state["fill"] = ("gray", (float(args[0]),))
            elif op == b"rg" and len(args) == 3:
                state["fill"] = ("rgb", tuple(float(a) for a in args))
            elif op == b"k" and len(args) == 4:
                state["fill"] = ("cmyk", tuple(float(a) for a in args))
            elif op in (b"sc", b"scn") and args:  # a pattern name fails float(): nothing tracked
                vals = tuple(float(a) for a in args)
                state["fill"] = {1: ("gray", vals), 3: ("rgb", vals), 4: ("cmyk", vals)}.get(len(vals))
            elif op == b"Tr" and args:
                state["mode"] = int(args[0])
        except (TypeError, ValueError):
            pass  # a malformed operand changes nothing we track

    def visit(text: str, cm, tm, font, size) -> None:  # noqa: ANN001
        if not text.strip():
            return
        pt = abs(float(size or 0)) * _scale(tm) * _scale(cm)
        if state["mode"] == 3 or _is_white(state["fill"]) or pt < HIDDEN_MIN_PT:
            hidden.append(text.strip())

    txt = page.extract_text(visitor_operand_before=before, visitor_text=visit) or ""
    for h in hidden:
        txt = txt.replace(h, "", 1)
    return txt, hidden


def load_pdf(data: bytes, max_pages: int, max_chars: int) -> dict[str, Any]:
    import pypdf

    if b"%PDF-" not in data[:1024]:
        raise LoadError("This file is not a PDF (it does not start like one). Upload the real PDF.")
    # A context, not a global: the caller's pypdf configuration is restored afterwards.
    with pypdf.apply_configuration(**_pdf_limits(pypdf.get_configuration())):
        return _read_pdf(pypdf, data, max_pages, max_chars)


def _read_pdf(pypdf: Any, data: bytes, max_pages: int, max_chars: int) -> dict[str, Any]:
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError

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
        pages, scanned, total, flags, removed = [], [], 0, [], []
        for i, page in enumerate(reader.pages, start=1):
            txt, hidden = _page_text(page)
            for h in hidden:
                flags.append(f"Hidden text removed (white, invisible or tiny): {h[:80]!r} (page {i})")
                removed.append({"text": h, "page": i})
            total += len(txt)
            if total > max_chars:
                raise LoadError(f"This PDF holds more than {max_chars:,} characters of text; split it "
                                "into smaller files.")
            # Image-only = (almost) no text AND an image. A short text page ("Chapter 3", a
            # statute heading) is kept; a blank page is dropped without a warning.
            if len(txt.strip()) < SCANNED_MIN_CHARS and _has_images(page):
                scanned.append(i)
            elif txt.strip():
                pages.append({"text": txt, "page": i})
        title = None
        try:
            title = reader.metadata.title if reader.metadata is not None else None
        except Exception:
            pass
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
    except MemoryError:
        raise  # the worker reports it as "needs too much memory"
    except Exception as exc:  # pypdf: many errors are bugs, not API
        raise LoadError(f"This PDF could not be read ({type(exc).__name__}); it may be damaged or "
                        "truncated. Try saving it again as PDF.") from None
    if n == 0:
        raise LoadError("This PDF has no pages.")
    if scanned and (not pages or len(scanned) / n > SCANNED_REJECT_SHARE):
        raise LoadError("This file appears to be a scanned image with no text layer, so the assistant "
                        "can't read it. Please upload a text-based PDF or run OCR first (e.g. OCRmyPDF).")
    if not pages:
        raise LoadError("No text could be extracted from this PDF (its text may be drawn as shapes). "
                        "Upload a text-based PDF, or run OCR first (e.g. OCRmyPDF).")
    if scanned:
        warnings.append("Pages that look scanned (images with no text layer) were skipped: "
                        + ", ".join(map(str, scanned)))
    title = " ".join(str(title).split()) if title else None
    return {"pages": pages, "title": title or None, "warnings": warnings, "flags": flags,
            "hidden": removed}

"""Flesch-Kincaid grade level for our corpus (offline: pyphen syllables, no NLTK downloads)."""
from __future__ import annotations

import re

_SOURCE_BLOCK = re.compile(r"^\s*-\s*\*\*(Rule|Official source|In effect since|Last verified|Regla|Fuente "
                           r"oficial|Vigente desde|Última verificación):\*\*.*$", re.M)
_URL = re.compile(r"https?://\S+")


def prose(markdown: str) -> str:
    """The text a reader reads: no source blocks, URLs, headings or Markdown marks."""
    text = _SOURCE_BLOCK.sub("", markdown)
    text = _URL.sub("", text)
    text = re.sub(r"^#+\s.*$", "", text, flags=re.M)
    text = re.sub(r"[*_`>|]", "", text)
    return text


def fk_grade(text: str, lang: str = "en_US") -> float:
    import pyphen

    dic = pyphen.Pyphen(lang=lang)
    sentences = [s for s in re.split(r"[.!?]+\s|\n\s*\n|\n\s*-\s", text) if re.search(r"[A-Za-z]", s)]
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    if not words or not sentences:
        return 0.0
    syllables = sum(max(1, len(dic.positions(w.lower())) + 1) for w in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * syllables / len(words) - 15.59


def fernandez_huerta(text: str) -> float:
    """Spanish reading ease (Fernández Huerta): 60-70 is plain, 70+ easy."""
    import pyphen

    dic = pyphen.Pyphen(lang="es")
    sentences = [s for s in re.split(r"[.!?]+\s|\n\s*\n|\n\s*-\s", text) if re.search(r"\w", s)]
    words = re.findall(r"[^\W\d_][^\W\d_'-]*", text)
    if not words or not sentences:
        return 0.0
    syllables = sum(max(1, len(dic.positions(w.lower())) + 1) for w in words)
    return 206.84 - 0.60 * (100 * syllables / len(words)) - 1.02 * (100 * len(sentences) / len(words))

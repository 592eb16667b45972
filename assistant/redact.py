"""Redact personal data (SSN, A-number, phone, e-mail, card numbers) before search, LLM and logs."""
from __future__ import annotations

import re

_PATTERNS = [
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "[SSN]"),
    (re.compile(r"\bA[- ]?\d{8,9}\b", re.I), "[A-NUMBER]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[EMAIL]"),
    (re.compile(r"\b(?:\d[ -]?){13,19}\b"), "[CARD]"),
    (re.compile(r"(?:\+?1[ .-]?)?\(?\b\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}\b"), "[PHONE]"),
]


def redact(text: str) -> tuple[str, bool]:
    changed = False
    for pattern, label in _PATTERNS:
        text, n = pattern.subn(label, text)
        changed = changed or n > 0
    return text, changed

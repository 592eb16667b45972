"""Redact personal data before search, the LLM, answers and anything stored: SSNs, A-numbers,
e-mail addresses, card numbers (Luhn-checked) and phone numbers in any of the countries we serve
(Google's libphonenumber rules, via the ``phonenumbers`` package)."""
from __future__ import annotations

import re

import phonenumbers

_SSN = re.compile(r"\b\d{3}([- ])\d{2}\1\d{4}\b")
_A_NUMBER = re.compile(r"\bA[- ]?\d{8,9}\b", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_US_PHONE = re.compile(r"(?:\+?1[ .-]?)?\(?\b\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}\b")
# Countries whose workers ask (US first: a bare 10-digit number is read as American).
PHONE_REGIONS = ("US", "ES", "GB", "MX", "CA", "IE", "FR", "IT", "DE", "PT", "AR", "CO")


def _luhn(digits: str) -> bool:
    total, odd = 0, True
    for ch in reversed(digits):
        d = int(ch)
        if not odd:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        odd = not odd
    return total % 10 == 0


def _cards(text: str) -> tuple[str, int]:
    n = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal n
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and _luhn(digits):
            n += 1
            return "[CARD]"
        return m.group(0)

    return _CARD.sub(sub, text), n


def _phones(text: str) -> tuple[str, int]:
    spans: list[tuple[int, int]] = []
    for region in PHONE_REGIONS:
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            if not any(s <= m.start < e for s, e in spans):
                spans.append((m.start, m.end))
    for m in _US_PHONE.finditer(text):  # US numbers libphonenumber would reject as unassigned
        if not any(s <= m.start() < e for s, e in spans):
            spans.append((m.start(), m.end()))
    for s, e in sorted(spans, reverse=True):
        text = text[:s] + "[PHONE]" + text[e:]
    return text, len(spans)


def redact(text: str) -> tuple[str, bool]:
    """(text with personal numbers replaced by labels, whether anything was replaced)."""
    count = 0
    for pattern, label in ((_SSN, "[SSN]"), (_A_NUMBER, "[A-NUMBER]"), (_EMAIL, "[EMAIL]")):
        text, n = pattern.subn(label, text)
        count += n
    text, n = _cards(text)
    count += n
    text, n = _phones(text)
    count += n
    return text, count > 0


def redact_history(history) -> tuple[tuple[tuple[str, str], ...], bool]:
    """The worker's earlier turns redacted like the question (they reach search and the LLM too).
    The assistant's own turns are left as they are: they were written from redacted questions, and
    the agency phone numbers in them are not personal data."""
    out, changed = [], False
    for role, text in history:
        if role == "user":
            text, c = redact(text)
            changed = changed or c
        out.append((role, text))
    return tuple(out), changed

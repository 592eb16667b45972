"""Redact personal data before search, the LLM, answers and anything stored: SSNs, A-numbers,
e-mail addresses, driver's licence numbers (by the words before them), street addresses (house
number and street word, in English and Spanish), card numbers (Luhn-checked) and phone numbers in any of the countries we serve
(Google's libphonenumber rules, via the ``phonenumbers`` package)."""
from __future__ import annotations

import re

import phonenumbers

_SSN = re.compile(r"\b\d{3}([- ])\d{2}\1\d{4}\b")
_A_NUMBER = re.compile(r"\bA[- ]?\d{8,9}\b", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_US_PHONE = re.compile(r"(?:\+?1[ .-]?)?\(?\b\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}\b")
# A driver's licence number is only recognisable by the words before it: "license # D1234567",
# "DL: 123-456-789", "licencia de conducir 12345678Z". The number holds a digit, 5 to 20 characters.
_LICENCE = re.compile(
    r"\b(?:driver'?s?\s+licen[cs]e|licen[cs]e|DL|licencia(?:\s+de\s+(?:conducir|manejo))?|"
    r"permiso\s+de\s+conducir|carn[eé]\s+de\s+conducir)"
    r"(?:\s+(?:number|num|no\.?|n[uú]mero|n[ºo°]\.?))?\s*(?:is|es|:|#)?\s*#?\s*"
    r"(?=[A-Z0-9-]*\d)([A-Z0-9][A-Z0-9-]{3,18}[A-Z0-9])\b", re.I)
# A street address: a house number and a street name ending in a street word ("1234 Oak Street",
# "55 W 3rd Ave Apt 4"), or a Spanish street word first ("Calle Mayor 12", "Av. Reforma 222").
_STREET_WORDS = (r"street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|ct|place|pl|"
                 r"terrace|parkway|pkwy|highway|hwy|circle|cir")
# "3 hours on 5th avenue" is not an address: amounts of time, distance and work come first.
_NOT_A_STREET = (r"(?:hours?|hrs?|minutes?|mins?|miles?|mi|km|kms|days?|weeks?|months?|years?|trips?|"
                 r"rides?|orders?|deliver(?:y|ies)|offers?|dollars?|bucks|percent|times|horas?|millas|"
                 r"d[ií]as|semanas|viajes|pedidos|entregas)\b")
_ADDRESS = re.compile(
    rf"\b\d{{1,6}}\s+(?!{_NOT_A_STREET})(?:[NSEW]\.?\s+)?(?:[A-Za-z0-9'.]+\s+){{1,3}}(?:{_STREET_WORDS})\b\.?"
    r"(?:,?\s+(?:apt|apartment|unit|suite|#)\.?\s*\w+)?|"
    r"\b(?:calle|c/|avenida|av\.|avda\.?|paseo|plaza|carrer|rua)\s+(?:[A-Za-zÁÉÍÓÚÑáéíóúñ'.]+\s+){0,3}"
    r"\d{1,5}\b(?:,?\s*\d{1,2}[ºª°]?\s*[A-Za-z]?)?", re.I)
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
    text, n = _LICENCE.subn(lambda m: m.group(0)[:m.start(1) - m.start(0)] + "[LICENCE]", text)
    count += n
    text, n = _ADDRESS.subn("[ADDRESS]", text)
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

"""Understand a question: its language, a jurisdiction it names, and whether it is a follow-up."""
from __future__ import annotations

import re
import unicodedata

JURISDICTIONS = ("US", "US-CA", "US-NY", "US-NY-NYC", "US-WA", "US-WA-Seattle", "US-MA", "US-MN",
                 "US-IL", "US-CO", "EU", "UK", "CA-ON")
JURISDICTION_NAMES = {
    "US": "United States (federal)", "US-CA": "California", "US-NY": "New York State",
    "US-NY-NYC": "New York City", "US-WA": "Washington State", "US-WA-Seattle": "Seattle",
    "US-MA": "Massachusetts", "US-MN": "Minnesota", "US-IL": "Illinois", "US-CO": "Colorado",
    "EU": "European Union", "UK": "United Kingdom", "CA-ON": "Ontario",
}

# Ordered: more specific places first. Patterns match on lower-cased, accent-free text.
_PLACE_PATTERNS: list[tuple[str, str]] = [
    (r"\b(nyc|new york city|nueva york ciudad|brooklyn|bronx|queens|manhattan|staten island)\b",
     "US-NY-NYC"),
    (r"\bseattle\b", "US-WA-Seattle"),
    (r"\b(new york|nueva york|ny state|nys)\b", "US-NY"),
    (r"\b(california|cali|los angeles|san francisco|san diego|oakland|sacramento|prop 22)\b", "US-CA"),
    (r"\b(washington state|wa state|tacoma|spokane|bellevue)\b", "US-WA"),
    (r"\b(massachusetts|boston|mass)\b", "US-MA"),
    (r"\b(minnesota|minneapolis|st\.? paul)\b", "US-MN"),
    (r"\b(illinois|chicago)\b", "US-IL"),
    (r"\b(colorado|denver)\b", "US-CO"),
    (r"\b(ontario|toronto|ottawa)\b", "CA-ON"),
    (r"\b(uk|united kingdom|england|scotland|wales|britain|london)\b", "UK"),
    (r"\b(eu|european union|europe|union europea)\b", "EU"),
]

_ES_WORDS = set("el la los las de del que qué y en un una por para con mi me puedo cómo como cuánto "
                "cuanto pagan pago trabajo trabajador trabajadores tengo derecho derechos es está son "
                "si no sin plataforma cuenta desactivar desactivaron impuestos seguro salud propinas "
                "dónde donde cuando cuándo porque qué hago pueden".split())
_EN_WORDS = set("the a an and of to in is are my me can do does what how when where why for with "
                "i you it on get paid pay if not without".split())


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def detect_language(text: str) -> str:
    words = re.findall(r"[a-záéíóúñü¿¡]+", text.lower())
    es = sum(w in _ES_WORDS for w in words) + 2 * sum(ch in "ñ¿¡áéíóú" for ch in text.lower())
    en = sum(w in _EN_WORDS for w in words)
    return "es" if es > en else "en"


def detect_jurisdiction(text: str) -> str | None:
    folded = fold(text)
    for pattern, code in _PLACE_PATTERNS:
        if re.search(pattern, folded):
            return code
    return None


def scope(jurisdiction: str | None) -> list[str] | None:
    """A place and every place above it: US-WA-Seattle -> [US, US-WA, US-WA-Seattle]."""
    if not jurisdiction:
        return None
    parts = jurisdiction.split("-")
    return ["-".join(parts[:i]) for i in range(1, len(parts) + 1)]


_FOLLOW_UP = re.compile(r"^\s*(and|what about|how about|y|¿?y si|what if|also|but|same|does that|"
                        r"is that|can they|do they|it|that|this|those)\b", re.I)


def retrieval_query(question: str, history: tuple[tuple[str, str], ...]) -> str:
    """Fold the previous user turn into the search query for short or pronoun-led follow-ups."""
    prev = [text for role, text in history if role == "user"]
    if prev and (len(question.split()) < 9 or _FOLLOW_UP.search(question)):
        return f"{prev[-1]} {question}"
    return question

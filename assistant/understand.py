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

# Places we have no documents for. US states fall back to federal rules; other places are refused.
US_STATES_UNCOVERED = {
    "alabama", "alaska", "arizona", "arkansas", "connecticut", "delaware", "florida", "georgia",
    "hawaii", "idaho", "indiana", "iowa", "kansas", "kentucky", "louisiana", "maine", "maryland",
    "michigan", "mississippi", "missouri", "montana", "nebraska", "nevada", "new hampshire",
    "new jersey", "new mexico", "north carolina", "north dakota", "ohio", "oklahoma", "oregon",
    "pennsylvania", "rhode island", "south carolina", "south dakota", "tennessee", "texas", "utah",
    "vermont", "virginia", "west virginia", "wisconsin", "wyoming", "puerto rico", "houston",
    "dallas", "austin", "miami", "atlanta", "phoenix", "las vegas", "philadelphia", "detroit",
    "portland", "new orleans", "nashville", "orlando", "baltimore", "newark", "jersey city"}
_ELSEWHERE = re.compile(r"\b(?:in|on|at|from|en|para)\s+(?:the\s+)?([A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+)?)")
_KNOWN_CAPS = {"US", "USA", "NYC", "EU", "UK", "IRS", "DOL", "NLRB", "EEOC", "California", "Seattle",
               "Washington", "New York", "Massachusetts", "Minnesota", "Illinois", "Colorado",
               "Ontario", "Europe", "England", "Uber", "Lyft", "DoorDash", "Instacart", "Spanish",
               "English", "January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December", "Prop", "Medicare", "Medicaid"}

# Company names -> the kind of work, so that generic guides match a question about a brand.
BRANDS = {
    "uber eats": "food delivery app", "doordash": "food delivery app", "door dash": "food delivery app",
    "grubhub": "food delivery app", "postmates": "food delivery app", "relay": "food delivery app",
    "instacart": "grocery delivery shopper app", "shipt": "grocery delivery shopper app",
    "gopuff": "delivery app", "amazon flex": "delivery app", "spark": "delivery app",
    "uber": "rideshare driver app", "lyft": "rideshare driver app", "via": "rideshare driver app",
    "upwork": "freelance marketplace", "fiverr": "freelance marketplace",
    "taskrabbit": "freelance marketplace", "rover": "freelance marketplace",
    "scale ai": "data annotation platform", "remotasks": "data annotation platform",
    "outlier": "data annotation platform", "dataannotation": "data annotation platform",
    "mechanical turk": "data annotation platform", "mturk": "data annotation platform",
}

# Requests we will not help with, whatever the sources say.
_DISALLOWED = re.compile(
    r"\b(hide|hiding|conceal|underreport|under-report)\b.{0,40}\b(income|earnings|money|tips|cash)\b|"
    r"\b(evade|evading|cheat|cheating)\b.{0,30}\b(tax|taxes|irs)\b|"
    r"\bnot\s+(report|declare)\b.{0,30}\b(income|earnings|tips|cash)\b|"
    r"\b(fake|forge|falsify|made[- ]up)\b.{0,30}\b(receipts?|documents?|id|mileage|log|trips?|"
    r"ratings?|accounts?|claims?)\b|"
    r"\b(lie|lying)\s+(to|on)\b.{0,30}\b(unemployment|irs|claim|insurance|agency|app)\b|"
    r"\bunemployment\b.{0,40}\bwhile\b.{0,20}\b(still\s+)?(working|driving|delivering)\b.{0,40}"
    r"\bwithout\b|\bgps\s*spoof|\bspoof(ing)?\s+(my\s+)?(gps|location)\b|"
    r"\b(ocultar|esconder)\b.{0,40}\b(ingresos|dinero|propinas)\b|"
    r"\bwithout\b.{0,30}\b(finding out|find out|knowing|noticing|catching)\b|"
    r"\bdidn'?t\s+actually\s+(drive|work|deliver)|\bmake\s+it\s+look\s+(like|legit|real)|"
    r"\b(use|share|rent|borrow)\b.{0,15}\b(my|your|his|her|someone'?s)\b.{0,20}\baccount\b.{0,60}"
    r"\b(deactivated|banned|background|verification|selfie|get past|get around)|"
    r"\bget\s+(past|around)\s+the\s+(ban|deactivation|background|id|identity|verification|selfie)",
    re.I)
_INDIVIDUAL = re.compile(
    r"\bshould\s+i\s+(sue|file|quit|sign|set\s+up|form|make|start|take|settle|accept|go\s+to)\b|"
    r"\bwhat'?s?\s+(is\s+)?my\s+best\s+(move|option|bet|strategy)|\bbest\s+(way|strategy)\s+to\s+"
    r"(pay|owe)\s+(way\s+)?(less|lower|no)\b|\bpay\s+way\s+less\s+tax|"
    r"\b(debo|deber[ií]a)\s+(demandar|poner una demanda)", re.I)
_IMMIGRATION = re.compile(r"\b(visa|f-?1|h-?1b|green\s+card|immigration\s+status|work\s+permit|"
                          r"daca|asylum|inmigraci[oó]n|permiso\s+de\s+trabajo)\b", re.I)
_COMPARE_APPS = re.compile(r"\bwhich\s+(delivery\s+|rideshare\s+|gig\s+)?(app|company|platform)\s+"
                           r"(pays|is)\s+(the\s+)?(most|best|more)|\bbest\s+(paying\s+)?app\b", re.I)
_ABROAD = re.compile(
    r"\b(brazil|brasil|s[aã]o paulo|rio de janeiro|mexico|m[eé]xico|cdmx|guadalajara|quebec|qu[eé]bec|"
    r"montreal|montr[eé]al|british columbia|vancouver|alberta|calgary|australia|sydney|melbourne|"
    r"india|bangalore|mumbai|delhi|nigeria|lagos|kenya|nairobi|philippines|manila|colombia|bogot[aá]|"
    r"argentina|buenos aires|chile|peru|lima|japan|tokyo|china|singapore|south africa|new zealand)\b",
    re.I)


def brand_terms(text: str) -> str:
    """Generic words for the companies a question names ("" if none)."""
    f = fold(text)
    found = [kind for brand, kind in BRANDS.items() if re.search(rf"\b{re.escape(brand)}\b", f)]
    return " ".join(dict.fromkeys(found))


def is_disallowed(text: str) -> bool:
    return bool(_DISALLOWED.search(text))


def out_of_scope(text: str) -> str | None:
    """Questions the corpus is not for, whatever it retrieves: 'fraud', 'individual' (advice for a
    specific case), 'immigration', 'compare_apps'; None if in scope."""
    if _DISALLOWED.search(text):
        return "fraud"
    if _INDIVIDUAL.search(text):
        return "individual"
    if _IMMIGRATION.search(text):
        return "immigration"
    if _COMPARE_APPS.search(text):
        return "compare_apps"
    return None


def uncovered_place(text: str) -> tuple[str, bool] | None:
    """A place the question names that we have no documents for: (name, is_a_US_place)."""
    if detect_jurisdiction(text):
        return None
    f = fold(text)
    for place in sorted(US_STATES_UNCOVERED, key=len, reverse=True):
        if re.search(rf"\b{place}\b", f):
            return place.title(), True
    m = _ABROAD.search(text)
    if m:
        return m.group(0).title(), False
    for m in _ELSEWHERE.finditer(text):
        name = m.group(1)
        first = name.split()[0]
        if first in _KNOWN_CAPS or name in _KNOWN_CAPS or fold(name) in BRANDS or fold(first) in BRANDS:
            continue
        return name, False
    return None


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

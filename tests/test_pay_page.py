"""The "Check my pay" page (issue 12) through AppTest over the real index and the real fact records,
the same result from the page, `gigrights check-pay` and the chat, and one phone-sized Chromium run.

Periods in the past that a newer figure has replaced keep these results fixed whatever today is."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from test_app import app_data, at  # noqa: F401 - the Ask page's AppTest over a copy of the index
from test_browser import CHROMIUM, CHROMIUM_ARGS, _settle, app_url, browser_data  # noqa: F401 - `streamlit run`

D = dt.date.fromisoformat
NYC_QUOTE = "| April 1, 2025 | $21.44 |"  # the 2025-26 rate's evidence (corpus/facts/us-ny-nyc.yaml)


@pytest.fixture
def pay(at):  # noqa: F811 - the fixture imported above
    at.switch_page("ui/pay.py").run()
    assert not at.exception, at.exception
    return at


def _fill(at, place, *, work=None, start=None, end=None, hours=None, minutes=None, miles=None, paid=None):
    """Fill the form as a worker would (only the fields the rule shows) and press the button."""
    at.selectbox(key="pay_place").set_value(place).run()
    if work:
        at.selectbox(key="pay_work").set_value(work).run()
    keys = {w.key for w in at.number_input} | {w.key for w in at.date_input}
    if "pay_day" in keys:
        at.date_input(key="pay_day").set_value(D(start))
        at.number_input(key="pay_offer_minutes").set_value(minutes)
        at.number_input(key="pay_miles").set_value(miles)
    else:
        at.date_input(key="pay_start").set_value(D(start))
        at.date_input(key="pay_end").set_value(D(end))
        if minutes is not None:
            at.radio(key="pay_unit").set_value("minutes")
        at.number_input(key="pay_time").set_value(hours if minutes is None else minutes)
    at.number_input(key="pay_paid").set_value(paid)
    next(b for b in at.button if b.label in ("Check my pay", "Revisar mi pago")).click().run()
    assert not at.exception, at.exception
    return at


def _metrics(at) -> list[str]:
    return [m.value for m in at.metric]


def _text(at) -> str:
    return " ".join(e.value for kind in (at.markdown, at.caption, at.error, at.warning, at.success, at.info)
                    for e in kind).replace("\\", "")


def test_the_page_offers_only_places_with_a_pay_rule_and_english_by_default(pay):
    from assistant.facts import load_facts
    from assistant.paycheck import RULES
    from conftest import ROOT

    facts = load_facts(ROOT / "corpus" / "facts")
    assert pay.title[0].value == "Check my pay"
    assert pay.radio(key="pay_lang").value == "en"
    assert set(pay.selectbox(key="pay_place").options) == \
        {"New York City", "Seattle", "Washington State", "California", "Massachusetts", "Minnesota",
         "New York State", "Ontario", "British Columbia", "United Kingdom"}
    assert len(pay.selectbox(key="pay_place").options) == len({f.jurisdiction for f in facts if f.id in RULES})
    assert not pay.number_input  # nothing to fill before a place is chosen


def test_a_shortfall_with_its_working_citation_and_whom_to_contact(pay):
    _fill(pay, "US-NY-NYC", start="2025-11-03", end="2025-11-09", hours=3, paid=38)
    # an hourly rule asks for hours of the time it counts, the dates and the pay; no miles
    assert [n.key for n in pay.number_input] == ["pay_time", "pay_paid"]
    assert "trip time" in pay.number_input(key="pay_time").label
    assert _metrics(pay) == ["$64.32", "$26.32"]          # 3 h x $21.44, paid $38
    assert pay.error[0].value == "You were paid $26.32 less than the minimum."
    working = _text(pay)
    assert "November 3, 2025 to November 9, 2025: $21.44 an hour × 3.00 hours of trip time" in working
    source = pay.expander[0]
    assert source.label.replace("\\", "").startswith("Source: nyc-delivery-minimum-pay › ")
    assert NYC_QUOTE in source.text[0].value
    dates = source.caption[0].value.replace("\\", "")
    assert dates.startswith("In effect since: 2025-04-01 · last verified: 20")
    assert "nyc.gov" in source.caption[1].value
    # what to do: the city's worker protection office (from its own cited record), not the taxi commission
    assert "Department of Consumer and Worker Protection" in working and "Taxi and Limousine" not in working
    assert any("referrals-directory" in e.label for e in pay.expander[1:])


def test_paid_at_least_the_minimum(pay):
    _fill(pay, "US-NY-NYC", start="2025-11-03", end="2025-11-09", hours=2, paid=50)
    assert _metrics(pay) == ["$42.88"] and pay.success[0].value == "You were paid at least the minimum."
    assert not pay.error


def test_a_period_across_a_rate_change_is_split_with_a_source_for_each_figure(pay):
    # 14 h over 14 days, spread evenly: 7 h at $19.56 (to March 31, 2025) + 7 h at $21.44 = $287.00
    _fill(pay, "US-NY-NYC", start="2025-03-25", end="2025-04-07", minutes=840, paid=290)
    assert _metrics(pay) == ["$287.00"]
    lines = [m.value.replace("\\", "") for m in pay.markdown if " an hour × " in m.value]
    assert lines == ["March 25, 2025 to March 31, 2025: $19.56 an hour × 7.00 hours of trip time (from accepting "
                     "an offer to finishing it) = $136.92",
                     "April 1, 2025 to April 7, 2025: $21.44 an hour × 7.00 hours of trip time (from accepting "
                     "an offer to finishing it) = $150.08"]
    since = [e.caption[0].value.replace("\\", "")[:27] for e in pay.expander[:2]]
    assert since == ["In effect since: 2024-04-01", "In effect since: 2025-04-01"]
    assert "| April 1, 2024 | $19.56 |" in pay.expander[0].text[0].value and NYC_QUOTE in pay.expander[1].text[0].value


def test_spanish_from_the_link_and_from_the_switch(at):  # noqa: F811
    from streamlit.testing.v1 import AppTest

    from conftest import ROOT

    pay = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)  # a new visit, from a ?lang=es link
    pay.query_params["lang"] = "es"
    pay.run()
    pay.switch_page("ui/pay.py").run()
    assert pay.title[0].value == "Revisar mi pago" and pay.radio(key="pay_lang").value == "es"
    _fill(pay, "US-NY-NYC", start="2025-11-03", end="2025-11-09", hours=3, paid=38)
    assert pay.selectbox(key="pay_place").label == "¿Dónde trabaja?"
    assert _metrics(pay) == ["$64.32", "$26.32"]
    assert pay.error[0].value == "Le pagaron $26.32 menos que el mínimo."
    assert "Del 3 de noviembre de 2025 al 9 de noviembre de 2025: $21.44 por hora × 3.00 horas de tiempo de viaje" \
        in _text(pay)
    assert pay.expander[0].caption[0].value.replace("\\", "").startswith("Vigente desde: 2025-04-01")
    # back to English: the same numbers stay in the form and the result follows
    pay.radio(key="pay_lang").set_value("en").run()
    assert pay.title[0].value == "Check my pay" and "lang" not in pay.query_params
    assert _metrics(pay) == ["$64.32", "$26.32"] and pay.error[0].value.startswith("You were paid $26.32")


@pytest.mark.parametrize("lang,kw,message", [
    ("en", {"hours": 3, "paid": -5}, "Enter what the app paid (without tips) as a number of 0 or more."),
    ("en", {"hours": 3, "paid": None}, "Enter what the app paid (without tips) as a number, for example 38.50."),
    ("en", {"hours": 0, "paid": 38}, "Enter the time that counts: more than 0."),
    ("en", {"hours": 200, "paid": 38}, "That is more time than the period has (7 × 24 hours)"),
    ("en", {"hours": 3, "paid": 5e9}, "What the app paid (without tips) looks too large: check the number."),
    ("en", {"hours": 3, "paid": 38, "end": "2025-11-01"}, "The period ends before it starts: check the dates."),
    ("es", {"hours": 3, "paid": -5}, "Escriba lo que pagó la app (sin propinas) como un número de 0 o más."),
])
def test_bad_input_gets_a_message_that_says_what_to_enter(pay, lang, kw, message):
    pay.radio(key="pay_lang").set_value(lang).run()
    _fill(pay, "US-NY-NYC", start="2025-11-03", **{"end": "2025-11-09", **kw})
    assert len(pay.error) == 1 and pay.error[0].value.startswith(message)
    assert not pay.metric and not pay.exception


def test_a_date_before_the_rule_existed_and_a_per_offer_rule(pay):
    # Seattle has rules for delivery apps and for rideshare: the kind of work is asked for
    pay.selectbox(key="pay_place").set_value("US-WA-Seattle").run()
    assert pay.selectbox(key="pay_work").value is None and not pay.number_input
    # a per-offer rule asks for one offer's date, minutes and miles, and no period
    _fill(pay, "US-WA-Seattle", work="delivery", start="2023-06-02", minutes=20, miles=3, paid=5)
    assert {w.key for w in pay.date_input} == {"pay_day"}
    assert not pay.metric
    said = pay.warning[0].value
    assert "No verified figure covers June 2, 2023 to June 2, 2023 (before the rule started)" in said
    assert "seattle.gov" in said
    # the same offer in 2025: 0.45 x 20 + 0.77 x 3 = $11.31, more than the $5.20 per offer
    pay.date_input(key="pay_day").set_value(D("2025-06-02"))
    next(b for b in pay.button if b.label == "Check my pay").click().run()
    assert _metrics(pay) == ["$11.31", "$6.31"]
    assert "On June 2, 2025: $0.45 × 20 minutes + $0.77 × 3 miles = $11.31; the minimum per offer is $5.20" \
        in _text(pay)


def test_the_page_the_cli_and_the_chat_give_the_same_result(pay, capsys, shared_assistant):
    """Today's check of '$38 for 3 hours of deliveries in NYC' three ways (the chat checks today)."""
    from ingest.cli import main

    today = dt.date.today()
    assert main(["check-pay", "--place", "US-NY-NYC", "--work", "delivery", "--from", today.isoformat(),
                 "--hours", "3", "--paid", "38", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    _fill(pay, "US-NY-NYC", start=today.isoformat(), end=today.isoformat(), hours=3, paid=38)
    assert _metrics(pay) == [f"${cli['minimum']}", f"${cli['shortfall']}"]
    answer = shared_assistant.ask("I got $38 for 3 hours of deliveries in NYC today. Is that legal?")
    said = answer.text.replace("\\", "")
    assert f"${cli['minimum']}" in said and f"${cli['shortfall']} short" in said
    # and a past week: the page and the CLI agree on each figure of the working too
    assert main(["check-pay", "--place", "US-NY-NYC", "--from", "2025-03-25", "--to", "2025-04-07",
                 "--minutes", "840", "--paid", "290", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    _fill(pay, "US-NY-NYC", start="2025-03-25", end="2025-04-07", minutes=840, paid=290)
    assert _metrics(pay) == [f"${cli['minimum']}"] and cli["shortfall"] == "0.00"
    assert [m.value.replace("\\", "") for m in pay.markdown if " an hour × " in m.value] == cli["lines"]


@pytest.mark.browser
def test_on_a_phone_the_form_gives_the_shortfall_and_its_citation(app_url, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(app_url + "/pay")
            place = page.get_by_test_id("stSelectbox").filter(has_text="Where do you work?")
            expect(place).to_be_visible(timeout=60_000)
            place.click()
            page.get_by_role("option", name="New York City").click()
            _settle(page)
            for label, day in (("First day of the pay period", D("2025-11-03")),
                               ("Last day of the pay period", D("2025-11-09"))):
                for part, value in (("year", day.year), ("month", day.month), ("day", day.day)):
                    page.get_by_role("spinbutton", name=f"{part}, {label}").click()
                    page.keyboard.type(f"{value:02d}")
                page.keyboard.press("Tab")
                _settle(page)
            for label, value in (("Hours of trip time", "3"), ("What the app paid", "38")):
                box = page.get_by_label(label, exact=False)
                box.fill(value)
                box.press("Enter")
                _settle(page)
            page.get_by_role("button", name="Check my pay").click()
            expect(page.get_by_text("You were paid $26.32 less than the minimum.")).to_be_visible(timeout=30_000)
            source = page.get_by_test_id("stExpander").filter(has_text="Source: nyc-delivery-minimum-pay").first
            source.scroll_into_view_if_needed()
            source.get_by_text("Source:", exact=False).click()
            quote = source.get_by_test_id("stText").first
            expect(quote).to_be_visible(timeout=30_000)
            assert NYC_QUOTE in quote.inner_text()
            # one column that fits the phone: nothing runs off the right edge
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(tmp_path / "pay.png"), full_page=True)
        finally:
            browser.close()

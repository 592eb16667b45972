"""Language, place, scope and out-of-scope detection; PII redaction."""
from __future__ import annotations

import pytest

from assistant.redact import redact
from assistant.understand import (brand_terms, detect_jurisdiction, detect_language, out_of_scope,
                                  retrieval_query, scope, uncovered_place)


@pytest.mark.parametrize("q,lang", [("can doordash deactivate me?", "en"),
                                    ("¿Me pueden desactivar sin decirme por qué?", "es"),
                                    ("cuanto pagan por milla en nueva york", "es")])
def test_language(q, lang):
    assert detect_language(q) == lang


@pytest.mark.parametrize("q,place", [("do I get paid for waiting time in NYC?", "US-NY-NYC"),
                                     ("driving in Brooklyn", "US-NY-NYC"), ("upstate new york", "US-NY"),
                                     ("Seattle deactivation", "US-WA-Seattle"), ("prop 22", "US-CA"),
                                     ("trabajo en Toronto", "CA-ON"), ("how do taxes work", None)])
def test_place(q, place):
    assert detect_jurisdiction(q) == place


def test_scope_is_hierarchical():
    assert scope("US-WA-Seattle") == ["US", "US-WA", "US-WA-Seattle"]
    assert scope("CA-ON") == ["CA", "CA-ON"] and scope(None) is None


@pytest.mark.parametrize("q,kind", [
    ("help me hide my cash tips from the IRS", "fraud"),
    ("how do I make a mileage log for miles i didnt actually drive", "fraud"),
    ("¿cómo puedo esconder mis propinas?", "fraud"),
    ("should I sue Uber or not?", "individual"),
    ("can i drive for lyft on my f-1 visa?", "immigration"),
    ("which delivery app pays the most?", "compare_apps"),
    ("how are quarterly taxes calculated?", None),
    ("what should I do if I get deactivated?", None),
])
def test_out_of_scope(q, kind):
    assert out_of_scope(q) == kind


@pytest.mark.parametrize("q,want", [("minimum pay law in texas?", ("Texas", True)),
                                    ("uber in sao paulo brazil", ("Sao Paulo", False)),
                                    ("What is the minimum wage on Mars?", ("Mars", False)),
                                    ("deactivated on Grubhub in Seattle", None),
                                    ("can I work on Uber in California", None)])
def test_uncovered_place(q, want):
    assert uncovered_place(q) == want


def test_brands_and_follow_ups():
    assert brand_terms("DoorDash and Instacart") == "food delivery app grocery delivery shopper app"
    hist = (("user", "Can a Seattle app deactivate me?"), ("assistant", "..."))
    assert retrieval_query("and can I appeal?", hist).startswith("Can a Seattle app")
    assert retrieval_query("What are the pay rules for food delivery workers in New York City today?",
                           hist).startswith("What are")


@pytest.mark.parametrize("text,kept,gone", [
    ("SSN 123-45-6789", "[SSN]", "123-45-6789"), ("A-number A123456789", "[A-NUMBER]", "A123456789"),
    ("mail me at jo@example.com", "[EMAIL]", "jo@example.com"),
    ("call (555) 123-4567", "[PHONE]", "555) 123"), ("card 4111 1111 1111 1111", "[CARD]", "4111"),
])
def test_redaction(text, kept, gone):
    out, changed = redact(text)
    assert changed and kept in out and gone not in out
    assert redact("I earn $22.13 an hour since 2024") == ("I earn $22.13 an hour since 2024", False)

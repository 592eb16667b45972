"""The LLM-free answerer: sentence selection, verbatim quotes, grouping, figures."""
from __future__ import annotations

from assistant.extractive import JOIN, extract, sentences
from assistant.types import Passage


def _p(n, text):
    return Passage(chunk_id=f"c{n}", text=text, score=1.0 - n / 10, doc_id=f"d{n}", version="v",
                   title=f"T{n}", doc_type="guide", jurisdiction="US-MN", language="en", section="S",
                   page=None, source_url="https://example.org", publisher="", effective_date="",
                   last_verified="")


def test_sentences_skip_headings_source_blocks_disclaimers_and_cross_references():
    text = ("*Jurisdiction: California (US-CA). Last verified: 2026-11-26. This is general information, "
            "not legal advice.*\n\n## Pay in Minnesota\n\nDrivers get a minimum\nrate per mile. "
            "See mn-rideshare-law for more.\n- **Rule:** Minn. Stat. 181C.03\n"
            "- **Official source:** https://example.org\n\nThe **rate** is $1.28 per mile.")
    got = sentences(text)
    assert got == ["Drivers get a minimum rate per mile.", "The rate is $1.28 per mile."]


def test_list_items_keep_their_lead_in_and_table_rows_their_header():
    text = ("It does **not** cover:\n\n- Rideshare drivers for companies like Uber and Lyft.\n"
            "- Marketplace apps.\n\n| Rate | 2024 | 2025 |\n|---|---|---|\n| Per mile | $0.74 | $0.77 |")
    got = sentences(text)
    assert f"It does not cover:{JOIN}Rideshare drivers for companies like Uber and Lyft." in got
    assert f"Rate | 2024 | 2025{JOIN}Per mile | $0.74 | $0.77" in got
    assert "Rideshare drivers for companies like Uber and Lyft." not in got  # never without lead-in


def test_sentences_are_not_split_at_legal_abbreviations():
    got = sentences("Under Minn. Stat. 181C.03 and Cal. Lab. Code 2775, the company must pay on time.")
    assert got == ["Under Minn. Stat. 181C.03 and Cal. Lab. Code 2775, the company must pay on time."]


def test_extract_quotes_verbatim_with_markers_and_prefers_figures(embedder):
    ps = [_p(1, "Minnesota passed a law for rideshare drivers in 2024. It covers Uber and Lyft drivers."),
          _p(2, "Drivers must be paid at least $1.28 per mile and $0.31 per minute while a rider is in "
                "the car.")]
    q = "how much per mile do minnesota rideshare drivers get paid?"
    ex = extract(q, embedder.embed([q], query=True)[0], ps, embedder, "en", 2, where="US-MN")
    assert ex.lines[0] == ("- “Drivers must be paid at least \\$1.28 per mile and \\$0.31 per minute "
                           "while a rider is in the car.” [1]")
    assert all(line.endswith(("[1]", "[2]")) for line in ex.lines)
    assert {c.doc_id for c in ex.citations} <= {"d1", "d2"}
    # A sentence that starts with a pronoun whose subject was cut off is not quoted first.
    assert not any("“It covers" in line for line in ex.lines[:1])


def test_extract_numbers_from_start_labels_other_places_and_drops_off_topic(embedder):
    ps = [_p(1, "Drivers must be paid at least $1.28 per mile in Minnesota."),
          _p(2, "The museum opens at nine and the gift shop sells postcards of old bridges.")]
    q = "minimum pay per mile for drivers"
    ex = extract(q, embedder.embed([q], query=True)[0], ps, embedder, "en", 4, start=3, floor=0.3,
                 where="US-WA")
    assert ex.lines == ("- **Minnesota:** “Drivers must be paid at least \\$1.28 per mile in Minnesota.” [3]",)
    assert [c.n for c in ex.citations] == [3]


def test_extract_in_spanish_labels_english_quotes_and_nothing_to_quote(embedder):
    q = "¿cuánto pagan?"
    qv = embedder.embed([q], query=True)[0]
    assert extract(q, qv, [_p(1, "## Only a heading")], embedder, "es", 3).citations == ()
    ex = extract(q, qv, [_p(1, "Drivers must be paid at least $1.28 per mile in Minnesota.")], embedder,
                 "es", 3, where="US-MN")
    assert ex.lines[0].endswith("[1] (en inglés)")


def test_after_a_direct_answer_no_background_quote_is_kept_just_for_being_the_best(embedder):
    """A Spanish Prop 22 deactivation answer was followed by quotes on the ABC test and a court
    case: after a direct answer, a quote must clear the floor; the best is not kept regardless."""
    ps = [_p(1, "The museum opens at nine and the gift shop sells postcards of old bridges.")]
    q = "can the app deactivate me without a reason"
    v = embedder.embed([q], query=True)[0]
    assert extract(q, v, ps, embedder, "en", 3, floor=0.45).citations          # the best is kept
    assert not extract(q, v, ps, embedder, "en", 3, floor=0.45, keep_best=False).citations


def test_a_guides_own_question_is_never_quoted(embedder):
    """A Spain answer quoted "Has Spain passed its law for it yet?" as evidence."""
    ps = [_p(1, "Has Spain passed its law for the directive yet? Check the Official State Gazette. "
                "Courts must read Spanish law in line with the directive as far as they can.")]
    q = "has spain passed the platform work directive law yet"
    ex = extract(q, embedder.embed([q], query=True)[0], ps, embedder, "en", 3, where="US-MN")
    assert ex.lines and not any("?" in line for line in ex.lines)

"""The LLM-free answerer: sentence selection, verbatim quotes, grouping, figures."""
from __future__ import annotations

from assistant.extractive import extract, sentences
from assistant.types import Passage


def _p(n, text):
    return Passage(chunk_id=f"c{n}", text=text, score=1.0 - n / 10, doc_id=f"d{n}", version="v",
                   title=f"T{n}", doc_type="guide", jurisdiction="US-MN", language="en", section="S",
                   page=None, source_url="https://example.org", publisher="", effective_date="",
                   last_verified="")


def test_sentences_skip_headings_source_blocks_fragments_and_cross_references():
    text = ("## Pay in Minnesota\n\nDrivers get a minimum\nrate per mile. See mn-rideshare-law for more.\n"
            "- lists the reasons,\n- **Rule:** Minn. Stat. 181C.03\n"
            "- **Official source:** https://example.org\n\nThe **rate** is $1.28 per mile.")
    got = sentences(text)
    assert got == ["Drivers get a minimum rate per mile.", "The rate is $1.28 per mile."]


def test_extract_quotes_verbatim_with_markers_and_prefers_figures(embedder):
    ps = [_p(1, "Minnesota passed a law for rideshare drivers in 2024. It covers Uber and Lyft drivers."),
          _p(2, "Drivers must be paid at least $1.28 per mile and $0.31 per minute while a rider is in "
                "the car.")]
    q = "how much per mile do minnesota rideshare drivers get paid?"
    ex = extract(q, embedder.embed([q], query=True)[0], ps, embedder, "en", 2)
    assert "$1.28 per mile" in ex.text
    lines = [l for l in ex.text.splitlines() if l.startswith("- “")]
    assert len(lines) == 2 and all(l.endswith(("[1]", "[2]")) for l in lines)
    assert {c.doc_id for c in ex.citations} <= {"d1", "d2"}
    assert ex.text.startswith("Here is what the sources say")


def test_extract_in_spanish_and_nothing_to_quote(embedder):
    q = "¿cuánto pagan?"
    qv = embedder.embed([q], query=True)[0]
    assert extract(q, qv, [_p(1, "## Only a heading")], embedder, "es", 3).citations == ()
    ex = extract(q, qv, [_p(1, "Drivers must be paid at least $1.28 per mile in Minnesota.")], embedder,
                 "es", 3)
    assert ex.text.startswith("Esto es lo que dicen las fuentes")

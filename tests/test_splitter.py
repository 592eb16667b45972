"""Splitter: structure (Markdown headings, statute sections, pages), exact slices, token bounds,
stable ids, and bounded time on hostile text."""
from __future__ import annotations

import time

import pytest

from ingest.splitter import MAX_LABEL_CHARS, _MD_HEADING, _STATUTE, embed_text, sections, split


def words(text: str) -> int:
    return len(text.split())


def quarter_chars(text: str) -> int:
    return len(text) // 4 + 1


def run(pages, *, size=400, overlap=40, max_tokens=200, count=words, statutes=True, title="Guide"):
    chunks = split("doc", "v1", title, pages, chunk_size=size, overlap=overlap, max_tokens=max_tokens,
                   count_tokens=count, statutes=statutes)
    check_invariants(chunks, pages, title, max_tokens, count)
    return chunks


def check_invariants(chunks, pages, title, max_tokens, count):
    full = "\n\n".join(p["text"] for p in pages)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    for c in chunks:
        assert c.text and c.text == c.text.strip()
        assert full[c.char_start:c.char_end] == c.text  # verbatim, so quotes can be verified
        assert c.tokens == count(embed_text(title, c.section, c.text)) <= max_tokens
        whole_lines = ((c.char_start == 0 or full[c.char_start - 1] == "\n")
                       and (c.char_end == len(full) or full[c.char_end] == "\n"))
        lines = [ln.strip() for ln in c.text.splitlines() if ln.strip()]
        # no chunk is only (whole, heading-sized) Markdown heading lines: they live in the path
        assert not (whole_lines and all(len(ln) <= 300 and _MD_HEADING.fullmatch(ln) for ln in lines))


def para(n: int, topic: str) -> str:
    return " ".join(f"{topic} sentence {i} explains what workers are owed." for i in range(n))


MD = f"""# Driver Guide

{para(3, "Intro")}

## Pay ##

{para(4, "Pay")}

### Tips

{para(2, "Tips")}

## Deactivation

Section 7 of the agreement says {para(2, "Appeal")}

## Learn C#

{para(1, "Code")}
"""


def test_markdown_heading_paths():
    chunks = run([{"text": MD, "page": None}], statutes=False)
    by_section = {}
    for c in chunks:
        by_section.setdefault(c.section, []).append(c.text)
    assert list(by_section) == ["Driver Guide", "Driver Guide > Pay", "Driver Guide > Pay > Tips",
                                "Driver Guide > Deactivation", "Driver Guide > Learn C#"]
    assert all("Tips sentence" in t for t in by_section["Driver Guide > Pay > Tips"])
    # "Section 7 of ..." in Markdown prose is not a statute heading
    assert by_section["Driver Guide > Deactivation"][0].startswith("## Deactivation\n\nSection 7 of")
    assert all(c.page is None for c in chunks)


STATUTE = """ARTICLE 1. Definitions
§ 2775. (a) For purposes of this code, a person providing labor for remuneration is an employee.
(b) The hiring entity bears the burden of proof.
Sec. 7. Employers shall keep records of hours worked for three years.
SECTION 3. This act takes effect immediately.
§ 2776. Exemptions for certain professional services, described below in detail.
"""


def test_statute_headings_cut_sections_for_non_markdown():
    full, secs = sections([{"text": STATUTE, "page": 4}])
    assert [s.path for s in secs] == [
        "ARTICLE 1. Definitions",
        "§ 2775. (a) For purposes of this code, a person providing labor for remuneration is an employee.",
        "Sec. 7. Employers shall keep records of hours worked for three years.",
        "SECTION 3. This act takes effect immediately.",
        "§ 2776. Exemptions for certain professional services, described below in detail.",
    ]
    assert all(s.page == 4 for s in secs)
    chunks = run([{"text": STATUTE, "page": 4}])
    text = " ".join(c.text for c in chunks)
    for line in STATUTE.splitlines():  # every statute line is still in some chunk: nothing lost
        assert line in text
    # the bare "ARTICLE 1. Definitions" line is not a chunk of its own: it leads the next section
    assert chunks[0].text.startswith("ARTICLE 1. Definitions\n§ 2775. (a)")
    assert chunks[0].section.startswith("§ 2775.")
    assert [c.page for c in chunks] == [4] * len(chunks)
    # the same lines in a Markdown file are not headings
    md = run([{"text": STATUTE, "page": None}], statutes=False)
    assert {c.section for c in md} == {""}


def test_statute_patterns():
    for line in ["§ 2775.", "§§ 12-3(b) Scope", "Sec. 7", "SECTION 3.", "Article 12 Remedies",
                 "  Section 4.1 Definitions"]:
        assert _STATUTE.fullmatch(line), line
    for line in ["Sections apply", "The § 2775 test", "Sec. seven"]:
        assert not _STATUTE.fullmatch(line), line


def test_no_bare_heading_chunks_when_body_is_large():
    big = para(60, "Body")
    pages = [{"text": f"# Title\n\n## Part\n\n{big}\n\n§ 12. Scope\n\n{big}", "page": 1}]
    chunks = run(pages, size=300, overlap=0)
    assert all(c.text not in ("# Title", "## Part", "§ 12. Scope") for c in chunks)
    assert any(c.text.startswith("§ 12. Scope\n\nBody sentence 0") for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert joined.count("Body sentence 59 explains") == 2  # both bodies complete


def test_heading_at_page_end_carries_to_next_page():
    pages = [{"text": para(3, "First") + "\n\n## Overtime", "page": 1},
             {"text": para(3, "Second"), "page": 2}]
    chunks = run(pages)
    assert [c.page for c in chunks] == [1, 2]
    assert chunks[1].section == "Overtime"
    assert "## Overtime" not in " ".join(c.text for c in chunks)  # bare heading dropped, in path


def test_pdf_page_numbers_kept():
    pages = [{"text": f"Page {n}: " + para(8, f"P{n}"), "page": n} for n in (1, 2, 3)]
    chunks = run(pages, size=200, overlap=20)
    assert {c.page for c in chunks} == {1, 2, 3}
    for c in chunks:
        assert f"P{c.page} sentence" in c.text
        assert not any(f"P{n} sentence" in c.text for n in (1, 2, 3) if n != c.page)


def test_token_bound_forces_smaller_chunks():
    text = para(200, "Dense")
    chunks = run([{"text": text, "page": None}], size=4000, overlap=200, max_tokens=60)
    assert len(chunks) > 10
    assert max(c.tokens for c in chunks) <= 60


def test_real_embedder_token_counts():
    from assistant.embeddings import UseEmbedder

    emb = UseEmbedder(threads=2)
    text = "\n\n".join([
        "## Salario mínimo\n\n" + "Los repartidores tienen derecho a un salario mínimo por hora. " * 30,
        "## 最低工资\n\n" + "外卖骑手有权获得最低工资和小费。" * 80,
        "## Emoji\n\n" + "🚗💸📱 " * 200,
        "## Tagalog\n\n" + "Ang mga manggagawa ay may karapatan sa minimum na sahod. " * 30,
    ])
    pages = [{"text": text, "page": None}]
    chunks = split("doc", "v1", "Guía / 指南", pages, chunk_size=1000, overlap=120,
                   max_tokens=emb.max_tokens, count_tokens=emb.count_tokens, statutes=False)
    check_invariants(chunks, pages, "Guía / 指南", emb.max_tokens, emb.count_tokens)
    assert {c.section for c in chunks} == {"Salario mínimo", "最低工资", "Emoji", "Tagalog"}


def test_ids_are_deterministic():
    pages = [{"text": MD, "page": None}]
    a = run(pages, statutes=False)
    b = run(pages, statutes=False)
    assert a == b
    assert [c.id for c in a] == [f"doc:v1:{i}" for i in range(len(a))]
    other = split("doc", "v2", "Guide", pages, chunk_size=400, overlap=40, max_tokens=200,
                  count_tokens=words, statutes=False)
    assert [c.id.rsplit(":", 1)[1] for c in other] == [c.id.rsplit(":", 1)[1] for c in a]
    assert not {c.id for c in other} & {c.id for c in a}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("label", ["no_spaces", "words", "md_heading_line", "statute_line"])
def test_one_megabyte_single_line_is_bounded(label):
    body = {"no_spaces": "x" * 1_000_000,
            "words": "word " * 200_000,
            "md_heading_line": "# " + "word " * 200_000,
            "statute_line": "§ 1" + "1" * 1_000_000}[label]
    pages = [{"text": body, "page": None}]
    t0 = time.monotonic()
    chunks = run(pages, size=1000, overlap=120, max_tokens=300, count=quarter_chars)
    assert time.monotonic() - t0 < 30
    assert sum(len(c.text) for c in chunks) >= len(body.strip())  # everything is covered
    assert chunks[0].char_start == 0 and chunks[-1].char_end == len(body.rstrip())
    assert all(len(c.section) <= MAX_LABEL_CHARS for c in chunks)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("label", ["heading_spaces", "hash_spaces", "nested_lists", "many_headings",
                                   "dense_tokens"])
def test_pathological_inputs_stay_bounded(label):
    text = {
        # the old heading regex backtracked quadratically on these
        "heading_spaces": "# a" + " " * 200_000 + "b\n\nbody",
        "hash_spaces": "## x" + " #" * 100_000 + "y",
        "nested_lists": "\n".join("  " * i + "- item " + str(i) for i in range(1000)),
        "many_headings": "\n".join(f"{'#' * (i % 6 + 1)} H{i}\nline {i}" for i in range(5000)),
        "dense_tokens": "🚗" * 5000,
    }[label]
    pages = [{"text": text, "page": None}]
    count = (lambda s: len(s.encode("utf-8"))) if label == "dense_tokens" else quarter_chars
    t0 = time.monotonic()
    chunks = run(pages, size=1000, overlap=120, max_tokens=200, count=count)
    assert time.monotonic() - t0 < 30
    assert chunks
    if label == "many_headings":
        assert all(c.section.split(" > ")[-1].startswith("H") for c in chunks)
        assert " ".join(c.text for c in chunks).count("line ") == 5000


def test_long_heading_path_is_shortened_to_fit():
    levels = "\n\n".join(f"{'#' * n} " + f"Heading level {n} " * 30 for n in range(1, 7))
    pages = [{"text": levels + "\n\n" + para(5, "Deep"), "page": None}]
    chunks = run(pages, size=1000, overlap=0, max_tokens=120)
    deep = [c for c in chunks if "Deep sentence" in c.text]
    assert deep and all(words(embed_text("Guide", c.section, "")) <= 60 for c in deep)
    assert all("Heading level 6" in c.section for c in deep)  # the innermost heading survives


def test_empty_and_whitespace_pages():
    assert run([{"text": "", "page": 1}, {"text": "  \n\n ", "page": 2}]) == []
    chunks = run([{"text": "", "page": 1}, {"text": para(2, "Only"), "page": 2}])
    assert [c.page for c in chunks] == [2]

"""Table-driven tests for every eval metric, with the edge cases."""
from __future__ import annotations

import math

import pytest

from evals import metrics as M


@pytest.mark.parametrize("ranked,expected,k,want", [
    (["a", "b", "c"], ["a"], 1, 1.0),
    (["b", "a"], ["a"], 1, 0.0),
    (["b", "b", "b", "a"], ["a"], 2, 1.0),      # duplicate chunks of one doc count once
    ([], ["a"], 5, 0.0),                         # empty retrieval
    (["x", "y"], [], 5, 0.0),                    # nothing expected
    (["c", "b"], ["a", "b"], 2, 1.0),            # several expected docs: any one is a hit
])
def test_hit_at(ranked, expected, k, want):
    assert M.hit_at(ranked, expected, k) == want


@pytest.mark.parametrize("ranked,expected,want", [
    (["a"], ["a"], 1.0), (["b", "a"], ["a"], 0.5), (["b", "b", "a"], ["a"], 0.5),
    (["b", "c"], ["a"], 0.0), ([], ["a"], 0.0), (["c", "b", "a"], ["a", "b"], 0.5),
])
def test_reciprocal_rank(ranked, expected, want):
    assert M.reciprocal_rank(ranked, expected) == pytest.approx(want)


@pytest.mark.parametrize("ranked,expected,want", [
    (["a", "b"], ["a", "b"], 1.0),
    (["b", "a"], ["a"], 1 / math.log2(3)),
    (["x", "a", "b"], ["a", "b"], (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))),
    ([], ["a"], 0.0), (["a"], [], 0.0),
])
def test_ndcg(ranked, expected, want):
    assert M.ndcg_at(ranked, expected, 10) == pytest.approx(want)


@pytest.mark.parametrize("text,numbers,want", [
    ("no markers here", [1], None),              # no citations at all
    ("A [1]. B [2].", [1, 2], 1.0),
    ("A [1]. B [3].", [1, 2], 0.5),              # [3] resolves to nothing shown
    ("A [1][1]. B [1].", [1], 1.0),              # duplicate markers
    ("A [1].", [], 0.0),
])
def test_marker_validity(text, numbers, want):
    assert M.marker_validity(text, numbers) == want


@pytest.mark.parametrize("cited,expected,p,r", [
    ([], ["a"], None, 0.0),
    (["a", "a"], ["a"], 1.0, 1.0),
    (["a", "b"], ["a"], 0.5, 1.0),
    (["b"], ["a", "c"], 0.0, 0.0),
    (["c", "x"], ["a", "c"], 0.5, 1.0),
    (["a"], [], 0.0, None),
])
def test_citation_precision_recall(cited, expected, p, r):
    assert M.citation_precision(cited, expected) == p
    assert M.citation_recall(cited, expected) == r


@pytest.mark.parametrize("text,groups,want", [
    ("The rate is $22.13 an hour.", [["22.13"]], 1.0),
    ("The rate is $22.13", [["22.13"], ["April 1", "1 de abril"]], 0.5),
    ("desde el 1 de abril", [["April 1", "1 de abril"]], 1.0),     # alternatives
    ("It does **not** count", [["does not count"]], 1.0),          # Markdown emphasis ignored
    ("Tips \\(extra\\)", [["tips (extra)"]], 1.0),                # escaped Markdown ignored
    ("anything", [], None),
])
def test_include_coverage(text, groups, want):
    assert M.include_coverage(text, groups) == want


@pytest.mark.parametrize("answerable,refused,want", [
    (False, True, "correct_refusal"), (False, False, "missed_refusal"),
    (True, True, "false_refusal"), (True, False, "answered"),
])
def test_refusal_outcome(answerable, refused, want):
    assert M.refusal_outcome(answerable, refused) == want


def test_own_words_drop_quotes_and_markers():
    assert M.own_words('Esto dicen: “Apps must pay you.” [1]').strip() == "Esto dicen:"


@pytest.mark.parametrize("values,p,want", [([], 50, 0.0), ([5.0], 95, 5.0), ([1, 2, 3, 4], 50, 2.5),
                                           ([1, 2, 3, 4, 5], 100, 5.0)])
def test_percentile(values, p, want):
    assert M.percentile(values, p) == pytest.approx(want)


def test_mean_skips_none():
    assert M.mean([None, 1.0, 0.0]) == 0.5 and M.mean([None]) is None


def test_wrong_place_accepts_the_place_named_in_the_answers_language():
    """"En España, …" names Spain: the metric looked only for the English name."""
    names = {"ES": ("Spain", "España"), "US-CA": ("California", "California")}
    assert not M.wrong_place([("En España, la Ley Rider presume… [1]", "ES")], ["EU"], names)
    assert M.wrong_place([("La ley presume que eres asalariado. [1]", "ES")], ["EU"], names)
    assert not M.wrong_place([("In Spain, the Rider Law… [1]", "ES")], ["EU"], {"ES": "Spain"})
    assert not M.wrong_place([("Under federal law… [1]", "US")], None, names)

"""CI gate for the evals on the starter corpus (tests/test_evals.py and `gigrights eval`).

Floors per split, a little below the measured values (scores move in the third decimal between
machines). They are regression floors, not targets: the targets of the answers and understanding
issues are in TARGETS and reported next to the measurement. Raise floors as the product improves;
never lower one without saying why in the closing note of that change.

The dev split (evals/datasets/*.jsonl) is what knobs are tuned on; the test split
(evals/datasets/test/) is held out, and no knob, threshold, regex or example list is tuned on it.
"""

FLOORS = {
    "dev": {
        "hit@5": (">=", 0.90),
        "mrr": (">=", 0.80),
        "citation_verbatim": (">=", 1.0),     # every quote verbatim in the source its [n] points to
        "figure_check": (">=", 1.0),          # every figure of a rendered fact is in its quote
        "must_include": (">=", 0.42),
        "answer_first": (">=", 0.0),
        "off_topic": ("<=", 1.0),
        "wrong_place": ("<=", 1.0),
        "correct_refusal": (">=", 0.0),
        "false_refusal": ("<=", 1.0),
        "language_match": (">=", 0.90),
    },
    "test": {
        "citation_verbatim": (">=", 1.0),
        "figure_check": (">=", 1.0),
        "must_include": (">=", 0.0),
        "answer_first": (">=", 0.0),
        "off_topic": ("<=", 1.0),
        "wrong_place": ("<=", 1.0),
        "false_refusal": ("<=", 1.0),
    },
}

# The goals on the test split (issues "Answers that answer" and "Understand how workers ask").
TARGETS = {"answer_first": 0.80, "must_include": 0.85, "off_topic": 0.10, "wrong_place": 0.0,
           "citation_verbatim": 1.0, "figure_check": 1.0, "correct_refusal": 0.90, "false_refusal": 0.03}

# Kept for readers of older reports and tests that name them.
CITATION_VALIDITY_MIN = 1.0

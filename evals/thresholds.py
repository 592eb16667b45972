"""CI gate for the evals on the starter corpus (tests/test_evals.py and `gigrights eval`).

Floors per split, a little below the measured values (scores move in the third decimal between
machines). They are regression floors, not targets: the targets of the answers and understanding
issues are in TARGETS and reported next to the measurement. Raise floors as the product improves;
never lower one without saying why in the closing note of that change.

The dev split (evals/datasets/*.jsonl) is what knobs are tuned on; the test split
(evals/datasets/test/) is held out, and no knob, threshold, regex or example list is tuned on it.
"""

FLOORS = {
    # measured 2026-12-01 (evals/reports/20261201-*), see the closing note of the answers issue
    "dev": {
        "hit@5": (">=", 0.96),                # measured 0.991
        "mrr": (">=", 0.90),                  # 0.932
        "citation_verbatim": (">=", 1.0),     # every quote verbatim in the source its [n] points to
        "figure_check": (">=", 1.0),          # every figure of a rendered fact is in its quote
        "must_include": (">=", 0.69),         # 0.729 (0.441 before the facts layer)
        "answer_first": (">=", 0.53),         # 0.569
        "off_topic": ("<=", 0.23),            # 0.196 (0.281 before)
        "wrong_place": ("<=", 0.03),          # 0.009 (0.138 before)
        "correct_refusal": (">=", 0.75),      # 0.789 (0.947 before, from regexes fitted to these cases)
        "false_refusal": ("<=", 0.03),        # 0.009
        "language_match": (">=", 0.95),       # 0.992, by an independent identifier (py3langid)
        "quote_language": (">=", 0.95),       # 1.000
    },
    "test": {
        "hit@5": (">=", 0.87),                # 0.909 (0.848 before)
        "citation_verbatim": (">=", 1.0),
        "figure_check": (">=", 1.0),
        "must_include": (">=", 0.63),         # 0.668 (0.393 before)
        "answer_first": (">=", 0.45),         # 0.495 (0.254 before)
        "off_topic": ("<=", 0.40),            # 0.367 (0.408 before)
        "wrong_place": ("<=", 0.04),          # 0.018 (0.329 before)
        "correct_refusal": (">=", 0.44),      # 0.487 (0.333 before)
        "false_refusal": ("<=", 0.06),        # 0.035 (0.074 before)
        "language_match": (">=", 0.94),       # 0.978
    },
    "understanding": {                        # evals/understanding/test_*.jsonl (290 questions)
        "place_accuracy": (">=", 0.86),       # 0.897
        "us_place_for_non_us": ("<=", 1),     # 1
        "work_accuracy": (">=", 0.88),        # 0.914
        "topic_accuracy": (">=", 0.64),       # 0.686
        "intent_accuracy": (">=", 0.65),      # 0.693
        "fraud_recall": (">=", 0.60),         # 0.655
        "fraud_false_positive": ("<=", 0.02), # 0.004
    },
}

# The goals on the test split (issues "Answers that answer" and "Understand how workers ask").
TARGETS = {"answer_first": 0.80, "must_include": 0.85, "off_topic": 0.10, "wrong_place": 0.0,
           "citation_verbatim": 1.0, "figure_check": 1.0, "correct_refusal": 0.90, "false_refusal": 0.03,
           "place_accuracy": 0.97, "work_accuracy": 0.90, "topic_accuracy": 0.85, "fraud_recall": 0.95,
           "fraud_false_positive": 0.02}

# Kept for readers of older reports and tests that name them.
CITATION_VALIDITY_MIN = 1.0

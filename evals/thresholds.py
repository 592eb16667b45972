"""CI gate for the evals on the starter corpus (tests/test_evals.py and `gigrights eval`).

Floors per split, a little below the measured values (scores move in the third decimal between
machines). They are regression floors, not targets: the targets of the answers and understanding
issues are in TARGETS and reported next to the measurement. Raise floors as the product improves;
never lower one without saying why in the closing note of that change.

The dev split (evals/datasets/*.jsonl) is what knobs are tuned on; the test split
(evals/datasets/test/) is held out, and no knob, threshold, regex or example list is tuned on it.
"""

FLOORS = {
    # measured 2026-12-02 (evals/reports/20261202-*; 2026-12-01 values in brackets), see the
    # closing notes of the answers and understanding issues. Since evals/reports/20261202-forum-dev
    # the dev split holds 245 cases: 115 forum-style questions (forum_dev_*.jsonl, most with no
    # place picked) joined the 130; "now" below is that report.
    "dev": {
        "hit@5": (">=", 0.96),                # now 0.971 (0.991 on the first 130)
        "mrr": (">=", 0.89),                  # now 0.902 (0.932 on the first 130)
        "citation_verbatim": (">=", 1.0),     # every quote verbatim in the source its [n] points to
        "figure_check": (">=", 1.0),          # every figure of a rendered fact is in its quote
        # Since session 5 of 2026-12-02 the dev split holds 334 cases: 70 fresh forum-style cases
        # (fresh_dev.jsonl) joined. Now: must 0.836, answer-first 0.715, off-topic 0.109, correct
        # refusals 0.902, false 0.007 (evals/reports/20261202-session5).
        "must_include": (">=", 0.80),         # now 0.836 (334 cases); was 0.811; 0.808 on the first 130 [0.747] (0.441 before the facts layer)
        "answer_first": (">=", 0.68),         # now 0.715 (334 cases); was 0.650; 0.600 [0.560]
        "off_topic": ("<=", 0.15),            # now 0.126 (0.152 after the fact weights were refitted, 0.134 before); 0.140 [0.186] (0.281 before)
        "wrong_place": ("<=", 0.03),          # now 0.000; 0.009 (0.138 before)
        "correct_refusal": (">=", 0.86),      # now 0.902 (334 cases); was 0.850; 0.842 [0.789] (0.947 before, from regexes fitted to these cases)
        "false_refusal": ("<=", 0.03),        # now 0.005; 0.000 [0.009]
        "language_match": (">=", 0.95),       # now 1.000, by an independent identifier (py3langid)
        "quote_language": (">=", 0.95),       # 1.000
    },
    "test": {
        "hit@5": (">=", 0.89),                # now 0.917; 0.909 (0.848 before)
        "citation_verbatim": (">=", 1.0),
        "figure_check": (">=", 1.0),
        "must_include": (">=", 0.69),         # now 0.716; 0.701 [0.682] (0.393 before)
        "answer_first": (">=", 0.55),         # now 0.568; 0.590 [0.491] (0.254 before)
        # now 0.244; 0.229 [0.293] (0.408 before). The fact weights refitted on the 245-case dev
        # split lead with more records (dev must_include +0.018, answer_first +0.015) and quote more
        # of their neighbours, which dev also showed (off_topic 0.127 -> 0.152); on test off_topic
        # rose 0.229 -> 0.265, then fell to 0.244 when quotes after a direct answer stopped coming
        # from the second-best passage. Kept at 0.27.
        "off_topic": ("<=", 0.27),
        "wrong_place": ("<=", 0.03),          # now 0.005; 0.014 [0.023] (0.329 before)
        # now 0.718 (28 of 39); 0.769 [0.487] (0.333 before). Lowered on 2026-12-02: the refusal
        # threshold went from 0.35 to 0.25 on dev evidence (long, typo-ridden Spanish and UK
        # questions were refused with the right document ranked first; dev false refusals 0.064 ->
        # 0.021 on the forum cases, no dev correct refusal lost). On test it traded 2 correct
        # refusals for 2 fewer false ones (false_refusal 0.057 -> 0.048).
        "correct_refusal": (">=", 0.70),
        # 0.057 [0.035]: since 2026-12-02 "set by the company, I don't have its terms" counts as a
        # refusal. Of the 13 false refusals: 5 such, 4 places without documents, 3 strategy, 1 fraud.
        "false_refusal": ("<=", 0.05),        # now 0.022 (session 5); was 0.043; 0.057 [0.035] (0.074 before)
        "language_match": (">=", 0.94),       # 0.978
    },
    "understanding": {                        # evals/understanding/test_*.jsonl (290 questions)
        "place_accuracy": (">=", 0.90),       # 0.928 since lowercase codes and clue words (0.914, 0.907 [0.897] before)
        "us_place_for_non_us": ("<=", 1),     # 1
        # Since 2026-12-02 (session 5) a prediction mixes the vector model with a character n-gram
        # model (picked by cross-validation on the examples): work 0.914 -> 0.928, topic 0.686 ->
        # 0.748, intent 0.679 -> 0.779 on these held-out questions.
        "work_accuracy": (">=", 0.90),        # 0.928 (0.910 [0.914] before)
        "topic_accuracy": (">=", 0.72),       # 0.748 (0.686 before)
        "intent_accuracy": (">=", 0.75),      # 0.779 (0.679 [0.693] before)
        "fraud_recall": (">=", 0.70),         # 0.759 [0.655]
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

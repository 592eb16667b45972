"""CI gate for the evals on the starter corpus (tests/test_eval_gate.py and `gigrights eval`).

Set from the measured runs on 2026-11-26 (evals/reports/20261126-*), a little below the
measured value because scores can move in the third decimal between machines. Raise them as the
product improves; never lower one without saying why in the closing note of that change.
"""

HIT_AT_5_MIN = 0.95             # measured 0.964 with BM25 candidates (0.946 dense only; baseline 0.829)
MRR_MIN = 0.86                  # measured 0.872 with BM25 candidates (0.857 dense only; baseline 0.641)
CITATION_VALIDITY_MIN = 1.0     # every [n] must resolve to a shown passage
CITATION_PRECISION_MIN = 0.63   # measured 0.654 (baseline 0.455); was 0.62 before figure-aware quotes
MUST_INCLUDE_MIN = 0.42         # measured 0.441 (baseline 0.500: it pastes two 1000-char windows);
                                # raised from 0.37 (figure-aware quotes) and 0.41 (BM25 candidates)
CORRECT_REFUSAL_MIN = 0.90      # measured 0.947 (18 of 19)
FALSE_REFUSAL_MAX = 0.03        # measured 0.018 (2 of 111)
LANGUAGE_MATCH_MIN = 0.98       # measured 1.000

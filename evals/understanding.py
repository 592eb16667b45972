"""Score the understanding of questions (place, kind of work, topic, intent) on the held-out
labelled set evals/understanding/test_*.jsonl, with confusion tables. Same code as the product:
``choose_place`` and the trained intent model over the configured embedder."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from assistant.understanding import canonical, choose_place, in_us, scope, work_from_words
from assistant.understanding.intent import IntentModel, load_examples

ROOT = Path(__file__).resolve().parents[1]
TEST = ROOT / "evals" / "understanding"


def load_test(paths: Sequence[Path] | None = None) -> list[dict]:
    return load_examples(paths or sorted(TEST.glob("test_*.jsonl")))


def predict(rows: Sequence[dict], embedder, model: IntentModel, work_min: float = 0.55,
            places: Sequence[str] = ()) -> list[dict]:
    vecs = embedder.embed([r["q"] for r in rows], query=True)
    out = []
    for r, v in zip(rows, vecs):
        place, _how, _named, _w = choose_place(r["q"], (), None, places)
        p = model.predict(v, r["q"])
        work = work_from_words(r["q"])
        if work is None and p["work"].label != "none" and p["work"].prob >= work_min:
            work = p["work"].label
        topic = None if p["topic"].label == "none" else p["topic"].label
        out.append({"place": place, "work": work, "topic": topic, "intent": p["intent"].label,
                    "fraud_p": model.fraud_prob(r["q"], v)})
    return out


def effective(code: str | None, places: Sequence[str]) -> str | None:
    """The place whose documents answer: the most specific level of ``code`` that has documents,
    else its country. Chicago and Illinois are the same answer while only Illinois has documents."""
    if not code:
        return None
    levels = scope(canonical(code)) or []
    if levels == ["EU"]:
        return "EU"
    have = [lv for lv in levels if lv in set(places) and lv != "EU"]
    country = [lv for lv in levels if lv != "EU"][0]
    return have[-1] if have else country


def score(rows: Sequence[dict], preds: Sequence[dict], fraud_min: float = 0.6,
          places: Sequence[str] = ()) -> dict[str, Any]:
    n = len(rows)

    def same(key: str, r: dict, p: dict) -> bool:
        if key == "place":
            return effective(p[key], places) == effective(r.get(key), places)
        return p[key] == r.get(key)

    def acc(key: str) -> float:
        return sum(same(key, r, p) for r, p in zip(rows, preds)) / n

    fraud = [(r, p) for r, p in zip(rows, preds) if r.get("intent") == "fraud"]
    other = [(r, p) for r, p in zip(rows, preds) if r.get("intent") != "fraud"]
    us_for_non_us = sum(1 for r, p in zip(rows, preds) if r.get("place") and not in_us(r["place"])
                        and p["place"] and in_us(p["place"]))
    conf: dict[str, dict[str, Counter]] = {}
    for key in ("work", "topic", "intent"):
        conf[key] = {}
        for r, p in zip(rows, preds):
            conf[key].setdefault(str(r.get(key)), Counter())[str(p[key])] += 1
    return {
        "cases": n, "place_accuracy": acc("place"), "us_place_for_non_us": us_for_non_us,
        "work_accuracy": acc("work"), "topic_accuracy": acc("topic"), "intent_accuracy": acc("intent"),
        "fraud_recall": sum(p["fraud_p"] >= fraud_min for _, p in fraud) / max(1, len(fraud)),
        "fraud_false_positive": sum(p["fraud_p"] >= fraud_min for _, p in other) / max(1, len(other)),
        "confusion": {k: {a: dict(c) for a, c in v.items()} for k, v in conf.items()},
        "place_errors": [{"q": r["q"], "want": r.get("place"), "got": p["place"]}
                         for r, p in zip(rows, preds) if not same("place", r, p)],
    }


def main() -> int:  # pragma: no cover - a maintainer's command
    from assistant.config import load_settings
    from assistant.embeddings import build_embedder
    from assistant.understanding.intent import load_or_train

    import yaml

    settings = load_settings()
    emb = build_embedder(settings)
    model = load_or_train(emb)
    rows = load_test()
    man = yaml.safe_load((ROOT / "corpus" / "manifest.yaml").read_text(encoding="utf-8"))
    places = sorted({d["jurisdiction"] for d in man["documents"]})
    s = score(rows, predict(rows, emb, model, settings.work_min, places), settings.fraud_min, places)
    print(json.dumps({k: v for k, v in s.items() if k not in ("confusion", "place_errors")}, indent=2))
    print(f"place errors: {len(s['place_errors'])} (listed in the report; not to tune on)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

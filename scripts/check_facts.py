"""Check corpus/facts against corpus/docs: quotes verbatim, figures in quotes, no figure stated two
ways for the same place and dates, figure coverage.

    python scripts/check_facts.py            # problems, then the figures no record covers
    python scripts/check_facts.py --doc ID   # only that document's uncovered figures
Exit code 1 when a record's evidence does not hold.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.facts import (check_evidence, conflicting_figures, load_facts, markdown_sections,  # noqa: E402
                             numbers, plain)

# A figure a worker acts on: money, a percentage, or a count of days/weeks/months (a deadline).
FIGURE = re.compile(r"[$£€]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?%|"
                    r"\b\d+\s+(?:calendar\s+|business\s+|working\s+)?(?:days?|weeks?|months?|d[ií]as|semanas|meses)\b",
                    re.I)
SOURCE_LINE = re.compile(r"^\s*-\s*\*\*(Rule|Official source|In effect since|Last verified)", re.I)


def corpus_docs(corpus: Path = ROOT / "corpus") -> dict[str, tuple[str, str]]:
    """doc_id -> (language, Markdown text) for every document in the manifest."""
    man = yaml.safe_load((corpus / "manifest.yaml").read_text(encoding="utf-8"))
    return {d["doc_id"]: (d.get("language", "en"), (corpus / d["path"]).read_text(encoding="utf-8"))
            for d in man["documents"]}


def uncovered(facts, docs, only_lang: str | None = "en") -> list[str]:
    """Figures in document sections that no record's evidence quote from that document contains."""
    quoted: dict[str, set] = {}
    for f in facts:
        for v in f.values:
            for e in v.evidence:
                quoted.setdefault(e.doc_id, set()).update(numbers(" ".join(e.quote)))
    out = []
    for doc_id, (lang, md) in sorted(docs.items()):
        if only_lang and lang != only_lang:
            continue
        for section, body in markdown_sections(md).items():
            lines = [ln for ln in body.splitlines() if not SOURCE_LINE.match(ln)]
            for m in FIGURE.finditer(plain("\n".join(lines))):
                if not numbers(m.group(0)) <= quoted.get(doc_id, set()):
                    out.append(f"{doc_id} § {section}: {m.group(0)}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc")
    ap.add_argument("--lang", default="en")
    args = ap.parse_args()
    facts = load_facts(ROOT / "corpus" / "facts")
    docs = corpus_docs()
    problems = check_evidence(facts, {k: v[1] for k, v in docs.items()}) + conflicting_figures(facts)
    for p in problems:
        print("PROBLEM", p)
    gaps = [g for g in uncovered(facts, docs, args.lang) if not args.doc or g.startswith(args.doc + " ")]
    for g in gaps:
        print("UNCOVERED", g)
    print(f"{len(facts)} facts, {len(problems)} problems, {len(gaps)} uncovered figures")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

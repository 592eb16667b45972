"""`gigrights` command line: ingest, ask, docs, eval."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path

from assistant.config import load_settings
from assistant.citations import unescape_markdown
from assistant.errors import AssistantError
from assistant.types import DOC_TYPES, DocMeta
from assistant.understand import JURISDICTIONS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gigrights", description="Gig Rights Assistant")
    sub = p.add_subparsers(dest="cmd", required=True)

    ing = sub.add_parser("ingest", help="add or update documents in the index")
    ing.add_argument("paths", nargs="*", type=Path, help="PDF, HTML, Markdown, text or DOCX files")
    ing.add_argument("--manifest", type=Path, help="corpus manifest (default: ingest all its documents)")
    ing.add_argument("--fetch", action="store_true", help="also download and index the manifest's "
                     "official sources (needs internet)")
    ing.add_argument("--prune", action="store_true", help="retire documents no longer in the manifest")
    ing.add_argument("--doc-id")
    ing.add_argument("--title")
    ing.add_argument("--doc-type", choices=DOC_TYPES, default="guide")
    ing.add_argument("--jurisdiction", choices=JURISDICTIONS, default="US")
    ing.add_argument("--language", default="en")
    ing.add_argument("--source-url", default="")
    ing.add_argument("--publisher", default="")
    ing.add_argument("--effective-date", default="")
    ing.add_argument("--status", choices=("draft", "approved"), default="approved")
    ing.add_argument("--json", action="store_true")
    ing.add_argument("--quiet", action="store_true", help="no progress bar")

    ask = sub.add_parser("ask", help="ask a question")
    ask.add_argument("question")
    ask.add_argument("--jurisdiction", choices=JURISDICTIONS)
    ask.add_argument("--json", action="store_true")

    docs = sub.add_parser("docs", help="list indexed documents")
    docs.add_argument("--json", action="store_true")
    docs.add_argument("--all", action="store_true", help="include old and failed versions")

    ev = sub.add_parser("eval", help="run the answer-quality evals")
    ev.add_argument("--dataset", type=Path, action="append")
    ev.add_argument("--k", type=int, default=None, help="passages per answer (default: GIGRIGHTS_TOP_K)")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--out", type=Path)
    ev.add_argument("--judge", action="store_true",
                    help="also score faithfulness with the configured LLM (GIGRIGHTS_LLM_*)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        if args.cmd == "ingest":
            return _ingest(args, settings)
        if args.cmd == "ask":
            return _ask(args, settings)
        if args.cmd == "docs":
            return _docs(args, settings)
        if args.cmd == "eval":
            from evals.runner import main as eval_main

            return eval_main(args, settings)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0  # pragma: no cover


def _open(settings):  # noqa: ANN001, ANN202
    from assistant.core import build_assistant

    return build_assistant(settings)


def _ingest(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    from tqdm import tqdm

    from .manifest import ManifestError, load_manifest
    from .pipeline import Ingestor, Report, slugify

    manifest = None
    if args.manifest:
        try:
            manifest = load_manifest(args.manifest)
        except ManifestError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for problem in manifest.problems:
            print(f"manifest: {problem}", file=sys.stderr)
    if not args.paths and manifest is None:
        print("error: give files to ingest or --manifest corpus/manifest.yaml", file=sys.stderr)
        return 2
    a = _open(settings)
    try:
        ing = Ingestor(settings, a.embedder, a.store, a.catalog)
        report = Report()
        bar = tqdm(total=len(args.paths) + (len(manifest.documents) if manifest and not args.paths else 0),
                   unit="doc", desc="indexing", disable=args.quiet or args.json, file=sys.stderr)
        if args.paths:
            ing.reconcile()
            for path in args.paths:
                known = manifest.by_path(path) if manifest else None
                meta = known.meta if known else DocMeta(
                    doc_id=args.doc_id if args.doc_id and len(args.paths) == 1 else slugify(path.stem),
                    title=args.title or path.stem.replace("_", " ").replace("-", " ").strip(),
                    doc_type=args.doc_type, jurisdiction=args.jurisdiction, language=args.language,
                    source_url=args.source_url, publisher=args.publisher,
                    effective_date=args.effective_date, last_verified=dt.date.today().isoformat(),
                    review_status=args.status, added_by="cli")
                report.outcomes.append(ing.ingest_path(path, meta))
                bar.update(1)
            if manifest and manifest.referrals:
                a.catalog.replace_referrals(manifest.referrals)
        elif manifest is not None:
            report = ing.ingest_manifest(manifest, prune=args.prune, on_doc=lambda _o: bar.update(1))
        if args.fetch and manifest is not None:
            from .fetch import fetch_official

            report.outcomes.extend(fetch_official(manifest, ing).outcomes)
        bar.close()
    finally:
        a.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for o in report.outcomes:
            if o.status == "failed":
                print(f"FAILED {o.doc_id}: {o.reason}")
            for f in o.flags:
                print(f"REVIEW {o.doc_id}: {f}")
        print(report.summary())
    return 1 if report.count("failed") else 0


def _ask(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    a = _open(settings)
    try:
        if not args.json:
            s = a.stream(args.question, args.jurisdiction)
            for piece in s:
                sys.stdout.write(unescape_markdown(piece))
                sys.stdout.flush()
            ans = s.answer
            assert ans is not None
            print()
            for w in ans.warnings:
                print(f"\nNote: {w}")
            for c in ans.citations:
                where = f"page {c.page}" if c.page else c.section
                print(f"\n[{c.n}] {c.title} ({c.jurisdiction}, {where})"
                      + (f"\n    Rule: {c.rule}" if c.rule else "")
                      + f"\n    In effect since: {c.effective_date or 'n/a'}; last verified: "
                        f"{c.last_verified or 'n/a'}\n    {c.source_url}")
            if ans.refused and ans.passages:
                print("\nNearest sources:")
                for p in ans.passages:
                    print(f"  - {p.title} ({p.jurisdiction}) {p.source_url}")
        else:
            ans = a.ask(args.question, args.jurisdiction)
            print(ans.to_json(indent=2))
    finally:
        a.close()
    return 0


def _docs(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    a = _open(settings)
    try:
        rows = a.documents()
    finally:
        a.close()
    if not args.all:
        rows = [r for r in rows if r["current"]]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print("No documents indexed yet. Run: gigrights ingest --manifest corpus/manifest.yaml")
        return 0
    for r in rows:
        state = "current" if r["current"] else r["status"]
        print(f"{r['doc_id']:<40} {r['jurisdiction']:<14} {r['doc_type']:<16} {r['language']} "
              f"{r['chunk_count']:>4} chunks  {r['review_status']:<8} {state:<8} "
              f"eff {r['effective_date'] or '-':<10} verified {r['last_verified'] or '-'}  {r['title']}")
    return 0

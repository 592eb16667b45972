"""`gigrights` command line: ingest, ask, docs, feedback, eval."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path

from assistant.config import load_settings
from assistant.citations import unescape_markdown
from assistant.errors import AssistantError
from assistant.facts.model import WORKER_TYPES
from assistant.types import DOC_TYPES, DocMeta
from assistant.understanding.places import canonical, valid_jurisdiction


def _jurisdiction(value: str) -> str:
    """argparse type: any ISO 3166 code with an optional city (US-PA-Philadelphia, ES, CA-BC)."""
    if not valid_jurisdiction(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a jurisdiction code: use an ISO 3166 country or subdivision code, "
            "optionally with a city (US, US-PA, US-PA-Philadelphia, ES, MX, CA-BC, EU, UK)")
    return canonical(value) or value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gigrights", description="Gig Rights Assistant")
    sub = p.add_subparsers(dest="cmd", required=True)

    ing = sub.add_parser("ingest", help="add or update documents in the index")
    ing.add_argument("paths", nargs="*", type=Path, help="PDF, HTML, Markdown, text or DOCX files")
    ing.add_argument("--manifest", type=Path, help="corpus manifest (default: ingest all its documents)")
    ing.add_argument("--fetch", action="store_true", help="also download and index the manifest's "
                     "official sources (needs internet)")
    ing.add_argument("--prune", action="store_true", help="retire documents no longer in the manifest")
    ing.add_argument("--rebuild", action="store_true", help="drop and rebuild the vector index from "
                     "the stored files (after a crash damaged it), keeping review states")
    ing.add_argument("--doc-id")
    ing.add_argument("--title")
    ing.add_argument("--doc-type", choices=DOC_TYPES, default="guide")
    ing.add_argument("--jurisdiction", type=_jurisdiction, default="US")
    ing.add_argument("--language", default="en")
    ing.add_argument("--source-url", default="")
    ing.add_argument("--publisher", default="")
    ing.add_argument("--effective-date", default="")
    ing.add_argument("--status", choices=("draft", "approved"), default="approved")
    ing.add_argument("--accept-flags", action="store_true",
                     help="publish even when the file is flagged (hidden text, instructions to an AI); "
                          "without it a flagged file stays a draft for review")
    ing.add_argument("--json", action="store_true")
    ing.add_argument("--quiet", action="store_true", help="no progress bar")

    ask = sub.add_parser("ask", help="ask a question")
    ask.add_argument("question")
    ask.add_argument("--jurisdiction", type=_jurisdiction)
    ask.add_argument("--json", action="store_true")

    docs = sub.add_parser("docs", help="list and maintain documents (same operations as the Library page)")
    docs.add_argument("--json", action="store_true")
    docs.add_argument("--all", action="store_true", help="include old and failed versions")
    dsub = docs.add_subparsers(dest="docs_cmd")
    d_list = dsub.add_parser("list", help="list documents")
    d_list.add_argument("--json", action="store_true")
    d_list.add_argument("--all", action="store_true")
    d_add = dsub.add_parser("add", help="add a document (or a new version with --doc-id) as a draft")
    d_add.add_argument("path", type=Path)
    d_add.add_argument("--doc-id", help="add a new version of this document")
    d_add.add_argument("--title")
    d_add.add_argument("--doc-type", choices=DOC_TYPES, default="guide")
    d_add.add_argument("--jurisdiction", type=_jurisdiction, default="US")
    d_add.add_argument("--language", default="en")
    d_add.add_argument("--topics", default="", help="comma-separated topics")
    d_add.add_argument("--source-url", default="")
    d_add.add_argument("--publisher", default="")
    d_add.add_argument("--effective-date", default="")
    d_add.add_argument("--approve", action="store_true", help="approve at once (reviewers)")
    d_add.add_argument("--accept-flags", action="store_true",
                       help="with --approve: publish even if the file was flagged at ingest")
    for name, text in (("approve", "approve the current version (republishes a taken-down document)"),
                       ("reject", "reject the pending draft only; the approved version stays published"),
                       ("restore", "publish a taken-down document again"),
                       ("remove", "delete a document and its chunks (or --takedown to hide every version)"),
                       ("history", "versions and audit log")):
        d = dsub.add_parser(name, help=text)
        d.add_argument("doc_id")
        if name == "remove":
            d.add_argument("--takedown", action="store_true", help="hide instead of deleting")
            d.add_argument("--reason", default="")
        if name == "approve":
            d.add_argument("--accept-flags", action="store_true",
                           help="publish a version that was flagged at ingest (after reading the flags)")
        if name == "history":
            d.add_argument("--diff", action="store_true", help="show the text diff of the last two versions")
    d_re = dsub.add_parser("reindex", help="re-embed one document or all (e.g. after switching embedder)")
    d_re.add_argument("doc_id", nargs="?")
    d_stale = dsub.add_parser("stale", help="figures whose expected change date has passed with no newer "
                                            "verified value (check each at its official page)")
    d_stale.add_argument("--json", action="store_true")
    d_stale.add_argument("--today", type=dt.date.fromisoformat, default=None,
                         help="the date to check against (default: today)")

    fbk = sub.add_parser("feedback", help="readers' thumbs up/down on answers (redacted, no accounts)")
    fsub = fbk.add_subparsers(dest="feedback_cmd", required=True)
    f_list = fsub.add_parser("list", help="list stored feedback, newest first")
    f_list.add_argument("--json", action="store_true")
    f_list.add_argument("--down", action="store_true", help="only thumbs down")

    users = sub.add_parser("users", help="Library accounts")
    usub = users.add_subparsers(dest="users_cmd", required=True)
    usub.add_parser("hash", help="hash a password (read from stdin) for GIGRIGHTS_LIBRARY_USERS")

    und = sub.add_parser("understanding", help="the question classifier (kind of work, topic, intent)")
    usub2 = und.add_subparsers(dest="und_cmd", required=True)
    usub2.add_parser("train", help="fit it on assistant/understanding/data/examples_*.jsonl and store it")

    cp = sub.add_parser("check-pay", help="was I paid right? the minimum a place's pay rule requires")
    cp.add_argument("--place", type=_jurisdiction, required=True, help="e.g. US-NY-NYC, US-WA-Seattle, CA-ON")
    cp.add_argument("--work", choices=[w for w in WORKER_TYPES if w != "all"], help="kind of work (rideshare, delivery, ...)")
    cp.add_argument("--from", dest="start", type=dt.date.fromisoformat, required=True,
                    help="first day of the pay period (or the offer's date), YYYY-MM-DD")
    cp.add_argument("--to", dest="end", type=dt.date.fromisoformat,
                    help="last day of the pay period (default: the same day)")
    cp.add_argument("--minutes", type=float, help="the time the rule counts, in minutes")
    cp.add_argument("--hours", type=float, help="the same in hours")
    cp.add_argument("--miles", type=float, help="engaged miles (per-offer and per-trip rules)")
    cp.add_argument("--paid", required=True, help="what the app paid, without tips")
    cp.add_argument("--json", action="store_true")

    ev = sub.add_parser("eval", help="run the answer-quality evals")
    ev.add_argument("--dataset", type=Path, action="append")
    ev.add_argument("--split", choices=("dev", "test", "both"), default="dev",
                    help="which cases to run when no --dataset is given (default: dev)")
    ev.add_argument("--k", type=int, default=None, help="passages per answer (default: GIGRIGHTS_TOP_K)")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--out", type=Path)
    ev.add_argument("--judge", action="store_true",
                    help="also score faithfulness with the configured LLM (GIGRIGHTS_LLM_*)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=os.environ.get("GIGRIGHTS_LOG_LEVEL", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        if args.cmd == "ingest":
            return _ingest(args, settings)
        if args.cmd == "ask":
            return _ask(args, settings)
        if args.cmd == "docs":
            if args.docs_cmd in (None, "list"):
                return _docs(args, settings)
            if args.docs_cmd == "stale":
                return _stale(args, settings)
            return _docs_manage(args, settings)
        if args.cmd == "feedback":
            return _feedback(args, settings)
        if args.cmd == "users":
            import getpass

            from assistant.auth import hash_password

            pw = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
            if len(pw) < 10:
                print("error: use a password of at least 10 characters", file=sys.stderr)
                return 2
            print(hash_password(pw))
            return 0
        if args.cmd == "understanding":
            from assistant.embeddings import build_embedder
            from assistant.understanding.intent import load_examples, model_path, train

            emb = build_embedder(settings)
            examples = load_examples()
            model = train(examples, emb)
            path = model_path(emb.name)
            model.save(path)
            print(f"trained on {len(examples)} examples; wrote {path}")
            return 0
        if args.cmd == "check-pay":
            return _check_pay(args, settings)
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
        if not args.rebuild and (Path(settings.data_dir) / "rebuild.json").exists():
            print("warning: a rebuild of the index did not finish; run `gigrights ingest --rebuild` "
                  "to finish it (it resumes where it stopped).", file=sys.stderr)
        if args.rebuild:
            import getpass
            import time as _time

            from .library import Library

            t0 = _time.perf_counter()
            outs = Library(a, actor=f"cli:{getpass.getuser()}").rebuild()
            failed = [o for o in outs if o.status == "failed"]
            for o in failed:
                print(f"FAILED {o.doc_id}: {o.reason}")
            print(f"rebuilt {len(outs) - len(failed)} document versions in "
                  f"{_time.perf_counter() - t0:.1f} s")
            if failed:
                print("The rebuild did not finish: fix the files listed above and run it again "
                      "(it resumes; no document was deleted).", file=sys.stderr)
                return 1
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
                accept = args.accept_flags or bool(known and known.accept_flags)
                report.outcomes.append(ing.ingest_path(path, meta, accept_flags=accept))
                bar.update(1)
            if manifest and manifest.referrals:
                a.catalog.replace_referrals(manifest.referrals)
        elif manifest is not None:
            report = ing.ingest_manifest(manifest, prune=args.prune, on_doc=lambda _o: bar.update(1))
        if args.fetch and manifest is not None:
            from .fetch import fetch_official

            report.outcomes.extend(fetch_official(manifest, ing).outcomes)
        bar.close()
        a.warm()  # embed the fact records now, so the first question does not wait for it
    finally:
        a.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for o in report.outcomes:
            if o.status == "failed":
                print(f"FAILED {o.doc_id}: {o.reason}")
            for w in o.warnings:
                print(f"WARNING {o.doc_id}: {w}")
            for f in o.flags:
                print(f"REVIEW {o.doc_id}: {f}")
            if o.held:
                print(f"HELD {o.doc_id}: flagged, so it is a draft until a reviewer reads the flags and "
                      f"runs: gigrights docs approve {o.doc_id} --accept-flags")
        print(report.summary())
    return 1 if report.count("failed") else 0


def _check_pay(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    from assistant.facts import load_facts
    from assistant.paycheck import PayInputError, ambiguous, check, kinds_of_work, rules_for, summary

    rules = rules_for(load_facts(settings.facts_dir), args.place, args.work)
    if not rules:
        print(f"error: no pay rule in our records for {args.place}"
              + (f" and {args.work} work" if args.work else "") + ".", file=sys.stderr)
        return 2
    if args.work is None and ambiguous(rules):
        print(f"error: {args.place} has different pay rules by kind of work: add --work "
              f"({', '.join(kinds_of_work(rules))}).", file=sys.stderr)
        return 2
    minutes = args.minutes if args.minutes is not None else (args.hours * 60 if args.hours is not None else None)
    try:
        c = check(rules[0], start=args.start, end=args.end or args.start, paid=args.paid,
                  minutes=minutes, miles=args.miles)
    except PayInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(c.to_dict(), indent=2))
    else:
        print(summary(c))
        for src in c.sources:
            print(f"  source: {src['doc_id']} › {src['section']} (from {src['effective_from']}, "
                  f"last checked {src['last_verified']})")
    return 0 if not c.needs else 2


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


def _printed_json_or_none(rows: list, as_json: bool, empty: str) -> bool:
    """Print ``rows`` as JSON, or ``empty`` when there are none; False when the caller prints them."""
    if as_json:
        print(json.dumps(rows, indent=2, default=str, ensure_ascii=False))
        return True
    if not rows:
        print(empty)
        return True
    return False


def _stale(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    """The figures that may have changed: due for a check against their official page."""
    from assistant.facts import due_figures, load_facts

    due = due_figures(load_facts(settings.facts_dir), args.today or dt.date.today())
    if _printed_json_or_none(due, args.json, "No figure is past its expected change date."):
        return 0
    print(f"{len(due)} figures may have changed (expected change date passed, no newer verified value):")
    for r in due:
        figs = ", ".join(f"{k} {v}" for k, v in r["figures"].items()) or "no figures"
        print(f"- {r['id']} ({r['jurisdiction']}, {r['topic']}): {figs} from {r['from']}; "
              f"expected to change {r['next_change']}{' (' + r['rule'] + ')' if r['rule'] else ''}; "
              f"last verified {r['last_verified']}; check {r['published_at'] or 'its official source'}")
    return 0


def _feedback(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    """Export feedback. Reads only the catalog (sqlite, safe beside a running app): no index lock."""
    from assistant.catalog import Catalog
    from assistant.feedback import reason_label, when

    path = Path(settings.data_dir) / "catalog.sqlite3"
    rows = []
    if path.exists():  # a mistyped data dir gets "none stored", not a new empty catalog
        catalog = Catalog(path)
        try:
            rows = catalog.feedback("down" if args.down else None)
        finally:
            catalog.close()
    for r in rows:
        r["created"], r["updated"] = (dt.datetime.fromtimestamp(r.pop(k)).astimezone().isoformat(
            timespec="seconds") for k in ("created_at", "updated_at"))
    if _printed_json_or_none(rows, args.json, "No feedback stored yet."):
        return 0
    for r in rows:
        line = f"{r['updated'][:16].replace('T', ' ')}  {r['rating']:<4} {r['place'] or '-':<14} {r['question']!r}"
        if r["reasons"]:
            line += f"  [{', '.join(reason_label(c) for c in r['reasons'])}]"
        if r["comment"]:
            line += f"  comment: {r['comment']!r}"
        print(line)
        for c in r["citations"]:
            print(f"    cited: {c['title']} ({c['doc_id']} version {c['version'] or 'unknown'})")
    return 0


def _docs(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    a = _open(settings)
    try:
        rows = a.documents()
    finally:
        a.close()
    if not args.all:
        rows = [r for r in rows if r["current"]]
    if _printed_json_or_none(rows, args.json,
                             "No documents indexed yet. Run: gigrights ingest --manifest corpus/manifest.yaml"):
        return 0
    for r in rows:
        state = "current" if r["current"] else r["status"]
        print(f"{r['doc_id']:<40} {r['jurisdiction']:<14} {r['doc_type']:<16} {r['language']} "
              f"{r['chunk_count']:>4} chunks  {r['review_status']:<8} {state:<8} "
              f"eff {r['effective_date'] or '-':<10} verified {r['last_verified'] or '-'}  {r['title']}")
    return 0


def _docs_manage(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    import getpass

    from .library import FormError, Library

    a = _open(settings)
    lib = Library(a, actor=f"cli:{getpass.getuser()}")
    try:
        if args.docs_cmd == "add":
            try:
                data = args.path.read_bytes()
            except OSError as exc:
                print(f"error: cannot read {args.path}: {exc.strerror}", file=sys.stderr)
                return 2
            form = {"title": args.title or args.path.stem.replace("_", " ").replace("-", " "),
                    "doc_type": args.doc_type, "jurisdiction": args.jurisdiction, "language": args.language,
                    "topics": [t.strip() for t in args.topics.split(",") if t.strip()],
                    "source_url": args.source_url, "publisher": args.publisher,
                    "effective_date": args.effective_date}
            try:
                if args.doc_id:
                    out = lib.new_version(args.doc_id, data, args.path.name,
                                          {k: v for k, v in form.items() if v and k != "title"}
                                          | ({"title": args.title} if args.title else {}))
                else:
                    out = lib.add_upload(data, args.path.name, form)
            except FormError as exc:
                print("error: " + "\n       ".join(exc.problems), file=sys.stderr)
                return 2
            except KeyError as exc:
                print(f"error: {exc.args[0]}", file=sys.stderr)
                return 2
            if out.status == "failed":
                print(f"FAILED {out.doc_id}: {out.reason}")
                return 1
            for w in out.warnings:
                print(f"WARNING {out.doc_id}: {w}")
            for f in out.flags:
                print(f"REVIEW {out.doc_id}: {f}")
            if args.approve and out.status != "unchanged":
                try:
                    lib.approve(out.doc_id, accept_flags=args.accept_flags)
                except ValueError as exc:  # flagged: it stays a draft
                    print(f"{out.status} {out.doc_id} ({out.chunks} chunks, draft until approved)")
                    print(f"error: {exc.args[0]}", file=sys.stderr)
                    return 2
            print(f"{out.status} {out.doc_id} ({out.chunks} chunks, "
                  f"{'approved' if args.approve else 'draft until approved'})")
            return 0
        try:
            if args.docs_cmd == "approve":
                print(f"approved {args.doc_id} version "
                      f"{lib.approve(args.doc_id, accept_flags=args.accept_flags)}")
            elif args.docs_cmd == "reject":
                back = lib.reject(args.doc_id, "rejected from the command line")
                print(f"rejected the draft of {args.doc_id}; "
                      + (f"version {back} stays published" if back else "no approved version is published"))
            elif args.docs_cmd == "restore":
                print(f"restored {args.doc_id}" if lib.restore(args.doc_id) else
                      f"{args.doc_id} was not taken down")
            elif args.docs_cmd == "remove":
                if args.takedown:
                    lib.takedown(args.doc_id, args.reason)
                    print(f"taken down {args.doc_id}")
                else:
                    print(f"deleted {args.doc_id} ({lib.delete(args.doc_id)} versions)")
            elif args.docs_cmd == "history":
                hist = lib.history(args.doc_id)
                if not hist:
                    raise KeyError(f"No document {args.doc_id!r}.")
                for h in hist:
                    print(f"{h['version']}  {h['status']:<8} {h['review_status']:<10} "
                          f"{'current' if h['current'] else '':<8} effective {h['effective_date'] or '-'}  "
                          f"verified {h['last_verified'] or '-'}  by {h['added_by'] or '-'}")
                for e in a.catalog.audit_log(doc_id=args.doc_id):
                    print(f"  {e['action']:<12} by {e['actor']:<16} {e['detail'] or ''}")
                if args.diff and len(hist) > 1:
                    print(lib.diff(args.doc_id, hist[-2]["version"], hist[-1]["version"]))
            elif args.docs_cmd == "reindex":
                outs = lib.reindex(args.doc_id)
                for o in outs:
                    if o.status == "failed":
                        print(f"FAILED {o.doc_id}: {o.reason}")
                print(", ".join(f"{k} {sum(o.status == k for o in outs)}"
                                for k in ("added", "updated", "unchanged", "failed")))
        except (KeyError, ValueError) as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            return 2
    finally:
        a.close()
    return 0

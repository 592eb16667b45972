"""Document maintenance shared by the Library page and `gigrights docs ...`: add, new version,
edit, review, take down, delete, re-index, history and diff, coverage and stale lists.

Every change is written to the audit log with who did it. Uploaded files are stored under a random
name; the original name is only displayed (sanitised)."""
from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from assistant.catalog import row_to_meta
from assistant.core import Assistant
from assistant.types import DOC_TYPES, DocMeta
from assistant.understanding.places import canonical, valid_jurisdiction

from .fetch import FetchError, download
from .manifest import EXTRA_TOPICS, LANGUAGES, TOPICS
from .pipeline import Ingestor, Outcome, resolve_source, slugify

ALLOWED_EXT = (".pdf", ".html", ".htm", ".md", ".txt", ".docx")
_BIDI_CONTROL = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class FormError(ValueError):
    """The metadata form has problems; ``problems`` lists them for the person filling it in."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def display_name(name: str) -> str:
    """A file name safe to show: no path, no control or direction-override characters, short."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _BIDI_CONTROL.sub("", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip(" .") or "upload"
    return name if len(name) <= 120 else name[:100] + "…" + name[-19:]


def extension(name: str) -> str:
    ext = Path(display_name(name)).suffix.lower()
    if ext not in ALLOWED_EXT:
        raise FormError([f"Files of type {ext or '(none)'} are not accepted. Upload PDF, HTML, "
                         "Markdown (.md), text (.txt) or Word (.docx)."])
    return ext


def validate_form(form: dict[str, Any], *, doc_id: str | None = None) -> DocMeta:
    p = []
    title = " ".join(str(form.get("title") or "").split())
    if not title or len(title) > 200:
        p.append("Title is required (up to 200 characters).")
    if form.get("doc_type") not in DOC_TYPES:
        p.append(f"Document type must be one of: {', '.join(DOC_TYPES)}.")
    if not valid_jurisdiction(form.get("jurisdiction")):
        p.append("The jurisdiction must be an ISO 3166 code, optionally with a city: US, US-PA, "
                 "US-PA-Philadelphia, ES, MX, CA-BC, EU or UK.")
    else:
        form = {**form, "jurisdiction": canonical(form["jurisdiction"])}
    if form.get("language", "en") not in LANGUAGES:
        p.append(f"Language must be one of: {', '.join(LANGUAGES)}.")
    topics = tuple(form.get("topics") or ())
    if not topics or any(t not in TOPICS + EXTRA_TOPICS for t in topics):
        p.append("Choose at least one topic from the list.")
    url = str(form.get("source_url") or "").strip()
    if not re.match(r"^https://[^\s/]+\.[^\s]+$", url):
        p.append("Official source URL must start with https:// (where the official text is published).")
    eff = form.get("effective_date")
    try:
        eff_s = eff.isoformat() if isinstance(eff, dt.date) else dt.date.fromisoformat(str(eff)).isoformat()
    except ValueError:
        eff_s = ""
        p.append("Effective date must be a date (YYYY-MM-DD).")
    if p:
        raise FormError(p)
    return DocMeta(doc_id=doc_id or f"{slugify(title)[:48]}-{secrets.token_hex(3)}", title=title,
                   doc_type=form["doc_type"], jurisdiction=form["jurisdiction"],
                   language=form.get("language", "en"), topics=topics, source_url=url,
                   publisher=" ".join(str(form.get("publisher") or "").split())[:200],
                   effective_date=eff_s, last_verified=dt.date.today().isoformat(),
                   review_status="draft", added_by=str(form.get("added_by") or ""))


class Flagged(ValueError):
    """Approving a flagged version needs the reviewer to accept its flags by name."""

    def __init__(self, doc_id: str, flags: list[str]) -> None:
        self.doc_id, self.flags = doc_id, flags
        super().__init__(f"{doc_id} was flagged at ingest and is not published: " + "; ".join(flags)
                         + ". Read the flagged text; to publish it anyway, approve it again accepting "
                         "the flags (CLI: --accept-flags; Library: tick 'I have read the flags').")


class NotAllowed(PermissionError):
    """An editor tried a reviewer's action (the message says who may do it)."""


REVIEWER_ACTIONS = ("approve", "reject", "takedown", "restore", "delete", "rebuild")


@dataclass
class Library:
    """The Library's operations, shared by the page and the CLI. Roles are enforced here, not
    only by disabled buttons: ``role`` is "reviewer" or "editor" (the operator's CLI runs as a
    reviewer), and every action is recorded with its actor."""

    assistant: Assistant
    actor: str
    role: str = "reviewer"

    def _require_reviewer(self, action: str) -> None:
        if self.role != "reviewer":
            self.catalog.audit(self.actor, "refused", detail=f"{action}: needs a reviewer")
            raise NotAllowed(f"Only reviewers can {action} documents; {self.actor} is an {self.role}. "
                             "Ask a reviewer, or have the operator give you the reviewer role.")

    @property
    def catalog(self):  # noqa: ANN201
        return self.assistant.catalog

    @property
    def col(self) -> str:
        return self.assistant.store.name

    def _ingestor(self) -> Ingestor:
        a = self.assistant
        return Ingestor(a.settings, a.embedder, a.store, a.catalog)

    def _store_upload(self, data: bytes, name: str) -> Path:
        ext = extension(name)
        limit = self.assistant.settings.ingest_max_mb * 1_000_000
        if len(data) > limit:
            raise FormError([f"The file is {len(data) / 1e6:.1f} MB; the limit is "
                             f"{self.assistant.settings.ingest_max_mb:g} MB."])
        folder = Path(self.assistant.settings.data_dir) / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{secrets.token_hex(16)}{ext}"
        path.write_bytes(data)
        return path

    # -- adding ----------------------------------------------------------------------------------
    def add_upload(self, data: bytes, name: str, form: dict[str, Any], *, doc_id: str | None = None,
                   status: str = "draft", on_step: Callable[[str], None] | None = None) -> Outcome:
        meta = replace(validate_form({**form, "added_by": self.actor}, doc_id=doc_id), review_status=status)
        path = self._store_upload(data, name)
        if on_step:
            on_step("Reading the file in a separate process…")
        out = self._ingestor().ingest_bytes(data, display_name(name), meta, path)
        if out.status in ("failed", "unchanged"):
            path.unlink(missing_ok=True)
        self.catalog.audit(self.actor, "add" if doc_id is None else "new_version", meta.doc_id,
                           self._current_version(meta.doc_id), f"{out.status}: {display_name(name)} "
                           f"{out.reason}".strip())
        return out

    def add_url(self, url: str, form: dict[str, Any], **kw: Any) -> Outcome:
        folder = Path(self.assistant.settings.data_dir) / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            path, suffix = download(url, folder, timeout_s=self.assistant.settings.fetch_timeout_s,
                                    max_bytes=int(self.assistant.settings.ingest_max_mb * 1_000_000),
                                    allow_hosts=self.assistant.settings.fetch_hosts())
        except FetchError as exc:
            raise FormError([f"Could not fetch {url}: {exc}."]) from None
        try:
            return self.add_upload(path.read_bytes(), f"page{suffix}", {**form, "source_url": form.get(
                "source_url") or url}, **kw)
        finally:
            path.unlink(missing_ok=True)

    def new_version(self, doc_id: str, data: bytes, name: str, form: dict[str, Any] | None = None,
                    **kw: Any) -> Outcome:
        row = self._row(doc_id)
        base = _form_from_row(row)
        return self.add_upload(data, name, {**base, **(form or {})}, doc_id=doc_id, **kw)

    def edit(self, doc_id: str, changes: dict[str, Any]) -> Outcome:
        """Change metadata: written as a new draft version from the same stored file."""
        row = self._row(doc_id)
        meta = replace(validate_form({**_form_from_row(row), **changes, "added_by": self.actor},
                                     doc_id=doc_id), review_status="draft")
        out = self._ingestor().ingest_path(Path(row["source_path"]), meta)
        self.catalog.audit(self.actor, "edit", doc_id, self._current_version(doc_id),
                           f"{out.status}: {sorted(changes)}")
        return out

    # -- review ----------------------------------------------------------------------------------
    def approve(self, doc_id: str, accept_flags: bool = False) -> str:
        """Approve the current version. A taken-down document is published again this way. A
        version flagged at ingest (hidden text, instructions to an AI) is approved only with
        ``accept_flags``, and the audit log says which flags the reviewer accepted."""
        self._require_reviewer("approve")
        row = self._row(doc_id)
        flags = list(row.get("flags") or [])
        if flags and not accept_flags:
            raise Flagged(doc_id, flags)
        if flags:
            self.catalog.audit(self.actor, "accept-flags", doc_id, row["version"], "; ".join(flags))
        self.catalog.set_review_status(doc_id, "approved", row["version"])
        if self.catalog.restore(doc_id):
            self.catalog.audit(self.actor, "republish", doc_id, row["version"])
        self.catalog.audit(self.actor, "approve", doc_id, row["version"])
        return row["version"]

    def reject(self, doc_id: str, reason: str = "") -> str | None:
        """Reject the pending draft only; the approved version the public sees stays published."""
        self._require_reviewer("reject")
        row = self._row(doc_id)
        if row["review_status"] != "draft":
            raise ValueError(f"{doc_id} has no draft waiting for review.")
        back_to = self.catalog.reject(doc_id, row["version"], self.col)
        self.catalog.audit(self.actor, "reject", doc_id, row["version"], reason)
        return back_to

    def takedown(self, doc_id: str, reason: str = "") -> None:
        """Hide every version of the document from everyone (restore() undoes it)."""
        self._require_reviewer("take down")
        self._row(doc_id)
        self.catalog.take_down(doc_id, self.actor, reason)
        self.catalog.audit(self.actor, "takedown", doc_id, detail=reason)

    def restore(self, doc_id: str) -> bool:
        self._require_reviewer("restore")
        ok = self.catalog.restore(doc_id)
        if ok:
            self.catalog.audit(self.actor, "restore", doc_id)
        return ok

    def delete(self, doc_id: str) -> int:
        self._require_reviewer("delete")
        rows = [r for r in self.catalog.documents(self.col) if r["doc_id"] == doc_id]
        if not rows:
            raise KeyError(doc_id)
        for r in rows:
            self.assistant.store.delete_version(doc_id, r["version"])
        n = self.catalog.delete_document(doc_id)
        self.catalog.audit(self.actor, "delete", doc_id, detail=f"{n} version rows")
        return n

    def reindex(self, doc_id: str | None = None) -> list[Outcome]:
        """Re-embed from the stored files into the active collection (e.g. after switching the
        embedder). Documents indexed under another embedder are picked up too."""
        latest: dict[str, dict[str, Any]] = {}
        for r in self.catalog.documents():  # all collections, oldest first
            if r["status"] == "indexed" and r["review_status"] not in ("taken_down", "rejected") and (
                    doc_id is None or r["doc_id"] == doc_id):
                latest[r["doc_id"]] = r
        outs = []
        for d, r in sorted(latest.items()):
            path = Path(r["source_path"] or "")
            meta = row_to_meta(r)
            # An approved version was read by a reviewer (or its flags were accepted in the
            # manifest): the same file in a new collection is not held back for review again.
            outs.append(self._ingestor().ingest_path(path, meta, accept_flags=r["review_status"] == "approved"))
            self.catalog.audit(self.actor, "reindex", d, detail=outs[-1].status)
        return outs

    def rebuild(self) -> list[Outcome]:
        """Recreate this embedder's index from the stored files, keeping each document's review
        state: the newest approved version and, if newer, the current draft. For a damaged index.

        Nothing is dropped until every file has been found and read; a failure before that changes
        nothing. The plan is written to ``data/rebuild.json`` first, so a rebuild killed half way is
        finished by running it again (it resumes from the plan), and catalog rows are replaced one by
        one, never deleted."""
        self._require_reviewer("rebuild")
        journal = Path(self.assistant.settings.data_dir) / "rebuild.json"
        plan = self._load_plan(journal) or self._plan()
        outs: list[Outcome] = []
        blobs: list[tuple[dict[str, Any], Path, bytes]] = []
        for r in plan:
            path = resolve_source(r.get("source_path") or "", self.assistant.settings)
            try:
                blobs.append((r, path, path.read_bytes()))
            except OSError as exc:
                outs.append(Outcome(r["doc_id"], "failed", f"Cannot read the stored file "
                                    f"{r.get('source_path')!r}: {exc.strerror or exc}. Nothing was changed."))
        if outs:
            return outs  # nothing dropped, nothing deleted
        tmp = journal.with_suffix(".tmp")
        tmp.write_text(json.dumps(plan, default=str), encoding="utf-8")
        tmp.replace(journal)
        self.assistant.store.drop()
        ing = self._ingestor()
        for r, path, data in blobs:
            outs.append(ing.ingest_bytes(data, r.get("display_name") or path.name, row_to_meta(r), path,
                                         force=True))
        if not any(o.status == "failed" for o in outs):
            journal.unlink(missing_ok=True)
        self.catalog.audit(self.actor, "rebuild", detail=", ".join(
            f"{k} {sum(o.status == k for o in outs)}" for k in ("added", "updated", "failed")))
        return outs

    def _plan(self) -> list[dict[str, Any]]:
        keep: list[dict[str, Any]] = []
        current = self.catalog.current(self.col, include_drafts=True)
        public = self.catalog.visible(self.col)
        for doc_id, row in sorted(current.items()):
            if doc_id in public and public[doc_id]["version"] != row["version"]:
                keep.append(public[doc_id])
            keep.append(row)
        return [{**r, "topics": list(r["topics"]), "flags": list(r.get("flags") or [])} for r in keep]

    @staticmethod
    def _load_plan(journal: Path) -> list[dict[str, Any]] | None:
        try:
            return json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    # -- reading ---------------------------------------------------------------------------------
    def _row(self, doc_id: str) -> dict[str, Any]:
        row = self.catalog.current(self.col, include_drafts=True).get(doc_id)
        if row is None:
            raise KeyError(f"No current document {doc_id!r}.")
        return row

    def _current_version(self, doc_id: str) -> str | None:
        row = self.catalog.current(self.col, include_drafts=True).get(doc_id)
        return row["version"] if row else None

    def documents(self, *, jurisdiction: str | None = None, doc_type: str | None = None,
                  review_status: str | None = None, search: str = "") -> list[dict[str, Any]]:
        rows = list(self.catalog.current(self.col, include_drafts=True).values())
        taken = self.catalog.taken_down()
        q = search.lower().strip()
        out = []
        for r in rows:
            r = {**r, "review_status": "taken_down" if r["doc_id"] in taken else r["review_status"]}
            if (jurisdiction and r["jurisdiction"] != jurisdiction) or (doc_type and r["doc_type"] != doc_type) \
                    or (review_status and r["review_status"] != review_status) \
                    or (q and q not in f"{r['doc_id']} {r['title']} {r['publisher']}".lower()):
                continue
            out.append(r)
        return sorted(out, key=lambda r: r["doc_id"])

    def drafts(self) -> list[dict[str, Any]]:
        return self.documents(review_status="draft")

    def history(self, doc_id: str) -> list[dict[str, Any]]:
        return [r for r in self.catalog.documents(self.col) if r["doc_id"] == doc_id]

    def diff(self, doc_id: str, old: str, new: str) -> str:
        a = self.catalog.get_text(doc_id, old) or ""
        b = self.catalog.get_text(doc_id, new) or ""
        lines = difflib.unified_diff(a.splitlines(), b.splitlines(), f"version {old}", f"version {new}",
                                     lineterm="", n=1)
        return "\n".join(lines) or "(no text changes)"

    def stale(self, months: int | None = None) -> list[dict[str, Any]]:
        months = months or self.assistant.settings.stale_after_months
        cutoff = (dt.date.today() - dt.timedelta(days=round(months * 30.44))).isoformat()
        return [r for r in self.documents() if r["review_status"] != "taken_down"
                and (not r["last_verified"] or r["last_verified"] < cutoff)]

    def coverage(self) -> dict[str, dict[str, int]]:
        """jurisdiction -> topic -> number of publicly visible documents."""
        visible = self.catalog.visible(self.col).values()
        table = {j: {t: 0 for t in TOPICS} for j in sorted({r["jurisdiction"] for r in visible})}
        for r in visible:
            for t in r["topics"]:
                if t in TOPICS:
                    table[r["jurisdiction"]][t] += 1
        return table


def _form_from_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"title": row["title"], "doc_type": row["doc_type"], "jurisdiction": row["jurisdiction"],
            "language": row["language"], "topics": list(row["topics"]), "source_url": row["source_url"],
            "publisher": row["publisher"], "effective_date": row["effective_date"]}

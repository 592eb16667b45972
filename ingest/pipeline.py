"""Ingest: parse (worker) -> split -> embed -> store -> commit in the catalog -> report.

Idempotent: a document whose content, metadata, chunking settings and embedder are unchanged is
skipped. A changed document is written as a new version and becomes current only after all its
chunks are stored; a failure leaves the previous version current and untouched.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from assistant.catalog import Catalog
from assistant.config import Settings
from assistant.embeddings import Embedder
from assistant.errors import AssistantError
from assistant.store import VectorStore
from assistant.types import DocMeta

from .manifest import Manifest
from .parse_worker import ParseFailed, parse_in_worker
from .splitter import embed_text, split

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    doc_id: str
    status: str  # added | updated | unchanged | failed
    reason: str = ""
    chunks: int = 0
    warnings: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    held: bool = False  # flagged, so kept as a draft for review although "approved" was asked


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    def summary(self) -> str:
        return (f"added {self.count('added')}, updated {self.count('updated')}, unchanged "
                f"{self.count('unchanged')}, failed {self.count('failed')}")

    def to_dict(self) -> dict:
        return {"counts": {s: self.count(s) for s in ("added", "updated", "unchanged", "failed")},
                "documents": [asdict(o) for o in self.outcomes]}


def slugify(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (s or "document")[:60]


def resolve_source(stored: str, settings: Settings) -> Path:
    """A stored source path as a file on this machine. Catalogs written before paths were stored
    absolute hold paths relative to where `gigrights ingest` ran (usually the project root): try
    the working directory, the project root, the corpus and the data directory."""
    p = Path(stored)
    if p.is_absolute() or not stored:
        return p
    root = Path(__file__).resolve().parents[1]
    for base in (Path.cwd(), root, Path(settings.corpus_dir).resolve().parent,
                 Path(settings.corpus_dir).resolve(), Path(settings.data_dir).resolve()):
        if (base / p).is_file():
            return base / p
    return root / p


class Ingestor:
    def __init__(self, settings: Settings, embedder: Embedder, store: VectorStore,
                 catalog: Catalog) -> None:
        self.s = settings
        self.embedder = embedder
        self.store = store
        self.catalog = catalog

    def _version(self, data: bytes, meta: DocMeta) -> str:
        """Content + the metadata that changes what is indexed. ``last_verified`` is left out: the
        same file checked again on another day is the same version, not an update."""
        h = hashlib.sha256(data)
        fields = {k: v for k, v in asdict(meta).items() if k != "last_verified"}
        h.update(json.dumps(fields, sort_keys=True).encode())
        h.update(f"{self.s.chunk_size}/{self.s.chunk_overlap}/{self.s.chunk_max_tokens}/"
                 f"{self.embedder.name}/splitter-2".encode())
        return h.hexdigest()[:16]

    def ingest_bytes(self, data: bytes, display_name: str, meta: DocMeta, source_path: Path,
                     force: bool = False, accept_flags: bool = False) -> Outcome:
        """``force``: index it even if this version is already current (a rebuild of the index,
        which keeps every version's review status). A file the loaders flag (hidden text, text
        that reads as instructions to an AI) is never published at once: it is kept as a draft
        for a reviewer, unless ``accept_flags`` says someone has read the flags."""
        col = self.store.name
        version = self._version(data, meta)
        cur = self.catalog.current(col, include_drafts=True).get(meta.doc_id)
        if cur and cur["version"] == version and not force:
            return Outcome(meta.doc_id, "unchanged", chunks=cur["chunk_count"])
        source_path = Path(source_path).resolve()  # stored absolute: it resolves from any directory
        if len(data) > self.s.ingest_max_mb * 1_000_000:
            return Outcome(meta.doc_id, "failed", f"The file is {len(data) / 1e6:.1f} MB; the limit is "
                           f"{self.s.ingest_max_mb:g} MB. Split it or upload a smaller file.")
        try:
            parsed = parse_in_worker(source_path, display_name, timeout_s=self.s.ingest_timeout_s,
                                     memory_mb=self.s.ingest_memory_mb,
                                     max_pages=self.s.ingest_max_pages, max_chars=self.s.ingest_max_chars)
        except ParseFailed as exc:
            return Outcome(meta.doc_id, "failed", str(exc))
        try:
            chunks = split(meta.doc_id, version, meta.title, parsed["pages"],
                           chunk_size=self.s.chunk_size, overlap=self.s.chunk_overlap,
                           max_tokens=self.embedder.max_tokens, count_tokens=self.embedder.count_tokens,
                           statutes=parsed["kind"] != "md")
        except ValueError as exc:
            return Outcome(meta.doc_id, "failed", f"The text could not be split into passages ({exc}). "
                           "Shorten the title or the headings and try again.")
        if not chunks:
            return Outcome(meta.doc_id, "failed", "No text could be extracted from this file.")
        if not force:  # a rebuild re-reads files that were reviewed already
            parsed["flags"] = parsed.get("flags", []) + self._instruction_flags(parsed)
        held = bool(parsed.get("flags")) and meta.review_status == "approved" and not (accept_flags or force)
        if held:
            meta = replace(meta, review_status="draft")
        self.catalog.begin_version(meta, version, col, str(source_path), hashlib.sha256(data).hexdigest())
        self.catalog.set_flags(meta.doc_id, version, parsed.get("flags", []), display_name)
        self.catalog.put_text(meta.doc_id, version, "\n\n".join(p["text"] for p in parsed["pages"]))
        try:
            texts = [embed_text(meta.title, c.section, c.text) for c in chunks]
            b = self.s.embed_batch_size
            for i in range(0, len(chunks), b):
                vecs = self.embedder.embed(texts[i:i + b])
                log.info("writing chunks %d-%d of %s", i + 1, min(i + b, len(chunks)), meta.doc_id)
                self.store.upsert(meta, chunks[i:i + b], vecs)
            self.catalog.commit_version(meta.doc_id, version, col, len(chunks))
        except (AssistantError, OSError, ValueError) as exc:
            log.error("ingest of %s failed: %s", meta.doc_id, exc)
            try:
                self.store.delete_version(meta.doc_id, version)
            finally:
                self.catalog.fail_version(meta.doc_id, version, col, str(exc))
            return Outcome(meta.doc_id, "failed", f"Indexing failed: {exc}")
        return Outcome(meta.doc_id, "updated" if cur else "added", chunks=len(chunks),
                       warnings=parsed.get("warnings", []), flags=parsed.get("flags", []), held=held)

    def _instruction_flags(self, parsed: dict) -> list[str]:
        """Sentences the classifier reads as instructions to an AI model, beyond those the phrase
        check in the loaders already flagged."""
        from assistant.understanding.instructions import flags

        have = " ".join(parsed.get("flags", []))
        return [f for f in flags([p["text"] for p in parsed["pages"]], self.embedder)
                if f.split(": ", 1)[-1][1:60] not in have]

    def ingest_path(self, path: Path, meta: DocMeta, accept_flags: bool = False) -> Outcome:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return Outcome(meta.doc_id, "failed", f"Cannot read {path.name}: {exc.strerror}.")
        return self.ingest_bytes(data, path.name, meta, path, accept_flags=accept_flags)

    def ingest_manifest(self, manifest: Manifest, only: Iterable[str] | None = None,
                        prune: bool = False, on_doc: Callable[[Outcome], None] | None = None
                        ) -> Report:
        report = Report()
        self.reconcile()
        wanted = set(only) if only else None
        for d in manifest.documents:
            if wanted is None or d.meta.doc_id in wanted:
                report.outcomes.append(self.ingest_path(d.path, d.meta, accept_flags=bool(d.accept_flags)))
                if on_doc:
                    on_doc(report.outcomes[-1])
        if manifest.referrals:
            self.catalog.replace_referrals(manifest.referrals)
        if prune:
            keep = {d.meta.doc_id for d in manifest.documents} | {o.meta.doc_id for o in
                                                                  manifest.official_sources}
            current = self.catalog.current(self.store.name, include_drafts=True)
            for doc_id in set(current) - keep:
                if current[doc_id]["added_by"] == "manifest":
                    self.retire(doc_id)
        return report

    def retire(self, doc_id: str) -> list[str]:
        # Old versions keep their chunks for history; the catalog alone decides what is visible.
        return self.catalog.retire(doc_id, self.store.name)

    def reconcile(self, orphans: bool = True) -> dict[str, int]:
        """Repair after a crash: unfinished versions are failed and their chunks removed; with
        ``orphans``, chunks of versions the catalog does not know are deleted too (that reads every
        chunk's metadata, too slow for an app start on a big index)."""
        col = self.store.name
        fixed = {"interrupted": 0, "orphans": 0}
        for row in self.catalog.pending(col):
            self.store.delete_version(row["doc_id"], row["version"])
            self.catalog.fail_version(row["doc_id"], row["version"], col,
                                      "Interrupted before it finished; run ingest again.")
            fixed["interrupted"] += 1
        if not orphans:
            return fixed
        known = self.catalog.known_versions(col)
        for doc_id, version in self.store.versions_present() - known:
            self.store.delete_version(doc_id, version)
            fixed["orphans"] += 1
        return fixed

"""The document catalog (sqlite3): the source of truth for what is indexed and current.

A document version is visible to retrieval only when its row says ``status='indexed'`` and
``current=1`` for the active collection. Ingest writes chunks first and flips the row last, in one
transaction, so a crash never leaves a document half visible; ``reconcile`` cleans up after one.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable

from .types import DocMeta, Referral

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT NOT NULL, version TEXT NOT NULL, collection TEXT NOT NULL,
    title TEXT NOT NULL, doc_type TEXT NOT NULL, jurisdiction TEXT NOT NULL, language TEXT NOT NULL,
    topics TEXT NOT NULL DEFAULT '[]', source_url TEXT, publisher TEXT, effective_date TEXT,
    last_verified TEXT, review_status TEXT NOT NULL DEFAULT 'approved', added_by TEXT,
    translation_of TEXT, source_path TEXT, content_sha TEXT,
    status TEXT NOT NULL DEFAULT 'pending', error TEXT, chunk_count INTEGER NOT NULL DEFAULT 0,
    current INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    flags TEXT NOT NULL DEFAULT '[]', display_name TEXT,
    PRIMARY KEY (doc_id, version, collection)
);
CREATE TABLE IF NOT EXISTS texts (
    doc_id TEXT NOT NULL, version TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (doc_id, version)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    doc_id TEXT, version TEXT, detail TEXT
);
CREATE TABLE IF NOT EXISTS login_attempts (
    username TEXT PRIMARY KEY, failures INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS documents_current ON documents(collection, current, status);
CREATE TABLE IF NOT EXISTS referrals (
    id TEXT PRIMARY KEY, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS takedowns (
    doc_id TEXT PRIMARY KEY, actor TEXT NOT NULL, reason TEXT, ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    question TEXT NOT NULL, place TEXT, language TEXT NOT NULL, mode TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')), reasons TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL DEFAULT '', citations TEXT NOT NULL DEFAULT '[]',
    facts TEXT NOT NULL DEFAULT '[]'
);
"""

META_FIELDS = [f for f in DocMeta.__dataclass_fields__]


class Catalog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30,
                                   isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(SCHEMA)
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(documents)")}
        if "worker_types" not in cols:  # catalogs written before documents had kinds of work
            self._db.execute("ALTER TABLE documents ADD COLUMN worker_types TEXT NOT NULL DEFAULT '[]'")
        self._memo: dict[str, tuple[Any, dict[str, dict[str, Any]]]] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    # -- writes --------------------------------------------------------------------------------
    def begin_version(self, meta: DocMeta, version: str, collection: str, source_path: str,
                      content_sha: str) -> None:
        now = time.time()
        row = asdict(meta)
        row["topics"] = json.dumps(list(meta.topics))
        row["worker_types"] = json.dumps(list(meta.worker_types))
        cols = META_FIELDS + ["version", "collection", "source_path", "content_sha", "status", "error",
                              "chunk_count", "current", "created_at", "updated_at"]
        vals = [row[f] for f in META_FIELDS] + [version, collection, source_path, content_sha,
                                                "pending", None, 0, 0, now, now]
        self._exec(f"INSERT OR REPLACE INTO documents ({','.join(cols)}) VALUES "
                   f"({','.join('?' * len(cols))})", vals)

    def commit_version(self, doc_id: str, version: str, collection: str, chunk_count: int) -> list[str]:
        """Make ``version`` the current indexed one, atomically. Returns versions it replaced."""
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                old = [r[0] for r in cur.execute(
                    "SELECT version FROM documents WHERE doc_id=? AND collection=? AND current=1 "
                    "AND version<>?", (doc_id, collection, version))]
                cur.execute("UPDATE documents SET current=0, updated_at=? WHERE doc_id=? AND "
                            "collection=? AND version<>?", (time.time(), doc_id, collection, version))
                cur.execute("UPDATE documents SET status='indexed', current=1, error=NULL, chunk_count=?, "
                            "updated_at=? WHERE doc_id=? AND version=? AND collection=?",
                            (chunk_count, time.time(), doc_id, version, collection))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return old

    def fail_version(self, doc_id: str, version: str, collection: str, error: str) -> None:
        self._exec("UPDATE documents SET status='failed', current=0, error=?, updated_at=? "
                   "WHERE doc_id=? AND version=? AND collection=?",
                   (error[:500], time.time(), doc_id, version, collection))

    def set_review_status(self, doc_id: str, status: str, version: str | None = None) -> int:
        """Set the review status of one version (default: every version of the document)."""
        if version:
            rows = self._exec("UPDATE documents SET review_status=?, updated_at=? WHERE doc_id=? AND "
                              "version=? RETURNING doc_id", (status, time.time(), doc_id, version))
        else:
            rows = self._exec("UPDATE documents SET review_status=?, updated_at=? WHERE doc_id=? "
                              "RETURNING doc_id", (status, time.time(), doc_id))
        return len(rows)

    def take_down(self, doc_id: str, actor: str, reason: str = "") -> None:
        """Hide every version from everyone, keeping each version's review state for a restore."""
        self._exec("INSERT OR REPLACE INTO takedowns (doc_id, actor, reason, ts) VALUES (?, ?, ?, ?)",
                   (doc_id, actor, reason, time.time()))

    def restore(self, doc_id: str) -> bool:
        return bool(self._exec("DELETE FROM takedowns WHERE doc_id=? RETURNING doc_id", (doc_id,)))

    def taken_down(self) -> set[str]:
        # Catalogs written before the takedowns table marked every version 'taken_down' instead.
        legacy = {r[0] for r in self._exec(
            "SELECT doc_id FROM documents GROUP BY doc_id "
            "HAVING SUM(review_status='taken_down') = COUNT(*)")}
        return legacy | {r[0] for r in self._exec("SELECT doc_id FROM takedowns")}

    def reject(self, doc_id: str, version: str, collection: str) -> str | None:
        """Reject one draft version: it stops being current and the newest approved version (if
        any) becomes current again. Returns that version. Other versions are not touched."""
        with self._lock:
            self._exec("UPDATE documents SET review_status='rejected', current=0, updated_at=? "
                       "WHERE doc_id=? AND version=? AND collection=?",
                       (time.time(), doc_id, version, collection))
            prev = self._exec("SELECT version FROM documents WHERE doc_id=? AND collection=? AND "
                              "status='indexed' AND review_status='approved' ORDER BY created_at DESC "
                              "LIMIT 1", (doc_id, collection))
            if not prev:
                return None
            self._exec("UPDATE documents SET current=1, updated_at=? WHERE doc_id=? AND version=? "
                       "AND collection=?", (time.time(), doc_id, prev[0][0], collection))
            return str(prev[0][0])

    def set_flags(self, doc_id: str, version: str, flags: list[str], display_name: str = "") -> None:
        self._exec("UPDATE documents SET flags=?, display_name=? WHERE doc_id=? AND version=?",
                   (json.dumps(flags), display_name or None, doc_id, version))

    def delete_document(self, doc_id: str) -> int:
        with self._lock:
            n = len(self._exec("DELETE FROM documents WHERE doc_id=? RETURNING doc_id", (doc_id,)))
            self._exec("DELETE FROM texts WHERE doc_id=?", (doc_id,))
        return n

    def forget_collection(self, collection: str) -> int:
        """Drop every version row of one collection (its vectors are being rebuilt)."""
        return len(self._exec("DELETE FROM documents WHERE collection=? RETURNING doc_id", (collection,)))

    def put_text(self, doc_id: str, version: str, text: str) -> None:
        self._exec("INSERT OR REPLACE INTO texts (doc_id, version, text) VALUES (?, ?, ?)",
                   (doc_id, version, text))

    def get_text(self, doc_id: str, version: str) -> str | None:
        rows = self._exec("SELECT text FROM texts WHERE doc_id=? AND version=?", (doc_id, version))
        return rows[0][0] if rows else None

    def audit(self, actor: str, action: str, doc_id: str | None = None, version: str | None = None,
              detail: str = "") -> None:
        self._exec("INSERT INTO audit (ts, actor, action, doc_id, version, detail) VALUES (?,?,?,?,?,?)",
                   (time.time(), actor, action, doc_id, version, detail[:1000]))

    def audit_log(self, limit: int = 200, doc_id: str | None = None) -> list[dict[str, Any]]:
        if doc_id:
            rows = self._exec("SELECT * FROM audit WHERE doc_id=? ORDER BY id DESC LIMIT ?", (doc_id, limit))
        else:
            rows = self._exec("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    # -- sign-in throttling ---------------------------------------------------------------------
    def login_state(self, username: str) -> tuple[int, float]:
        rows = self._exec("SELECT failures, locked_until FROM login_attempts WHERE username=?", (username,))
        return (int(rows[0][0]), float(rows[0][1])) if rows else (0, 0.0)

    def record_login(self, username: str, ok: bool, locked_until: float = 0.0) -> None:
        if ok:
            self._exec("DELETE FROM login_attempts WHERE username=?", (username,))
        else:
            self._exec("INSERT INTO login_attempts (username, failures, locked_until) VALUES (?, 1, ?) "
                       "ON CONFLICT(username) DO UPDATE SET failures=failures+1, locked_until=?",
                       (username, locked_until, locked_until))

    def retire(self, doc_id: str, collection: str) -> list[str]:
        rows = self._exec("UPDATE documents SET current=0, updated_at=? WHERE doc_id=? AND collection=? "
                          "AND current=1 RETURNING version", (time.time(), doc_id, collection))
        return [r[0] for r in rows]

    def replace_referrals(self, referrals: Iterable[Referral]) -> int:
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            cur.execute("DELETE FROM referrals")
            n = 0
            for r in referrals:
                cur.execute("INSERT INTO referrals (id, data) VALUES (?, ?)",
                            (r.id, json.dumps(asdict(r))))
                n += 1
            cur.execute("COMMIT")
        return n

    # -- feedback on answers (no account, no session: ``assistant/feedback.py`` redacts first) ---
    def put_feedback(self, row: dict[str, Any]) -> None:
        """Store one answer's feedback, or update it in place (same ``id``): never a second row.
        One transaction, so a crash keeps either the old row or the new one."""
        cols = ("id", "question", "place", "language", "mode", "rating", "reasons", "comment",
                "citations", "facts")
        vals = [json.dumps(list(row[c])) if c in ("reasons", "citations", "facts") else row[c]
                for c in cols]
        now = time.time()
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.execute(f"INSERT INTO feedback ({','.join(cols)}, created_at, updated_at) VALUES "
                            f"({','.join('?' * len(cols))}, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                            + ", ".join(f"{c}=excluded.{c}" for c in cols[1:])
                            + ", updated_at=excluded.updated_at", (*vals, now, now))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def withdraw_feedback(self, feedback_id: str) -> bool:
        """The reader took their thumbs back (clicked it again)."""
        return bool(self._exec("DELETE FROM feedback WHERE id=? RETURNING id", (feedback_id,)))

    def feedback(self, rating: str | None = None) -> list[dict[str, Any]]:
        """Stored feedback, newest first; ``rating`` 'up' or 'down' keeps only those."""
        sql, args = "SELECT * FROM feedback", []
        if rating:
            sql, args = sql + " WHERE rating=?", [rating]
        out = []
        for r in self._exec(sql + " ORDER BY updated_at DESC, id", args):
            d = dict(r)
            for k in ("reasons", "citations", "facts"):
                d[k] = json.loads(d[k] or "[]")
            out.append(d)
        return out

    # -- reads ---------------------------------------------------------------------------------
    def get(self, doc_id: str, version: str, collection: str) -> dict[str, Any] | None:
        rows = self._exec("SELECT * FROM documents WHERE doc_id=? AND version=? AND collection=?",
                          (doc_id, version, collection))
        return _row(rows[0]) if rows else None

    def _generation(self) -> tuple[int, int]:
        """Changes whenever this connection or any other process writes the catalog."""
        with self._lock:
            return self._db.total_changes, self._db.execute("PRAGMA data_version").fetchone()[0]

    def visible(self, collection: str, include_drafts: bool = False) -> dict[str, dict[str, Any]]:
        """The version of each document that retrieval may use (see ``_visible``); memoised until
        the catalog changes, since every question asks several times."""
        key = (collection, include_drafts, self._generation())
        hit = self._memo.get("visible")
        if hit is not None and hit[0] == key:
            return dict(hit[1])
        got = self._visible(collection, include_drafts)
        self._memo["visible"] = (key, got)
        return dict(got)

    def _visible(self, collection: str, include_drafts: bool = False) -> dict[str, dict[str, Any]]:
        """The version of each document that retrieval may use.

        Signed-in reviewers (include_drafts) see the newest indexed version, draft or not. The public
        sees the newest *approved* indexed version, so a draft update never hides or replaces the
        approved text until a reviewer approves it. Taken-down documents are visible to no one.
        """
        down = self.taken_down()
        if include_drafts:
            return {k: v for k, v in self.current(collection, include_drafts=True).items()
                    if v["review_status"] not in ("taken_down", "rejected") and k not in down}
        # A document retired from the manifest (--prune) has no current version: nobody sees it.
        # A taken-down document is hidden until it is restored or a new version is approved.
        rows = self._exec(
            "SELECT * FROM documents WHERE collection=? AND status='indexed' AND review_status='approved' "
            "AND doc_id NOT IN (SELECT doc_id FROM takedowns) "
            "AND doc_id IN (SELECT doc_id FROM documents WHERE collection=? AND current=1) "
            "ORDER BY created_at", (collection, collection))
        return {r["doc_id"]: _row(r) for r in rows}  # later rows win: newest approved version

    def current(self, collection: str, include_drafts: bool = False) -> dict[str, dict[str, Any]]:
        sql = "SELECT * FROM documents WHERE collection=? AND current=1 AND status='indexed'"
        if not include_drafts:
            sql += " AND review_status='approved'"
        return {r["doc_id"]: _row(r) for r in self._exec(sql, (collection,))}

    def documents(self, collection: str | None = None) -> list[dict[str, Any]]:
        if collection:
            rows = self._exec("SELECT * FROM documents WHERE collection=? ORDER BY doc_id, created_at",
                              (collection,))
        else:
            rows = self._exec("SELECT * FROM documents ORDER BY doc_id, created_at")
        return [_row(r) for r in rows]

    def pending(self, collection: str) -> list[dict[str, Any]]:
        return [_row(r) for r in self._exec(
            "SELECT * FROM documents WHERE collection=? AND status='pending'", (collection,))]

    def known_versions(self, collection: str) -> set[tuple[str, str]]:
        return {(r[0], r[1]) for r in self._exec(
            "SELECT doc_id, version FROM documents WHERE collection=? AND status='indexed'",
            (collection,))}

    def referrals(self) -> list[Referral]:
        out = []
        for r in self._exec("SELECT data FROM referrals ORDER BY id"):
            d = json.loads(r[0])
            for k in ("jurisdictions", "issues", "languages", "worker_types"):
                d[k] = tuple(d.get(k) or ())
            out.append(Referral(**d))
        return out


def _row(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["topics"] = json.loads(d.get("topics") or "[]")
    d["worker_types"] = json.loads(d.get("worker_types") or "[]")
    d["flags"] = json.loads(d.get("flags") or "[]")
    d["current"] = bool(d["current"])
    return d


def row_to_meta(row: dict[str, Any]) -> DocMeta:
    return DocMeta(**{f: (tuple(row.get(f) or ()) if f in ("topics", "worker_types") else (row[f] or ""))
                      for f in META_FIELDS})

"""The only module that imports chromadb. Embedded PersistentClient (one process) or HttpClient.

Chroma is thread-safe but not process-safe: in embedded mode this module takes an exclusive lock
file in the data dir, and a second process gets ``IndexLocked`` with instructions instead of a hang.
Chroma never embeds for us: vectors are always passed in.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from .errors import IndexDamaged, IndexLocked, StoreUnavailable
from .types import Chunk, DocMeta

T = TypeVar("T")
LOCK_NAME = "index.lock"


class _ProcessLock:
    """Exclusive, non-blocking advisory lock on ``path`` held for the life of the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: Any = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            if os.name == "nt":  # pragma: no cover
                import msvcrt

                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise IndexLocked(
                f"The index in {self.path.parent} is already open in another process ({holder}). "
                "The embedded index allows one process at a time: stop the other process (for example "
                "the running app) and retry, or run a Chroma server (`chroma run --path DIR --host "
                "127.0.0.1`) and set GIGRIGHTS_CHROMA_HOST / GIGRIGHTS_CHROMA_PORT in every process."
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def collection_name(embedder_name: str) -> str:
    return "chunks__" + re.sub(r"[^a-zA-Z0-9_-]", "-", embedder_name)[:50]


class VectorStore:
    """Chunks with flat metadata in one Chroma collection named after the embedder."""

    def __init__(self, *, data_dir: Path, embedder_name: str, host: str | None = None,
                 port: int = 8000, timeout_s: float = 10.0) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.timeout_s = timeout_s
        self.embedded = host is None
        self._lock: _ProcessLock | None = None
        # Our own deadline (Chroma's HTTP client has none): each call runs in a daemon thread, at
        # most MAX_STUCK at once, so a server that accepts and never answers neither piles up
        # threads nor keeps the process from exiting (a pool's workers are joined at exit).
        self._slots = threading.BoundedSemaphore(self.MAX_STUCK)
        self._csettings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        self.name = collection_name(embedder_name)
        if self.embedded:
            self._lock = _ProcessLock(Path(data_dir) / LOCK_NAME)
            self._lock.acquire()
            try:
                self._client = chromadb.PersistentClient(path=str(Path(data_dir) / "chroma"),
                                                         settings=self._csettings)
            except Exception as exc:
                self._lock.release()
                raise StoreUnavailable(f"The index in {data_dir} could not be opened ({exc}). If it is "
                                       "damaged, delete that directory and rebuild it with "
                                       "`gigrights ingest --manifest corpus/manifest.yaml`.") from exc
        else:
            self.host, self.port = host, port
            try:
                self._client = self._connect()
            except StoreUnavailable:
                self._client = None  # server down at start: _collection() connects on first use
        self._col: Any = None
        self._col_lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------------------
    MAX_STUCK = 4

    def _call(self, fn: Callable[[], T]) -> T:
        if not self._slots.acquire(timeout=self.timeout_s):
            raise StoreUnavailable("The knowledge base is not answering (earlier requests are still "
                                   "waiting for it). Please try again in a minute.")
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # noqa: BLE001  (handed to the caller below)
                box["error"] = exc
            finally:
                self._slots.release()
                done.set()

        threading.Thread(target=run, name="chroma-call", daemon=True).start()
        if not done.wait(self.timeout_s):
            raise StoreUnavailable("The knowledge base did not answer in time. Please try again in a "
                                   "minute.")
        if "error" not in box:
            return box["value"]
        exc = box["error"]
        if isinstance(exc, StoreUnavailable) or not isinstance(exc, Exception):
            raise exc
        if type(exc).__name__ == "InternalError" and "finding id" in str(exc):
            raise IndexDamaged(
                "The knowledge base index is damaged (probably by a crash while it was being "
                "written) and must be rebuilt. An operator can run `gigrights ingest --rebuild "
                "--manifest corpus/manifest.yaml`; documents are re-read from their stored "
                "files.") from exc
        raise StoreUnavailable(f"The knowledge base is temporarily unavailable ({type(exc).__name__}: "
                               f"{exc}).") from exc

    def _connect(self) -> Any:
        import chromadb

        return self._call(lambda: chromadb.HttpClient(host=self.host, port=self.port,
                                                      settings=self._csettings))

    def _collection(self) -> Any:
        with self._col_lock:
            if self._col is None:
                if self._client is None:
                    self._client = self._connect()
                client = self._client
                self._col = self._call(lambda: client.get_or_create_collection(
                    self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}))
            return self._col

    def drop(self) -> None:
        """Delete this embedder's collection (for a rebuild); the next call recreates it empty."""
        with self._col_lock:
            client = self._client
            try:
                self._call(lambda: client.delete_collection(self.name))
            except StoreUnavailable as exc:
                if "does not exist" not in str(exc):
                    raise
            self._col = None

    def close(self) -> None:
        if self._lock:
            self._lock.release()

    # -- writes ---------------------------------------------------------------------------------
    def upsert(self, meta: DocMeta, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]],
               batch: int = 256) -> None:
        col = self._collection()
        for i in range(0, len(chunks), batch):
            part = chunks[i:i + batch]
            metas = [chunk_metadata(meta, c) for c in part]
            vecs = [list(v) for v in vectors[i:i + batch]]
            ids, docs = [c.id for c in part], [c.text for c in part]
            self._call(lambda ids=ids, vecs=vecs, docs=docs, metas=metas: col.upsert(
                ids=ids, embeddings=vecs, documents=docs, metadatas=metas))

    def delete_version(self, doc_id: str, version: str) -> None:
        col = self._collection()
        self._call(lambda: col.delete(where={"$and": [{"doc_id": doc_id}, {"version": version}]}))

    # -- reads ----------------------------------------------------------------------------------
    def query(self, vector: Sequence[float], k: int, where: dict[str, Any] | None) -> list[dict[str, Any]]:
        col = self._collection()
        res = self._call(lambda: col.query(query_embeddings=[list(vector)], n_results=k, where=where,
                                           include=["documents", "metadatas", "distances"]))
        out = []
        for cid, doc, meta, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0],
                                        res["distances"][0]):
            out.append({"id": cid, "text": doc, "meta": meta, "score": 1.0 - float(dist)})
        return out

    def get_with_vectors(self, ids: list[str]) -> list[dict[str, Any]]:
        """Chunks by id with their stored vectors (for candidates found by lexical search)."""
        if not ids:
            return []
        col = self._collection()
        got = self._call(lambda: col.get(ids=ids, include=["documents", "metadatas", "embeddings"]))
        return [{"id": i, "text": d, "meta": m, "vector": v}
                for i, d, m, v in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])]

    def versions_present(self) -> set[tuple[str, str]]:
        col = self._collection()
        got = self._call(lambda: col.get(include=["metadatas"]))
        return {(m["doc_id"], m["version"]) for m in got["metadatas"]}

    def count(self, where: dict[str, Any] | None = None) -> int:
        col = self._collection()
        if where is None:
            return int(self._call(col.count))
        return len(self._call(lambda: col.get(where=where, include=[]))["ids"])

    def all_chunks(self, where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        col = self._collection()
        got = self._call(lambda: col.get(where=where, include=["documents", "metadatas"]))
        return [{"id": i, "text": d, "meta": m}
                for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]


def chunk_metadata(meta: DocMeta, c: Chunk) -> dict[str, Any]:
    """Flat Chroma metadata (no None values, no lists)."""
    return {
        "doc_id": meta.doc_id, "version": c.version, "title": meta.title, "doc_type": meta.doc_type,
        "jurisdiction": meta.jurisdiction, "language": meta.language,
        "topics": ",".join(meta.topics), "source_url": meta.source_url, "publisher": meta.publisher,
        "effective_date": meta.effective_date, "last_verified": meta.last_verified,
        "review_status": meta.review_status, "added_by": meta.added_by,
        "section": c.section, "page": c.page if c.page is not None else -1,
        "char_start": c.char_start, "char_end": c.char_end, "tokens": c.tokens, "chunk_index": c.index,
        "sec_rule": c.rule, "sec_source_url": c.source_url, "sec_effective": c.effective,
        "sec_verified": c.verified,
    }

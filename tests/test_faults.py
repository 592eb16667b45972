"""Faults survived: kill -9 in the middle of an ingest, and a Chroma server that is down at start."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from assistant.config import load_settings
from assistant.core import build_assistant
from assistant.errors import StoreUnavailable
from conftest import ROOT, start_chroma
from ingest.pipeline import Ingestor


def _invariants(data_dir, embedder, chroma_port=None, pending=()):
    """Every visible version has exactly its chunks, and exactly the documents in ``pending`` have
    an unfinished version (one an ingest began and never committed or failed). Returns how many
    documents are visible."""
    server = {"chroma_host": "127.0.0.1", "chroma_port": chroma_port} if chroma_port else {}
    a = build_assistant(load_settings(data_dir=data_dir, **server), embedder=embedder)
    try:
        visible = a.catalog.current(a.store.name, include_drafts=True)
        for doc_id, row in visible.items():
            n = a.store.count({"$and": [{"doc_id": doc_id}, {"version": row["version"]}]})
            assert n == row["chunk_count"], (doc_id, n, row["chunk_count"])
        assert sorted(r["doc_id"] for r in a.catalog.pending(a.store.name)) == sorted(pending)
        return len(visible)
    finally:
        a.close()


SEATTLE_V2 = "\n".join(
    f"## Seattle deactivation rule {n}\n\nRule {n} of the 2025 update: a Seattle app company must keep "
    f"record number {n} of every deactivation for three years and show it to the worker on request. "
    "The record has to name the policy that was applied, the facts the company relied on and the person "
    "who reviewed the decision, so that the worker can answer each point in the review.\n"
    for n in range(1, 9))
Q = ("Can the app deactivate me without telling me why?", "US-WA-Seattle")


@pytest.mark.timeout(600)
def test_kill_9_while_an_update_writes_its_chunks_keeps_the_previous_version(tmp_path, corpus, index_copy,
                                                                              embedder):
    """kill -9 of `gigrights ingest` while the chunks of a new version are being written (the kill
    waits for the ingest's own "writing chunks" log line). The new version is left pending and is
    never visible; the next ingest's repair fails it and deletes its chunks; the previous version
    stays visible with all its chunks the whole time; a rerun then publishes the update."""
    import shutil

    src = tmp_path / "corpus"
    shutil.copytree(corpus.parent, src)
    doc = src / "docs" / "seattle-deact.md"
    doc.write_text(doc.read_text(encoding="utf-8") + "\n" + SEATTLE_V2, encoding="utf-8")
    a = build_assistant(load_settings(data_dir=index_copy), embedder=embedder)
    try:
        old = a.catalog.visible(a.store.name)["seattle-deact"]
        old_quote = a.ask(*Q).citations[0].quote
    finally:
        a.close()
    env = {**os.environ, "GIGRIGHTS_DATA_DIR": str(index_copy), "GIGRIGHTS_EMBED_BATCH_SIZE": "1",
           "GIGRIGHTS_LOG_LEVEL": "INFO"}
    cmd = [sys.executable, "-m", "ingest", "ingest", "--manifest", str(src / "manifest.yaml"), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    seen = []
    try:
        for line in proc.stderr:
            if "writing chunks" in line:
                seen.append(line.strip())
                if line.split()[-1] == "seattle-deact" and line.split()[-3] == "3-3":
                    proc.send_signal(signal.SIGKILL)  # chunks 1-2 are written, chunk 3 is on its way
                    break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"the ingest ended before its 3rd write: {seen}"
    assert all(s.endswith("seattle-deact") for s in seen), seen  # only the changed document is written

    a = build_assistant(load_settings(data_dir=index_copy), embedder=embedder)
    try:
        col = a.store.name
        [cut] = a.catalog.pending(col)  # the interrupted version, and only it
        assert cut["doc_id"] == "seattle-deact" and cut["version"] != old["version"]
        new_chunks = {"$and": [{"doc_id": "seattle-deact"}, {"version": cut["version"]}]}
        assert a.store.count(new_chunks) >= 2  # the half-written version is in the store...
        assert a.catalog.visible(col)["seattle-deact"]["version"] == old["version"]  # ...but not visible
        assert a.ask(*Q).citations[0].quote == old_quote

        fixed = Ingestor(a.settings, embedder, a.store, a.catalog).reconcile()
        assert fixed == {"interrupted": 1, "orphans": 0}
        assert a.catalog.pending(col) == [] and a.store.count(new_chunks) == 0
        row = a.catalog.get("seattle-deact", cut["version"], col)
        assert row["status"] == "failed" and not row["current"] and "Interrupted" in row["error"]
        assert a.catalog.visible(col)["seattle-deact"]["version"] == old["version"]
        assert a.store.versions_present() == {(d, r["version"]) for d, r in a.catalog.visible(col).items()}
        assert a.ask(*Q).citations[0].quote == old_quote
    finally:
        a.close()
    assert _invariants(index_copy, embedder) == 7

    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "updated 1, unchanged 6, failed 0" in out.stdout, out.stdout + out.stderr
    assert _invariants(index_copy, embedder) == 7
    a = build_assistant(load_settings(data_dir=index_copy), embedder=embedder)
    try:
        now = a.catalog.visible(a.store.name)["seattle-deact"]
        assert now["version"] == cut["version"] and now["chunk_count"] > old["chunk_count"]
    finally:
        a.close()
    out = subprocess.run(cmd[:4] + ["--rebuild"] + cmd[4:], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert "rebuilt 7 document versions" in out.stdout and "failed 0" in out.stdout, out.stdout + out.stderr
    assert _invariants(index_copy, embedder) == 7


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.server
@pytest.mark.timeout(300)
def test_chroma_server_down_at_start_then_back(tmp_path, corpus, embedder):
    from ingest.manifest import load_manifest
    from ingest.pipeline import Ingestor

    port = _free_port()

    def start():
        return start_chroma(tmp_path / "srv", port)

    s = load_settings(data_dir=tmp_path / "catalog", chroma_host="127.0.0.1", chroma_port=port,
                      store_timeout_s=5)
    q = "What is the minimum pay for delivery workers in NYC?"
    proc = start()
    a = build_assistant(s, embedder=embedder)
    assert Ingestor(s, embedder, a.store, a.catalog).ingest_manifest(load_manifest(corpus)).count("failed") == 0
    a.close()
    proc.terminate()
    proc.wait(timeout=30)
    a = build_assistant(s, embedder=embedder)  # the server is down: the app still starts
    proc = None
    try:
        with pytest.raises(StoreUnavailable, match="temporarily unavailable"):
            a.ask(q)
        proc = start()
        assert a.ask(q).citations[0].doc_id == "nyc-pay"  # recovered without a restart
    finally:
        a.close()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)


def _server_settings(tmp_path, port):
    return load_settings(data_dir=tmp_path / "catalog", chroma_host="127.0.0.1", chroma_port=port,
                         store_timeout_s=5)


@pytest.mark.server
@pytest.mark.timeout(600)
def test_kill_9_of_the_chroma_server_while_chunks_are_written(tmp_path, corpus, embedder):
    """The server dies in the middle of an ingest: the ingest says so and exits, the catalog never
    claims chunks the server lost, and a rerun after a restart completes (issue 10, item 15)."""
    port = _free_port()
    server = start_chroma(tmp_path / "srv", port)
    env = {**os.environ, "GIGRIGHTS_DATA_DIR": str(tmp_path / "catalog"), "GIGRIGHTS_CHROMA_HOST": "127.0.0.1",
           "GIGRIGHTS_CHROMA_PORT": str(port), "GIGRIGHTS_STORE_TIMEOUT_S": "5",
           "GIGRIGHTS_EMBED_BATCH_SIZE": "1", "GIGRIGHTS_LOG_LEVEL": "INFO"}
    cmd = [sys.executable, "-m", "ingest", "ingest", "--manifest", str(corpus), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writes = 0
    try:
        for line in proc.stderr:  # kill inside the write window: after the 6th batch of chunks (of 11)
            writes += "writing chunks" in line
            if writes == 6:
                server.kill()
                server.wait(timeout=30)
                break
        out, err = proc.communicate(timeout=300)  # it must exit on its own
    finally:
        if proc.poll() is None:
            proc.kill()
        if server.poll() is None:
            server.kill()
    assert writes == 6, "the ingest never reached its 6th write"
    assert proc.returncode in (1, 2) and "temporarily unavailable" in out + err, out + err
    assert "Traceback" not in err
    server = start_chroma(tmp_path / "srv", port)  # the same data, restarted
    try:
        assert _invariants(tmp_path / "catalog", embedder, chroma_port=port) < 7  # the documents the kill interrupted are not current
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and "failed 0" in r.stdout, r.stdout + r.stderr
        assert _invariants(tmp_path / "catalog", embedder, chroma_port=port) == 7
        a = build_assistant(_server_settings(tmp_path, port), embedder=embedder)
        try:
            assert a.ask("What is the minimum pay for delivery workers in NYC?").citations[0].doc_id == "nyc-pay"
        finally:
            a.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.server
@pytest.mark.timeout(300)
def test_a_stopped_server_fails_questions_in_time_and_they_work_when_it_resumes(tmp_path, corpus, embedder):
    """SIGSTOP of `chroma run` during questions: each question fails within the store deadline with
    a message, never hangs, and the same process answers again after SIGCONT (issue 10, item 15)."""
    from ingest.manifest import load_manifest
    from ingest.pipeline import Ingestor

    port = _free_port()
    server = start_chroma(tmp_path / "srv", port)
    s = _server_settings(tmp_path, port)
    a = build_assistant(s, embedder=embedder)
    try:
        assert Ingestor(s, embedder, a.store, a.catalog).ingest_manifest(load_manifest(corpus)).count("failed") == 0
        q = "What is the minimum pay for delivery workers in NYC?"
        assert a.ask(q).citations[0].doc_id == "nyc-pay"
        server.send_signal(signal.SIGSTOP)
        try:
            for _ in range(6):  # more questions than the store's call slots
                t0 = time.monotonic()
                with pytest.raises(StoreUnavailable, match="did not answer in time|not answering"):
                    a.ask(q)
                assert time.monotonic() - t0 < 3 * s.store_timeout_s
        finally:
            server.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 60
        while True:  # the stuck calls drain once the server runs again
            try:
                assert a.ask(q).citations[0].doc_id == "nyc-pay"
                break
            except StoreUnavailable:
                assert time.monotonic() < deadline, "no answer a minute after the server resumed"
    finally:
        a.close()
        server.terminate()
        server.wait(timeout=30)

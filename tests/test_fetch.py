"""`ingest --fetch` against a local HTTP server on 127.0.0.1 serving fixture files."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.core import build_assistant
from assistant.types import DocMeta
from conftest import PDF_PAGES, make_pdf, settings_for
from ingest.fetch import FetchError, download, fetch_official
from ingest.manifest import Manifest, OfficialSource
from ingest.pipeline import Ingestor

STATUTE = b"""<html><head><title>Labor Code 2775</title><script>track()</script></head><body>
<nav>Home</nav><h1>LABOR CODE - LAB</h1><p>Section 2775.</p>
<p>(b) (1) For purposes of this code, a person providing labor or services for remuneration shall be
considered an employee rather than an independent contractor unless the hiring entity demonstrates
that all of the following conditions are satisfied.</p></body></html>"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pdf = make_pdf(tmp_path_factory.mktemp("fx") / "wa.pdf", PDF_PAGES).read_bytes()

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):  # noqa: N802
            routes = {"/statute": (200, "text/html; charset=utf-8", STATUTE),
                      "/rule.pdf": (200, "application/pdf", pdf),
                      "/big": (200, "text/html", b"<p>x</p>" * 400_000),
                      "/zip": (200, "application/zip", b"PK\x03\x04"),
                      }
            if self.path == "/slow":
                time.sleep(3)
            if self.path.startswith("/redirect-to/"):  # a public-looking page that bounces inward
                self.send_response(302)
                self.send_header("location", "http://127.0.0.1:" + self.path.rsplit("/", 1)[1] + "/api")
                self.end_headers()
                return
            code, ctype, body = routes.get(self.path, (404, "text/plain", b"not found"))
            self.send_response(code)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def _src(doc_id, url, doc_type="law", jur="US-CA"):
    return OfficialSource(DocMeta(doc_id=doc_id, title=doc_id.replace("-", " "), doc_type=doc_type,
                                  jurisdiction=jur, source_url=url, effective_date="2020-01-01",
                                  added_by="fetch"), url)


def _host(url):
    return url.split("//", 1)[1].split("/", 1)[0]


def test_fetch_indexes_official_texts_and_reports_failures(tmp_path, server, embedder):
    s = settings_for(tmp_path / "data", ingest_max_mb=1.0, fetch_allow_hosts=_host(server))
    a = build_assistant(s, embedder=embedder)
    try:
        ing = Ingestor(s, embedder, a.store, a.catalog)
        sources = [_src("ca-lab-2775", f"{server}/statute"),
                   _src("wa-rule", f"{server}/rule.pdf", "regulation", "US-WA"),
                   _src("missing", f"{server}/nope"), _src("huge", f"{server}/big"),
                   _src("zip", f"{server}/zip"), _src("slow", f"{server}/slow")]
        report = fetch_official(Manifest(root=tmp_path), ing, sources=sources, timeout_s=1.0)
        by_id = {o.doc_id: o for o in report.outcomes}
        assert by_id["ca-lab-2775"].status == "added" and by_id["wa-rule"].status == "added"
        assert "HTTP 404" in by_id["missing"].reason
        assert "too large" in by_id["huge"].reason
        assert "unsupported content type" in by_id["zip"].reason
        assert "could not connect" in by_id["slow"].reason
        ans = a.ask("Am I an employee or an independent contractor in California?", "US-CA")
        top = ans.citations[0]
        assert top.doc_id == "ca-lab-2775" and top.doc_type == "law"
        assert "hiring entity demonstrates" in top.quote and "track()" not in top.quote
        assert top.source_url == f"{server}/statute"
        assert a.catalog.current(a.store.name)["wa-rule"]["last_verified"]  # fetch date recorded
        assert a.store.count({"doc_id": "huge"}) == 0
    finally:
        a.close()


def test_only_https_or_loopback(tmp_path):
    with pytest.raises(FetchError, match="https"):
        download("http://example.org/x", tmp_path, timeout_s=1, max_bytes=10)
    with pytest.raises(FetchError, match="https"):
        download("file:///etc/passwd", tmp_path, timeout_s=1, max_bytes=10)


def test_local_and_private_targets_are_refused_unless_allowed(tmp_path, server):
    """Regression: http to loopback was allowed in production, so an editor could make the server
    fetch the unauthenticated Chroma API on 127.0.0.1:8000."""
    for url in (f"{server}/statute", "http://127.0.0.1:8000/api/v2/heartbeat", "https://127.0.0.1/x",
                "https://localhost/x", "https://10.1.2.3/x", "https://169.254.169.254/latest/meta-data",
                "https://[::1]/x"):
        with pytest.raises(FetchError):
            download(url, tmp_path, timeout_s=1, max_bytes=1000)
    path, suffix = download(f"{server}/statute", tmp_path, timeout_s=2, max_bytes=100_000,
                            allow_hosts=[_host(server)])
    assert suffix == ".html" and path.read_bytes().startswith(b"<html>")


def test_every_redirect_hop_is_checked(tmp_path, server):
    """Regression: redirects were not re-checked; an allowed page could bounce to a local service."""
    with pytest.raises(FetchError, match="local or private|https"):
        download(f"{server}/redirect-to/8000", tmp_path, timeout_s=2, max_bytes=1000,
                 allow_hosts=[_host(server)])

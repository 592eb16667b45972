"""The shipped starter corpus: manifest fields, coverage, sources on every figure, reading level."""
from __future__ import annotations

import re

import pytest

from conftest import ROOT
from ingest.manifest import TOPICS, coverage, load_manifest
from ingest.readability import fk_grade, prose
from ingest.splitter import source_block

MANIFEST = ROOT / "corpus" / "manifest.yaml"
MONEY = re.compile(r"[$£€]\s?\d")


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(MANIFEST)


def test_manifest_is_valid(manifest):
    assert manifest.problems == []  # dates parse, https URLs, known lists, files exist, ids unique


def test_size_and_spanish(manifest):
    docs = manifest.documents
    assert len(docs) >= 40
    spanish = [d for d in docs if d.meta.language == "es"]
    assert len(spanish) >= 10
    ids = {d.meta.doc_id for d in docs}
    for d in spanish:
        assert d.meta.translation_of in ids and d.meta.translation_of != d.meta.doc_id


def test_every_cell_is_covered_or_explicitly_not(manifest):
    cells = coverage(manifest)
    missing = [k for k, (state, _) in cells.items() if state == "missing"]
    assert missing == []
    assert len(cells) == 17 * len(TOPICS)  # 14 + Mexico (MX), Canada federal (CA) and British Columbia (CA-BC)


def test_referral_directory(manifest):
    refs = manifest.referrals
    assert len(refs) >= 35
    assert {j for r in refs for j in r.jurisdictions} >= {"US", "US-CA", "US-NY-NYC", "US-WA-Seattle",
                                                          "EU", "UK", "CA-ON", "CA", "CA-BC"}
    assert all(r.url.startswith("https://") for r in refs)


def _sections(text):
    parts = re.split(r"^## ", text, flags=re.M)
    return [p for p in parts[1:]]


def test_every_section_states_its_source_and_dates(manifest):
    problems = []
    for d in manifest.documents:
        for sec in _sections(d.path.read_text(encoding="utf-8")):
            head = sec.splitlines()[0]
            src = source_block(sec)
            if MONEY.search(sec) and not {"source_url", "effective", "verified"} <= set(src):
                problems.append(f"{d.meta.doc_id} / {head}: money figure without full source block")
            if src.get("verified") and not re.match(r"\d{4}-\d{2}-\d{2}", src["verified"]):
                problems.append(f"{d.meta.doc_id} / {head}: last verified is not a date")
    assert problems == []


RATE = re.compile(r"[$£€]\s?\d[\d.,]*\s*(?:an?|per|/|por)\s*(?:hour|hr|mile|minute|trip|offer|hora|"
                  r"milla|minuto|viaje)", re.I)


def test_time_sensitive_rates_are_dated(manifest):
    """Pay rates that adjust (per hour / mile / minute) say which date they apply from."""
    undated = []
    for d in manifest.documents:
        for sec in _sections(d.path.read_text(encoding="utf-8")):
            body = prose(sec)
            if RATE.search(body) and not re.search(r"\b(19|20)\d{2}\b", body):
                undated.append(f"{d.meta.doc_id} / {sec.splitlines()[0]}")
    assert undated == []


def test_english_reading_level(manifest):
    grades = {d.meta.doc_id: fk_grade(prose(d.path.read_text(encoding="utf-8")))
              for d in manifest.documents if d.meta.language == "en"}
    assert sum(grades.values()) / len(grades) <= 8.0
    assert max(grades.values()) <= 9.0, max(grades.items(), key=lambda kv: kv[1])


def test_coverage_doc_is_current():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "corpus_coverage.py")],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert out == (ROOT / "docs" / "corpus-coverage.md").read_text(encoding="utf-8"), \
        "docs/corpus-coverage.md is stale: run `make coverage`"


def test_manifest_rejects_unknown_codes_and_kinds_of_work(tmp_path):
    import yaml

    from ingest.manifest import load_manifest

    (tmp_path / "d.md").write_text("# D\n\n## S\n\nText about pay.\n", encoding="utf-8")
    entry = {"doc_id": "philly-pay", "title": "D", "path": "d.md", "doc_type": "guide", "jurisdiction": "US-PA-Philadelphia",
             "language": "en", "topics": ["minimum_pay"], "source_urls": ["https://example.org/d"],
             "publisher": "T", "effective_date": "2025-01-01", "last_verified": "2026-11-01",
             "review_status": "approved", "worker_types": ["delivery"]}
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump({"documents": [entry]}))
    m = load_manifest(tmp_path / "manifest.yaml")
    assert m.problems == [] and m.documents[0].meta.worker_types == ("delivery",)
    bad = {**entry, "jurisdiction": "US-ZZ", "worker_types": ["astronaut"]}
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump({"documents": [bad]}))
    problems = " ".join(load_manifest(tmp_path / "manifest.yaml").problems)
    assert "ISO 3166" in problems and "astronaut" in problems

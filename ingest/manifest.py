"""Load and validate corpus/manifest.yaml (documents, official sources, coverage gaps, referrals)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.types import DOC_TYPES, DocMeta, Referral
from assistant.understanding.places import valid_jurisdiction

TOPICS = ("classification", "minimum_pay", "tips", "expenses", "pay_transparency", "deactivation",
          "discrimination", "data_access", "health_insurance", "unemployment", "taxes", "retirement",
          "injury", "sick_leave", "organizing", "freelance_payment", "disputes", "training", "ai_work")
EXTRA_TOPICS = ("platform_terms", "referrals")
WORK_KINDS = ("rideshare", "delivery", "grocery", "courier", "freelance", "annotation", "care")
LANGUAGES = ("en", "es")
REVIEW = ("draft", "approved")
REFERRAL_KINDS = ("agency", "complaint_portal", "hotline", "legal_aid", "worker_center",
                  "driver_association", "union")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,80}$")
DOC_FIELDS = ("doc_id", "title", "path", "doc_type", "jurisdiction", "language", "topics",
              "source_urls", "publisher", "effective_date", "last_verified", "review_status")


class ManifestError(Exception):
    pass


@dataclass
class ManifestDoc:
    meta: DocMeta
    path: Path
    source_urls: tuple[str, ...]
    # A reviewer read what the loaders flag in this file (hidden text removed, say) and publishes
    # it anyway: the reason, in the manifest, where the review of the change happens.
    accept_flags: str = ""


@dataclass
class OfficialSource:
    meta: DocMeta
    url: str


@dataclass
class Manifest:
    root: Path
    documents: list[ManifestDoc] = field(default_factory=list)
    official_sources: list[OfficialSource] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def by_path(self, path: Path) -> ManifestDoc | None:
        rp = path.resolve()
        return next((d for d in self.documents if d.path.resolve() == rp), None)


def _date(v: Any, where: str, problems: list[str]) -> str:
    if isinstance(v, dt.date):
        return v.isoformat()
    try:
        return dt.date.fromisoformat(str(v)).isoformat()
    except ValueError:
        problems.append(f"{where}: date {v!r} is not YYYY-MM-DD")
        return str(v)


def _https(url: Any, where: str, problems: list[str]) -> None:
    if not isinstance(url, str) or not re.match(r"^https://[^\s/]+\.[^\s]+$", url):
        problems.append(f"{where}: URL {url!r} must be https://")


def _common(e: dict, where: str, problems: list[str]) -> None:
    if not _SLUG.match(str(e.get("doc_id", ""))):
        problems.append(f"{where}: doc_id {e.get('doc_id')!r} must be a lower-case slug")
    if e.get("doc_type") not in DOC_TYPES:
        problems.append(f"{where}: doc_type {e.get('doc_type')!r} not in {DOC_TYPES}")
    if not valid_jurisdiction(e.get("jurisdiction")):
        problems.append(f"{where}: jurisdiction {e.get('jurisdiction')!r} is not an ISO 3166 code "
                        "(US, US-WA, US-WA-Seattle, ES, CA-ON, EU, UK)")
    if e.get("language", "en") not in LANGUAGES:
        problems.append(f"{where}: language {e.get('language')!r} not in {LANGUAGES}")
    bad = [t for t in e.get("topics") or [] if t not in TOPICS + EXTRA_TOPICS]
    if bad or not e.get("topics"):
        problems.append(f"{where}: topics {bad or 'missing'} not in the known list")
    bad = [w for w in e.get("worker_types") or [] if w not in WORK_KINDS]
    if bad:
        problems.append(f"{where}: worker_types {bad} not in {WORK_KINDS} (leave it out for every kind)")


def load_manifest(path: Path) -> Manifest:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ManifestError(f"Cannot read manifest {path}: {exc}") from None
    root = Path(path).parent
    m = Manifest(root=root)
    p = m.problems
    ids: set[str] = set()
    for i, e in enumerate(raw.get("documents") or []):
        where = f"documents[{i}] ({e.get('doc_id')})"
        missing = [f for f in DOC_FIELDS if not e.get(f)]
        if missing:
            p.append(f"{where}: missing {', '.join(missing)}")
            continue
        _common(e, where, p)
        if e["doc_id"] in ids:
            p.append(f"{where}: duplicate doc_id")
        ids.add(e["doc_id"])
        for u in e["source_urls"]:
            _https(u, where, p)
        if e["review_status"] not in REVIEW:
            p.append(f"{where}: review_status must be one of {REVIEW}")
        doc_path = root / e["path"]
        if not doc_path.is_file():
            p.append(f"{where}: file {e['path']} does not exist")
        meta = DocMeta(doc_id=e["doc_id"], title=str(e["title"]), doc_type=e["doc_type"],
                       jurisdiction=e["jurisdiction"], language=e.get("language", "en"),
                       topics=tuple(e["topics"]), source_url=e["source_urls"][0],
                       publisher=str(e["publisher"]),
                       effective_date=_date(e["effective_date"], where, p),
                       last_verified=_date(e["last_verified"], where, p),
                       review_status=e["review_status"], added_by="manifest",
                       translation_of=e.get("translation_of") or "",
                       worker_types=tuple(e.get("worker_types") or ()))
        accept = e.get("accept_flags") or ""
        if accept and not isinstance(accept, str):
            p.append(f"{where}: accept_flags must say why the flagged file may be published")
            accept = ""
        m.documents.append(ManifestDoc(meta, doc_path, tuple(e["source_urls"]), accept))
    for d in m.documents:
        if d.meta.translation_of and d.meta.translation_of not in ids:
            p.append(f"{d.meta.doc_id}: translation_of {d.meta.translation_of!r} is not a document")
    for i, e in enumerate(raw.get("official_sources") or []):
        where = f"official_sources[{i}] ({e.get('doc_id')})"
        _common(e, where, p)
        _https(e.get("url"), where, p)
        if e.get("doc_type") not in ("law", "regulation", "agency_guidance", "court_decision"):
            p.append(f"{where}: official sources are law, regulation, agency_guidance or court_decision")
        if e.get("doc_id") in ids:
            p.append(f"{where}: duplicate doc_id")
        ids.add(str(e.get("doc_id")))
        m.official_sources.append(OfficialSource(DocMeta(
            doc_id=str(e.get("doc_id")), title=str(e.get("title", "")), doc_type=str(e.get("doc_type")),
            jurisdiction=str(e.get("jurisdiction")), language=e.get("language", "en"),
            topics=tuple(e.get("topics") or ()), source_url=str(e.get("url")),
            publisher=str(e.get("publisher", "")),
            effective_date=_date(e.get("effective_date", ""), where, p) if e.get("effective_date") else "",
            last_verified="", review_status="approved", added_by="fetch"), str(e.get("url"))))
    for i, g in enumerate(raw.get("no_specific_rule") or []):
        where = f"no_specific_rule[{i}]"
        if not valid_jurisdiction(g.get("jurisdiction")) or g.get("topic") not in TOPICS:
            p.append(f"{where}: unknown jurisdiction/topic {g.get('jurisdiction')}/{g.get('topic')}")
        if not g.get("general_rule"):
            p.append(f"{where}: general_rule is required")
        for s in g.get("see") or []:
            if s not in ids:
                p.append(f"{where}: see {s!r} is not a document")
        m.gaps.append(g)
    ref_path = root / "referrals.yaml"
    if ref_path.is_file():
        m.referrals = load_referrals(ref_path, p)
    return m


def load_referrals(path: Path, problems: list[str]) -> list[Referral]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out, seen = [], set()
    for i, r in enumerate(raw.get("referrals") or []):
        where = f"referrals[{i}] ({r.get('id')})"
        if not _SLUG.match(str(r.get("id", ""))) or r.get("id") in seen:
            problems.append(f"{where}: id must be a unique slug")
        seen.add(r.get("id"))
        if r.get("kind") not in REFERRAL_KINDS:
            problems.append(f"{where}: kind {r.get('kind')!r} not in {REFERRAL_KINDS}")
        if not r.get("jurisdictions") or not all(valid_jurisdiction(j) for j in r["jurisdictions"]):
            problems.append(f"{where}: jurisdictions must be ISO 3166 codes (US, ES, CA-ON, EU, UK ...)")
        _https(r.get("url"), where, problems)
        bad = [w for w in r.get("worker_types") or [] if w not in WORK_KINDS]
        if bad:
            problems.append(f"{where}: worker_types {bad} not in {WORK_KINDS} (leave it out for every kind)")
        out.append(Referral(id=str(r.get("id")), name=str(r.get("name")), kind=str(r.get("kind")),
                            url=str(r.get("url")), jurisdictions=tuple(r.get("jurisdictions") or ()),
                            issues=tuple(r.get("issues") or ()), languages=tuple(r.get("languages") or ()),
                            phone=r.get("phone") or None, how_to_reach=str(r.get("how_to_reach") or ""),
                            how_to_reach_es=str(r.get("how_to_reach_es") or ""),
                            worker_types=tuple(r.get("worker_types") or ())))
    return out


def jurisdictions(m: Manifest) -> list[str]:
    """The places the manifest has documents for, broadest first (US, US-CA, ..., EU, UK)."""
    return sorted({d.meta.jurisdiction for d in m.documents}, key=lambda j: (j.split("-")[0] != "US",
                                                                              j.count("-"), j))


def coverage(m: Manifest) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """(jurisdiction, topic) -> ("covered", doc_ids) | ("no specific rule", see) | ("missing", [])."""
    cells: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for j in jurisdictions(m):
        for t in TOPICS:
            docs = [d.meta.doc_id for d in m.documents if d.meta.jurisdiction == j and t in d.meta.topics
                    and d.meta.language == "en"]
            if docs:
                cells[(j, t)] = ("covered", docs)
                continue
            gap = next((g for g in m.gaps if g.get("jurisdiction") == j and g.get("topic") == t), None)
            cells[(j, t)] = ("no specific rule", list(gap.get("see") or [])) if gap else ("missing", [])
    return cells

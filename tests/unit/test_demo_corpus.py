"""The demo corpus, its metadata sidecar and the gold sets agree with each other.

Why: evals and the redaction checks score the pipeline against these files; a gold fact missing from its
document, a PHI value not actually planted, or an ACL that hides a question's document from the asking
groups would make the metric wrong, not the pipeline.
"""

from __future__ import annotations

import io
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup
from pypdf import PdfReader

from copilot.demo import render

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CORPUS = render.CORPUS_DIR
GOLD = ROOT / "evals" / "gold"
GROUPS = {"all_staff", "nursing", "pharmacy", "procurement", "finance", "biomed", "facilities", "it"}
GROUPS |= {"quality", "lab", "warehouse", "executive"}
FORMATS = ("pdf", "html", "md", "txt")
_FOLD = str.maketrans({"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})


def norm(text: str) -> str:
    """Case- and whitespace-insensitive form, so PDF line wraps and table cells do not hide a fact."""
    return re.sub(r"\s+", " ", text.translate(_FOLD)).strip().casefold()


def extract(data: bytes, suffix: str) -> str:
    if suffix == ".pdf":
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if suffix == ".html":
        return BeautifulSoup(data, "html.parser").get_text(" ")
    return data.decode("utf-8")


@cache
def doc_text(rel: str) -> str:
    path = CORPUS / rel
    return norm(extract(path.read_bytes(), path.suffix))


@cache
def sidecar() -> dict[str, Any]:
    loaded = yaml.safe_load((CORPUS / render.SIDECAR_NAME).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def effective_meta(rel: str) -> dict[str, Any]:
    """Sidecar semantics: defaults, then folders from shallow to deep (deepest wins), then the file entry."""
    meta = dict(sidecar()["defaults"])
    parts = rel.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        meta.update(sidecar()["folders"].get("/".join(parts[:depth]), {}))
    meta.update(sidecar()["files"].get(rel, {}))
    return meta


def corpus_files() -> list[str]:
    return sorted(
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix.lstrip(".") in FORMATS and render.SOURCE_DIRNAME not in p.parts
    )


def load_qa() -> list[dict[str, Any]]:
    lines = (GOLD / "demo_qa.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def load_phi() -> dict[str, Any]:
    data = json.loads((GOLD / "demo_phi.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


QA = load_qa()
ANSWERABLE = [q for q in QA if q["answerable"]]
RESTRICTED = [q for q in QA if not q["answerable"] and q.get("restricted_doc")]
UNANSWERABLE = [q for q in QA if not q["answerable"] and not q.get("restricted_doc")]
PHI = load_phi()


# --- corpus shape ----------------------------------------------------------------------------------------


def test_corpus_meets_minimum_counts_formats_and_size() -> None:
    files = corpus_files()
    by_folder = {f: [p for p in files if p.startswith(f + "/")] for f in render.SIDECAR_FOLDERS}
    assert len(by_folder["sops"]) + len(by_folder["policies"]) >= 30
    assert len(by_folder["contracts"]) >= 10
    assert len(by_folder["maintenance"]) >= 8
    assert len(by_folder["incidents"]) >= 3
    counts = {fmt: sum(p.endswith("." + fmt) for p in files) for fmt in FORMATS}
    for fmt in ("pdf", "html", "md"):  # about a third each
        assert counts[fmt] >= len(files) // 4, counts
    assert counts["txt"] >= 2
    total = sum((CORPUS / p).stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert total < 5 * 1024 * 1024


def test_pdfs_have_several_pages_with_page_numbers_and_outline() -> None:
    for rel in (p for p in corpus_files() if p.endswith(".pdf")):
        reader = PdfReader(CORPUS / rel)
        assert len(reader.pages) >= 2, rel
        last = reader.pages[-1].extract_text() or ""
        assert f"Page {len(reader.pages)} of {len(reader.pages)}" in last, rel
        assert reader.outline, f"{rel} has no heading outline"


def test_html_documents_have_real_structure() -> None:
    for rel in (p for p in corpus_files() if p.endswith(".html")):
        soup = BeautifulSoup((CORPUS / rel).read_bytes(), "html.parser")
        assert soup.find("h1") and soup.find("h2") and soup.find("table"), rel


# --- sidecar ----------------------------------------------------------------------------------------------


def test_sidecar_has_the_folder_source_shape() -> None:
    assert set(sidecar()) == {"defaults", "folders", "files"}
    assert sidecar()["folders"]["contracts"]["acl_groups"] == ["procurement", "finance"]


@pytest.mark.parametrize("rel", sorted(sidecar()["files"]))
def test_every_sidecar_file_exists_with_known_groups(rel: str) -> None:
    assert (CORPUS / rel).is_file()
    meta = effective_meta(rel)
    assert set(meta["acl_groups"]) <= GROUPS, meta["acl_groups"]
    assert meta["title"] and meta["doc_type"] and meta["site"]


def test_every_corpus_file_is_listed_in_the_sidecar() -> None:
    assert corpus_files() == sorted(sidecar()["files"])


def test_contracts_and_incidents_are_restricted() -> None:
    for rel in corpus_files():
        groups = set(effective_meta(rel)["acl_groups"])
        if rel.startswith("contracts/"):
            assert groups == {"procurement", "finance"}, rel
        if rel.startswith("incidents/"):
            assert "all_staff" not in groups and "quality" in groups, rel


# --- rendering --------------------------------------------------------------------------------------------


def test_committed_outputs_match_a_fresh_render() -> None:
    """Non-PDF outputs byte for byte; PDFs by text (fpdf2 versions may differ in byte layout)."""
    for rel, data in render.render_all().items():
        committed = (CORPUS / rel).read_bytes()
        if rel.endswith(".pdf") and data != committed:
            assert norm(extract(data, ".pdf")) == doc_text(rel), f"{rel} is stale: run copilot.demo.render"
        else:
            assert data == committed, f"{rel} is stale: run python -m copilot.demo.render"


def test_pdf_render_is_deterministic() -> None:
    src = next(s for s in render.load_sources() if s.fmt == "pdf")
    assert render.render_pdf(src) == render.render_pdf(src)


@pytest.mark.parametrize(
    ("markdown", "kinds"),
    [
        ("# T\n\nPara one\ncontinues.", ["heading", "para"]),
        ("- a\n- b\n  more", ["bullets"]),
        ("1. a\n2. b", ["numbered"]),
        ("| h1 | h2 |\n|---|---|\n| x | y |", ["table"]),
        ("## S\n- a\n\ntext", ["heading", "bullets", "para"]),
    ],
)
def test_markdown_subset_parser(markdown: str, kinds: list[str]) -> None:
    assert [b.kind for b in render.parse_blocks(markdown)] == kinds


# --- gold QA ----------------------------------------------------------------------------------------------


def test_gold_set_sizes_and_ids() -> None:
    assert len(ANSWERABLE) >= 70
    assert len(UNANSWERABLE) >= 12
    assert 3 <= len(RESTRICTED) <= 5
    ids = [q["id"] for q in QA]
    assert len(ids) == len(set(ids))
    assert len({q["doc"] for q in ANSWERABLE}) >= 50  # spread across documents


@pytest.mark.parametrize("q", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_answerable_question_is_answered_by_its_visible_doc(q: dict[str, Any]) -> None:
    assert (CORPUS / q["doc"]).is_file()
    text = doc_text(q["doc"])
    assert q["answer_facts"]
    for fact in q["answer_facts"]:
        assert norm(fact) in text, f"{q['id']}: {fact!r} not in {q['doc']}"
    assert norm(q["section"]) in text, f"{q['id']}: section {q['section']!r} not in {q['doc']}"
    assert set(q["groups"]) & set(effective_meta(q["doc"])["acl_groups"]), f"{q['id']}: groups cannot see doc"


@pytest.mark.parametrize("q", RESTRICTED, ids=[q["id"] for q in RESTRICTED])
def test_restricted_question_is_only_in_a_doc_the_groups_cannot_see(q: dict[str, Any]) -> None:
    rel = q["restricted_doc"]
    for fact in q["answer_facts"]:
        assert norm(fact) in doc_text(rel)
    assert not set(q["groups"]) & set(effective_meta(rel)["acl_groups"])


DEV_SETS = [
    json.loads(line)
    for path in sorted(GOLD.glob("demo_*_dev.jsonl"))  # every development set, a new one included
    for line in path.read_text().splitlines()
    if line.strip() and json.loads(line)["answerable"]
]


STAFF_SETS = [
    json.loads(line)
    for name in ("demo_staff.jsonl", "demo_staff2.jsonl")
    for line in (GOLD / name).read_text().splitlines()
    if line.strip() and json.loads(line)["answerable"]
]


@pytest.mark.parametrize("q", STAFF_SETS, ids=[q["id"] for q in STAFF_SETS])
def test_staff_question_asks_a_doc_its_groups_see(q: dict[str, Any]) -> None:
    # a group that cannot open the document makes the question a restricted one (answerable false)
    assert set(q["groups"]) & set(effective_meta(q["doc"])["acl_groups"]), f"{q['id']}: groups cannot see doc"


@pytest.mark.parametrize("q", DEV_SETS, ids=[q["id"] for q in DEV_SETS])
def test_dev_set_question_is_answered_by_a_doc_its_groups_see(q: dict[str, Any]) -> None:
    for fact in q["answer_facts"]:
        assert norm(fact) in doc_text(q["doc"]), f"{q['id']}: {fact!r} not in {q['doc']}"
    assert set(q["groups"]) & set(effective_meta(q["doc"])["acl_groups"]), f"{q['id']}: groups cannot see doc"


def test_unanswerable_questions_have_no_doc() -> None:
    for q in UNANSWERABLE:
        assert q["doc"] is None and not q["answer_facts"], q["id"]


# --- PHI gold ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("e", PHI["entities"], ids=[f"{e['doc']}:{e['value']}" for e in PHI["entities"]])
def test_every_planted_phi_value_occurs_in_its_doc(e: dict[str, str]) -> None:
    assert norm(e["value"]) in doc_text(e["doc"])


def test_phi_covers_the_entity_types_redaction_must_handle() -> None:
    types = {e["entity_type"] for e in PHI["entities"]}
    assert {"PERSON", "MRN", "DATE_OF_BIRTH", "PHONE_NUMBER", "EMAIL_ADDRESS", "US_SSN", "LOCATION"} <= types


def test_phi_free_docs_contain_no_planted_value_and_no_contact_details() -> None:
    values = {norm(e["value"]) for e in PHI["entities"]}
    contact = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\(?\d{3}\)?[ -]\d{3}-\d{4}|\d{3}-\d{2}-\d{4}")
    phi_docs = {e["doc"] for e in PHI["entities"]}
    assert set(PHI["phi_free_docs"]) == set(corpus_files()) - phi_docs
    for rel in PHI["phi_free_docs"]:
        text = doc_text(rel)
        assert not [v for v in values if v in text], rel
        assert not contact.search(text), rel


def test_operational_identifiers_occur_and_are_not_phi() -> None:
    values = {e["value"] for e in PHI["entities"]}
    kinds = {o["type"] for o in PHI["operational_identifiers"]}
    assert {"ASSET_TAG", "LOT_NUMBER", "PO_NUMBER", "TICKET"} <= kinds
    for o in PHI["operational_identifiers"]:
        assert o["value"] not in values
        assert norm(o["value"]) in doc_text(o["doc"]), o

"""No planted phone, email or SSN value (nor any other planted PHI) of the demo corpus reaches the index.

Ingests the whole demo corpus through the real pipeline with the real Presidio redactor, then scans every stored
payload field of every point for every value listed in ``evals/gold/demo_phi.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from copilot.app import build_copilot
from copilot.config import Settings
from copilot.ingest.sources import FolderSource
from copilot.retrieval.embedder import HashingEmbedder

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "src" / "copilot" / "demo" / "corpus"
PHI = json.loads((ROOT / "evals" / "gold" / "demo_phi.json").read_text())
PHI_VALUES = PHI["entities"] if isinstance(PHI, dict) else PHI


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


@pytest.fixture(scope="module")
def payloads(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("phi"), embedding_backend="hashing")
    with build_copilot(settings, embedder_=HashingEmbedder(384)) as cp:
        report = cp.ingest(FolderSource(CORPUS))
        assert report.indexed > 40 and report.failed == 0, report.as_dict()
        return [c.payload() for c in cp.index.iter_chunks()]


def test_corpus_plants_phone_email_and_ssn_values() -> None:
    kinds = {v["entity_type"] for v in PHI_VALUES}
    assert {"PHONE_NUMBER", "EMAIL_ADDRESS", "US_SSN"} <= kinds


@pytest.mark.parametrize("kind", ["PHONE_NUMBER", "EMAIL_ADDRESS", "US_SSN"])
def test_no_contact_or_ssn_value_in_any_payload(payloads: list[dict], kind: str) -> None:
    blob = "\n".join(json.dumps(p, ensure_ascii=False) for p in payloads)
    digits_blob = _digits(blob)
    leaked = []
    for v in (v for v in PHI_VALUES if v["entity_type"] == kind):
        value = v["value"]
        if value.lower() in blob.lower():
            leaked.append(value)
        elif kind != "EMAIL_ADDRESS" and len(_digits(value)) >= 7 and _digits(value) in digits_blob:
            leaked.append(value)  # the same number with other separators
    assert not leaked, f"{len(leaked)} {kind} values reached the index"


def test_no_planted_phi_value_of_any_kind_in_payloads(payloads: list[dict]) -> None:
    blob = "\n".join(json.dumps(p, ensure_ascii=False) for p in payloads).lower()
    leaked = [v for v in PHI_VALUES if v["value"].lower() in blob]
    assert not leaked, f"{len(leaked)} planted PHI values reached the index: types " + str(
        sorted({v["entity_type"] for v in leaked})
    )


def test_no_piece_of_a_planted_address_in_payloads(payloads: list[dict]) -> None:
    """An address redacted only in part ("5 Orchard Row, <LOCATION_1>") still places the patient: every piece
    of it between commas (the street, the town) must be gone, not only the whole."""
    blob = "\n".join(json.dumps(p, ensure_ascii=False) for p in payloads).lower()
    pieces = {
        piece.strip().lower()
        for v in PHI_VALUES
        if v["entity_type"] in ("LOCATION", "STREET_ADDRESS") and "," in v["value"]
        for piece in v["value"].split(",")
        if len(piece.strip()) >= 8 and any(ch.isdigit() for ch in piece)
    }
    assert pieces, "the corpus plants street addresses"
    leaked = sorted(p for p in pieces if p in blob)
    assert not leaked, f"{len(leaked)} address pieces reached the index"

"""The hospital-operations PHI gold set (evals/gold/ops_notes.jsonl) and the name rules it motivated.

The gold file must load through the value-based loader the eval uses, plant every value where the loader looks
for it, and be reproducible from its seeded generator. The name rules are checked with the real gazetteers.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from copilot.evals.redaction import OPS_NOTES_PATH, load_value_gold
from copilot.ingest.redaction.names import NameRecognizer, first_name_strength
from fixtures.redaction import found

pytestmark = pytest.mark.unit

GENERATOR = OPS_NOTES_PATH.with_name("make_ops_notes.py")


def test_ops_notes_gold_parses_and_plants_every_value(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in OPS_NOTES_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 350 and len({r["frame"] for r in rows}) >= 35
    for row in rows:
        assert row["phi"], row["frame"]
        for item in row["phi"]:
            assert item["value"] in row["text"], item
        for value in row["keep"]:
            assert value in row["text"], value
    samples, keeps = load_value_gold(OPS_NOTES_PATH)  # raises when a value is missing from its line
    assert len(samples) == len(rows) == len(keeps)
    types = {item["entity_type"] for row in rows for item in row["phi"]}
    assert {"PERSON", "PHONE_NUMBER", "DATE_TIME", "MRN", "STREET_ADDRESS", "EMAIL_ADDRESS", "AGE"} <= types

    # faker comes with the dev extra, as pytest does: the generator must reproduce the committed file.
    out = tmp_path / "ops_notes.jsonl"
    runpy.run_path(str(GENERATOR))["write"](out)
    assert out.read_text(encoding="utf-8") == OPS_NOTES_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rec() -> NameRecognizer:
    r = NameRecognizer()
    r.load()
    return r




def test_first_names_match_without_their_accents() -> None:
    assert first_name_strength("Éric") == 2 and first_name_strength("Zoé") == 2  # listed as ERIC, ZOE
    assert first_name_strength("Ščřx") == 0


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Approver: M. Ghose. INC8138401", "M. Ghose"),  # a form label is a person cue
        ("Serviced by: A. NOWAK / Zoll Medical", "A. NOWAK"),  # the initial A is no article
        ("Caller Zoé Girard reports Vocera badge down.", "Zoé Girard"),  # accents the dictionary lacks
    ],
)
def test_ops_name_forms_arefound(rec: NameRecognizer, text: str, name: str) -> None:
    assert name in found(rec, text)


@pytest.mark.parametrize(
    "text",
    [
        "Elevator E-3 out of service; Otis tech on site. Stryker rep to call back.",  # vendor before its role
        "Request: grant Pyxis access. Approver: pending",  # a label, not a speaker
        "Ship to Jackson, Mississippi. Vendors: Medline, Cardinal and Owens.",
    ],
)
def test_ops_operational_words_stay(rec: NameRecognizer, text: str) -> None:
    assert found(rec, text) == []

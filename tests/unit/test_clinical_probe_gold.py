"""The nurse-voice redaction probes (evals/gold/clinical_probe_dev.jsonl, clinical_probe_check.jsonl) and the
forms written by hand (evals/gold/clinical_forms.jsonl).

The probe files must load through the value-based loader the eval uses, plant one value per PHI line, and be
reproducible from their generator; the check set keeps its PHI-free lines (over-redaction). The written forms
must load and plant every value they name.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from copilot.evals.redaction import PROBE_PATHS, load_value_gold

pytestmark = pytest.mark.unit


def test_probes_parse_plant_their_values_and_regenerate(tmp_path: Path) -> None:
    for dataset, path in PROBE_PATHS.items():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert len(rows) >= 1000, dataset
        for row in rows:
            assert len(row["phi"]) <= 1 and all(item["value"] in row["text"] for item in row["phi"]), row
        samples, _ = load_value_gold(path)  # raises when a value is missing from its line
        assert len(samples) == len(rows)
        assert {r["text"] for r in rows if not r["phi"]} or dataset == "clinical-probe"
    runpy.run_path(str(PROBE_PATHS["clinical-probe"].with_name("make_clinical_probes.py")))["main"](tmp_path)
    for path in PROBE_PATHS.values():
        assert (tmp_path / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_the_written_forms_plant_their_values() -> None:
    from copilot.evals.redaction import WRITTEN_PATHS

    for path in WRITTEN_PATHS.values():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert rows and all(item["value"] in row["text"] for row in rows for item in row["phi"])
        samples, _ = load_value_gold(path)  # raises when a value is missing from its line
        assert len(samples) == len(rows)

"""The demo redaction eval reads each document as ingestion does: under the profile its document type implies."""

from __future__ import annotations

import pytest

from copilot.evals.redaction import _analyze_docs, _ingestion_profiles
from copilot.types import RedactionSpan

pytestmark = pytest.mark.unit


def test_incident_reports_are_read_as_clinical_narrative_and_sops_as_operational() -> None:
    docs = ["incidents/INC-2026-0142-infusion-pump-occlusion.md", "sops/sharps-disposal.md",
            "contracts/courier-coldlink.md", "maintenance/service-report-BME-DEF-0112.md"]
    assert _ingestion_profiles(docs) == {
        "incidents/INC-2026-0142-infusion-pump-occlusion.md": "clinical",
        "sops/sharps-disposal.md": "operational",
        "contracts/courier-coldlink.md": "operational",
        "maintenance/service-report-BME-DEF-0112.md": "operational",
    }


def test_each_document_goes_to_the_analyzer_under_its_profile() -> None:
    seen: list[tuple[tuple[str, ...], str | None]] = []

    def analyze(texts, profile=None):  # type: ignore[no-untyped-def]
        seen.append((tuple(texts), profile))
        return [[RedactionSpan(0, 1, profile or "none", 1.0)] for _ in texts]

    texts = {"a": "incident", "b": "sop", "c": "another sop"}
    out = _analyze_docs(analyze, ["a", "b", "c"], texts, {"a": "clinical", "b": "operational", "c": "operational"})
    assert sorted(seen) == [(("incident",), "clinical"), (("sop", "another sop"), "operational")]
    assert {d: spans[0].entity_type for d, spans in out.items()} == {"a": "clinical", "b": "operational",
                                                                      "c": "operational"}
    # stock Presidio (no profiles) gets every text in one call
    seen.clear()
    _analyze_docs(analyze, ["a", "b"], texts, None)
    assert seen == [(("incident", "sop"), None)]

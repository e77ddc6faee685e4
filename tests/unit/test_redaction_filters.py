"""Post-processing that keeps SOPs readable: operational dates, headings spaCy calls people, IDs in tables.

Runs ``PresidioRedactor._postprocess`` on hand-made detections, so no spaCy model is loaded.
"""

from __future__ import annotations

import pytest

from copilot.ingest.redaction import PresidioRedactor
from copilot.types import RedactionSpan

pytestmark = pytest.mark.unit

SPACY = "SpacyRecognizer"


def _kept(text: str, value: str, entity: str, src: str = SPACY, score: float = 0.85) -> list[str]:
    start = text.index(value)
    red = PresidioRedactor()
    spans = red._postprocess(text, [(RedactionSpan(start, start + len(value), entity, score), src)])
    return [text[s.start : s.end] for s in spans]


@pytest.mark.parametrize(
    ("text", "value", "entity", "kept"),
    [
        # Document-control and operational dates are not a patient's.
        ("Effective date 2026-03-01", "2026-03-01", "DATE_TIME", False),
        ("| 2.0 | 2024-06-01 | Scheduled review |", "2024-06-01", "DATE_TIME", False),
        ("signed by its Sales Director, on 5 September 2024.", "5 September 2024", "DATE_TIME", False),
        ("Business hours 07:00 to 19:00", "07:00 to 19:00", "DATE_TIME", False),
        ("Shipments go out every Monday.", "Monday", "DATE_TIME", False),
        ("Founded in 2002.", "2002", "DATE_TIME", False),
        # Dates of a person stay.
        ("The patient was admitted on 2026-03-14 after a fall.", "2026-03-14", "DATE_TIME", True),
        ("It's like that since 4/14/1962", "4/14/1962", "DATE_TIME", True),
        # Headings and table headers are not people; names are.
        ("Shift Swaps, Overtime and Rest Breaks", "Rest Breaks", "PERSON", False),
        ("| Alarm | set points |", "Alarm", "PERSON", False),
        ("Technician: Tomasz Nowak", "Tomasz Nowak", "PERSON", True),
        ("Spoke with Johnson at noon", "Johnson", "PERSON", True),
        # A labelled identifier survives an allow-list pattern that looks like an asset tag.
        ("| Insurance member ID | RHP-5520-88134 |", "RHP-5520-88134", "HEALTH_PLAN_ID", True),
        ("Asset RHP-5520-88134 returned", "RHP-5520-88134", "HEALTH_PLAN_ID", False),
    ],
)
def test_postprocess_table(text: str, value: str, entity: str, kept: bool) -> None:
    score = 0.95 if kept and entity == "HEALTH_PLAN_ID" else 0.85
    src = "HealthPlanIdRecognizer" if entity == "HEALTH_PLAN_ID" else SPACY
    assert (value in _kept(text, value, entity, src, score)) is kept


def test_number_beside_a_name_in_a_table_row_is_an_id() -> None:
    text = "| Grace Adebayo-Hill | 00598871 | 1990-09-30 |"
    start = text.index("Grace")
    red = PresidioRedactor()
    spans = red._postprocess(text, [(RedactionSpan(start, start + 18, "PERSON", 0.7), "NameRecognizer")])
    assert [(text[s.start : s.end], s.entity_type) for s in spans] == [
        ("Grace Adebayo-Hill", "PERSON"),
        ("00598871", "PATIENT_ID"),
    ]


def test_spacy_date_that_is_a_postal_code_is_relabelled() -> None:
    text = "Vordingborg, Denmark 29587"
    loc = RedactionSpan(0, 20, "LOCATION", 0.8)
    num = RedactionSpan(21, 26, "DATE_TIME", 0.85)
    spans = PresidioRedactor()._postprocess(text, [(loc, "PlaceRecognizer"), (num, SPACY)])
    assert [(s.start, s.end, s.entity_type) for s in spans] == [(0, 20, "LOCATION"), (21, 26, "LOCATION")]


def test_site_names_match_their_short_forms_in_any_case() -> None:
    from copilot.ingest.redaction.allowlist import SiteNames

    sites = SiteNames(["Harbor View Clinic", "North Campus Hospital", "Central Warehouse", "Lakeside Hospital"])
    text = "HARBOR VIEW clinic, North  Campus, lakeside, the central warehouse; Central line; Harborview"
    found = [text[a:b] for a, b in sites.regions(text)]
    assert found == ["HARBOR VIEW clinic", "North  Campus", "lakeside", "central warehouse"]
    assert not SiteNames([]) and SiteNames([]).regions(text) == []

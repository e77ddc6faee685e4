"""Patient, encounter, visit and account numbers: only with a label in front (plain numbers stay)."""

from __future__ import annotations

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule


class PatientIdRecognizer(RegexRecognizer):
    ENTITY = "PATIENT_ID"
    CONTEXT = (
        "patient id",
        "patient no",
        "patient number",
        "patient #",
        "pt id",
        "pt #",
        "pt no",
        "encounter",
        "enc",
        "visit",
        "visit no",
        "fin",
        "csn",
        "account",
        "acct",
        "account no",
        "billing account",
        "case no",
        "case number",
        "admission",
    )
    CONTEXT_CHARS = 24
    RULES = (Rule("labelled_id", r"(?<![\w-])(?=[A-Z]{0,4}-?\d)[A-Z]{0,4}-?\d{5,12}(?![\w-])", 0.0, 0.9),)

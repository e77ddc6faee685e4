"""Dates tied to a patient (birth, admission, discharge, death, service) and ages over 89.

Safe Harbor removes every date element but the year when it relates to an individual; a labelled date is the
strongest signal, so these score 1.0. Unlabelled calendar dates come from spaCy and
Presidio's date recognizer.
"""

from __future__ import annotations

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]{0,6}\.?"
DATE_PATTERN = (
    r"(?:\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b"  # 03/14/1948, 3-14-48
    r"|\b\d{4}-\d{2}-\d{2}\b"  # 1948-03-14
    rf"|\b{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}}\b"  # March 14, 1948
    rf"|\b\d{{1,2}}\s{_MONTH}\s\d{{4}}\b"  # 14 Mar 1948
    rf"|\b\d{{1,2}}-{_MONTH}-\d{{2,4}}\b)"  # 14-Mar-48
)


class PatientDateRecognizer(RegexRecognizer):
    ENTITY = "DATE_TIME"
    CONTEXT = (
        "dob",
        "d.o.b",
        "date of birth",
        "birth date",
        "birthdate",
        "born",
        "b.",
        "admitted",
        "admission",
        "admit",
        "discharged",
        "discharge",
        "dod",
        "date of death",
        "deceased",
        "died",
        "expired",
        "date of service",
        "dos",
        "seen on",
        "surgery",
        "procedure date",
        "visit date",
    )
    CONTEXT_CHARS = 32
    RULES = (Rule("labelled_date", DATE_PATTERN, 0.6, 1.0, ignore_case=True),)


class AgeOver89Recognizer(RegexRecognizer):
    """Ages 90+ are identifiers under Safe Harbor (younger ages are not)."""

    ENTITY = "AGE"
    CONTEXT = ("age", "aged", "pt is", "patient is")
    RULES = (
        Rule(
            "age_suffix",
            r"\b(?:9\d|1[0-2]\d)(?=\s?(?:y/?o\b|yo\b|yrs?\b|years?[\s-]old|year-old|-year-old|y\.o\.))",
            1.0,
            1.0,
            ignore_case=True,
        ),
        Rule("age_prefix", r"(?<=\bage[d:]?\s{0,2})(?:9\d|1[0-2]\d)\b", 1.0, 1.0, ignore_case=True),
        Rule("nonagenarian", r"\b(?:nonagenarian|centenarian)\b", 0.9, 0.9, ignore_case=True),
    )

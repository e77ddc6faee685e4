"""Fax numbers: phone-shaped numbers after a fax label (Presidio labels them PHONE_NUMBER at best)."""

from __future__ import annotations

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule

PHONE_PATTERN = r"(?<!\d)(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\d)"


class FaxRecognizer(RegexRecognizer):
    ENTITY = "FAX_NUMBER"
    CONTEXT = ("fax", "facsimile", "fx", "f:")
    CONTEXT_CHARS = 24
    RULES = (Rule("fax", PHONE_PATTERN, 0.0, 1.0),)


class UsPhoneRecognizer(RegexRecognizer):
    """US phone numbers in their usual shapes; cheaper and more reliable than phonenumbers' lenient scan."""

    ENTITY = "PHONE_NUMBER"
    CONTEXT = ("phone", "tel", "cell", "mobile", "call", "contact", "ph", "home", "work")
    RULES = (
        Rule("us_phone", PHONE_PATTERN, 0.7, 1.0),
        Rule(
            "intl_phone",
            r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}(?!\d)",
            0.6,
            0.9,
        ),
        Rule(
            "ext",
            r"(?<!\d)\d{3}[\s.-]\d{3}[\s.-]\d{4}\s?(?:x|ext\.?)\s?\d{1,5}\b",
            0.8,
            1.0,
            ignore_case=True,
        ),
    )

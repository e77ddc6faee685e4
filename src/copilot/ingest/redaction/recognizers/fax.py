"""Fax numbers: phone-shaped numbers after a fax label (Presidio labels them PHONE_NUMBER at best)."""

from __future__ import annotations

import re

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule

PHONE_PATTERN = r"(?<!\d)(?:\+?1[ \t.-]?)?(?:\([ \t]?\d{3}[ \t]?\)[ \t.-]?|\d{3}[ \t.-])\d{3}[ \t.-]\d{4}(?!\d)"


class FaxRecognizer(RegexRecognizer):
    ENTITY = "FAX_NUMBER"
    CONTEXT = ("fax", "facsimile", "fx", "f:")
    CONTEXT_CHARS = 24
    RULES = (Rule("fax", PHONE_PATTERN, 0.0, 1.0),)


_DATE_SHAPE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./](?:\d{2}|\d{4})$")


class UsPhoneRecognizer(RegexRecognizer):
    """Phone numbers: US shapes anywhere, any digit grouping (national formats abroad) next to a phone word.

    Cheaper and more reliable than phonenumbers' lenient scan, which needs the right region to parse
    "0496 46 46 70" at all.
    """

    ENTITY = "PHONE_NUMBER"
    CONTEXT = (
        "phone",
        "tel",
        "cell",
        "mobile",
        "call",
        "contact",
        "ph",
        "home",
        "work",
        "desk",
        "office",
        "fax",
        "messages",
        "answering",
        "registered",
        "reach",
        "text me",
        "whatsapp",
        "pager",
        "telephone",
        "direct",
        "callback",
        "call back",
        "extension",
        "beeper",
    )
    CONTEXT_AFTER = 12
    RULES = (
        # Any grouping of 7-15 digits, only with a phone word before or just after it.
        Rule(
            "grouped_phone",
            r"(?<![\w+.-])(?:\+\d{1,3}[ \t.-]?)?(?:\([ \t]?\d{1,4}[ \t]?\)[ \t.-]?)?"
            r"\d{2,10}(?:[ \t.-]\d{2,10}){0,5}(?!\w|-\d)",
            0.0,
            0.95,
        ),
        Rule("us_phone", PHONE_PATTERN, 0.7, 1.0),
        Rule(
            "intl_phone",
            r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}[ \t.-]?(?:\(\d{1,4}\)[ \t.-]?)?\d{2,4}(?:[ \t.-]\d{2,4}){1,4}(?!\d)",
            0.6,
            0.9,
        ),
        Rule(
            "ext",
            r"(?<!\d)(?:\d{3}[ \t.-])?\d{3}[ \t.-]\d{4}[ \t]?(?:x|ext\.?)[ \t]?\d{1,5}\b",
            0.8,
            1.0,
            ignore_case=True,
        ),
    )

    def validate(self, value: str) -> bool:
        digits = sum(c.isdigit() for c in value)
        return 7 <= digits <= 15 and not _DATE_SHAPE.match(value)

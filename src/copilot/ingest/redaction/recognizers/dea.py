"""DEA registration numbers: two letters + 7 digits with the DEA check digit."""

from __future__ import annotations

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule


def dea_ok(value: str) -> bool:
    """(d1+d3+d5) + 2*(d2+d4+d6), last digit == d7."""
    digits = value[-7:]
    if len(value) != 9 or not digits.isdigit():
        return False
    d = [int(c) for c in digits]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


class DeaRecognizer(RegexRecognizer):
    ENTITY = "US_DEA"
    CONTEXT = ("dea", "dea no", "dea number", "registration", "prescriber")
    RULES = (Rule("dea", r"(?<![\w-])[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7}(?![\w-])", 0.7, 1.0),)

    def validate(self, value: str) -> bool:
        return dea_ok(value)

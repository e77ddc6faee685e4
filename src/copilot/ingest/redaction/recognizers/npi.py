"""National Provider Identifier: 10 digits, Luhn check over ``80840`` + the number."""

from __future__ import annotations

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule, luhn_ok


def npi_ok(value: str) -> bool:
    digits = "".join(c for c in value if c.isdigit())
    return len(digits) == 10 and digits[0] in "12" and luhn_ok("80840" + digits)


class NpiRecognizer(RegexRecognizer):
    ENTITY = "US_NPI"
    CONTEXT = ("npi", "national provider", "provider id", "prescriber", "provider")
    RULES = (Rule("npi", r"(?<![\d-])[12]\d{9}(?![\d-])", 0.5, 1.0),)

    def validate(self, value: str) -> bool:
        return npi_ok(value)

"""Identifiers Presidio's stock recognizers miss in their usual written forms.

Driver's licences (stock only fires on a few state shapes), card numbers after a card label that fail the
Luhn check (a typo'd card number is still the patient's card number), IBANs in lower case, employee and
badge numbers (HIPAA's "any other unique identifying number" for staff in incident reports).
"""

from __future__ import annotations

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule


class DriverLicenseRecognizer(RegexRecognizer):
    ENTITY = "US_DRIVER_LICENSE"
    CONTEXT = (
        "driver's license",
        "drivers license",
        "driver license",
        "driver's licence",
        "licence number",
        "license number",
        "license no",
        "dl #",
        "dl no",
        "dln",
    )
    CONTEXT_CHARS = 40
    RULES = (
        Rule(
            "dl",
            r"(?<![\w-])(?=[A-Z-]*\d)[A-Z0-9](?:[A-Z0-9]|-(?=[A-Z0-9])){4,19}(?![\w-])",
            0.0,
            0.95,
            ignore_case=True,
        ),
    )

    def validate(self, value: str) -> bool:
        return sum(c.isdigit() for c in value) >= 5


class CardNumberRecognizer(RegexRecognizer):
    """12-19 digit numbers after a card label; Presidio's recognizer covers the unlabelled Luhn-valid ones."""

    ENTITY = "CREDIT_CARD"
    CONTEXT = ("card", "credit card", "debit card", "cc", "visa", "mastercard", "amex", "card no", "card #")
    CONTEXT_CHARS = 24
    RULES = (Rule("card", r"(?<![\d-])\d{4}[ -]?\d{4}[ -]?\d{4}(?:[ -]?\d{1,7})?(?![\d-])", 0.0, 0.95),)


def iban_ok(value: str) -> bool:
    """ISO 13616 mod-97 check."""
    v = value.replace(" ", "").upper()
    if not (15 <= len(v) <= 34) or not v[:2].isalpha() or not v[2:4].isdigit():
        return False
    digits = "".join(str(int(c, 36)) for c in v[4:] + v[:4])
    return int(digits) % 97 == 1


class CaseInsensitiveIbanRecognizer(RegexRecognizer):
    """IBANs as people type them ("gb42nawi..."); the mod-97 check keeps precision."""

    ENTITY = "IBAN_CODE"
    CONTEXT = ("iban", "bank account", "account")
    RULES = (
        Rule(
            "iban",
            r"(?<![\w])[a-z]{2}\d{2}(?:\s?[a-z0-9]{4}){2,7}(?:\s?[a-z0-9]{1,4})?(?![\w])",
            0.9,
            1.0,
            ignore_case=True,
        ),
    )

    def validate(self, value: str) -> bool:
        return iban_ok(value)


class EmployeeIdRecognizer(RegexRecognizer):
    ENTITY = "EMPLOYEE_ID"
    CONTEXT = (
        "employee number",
        "employee no",
        "employee id",
        "employee #",
        "staff id",
        "staff number",
        "badge number",
        "badge no",
        "badge id",
        "payroll number",
        "personnel number",
    )
    CONTEXT_CHARS = 48
    RULES = (Rule("employee_id", r"(?<![\w-])(?=[A-Z]{0,3}-?\d)[A-Z]{0,3}-?\d{4,10}(?![\w-])", 0.0, 0.95),)

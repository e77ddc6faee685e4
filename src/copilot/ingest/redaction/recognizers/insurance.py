"""Health-plan member, group, claim and prior-authorization IDs (presidio #2136): label required."""

from __future__ import annotations

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule


class HealthPlanIdRecognizer(RegexRecognizer):
    ENTITY = "HEALTH_PLAN_ID"
    CONTEXT = (
        "member id",
        "member #",
        "member no",
        "member number",
        "subscriber",
        "subscriber id",
        "policy",
        "policy no",
        "policy number",
        "insurance id",
        "plan id",
        "group no",
        "group number",
        "medicaid",
        "medicare",
        "mbi",
        "hicn",
        "claim",
        "claim no",
        "claim #",
        "claim number",
        "prior auth",
        "prior authorization",
        "authorization",
        "auth #",
        "auth no",
        "pa #",
        "pa number",
        "beneficiary",
    )
    CONTEXT_CHARS = 32
    RULES = (
        # Alphanumeric IDs of 6-20 characters containing at least 4 digits; optional dashes.
        Rule(
            "plan_id",
            r"(?<![\w-])(?=(?:[A-Z-]*\d){4})[A-Z0-9](?:[A-Z0-9]|-(?=[A-Z0-9])){5,19}(?![\w-])",
            0.0,
            0.9,
        ),
    )

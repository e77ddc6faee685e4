"""Structured-argument redaction: sensitive keys masked whole, PII shapes in text replaced, numbers kept."""

from __future__ import annotations

from typing import Any

import pytest

from copilot.governance.redact_args import MASK, ArgsRedactor, RegexRedactor
from copilot.protocols import Redactor

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.roe@example.org now", "mail <EMAIL_ADDRESS> now"),
        ("call (555) 123-4567 or 555.987.6543", "call <PHONE_NUMBER> or <PHONE_NUMBER>"),
        ("+1 555-123-4567", "<PHONE_NUMBER>"),
        ("SSN 123-45-6789", "SSN <US_SSN>"),
        ("patient MRN: 00123456 in bed 4", "patient <MEDICAL_RECORD_NUMBER> in bed 4"),
        ("DOB 04/12/1961", "<DATE_TIME>"),
        ("card 4111 1111 1111 1111", "card <CREDIT_CARD>"),
        ("from 10.1.2.3", "from <IP_ADDRESS>"),
        ("PM interval for infusion pumps is 6 months", "PM interval for infusion pumps is 6 months"),
        ("PO-2024-0117 for 5000 units", "PO-2024-0117 for 5000 units"),
        ("", ""),
    ],
)
def test_regex_redactor(text: str, expected: str) -> None:
    assert RegexRedactor().redact(text).text == expected


def test_regex_redactor_satisfies_the_protocol() -> None:
    r: Redactor = RegexRedactor()
    r.warm_up()
    assert [x.text for x in r.redact_batch(["a@b.io", "x"])] == ["<EMAIL_ADDRESS>", "x"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"patient_name": "Jane Roe", "amount": 12.5}, {"patient_name": MASK, "amount": 12.5}),
        ({"MRN": 123456}, {"MRN": MASK}),
        ({"dob": "1961-04-12", "ok": True}, {"dob": MASK, "ok": True}),
        ({"note": "reach me at 555-123-4567"}, {"note": "reach me at <PHONE_NUMBER>"}),
        (
            {"items": [{"email": "a@b.io"}, {"desc": "x@y.org"}]},
            {"items": [{"email": MASK}, {"desc": "<EMAIL_ADDRESS>"}]},
        ),
        ({"name": None, "phone": ""}, {"name": None, "phone": ""}),
        ({"nested": {"deep": {"ssn": "123-45-6789"}}}, {"nested": {"deep": {"ssn": MASK}}}),
        ({"tuple": ("555-123-4567", 3)}, {"tuple": ["<PHONE_NUMBER>", 3]}),
    ],
)
def test_args_redactor(args: dict[str, Any], expected: dict[str, Any]) -> None:
    assert ArgsRedactor()(args) == expected


def test_tool_declared_pii_fields_and_pluggable_redactor() -> None:
    class Upper:
        def warm_up(self) -> None: ...

        def redact(self, text: str) -> Any:
            return RegexRedactor().redact(text.replace("Jane", "<PERSON>"))

        def redact_batch(self, texts: Any) -> list[Any]:
            self.calls = getattr(self, "calls", 0) + 1
            return [self.redact(t) for t in texts]

    inner = Upper()
    red = ArgsRedactor(inner)
    out = red({"requested_for": "Roe", "q": "Jane asked", "r": "Jane again"}, extra_keys=("requested_for",))
    assert out == {"requested_for": MASK, "q": "<PERSON> asked", "r": "<PERSON> again"}
    assert inner.calls == 1  # one batched call per record

"""Redaction of structured tool arguments before they reach the audit trail or the approvals table.

Two layers, because neither alone is enough for structured data:

1. **Sensitive keys** (``patient_name``, ``mrn``, ``dob``, ``phone``...) are masked whole, whatever their
   value — a name carries no pattern a regex could find, and a number under ``mrn`` is PHI though it looks
   harmless.
2. **Every other string** goes through a :class:`~copilot.protocols.Redactor` (the Presidio one in production,
   :class:`RegexRedactor` here as the dependency-free fallback), in one ``redact_batch`` call per record.

Numbers and booleans under other keys are kept: thresholds such as ``amount`` must stay auditable.

Usage::

    redact = ArgsRedactor()                       # RegexRedactor fallback
    redact({"question": "call 555-123-4567", "patient_name": "Jane Roe"})
    # {'question': 'call <PHONE_NUMBER>', 'patient_name': '<REDACTED>'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from copilot.protocols import Redactor
from copilot.types import RedactionResult, RedactionSpan

MASK = "<REDACTED>"

SENSITIVE_KEYS = frozenset(
    {
        "patient",
        "patient_name",
        "patient_id",
        "name",
        "first_name",
        "last_name",
        "full_name",
        "mrn",
        "medical_record_number",
        "ssn",
        "social_security_number",
        "dob",
        "date_of_birth",
        "birth_date",
        "birthdate",
        "phone",
        "phone_number",
        "mobile",
        "email",
        "email_address",
        "address",
        "street",
        "diagnosis",
        "insurance_id",
        "member_id",
        "password",
        "api_key",
        "token",
        "secret",
    }
)

# Order matters: the first pattern to claim a span wins (SSN before phone, email before everything).
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL_ADDRESS", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("US_SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    (
        "MEDICAL_RECORD_NUMBER",
        re.compile(r"\b(?:MRN|medical record(?: number)?)[\s:#-]*[A-Z0-9-]{4,}\b", re.I),
    ),
    (
        "PHONE_NUMBER",
        re.compile(r"(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}\b"),
    ),
    (
        "DATE_TIME",
        re.compile(r"\b(?:DOB|date of birth|born)[\s:]*\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b", re.I),
    ),
    ("CREDIT_CARD", re.compile(r"\b(?:\d[ -]?){13,16}\b")),
    ("IP_ADDRESS", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
)


class RegexRedactor:
    """A small, deterministic :class:`Redactor` for structured arguments and tests.

    It finds what has a shape (emails, phone numbers, SSNs, MRNs, dates of birth, card numbers, IPs); names
    need the Presidio redactor or the sensitive-key layer of :class:`ArgsRedactor`.
    """

    def warm_up(self) -> None:
        """Nothing to load; present to satisfy the protocol."""

    def redact(self, text: str) -> RedactionResult:
        taken: list[RedactionSpan] = []
        for entity, pattern in _PATTERNS:
            for m in pattern.finditer(text):
                if any(m.start() < s.end and s.start < m.end() for s in taken):
                    continue
                taken.append(RedactionSpan(m.start(), m.end(), entity, 1.0))
        taken.sort(key=lambda s: s.start)
        out: list[str] = []
        pos = 0
        for s in taken:
            out.append(text[pos : s.start])
            out.append(f"<{s.entity_type}>")
            pos = s.end
        out.append(text[pos:])
        return RedactionResult(text="".join(out), spans=tuple(taken))

    def redact_batch(self, texts: Sequence[str]) -> list[RedactionResult]:
        return [self.redact(t) for t in texts]


class ArgsRedactor:
    """Redacts a JSON-like value (dicts, lists, strings, numbers). Callable; returns a new value."""

    def __init__(self, redactor: Redactor | None = None, *, extra_keys: Iterable[str] = ()) -> None:
        self.redactor: Redactor = redactor if redactor is not None else RegexRedactor()
        self.sensitive = SENSITIVE_KEYS | {k.lower() for k in extra_keys}

    def __call__(self, value: Any, *, extra_keys: Iterable[str] = ()) -> Any:
        keys = self.sensitive | {k.lower() for k in extra_keys} if extra_keys else self.sensitive
        strings: list[str] = []
        skeleton = _mask(value, keys, strings)
        if not strings:
            return skeleton
        redacted = iter(r.text for r in self.redactor.redact_batch(strings))
        return _fill(skeleton, redacted)

    def needs_redactor(self, value: Any, *, extra_keys: Iterable[str] = ()) -> bool:
        """Whether redacting ``value`` would call the redactor at all (any string outside the sensitive keys)."""
        keys = self.sensitive | {k.lower() for k in extra_keys} if extra_keys else self.sensitive
        strings: list[str] = []
        _mask(value, keys, strings)
        return bool(strings)

    def text(self, text: str) -> str:
        """Redact one free-text value (an approver's reason, an error message)."""
        return self.redactor.redact(text).text


class _Slot:
    """Placeholder for a string waiting for its batched redaction."""


def _mask(value: Any, keys: frozenset[str] | set[str], strings: list[str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = str(k)
            if key.lower() in keys and v not in (None, "", [], {}):
                out[key] = MASK
            else:
                out[key] = _mask(v, keys, strings)
        return out
    if isinstance(value, list | tuple):
        return [_mask(v, keys, strings) for v in value]
    if isinstance(value, str):
        strings.append(value)
        return _Slot()
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (dates, decimals, enums) is stringified and redacted like text.
    strings.append(str(value))
    return _Slot()


def _fill(value: Any, redacted: Any) -> Any:
    if isinstance(value, _Slot):
        return next(redacted)
    if isinstance(value, dict):
        return {k: _fill(v, redacted) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, redacted) for v in value]
    return value

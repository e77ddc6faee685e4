"""Table tests for the healthcare recognizers (regex only, no spaCy)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from copilot.ingest.redaction import recognizers as hc
from copilot.ingest.redaction.names import NameRecognizer
from copilot.ingest.redaction.recognizers.base import RegexRecognizer
from fixtures.redaction import found

pytestmark = pytest.mark.unit


def _found(rec: RegexRecognizer | NameRecognizer, text: str, threshold: float = 0.4) -> list[str]:
    rec.load()
    return found(rec, text, threshold)


@pytest.mark.parametrize(
    ("rec", "text", "expected"),
    [
        (hc.MrnRecognizer(), "MRN 00123456 seen", ["00123456"]),
        (hc.MrnRecognizer(), "MRN-0012345", ["0012345"]),
        (hc.MrnRecognizer(), "medical record #: 00987654", ["00987654"]),
        (hc.MrnRecognizer(), "ordered 12345678 gauze", []),
        (hc.MrnRecognizer(formats=(r"\bH\d{7}\b",)), "chart H1234567 today", ["H1234567"]),
        (hc.PatientIdRecognizer(), "Encounter 77120934 closed", ["77120934"]),
        (hc.PatientIdRecognizer(), "Acct: 5512098", ["5512098"]),
        (hc.PatientIdRecognizer(), "we received 5512098 units", []),
        (hc.PatientDateRecognizer(), "DOB 03/14/1948", ["03/14/1948"]),
        (hc.PatientDateRecognizer(), "Date of birth: March 14, 1948", ["March 14, 1948"]),
        (hc.AgeOver89Recognizer(), "94 yo male", ["94"]),
        (hc.AgeOver89Recognizer(), "a 92-year-old woman", ["92"]),
        (hc.AgeOver89Recognizer(), "age 101", ["101"]),
        (hc.AgeOver89Recognizer(), "45 yo male", []),
        (hc.NpiRecognizer(), "NPI 1234567893", ["1234567893"]),
        (hc.NpiRecognizer(), "NPI 1234567890", []),  # bad check digit
        (hc.DeaRecognizer(), "DEA AB1234563", ["AB1234563"]),
        (hc.DeaRecognizer(), "DEA AB1234564", []),  # bad check digit
        (hc.HealthPlanIdRecognizer(), "Member ID: XJH123456789", ["XJH123456789"]),
        (hc.HealthPlanIdRecognizer(), "Claim # 2026-4471-0009", ["2026-4471-0009"]),
        (hc.HealthPlanIdRecognizer(), "Part XJH123456789 in stock", []),
        (hc.FaxRecognizer(), "Fax: 617-555-0199", ["617-555-0199"]),
        (hc.FaxRecognizer(), "Phone: 617-555-0199", []),
        (hc.UsPhoneRecognizer(), "call (617) 555-0134 now", ["(617) 555-0134"]),
        # spaces inside the brackets; an extension glued on or after "ext."
        (hc.UsPhoneRecognizer(), "call son ( 617 ) 555 0134", ["( 617 ) 555 0134"]),
        (
            hc.UsPhoneRecognizer(),
            "pls call 555-0134x4 or 555-0135 ext. 12",
            ["555-0134x4", "555-0135", "555-0135 ext. 12"],  # overlaps merge later
        ),
        (
            hc.StreetAddressRecognizer(),
            "lives at 1234 North Oak Street, Boston",
            ["1234 North Oak Street, Boston"],
        ),
        (
            hc.StreetAddressRecognizer(),
            "| Address | 48 Birchwood Avenue, Apt 3C, Fairport, WI 53591 |",
            ["48 Birchwood Avenue, Apt 3C, Fairport, WI 53591", "53591", "Apt 3C"],  # overlaps merge later
        ),
        (
            hc.StreetAddressRecognizer(),
            "PSC 3294, Box 9168 APO AA 61487",
            ["61487", "PSC 3294, Box 9168 APO AA 61487"],
        ),
        (hc.UsPhoneRecognizer(), "Phone: 0490 75 40 81", ["0490 75 40 81"]),
        (hc.UsPhoneRecognizer(), "3660170548-Fax", ["3660170548"]),
        (hc.UsPhoneRecognizer(), "Account Manager / Direct: 555-0124", ["555-0124"]),
        (hc.UsPhoneRecognizer(), "badge not registering; callback 555-0116.", ["555-0116"]),
        (hc.UsPhoneRecognizer(), "Pump BME-INF-0231 lot 555-0116 received", []),
        (hc.UsPhoneRecognizer(), "Effective date 2026-03-01, reviewed 1234 567", []),
        (hc.UsPhoneRecognizer(), "Version 2.0 2024-06-01", []),
        (hc.DriverLicenseRecognizer(), "My driver's license number is 5130634", ["5130634"]),
        (hc.DriverLicenseRecognizer(), "license 5130634 renewed", []),
        (hc.CardNumberRecognizer(), "card number 4152488713445952355 is lost", ["4152488713445952355"]),
        (hc.CardNumberRecognizer(), "order 4152488713445952355", []),
        (hc.CaseInsensitiveIbanRecognizer(), "my iban is gb42nawi04454264788618", []),  # bad mod-97
        (hc.CaseInsensitiveIbanRecognizer(), "iban gb82west12345698765432", ["gb82west12345698765432"]),
        (hc.EmployeeIdRecognizer(), "Employee number E-204417", ["E-204417"]),
        (hc.EmployeeIdRecognizer(), "Asset E-204417", []),
        (hc.StreetAddressRecognizer(), "Boston, MA 02115", ["02115"]),
        (
            hc.WebUrlRecognizer(),
            "see https://portal.example.org/u/jdoe",
            ["https://portal.example.org/u/jdoe"],
        ),
        (hc.WebUrlRecognizer(), "mail jane@example.com", []),  # an e-mail domain is not a URL
    ],
)
def test_recognizer_table(rec: RegexRecognizer, text: str, expected: list[str]) -> None:
    assert _found(rec, text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pt J. SMITH stable", ["J. SMITH"]),
        ("SMITH, JOHN 94 yo", ["SMITH, JOHN"]),
        ("Signed: K. Johnson RN", ["K. Johnson"]),
        ("HUSBAND THOMAS WRIGHT AT BEDSIDE", ["THOMAS WRIGHT"]),
        ("Patient Care Safety committee", []),
        ("CHECK PUMP BATTERY LEVEL", []),
        # a word of grammar after "called" or "named" is no name, though "From" and "In" are census surnames
        ("PT'S BROTHER CALLED FROM FLORIDA", []),
        ("MD called to bedside, called in to report", []),
        ("his sister is named in the complaint", []),
        ("a man called Brown rang; my name is White", ["Brown", "White"]),
    ],
)
def test_name_recognizer(text: str, expected: list[str]) -> None:
    found = _found(NameRecognizer(), text)
    for e in expected:
        assert any(e in f for f in found), (e, found)
    if not expected:
        assert found == []


@pytest.mark.parametrize(("value", "ok"), [("1234567893", True), ("1234567890", False), ("123456789", False)])
def test_npi_check_digit(value: str, ok: bool) -> None:
    assert hc.npi_ok(value) is ok


@pytest.mark.parametrize(("value", "ok"), [("AB1234563", True), ("AB1234564", False), ("AB123456", False)])
def test_dea_check_digit(value: str, ok: bool) -> None:
    assert hc.dea_ok(value) is ok


PATHOLOGICAL = [
    "1" * 50_000,
    "1-" * 25_000,
    "a." * 25_000 + "com",
    ("A" * 40 + " ") * 1_000,
    "http://" + "a" * 50_000,
    "MRN " + " " * 50_000 + "1",
    "J. " * 20_000,
    ("Apt " + "1" * 10) * 3_000,
    # Shapes aimed at the address rules: street-type words, corners, compound names, field runs, lower case.
    "Rue " + "Abc " * 12_000,
    "corner of " + "Main " * 10_000 + "and",
    "Zz " * 20_000 + "12",
    "Ab-" * 20_000,
    "Lindenstrasse" * 4_000 + " 1",
    "ZIP: " + "1 " * 20_000,
    "  ".join(["Apt. 5"] * 5_000),
    "abc " * 20_000 + "street 5",
    # ... and at the name rules: lists, upper and lower case runs, cues followed by endless capitals.
    "Anna, " * 10_000 + "and Bo",
    "ANNA " * 12_000,
    "anna smith " * 6_000,
    "Dr. " + "Ab " * 20_000,
    "Smith's " * 10_000,
]


@pytest.mark.parametrize(
    "rec",
    [
        hc.MrnRecognizer(),
        hc.PatientIdRecognizer(),
        hc.PatientDateRecognizer(),
        hc.AgeOver89Recognizer(),
        hc.NpiRecognizer(),
        hc.DeaRecognizer(),
        hc.HealthPlanIdRecognizer(),
        hc.FaxRecognizer(),
        hc.UsPhoneRecognizer(),
        hc.StreetAddressRecognizer(),
        hc.WebUrlRecognizer(),
        NameRecognizer(),
    ],
    ids=lambda r: type(r).__name__,
)
def test_pathological_inputs_bounded(rec: RegexRecognizer) -> None:
    rec.load()
    for text in PATHOLOGICAL:
        t0 = time.perf_counter()
        rec.analyze(text, [])
        assert time.perf_counter() - t0 < 3.0, text[:20]


def _preset_recognizers() -> list[object]:
    from copilot.ingest.redaction.registry import RedactionConfig, build_recognizers

    return [r for r in build_recognizers(RedactionConfig()) if type(r).__name__ != "SpacyRecognizer"]


@pytest.mark.parametrize("rec", _preset_recognizers(), ids=lambda r: type(r).__name__)
def test_every_preset_recognizer_bounded_on_pathological_input(rec: Any) -> None:
    """Every recognizer the US preset runs (ours and Presidio's), not only the ones listed above."""
    if hasattr(rec, "load"):
        rec.load()
    for text in PATHOLOGICAL:
        t0 = time.perf_counter()
        rec.analyze(text, list(rec.supported_entities), None)
        assert time.perf_counter() - t0 < 3.0, (type(rec).__name__, text[:20])


def test_non_english_text_still_runs_regexes() -> None:
    rec = hc.UsPhoneRecognizer()
    assert _found(rec, "Bitte rufen Sie 617-555-0134 an, danke schön — 患者は元気です") == ["617-555-0134"]


def test_email_recognizer_never_reaches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Presidio's own e-mail recognizer downloads the public-suffix list on first use; ours must not try."""
    import socket

    from copilot.ingest.redaction.recognizers.network import OfflineEmailRecognizer, _offline_tld_extractor

    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: attempts.append(a) or [])
    _offline_tld_extractor.cache_clear()
    found = OfflineEmailRecognizer().analyze("write to jane.doe@example.org today", ["EMAIL_ADDRESS"])
    assert [(r.start, r.end) for r in found] == [(9, 29)]
    assert attempts == []

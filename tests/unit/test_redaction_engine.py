"""Windows, overlap resolution, placeholders, allow-list and the JSONL edge, without spaCy."""

from __future__ import annotations

import io
import itertools
import json

import pytest

from copilot.ingest.redaction import PassThroughRedactor, build_redactor, redact_jsonl
from copilot.ingest.redaction.allowlist import OperationalAllowList
from copilot.ingest.redaction.engine import apply, is_duration, plain_label, resolve, windows
from copilot.ingest.redaction.placeholders import PlaceholderTable, load_or_create_key
from copilot.types import RedactionSpan

pytestmark = pytest.mark.unit


def S(start: int, end: int, t: str, score: float = 0.8) -> RedactionSpan:
    return RedactionSpan(start, end, t, score)


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], []),
        ([S(0, 5, "PERSON")], [S(0, 5, "PERSON")]),
        ([S(0, 20, "EMAIL_ADDRESS", 1.0), S(5, 20, "URL", 0.5)], [S(0, 20, "EMAIL_ADDRESS", 1.0)]),
        ([S(0, 5, "PHONE_NUMBER", 1.0), S(0, 5, "FAX_NUMBER", 1.0)], [S(0, 5, "FAX_NUMBER", 1.0)]),
        # Partial overlap: every character stays covered, each part typed by the detection that explains it.
        ([S(0, 5, "PERSON"), S(3, 9, "LOCATION", 0.9)], [S(0, 3, "PERSON"), S(3, 9, "LOCATION", 0.9)]),
        # A phone-shaped number inside an address block is part of the address ...
        ([S(0, 30, "STREET_ADDRESS", 0.85), S(10, 20, "PHONE_NUMBER", 0.9)], [S(0, 30, "STREET_ADDRESS", 0.85)]),
        # ... but an identifier that clearly outscores its container keeps its own name.
        (
            [S(0, 30, "DATE_TIME", 0.5), S(10, 20, "MRN", 0.95)],
            [S(0, 10, "DATE_TIME", 0.5), S(10, 20, "MRN", 0.95), S(20, 30, "DATE_TIME", 0.5)],
        ),
        # Slivers of one or two characters join their neighbour instead of becoming spans of their own.
        ([S(0, 10, "PERSON", 0.9), S(8, 11, "LOCATION", 0.5)], [S(0, 11, "PERSON", 0.9)]),
        ([S(0, 3, "PERSON"), S(3, 6, "PERSON")], [S(0, 3, "PERSON"), S(3, 6, "PERSON")]),
    ],
)
def test_resolve_unions_overlaps(spans: list[RedactionSpan], expected: list[RedactionSpan]) -> None:
    assert resolve(spans) == expected


def test_apply_rewrites_typed_placeholders() -> None:
    text = "call Ann at 555"
    assert apply(text, [S(5, 8, "PERSON")], plain_label) == "call <PERSON> at 555"


def test_windows_cover_text_and_overlap() -> None:
    text = " ".join(f"w{i}" for i in range(20_000))
    wins = list(windows([text], size=5_000, overlap=200))
    assert len(wins) > 1
    assert all(len(w.text) <= 5_000 for w in wins)
    assert wins[0].offset == 0
    for a, b in itertools.pairwise(wins):
        assert b.offset < a.offset + len(a.text)  # overlap: nothing falls between windows
        assert text[b.offset : b.offset + len(b.text)] == b.text
    assert wins[-1].offset + len(wins[-1].text) == len(text)


def test_windows_bounded_on_10mb_without_spaces() -> None:
    text = "x" * 10_000_000
    sizes = [len(w.text) for w in windows([text], size=20_000, overlap=300)]
    assert max(sizes) <= 20_000 and sum(sizes) >= len(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("every 6 months", True),
        ("30 days", True),
        ("annually", True),
        ("03/14/1948", False),
        ("Thursday", False),
        ("x" * 100_000, False),
    ],
)
def test_is_duration(value: str, expected: bool) -> None:
    assert is_duration(value) is expected


def test_placeholders_consistent_and_keyed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = load_or_create_key(tmp_path / "k")
    assert load_or_create_key(tmp_path / "k") == key and len(key) == 32
    t = PlaceholderTable(key)
    assert t.placeholder("PERSON", "John Smith") == "<PERSON_1>"
    assert t.placeholder("PERSON", "Mary Jones") == "<PERSON_2>"
    assert t.placeholder("PERSON", "JOHN  SMITH") == "<PERSON_1>"
    assert t.placeholder("PHONE_NUMBER", "(617) 555-0134") == t.placeholder("PHONE_NUMBER", "617.555.0134")
    assert "John" not in repr(t.__dict__)
    assert t.distinct() == {"PERSON": 2, "PHONE_NUMBER": 1}


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("pump BME-INF-0231 alarm", "BME-INF-0231"),
        ("LOT 24C117 recalled", "LOT 24C117"),
        ("see PO-2026-00418", "PO-2026-00418"),
        ("S/N 4471-AX92 due", "S/N 4471-AX92"),
        ("from B. Braun today", "B. Braun"),
    ],
)
def test_allow_list_regions(text: str, kept: str) -> None:
    start = text.index(kept)
    regions = OperationalAllowList().regions(text)
    assert any(a <= start and start + len(kept) <= b for a, b in regions)


@pytest.mark.parametrize("text", ["MRN-0012345", "implant pacemaker S/N 4471-AX92"])
def test_allow_list_refuses_patient_identifiers(text: str) -> None:
    regions = OperationalAllowList().regions(text)
    assert not any(b - a >= 8 for a, b in regions)


def test_identifier_labels_are_not_entities() -> None:
    assert OperationalAllowList.is_identifier_label("SSN")
    assert not OperationalAllowList.is_identifier_label("Smith")


def test_redact_jsonl_roundtrip_and_bad_lines() -> None:
    src = io.StringIO('{"text": "hello"}\nnot json\n{"text": 5}\n\n{"text": "bye"}\n')
    out = io.StringIO()
    assert redact_jsonl(src, out, PassThroughRedactor()) == 4
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert rows[0] == {"text": "hello", "spans": []}
    assert "error" in rows[1] and "not json" not in rows[1]["error"]
    assert "error" in rows[2]
    assert rows[3]["text"] == "bye"


def test_build_redactor_respects_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from copilot.config import Settings
    from copilot.ingest.redaction import PresidioRedactor

    assert isinstance(build_redactor(Settings(data_dir=tmp_path, redaction="none")), PassThroughRedactor)
    red = build_redactor(Settings(data_dir=tmp_path))
    assert isinstance(red, PresidioRedactor)
    assert red._analyzer is None  # cheap constructor: nothing loaded yet


def test_redact_jsonl_bad_input_gets_typed_errors_and_loses_nothing() -> None:
    """Bytes as the CLI reads them: each bad line gets its own typed error, the good ones around it survive,
    and no error echoes its input."""
    lines = [
        b'{"text": "first"}',
        b'{"text": "caf\xe9 MRN 12345678"}',  # Latin-1, not UTF-8
        b"\x00\x01\xff\xfe garbage",
        b"{not json at all: secret-value-123}",
        b'["text", "a list"]',
        b'{"text": ""}',
        b'{"text": "\\u0000\\u0001 binary-ish junk \\ufffd"}',
        b'{"text": "last"}',
    ]
    out = io.StringIO()
    assert redact_jsonl(io.BytesIO(b"\n".join(lines) + b"\n"), out, PassThroughRedactor()) == len(lines)
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    codes = [r["error"]["code"] if "error" in r else None for r in rows]
    assert codes == [None, "invalid_utf8", "invalid_utf8", "invalid_json", "missing_text", None, None, None]
    assert rows[0]["text"] == "first" and rows[-1]["text"] == "last" and rows[5]["text"] == ""
    assert [r["line"] for r in rows if "error" in r] == [2, 3, 4, 5]
    assert "secret-value-123" not in out.getvalue() and "12345678" not in out.getvalue()


def test_redact_jsonl_one_failing_text_does_not_lose_its_batch() -> None:
    class Fragile(PassThroughRedactor):
        def redact_batch(self, texts):  # type: ignore[no-untyped-def]
            if any("boom" in t for t in texts):
                raise RuntimeError("boom")
            return super().redact_batch(texts)

    src = io.BytesIO(b'{"text": "a"}\n{"text": "boom PHI"}\n{"text": "c"}\n')
    out = io.StringIO()
    assert redact_jsonl(src, out, Fragile()) == 3
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert rows[0]["text"] == "a" and rows[2]["text"] == "c"
    assert rows[1] == {"line": 2, "error": {"code": "redaction_failed", "message": "the redactor failed on this text"}}

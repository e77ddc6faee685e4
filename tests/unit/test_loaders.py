"""Loaders and the registry: structure per format, and every kind of bad input with its typed error.

All documents are generated at test time (fpdf2, pypdf, python-docx); nothing binary is committed.
"""

from __future__ import annotations

import pytest

from copilot.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncodingError,
    EncryptedDocumentError,
    FileTooLargeError,
    IngestError,
    NoTextLayerError,
    UnsupportedTypeError,
)
from copilot.ingest.loaders import LoaderRegistry, TextLoader, decode_text
from copilot.types import Block, BlockKind, LoadedDocument
from fixtures.docs import (
    GARBAGE,
    DocxPart,
    PdfSection,
    PdfSpec,
    encrypt_pdf,
    make_docx,
    make_image_only_pdf,
    make_pdf,
    make_ref,
    make_table_pdf,
    make_text_pdf,
    truncated,
)

pytestmark = pytest.mark.unit

SECRET = "Jane Roe MRN 4471902"  # document text that must never show up in an error message
PARA = (
    "Infusion pumps are inspected every six months by biomedical engineering. "
    "The inspection covers occlusion alarms, battery health and flow accuracy within five percent."
)


@pytest.fixture(scope="module")
def registry() -> LoaderRegistry:
    return LoaderRegistry.default(max_bytes=200_000)


def kinds(doc: LoadedDocument) -> list[tuple[str, str, int]]:
    return [(b.kind.value, b.text, b.level) for b in doc.blocks]


# ------------------------------------------------------------------------------------------------ PDF


def sop_pdf() -> bytes:
    return make_pdf(
        PdfSpec(
            pages=[
                [
                    PdfSection("1. Scope", [PARA], ["Check the battery", "Verify the alarm volume"]),
                    PdfSection(
                        "1.1 Responsibilities", ["Biomedical engineering owns the schedule."], level=2
                    ),
                ],
                [PdfSection("2. Procedure", [PARA, "Record the result in the asset log."])],
                [PdfSection("Records", ["Keep records for seven years."])],
            ],
            header="Northwind Health SOP-12 Rev 3",
            footer_page_numbers=True,
        )
    )


def test_pdf_headings_pages_lists_and_running_lines_stripped(registry: LoaderRegistry) -> None:
    doc = registry.load(sop_pdf(), make_ref("sop.pdf"))
    assert doc.page_count == 3
    assert [(b.kind.value, b.text, b.level, b.page) for b in doc.blocks] == [
        ("heading", "1. Scope", 1, 1),
        ("paragraph", PARA, 0, 1),
        ("list", "- Check the battery\n- Verify the alarm volume", 0, 1),
        ("heading", "1.1 Responsibilities", 2, 1),
        ("paragraph", "Biomedical engineering owns the schedule.", 0, 1),
        ("heading", "2. Procedure", 1, 2),
        ("paragraph", PARA, 0, 2),
        ("paragraph", "Record the result in the asset log.", 0, 2),
        ("heading", "Records", 1, 3),  # by font size alone: no numbering, not capitals
        ("paragraph", "Keep records for seven years.", 0, 3),
    ]
    assert "Northwind Health" not in doc.text and "Page" not in doc.text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PURPOSE", ("heading", 1)),
        ("2.3 Escalation contacts", ("heading", 2)),
        ("4. Definitions", ("heading", 1)),
        ("This SOP applies to every site in the network.", ("paragraph", 0)),
        ("- Wear gloves", ("list", 0)),
        ("1) Call the on-call engineer immediately.", ("list", 0)),
    ],
)
def test_pdf_heading_heuristics_without_font_cues(registry: LoaderRegistry, line: str, expected) -> None:
    data = make_text_pdf([["Opening paragraph of the document.", "", line, "", "Closing paragraph here."]])
    doc = registry.load(data, make_ref("plain.pdf"))
    block = next(b for b in doc.blocks if line.split()[-1].rstrip(".") in b.text)
    assert (block.kind.value, block.level) == expected


def test_pdf_unwraps_hyphenated_lines(registry: LoaderRegistry) -> None:
    data = make_text_pdf([["The pump must be recali-", "brated after every repair."]])
    assert registry.load(data, make_ref("h.pdf")).blocks[0].text == (
        "The pump must be recalibrated after every repair."
    )


PUMP_ROWS = [
    ["Pump type", "PM interval", "Battery replacement", "Grace period"],
    ["Medirion IP-7 volumetric", "Every 12 months", "Every 24 months", "30 days"],
    ["Calvera PCA-2 patient-controlled analgesia pump", "Every 6 months", "Every 18 months", "14 days"],
]


def test_pdf_ruled_table_becomes_one_table_block_in_place(registry: LoaderRegistry) -> None:
    data = make_table_pdf(PUMP_ROWS, before="Intervals by pump type:", after="Overdue pumps are tagged out.")
    doc = registry.load(data, make_ref("pm.pdf"))
    assert [b.kind for b in doc.blocks] == [
        BlockKind.HEADING, BlockKind.PARAGRAPH, BlockKind.TABLE, BlockKind.PARAGRAPH
    ]
    table = doc.blocks[2]
    assert table.page == 1
    # a wrapped cell comes back whole, every row in order, header first
    assert table.text.splitlines() == ["| " + " | ".join(r) + " |" for r in PUMP_ROWS]
    prose = " ".join(b.text for b in doc.blocks if b.kind is not BlockKind.TABLE)
    assert "Every 24 months" not in prose and "Medirion" not in prose  # no flattened copy left behind


def test_pdf_table_repeated_on_next_page_and_boxed_paragraph(registry: LoaderRegistry) -> None:
    note = "Note: loan pumps follow the lender's schedule and are not entered here."
    doc = registry.load(make_table_pdf(PUMP_ROWS, boxed_note=note, pages=2), make_ref("pm2.pdf"))
    tables = [b for b in doc.blocks if b.kind is BlockKind.TABLE]
    assert [t.page for t in tables] == [1, 2]
    # a ruled box around one paragraph is one cell, not a table: it stays a paragraph
    assert [b.text for b in doc.blocks if b.kind is BlockKind.PARAGRAPH] == [note]


def test_pdf_tables_off_keeps_pypdf_text(registry: LoaderRegistry) -> None:
    from copilot.ingest.loaders import PdfLoader

    doc = PdfLoader(tables=False).load(make_table_pdf(PUMP_ROWS), make_ref("pm.pdf"))
    assert not [b for b in doc.blocks if b.kind is BlockKind.TABLE]
    assert "Every 24 months" in " ".join(b.text for b in doc.blocks)


def test_pdf_table_detection_failure_keeps_the_text(registry: LoaderRegistry, monkeypatch) -> None:
    import pdfplumber

    def broken(*_a, **_k):
        raise ValueError("pdfminer could not parse the content stream")

    monkeypatch.setattr(pdfplumber, "open", broken)
    doc = registry.load(make_table_pdf(PUMP_ROWS), make_ref("pm.pdf"))
    assert not [b for b in doc.blocks if b.kind is BlockKind.TABLE]
    assert "Every 24 months" in " ".join(b.text for b in doc.blocks)


def test_pdf_encrypted_with_empty_user_password_opens(registry: LoaderRegistry) -> None:
    data = encrypt_pdf(sop_pdf(), user_password="", owner_password="owner-secret")
    doc = registry.load(data, make_ref("owner-only.pdf"))
    assert doc.blocks[0].text == "1. Scope"


# ------------------------------------------------------------------------------------------------ HTML / MD


HTML = b"""<!doctype html><html><head><title>T</title><style>p { color: red }</style></head><body>
<nav><a href="/">Home</a> <a href="/sops">SOPs</a></nav><script>var secret = 1;</script>
<h1>Cold chain storage</h1><div>Applies to every <em>pharmacy</em> fridge.</div>
<p>Keep vaccines <b>between</b> 2 and 8 &deg;C.</p>
<ul><li>Check twice daily<ul><li>at 08:00</li></ul></li><li>Log excursions</li></ul>
<h3>Limits</h3>
<table><thead><tr><th>Item</th><th>Min</th><th>Max</th></tr></thead>
<tbody><tr><td>Vaccines</td><td>2</td><td>8</td></tr><tr><td>Insulin</td><td>2</td><td>8</td></tr></tbody></table>
<!-- a comment --><footer>Owner: Pharmacy</footer></body></html>"""

MARKDOWN = """# Purchase approval

Approvals depend on *amount*
and category.

## Thresholds

1. Up to 1,000: department head
2. Above 1,000: finance
   - above 25,000: CFO

| Category | Limit |
|----------|-------|
| Capital  | 25000 |

```
PO-RULE-7
```
"""


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (
            "cold-chain.html",
            HTML,
            [
                ("heading", "Cold chain storage", 1),
                ("paragraph", "Applies to every pharmacy fridge.", 0),
                ("paragraph", "Keep vaccines between 2 and 8 °C.", 0),
                ("list", "- Check twice daily\n  - at 08:00\n- Log excursions", 0),
                ("heading", "Limits", 3),
                ("table", "| Item | Min | Max |\n| Vaccines | 2 | 8 |\n| Insulin | 2 | 8 |", 0),
                ("paragraph", "Owner: Pharmacy", 0),
            ],
        ),
        (
            "approvals.md",
            MARKDOWN.encode(),
            [
                ("heading", "Purchase approval", 1),
                ("paragraph", "Approvals depend on amount and category.", 0),
                ("heading", "Thresholds", 2),
                ("list", "- Up to 1,000: department head\n- Above 1,000: finance\n  - above 25,000: CFO", 0),
                ("table", "| Category | Limit |\n| Capital | 25000 |", 0),
                ("paragraph", "PO-RULE-7", 0),
            ],
        ),
        (
            "notes.txt",
            b"Fridge log\r\n\r\nRecord the temperature\nat the start of each shift.\n\n- one\n- two\n",
            [
                ("paragraph", "Fridge log", 0),
                ("paragraph", "Record the temperature at the start of each shift.", 0),
                ("list", "- one\n- two", 0),
            ],
        ),
        (
            "policy.docx",
            make_docx(
                [
                    DocxPart("heading", "Purchasing", level=1),
                    DocxPart("para", "Every order needs approval."),
                    DocxPart("bullet", "Stationery"),
                    DocxPart("bullet", "Consumables"),
                    DocxPart("heading", "Thresholds", level=2),
                    DocxPart("number", "Raise the request"),
                    DocxPart("number", "Attach the quote"),
                    DocxPart("table", rows=[["Amount", "Approver"], ["< 1000", "Manager"]]),
                ]
            ),
            [
                ("heading", "Purchasing", 1),
                ("paragraph", "Every order needs approval.", 0),
                ("list", "- Stationery\n- Consumables", 0),
                ("heading", "Thresholds", 2),
                ("list", "1. Raise the request\n2. Attach the quote", 0),
                ("table", "| Amount | Approver |\n| < 1000 | Manager |", 0),
            ],
        ),
    ],
)
def test_structure_per_format(registry: LoaderRegistry, name: str, data: bytes, expected) -> None:
    doc = registry.load(data, make_ref(name))
    assert kinds(doc) == expected
    assert "secret" not in doc.text and "Home" not in doc.text


# ------------------------------------------------------------------------------------------------ encodings


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        ("Café – 5 €".encode(), "Café – 5 €", None),
        (b"\xef\xbb\xbf" + "Café".encode(), "Café", None),
        ("Café".encode("utf-16"), "Café", "utf-16"),
        ("Café – 5 €".encode("cp1252"), "Café – 5 €", "cp1252"),
        # 0x81 is undefined in cp1252; one stray byte in a long text is still plausible latin-1
        (b"ward " * 300 + b"\x81", "ward " * 300 + "\x81", "latin-1"),
    ],
)
def test_text_encoding_policy(data: bytes, text: str, encoding: str | None) -> None:
    doc = TextLoader().load(data, make_ref("t.txt"))
    assert " ".join(b.text for b in doc.blocks) == " ".join(text.split())
    assert doc.ref.extra.get("encoding") == encoding


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(128, 256)) * 20,  # not UTF-8; as cp1252 it fails, as latin-1 it is C1 control soup
        bytes(range(256)) * 8,  # binary
        b"\x00\x01\x02 text \x00\x00\x03" * 50,  # valid UTF-8, but binary
        b"\xff\xfe\x00\xd8",  # UTF-16 BOM with a lone surrogate
    ],
)
def test_text_that_is_not_plausible_raises_encoding_error(data: bytes) -> None:
    with pytest.raises(EncodingError, match=r"/corpus/t\.txt"):
        decode_text(data, make_ref("t.txt"))


# ------------------------------------------------------------------------------------------------ bad input


def _secret_pdf() -> bytes:
    return make_pdf(PdfSpec(pages=[[PdfSection("Incident", [f"Patient {SECRET} fell in ward 3."])]]))


BAD_INPUTS = [
    ("encrypted.pdf", lambda: encrypt_pdf(_secret_pdf(), user_password="x"), EncryptedDocumentError),
    ("truncated.pdf", lambda: truncated(_secret_pdf(), 0.5), CorruptDocumentError),
    ("garbage.pdf", lambda: GARBAGE, CorruptDocumentError),
    ("minimal.pdf", lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage", CorruptDocumentError),
    ("scanned.pdf", lambda: make_image_only_pdf(3), NoTextLayerError),
    ("zero.pdf", lambda: b"", EmptyDocumentError),
    ("zero.txt", lambda: b"", EmptyDocumentError),
    ("blank.txt", lambda: b" \n\n\t\n", EmptyDocumentError),
    (
        "script-only.html",
        lambda: b"<html><script>var x = 1;</script><nav>Menu</nav></html>",
        EmptyDocumentError,
    ),
    ("empty.md", lambda: b"<!-- -->\n\n---\n", EmptyDocumentError),
    ("big.txt", lambda: SECRET.encode() * 20_000, FileTooLargeError),
    ("big.pdf", lambda: GARBAGE * 200, FileTooLargeError),  # size is checked before parsing
    ("notes.xyz", lambda: SECRET.encode(), UnsupportedTypeError),
    ("archive.zip", lambda: b"PK\x03\x04", UnsupportedTypeError),
    ("latin.txt", lambda: bytes(range(128, 256)) * 20, EncodingError),
    ("broken.docx", lambda: b"PK\x03\x04" + SECRET.encode() * 10, CorruptDocumentError),
    ("not-a-zip.docx", lambda: SECRET.encode(), CorruptDocumentError),
]


@pytest.mark.parametrize(("name", "make", "error"), BAD_INPUTS, ids=[row[0] for row in BAD_INPUTS])
def test_bad_input_raises_typed_error_naming_the_file_not_the_text(
    registry: LoaderRegistry, name: str, make, error: type[IngestError]
) -> None:
    with pytest.raises(error) as info:
        registry.load(make(), make_ref(name))
    assert type(info.value) is error
    assert name in info.value.message
    assert "Jane" not in info.value.message and "4471902" not in info.value.message


def test_check_refuses_by_declared_size_and_type_before_reading(registry: LoaderRegistry) -> None:
    with pytest.raises(FileTooLargeError):
        registry.check(make_ref("a.pdf", size=200_001))
    with pytest.raises(UnsupportedTypeError):
        registry.check(make_ref("a.exe", size=10))
    assert registry.check(make_ref("a.pdf", size=200_000)) is not None


@pytest.mark.parametrize(
    ("name", "mime", "data"),
    [
        ("export.bin", "text/markdown", b"# Title\n\nBody"),  # specific mime wins over the extension
        ("Cold Chain.md", "application/octet-stream", b"# Title\n\nBody"),  # generic mime: extension decides
        ("page", "text/html; charset=utf-8", b"<h1>Title</h1><p>Body</p>"),  # mime parameters ignored
    ],
)
def test_loader_is_chosen_by_mime_then_extension(
    registry: LoaderRegistry, name: str, mime: str, data
) -> None:
    doc = registry.load(data, make_ref(name, mime_type=mime))
    assert kinds(doc) == [("heading", "Title", 1), ("paragraph", "Body", 0)]


def test_registry_accepts_new_formats_by_registration() -> None:
    class CsvLoader:
        mime_types = ("text/csv",)
        extensions = ("csv",)

        def load(self, data: bytes, ref):  # type: ignore[no-untyped-def]
            rows = [line.split(",") for line in data.decode().splitlines()]
            return LoadedDocument(ref, (Block(BlockKind.TABLE, "\n".join("|".join(r) for r in rows)),))

    registry = LoaderRegistry.default()
    with pytest.raises(UnsupportedTypeError):
        registry.load(b"a,b", make_ref("x.csv"))
    registry.register(CsvLoader())
    assert registry.load(b"a,b\n1,2", make_ref("x.csv")).blocks[0].text == "a|b\n1|2"
    assert ".csv" in registry.extensions


def test_unexpected_parser_crash_is_reported_as_corrupt_without_its_message() -> None:
    class Exploding:
        mime_types = ("text/x-boom",)
        extensions = ("boom",)

        def load(self, data: bytes, ref):  # type: ignore[no-untyped-def]
            raise RuntimeError(f"parser choked near {data.decode()}")

    registry = LoaderRegistry([Exploding()])
    with pytest.raises(CorruptDocumentError) as info:
        registry.load(SECRET.encode(), make_ref("x.boom"))
    assert "RuntimeError" in info.value.message and "Jane" not in info.value.message

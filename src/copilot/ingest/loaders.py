"""Loaders: raw bytes → structured :class:`~copilot.types.Block` s, one loader per format.

The :class:`LoaderRegistry` picks a loader by mime type or file extension (a lookup table, not an if/else
chain) and applies the checks every format shares: empty input, size limit (before parsing), unsupported type,
and "no text after extraction". Every failure is a typed :class:`copilot.errors.IngestError` whose message
names the file and the reason but never quotes document text (it may hold PHI).

Usage::

    registry = LoaderRegistry.default(max_bytes=settings.max_file_bytes)
    registry.check(ref)                      # cheap: type and size, before reading the bytes
    doc = registry.load(source.read(ref), ref)

Text encoding policy (:class:`TextLoader`, :class:`MarkdownLoader`): a BOM wins (UTF-8, UTF-16 LE/BE);
otherwise strict UTF-8; otherwise cp1252, then latin-1, accepted only when the decoded text is plausible
(almost no control characters — binary data decoded as latin-1 is full of them). Anything else is an
:class:`~copilot.errors.EncodingError`. The encoding used is recorded in ``doc.ref.extra["encoding"]`` so a
fallback is visible downstream.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlparse

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
from copilot.types import Block, BlockKind, DocumentRef, LoadedDocument

DEFAULT_MAX_BYTES = 50 * 1024 * 1024

logger = logging.getLogger(__name__)

_WS = re.compile(r"\s+")


def _clean(text: str) -> str:
    """Collapse runs of whitespace (incl. non-breaking spaces) into one space."""
    return _WS.sub(" ", text.replace("\u00ad", "")).strip()


def describe(ref: DocumentRef) -> str:
    """How error messages name a document: its URI (a path or an Odoo URL), never its content."""
    return ref.uri or ref.doc_id


class FormatLoader(Protocol):
    """A :class:`copilot.protocols.Loader` that also declares the file extensions it reads."""

    mime_types: tuple[str, ...]
    extensions: tuple[str, ...]

    def load(self, data: bytes, ref: DocumentRef) -> LoadedDocument: ...


# --------------------------------------------------------------------------------------------------- registry


def _extension(ref: DocumentRef) -> str:
    for name in (str(ref.extra.get("filename") or ""), urlparse(ref.uri).path or ref.uri):
        suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
        if suffix:
            return suffix
    return ""


def _base_mime(mime: str) -> str:
    return mime.split(";", 1)[0].strip().lower()


GENERIC_MIME_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class LoaderRegistry:
    """Maps mime types and extensions to loaders and runs the checks shared by every format.

    A specific mime type wins; a generic one (``application/octet-stream``) falls back to the extension, so
    Odoo attachments with a poor mime type still load.
    """

    def __init__(self, loaders: Iterable[FormatLoader] = (), *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._by_mime: dict[str, FormatLoader] = {}
        self._by_ext: dict[str, FormatLoader] = {}
        for loader in loaders:
            self.register(loader)

    @classmethod
    def default(cls, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoaderRegistry:
        """PDF, HTML, Markdown, plain text and DOCX."""
        return cls(
            [PdfLoader(), HtmlLoader(), MarkdownLoader(), TextLoader(), DocxLoader()], max_bytes=max_bytes
        )

    def register(
        self,
        loader: FormatLoader,
        *,
        mime_types: Sequence[str] | None = None,
        extensions: Sequence[str] | None = None,
    ) -> None:
        """Register ``loader`` for its declared (or the given) mime types and extensions; later wins."""
        for mime in mime_types if mime_types is not None else loader.mime_types:
            self._by_mime[_base_mime(mime)] = loader
        for ext in extensions if extensions is not None else loader.extensions:
            self._by_ext["." + ext.lower().lstrip(".")] = loader

    @property
    def extensions(self) -> frozenset[str]:
        return frozenset(self._by_ext)

    def loader_for(self, ref: DocumentRef) -> FormatLoader:
        mime = _base_mime(ref.mime_type)
        loader = self._by_mime.get(mime) if mime not in GENERIC_MIME_TYPES else None
        if loader is None:
            loader = self._by_ext.get(_extension(ref))
        if loader is None:
            raise UnsupportedTypeError(
                f"{describe(ref)}: unsupported type (mime {mime or 'unknown'}, "
                f"extension {_extension(ref) or 'none'})"
            )
        return loader

    def check(self, ref: DocumentRef) -> FormatLoader:
        """The checks that need no content: known type and declared size. Call before reading the bytes."""
        loader = self.loader_for(ref)
        if ref.size > self.max_bytes:
            raise FileTooLargeError(f"{describe(ref)}: {ref.size} bytes exceeds the limit {self.max_bytes}")
        return loader

    def load(self, data: bytes, ref: DocumentRef) -> LoadedDocument:
        """Parse ``data``; raises a typed :class:`IngestError` for every kind of bad input."""
        loader = self.loader_for(ref)
        if not data:
            raise EmptyDocumentError(f"{describe(ref)}: zero-byte file")
        if len(data) > self.max_bytes:
            raise FileTooLargeError(f"{describe(ref)}: {len(data)} bytes exceeds the limit {self.max_bytes}")
        try:
            doc = loader.load(data, ref)
        except IngestError:
            raise
        except Exception as exc:  # a parser crash on malformed input means the file is corrupt
            # Only the exception type: parser messages can quote document content.
            raise CorruptDocumentError(f"{describe(ref)}: unreadable ({type(exc).__name__})") from exc
        blocks = tuple(b for b in doc.blocks if b.text.strip())
        if not blocks:
            raise EmptyDocumentError(f"{describe(ref)}: no text after extraction")
        return replace(doc, blocks=blocks) if len(blocks) != len(doc.blocks) else doc


# --------------------------------------------------------------------------------------------------- shared

_BULLET = re.compile(r"^\s*(?:[-*•◦▪‣–·]|o(?=\s))\s+(?P<item>\S.*)$")
_NUMBERED_ITEM = re.compile(r"^\s*(?P<num>\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)])\s+(?P<item>\S.*)$")


def _list_block(items: Sequence[str], page: int | None = None) -> Block:
    return Block(BlockKind.LIST, "\n".join(items), page=page)


def _table_block(rows: Sequence[Sequence[str]], page: int | None = None) -> Block | None:
    """Pipe rows, one per line; the first line is the header row (the chunker repeats it when splitting)."""
    lines = ["| " + " | ".join(cells) + " |" for cells in rows if any(c for c in cells)]
    return Block(BlockKind.TABLE, "\n".join(lines), page=page) if lines else None


# --------------------------------------------------------------------------------------------------- PDF


@dataclass
class _Line:
    text: str = ""
    size: float = 0.0
    y: float | None = None


@dataclass
class _PdfTable:
    """A ruled table found by pdfplumber: its vertical extent in PDF user space (origin bottom-left) and rows."""

    y_low: float
    y_high: float
    rows: list[list[str]]


@dataclass
class _PageLines:
    number: int
    lines: list[_Line] = field(default_factory=list)
    tables: list[_PdfTable] = field(default_factory=list)


_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$|^-\s*\d{1,4}\s*-$", re.IGNORECASE)
_DECIMAL_HEADING = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){1,4})\.?\s+(?P<title>\S.*)$")
_SINGLE_HEADING = re.compile(r"^(?P<num>\d{1,2})[.)]?\s+(?P<title>[A-Z].*)$")


class PdfLoader:
    """PDF via pypdf: page numbers on every block, heuristic headings and lists, headers/footers stripped,
    ruled tables as labelled rows.

    Headings come from font size when the PDF varies it (pypdf's text visitor reports the size of every text
    run, cheaply), and from numbering ("2.", "2.3 Scope") and ALL-CAPS short lines. Lines repeated at the
    top or bottom of most pages (running headers, footers, "Page 3 of 9") are dropped. Paragraphs are rebuilt
    from wrapped lines using the vertical gaps between them.

    Tables: pypdf's text flattens a table into one run of words ("Pump type PM interval Battery replacement
    Medirion IP-7 volumetric Every 12 months ..."), which no answerer can read. pdfplumber (pdfminer.six)
    finds ruled tables from the page's drawn lines and gives their cells; the lines pypdf placed inside a
    table's extent are replaced by one TABLE block (header row first, like HTML/Markdown/DOCX tables). A
    failure of the table pass never fails the document: it keeps pypdf's text for that page.
    ``tables=False`` turns the pass off.
    """

    mime_types: tuple[str, ...] = ("application/pdf",)
    extensions: tuple[str, ...] = ("pdf",)

    max_heading_chars = 100
    heading_size_ratio = 1.12

    def __init__(self, *, tables: bool = True) -> None:
        self.tables = tables

    def load(self, data: bytes, ref: DocumentRef) -> LoadedDocument:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

        name = describe(ref)
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                try:
                    opened = reader.decrypt("")
                except (DependencyError, NotImplementedError) as exc:
                    raise EncryptedDocumentError(f"{name}: encrypted with an unsupported scheme") from exc
                if not opened:
                    raise EncryptedDocumentError(f"{name}: encrypted (password required)")
            pages = [self._page_lines(number, page) for number, page in enumerate(reader.pages, start=1)]
        except IngestError:
            raise
        except FileNotDecryptedError as exc:
            raise EncryptedDocumentError(f"{name}: encrypted (password required)") from exc
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
            raise CorruptDocumentError(f"{name}: corrupt PDF ({type(exc).__name__})") from exc
        except RecursionError as exc:
            raise CorruptDocumentError(f"{name}: corrupt PDF (recursive structure)") from exc
        if not pages:
            raise EmptyDocumentError(f"{name}: PDF has no pages")
        if not any(line.text.strip() for p in pages for line in p.lines):
            raise NoTextLayerError(f"{name}: no text on any of {len(pages)} page(s) (scanned? no OCR done)")
        if self.tables:
            self._find_tables(data, pages, name)
        self._strip_running_lines(pages)
        blocks = self._blocks(pages)
        return LoadedDocument(ref=ref, blocks=tuple(blocks), page_count=len(pages))

    # -- extraction

    @staticmethod
    def _page_lines(number: int, page: Any) -> _PageLines:
        """Rebuild lines with their font size and baseline from pypdf's text visitor."""
        out = _PageLines(number)
        current = _Line()

        def visit(text: str, cm: Sequence[float], tm: Sequence[float], _font: Any, size: float) -> None:
            nonlocal current
            parts = text.split("\n")
            for i, part in enumerate(parts):
                if i > 0:
                    out.lines.append(current)
                    current = _Line()
                if part.strip():
                    scale = abs(tm[3] * cm[3]) or 1.0
                    current.size = max(current.size, float(size or 0.0) * scale)
                    if current.y is None:
                        current.y = float(tm[5] * cm[3] + cm[5])
                current.text += part

        text = page.extract_text(visitor_text=visit) or ""
        out.lines.append(current)
        out.lines = [ln for ln in out.lines if ln.text.strip()]
        for ln in out.lines:
            ln.text = _clean(ln.text)
        if not out.lines and text.strip():  # visitor gave nothing usable: fall back to plain lines
            out.lines = [_Line(_clean(t)) for t in text.splitlines() if t.strip()]
        return out

    @staticmethod
    def _find_tables(data: bytes, pages: list[_PageLines], name: str) -> None:
        """Attach pdfplumber's ruled tables to the pages whose lines carry positions."""
        try:
            import pdfplumber
        except ImportError:  # optional at run time: without it, tables stay flattened text
            return
        try:
            with pdfplumber.open(io.BytesIO(data)) as pdf:
                for p, page in zip(pages, pdf.pages, strict=False):
                    if not p.lines or any(ln.y is None for ln in p.lines) or not (page.rects or page.lines):
                        continue
                    height = float(page.height)
                    for table in page.find_tables():
                        rows = [[_clean((c or "").replace("\n", " ")) for c in row] for row in table.extract()]
                        rows = [r for r in rows if any(r)]
                        if len(rows) < 2 or max(len(r) for r in rows) < 2:
                            continue  # a ruled box around a paragraph is not a table
                        _x0, top, _x1, bottom = table.bbox
                        p.tables.append(_PdfTable(height - float(bottom), height - float(top), rows))
        except Exception as exc:
            logger.warning("%s: table detection failed (%s); tables stay as text", name, type(exc).__name__)
            for p in pages:
                p.tables.clear()

    @staticmethod
    def _strip_running_lines(pages: list[_PageLines], edge: int = 2) -> None:
        """Drop page numbers and lines repeated at the top/bottom of at least half the pages."""

        def key(text: str) -> str:
            return re.sub(r"\d+", "#", text.lower())

        counts: Counter[str] = Counter()
        for p in pages:
            edges = {key(ln.text) for ln in p.lines[:edge] + p.lines[-edge:]}
            counts.update(edges)
        threshold = max(2, (len(pages) + 1) // 2)
        running = {k for k, n in counts.items() if n >= threshold} if len(pages) >= 2 else set()
        for p in pages:
            n = len(p.lines)
            p.lines = [
                ln
                for i, ln in enumerate(p.lines)
                if not (
                    (i < edge or i >= n - edge) and (key(ln.text) in running or _PAGE_NUMBER.match(ln.text))
                )
            ]

    # -- structure

    def _blocks(self, pages: list[_PageLines]) -> list[Block]:
        sizes: Counter[float] = Counter()
        for p in pages:
            for ln in p.lines:
                if ln.size:
                    sizes[round(ln.size * 2) / 2] += len(ln.text)
        body = sizes.most_common(1)[0][0] if sizes else 0.0
        heading_sizes = sorted(
            (s for s in sizes if body and s >= body * self.heading_size_ratio), reverse=True
        )
        size_level = {s: min(i + 1, 6) for i, s in enumerate(heading_sizes)}

        gaps = [
            a.y - b.y
            for p in pages
            for a, b in zip(p.lines, p.lines[1:], strict=False)
            if a.y is not None and b.y is not None and a.y > b.y
        ]
        # The most common gap is the line spacing inside paragraphs; a clearly larger one separates blocks.
        gap_counts = Counter(round(g * 2) / 2 for g in gaps)
        line_gap = min(gap_counts.items(), key=lambda kv: (-kv[1], kv[0]))[0] if gap_counts else 0.0

        blocks: list[Block] = []
        for p in pages:
            blocks.extend(self._page_blocks(p, body, size_level, line_gap))
        return blocks

    def _page_blocks(
        self, p: _PageLines, body: float, size_level: dict[float, int], line_gap: float
    ) -> list[Block]:
        blocks: list[Block] = []
        para: list[str] = []
        items: list[str] = []
        prev: _Line | None = None

        def flush() -> None:
            if para:
                blocks.append(Block(BlockKind.PARAGRAPH, _join_wrapped(para), page=p.number))
                para.clear()
            if items:
                blocks.append(_list_block(items, p.number))
                items.clear()

        tables = sorted(p.tables, key=lambda t: -t.y_high)
        placed: set[int] = set()
        for ln in p.lines:
            inside = next(
                (i for i, t in enumerate(tables) if ln.y is not None and t.y_low <= ln.y <= t.y_high), None
            )
            if inside is not None:
                if inside not in placed:
                    flush()
                    placed.add(inside)
                    if (table := _table_block(tables[inside].rows, p.number)) is not None:
                        blocks.append(table)
                prev = None
                continue
            level = self._heading_level(ln, body, size_level)
            gap_break = (
                prev is not None
                and line_gap > 0
                and prev.y is not None
                and ln.y is not None
                and (prev.y - ln.y) > line_gap * 1.35
            )
            if level:
                flush()
                blocks.append(Block(BlockKind.HEADING, ln.text, level=level, page=p.number))
            elif (m := _BULLET.match(ln.text)) or (m := _NUMBERED_ITEM.match(ln.text)):
                if para:
                    flush()
                marker = "-" if "num" not in m.groupdict() else m.group("num")
                items.append(f"{marker} {m.group('item')}")
            elif items and not gap_break:
                items[-1] = _join_wrapped([items[-1], ln.text])  # wrapped continuation of an item
            else:
                if gap_break or items:
                    flush()
                para.append(ln.text)
            prev = ln
        flush()
        for i, t in enumerate(tables):  # a table pypdf read no line of still keeps its cells
            if i not in placed and (table := _table_block(t.rows, p.number)) is not None:
                blocks.append(table)
        return blocks

    def _heading_level(self, ln: _Line, body: float, size_level: dict[float, int]) -> int:
        text = ln.text
        if len(text) > self.max_heading_chars or (text.endswith((".", ",", ";", ":")) and not text.isupper()):
            return 0
        if not any(ch.isalpha() for ch in text):
            return 0
        if m := _DECIMAL_HEADING.match(text):
            return min(m.group("num").count(".") + 1, 6)
        by_size = size_level.get(round(ln.size * 2) / 2, 0) if ln.size else 0
        if by_size:
            return by_size
        words = text.split()
        deepest = max(size_level.values(), default=0)
        if _SINGLE_HEADING.match(text) and len(words) <= 8 and not size_level:
            return 1
        letters = [c for c in text if c.isalpha()]
        if len(letters) >= 3 and all(c.isupper() for c in letters) and len(words) <= 10:
            return min(deepest + 1, 6)
        return 0


def _join_wrapped(lines: Sequence[str]) -> str:
    """Join layout-wrapped lines, undoing end-of-line hyphenation ("infu-" + "sion")."""
    out = ""
    for line in lines:
        if not out:
            out = line
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha() and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}"
    return out


# --------------------------------------------------------------------------------------------------- HTML

_HTML_DROP = ("script", "style", "nav", "noscript", "template", "svg", "iframe", "head")
_HTML_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_HTML_CONTAINERS = frozenset(
    {"html", "body", "main", "article", "section", "div", "header", "footer", "aside", "figure"}
    | {"blockquote", "form", "center", "details", "summary", "fieldset", "address"}
)
_HTML_BLOCK_TAGS = [*_HTML_HEADINGS, "p", "ul", "ol", "table", "div", "pre"]


class HtmlLoader:
    """HTML via BeautifulSoup (``html.parser``): headings with levels, paragraphs, lists, tables.

    Each list item becomes a ``- item`` line (nested items indented); a table becomes one TABLE block of pipe
    rows, header row first. ``script``/``style``/``nav`` (and similar non-content) are dropped. Text sitting
    directly in containers (``<div>text</div>``) becomes paragraphs too.
    """

    mime_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")
    extensions: tuple[str, ...] = ("html", "htm", "xhtml")

    def load(self, data: bytes, ref: DocumentRef) -> LoadedDocument:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(data, "html.parser")
        for tag in soup.find_all(_HTML_DROP):
            tag.decompose()
        blocks: list[Block] = []
        self._walk(soup, blocks)
        return LoadedDocument(ref=ref, blocks=tuple(blocks))

    def _walk(self, node: Any, blocks: list[Block]) -> None:
        from bs4 import NavigableString, Tag
        from bs4.element import PreformattedString

        inline: list[str] = []

        def flush() -> None:
            text = _clean(" ".join(inline))
            if text:
                blocks.append(Block(BlockKind.PARAGRAPH, text))
            inline.clear()

        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctype, processing instructions
                continue
            if isinstance(child, NavigableString):
                inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if name in _HTML_HEADINGS:
                flush()
                text = _clean(child.get_text(" "))
                if text:
                    blocks.append(Block(BlockKind.HEADING, text, level=_HTML_HEADINGS[name]))
            elif name in ("ul", "ol"):
                flush()
                items: list[str] = []
                self._list_items(child, items, depth=0)
                if items:
                    blocks.append(_list_block(items))
            elif name == "table":
                flush()
                rows = [
                    [_clean(cell.get_text(" ")) for cell in tr.find_all(("td", "th"), recursive=False)]
                    for tr in child.find_all("tr")
                ]
                if (table := _table_block(rows)) is not None:
                    blocks.append(table)
            elif name == "p":
                flush()
                if text := _clean(child.get_text(" ")):
                    blocks.append(Block(BlockKind.PARAGRAPH, text))
            elif name == "pre":
                flush()
                if text := child.get_text().strip("\n"):
                    blocks.append(Block(BlockKind.PARAGRAPH, text))
            elif name == "dl":
                flush()
                for part in child.find_all(("dt", "dd")):
                    if text := _clean(part.get_text(" ")):
                        blocks.append(Block(BlockKind.PARAGRAPH, text))
            elif name == "br":
                inline.append(" ")
            elif name in _HTML_CONTAINERS or child.find(_HTML_BLOCK_TAGS):
                flush()
                self._walk(child, blocks)
            else:  # inline element: span, a, strong, em, ...
                inline.append(child.get_text(" "))
        flush()

    def _list_items(self, lst: Any, out: list[str], depth: int) -> None:
        for li in lst.find_all("li", recursive=False):
            nested = li.find_all(("ul", "ol"), recursive=False)
            for sub in nested:
                sub.extract()
            if text := _clean(li.get_text(" ")):
                out.append("  " * depth + "- " + text)
            for sub in nested:
                self._list_items(sub, out, depth + 1)


# --------------------------------------------------------------------------------------------------- Markdown


class MarkdownLoader:
    """Markdown via markdown-it-py tokens (CommonMark + GFM tables).

    Headings keep their level; list items become ``- item`` lines (nested items indented); tables become one
    TABLE block of pipe rows; fenced and indented code become paragraphs (their text is document content).
    """

    mime_types: tuple[str, ...] = ("text/markdown", "text/x-markdown")
    extensions: tuple[str, ...] = ("md", "markdown")

    def load(self, data: bytes, ref: DocumentRef) -> LoadedDocument:
        from markdown_it import MarkdownIt

        text, encoding = decode_text(data, ref)
        tokens = MarkdownIt("commonmark").enable("table").parse(text)
        blocks = list(self._blocks(tokens))
        return LoadedDocument(ref=_with_encoding(ref, encoding), blocks=tuple(blocks))

    def _blocks(self, tokens: Sequence[Any]) -> Iterator[Block]:
        heading_level = 0
        list_depth = 0
        items: list[str] = []
        item_text: list[list[str]] = []  # one buffer per open list item (nesting)
        rows: list[list[str]] = []
        row: list[str] | None = None
        in_table = False
        for tok in tokens:
            t = tok.type
            if t == "heading_open":
                heading_level = int(tok.tag[1:])
            elif t == "heading_close":
                heading_level = 0
            elif t in ("bullet_list_open", "ordered_list_open"):
                if item_text:  # a nested list ends the parent item's own text
                    self._emit_item(items, item_text[-1], list_depth - 1)
                list_depth += 1
            elif t in ("bullet_list_close", "ordered_list_close"):
                list_depth -= 1
                if list_depth == 0 and items:
                    yield _list_block(items)
                    items = []
            elif t == "list_item_open":
                item_text.append([])
            elif t == "list_item_close":
                self._emit_item(items, item_text.pop(), list_depth - 1)
            elif t == "table_open":
                in_table, rows = True, []
            elif t == "table_close":
                in_table = False
                if (table := _table_block(rows)) is not None:
                    yield table
            elif t == "tr_open":
                row = []
            elif t == "tr_close" and row is not None:
                rows.append(row)
                row = None
            elif t in ("fence", "code_block"):
                code = tok.content.strip("\n")
                if code.strip():
                    if item_text:
                        item_text[-1].append(_clean(code))
                    else:
                        yield Block(BlockKind.PARAGRAPH, code)
            elif t == "html_block":
                if text := _clean(re.sub(r"<[^>]+>", " ", tok.content)):
                    yield Block(BlockKind.PARAGRAPH, text)
            elif t == "inline":
                text = _clean(_inline_text(tok))
                if not text:
                    continue
                if in_table and row is not None:
                    row.append(text)
                elif heading_level:
                    yield Block(BlockKind.HEADING, text, level=heading_level)
                elif item_text:
                    item_text[-1].append(text)
                else:
                    yield Block(BlockKind.PARAGRAPH, text)

    @staticmethod
    def _emit_item(items: list[str], parts: list[str], depth: int) -> None:
        if parts:
            items.append("  " * max(depth, 0) + "- " + " ".join(parts))
            parts.clear()


def _inline_text(tok: Any) -> str:
    out: list[str] = []
    for child in tok.children or ():
        if child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type in ("text", "code_inline", "image"):
            out.append(child.content)
    return "".join(out)


# --------------------------------------------------------------------------------------------------- text

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
MAX_CONTROL_RATIO = 0.001
"""Share of control characters (C0/C1, excluding whitespace) above which decoded text is judged binary."""


def _plausible(text: str) -> bool:
    if not text:
        return True
    controls = sum(
        1 for ch in text if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) in ("Cc", "Cs", "Co")
    )
    return controls <= MAX_CONTROL_RATIO * len(text)


def decode_text(data: bytes, ref: DocumentRef) -> tuple[str, str]:
    """Decode text bytes by the module's encoding policy; returns ``(text, encoding)``."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise EncodingError(f"{describe(ref)}: invalid {encoding} despite its BOM") from exc
            if not _plausible(text):
                raise EncodingError(f"{describe(ref)}: binary content, not text")
            return text, encoding
    candidates = ("utf-8", "cp1252", "latin-1")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _plausible(text):
            return text, encoding
        if encoding == "utf-8":  # valid UTF-8 full of control characters is binary, not mis-encoded text
            break
    raise EncodingError(f"{describe(ref)}: not UTF-8 and not plausible cp1252/latin-1 text (binary?)")


def _with_encoding(ref: DocumentRef, encoding: str) -> DocumentRef:
    if encoding in ("utf-8", "utf-8-sig"):
        return ref
    return replace(ref, extra={**ref.extra, "encoding": encoding})


class TextLoader:
    """Plain text: paragraphs split on blank lines; a paragraph whose every line is a bullet is a LIST.

    See the module docstring for the encoding policy.
    """

    mime_types: tuple[str, ...] = ("text/plain",)
    extensions: tuple[str, ...] = ("txt", "text", "log")

    def load(self, data: bytes, ref: DocumentRef) -> LoadedDocument:
        text, encoding = decode_text(data, ref)
        blocks: list[Block] = []
        for para in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
            lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
            if not lines:
                continue
            bullets = [_BULLET.match(ln) for ln in lines]
            if all(bullets):
                blocks.append(_list_block([f"- {m.group('item')}" for m in bullets if m]))
            else:
                blocks.append(Block(BlockKind.PARAGRAPH, _clean(" ".join(lines))))
        return LoadedDocument(ref=_with_encoding(ref, encoding), blocks=tuple(blocks))


# --------------------------------------------------------------------------------------------------- DOCX

_DOCX_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


class DocxLoader:
    """Word documents via python-docx, in body order: heading styles → levels, list paragraphs, tables."""

    mime_types: tuple[str, ...] = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)
    extensions: tuple[str, ...] = ("docx",)

    def load(self, data: bytes, ref: DocumentRef) -> LoadedDocument:
        import zipfile

        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.table import Table

        try:
            document = docx.Document(io.BytesIO(data))
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise CorruptDocumentError(f"{describe(ref)}: corrupt DOCX ({type(exc).__name__})") from exc
        blocks: list[Block] = []
        items: list[str] = []

        def flush_items() -> None:
            if items:
                blocks.append(_list_block(items))
                items.clear()

        for part in document.iter_inner_content():
            if isinstance(part, Table):
                flush_items()
                if (table := _table_block(self._rows(part))) is not None:
                    blocks.append(table)
                continue
            text = _clean(part.text)
            if not text:
                continue
            style = (part.style.name if part.style is not None else "") or ""
            if m := _DOCX_HEADING.match(style):
                flush_items()
                blocks.append(Block(BlockKind.HEADING, text, level=int(m.group(1))))
            elif style == "Title":
                flush_items()
                blocks.append(Block(BlockKind.HEADING, text, level=1))
            elif style.startswith("List") or self._numbered(part):
                numbered = sum(1 for it in items if it[:1].isdigit())
                marker = f"{numbered + 1}." if "Number" in style else "-"
                items.append(f"{marker} {text}")
            else:
                flush_items()
                blocks.append(Block(BlockKind.PARAGRAPH, text))
        flush_items()
        return LoadedDocument(ref=ref, blocks=tuple(blocks))

    @staticmethod
    def _numbered(paragraph: Any) -> bool:
        ppr = paragraph._p.pPr
        return ppr is not None and ppr.numPr is not None

    @staticmethod
    def _rows(table: Any) -> list[list[str]]:
        rows: list[list[str]] = []
        for tr in table.rows:
            cells: list[str] = []
            seen: set[int] = set()
            for cell in tr.cells:  # merged cells repeat the same element; keep one
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                cells.append(_clean(cell.text))
            rows.append(cells)
        return rows

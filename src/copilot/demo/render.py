"""Render the demo corpus of the fictional Riverside Health Network from its Markdown sources.

Every demo document is written once, as Markdown with a small YAML front matter, under
``corpus/.src/<folder>/<name>.md``. The front matter names the output (``out: sops/x.pdf``) and the
document's metadata; this module renders each source to its output format (PDF with fpdf2, HTML with
markdown-it-py, Markdown, plain text) and writes the metadata sidecar ``corpus/copilot-meta.yaml`` from the
same front matter, so titles and permissions cannot drift from the documents.

Output is deterministic (fixed PDF creation date and producer), so a re-render of unchanged sources gives
byte-identical files and ingestion sees unchanged checksums.

Usage::

    .venv/bin/python -m copilot.demo.render            # rewrite corpus outputs + sidecar
    .venv/bin/python -m copilot.demo.render --check    # exit 1 if committed outputs are stale
    .venv/bin/python -m copilot.demo.render --out /tmp/corpus
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
SOURCE_DIRNAME = ".src"
SIDECAR_NAME = "copilot-meta.yaml"
NETWORK_NAME = "Riverside Health Network"
# Fixed so re-rendering never changes a PDF's bytes (and so never changes its ingest checksum).
PDF_CREATION_DATE = datetime(2026, 1, 15, 9, 0, 0, tzinfo=UTC)

# Folder-level metadata of the sidecar; per-file overrides come from each source's front matter.
SIDECAR_DEFAULTS: dict[str, Any] = {"doc_type": "policy", "site": "network", "acl_groups": ["all_staff"]}
SIDECAR_FOLDERS: dict[str, dict[str, Any]] = {
    "sops": {"doc_type": "sop", "acl_groups": ["all_staff"]},
    "policies": {"doc_type": "policy", "acl_groups": ["all_staff"]},
    "contracts": {
        "doc_type": "contract",
        "department": "procurement",
        "acl_groups": ["procurement", "finance"],
    },
    "maintenance": {
        "doc_type": "maintenance_log",
        "department": "biomedical_engineering",
        "acl_groups": ["biomed", "all_staff"],
    },
    "incidents": {
        "doc_type": "incident_report",
        "department": "quality",
        "acl_groups": ["quality", "executive"],
    },
}
SIDECAR_FILE_KEYS = ("title", "doc_type", "site", "department", "acl_groups")

# Core PDF fonts are latin-1 only; these are the few non-latin-1 characters the sources may use.
_LATIN1 = str.maketrans(
    {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "≥": ">=", "≤": "<=", "→": "->", "…": "..."}
)
_INLINE = re.compile(r"\*\*(.+?)\*\*|`([^`]+)`")


@dataclass(frozen=True)
class MdBlock:
    """One block of the Markdown subset the sources use."""

    kind: str  # heading | para | bullets | numbered | table
    text: str = ""
    level: int = 0
    items: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Source:
    path: Path
    meta: dict[str, Any]
    body: str
    blocks: tuple[MdBlock, ...] = field(default=())

    @property
    def out(self) -> str:
        return str(self.meta["out"])

    @property
    def fmt(self) -> str:
        return self.out.rsplit(".", 1)[-1]


def plain(text: str) -> str:
    """Strip the inline Markdown the sources use (bold, code) for formats without markup."""
    return _INLINE.sub(lambda m: m.group(1) or m.group(2), text)


def parse_blocks(body: str) -> tuple[MdBlock, ...]:
    """Parse the Markdown subset: ATX headings, paragraphs, '-' and '1.' lists, pipe tables."""
    blocks: list[MdBlock] = []
    lines = body.strip("\n").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line.strip():
            i += 1
            continue
        if m := re.match(r"^(#{1,4})\s+(.*)$", line):
            blocks.append(MdBlock("heading", m.group(2).strip(), level=len(m.group(1))))
            i += 1
            continue
        if line.lstrip().startswith("|"):
            rows: list[tuple[str, ...]] = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                cells = tuple(c.strip() for c in lines[i].strip().strip("|").split("|"))
                if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            blocks.append(MdBlock("table", rows=tuple(rows)))
            continue
        list_kind = "bullets" if re.match(r"^- ", line) else "numbered" if re.match(r"^\d+\. ", line) else ""
        if list_kind:
            items: list[str] = []
            pattern = r"^- " if list_kind == "bullets" else r"^\d+\. "
            while i < len(lines) and lines[i].strip():
                cur = lines[i].rstrip()
                if re.match(pattern, cur):
                    items.append(re.sub(pattern, "", cur).strip())
                elif items:  # continuation line of the previous item
                    items[-1] += " " + cur.strip()
                else:
                    break
                i += 1
            blocks.append(MdBlock(list_kind, items=tuple(items)))
            continue
        para: list[str] = []
        while i < len(lines) and lines[i].strip() and not re.match(r"^(#{1,4}\s|- |\d+\. |\s*\|)", lines[i]):
            para.append(lines[i].strip())
            i += 1
        blocks.append(MdBlock("para", " ".join(para)))
    return tuple(blocks)


def control_rows(meta: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    """The document-control box every controlled document opens with (from front matter)."""
    fields = [
        ("Document number", "doc_no"),
        ("Version", "version"),
        ("Effective date", "effective"),
        ("Owner", "owner"),
        ("Approved by", "approved_by"),
        ("Next review", "review"),
    ]
    rows = [(label, str(meta[key])) for label, key in fields if meta.get(key)]
    return (("Field", "Value"), *rows) if rows else ()


def load_source(path: Path) -> Source:
    text = path.read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    if not m:
        raise ValueError(f"{path}: missing YAML front matter")
    meta = yaml.safe_load(m.group(1))
    if not isinstance(meta, dict) or "out" not in meta or "title" not in meta:
        raise ValueError(f"{path}: front matter needs 'out' and 'title'")
    body = m.group(2)
    blocks = list(parse_blocks(body))
    rows = control_rows(meta)
    if rows:  # insert the control box right after the title heading
        at = 1 if blocks and blocks[0].kind == "heading" else 0
        blocks.insert(at, MdBlock("table", rows=rows))
    return Source(path=path, meta=meta, body=body, blocks=tuple(blocks))


def load_sources(corpus_dir: Path = CORPUS_DIR) -> list[Source]:
    sources = [load_source(p) for p in sorted((corpus_dir / SOURCE_DIRNAME).rglob("*.md"))]
    outs = [s.out for s in sources]
    dupes = {o for o in outs if outs.count(o) > 1}
    if dupes:
        raise ValueError(f"two sources render to the same output: {sorted(dupes)}")
    return sources


# --- renderers -----------------------------------------------------------------------------------------


def render_markdown(src: Source) -> bytes:
    """Markdown output: the source body with the control box as a table under the title."""
    out: list[str] = []
    for block in src.blocks:
        if block.kind == "heading":
            out.append("#" * block.level + " " + block.text)
        elif block.kind == "para":
            out.append(block.text)
        elif block.kind == "bullets":
            out.append("\n".join(f"- {it}" for it in block.items))
        elif block.kind == "numbered":
            out.append("\n".join(f"{n}. {it}" for n, it in enumerate(block.items, 1)))
        elif block.kind == "table":
            head, *rest = block.rows
            lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
            lines += ["| " + " | ".join(r) + " |" for r in rest]
            out.append("\n".join(lines))
    return ("\n\n".join(out) + "\n").encode("utf-8")


def render_html(src: Source) -> bytes:
    """An intranet-style HTML page with real h1/h2/h3, lists and tables."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    content = md.render(render_markdown(src).decode("utf-8"))
    title = html.escape(src.meta["title"])
    doc_no = html.escape(str(src.meta.get("doc_no", "")))
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} | {NETWORK_NAME}</title>
<meta name="document-number" content="{doc_no}">
</head>
<body>
<header><p>{NETWORK_NAME} &middot; Intranet document library</p></header>
<main>
{content}</main>
<footer><p>{doc_no} &middot; Printed copies are uncontrolled.
Check the intranet for the current version.</p></footer>
</body>
</html>
"""
    return page.encode("utf-8")


def render_text(src: Source) -> bytes:
    """Plain text the way a shared-drive .txt looks: underlined headings, aligned tables."""
    out: list[str] = []
    for block in src.blocks:
        if block.kind == "heading":
            text = plain(block.text)
            rule = "=" if block.level == 1 else "-"
            out.append(f"{text.upper() if block.level == 1 else text}\n{rule * len(text)}")
        elif block.kind == "para":
            out.append(plain(block.text))
        elif block.kind == "bullets":
            out.append("\n".join(f"  * {plain(it)}" for it in block.items))
        elif block.kind == "numbered":
            out.append("\n".join(f"  {n}. {plain(it)}" for n, it in enumerate(block.items, 1)))
        elif block.kind == "table":
            rows = [[plain(c) for c in r] for r in block.rows]
            widths = [max(len(r[c]) for r in rows if c < len(r)) for c in range(len(rows[0]))]
            lines = [
                "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)).rstrip() for r in rows
            ]
            lines.insert(1, "  ".join("-" * w for w in widths))
            out.append("\n".join(lines))
    return ("\n\n".join(out) + "\n").encode("utf-8")


def render_pdf(src: Source) -> bytes:
    """A paginated PDF with outline headings, a running header and 'Page n of m' footers."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    doc_no = str(src.meta.get("doc_no", ""))
    version = str(src.meta.get("version", ""))

    def latin(text: str) -> str:
        return plain(text).translate(_LATIN1)

    class _Doc(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", "", 8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 5, latin(f"{NETWORK_NAME}  |  {doc_no}"), align="L")
            self.ln(9)
            self.set_text_color(0, 0, 0)

        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("Helvetica", "", 8)
            self.set_text_color(110, 110, 110)
            ver = f"v{version}" if version[:1].isdigit() else version
            label = f"{doc_no} {ver}  |  Uncontrolled when printed  |  " if doc_no else ""
            self.cell(0, 6, latin(f"{label}Page {self.page_no()} of {{nb}}"), align="C")
            self.set_text_color(0, 0, 0)

    pdf = _Doc(format="Letter", unit="mm")
    pdf.set_margins(22, 18, 22)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_creation_date(PDF_CREATION_DATE)
    pdf.set_producer("Riverside Health Network document control (copilot.demo.render)")
    pdf.set_creator("copilot.demo.render")
    pdf.set_title(latin(src.meta["title"]))
    pdf.set_author(NETWORK_NAME)
    pdf.set_subject(latin(doc_no))
    pdf.add_page()
    body_size, line_h = 11, 6.2
    sizes = {1: 17, 2: 13.5, 3: 11.5, 4: 11}
    last_level = 0
    for block in src.blocks:
        if block.kind == "heading":
            level = min(block.level, last_level + 1)
            last_level = level
            if pdf.get_y() > pdf.h - 45:  # keep a heading with the text below it
                pdf.add_page()
            pdf.ln(3 if level > 1 else 0)
            pdf.start_section(latin(block.text), level=level - 1)
            pdf.set_font("Helvetica", "B", sizes.get(level, 11))
            pdf.multi_cell(0, sizes.get(level, 11) * 0.55, latin(block.text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif block.kind == "para":
            pdf.set_font("Helvetica", "", body_size)
            pdf.multi_cell(0, line_h, latin(block.text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
        elif block.kind in ("bullets", "numbered"):
            pdf.set_font("Helvetica", "", body_size)
            for n, item in enumerate(block.items, 1):
                marker = "-" if block.kind == "bullets" else f"{n}."
                pdf.set_x(pdf.l_margin + 3)
                pdf.cell(7, line_h, marker)
                pdf.multi_cell(0, line_h, latin(item), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(0.8)
            pdf.ln(2)
        elif block.kind == "table":
            pdf.set_font("Helvetica", "", 9)
            with pdf.table(
                text_align="LEFT",
                line_height=5,
                first_row_as_headings=True,
                headings_style=FontFace(emphasis="BOLD", fill_color=(225, 232, 240)),
                padding=1.2,
            ) as table:
                for row in block.rows:
                    cells = table.row()
                    for cell in row:
                        cells.cell(latin(cell))
            pdf.ln(4)
    return bytes(pdf.output())


RENDERERS: dict[str, Callable[[Source], bytes]] = {
    "pdf": render_pdf,
    "html": render_html,
    "md": render_markdown,
    "txt": render_text,
}


# --- sidecar ---------------------------------------------------------------------------------------------


def _flow(mapping: dict[str, Any]) -> str:
    """YAML flow mapping with JSON-quoted strings (JSON strings are valid YAML), stable key order."""
    parts = []
    for key, value in mapping.items():
        if isinstance(value, list):
            parts.append(f"{key}: [{', '.join(value)}]")
        elif isinstance(value, str) and re.fullmatch(r"[a-z_]+", value):
            parts.append(f"{key}: {value}")
        else:
            parts.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "{" + ", ".join(parts) + "}"


def render_sidecar(sources: Iterable[Source]) -> bytes:
    """``copilot-meta.yaml``: defaults, folder metadata (deepest folder wins), per-file overrides."""
    lines = [
        f"# Metadata for the {NETWORK_NAME} demo corpus. Generated by copilot.demo.render from the",
        "# front matter of corpus/.src/**.md: edit the sources, not this file.",
        f"defaults: {_flow(SIDECAR_DEFAULTS)}",
        "folders:  # relative folder path -> metadata applied to files below it (deepest folder wins)",
    ]
    lines += [f"  {folder}: {_flow(meta)}" for folder, meta in SIDECAR_FOLDERS.items()]
    lines.append("files:  # relative file path -> overrides (title, doc_type, site, department, acl_groups)")
    for src in sorted(sources, key=lambda s: s.out):
        meta = {k: src.meta[k] for k in SIDECAR_FILE_KEYS if k in src.meta}
        lines.append(f"  {src.out}: {_flow(meta)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_all(corpus_dir: Path = CORPUS_DIR) -> dict[str, bytes]:
    """Render every source; returns {relative output path: bytes}, sidecar included."""
    sources = load_sources(corpus_dir)
    rendered = {src.out: RENDERERS[src.fmt](src) for src in sources}
    rendered[SIDECAR_NAME] = render_sidecar(sources)
    return rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="write here instead of the corpus folder")
    parser.add_argument("--check", action="store_true", help="only report outputs that differ; exit 1 if any")
    args = parser.parse_args(argv)
    rendered = render_all(CORPUS_DIR)
    target = args.out or CORPUS_DIR
    stale = [
        rel
        for rel, data in rendered.items()
        if not (target / rel).is_file() or (target / rel).read_bytes() != data
    ]
    if args.check:
        for rel in stale:
            print(f"stale: {rel}")
        return 1 if stale else 0
    for rel, data in rendered.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(json.dumps({"written": len(rendered), "changed": len(stale), "dir": str(target)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

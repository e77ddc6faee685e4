"""How well the PDF loader recovers tables: the demo PDFs against the Markdown tables they were rendered from.

Every demo PDF is rendered (``copilot.demo.render``) from a Markdown source whose pipe tables are the ground
truth. For each PDF this compares the TABLE blocks :class:`~copilot.ingest.loaders.PdfLoader` emits with the
source's tables (the document-control box included):

- ``tables_found``: source tables whose header row and every body row came back as rows of one extracted
  table (a table split over two pages, its header repeated, counts as one table); each source table is
  compared with the extracted table (or run of continued tables) of the same header that matches it best;
- ``rows_exact``: body rows whose every cell matches (case-insensitive, whitespace collapsed);
- ``cells_exact``: the same per cell, position by position;
- ``text_leaks``: cells longer than 12 characters that still appear in a paragraph or list block outside the
  table and not in the source's own prose (the flattened copy the loader must drop).

The same PDFs loaded with ``tables=False`` (pypdf's text alone, the loader before tables) give the baseline:
no table, every cell flattened into paragraphs.

Usage::

    copilot eval tables --json
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from copilot.types import BlockKind, DocumentRef

_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    """Case- and space-insensitive, with the renderer's own latin-1 substitutions (the PDF holds those)."""
    from copilot.demo.render import _LATIN1

    return _WS.sub(" ", text.translate(_LATIN1)).strip().lower()


def _rows(block_text: str) -> list[list[str]]:
    return [[_norm(c) for c in line.strip().strip("|").split(" | ")] for line in block_text.splitlines()]


def _candidates(tables: list[list[list[str]]]) -> list[list[list[str]]]:
    """Every extracted table, and every run of consecutive tables sharing a header (a table continued on the
    next page repeats its header; two different "Field | Value" boxes also share one, hence both)."""
    out = [t for t in tables if t]
    for i in range(len(tables)):
        run = [list(r) for r in tables[i]]
        for t in tables[i + 1 :]:
            if not t or not run or t[0] != run[0]:
                break
            run = run + t[1:]
            out.append(run)
    return out


def _exact_rows(body: list[list[str]], got_body: list[list[str]]) -> int:
    return sum(1 for i, row in enumerate(body) if i < len(got_body) and got_body[i] == row)


def score_pdf(expected: list[list[list[str]]], blocks: list[Any], source_prose: str = "") -> dict[str, int]:
    got = _candidates([_rows(b.text) for b in blocks if b.kind is BlockKind.TABLE])
    prose = _norm(" ".join(b.text for b in blocks if b.kind in (BlockKind.PARAGRAPH, BlockKind.LIST)))
    res = {"tables": len(expected), "tables_found": 0, "rows": 0, "rows_exact": 0, "cells": 0, "cells_exact": 0,
           "text_leaks": 0}
    for table in expected:
        header, body = table[0], table[1:]
        same_header = [g for g in got if g[0] == header]
        match = max(same_header, key=lambda g: (_exact_rows(body, g[1:]), -abs(len(g) - len(table))), default=None)
        res["rows"] += len(body)
        res["cells"] += sum(len(r) for r in body)
        res["text_leaks"] += sum(1 for r in body for c in r if len(c) > 12 and c in prose and c not in source_prose)
        if match is None:
            continue
        got_body = match[1:]
        exact_rows = 0
        for i, row in enumerate(body):
            cand = got_body[i] if i < len(got_body) else []
            same = sum(1 for j, c in enumerate(row) if j < len(cand) and cand[j] == c)
            res["cells_exact"] += same
            exact_rows += same == len(row) and len(cand) == len(row)
        res["rows_exact"] += exact_rows
        res["tables_found"] += exact_rows == len(body) and len(got_body) == len(body)
    return res


def run() -> dict[str, Any]:
    from copilot.demo.render import CORPUS_DIR, load_sources, plain
    from copilot.ingest.loaders import PdfLoader

    report: dict[str, Any] = {"eval": "pdf_tables", "corpus": "demo PDFs vs their Markdown sources"}
    for mode, loader in (("pdfplumber", PdfLoader(tables=True)), ("pypdf_text_only", PdfLoader(tables=False))):
        totals: dict[str, int] = {}
        per_doc: dict[str, dict[str, int]] = {}
        for src in load_sources():
            if src.fmt != "pdf":
                continue
            expected = [[[_norm(plain(c)) for c in row] for row in b.rows] for b in src.blocks if b.kind == "table"]
            if not expected:
                continue
            path = CORPUS_DIR / src.out
            data = path.read_bytes()
            ref = DocumentRef(src.out, src.out, str(path), str(path), "application/pdf", "", len(data),
                              datetime.now(UTC))
            prose = _norm(" ".join(
                plain(" ".join([b.text, *b.items])) for b in src.blocks if b.kind in ("para", "bullets", "numbered")
            ))
            res = score_pdf(expected, list(loader.load(data, ref).blocks), prose)
            per_doc[src.out] = res
            for k, v in res.items():
                totals[k] = totals.get(k, 0) + v
        report[mode] = {
            "pdfs": len(per_doc),
            **totals,
            "table_recall": round(totals["tables_found"] / max(1, totals["tables"]), 4),
            "row_accuracy": round(totals["rows_exact"] / max(1, totals["rows"]), 4),
            "cell_accuracy": round(totals["cells_exact"] / max(1, totals["cells"]), 4),
            "per_doc": per_doc,
        }
    return report

"""Split precision and recall of the multi-part splitter (:func:`copilot.retrieval.answerer.question_parts`).

The gold set is ``evals/gold/multipart_questions.jsonl``: staff questions labelled with how many things they ask
(``"parts"``), half of them single questions whose "and" / "&" / "vs" / "+" / commas sit inside a noun phrase or a
document title. A salted hash of the id puts each question in ``dev`` (develop the splitter there) or ``test``
(reported once, never fitted on). A question counts as split when the splitter returns two or more parts:

* precision — of the questions split, the share that really ask several things;
* recall — of the multi-part questions, the share split;
* exact parts — the share of all questions given the labelled number of parts (1 for a question not split).

Each is scored twice: the question alone, and with the demo documents' text as the phrases the documents attest
(the answerer passes the retrieved passages; a coordination the documents themselves contain is a noun phrase).

Usage::

    copilot eval parts --json                 # dev, with the misses listed
    copilot eval parts --split test --json    # test: numbers only
"""

from __future__ import annotations

import json
from hashlib import sha256
from pathlib import Path
from typing import Any

from copilot.evals.runner import DEMO_CORPUS, GOLD_DIR
from copilot.retrieval.answerer import question_parts

GOLD = GOLD_DIR / "multipart_questions.jsonl"
SPLIT_SALT = "copilot-multipart-split-v1"


def multipart_split(qid: str) -> str:
    """``test`` for about half the questions, ``dev`` for the rest, by a salted hash of the id (fixed before the
    splitter was run on any of them)."""
    return "test" if sha256(f"{SPLIT_SALT}:{qid}".encode()).digest()[0] % 2 == 0 else "dev"


def load(path: Path = GOLD) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def demo_documents_text(root: Path = DEMO_CORPUS) -> str:
    """Titles, headings and text of the demo documents (their Markdown sources): what an index of them holds."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((root / ".src").rglob("*.md")))


def score(rows: list[dict[str, Any]], documents: str = "") -> dict[str, Any]:
    got = [len(question_parts(r["question"], documents)) or 1 for r in rows]
    multi = [r["parts"] > 1 for r in rows]
    split = [n > 1 for n in got]
    tp = sum(m and s for m, s in zip(multi, split, strict=True))
    return {
        "questions": len(rows),
        "multi_part": sum(multi),
        "split": sum(split),
        "precision": round(tp / sum(split), 3) if any(split) else None,
        "recall": round(tp / sum(multi), 3) if any(multi) else None,
        "exact_parts": round(sum(n == r["parts"] for n, r in zip(got, rows, strict=True)) / len(rows), 3),
        "wrong": [
            {"id": r["id"], "question": r["question"], "parts": r["parts"], "got": n}
            for n, r in zip(got, rows, strict=True)
            if n != r["parts"]
        ],
    }


def run(split: str | None = None, path: Path = GOLD) -> dict[str, Any]:
    """``split``: ``dev`` (the default; misses listed) or ``test`` (numbers only)."""
    split = split or "dev"
    if split not in ("dev", "test"):
        raise ValueError("copilot eval parts: --split dev|test")
    rows = [r for r in load(path) if multipart_split(r["id"]) == split]
    docs = demo_documents_text()
    report: dict[str, Any] = {"eval": "parts", "file": path.name, "split": split}
    for name, text in (("question_alone", ""), ("with_demo_documents", docs)):
        s = score(rows, text)
        if split == "test":
            s.pop("wrong")
        report[name] = s
    return report


def split_share(questions: list[str]) -> dict[str, Any]:
    """How many questions the splitter splits and the query embeddings the answerer makes for them with no
    documents attesting phrases (one for the question, one per part): the load benchmark's cost model."""
    parts = [len(question_parts(q)) for q in questions]
    return {
        "questions": len(questions),
        "split": sum(n > 1 for n in parts),
        "split_share": round(sum(n > 1 for n in parts) / len(questions), 3) if questions else None,
        "query_embeddings_per_question": round(1 + sum(parts) / len(questions), 3) if questions else None,
    }


"""A pool of distinct staff questions for the load benchmark, so it measures the service and not its caches.

Three sources, deduplicated (case and spacing folded):

1. the demo gold sets (``evals/gold/demo_qa.jsonl``, ``demo_staff.jsonl``, ``demo_staff2.jsonl``): questions
   written for the documents;
2. knowledge questions from the agent utterance sets (``evals/gold/agent_utterances_*.jsonl``, intent
   ``knowledge_search``): the users' own voice, typos and shorthand included;
3. questions generated from the demo documents' headings (``corpus/.src``): for each document title and section
   heading, a few phrasings a nurse or a technician would type ("what does the Cold-Chain Storage SOP say about
   Temperature excursions?", "cold-chain storage - temperature excursions: what's the rule", ...).

Shuffled with a fixed seed; :func:`question_pool` returns them in that order (the load client hands each out once).

Usage::

    pool = question_pool()          # >= 1,000 distinct questions
    len(pool), pool[:3]
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "evals" / "gold"
SOURCES = ROOT / "src" / "copilot" / "demo" / "corpus" / ".src"

TEMPLATES = (
    "What does the {title} say about {heading}?",
    "{title_lc} - {heading_lc}: what's the rule",
    "where do i find {heading_lc} in the {title_lc}",
    "quick q about {heading_lc} ({title_lc})",
    "can you summarise the {heading_lc} part of {title}",
    "{heading_lc}?? per the {title_lc}",
    # added when a 60 s run at ~96 req/s outlasted the 3,191 questions above (2026-12-06): more ways staff type
    # the same look-up, so a run of 20 users for 60 s repeats none
    "hi, what's our policy on {heading_lc}",
    "{title_lc}: {heading_lc}",
    "need to check {heading_lc} in the {title_lc} pls",
    "does the {title_lc} cover {heading_lc}",
    "what are the steps for {heading_lc}",
    "who is responsible for {heading_lc}",
    "{heading_lc} - what do we need to do",
    "remind me about {heading_lc} in {title_lc}",
    "is there guidance on {heading_lc}?",
    "{heading_lc} requirements",
    "what does it say under {heading_lc} ({title})",
)


def _fold(q: str) -> str:
    return re.sub(r"\s+", " ", q.strip().lower())


def _gold() -> list[str]:
    out = []
    for name in ("demo_qa.jsonl", "demo_staff.jsonl", "demo_staff2.jsonl"):
        path = GOLD / name
        if path.exists():
            out += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    for path in sorted(GOLD.glob("agent_utterances_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("intent") == "knowledge_search":
                out.append(row["text"])
    return out


def _from_headings() -> list[str]:
    out = []
    for path in sorted(SOURCES.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        title = re.search(r"^title:\s*(.+)$", text, re.M)
        if not title:
            continue
        t = title[1].strip().strip('"')
        t = re.sub(r"\s*-\s*[A-Z][\w&' ]+$", "", t) if path.parent.name == "contracts" else t
        for h in re.findall(r"^#{2,3}\s+(?:\d+(?:\.\d+)*\.?\s+)?(.+?)\s*$", text, re.M):
            if len(h) < 4:
                continue
            for tpl in TEMPLATES:
                out.append(tpl.format(title=t, title_lc=t.lower(), heading=h, heading_lc=h.lower()))
    return out


def question_pool(seed: int = 7) -> list[str]:
    seen: dict[str, str] = {}
    for q in (*_gold(), *_from_headings()):
        seen.setdefault(_fold(q), q.strip())
    pool = list(seen.values())
    random.Random(seed).shuffle(pool)
    return pool


if __name__ == "__main__":
    p = question_pool()
    print(json.dumps({"questions": len(p), "sample": p[:5]}, indent=2))

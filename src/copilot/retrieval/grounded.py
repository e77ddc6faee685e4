"""Grounded generation: a language model writes the answer from numbered passages, a verifier keeps only what the
passages say, and the extractive answer stands whenever the model cannot be trusted.

Why: a model paraphrases better than sentence extraction, but a paraphrase can drift — a wrong interval, a unit
swapped, a name that no passage holds. Each generated sentence must cite ``[n]``; the :class:`Verifier` checks
it against the passages it cites: every number (with its unit), date, name or asset tag and rare key term must
appear there, and the sentence must be close in meaning to one of the passage's own sentences (embedding cosine
above a threshold measured by ``copilot eval grounding`` on training questions only, stored in
``grounding.json``). Unsupported sentences are dropped. If nothing survives, the model says NOT FOUND while the
extractive answerer found an answer, or the model times out or errors, the extractive answer is returned. When
the extractive answerer abstains (its calibrated confidence says the passages do not answer), nothing is generated.

The model is reached through :class:`TextGenerator` (a prompt in, text out): LangChain stays in its adapter
(:mod:`copilot.agent.models`), and tests pass a scripted generator.

Usage::

    verifier = Verifier(embedder)                       # the measured threshold
    answerer = GroundedAnswerer(generator, ExtractiveAnswerer(embedder), verifier)
    answer = answerer.answer("How often are infusion pumps serviced?", hits)
    answer.text            # "Volumetric pumps are serviced every 12 months [1]."
    answer.signals["grounded_dropped"]
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from copilot.prompts import Prompt, load_prompt
from copilot.protocols import Answerer, Embedder
from copilot.retrieval.answerer import _STOP, _TOKEN, _specificity, _stem, content_terms, split_sentences
from copilot.types import Answer, Citation, Hit

log = logging.getLogger(__name__)

GROUNDING_PATH = Path(__file__).with_name("grounding.json")

_CITE = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|(?<=\])\s+(?=[A-Z])|\n+")
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)(?:\s*(%|°\s?[CF]\b|[a-zA-Zµμ]+))?")
_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b|\b[A-Z]{2,}\d+\b")
_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_MONTHS = ("january february march april may june july august september october november december").split()
# Words that follow a number but are not units whose mismatch matters ("12 volumetric pumps": the count is
# checked, the noun by the key-term rule).
_UNITS = frozenset(
    "% percent s sec second seconds min mins minute minutes h hr hrs hour hours day days week weeks month months "
    "year years yr yrs mg g kg mcg ug µg ml l ml/h ml/hr mmhg kpa c f °c °f ohm ohms mohm microamp microamps "
    "ua µa ma a v kv w kw j mm cm m km item items unit units working business eur usd gbp".split()
)
NOT_FOUND_MARK = "NOT FOUND"
# A sentence that only points at its source ("This is stated in the passage [3] under ...") carries no fact of
# its own; it would pass every check and leave the answer empty of content. English forms, not fitted on data.
_META = re.compile(
    r"^(?:this|it|that|these|those|the (?:above|answer|information))\s+(?:is|are|was|were|can be)\s+"
    r"(?:stated|specified|defined|described|mentioned|shown|listed|given|noted|found|documented|outlined)\b"
    r"|^(?:according to|as (?:stated|specified|described|shown) in) (?:the |this )?"
    r"(?:passage|document|section|table|sop|procedure|source|text)s?\b[^,]*$",
    re.I,
)


class TextGenerator(Protocol):
    """A language model as the core sees it: a prompt in, its text out (no framework types)."""

    name: str

    def generate(self, prompt: str, *, json_schema: Mapping[str, Any] | None = None) -> str:
        """Raise on timeout or an unreachable endpoint; the caller falls back."""
        ...


@dataclass(frozen=True)
class SentenceCheck:
    sentence: str
    cites: tuple[int, ...]
    supported: bool
    reasons: tuple[str, ...]
    similarity: float


@lru_cache(maxsize=1)
def measured_threshold(path: Path = GROUNDING_PATH) -> float:
    """The similarity threshold ``copilot eval grounding`` measured (training questions only)."""
    return float(json.loads(path.read_text(encoding="utf-8"))["threshold"])


def _num(tok: str) -> str:
    return tok.replace(",", "")


def _unit(u: str | None) -> str | None:
    if not u:
        return None
    u = u.lower().replace(" ", "")
    return u if u in _UNITS else None


def _unit_stem(u: str) -> str:
    return u[:-1] if len(u) > 3 and u.endswith("s") else u


def split_claims(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """A generated answer as (sentence without its markers, cited passage numbers)."""
    out = []
    for raw in _SENTENCE.split(text.strip()):
        raw = raw.strip()
        if not raw:
            continue
        cites = tuple(int(n) for m in _CITE.finditer(raw) for n in m.group(1).split(","))
        sentence = _CITE.sub("", raw).strip()
        if sentence in {".", ""}:
            continue
        out.append((sentence, cites))
    return out


class Verifier:
    """Checks generated sentences against the passages they cite; see the module docstring.

    ``threshold``: minimum cosine between a sentence and the closest sentence of its cited passages; default:
    the measured one. ``key_term_specificity``: a word at least this rare in English (0 = everyday, 1 = rare;
    :func:`copilot.retrieval.answerer._specificity`) must appear in a cited passage (or the question).
    """

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        threshold: float | None = None,
        key_term_specificity: float = 0.5,
    ) -> None:
        self.embedder = embedder
        self.threshold = measured_threshold() if threshold is None else threshold
        self.key_term_specificity = key_term_specificity

    # -- lexical facts ---------------------------------------------------------------------------------------

    def lexical_problems(self, sentence: str, evidence: str, question: str = "") -> list[str]:
        """What the sentence states that the evidence does not hold: numbers (with their unit), codes, names,
        months and rare key terms. Empty: lexically supported."""
        problems: list[str] = []
        ev_lower = evidence.lower()
        ev_numbers: dict[str, set[str | None]] = {}
        for m in _NUMBER.finditer(evidence):
            ev_numbers.setdefault(_num(m.group(1)), set()).add(_unit(m.group(2)))
        for m in _NUMBER.finditer(sentence):
            n, unit = _num(m.group(1)), _unit(m.group(2))
            if n not in ev_numbers:
                problems.append(f"number {m.group(1)}")
            elif unit and not any(u and _unit_stem(u) == _unit_stem(unit) for u in ev_numbers[n]) and not re.search(
                rf"(?<![\w.]){re.escape(m.group(1))}\s*(?:\S+\s+){{0,2}}{re.escape(unit[:4])}", ev_lower
            ):
                problems.append(f"unit {m.group(1)} {unit}")
        for code in _CODE.findall(sentence):
            if code.lower() not in ev_lower:
                problems.append(f"code {code}")
        q_terms = content_terms(question)
        ev_terms = content_terms(evidence)
        for name in _PROPER.findall(sentence):
            words = [w for w in name.split() if w.lower() not in _MONTHS]
            if words and not all(content_terms(w) <= ev_terms | q_terms for w in words):
                problems.append(f"name {name}")
        for month in _MONTHS:
            if re.search(rf"\b{month}\b", sentence, re.I) and month not in ev_lower:
                problems.append(f"month {month}")
        for word in dict.fromkeys(_TOKEN.findall(sentence.lower())):
            if word in _STOP or _stem(word) in ev_terms or _stem(word) in q_terms:
                continue
            # rarity of the word as written ("specified" is common; its stem "specifi" is no English word)
            if word.isalpha() and len(word) > 3 and _specificity(word) >= self.key_term_specificity:
                problems.append(f"term {word}")
        return problems

    # -- meaning ---------------------------------------------------------------------------------------------

    def similarity(self, sentence: str, evidence_sentences: Sequence[str]) -> float:
        """Cosine between the sentence and the closest evidence sentence (1.0 without an embedder: then only
        the lexical rules apply — the hashing test double has no meaning to measure)."""
        if self.embedder is None or not evidence_sentences:
            return 1.0 if self.embedder is None else 0.0
        vecs = self.embedder.embed_documents([sentence, *evidence_sentences])
        return float(np.max(vecs[1:] @ vecs[0]))

    def check(
        self,
        sentence: str,
        cites: Sequence[int],
        passages: Mapping[int, str],
        question: str = "",
        headers: Mapping[int, str] | None = None,
    ) -> SentenceCheck:
        """``headers``: each passage's title and section as the model saw them — names there count as evidence
        for the lexical rules, never for the similarity (a heading is close to any sentence on its topic)."""
        valid = tuple(n for n in dict.fromkeys(cites) if n in passages)
        if not valid:
            return SentenceCheck(sentence, tuple(cites), False, ("no valid citation",), 0.0)
        if _META.search(sentence.strip()):
            return SentenceCheck(sentence, valid, False, ("only points at its source",), 0.0)
        evidence = "\n".join(f"{(headers or {}).get(n, '')}\n{passages[n]}" for n in valid)
        reasons = self.lexical_problems(sentence, evidence, question)
        units = [s for n in valid for s in split_sentences(passages[n])] or [evidence]
        sim = self.similarity(sentence, units)
        if sim < self.threshold:
            reasons.append(f"similarity {sim:.2f} < {self.threshold:.2f}")
        return SentenceCheck(sentence, valid, not reasons, tuple(reasons), sim)

    def verify(
        self, text: str, passages: Mapping[int, str], question: str = "", headers: Mapping[int, str] | None = None
    ) -> list[SentenceCheck]:
        return [self.check(s, c, passages, question, headers) for s, c in split_claims(text)]


class GroundedAnswerer:
    """An :class:`~copilot.protocols.Answerer` that generates, verifies, and falls back; see the module docstring."""

    def __init__(
        self,
        generator: TextGenerator,
        fallback: Answerer,
        verifier: Verifier,
        *,
        prompt: Prompt | None = None,
        top_passages: int = 5,
        max_passage_chars: int = 1200,
    ) -> None:
        self.generator = generator
        self.fallback = fallback
        self.verifier = verifier
        self.prompt = prompt or load_prompt("answer")
        self.top_passages = top_passages
        self.max_passage_chars = max_passage_chars
        self.name = f"grounded:{generator.name}"

    @property
    def threshold(self) -> float | None:
        """The fallback's abstention threshold (what evals report as the answer threshold)."""
        return getattr(self.fallback, "threshold", None)

    def passages_block(self, hits: Sequence[Hit]) -> str:
        return "\n\n".join(
            f"[{i}] ({h.chunk.title} — {h.chunk.section})\n{h.chunk.text[: self.max_passage_chars]}"
            for i, h in enumerate(hits[: self.top_passages], start=1)
        )

    def answer(self, question: str, hits: Sequence[Hit], *, query_vector: np.ndarray | None = None) -> Answer:
        extractive = self.fallback.answer(question, hits, query_vector=query_vector)
        if extractive.abstained or not hits:
            return extractive
        try:
            text = self.generator.generate(self.prompt.render(question=question, passages=self.passages_block(hits)))
        except Exception as exc:  # timeout, endpoint down, a bad response: the extractive answer stands
            log.warning("grounded answer fell back to extractive: %s", type(exc).__name__)
            return self._fallback(extractive, "error", 0)
        if not text.strip() or text.strip().upper().startswith(NOT_FOUND_MARK):
            return self._fallback(extractive, "not_found" if text.strip() else "empty", 0)
        top = list(enumerate(hits[: self.top_passages], start=1))
        passages = {i: h.chunk.text[: self.max_passage_chars] for i, h in top}
        headers = {i: f"{h.chunk.title} — {h.chunk.section}" for i, h in top}
        checks = self.verifier.verify(text, passages, question, headers)
        kept = [c for c in checks if c.supported]
        dropped = len(checks) - len(kept)
        if not kept:
            return self._fallback(extractive, "unsupported", dropped)
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        parts = []
        for c in kept:
            for p in c.cites:
                if p not in numbers:
                    numbers[p] = len(numbers) + 1
                    chunk = hits[p - 1].chunk
                    citations.append(Citation(n=numbers[p], doc_id=chunk.doc_id, title=chunk.title,
                                              section=chunk.section, page=chunk.page_start, source=chunk.source_url,
                                              quote=chunk.text[:300]))
            body = c.sentence if c.sentence.endswith((".", "!", "?")) else c.sentence + "."
            marks = "".join(f"[{numbers[p]}]" for p in c.cites)
            parts.append(f"{body[:-1]} {marks}{body[-1]}")
        return replace(
            extractive,
            text=" ".join(parts),
            citations=tuple(citations),
            answerer=self.name,
            signals={**extractive.signals, "grounded_sentences": float(len(checks)),
                     "grounded_dropped": float(dropped), "grounded_fallback": 0.0},
        )

    def _fallback(self, extractive: Answer, why: str, dropped: int) -> Answer:
        reasons = {"error": 1.0, "empty": 2.0, "not_found": 3.0, "unsupported": 4.0}
        return replace(extractive, signals={**extractive.signals, "grounded_dropped": float(dropped),
                                            "grounded_fallback": reasons[why]})


class VerifiedSummariser:
    """A :class:`copilot.kpi.summary.Summariser` written by a language model and guarded twice: the
    :class:`Verifier`'s lexical rules drop each sentence naming a number, unit, name or rare term the KPI table
    does not hold, then :func:`copilot.kpi.summary.summarise` checks every number, month, place and direction
    against the table, regenerates once and falls back to the template. A model that errors raises; ``summarise``
    records it and the template stands.

    Usage::

        out = summarise(table, VerifiedSummariser(generator, Verifier(None)))
        out["by"]        # "llm:qwen2.5" or "template"
    """

    def __init__(self, generator: TextGenerator, verifier: Verifier, *, prompt: Prompt | None = None) -> None:
        self.generator = generator
        self.verifier = verifier
        self.prompt = prompt or load_prompt("summary")
        self.name = f"llm:{generator.name}"
        self.dropped = 0

    @staticmethod
    def table_text(table: Any) -> str:
        from copilot.kpi.exceptions import format_value
        from copilot.kpi.summary import month_name, previous_period

        ok = [r for r in table.rows if r.status == "ok" and r.value is not None]
        lines = [f"scope: {table.scope}; month: {month_name(table.period)}; previous month: "
                 f"{month_name(previous_period(table.period))}",
                 f"KPIs past their threshold: {sum(r.level == 'breach' for r in ok)}; near it: "
                 f"{sum(r.level == 'warn' for r in ok)}; measured: {len(ok)}"]
        for r in table.rows:
            if r.status != "ok" or r.value is None:
                lines.append(f"- {r.name}: not measured ({r.reason})")
                continue
            prev = format_value(r.unit, r.previous) if r.previous is not None else "n/a"
            lines.append(f"- {r.name}: {format_value(r.unit, r.value)} (previous {prev}; moved {r.direction or 'n/a'}; "
                         f"{r.level}; lower is {'better' if r.good == 'lower' else 'worse'})")
        for e in table.exceptions[:5]:
            lines.append(f"- exception: {e.why}; owner {e.owner}; suggested: {e.action}")
        return "\n".join(lines)

    def summarise(self, table: Any) -> str:
        from copilot.kpi.summary import month_name

        evidence = self.table_text(table)
        text = self.generator.generate(self.prompt.render(table=evidence, scope=table.scope,
                                                          month=month_name(table.period)))
        sentences = [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]
        kept = [s for s in sentences if not self.verifier.lexical_problems(s, evidence, table.scope)]
        self.dropped = len(sentences) - len(kept)
        return " ".join(kept)

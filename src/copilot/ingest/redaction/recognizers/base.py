"""A small, fast regex recognizer base shared by the healthcare recognizers.

Presidio's ``PatternRecognizer`` builds an explanation object and reads the clock per pattern, and its
default regex timeout is 60 s. Ours compiles once, scores context itself (a few characters before the match,
no lemmas needed, so spaCy's lemmatizer can stay switched off) and bounds every regex by ``REGEX_TIMEOUT_S``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import regex
from presidio_analyzer import LocalRecognizer, RecognizerResult

logger = logging.getLogger(__name__)

REGEX_TIMEOUT_S = 1.0
"""Upper bound for one regex over one analysis window (windows are <= ~20k chars). The ``regex`` module counts
the CPU time since ``finditer`` was called, the loop body's included, so the recognizers collect the matches
first (:func:`all_matches`) and then judge them: a slow judgement (a word list loading, thousands of matches)
must not end the scan and lose the matches after it."""


def all_matches(rx: Any, text: str) -> list[Any]:
    """Every match of compiled ``regex`` pattern ``rx`` in ``text``, collected before any is judged, within
    ``REGEX_TIMEOUT_S`` (``TimeoutError`` past it)."""
    return list(rx.finditer(text, timeout=REGEX_TIMEOUT_S))


@dataclass(frozen=True)
class Rule:
    """One pattern. ``score`` applies without context, ``context_score`` when a context word precedes it.

    A rule with ``score`` below the analyzer threshold only fires with context. ``group`` selects the
    capture group that is the identifier itself (the label stays readable).
    """

    name: str
    pattern: str
    score: float
    context_score: float = 1.0
    group: int | str = 0
    ignore_case: bool = False


def luhn_ok(digits: str) -> bool:
    """The Luhn mod-10 check used by NPI (with the 80840 prefix) and card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


class RegexRecognizer(LocalRecognizer):
    """Base class: subclasses set ``ENTITY``, ``RULES``, ``CONTEXT`` and may override :meth:`validate`."""

    ENTITY: ClassVar[str] = ""
    RULES: ClassVar[Sequence[Rule]] = ()
    CONTEXT: ClassVar[Sequence[str]] = ()
    CONTEXT_CHARS: ClassVar[int] = 48
    # Characters after a match searched for context too ("085 175 7641-Office"); 0 = before only.
    CONTEXT_AFTER: ClassVar[int] = 0

    def __init__(self, rules: Sequence[Rule] | None = None, context: Sequence[str] | None = None) -> None:
        self._rules = tuple(rules if rules is not None else self.RULES)
        self._context_words = tuple(context if context is not None else self.CONTEXT)
        # Presidio's context enhancer gets no words: we score context ourselves.
        super().__init__(supported_entities=[self.ENTITY], name=type(self).__name__, context=[])

    def load(self) -> None:
        self._compiled = [
            (rule, regex.compile(rule.pattern, regex.IGNORECASE if rule.ignore_case else 0)) for rule in self._rules
        ]
        words = sorted({w.lower() for w in self._context_words}, key=len, reverse=True)
        self._ctx = (
            regex.compile(
                r"(?<![A-Za-z])(?:" + "|".join(regex.escape(w) for w in words) + r")(?![a-z])",
                regex.IGNORECASE,
            )
            if words
            else None
        )

    def has_context(self, text: str, start: int, end: int | None = None) -> bool:
        """True when a context word appears shortly before ``start`` (with ``CONTEXT_AFTER``: or after it)."""
        if self._ctx is None:
            return False
        if self._ctx.search(text, max(0, start - self.CONTEXT_CHARS), start, timeout=REGEX_TIMEOUT_S) is not None:
            return True
        if self.CONTEXT_AFTER and end is not None:
            return self._ctx.search(text, end, end + self.CONTEXT_AFTER, timeout=REGEX_TIMEOUT_S) is not None
        return False

    def validate(self, value: str) -> bool:
        """Check digits and the like; False drops the match."""
        return True

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        out: list[RecognizerResult] = []
        for rule, rx in self._compiled:
            try:
                for m in all_matches(rx, text):
                    start, end = m.span(rule.group)
                    if start < 0 or end <= start or not self.validate(text[start:end]):
                        continue
                    score = rule.context_score if self.has_context(text, m.start(), end) else rule.score
                    if score <= 0:
                        continue
                    out.append(
                        RecognizerResult(
                            self.ENTITY,
                            start,
                            end,
                            score,
                            recognition_metadata={"recognizer_name": type(self).__name__},
                        )
                    )
            except TimeoutError:
                # A pathological input: keep what matched so far, never hang the batch.
                logger.warning("regex %s timed out on a %d-char window", rule.name, len(text))
        return out

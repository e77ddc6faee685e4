"""The mechanics under the redactor: bounded windows, overlap resolution, placeholder rewriting, parallelism.

Kept free of Presidio types so they are testable without a model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from copilot.types import RedactionSpan

# When two detections overlap with equal scores, the more specific type names the merged span.
TYPE_PRIORITY: dict[str, int] = {
    "US_SSN": 100,
    "US_DRIVER_LICENSE": 96,
    "EMPLOYEE_ID": 87,
    "MRN": 95,
    "US_NPI": 92,
    "US_DEA": 92,
    "HEALTH_PLAN_ID": 90,
    "PATIENT_ID": 88,
    "EMAIL_ADDRESS": 86,
    "CREDIT_CARD": 85,
    "IBAN_CODE": 85,
    "US_PASSPORT": 80,
    "US_ITIN": 80,
    "FAX_NUMBER": 75,
    "PHONE_NUMBER": 70,
    "IP_ADDRESS": 70,
    "AGE": 65,
    "URL": 60,
    "STREET_ADDRESS": 55,
    "DATE_TIME": 50,
    "PERSON": 45,
    "LOCATION": 40,
}

_WS_BACK = re.compile(r"\s")


@dataclass(frozen=True)
class Window:
    index: int  # which input text
    offset: int  # where the window starts in that text
    text: str
    whole: bool = False  # the window is the entire text


def windows(texts: Iterable[str], size: int, overlap: int) -> Iterator[Window]:
    """Split each text into windows of at most ``size`` chars, cut at whitespace, overlapping by ``overlap``.

    A detection cut by one window boundary is whole in the next window, because windows overlap by more than
    any identifier is long. Lazily yields, so a 10 MB text never exists twice as lists of spans per token.
    """
    for i, text in enumerate(texts):
        n = len(text)
        if n <= size:
            yield Window(i, 0, text, whole=True)
            continue
        start = 0
        while start < n:
            end = min(n, start + size)
            if end < n:
                cut = text.rfind(" ", start + size // 2, end)
                nl = text.rfind("\n", start + size // 2, end)
                cut = max(cut, nl)
                if cut > start:
                    end = cut
            yield Window(i, start, text[start:end])
            if end >= n:
                break
            nxt = max(end - overlap, start + 1)
            sp = text.find(" ", nxt, end)
            start = sp + 1 if sp != -1 else nxt


def resolve(spans: Sequence[RedactionSpan]) -> list[RedactionSpan]:
    """Non-overlapping spans covering every character any detector claimed (for redaction a claimed character
    must go), each part named by the detection that best explains it.

    Within a group of overlapping detections: a span inside another is absorbed by it (a phone-shaped number
    inside an address is part of the address) unless it scores clearly higher; the rest is painted character
    by character in order of (score, type priority, length), so a name line and the address block beside it
    stay two typed spans instead of one span typed by whichever scored highest.
    """
    if not spans:
        return []
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    out: list[RedactionSpan] = []
    group = [ordered[0]]
    end = ordered[0].end
    for s in ordered[1:]:
        if s.start < end:
            group.append(s)
            end = max(end, s.end)
            continue
        out.extend(_resolve_group(group, end))
        group, end = [s], s.end
    out.extend(_resolve_group(group, end))
    return out


def _rank(s: RedactionSpan) -> tuple[float, int, int]:
    return (s.score, TYPE_PRIORITY.get(s.entity_type, 0), s.end - s.start)


_ABSORB_MARGIN = 0.1


def _resolve_group(group: list[RedactionSpan], end: int) -> list[RedactionSpan]:
    if len(group) == 1:
        return group
    # Best first; a span inside an already kept one is absorbed unless it outscores it by the margin.
    kept: list[RedactionSpan] = []
    for s in sorted(group, key=lambda s: (s.end - s.start, _rank(s)), reverse=True):
        inside = [k for k in kept if k.start <= s.start and s.end <= k.end]
        if inside and all(s.score < k.score + _ABSORB_MARGIN for k in inside):
            continue
        kept.append(s)
    if len(kept) == 1:
        return kept
    start = group[0].start
    owner: list[int] = [-1] * (end - start)
    for i in sorted(range(len(kept)), key=lambda i: _rank(kept[i]), reverse=True):
        k = kept[i]
        for pos in range(k.start - start, k.end - start):
            if owner[pos] == -1:
                owner[pos] = i
    runs: list[list[int]] = []  # [owner, start, end]
    for pos, who in enumerate(owner):
        if runs and runs[-1][0] == who and runs[-1][2] == pos:
            runs[-1][2] = pos + 1
        elif who != -1:
            runs.append([who, pos, pos + 1])
    # A sliver of one or two characters left between two detections belongs to its left neighbour.
    merged: list[list[int]] = []
    for r in runs:
        if merged and (r[2] - r[1] <= 2 or merged[-1][2] - merged[-1][1] <= 2) and merged[-1][2] == r[1]:
            if merged[-1][2] - merged[-1][1] <= 2 and r[2] - r[1] > 2:
                merged[-1][0] = r[0]
            merged[-1][2] = r[2]
            continue
        merged.append(r)
    return [
        RedactionSpan(start + a, start + b, kept[who].entity_type, kept[who].score) for who, a, b in merged
    ]


def apply(text: str, spans: Sequence[RedactionSpan], label: Callable[[RedactionSpan, str], str]) -> str:
    """Rewrite ``text`` replacing each (non-overlapping, sorted) span by ``label(span, value)``."""
    parts: list[str] = []
    pos = 0
    for s in spans:
        parts.append(text[pos : s.start])
        parts.append(label(s, text[s.start : s.end]))
        pos = s.end
    parts.append(text[pos:])
    return "".join(parts)


def plain_label(span: RedactionSpan, value: str) -> str:
    return f"<{span.entity_type}>"


_DURATION_WORDS = frozenset(
    [
        "every",
        "each",
        "per",
        "within",
        "after",
        "before",
        "for",
        "over",
        "under",
        "up",
        "to",
        "at",
        "least",
        "about",
        "approximately",
        "the",
        "a",
        "an",
        "last",
        "next",
        "past",
        "previous",
        "first",
        "second",
        "third",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "twelve",
        "fifteen",
        "twenty",
        "thirty",
        "sixty",
        "ninety",
        "hundred",
        "several",
        "few",
        "-",
        "–",
        "/",
        "old",
        "later",
        "earlier",
        "ago",
        "prior",
        "from",
        "of",
        "than",
        "more",
        "less",
        "longer",
        "later",
        "working",
        "no",
    ]
)
_DURATION_UNITS = frozenset(
    [
        "second",
        "seconds",
        "sec",
        "secs",
        "minute",
        "minutes",
        "min",
        "mins",
        "hour",
        "hours",
        "hr",
        "hrs",
        "h",
        "day",
        "days",
        "week",
        "weeks",
        "wk",
        "wks",
        "month",
        "months",
        "mo",
        "mos",
        "year",
        "years",
        "yr",
        "yrs",
        "quarter",
        "quarters",
        "shift",
        "shifts",
        "daily",
        "weekly",
        "monthly",
        "annually",
        "yearly",
        "quarterly",
        "biannually",
        "semi-annually",
        "hourly",
        "nightly",
        "today",
        "tomorrow",
        "yesterday",
        "now",
        "annual",
        "business",
        "calendar",
        "night",
    ]
)
_NUMBERISH = re.compile(r"^\d+(?:st|nd|rd|th)?$|^\d+[-–]\d+$")


def is_duration(value: str) -> bool:
    """'every 6 months', '30 days', 'annually': not a date of a person. Word lookups, no backtracking."""
    words = value.strip(" .,;:()").lower().replace("-", " ").split()
    if not words or not any(w in _DURATION_UNITS for w in words):
        return False
    return all(w in _DURATION_UNITS or w in _DURATION_WORDS or _NUMBERISH.match(w) for w in words)

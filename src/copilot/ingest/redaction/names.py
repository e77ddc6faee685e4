"""Person names spaCy's small model misses: upper-case notes, "Pt J. SMITH", "SMITH, JOHN", signatures.

The gazetteer is the US Census name frequency lists (1990 census, 88,799 surnames, 5,494 first names) shipped
by the PyPI package ``names``; we read its data files and never call it. Without the package the recognizer
falls back to a casing strategy (capitalised words after a person cue), which is weaker but safe.
"""

from __future__ import annotations

import importlib.util
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import regex
from presidio_analyzer import LocalRecognizer, RecognizerResult

from copilot.ingest.redaction.recognizers.base import REGEX_TIMEOUT_S

logger = logging.getLogger(__name__)

# Words that are census names but, in this domain, almost always mean something else.
_NOT_NAMES = frozenset(
    [
        "A",
        "AN",
        "AND",
        "THE",
        "OF",
        "TO",
        "IN",
        "ON",
        "AT",
        "BY",
        "FOR",
        "WITH",
        "FROM",
        "AS",
        "IS",
        "ARE",
        "WAS",
        "BE",
        "NOT",
        "NO",
        "OR",
        "IF",
        "SO",
        "IT",
        "ALL",
        "ANY",
        "CARE",
        "HOPE",
        "PAGE",
        "BELL",
        "CROSS",
        "GRAY",
        "GREEN",
        "WHITE",
        "BLACK",
        "BROWN",
        "LONG",
        "SHORT",
        "SMALL",
        "WILL",
        "MAY",
        "JUNE",
        "APRIL",
        "AUGUST",
        "MARCH",
        "SUMMER",
        "WINTER",
        "DAY",
        "NIGHT",
        "MORNING",
        "CHART",
        "NURSE",
        "DOCTOR",
        "PATIENT",
        "STAFF",
        "CLINIC",
        "WARD",
        "UNIT",
        "ROOM",
        "BED",
        "FLOOR",
        "NORTH",
        "SOUTH",
        "EAST",
        "WEST",
        "CAMPUS",
        "CENTER",
        "CENTRE",
        "MAIN",
        "SAFETY",
        "RISK",
        "LEVEL",
        "HIGH",
        "LOW",
        "NEW",
        "OLD",
        "FIELD",
        "STREET",
        "PARK",
        "POST",
        "PUMP",
        "BATTERY",
        "DOSE",
        "DRUG",
        "LOT",
        "SERIAL",
        "ASSET",
        "ORDER",
        "STOCK",
        "SUPPLY",
        "STORE",
        "PRICE",
        "COST",
        "RATE",
        "CHECK",
        "TEST",
        "SIGN",
        "SIGNED",
        "TIME",
        "DATE",
        "NOTE",
        "NOTES",
        "PLAN",
        "REVIEW",
        "LEAD",
        "MASTER",
        "HALL",
        "HILL",
        "WOOD",
        "STONE",
        "BANKS",
        "RIVERS",
        "LAKE",
        "MEDICAL",
        "HEALTH",
        "SERVICE",
        "SERVICES",
        "SUPPORT",
        "POLICY",
        "GUIDE",
        "TRUE",
        "FALSE",
        "FIRST",
        "LAST",
        "NEXT",
        "SECOND",
        "BEST",
        "FAIR",
        "BATCH",
        "PASS",
        "FAIL",
        "OPEN",
        "CLOSE",
        "CLOSED",
        "READY",
        "WELL",
        "STABLE",
        "FALL",
        "FALLS",
        "BLOOD",
        "HEART",
        "LUNG",
        "BONE",
        "SKIN",
        "HAND",
        "ARM",
        "LEG",
        "HEAD",
        "NECK",
        "BACK",
        "SIDE",
        "LEFT",
        "RIGHT",
        "UPPER",
        "LOWER",
        "MEAN",
        "GOOD",
        "POOR",
        "RICH",
        "FREE",
        "FULL",
        "EMPTY",
        "WARM",
        "COLD",
        "PAIN",
        "ALERT",
        "ORIENTED",
        "CLEAR",
        "SOFT",
        "HARD",
        "SHARP",
        "PRESS",
        "KEY",
        "LOCK",
        "GATE",
        "DOOR",
        "BAY",
        "DOCK",
        "SHIP",
        "SHIPPING",
        "RECEIVING",
    ]
)

_PERSON_CUES = (
    r"pt|patient|mr|mrs|ms|miss|mx|dr|nurse|rn|lpn|np|pa-c|md|do|tech|technician|engineer|"
    r"signed(?:\sby)?|signature|sign-off|e-signed|performed\sby|reported\sby|completed\sby|verified\sby|"
    r"approved\sby|requested\sby|reviewed\sby|witnessed\sby|attending|resident|caller|contact|attn|"
    r"family|wife|husband|son|daughter|mother|father|spouse|guardian|name|name\sis|maiden\sname\sis|"
    r"calls?\sme|called"
)
_TOKEN = r"(?:[A-Z]\.|[A-Z][A-Za-z'’-]{1,30})"


COMMON_ZIPF = 3.0
"""Zipf frequency (wordfreq) from which a word is an ordinary English word: "Document" 4.5, "Supplier" 3.8,
"Lakeside" 3.1, but "Tomasz" 2.4, "Nowak" 2.5, "Lindqvist" 1.7."""


@lru_cache(maxsize=1)
def _zipf() -> Any:
    if importlib.util.find_spec("wordfreq") is None:
        logger.warning("package 'wordfreq' not installed: common-word filter for names/places off")
        return None
    from wordfreq import zipf_frequency

    return zipf_frequency


@lru_cache(maxsize=65_536)
def is_common_word(word: str) -> bool:
    """An ordinary English word (case-insensitive) per wordfreq; False when wordfreq is missing."""
    z = _zipf()
    w = word.strip(".,;:'’()").lower()
    if z is None or not w:
        return False
    return bool(z(w, "en") >= COMMON_ZIPF)


def is_uncommon_capitalised(tok: str) -> bool:
    """A Title-case word that is no ordinary English word: a name the census list does not know."""
    t = tok.strip(".,;:'’()")
    return len(t) >= 3 and t[0].isupper() and t.replace("-", "").replace("'", "").isalpha() and not is_common_word(t)


@lru_cache(maxsize=1)
def load_census_names() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), upper case; empty sets when the ``names`` package is not installed."""
    spec = importlib.util.find_spec("names")
    if spec is None or spec.origin is None:
        logger.warning("package 'names' not installed: person-name gazetteer off, casing strategy only")
        return frozenset(), frozenset()
    root = Path(spec.origin).parent

    def read(fname: str, limit: int | None = None) -> set[str]:
        out: set[str] = set()
        path = root / fname
        if not path.exists():
            return out
        with path.open(encoding="ascii", errors="ignore") as fh:
            for i, line in enumerate(fh):
                if limit is not None and i >= limit:
                    break
                word = line.split(" ", 1)[0].strip()
                if len(word) >= 2:
                    out.add(word)
        return out

    first = read("dist.male.first") | read("dist.female.first")
    # The long tail of the surname list is mostly rare spellings that collide with ordinary words.
    last = read("dist.all.last", limit=40_000)
    return frozenset(first - _NOT_NAMES), frozenset(last - _NOT_NAMES)


@lru_cache(maxsize=1)
def top_surnames(limit: int = 5_000) -> frozenset[str]:
    """The most frequent census surnames ("JOHNSON"): names even though wordfreq knows them as words."""
    spec = importlib.util.find_spec("names")
    if spec is None or spec.origin is None:
        return frozenset()
    path = Path(spec.origin).parent / "dist.all.last"
    if not path.exists():
        return frozenset()
    out: set[str] = set()
    with path.open(encoding="ascii", errors="ignore") as fh:
        for i, line in enumerate(fh):
            if i >= limit:
                break
            out.add(line.split(" ", 1)[0].strip())
    return frozenset(out - _NOT_NAMES)


class NameRecognizer(LocalRecognizer):
    """Gazetteer + casing rules for names; complements spaCy's NER rather than replacing it."""

    ENTITY = "PERSON"

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name="NameRecognizer", context=[])

    def load(self) -> None:
        self._first, self._last = load_census_names()
        self._cue = regex.compile(
            rf"(?<![A-Za-z])(?i:{_PERSON_CUES})\.?:?\s{{1,3}}(?P<name>{_TOKEN}(?:\s{{1,2}}{_TOKEN}){{0,2}})"
        )
        self._initial = regex.compile(r"(?<![A-Za-z.])(?P<name>(?:[A-Z]\.\s?){1,2}[A-Z][A-Za-z'’-]{1,30})")
        self._pair = regex.compile(r"(?<![A-Za-z])(?P<a>[A-Z][A-Za-z'’-]{1,30})\s(?P<b>[A-Z][A-Za-z'’-]{1,30})")
        # Speaker labels in transcripts and messages: "Halldór: What a wife."
        self._speaker = regex.compile(r"(?:^|(?<=[.!?\"]\s{1,2})|(?<=\n))(?P<name>\p{Lu}\p{Ll}{2,20}):(?=\s|\")")
        self._single = regex.compile(r"(?<![\w'’-])[A-Z][a-z]{2,20}(?![\w'’-])")
        self._last_first = regex.compile(r"(?<![A-Za-z])(?P<a>[A-Z][A-Z'’-]{1,30}),\s?(?P<b>[A-Z][A-Z'’-]{1,30})")

    def _is_first(self, tok: str) -> bool:
        return tok.upper().strip(".") in self._first

    def _is_last(self, tok: str) -> bool:
        return tok.upper() in self._last

    def _nameish(self, tok: str) -> bool:
        up = tok.upper().strip(".")
        return (len(up) == 1 or up in self._first or up in self._last) and up not in _NOT_NAMES

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        out: list[RecognizerResult] = []

        def add(start: int, end: int, score: float) -> None:
            out.append(
                RecognizerResult(
                    self.ENTITY, start, end, score, recognition_metadata={"recognizer_name": "NameRecognizer"}
                )
            )

        try:
            for m in self._cue.finditer(text, timeout=REGEX_TIMEOUT_S):
                toks = m.group("name").split()
                # Keep the leading run of name-like tokens ("Pt SMITH stable" -> SMITH).
                keep = 0
                for tok in toks:
                    t = tok.strip(".").upper()
                    gaz = (
                        self._nameish(tok) or (is_uncommon_capitalised(tok) and not tok.isupper())
                        if self._first
                        else (t not in _NOT_NAMES)
                    )
                    if not gaz:
                        break
                    keep += 1
                if keep == 0 or all(len(t.strip(".")) == 1 for t in toks[:keep]):
                    continue
                start = m.start("name")
                # Recompute end on the original text to survive double spaces.
                seg = text[start : m.end("name")]
                pos = 0
                for n, tm in enumerate(regex.finditer(r"\S+", seg), 1):
                    pos = tm.end()
                    if n == keep:
                        break
                end = start + pos
                add(start, end, 0.85)
            if self._first:
                for m in self._initial.finditer(text, timeout=REGEX_TIMEOUT_S):
                    surname = m.group("name").rsplit(".", 1)[-1].strip()
                    if self._is_last(surname) and surname.upper() not in _NOT_NAMES:
                        add(m.start("name"), m.end("name"), 0.8)
                for m in self._pair.finditer(text, timeout=REGEX_TIMEOUT_S, overlapped=True):
                    a, b = m.group("a"), m.group("b")
                    if a.upper() in _NOT_NAMES or b.upper() in _NOT_NAMES:
                        continue
                    if self._is_first(a) and self._is_last(b):
                        add(m.start(), m.end(), 0.75 if not a.isupper() else 0.8)
                    elif (
                        not a.isupper()
                        and not b.isupper()
                        and (
                            (self._is_first(a) and is_uncommon_capitalised(b))
                            or (is_uncommon_capitalised(a) and self._is_last(b) and not is_common_word(b))
                        )
                    ):
                        # "Tomasz Nowak", "Tobias Lindqvist": one half known, the other no English word.
                        add(m.start(), m.end(), 0.7)
                for m in self._speaker.finditer(text, timeout=REGEX_TIMEOUT_S):
                    w = m.group("name")
                    if not is_common_word(w) and w.upper() not in _NOT_NAMES:
                        add(m.start("name"), m.end("name"), 0.6)
                for m in self._single.finditer(text, timeout=REGEX_TIMEOUT_S):
                    # A lone census first name that is no English word ("Magnus", "Dexter").
                    w = m.group()
                    if self._is_first(w) and not is_common_word(w) and w.upper() not in _NOT_NAMES:
                        add(m.start(), m.end(), 0.6)
                for m in self._last_first.finditer(text, timeout=REGEX_TIMEOUT_S):
                    if self._is_last(m.group("a")) and self._is_first(m.group("b")):
                        add(m.start(), m.end(), 0.85)
        except TimeoutError:
            logger.warning("name regex timed out on a %d-char window", len(text))
        return out

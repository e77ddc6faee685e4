"""Person names spaCy's small model misses: upper-case notes ("Pt J. SMITH", "SMITH, JOHN"), international names
("Szabina J Gelencsér", "Guðgeir Bergsveinsson"), lower-case text ("follow up with eva kleist"), lone first names
and surnames in lists, dialogue and after cues ("founders: Kónya, Becker and Vasquez", "last name? Boyle").

Gazetteers, read from the data files of maintained PyPI packages (never called, never copied):

- US Census 1990 name frequency lists (``names``): 88,799 surnames and 5,494 first names, each with its share of
  the population. The share tells a name from a word: "Megan" is as frequent in English text as its bearers
  explain, "Grace" or "Will" far more (see ``first_name_strength``).
- Jörg Michael's first-name dictionary (``gender-guesser``): ~45,000 first names from 50+ countries.

Surnames outside the census list are found by casing: after a known first name (and an optional middle initial)
a capitalised token that is no ordinary English word (wordfreq) is the surname. Lone names need more: mostly a
name by the share test, a person cue ("Dr", "signed by", "last name?"), a list with known names in it, or an
earlier full mention in the same text. Words that open or close a capitalised phrase ("Victoria Hospital"),
sit in an address ("04862 Victor Hugo u. 49") or after a place preposition stay with the other detectors.
Without the packages the recognizer falls back to capitalised words after a person cue, weaker but safe.
"""

from __future__ import annotations

import bisect
import importlib.util
import itertools
import logging
import math
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import regex
from presidio_analyzer import LocalRecognizer, RecognizerResult

from copilot.ingest.redaction.recognizers.base import all_matches

logger = logging.getLogger(__name__)

# Words of grammar: never a name, not even after "called" or "named" ("CALLED FROM FLORIDA", "called in to
# report", "named in the complaint"), where a census surname ("From", "In") would otherwise pass.
_FUNCTION_WORDS = frozenset(
    "A AN AND THE OF TO IN ON AT BY FOR WITH FROM AS IS ARE WAS BE NOT NO OR IF SO IT ALL ANY".split()
)
# Words that are census or international names but, in this domain, almost always mean something else.
_NOT_NAMES = _FUNCTION_WORDS | frozenset(
    """
    CARE HOPE PAGE BELL CROSS GRAY GREEN WHITE BLACK BROWN LONG SHORT SMALL WILL MAY JUNE APRIL AUGUST MARCH
    SUMMER WINTER DAY NIGHT MORNING CHART NURSE DOCTOR PATIENT STAFF CLINIC WARD UNIT ROOM BED FLOOR
    NORTH SOUTH EAST WEST CAMPUS CENTER CENTRE MAIN SAFETY RISK LEVEL HIGH LOW NEW OLD FIELD STREET PARK POST
    PUMP BATTERY DOSE DRUG LOT SERIAL ASSET ORDER STOCK SUPPLY STORE PRICE COST RATE CHECK TEST SIGN SIGNED
    TIME DATE NOTE NOTES PLAN REVIEW LEAD MASTER HALL HILL WOOD STONE BANKS RIVERS LAKE MEDICAL HEALTH
    SERVICE SERVICES SUPPORT POLICY GUIDE TRUE FALSE FIRST LAST NEXT SECOND BEST FAIR BATCH PASS FAIL OPEN
    CLOSE CLOSED READY WELL STABLE FALL FALLS BLOOD HEART LUNG BONE SKIN HAND ARM LEG HEAD NECK BACK SIDE
    LEFT RIGHT UPPER LOWER MEAN GOOD POOR RICH FREE FULL EMPTY WARM COLD PAIN ALERT ORIENTED CLEAR SOFT
    HARD SHARP PRESS KEY LOCK GATE DOOR BAY DOCK SHIP SHIPPING RECEIVING GRACE AMBER
    """.split()
)

_PERSON_CUES = (
    r"(?-i:M[Rr][Ss]?|M[Ss]|M[Xx]|D[Rr]|Prof|PROF)|pt|patient|miss|nurse|rn|lpn|np|pa-c|md|do|tech|technician|engineer|"
    r"signed(?:\sby)?|signature|sign-off|e-signed|performed\sby|reported\sby|completed\sby|verified\sby|"
    r"approved\sby|requested\sby|reviewed\sby|witnessed\sby|directed\sby|written\sby|prepared\sby|"
    r"assistant\sto|starring|attending|resident|caller|contact|attn|approver|requester|requestor|assignee|"
    r"family|wife|husband|son|daughter|mother|father|spouse|guardian|kid|child|brother|sister|uncle|aunt|"
    r"cousin|grand(?:ma|pa|mother|father|son|daughter)|boyfriend|girlfriend|partner|fianc[eé]e?|friend|"
    r"neighbou?r|roommate|co-?worker|colleague|boss|supervisor|manager|director|coordinator|pharmacist|"
    r"physician|surgeon|therapist|technologist|chaplain|interpreter|rep|representative|"
    r"said|says|asked|replied|answered|shouted|yelled|whispered|"
    r"name(?:\sis)?|maiden\sname(?:\sis)?|last\sname(?:\sis)?|surname|first\sname(?:\sis)?|"
    r"calls?\sme|called|named"
)
# Weaker cues (greetings, sign-offs, who was told or asked): the next word must be a known name, so "Thanks
# Team", "per Policy" or "emailed Stryker" stay; "Hi Rose", "per Johnson", "told Megan" go.
_SOFT_CUES = (
    r"hi|hello|hey|dear|thanks|thank\syou|regards|cheers|sincerely|cc|per|spoke\s(?:with|to)|"
    r"talked\s(?:with|to)|met\swith|paged|emailed|texted|messaged|asked|told|informed|notified|ask|tell|"
    r"shouted\sat|yelled\sat|speak\sto|talk\sto|i'?m|i\sam|this\sis"
)
# Cues after which a lower-case word is a name too ("my name is vitoria", "maiden name is nyberg").
_NAMING_CUE = regex.compile(r"(?i:name(?:\sis)?|surname|me|named|called)$")
_LOWER_NAMING_CUE = regex.compile(r"(?i:name(?:\sis)?|surname|me)$")
# Lower-case particles between first name and surname: "Daan van der Berg", "María de la Cruz".
_PARTICLES = frozenset("van von de der den da di du del della dos das le la los ter ten bin ibn al el".split())
# "Otis tech", "Stryker rep", "Zoll field service": a capitalised word before a vendor role names a company.
_VENDOR_ROLE_AFTER = regex.compile(r"[ \t]{1,2}(?i:tech|techs|technician|rep|reps|engineer|field\sservice|service)\b")
_PLACE_BEFORE = regex.compile(r"(?i:\b(?:in|from|at|near|of|via|outside|around))\s{1,2}$")
_DOT_GAP = regex.compile(r"\.[ ]?")
# A house number before, or a street number after, a capitalised name makes it a street ("04862 Victor Hugo
# u. 49", "Joaquin Suarez 2906", "corner of Kuusiku 7 and Alexander Flat"); a phone number or a date does not.
_HOUSE_NUMBER_BEFORE = regex.compile(r"(?:\d{1,6}[A-Za-z]?[ \t]{1,3}|\bcorner\sof\s[^\n]{1,40}\sand\s)$")
_NUMBER_AFTER = regex.compile(r"[ \t]{1,2}(?:\d{1,5}(?![\d\w]|[-/.:]\d)|u\.|utca|út)")
_SPACES = regex.compile(r"[ \t]{1,2}|\n")
_INITIAL_GAP = regex.compile(r"\.?[ \t]{1,2}")
_VALUE_AFTER_LABEL = regex.compile(r":?[ \t]{0,3}[\d(+#]")
_TITLE_CUE = regex.compile(r"(?:M[Rr][Ss]?|M[Ss]|D[Rr])")  # honorifics: a surname follows
_ROLE_CUE = regex.compile(r"(?i:pt|rn|lpn|np)")  # clinical shorthand roles that precede a name
# A word: letters with inner apostrophes and hyphens ("O'Brien", "Adebayo-Hill"); not part of an e-mail, URL,
# file name or code ("leonemazzi@rhyta.com", "BME-INF-0231").
_WORD = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}_@./\\-])[\p{L}\p{M}][\p{L}\p{M}'’-]{0,40}(?![\p{L}\p{M}\p{N}_@/\\]|\.\p{L})"
)
# "Kónya, Becker and Vasquez", "Romi, Erik, Amy": coordinated capitalised words.
_LIST_ITEM = r"\p{Lu}[\p{Ll}\p{M}'’-]{1,30}"
_NO_MORE = r"(?![\p{L}\p{M}\p{N}-]|[ ]\p{Lu})"  # the last item is one word, not "Hawkins, Richardson and Santana Corp"
_LIST = regex.compile(
    rf"(?<![\p{{L}}\p{{M}}\p{{N}}-])(?:{_LIST_ITEM})(?:"
    rf"(?:,[ ]{{1,2}}{_LIST_ITEM}){{0,8}},?[ ]{{1,2}}(?:and|&)[ ]{{1,2}}{_LIST_ITEM}"
    rf"|(?:,[ ]{{1,2}}{_LIST_ITEM}){{2,8}}"
    rf"){_NO_MORE}"
)
_LIST_SPLIT = regex.compile(r",?[ ]{1,2}(?:and|&)[ ]{1,2}|,[ ]{1,2}")

COMMON_ZIPF = 3.0
"""Zipf frequency (wordfreq) from which a word is an ordinary English word: "Document" 4.5, "Supplier" 3.8,
"Lakeside" 3.1, but "Tomasz" 2.4, "Nowak" 2.5, "Lindqvist" 1.7."""

NAME_WORDINESS = 5.3
"""Largest Zipf frequency minus log10(census share in percent) for a first name to be mostly a name: the name's
frequency in English text is what its bearers explain. "Megan" 4.6, "Scott" 5.0, "Rebecca" 4.3 are names;
"Grace" 5.3+, "Rose" 5.4, "Mark" 5.1 (kept by its 0.9 % share), "Hope" 6.9, "Will" 8.2 are words first."""

LOWER_NAME_WORDINESS = 5.0
"""Stricter bound for lower-case text, where no capital letter says "name": "patricia" 3.7, "eva" 4.7."""

_MIN_SHARE = 0.0005
"""The census lists round shares to 0.001 %: a listed name with 0.000 has about half that."""

INTL_NAME_ZIPF = 3.5
"""A first name outside the census lists is mostly a name below this Zipf frequency ("Lukas" 3.2, "Enrico" 3.0);
above it the dictionary entry is mostly a word in English ("Said", "Asset", "Lima")."""


# -- word statistics ----------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _zipf() -> Any:
    if importlib.util.find_spec("wordfreq") is None:
        logger.warning("package 'wordfreq' not installed: common-word filter for names/places off")
        return None
    from wordfreq import zipf_frequency

    return zipf_frequency


@lru_cache(maxsize=65_536)
def zipf_en(word: str) -> float:
    """English Zipf frequency of ``word`` (case-insensitive); 0.0 when wordfreq is missing."""
    z = _zipf()
    w = word.strip(".,;:'’()").lower()
    if z is None or not w:
        return 0.0
    return float(z(w, "en"))


def is_common_word(word: str) -> bool:
    """An ordinary English word (case-insensitive) per wordfreq; False when wordfreq is missing."""
    return zipf_en(word) >= COMMON_ZIPF


def is_uncommon_capitalised(tok: str) -> bool:
    """A Title-case word that is no ordinary English word: a name the census list does not know."""
    t = tok.strip(".,;:'’()")
    return len(t) >= 3 and t[0].isupper() and t.replace("-", "").replace("'", "").isalpha() and not is_common_word(t)


# -- gazetteers ---------------------------------------------------------------------------------------------
def _key(word: str) -> str:
    """Gazetteer key: upper case without apostrophes, as the census spells "O'Brien" ("OBRIEN")."""
    return word.upper().replace("'", "").replace("’", "")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def _read_census(fname: str, limit: int | None = None) -> dict[str, float]:
    """Name -> share of the population in percent, from one census list of the ``names`` package."""
    root = _package_dir("names")
    out: dict[str, float] = {}
    if root is None:
        return out
    if not (root / fname).exists():
        # A module named "names" earlier on sys.path (a script's own names.py) hides the package's lists.
        logger.warning("census list %s not found under %s: is a module named 'names' shadowing the package?"
                       " Person-name gazetteer off", fname, root)
        return out
    with (root / fname).open(encoding="ascii", errors="ignore") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                break
            parts = line.split()
            if len(parts) >= 2 and len(parts[0]) >= 2:
                try:
                    out[parts[0]] = float(parts[1])
                except ValueError:
                    continue
    return out


@lru_cache(maxsize=1)
def census_first_share() -> dict[str, float]:
    """Census first name (upper case) -> its largest share (percent) among men or women."""
    if _package_dir("names") is None:
        logger.warning("package 'names' not installed: person-name gazetteer off, casing strategy only")
        return {}
    share = _read_census("dist.male.first")
    for name, pct in _read_census("dist.female.first").items():
        share[name] = max(pct, share.get(name, 0.0))
    return share


@lru_cache(maxsize=1)
def census_last_share() -> dict[str, float]:
    """Census surname (upper case) -> share (percent), the 40,000 most frequent: the long tail of the list is
    mostly rare spellings that collide with ordinary words."""
    return _read_census("dist.all.last", limit=40_000)


@lru_cache(maxsize=1)
def load_census_names() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), upper case; empty sets when the ``names`` package is not installed."""
    return frozenset(census_first_share()) - _NOT_NAMES, frozenset(census_last_share()) - _NOT_NAMES


@lru_cache(maxsize=1)
def top_surnames(limit: int = 5_000) -> frozenset[str]:
    """The most frequent census surnames ("JOHNSON"): names even though wordfreq knows them as words."""
    return frozenset(_read_census("dist.all.last", limit=limit)) - _NOT_NAMES


def _nam_dict_names(path: Path) -> set[str]:
    """First names of gender-guesser's ``nam_dict.txt``, upper case.

    Format (documented in the file's header): ``#`` comments, ``=`` lines pair short and long forms, other
    lines are ``<gender code> <name>`` padded to column 30 followed by per-country frequencies. A ``+`` in
    column 30 marks a duplicate entry sorted by expanded umlauts (the header says to ignore those); a ``+``
    inside a name joins Arabic, Chinese and Korean parts ("Jun+Wei" = "Junwei" or "Jun-Wei"). The file is read
    as UTF-8, as the package's own detector reads it; an entry with bytes that do not decode, or with a
    bracketed character escape of the dictionary's original 8-bit edition ("<s^>"), is skipped, not guessed.
    """
    out: set[str] = set()
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line or line[0] in "#=" or (len(line) > 29 and line[29] == "+"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 2:
                continue
            name = parts[1]
            if "<" in name or "\ufffd" in name:
                continue
            if "+" in name:
                out.add(name.replace("+", "").upper())
                out.add(name.replace("+", "-").upper())
            else:
                out.add(name.upper())
    return out


@lru_cache(maxsize=1)
def load_first_names() -> frozenset[str]:
    """Census first names and gender-guesser's international ones, upper case (~46,000; ~0.1 s to load)."""
    names = set(census_first_share())
    root = _package_dir("gender_guesser")
    path = root / "data" / "nam_dict.txt" if root is not None else None
    if path is not None and path.exists():
        names |= _nam_dict_names(path)
    else:
        logger.warning("package 'gender-guesser' not installed: international first names off")
    return frozenset(n for n in names if len(n) >= 2) - _NOT_NAMES


@lru_cache(maxsize=65_536)
def first_name_strength(word: str, lower: bool = False) -> int:
    """0: no known first name; 1: a first name that is mostly an English word ("Grace", "Will", "Said");
    2: mostly a name ("Megan", "Scott", "Szabina"). ``lower`` applies the stricter bound for lower-case text."""
    up = _key(word)
    if up not in load_first_names():
        # "Éric", "Zoé": the dictionaries list many names only without their accents.
        base = unicodedata.normalize("NFKD", up).encode("ascii", "ignore").decode()
        if base == up or len(base) != len(up) or base not in load_first_names():
            return 0
    z = zipf_en(word)
    if z < COMMON_ZIPF:
        return 2
    share = census_first_share().get(up)
    if share is None:
        return 2 if z < INTL_NAME_ZIPF and not lower else 1
    bound = LOWER_NAME_WORDINESS if lower else NAME_WORDINESS
    return 2 if z - math.log10(max(share, _MIN_SHARE)) <= bound else 1


@lru_cache(maxsize=65_536)
def surname_strength(word: str) -> int:
    """0: no census surname (or a domain word); 1: a surname that is mostly an English word or a brand ("Young",
    "King", "Philips"); 2: mostly a surname ("Becker", "Rogers", "Eklund"), by the share test of
    ``first_name_strength``."""
    up = _key(word)
    share = census_last_share().get(up)
    if share is None or up in _NOT_NAMES:
        return 0
    # No shortcut for words rare in text: a brand ("Stryker") is rarer still as a surname.
    return 2 if zipf_en(word) - math.log10(max(share, _MIN_SHARE)) <= NAME_WORDINESS else 1


def _is_surname(word: str) -> bool:
    up = _key(word)
    return up in load_census_names()[1] and up not in _NOT_NAMES


def _upper_name(word: str) -> bool:
    """An upper-case word that is mostly a name: upper-case notes are full of words, clinical terms and
    acronyms ("PATIENT RECORD", "PT TEARFUL", "PER SOP" stay; "PT SMITH", "DR. NGUYEN", "PT AMY" go)."""
    up = word.upper()
    if surname_strength(word) == 2:
        return True
    return first_name_strength(word) == 2 and (len(up) >= 4 or up in census_first_share())


def _is_place(value: str) -> bool:
    from copilot.ingest.redaction.places import is_place  # places imports this module

    return is_place(value)


def sentence_start(text: str, pos: int) -> bool:
    """``pos`` opens the text, a line, a sentence, a quote or a label's value: a capital there says nothing."""
    j = pos - 1
    while j >= 0 and pos - j <= 4 and text[j] in " \t":
        j -= 1
    return j < 0 or text[j] in '.!?:;\n"(|>-*•'


class _Coverage:
    """Union of scored spans, for "is this word already inside a name, and how sure was that?"."""

    def __init__(self, spans: dict[tuple[int, int], float], min_score: float = 0.0) -> None:
        merged: list[list[float]] = []
        for (start, end), score in sorted(spans.items()):
            if score < min_score:
                continue
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
                merged[-1][2] = max(merged[-1][2], score)
            else:
                merged.append([start, end, score])
        self._starts = [int(m[0]) for m in merged]
        self._spans = merged

    def score(self, start: int, end: int) -> float | None:
        """The best score of the spans whose union contains [start, end); None when none does."""
        i = bisect.bisect_right(self._starts, start) - 1
        if i >= 0 and end <= self._spans[i][1]:
            return self._spans[i][2]
        return None


# -- tokens -------------------------------------------------------------------------------------------------
class _Tok(NamedTuple):
    """A word and its casing, computed once: every rule asks (a tuple: tens of thousands per batch)."""

    text: str
    start: int
    end: int
    title: bool  # "Megan", "McDonald", "O'Brien"; not "IDs"
    upper: bool  # "SMITH", two letters or more
    lower: bool
    initial: bool  # "J"


def _tok(text: str, start: int, end: int) -> _Tok:
    upper = text.isupper()
    if len(text) < 2:
        return _Tok(text, start, end, False, False, text.islower(), upper)
    title = text[0].isupper() and (text[1].islower() or (text[1] in "'’" and not upper))
    return _Tok(text, start, end, title, upper, not title and text.islower(), False)


def _tokens(text: str) -> list[_Tok]:
    """Words of ``text`` without trailing punctuation or possessive ("Amanda's" -> "Amanda")."""
    out: list[_Tok] = []
    for m in all_matches(_WORD, text):
        t = m.group()
        end = m.end()
        if t[-2:] in ("'s", "’s", "'S", "’S") and len(t) > 2:
            t, end = t[:-2], end - 2
        stripped = t.rstrip("'’-")
        end -= len(t) - len(stripped)
        if stripped:
            out.append(_tok(stripped, m.start(), end))
    return out


class NameRecognizer(LocalRecognizer):
    """Gazetteer + casing rules for names; complements spaCy's NER rather than replacing it."""

    ENTITY = "PERSON"

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name="NameRecognizer", context=[])

    def load(self) -> None:
        self._first, self._last = load_census_names()
        self._gazetteer = bool(self._first)
        load_first_names()
        # One pass for both kinds of cue: the alternation is the costly part of the scan.
        self._cue = regex.compile(
            rf"(?<![\p{{L}}\p{{M}}])(?:(?P<hard>(?i:{_PERSON_CUES}))\.?[:?]?\s{{1,3}}(?=[\p{{L}}\p{{M}}])"
            rf"|(?<!')(?P<soft>(?i:{_SOFT_CUES})),?[ \t]{{1,2}}\n?(?=\p{{Lu}}))"
        )
        self._cue_word = regex.compile(rf"(?i:{_PERSON_CUES})")
        self._speaker = regex.compile(r"(?:^|(?<=[.!?\"]\s{1,2})|(?<=\n))(?P<name>\p{Lu}[\p{Ll}\p{M}]{2,20}):(?=\s|\")")

    # -- token predicates ---------------------------------------------------------------------------------
    def _nameish(self, tok: _Tok) -> bool:
        """A token that may continue a name after a cue: initial, known name or uncommon capitalised word."""
        up = tok.text.upper()
        if up in _NOT_NAMES:
            return False
        if tok.initial:
            return True
        if not self._gazetteer:
            return tok.title or tok.upper
        if tok.upper:
            return _upper_name(tok.text)
        if up in self._first or up in self._last or first_name_strength(tok.text) > 0:
            return tok.title
        return tok.title and not is_common_word(tok.text)

    @staticmethod
    def _named(tok: _Tok, lower: bool) -> bool:
        """After "name is", "calls me": any known name ("maiden name is Key") or, in lower case, a word that
        is no English word or mostly a first name ("my name is vitoria")."""
        if tok.text.upper() in _FUNCTION_WORDS:
            return False
        if tok.title or tok.upper:
            return tok.text.upper() in census_last_share() or first_name_strength(tok.text) > 0
        return (
            lower
            and tok.lower
            and len(tok.text) >= 3
            and (not is_common_word(tok.text) or first_name_strength(tok.text, lower=True) == 2)
        )

    def _surname_after_first(self, tok: _Tok, strength: int, after_initial: bool, census_first: bool) -> bool:
        """The token after a first name (and middle initial) is a surname: "Gelencsér", "Smith".

        A word that is no English word follows a census first name or one that is mostly a name ("Grace
        Adebayo-Hill", "Szabina Gelencsér"; not "Said Lakhmi"). An ordinary English word only when it is a census
        surname and the first name is mostly a name or an initial follows it ("Megan Young", "Brad L Key"; not
        "Will Call", "Grace Period").
        """
        up = tok.text.upper()
        if not tok.title or len(tok.text) < 2:
            return False
        if up in _NOT_NAMES:
            return after_initial and up in census_last_share()  # "Brad L Key", "John A White"
        if not is_common_word(tok.text):
            return strength == 2 or after_initial or census_first or up in self._last
        return _is_surname(tok.text) and (strength == 2 or after_initial or up in top_surnames())

    # -- analysis -------------------------------------------------------------------------------------------
    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        found: dict[tuple[int, int], float] = {}
        try:
            toks = _tokens(text)
            rules = [self._cued(text, toks)]
            if self._gazetteer:
                rules += [
                    self._full_names(text, toks),
                    self._foreign_pairs(text, toks),
                    self._lower_names(text, toks),
                    self._upper_forms(text, toks),
                    self._lists(text),
                    self._speakers(text),
                ]
            for rule in rules:
                for start, end, score in rule:
                    found[(start, end)] = max(score, found.get((start, end), 0.0))
            if self._gazetteer:
                for start, end, score in self._lone_first_names(text, toks, found):
                    found[(start, end)] = max(score, found.get((start, end), 0.0))
            for start, end, score in self._mentions(text, toks, found):
                found.setdefault((start, end), score)
        except TimeoutError:
            logger.warning("name regex timed out on a %d-char window", len(text))
        return [
            RecognizerResult(self.ENTITY, s, e, score, recognition_metadata={"recognizer_name": "NameRecognizer"})
            for (s, e), score in found.items()
        ]

    @staticmethod
    def _in_address(text: str, start: int, end: int, after: bool = True) -> bool:
        """A capitalised name inside an address: after a house number, or (``after``) before a street number."""
        if _HOUSE_NUMBER_BEFORE.search(text, max(0, start - 60), start):
            return True
        return after and bool(_NUMBER_AFTER.match(text, end))

    @staticmethod
    def _mentions(text: str, toks: list[_Tok], found: dict[tuple[int, int], float]) -> Iterator[tuple[int, int, float]]:
        """Later mentions of a name found in the same text: "Emmie Ström ... early Ström", "Brad L Key ...
        starring Key". A part that is an ordinary word counts only where its capital is no sentence start."""
        sure = _Coverage(found, min_score=0.75)
        parts: dict[str, float] = {}
        for t in toks:
            score = sure.score(t.start, t.end)
            if score is None or len(t.text) < 3 or (t.lower and (len(t.text) < 4 or is_common_word(t.text))):
                continue
            parts[t.text] = max(score, parts.get(t.text, 0.0))
        if not parts:
            return
        taken = _Coverage(found)
        for t in toks:
            part = parts.get(t.text)
            if part is None or taken.score(t.start, t.end) is not None:
                continue
            if is_common_word(t.text) and first_name_strength(t.text) != 2 and sentence_start(text, t.start):
                continue
            yield t.start, t.end, part

    def _cued(self, text: str, toks: list[_Tok]) -> Iterator[tuple[int, int, float]]:
        """Name-like words after a person cue: "Pt J. SMITH", "signed by K. Johnson", "last name? Boyle"; known
        names after a greeting or a verb of telling: "Hi Rose", "per Johnson"."""
        index = {t.start: i for i, t in enumerate(toks)}
        for m in all_matches(self._cue, text):
            i = index.get(m.end())
            if i is None:
                continue
            span = (
                self._after_cue(text, toks, i, m.group("hard")) if m.group("hard") else self._after_soft(text, toks, i)
            )
            if span is not None:
                yield span[0], span[1], 0.85

    def _after_cue(self, text: str, toks: list[_Tok], i: int, cue: str) -> tuple[int, int] | None:
        """The run of up to three name-like words after a person cue; not initials alone."""
        naming = bool(_NAMING_CUE.search(cue))
        lower = bool(_LOWER_NAMING_CUE.search(cue))
        title = _TITLE_CUE.fullmatch(cue) is not None
        role = _ROLE_CUE.fullmatch(cue) is not None
        keep: list[_Tok] = []
        for tok in toks[i : i + 3]:
            if keep and not _INITIAL_GAP.fullmatch(text[keep[-1].end : tok.start]):
                break
            if not (
                self._nameish(tok)
                or (naming and self._named(tok, lower))
                or (title and self._after_title(tok))
                or (role and self._lower_after_role(tok, first=not keep))
            ):
                break
            keep.append(tok)
        if not keep or all(t.initial for t in keep):
            return None
        return keep[0].start, keep[-1].end

    @staticmethod
    def _after_title(tok: _Tok) -> bool:
        """After "Dr", "Mr", "Mrs", "Ms" a word is a surname even in upper case and unknown to the lists
        ("PER DR NISHIMURA", "DR. KORUTÜRK"); an ordinary English word only when it is a census surname
        ("DR WHITE"), so "Dr Office" stays."""
        if not (tok.upper or tok.title) or len(tok.text) < 2:
            return False
        return not is_common_word(tok.text) or tok.text.upper() in census_last_share()

    @staticmethod
    def _lower_after_role(tok: _Tok, first: bool) -> bool:
        """Lower-case shorthand after "pt", "rn": a word that is mostly a first name ("rn filippo aware"),
        then a surname that is no English word ("pt otýlie králová"); "pt stable", "rn aware" stay."""
        if not tok.lower or len(tok.text) < 3:
            return False
        if first:
            return first_name_strength(tok.text, lower=True) == 2
        return not is_common_word(tok.text)

    def _after_soft(self, text: str, toks: list[_Tok], i: int) -> tuple[int, int] | None:
        """A known name after a soft cue, with the capitalised word after it ("Hi Rose Lindqvist")."""
        if not self._known_name(toks[i]):
            return None
        end = toks[i].end
        if i + 1 < len(toks) and _SPACES.fullmatch(text[end : toks[i + 1].start]):
            nxt = toks[i + 1]
            if nxt.title and (self._known_name(nxt) or not is_common_word(nxt.text)):
                end = nxt.end
        return toks[i].start, end

    def _known_name(self, tok: _Tok) -> bool:
        """A capitalised word that a gazetteer knows as a first name or surname ("Grace", "Johnson"); in
        upper-case text only one that is mostly a name ("THANKS IN ADVANCE" stays)."""
        up = tok.text.upper()
        if not (tok.title or tok.upper) or len(tok.text) < 2 or up in _NOT_NAMES:
            return False
        if tok.upper:
            return _upper_name(tok.text)
        return up in census_first_share() or surname_strength(tok.text) == 2 or first_name_strength(tok.text) > 0

    @staticmethod
    def _first_strength(tok: _Tok) -> tuple[int, bool]:
        """(strength, census name) of a capitalised first name; "Jean-Pierre" and "Anna-Lena" by their parts.

        A census first name that is a domain word alone ("Grace") still opens a full name ("Grace
        Adebayo-Hill") with strength 1.
        """
        strength = first_name_strength(tok.text)
        census = tok.text.upper() in census_first_share()
        if strength == 0 and census:
            strength = 1
        if strength == 0 and "-" in tok.text:
            parts = [first_name_strength(p) or int(p.upper() in census_first_share()) for p in tok.text.split("-")]
            if all(parts):
                strength = max(parts)
        return strength, census

    def _full_names(self, text: str, toks: list[_Tok]) -> Iterator[tuple[int, int, float]]:
        """Known first name, optional middle initial or particles, surname by casing: "Faina D. Yefremova",
        "Miklós Hajdu", "Daan van der Berg"."""
        n = len(toks)
        for i, a in enumerate(toks):
            if not a.title or i + 1 >= n:
                continue
            strength, census_first = self._first_strength(a)
            if strength == 0:
                continue
            j = i + 1
            initial = False
            if not _SPACES.fullmatch(text[a.end : toks[j].start]):
                continue
            if toks[j].initial and j + 1 < n and _INITIAL_GAP.fullmatch(text[toks[j].end : toks[j + 1].start]):
                initial, j = True, j + 1
            while j + 1 < n and j - i <= 3 and toks[j].text in _PARTICLES:
                if not _SPACES.fullmatch(text[toks[j].end : toks[j + 1].start]):
                    break
                j += 1
            b = toks[j]
            if not self._surname_after_first(b, strength, initial, census_first):
                continue
            end = b.end
            if j + 1 < n and toks[j + 1].title and _SPACES.fullmatch(text[b.end : toks[j + 1].start]):
                c = toks[j + 1]
                if not is_common_word(c.text) and c.text.upper() not in _NOT_NAMES and first_name_strength(c.text) != 2:
                    end = c.end  # "Maria Garcia Lopez"
            if _is_place(text[a.start : end]) or self._in_address(text, a.start, end):
                continue  # "Santa Clara", "Mora de Rubielos", "04862 Victor Hugo u. 49"
            yield a.start, end, 0.85
        # "Tomasz Nowak" read the other way: an unknown capitalised word before a census surname.
        for a, b in itertools.pairwise(toks):
            if (
                a.title
                and b.title
                and _SPACES.fullmatch(text[a.end : b.start])
                and is_uncommon_capitalised(a.text)
                and _is_surname(b.text)
                and not is_common_word(b.text)
            ):
                yield a.start, b.end, 0.7

    def _foreign_pairs(self, text: str, toks: list[_Tok]) -> Iterator[tuple[int, int, float]]:
        """Two capitalised words no gazetteer or dictionary knows, one spelt with letters English lacks
        ("Wisława Szczepańska", "Guðrún Þórsdóttir") or owning something ("Pinabel Marcil's"). US products
        and departments rarely carry diacritics or possessives; streets and towns are left to the address and
        place rules (number before or after, place gazetteer), and a longer capitalised phrase is no name."""
        n = len(toks)
        for i in range(n - 1):
            a, b = toks[i], toks[i + 1]
            owner = text[b.end : b.end + 2] in ("'s", "’s")
            if not (a.title and b.title and (owner or not a.text.isascii() or not b.text.isascii())):
                continue
            if not _SPACES.fullmatch(text[a.end : b.start]) or "\n" in text[a.end : b.start]:
                continue
            if any(is_common_word(t.text) or t.text.upper() in _NOT_NAMES or len(t.text) < 3 for t in (a, b)):
                continue
            if i + 2 < n and self._same_phrase(text, b, toks[i + 2]):
                continue
            if i > 0 and not sentence_start(text, toks[i - 1].start) and self._same_phrase(text, toks[i - 1], a):
                continue
            if self._in_address(text, a.start, b.end) or any(_is_place(v) for v in (a.text, b.text)):
                continue
            if _is_place(text[a.start : b.end]):
                continue
            yield a.start, b.end, 0.75

    def _lower_names(self, text: str, toks: list[_Tok]) -> Iterator[tuple[int, int, float]]:
        """Lower-case text: "eva kleist", "benjamin a seiler" (first name that is no word + no word)."""
        n = len(toks)
        for i, a in enumerate(toks):
            if not a.lower or len(a.text) < 3 or i + 1 >= n:
                continue
            if first_name_strength(a.text, lower=True) != 2:
                continue
            j = i + 1
            if len(toks[j].text) == 1 and toks[j].lower and j + 1 < n:
                j += 1  # "benjamin a seiler"
            if not all(
                _INITIAL_GAP.fullmatch(text[x.end : y.start])
                for x, y in zip(toks[i:j], toks[i + 1 : j + 1], strict=False)
            ):
                continue
            b = toks[j]
            if not b.lower or len(b.text) < 3 or b.text.upper() in _NOT_NAMES:
                continue
            if not is_common_word(b.text):
                yield a.start, b.end, 0.8

    def _upper_forms(self, text: str, toks: list[_Tok]) -> Iterator[tuple[int, int, float]]:
        """Upper-case notes: "THOMAS WRIGHT", "SMITH, JOHN" and, in any case, "J. SMITH", "K. Johnson"."""
        for a, b in itertools.pairwise(toks):
            gap = text[a.end : b.start]
            ua, ub = a.text.upper(), b.text.upper()
            if a.initial and (b.upper or b.title) and _DOT_GAP.fullmatch(gap) and ub in self._last:
                yield a.start, b.end, 0.8  # before the word check: "A. SMITH" is no article
                continue
            if ua in _NOT_NAMES or ub in _NOT_NAMES:
                continue
            if a.upper and b.upper and _SPACES.fullmatch(gap) and self._upper_pair(a.text, b.text):
                yield a.start, b.end, 0.8
            elif a.upper and b.upper and regex.fullmatch(r",\s?", gap) and self._upper_last_first(a.text, b.text):
                yield a.start, b.end, 0.85

    def _upper_pair(self, a: str, b: str) -> bool:
        """ "THOMAS WRIGHT" (census both, one mostly a name, not "ACCEPTS MY CARD"), "SZABINA GELENCSÉR" (a
        first name that is mostly a name, then a long word that is no English word: acronyms are short)."""
        ua, ub = a.upper(), b.upper()
        if ua in self._first and ub in self._last and (first_name_strength(a) == 2 or surname_strength(b) == 2):
            return True
        if len(a) < 3 or first_name_strength(a) != 2:
            return False
        return ub in self._last or (len(b) >= 5 and not is_common_word(b))

    def _upper_last_first(self, a: str, b: str) -> bool:
        """ "SMITH, JOHN" (census both), "GELENCSÉR, SZABINA" (a long non-word before a first name that is
        mostly a name)."""
        ua, ub = a.upper(), b.upper()
        if ua in self._last and ub in self._first:
            return True
        return len(b) >= 3 and first_name_strength(b) == 2 and len(a) >= 4 and not is_common_word(a)

    def _lists(self, text: str) -> Iterator[tuple[int, int, float]]:
        """ "Kónya, Becker and Vasquez", "Romi, Erik, Amy": a coordinated list of capitalised words is a list of
        people when each could be a name, two are mostly names or no English word, and the gazetteers know a
        first name or two surnames among them (one beside a foreign spelling). Most supplier lists fail that: brands
        that are surnames are frequent words for their share ("Medline, Cardinal and Owens")."""
        for m in all_matches(_LIST, text):
            items = _LIST_SPLIT.split(m.group())
            if not all(self._list_item_ok(w) for w in items):
                continue
            strong = [w for w in items if self._list_item_strength(w) == 2]
            firsts = sum(first_name_strength(w) == 2 for w in items)
            surnames = sum(surname_strength(w) == 2 for w in items)
            foreign = any(not w.isascii() for w in items)
            known = firsts > 0 or surnames >= 2 or (surnames == 1 and foreign)
            if len(strong) < 2 or not known or self._in_address(text, m.start(), m.end()):
                continue
            pos = m.start()
            for w in items:
                s = text.index(w, pos)
                pos = s + len(w)
                yield s, pos, 0.85

    def _list_item_ok(self, word: str) -> bool:
        """Any census or international name (even "White"), or a word that is no English word ("Kónya")."""
        up = word.upper()
        return up in census_last_share() or first_name_strength(word) > 0 or not is_common_word(word)

    @staticmethod
    def _list_item_strength(word: str) -> int:
        if not is_common_word(word) or first_name_strength(word) == 2 or surname_strength(word) == 2:
            return 2
        return 1

    def _speakers(self, text: str) -> Iterator[tuple[int, int, float]]:
        """Speaker labels in transcripts and chats ("Halldór: What a wife."): no ordinary English word."""
        for m in all_matches(self._speaker, text):
            w = m.group("name")
            if self._cue_word.fullmatch(w):
                continue  # "Approver:", "Requester:": a form label, not a speaker
            if _VALUE_AFTER_LABEL.match(text, m.end()):
                continue  # "Callback: 555-0116", "Extension: 4412": a field holding a number, not speech
            if w.upper() not in _NOT_NAMES and (not is_common_word(w) or first_name_strength(w) == 2):
                yield m.start("name"), m.end("name"), 0.85

    def _lone_first_names(
        self, text: str, toks: list[_Tok], found: dict[tuple[int, int], float]
    ) -> Iterator[tuple[int, int, float]]:
        """A lone capitalised first name that is mostly a name ("Megan lives on", "Why is Glyceria so").

        Not inside a capitalised phrase ("Victoria Hospital", "Lake Victoria", "Rua João Pessoa"): facilities,
        streets and products named after people are no PHI, and a real "First Last" is the full-name rule's to
        judge. A capital at the start of a sentence does not make a phrase ("Hi Megan"). After a place
        preposition the score stays low so a place detector's LOCATION names the span ("in Victoria").
        """
        taken = _Coverage(found)
        n = len(toks)
        for i, t in enumerate(toks):
            if not t.title:
                continue
            if first_name_strength(t.text) == 2:
                score = 0.85
            elif self._lone_surname(text, t):
                score = 0.6
            else:
                continue
            if taken.score(t.start, t.end) is not None or self._in_address(text, t.start, t.end):
                continue
            if _VENDOR_ROLE_AFTER.match(text, t.end):
                continue  # "Otis tech", "Stryker rep": the company that sent someone
            if i + 1 < n and self._same_phrase(text, t, toks[i + 1]):
                continue
            if i > 0 and not sentence_start(text, toks[i - 1].start) and self._same_phrase(text, toks[i - 1], t):
                continue
            if _PLACE_BEFORE.search(text, max(0, t.start - 12), t.start):
                score = 0.5
            yield t.start, t.end, score

    @staticmethod
    def _lone_surname(text: str, tok: _Tok) -> bool:
        """A census surname capitalised mid-sentence that is no English word and no brand: its share of the
        population explains its frequency in text ("met with Vasquez", "ex-Zombie Kastner"; not "Stryker")."""
        if _key(tok.text) not in census_last_share() or sentence_start(text, tok.start):
            return False
        return not is_common_word(tok.text) and surname_strength(tok.text) == 2

    @staticmethod
    def _same_phrase(text: str, a: _Tok, b: _Tok) -> bool:
        """``a`` and ``b`` are capitalised words of one phrase ("Victoria Hospital", "Lake Victoria", "Rua João
        Pessoa"): a lone first name inside it names a facility, street or product, or a person the other rules
        judged and left alone."""
        gap = text[a.end : b.start]
        return bool(_SPACES.fullmatch(gap)) and "\n" not in gap and (a.title or a.upper) and (b.title or b.upper)

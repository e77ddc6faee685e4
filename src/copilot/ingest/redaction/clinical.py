"""Clinical writing: which text is clinical narrative, its vocabulary, and the PHI shapes clinicians write.

A nurse's note, an incident description or a ticket about a patient is written in shorthand ("PT S/P CABG 10/13,
DR. CHEN AWARE, DTR MARGIE @ BEDSIDE, TRANSFER TO QUARTERMAIN 2"); an SOP, a contract or a maintenance log is
written in full sentences around identifiers that must stay readable (asset tags, lots, due dates). The two need
different rules, so the redactor decides per text which *profile* applies (``text_kind``) unless the caller knows
(document type from the source's metadata, ``--profile``). When unsure it is strict: clinical.

Clinical profile (in ``PresidioRedactor._postprocess``):

* every date element but the year ("7/22", "on 3/4", "POD#2 7/23", "in march of 2022"), not scores, ratios and
  ventilator settings ("pain 4/10", "CPAP 10/5", "1/2 NS");
* names after clinical cues ("dr. chen", "per d ross", "dtr laverne", "mary o'hara np aware"), lower case too;
* hospital, ward and building names ("transfer to QUARTERMAIN 2", "HARFORD MEMORIAL", "U of MD Med Center",
  "to GH cath lab"), and every later mention of one in the same text;
* a clinical-vocabulary guard: a name or place candidate made only of clinical words (drugs, lab tests,
  abbreviations, anatomy: "PRBC", "BUN", "Kayexalate", "Foley") is dropped unless a cue named it.

The clinical vocabulary is Philter's whitelist of safe words (``philter-lite``, BSD-3, ~195,000 English and
medical words, drug and lab names among them), read from the package's data file, never called.

Usage::

    kind, evidence = text_kind("PT AWAKE, FOLLOWS COMMANDS. HR 80S SR.")   # ("clinical", {...})
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import tomllib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import regex
from presidio_analyzer import LocalRecognizer, RecognizerResult

from copilot.ingest.redaction.recognizers.base import REGEX_TIMEOUT_S, all_matches

logger = logging.getLogger(__name__)

PROFILES = ("auto", "clinical", "operational")
KINDS = ("clinical", "operational", "general")

# The kinds of text each recognizer runs on (every kind when unlisted): an SOP skips what its profile drops,
# and the cue-free town rule, made for all-caps notes, runs on clinical text only.
RUNS_IN: dict[str, frozenset[str]] = {
    "ClinicalDateRecognizer": frozenset({"clinical", "general"}),
    "FacilityRecognizer": frozenset({"clinical", "general"}),
    "ShorthandPhoneRecognizer": frozenset({"clinical", "general"}),
    "TownRecognizer": frozenset({"clinical"}),
}
# Recognizer names whose detections the operational profile drops (derived: they do not run there).
CLINICAL_ONLY = frozenset(name for name, kinds in RUNS_IN.items() if "operational" not in kinds)
# Recognizers whose spans are named by a cue (or by the organisation's own list of its sites, "SiteNames"), so
# the vocabulary guard does not apply to them.
CUED = frozenset({"ClinicalNameRecognizer", "FacilityRecognizer", "SiteNames"})

# Source document types -> profile. Anything else is decided from the text.
DOC_TYPE_PROFILE: dict[str, str] = {
    "sop": "operational",
    "policy": "operational",
    "contract": "operational",
    "maintenance_log": "operational",
    "service_report": "operational",
    "manual": "operational",
    "article": "operational",
    "incident_report": "clinical",
    "helpdesk_ticket": "clinical",
    "ticket": "clinical",
    "clinical_note": "clinical",
}


def profile_for_doc_type(doc_type: str | None) -> str:
    """The profile a document type implies; ``auto`` (decide per text) when the type says nothing."""
    return DOC_TYPE_PROFILE.get((doc_type or "").lower(), "auto")


# -- vocabulary ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _philter_sets() -> dict[str, frozenset[str]]:
    spec = importlib.util.find_spec("philter_lite")
    if spec is None or spec.origin is None:
        logger.warning("package 'philter-lite' not installed: clinical vocabulary guard off")
        return {}
    path = Path(spec.origin).parent / "filters" / "set.toml"
    if not path.exists():
        logger.warning("philter-lite has no filters/set.toml: clinical vocabulary guard off")
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {k: frozenset(str(w).lower() for w in v) for k, v in data.items() if isinstance(v, list)}


def clinical_vocabulary() -> frozenset[str]:
    """Lower-case words Philter deems safe (English, medical, drugs, labs); empty without the package."""
    return _philter_sets().get("nonames", frozenset())


@lru_cache(maxsize=1)
def philter_names() -> frozenset[str]:
    """Lower-case first names and surnames from Philter's blacklists (~250,000)."""
    sets = _philter_sets()
    return sets.get("firstnames", frozenset()) | sets.get("lastnames", frozenset())


def warm() -> None:
    """Load the vocabulary, the name lists, the gazetteer and the word frequencies now (1-3 s) rather than inside
    the first batch of texts."""
    from copilot.ingest.redaction.names import census_first_share, census_last_share, load_first_names, zipf_en
    from copilot.ingest.redaction.places import load_places, place_prefixes

    _philter_sets()
    census_first_share()
    census_last_share()
    load_first_names()
    load_places()
    place_prefixes()
    zipf_en("warm")


_WORDS = regex.compile(r"[\p{L}\d][\p{L}\d'’]*")

# Lines and catheters that ICU notes write as one word and that Philter's vocabulary lacks, while name lists
# hold them ("ALINE CORRELATING", "Aline dc'd", "tunneled Quinton catheter"), and the ICU's charting system
# ("See Carevue for vent settings"). Each was read in the development notes (physionet dev and dev-b): "aline"
# 63 times in 22 patients' notes, never a name; "quinton" in two; "carevue" 64 times in 19 patients' notes.
_LINE_SHORTHAND = frozenset({"aline", "quinton", "carevue"})


@lru_cache(maxsize=65_536)
def is_clinical_word(word: str) -> bool:
    """A word of the clinical vocabulary that is not mostly a first name ("Foley", "Neo", "BUN" are clinical;
    "Mary", "Carol" are names even though Philter lists them as words). Words of three letters or fewer in the
    vocabulary are abbreviations ("ABD", "HO", "GI")."""
    from copilot.ingest.redaction.names import census_first_share, first_name_strength

    w = word.strip(".,;:'’()").lower()
    if w.endswith(("'s", "’s")):
        w = w[:-2]
    if any(ch.isdigit() for ch in w):
        return True  # "SpO2", "FiO2", "5O%": names hold no digits
    if "-" in w.strip("-"):
        parts = [p for p in w.split("-") if p]
        return bool(parts) and all(is_clinical_word(p) or is_misspelt_word(p) for p in parts)
    if w in _LINE_SHORTHAND:
        return True
    if not w or w not in clinical_vocabulary():
        return False
    if len(w) <= 3 or w.upper() not in census_first_share():
        return True
    return first_name_strength(w.capitalize()) < 2


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=65_536)
def is_misspelt_word(word: str) -> bool:
    """An unknown word one edit (insert, delete, swap, substitute) from a vocabulary word of 4+ letters, that
    no name list knows: notes are typed fast ("HTIS", "PRESNT", "AGRESS", "recieve")."""
    w = word.lower()
    vocab = clinical_vocabulary()
    if len(w) < 4 or not w.isalpha() or w in vocab or not vocab or known_name(word):
        return False
    return any(len(e) >= 4 and e in vocab for e in _edits1(w))


def _edits1(w: str) -> set[str]:
    """Every string one delete, swap, substitution or insertion away from ``w`` (lower-case letters)."""
    splits = [(w[:i], w[i:]) for i in range(len(w) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    edits |= {a + c + b for a, b in splits for c in _LETTERS}
    return edits


def is_not_a_name(word: str) -> bool:
    """A clinical word or a misspelt one."""
    return is_clinical_word(word) or is_misspelt_word(word)


def all_clinical_words(value: str) -> bool:
    """Every word of ``value`` is a clinical-vocabulary word (and there is at least one)."""
    words = [w for w in _WORDS.findall(value) if not w.isdigit()]
    return bool(words) and all(is_clinical_word(w) for w in words)


def all_not_names(value: str) -> bool:
    """Every word of ``value`` is a clinical word or a misspelt one."""
    words = [w for w in _WORDS.findall(value) if not w.isdigit() and len(w) > 1]
    return bool(words) and all(is_not_a_name(w) for w in words)


@lru_cache(maxsize=65_536)
def known_name(word: str) -> bool:
    """A census or international first name, a census surname, or a name on Philter's lists, that is no
    clinical word ("Logan", "Margie", "Chen"; not "Foley", "Neo", "Line")."""
    from copilot.ingest.redaction.names import _key, census_last_share, first_name_strength

    w = word.strip(".,;:'’()")
    if len(w) < 2 or is_clinical_word(w) or _misspelt_cue(w.lower()):
        return False
    return first_name_strength(w.capitalize()) > 0 or _key(w) in census_last_share() or w.lower() in philter_names()


def has_known_name(value: str, min_len: int = 2) -> bool:
    """Some word of ``value`` (``min_len`` letters or more) is a known name that is no clinical word."""
    return any(len(w) >= min_len and known_name(w) for w in _WORDS.findall(value))


# -- which kind of text -------------------------------------------------------------------------------------
_CLINICAL_MARKERS = regex.compile(
    r"(?<![\p{L}\d])(?i:pt'?s?|pts|y/?o|yo|y\.o\.|s/p|c/o|h/o|w/|r/o|prn|gtts?|npo|neuro|resp|cv|gi|gu|heme|"
    r"a/p|vss|sbp|hr|bp|rr|sats?|spo2|o2|abg|cxr|ekg|ecg|con'?t|d/?c'?d|aware|dtr|intubated|extubated|sedated|"
    r"vent|peep|fio2|foley|ngt|ogt|u/?o|uop|lungs|afebrile|febrile|tmax|npn|ccu|micu|sicu|csru|picu|nicu|labs|"
    r"hct|wbc|bun|creat|pmh|hpi|pmhx|phx|hx|dx|tx|rx|sx|iv|po|lasix|tylenol|heparin|propofol|sedation|"
    r"bedside|family|wife|husband|daughter|son|admitted|admission|discharged|transferred|dialysis|cath|"
    r"mg|mcg|cc|meq|nsr|afib|copd|chf|cabg|mi|htn|dm|cad|iabp|pacu|er|ed|ew|md|rn|np|ho|resident|attending)"
    r"(?![\p{L}\d])"
)
_VITALS = regex.compile(
    r"\b\d{2,3}/\d{2,3}\b|\b\d+(?:\.\d+)?\s?(?:mg|mcg|cc|ml|meq|units?|u)/?(?:hr|kg|min)?\b", regex.I
)
_OPERATIONAL_MARKERS = regex.compile(
    r"(?<![\p{L}\d])(?i:sop|procedure|policy|scope|purpose|responsibilit\w*|supplier|vendor|contract\w*|"
    r"purchase|invoice|asset|serial|warranty|maintenance|calibrat\w*|preventive|work\sorder|inventory|stock|"
    r"department|effective|revision|approved\sby|section|shall|must|ensure|requirement\w*|compliance|delivery|"
    r"price|quantity|sku|manufacturer|model|firmware|service\sreport|technician|engineer|quote|budget|"
    r"penalt\w*|clause|agreement|party|parties|schedule|shipment|receipt|lot|batch|expiry|storage|"
    r"replacement|replaced|checklist|training|escalat\w*|ticket|helpdesk|request|approval|audit)(?![\p{L}\d])"
)
_IDENTIFIER = regex.compile(r"\b[A-Z]{2,5}-[A-Z0-9]{2,5}(?:-[A-Z0-9]{2,6})?\b|\b(?:PO|WO|LOT|INV)[-#]?\d{3,}\b")


KIND_SAMPLE_CHARS = 20_000
CLINICAL_DENSITY = 2.0
"""Clinical markers per 100 words from which a text is clinical narrative (nursing notes: 8.5 at the 10th
percentile; Faker prose joined into long texts: 0.1-0.4)."""


def text_kind(text: str) -> tuple[str, dict[str, float]]:
    """``clinical``, ``operational`` or ``general`` for one text, and the evidence (markers per 100 words).

    Clinical shorthand, vitals and doses against the vocabulary of procedures, supply and contracts (and
    operational identifiers). Operational only when its evidence clearly outweighs the clinical. A text with
    no evidence either way (a short e-mail, plain prose) is ``general``: the strict union, where the clinical
    recognizers run but the clinical-vocabulary guard, which only makes sense beside clinical shorthand, does
    not drop anything. The marker lists and the two bounds were
    written from knowledge of both kinds of writing and checked with ``copilot eval redaction --dataset
    text-kind``, not fitted to the redaction gold sets.
    """
    text = text[:KIND_SAMPLE_CHARS]  # a 10 MB block is judged by its start, in bounded time
    words = max(1, len(text.split()))
    try:
        clin = len(_CLINICAL_MARKERS.findall(text, timeout=REGEX_TIMEOUT_S)) + len(_VITALS.findall(text))
        oper = len(_OPERATIONAL_MARKERS.findall(text, timeout=REGEX_TIMEOUT_S)) + 2 * len(_IDENTIFIER.findall(text))
    except TimeoutError:
        return "general", {"clinical": 0.0, "operational": 0.0}  # strict
    evidence = {"clinical": round(100 * clin / words, 2), "operational": round(100 * oper / words, 2)}
    if (oper >= 2 and oper > 1.5 * clin) or (oper >= 1 and clin == 0):
        kind = "operational"
    else:
        # Density, not presence: a 5,000-word e-mail thread with "wife" and "admitted" in it is no nursing note
        # (0.1-0.4 markers per 100 words); nursing notes carry 8-22.
        kind = "clinical" if clin >= 1 and evidence["clinical"] >= CLINICAL_DENSITY else "general"
    return kind, evidence


def resolve_profile(text: str, profile: str) -> str:
    """The kind of ``text`` under ``profile``: the profile itself, or ``text_kind`` for ``auto``."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, not {profile!r}")
    return text_kind(text)[0] if profile == "auto" else profile


# -- recognizers --------------------------------------------------------------------------------------------
def _result(entity: str, start: int, end: int, score: float, name: str) -> RecognizerResult:
    return RecognizerResult(entity, start, end, score, recognition_metadata={"recognizer_name": name})


_MONTHS_FULL = r"january|february|april|june|july|august|september|october|november|december"
_MONTHS_ABBR = r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
# Abbreviations alone only in Title case: "DEC 5" and "dec" are "decreased" in shorthand.
_ABBR_TITLE = r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
# In upper case before a day only where the abbreviation means nothing else ("DEC" decreased, "MAR" the
# medication administration record).
_ABBR_UPPER = r"JAN|FEB|APR|JUN|JUL|AUG|SEP|SEPT|OCT|NOV"
# ... and in lower case likewise ("jul 22nd", "sept 9" in a lower-case note; "dec 5" is "decreased 5").
_ABBR_LOWER = r"jan|feb|apr|jun|jul|aug|sept|oct|nov"

# Numbers before a slash that are scores, ratios and settings, not dates ("pain 4/10", "CPAP 10/5", "1/2 NS").
_NOT_DATE_BEFORE = regex.compile(
    r"(?<![\p{L}])(?i:pain|scale|score|rated|grade|strength|murmur|sem|gcs|cpap|peep|ps|psv|ac|simv|imv|bipap|ipap|epap|"
    r"vent|settings?|ratio|i:e|x|@|bp|nbp|abp|sbp|map|cvp|pap|pa|hr|rr|assist|ventilator|lytes?|"
    r"ordered|given|strength)\W{0,3}$"
)
_NOT_DATE_AFTER = regex.compile(
    r"(?i:\s?(?:ns|nss|strength|tab|tabs|amp|amps|of|murmur|sem|hsm|holosystolic|systolic|diastolic|"
    r"cm|mm|mmhg|%|mg|mcg|cc|ml|units?|hrs?|min|x\d|pressure|psi|way|peep|up|bottles?))(?![\p{L}])"
)
# Ventilator and oxygen settings earlier in the same clause ("PSV of 10/5", "wean down to 10/5", "flowby 6/3").
_SETTINGS_CLAUSE = regex.compile(
    r"(?<![\p{L}])(?i:cpap|peep|psv?|bipap|imv|simv|ipap|epap|pressure\ssupport|flow-?by|vent\ssettings?|"
    r"wean(?:ed|ing)?\s(?:down\s)?(?:to|on)|(?:changed?|trialed|placed)\s(?:back\s)?(?:to|on))"
    # the settings that follow: numbers, percentages, "500 X 14" (a volume times a rate)
    r"(?:[\s/:,&]+(?:of|to|at|on|down|now|is|and|@|(?i:x)(?=\s?\d)|(?:\.\d|\d)[\d.%]*(?:x\d+)*))*[\s/:,&]*$"
)
_SLASH_DATE = regex.compile(
    # a day range may follow ("7/1-3")
    r"(?<![\d/:+])(?<!\d[.,-])(?<!/\.)(?P<date>(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9])"
    r"(?:/(?:\d{4}|\d{2})|-(?:3[01]|[12]\d|0?[1-9])(?![\d/.]))?"
    # a month and its year in a history ("CABG 1/78", "pelvic fx4/97", "MI 3/2009"): a two-digit number above
    # 31 after a month is no day, and "1/78" is no score, setting or fraction either
    r"|(?:1[0-2]|0?[1-9])/(?:3[2-9]|[4-9]\d|(?:19|20)\d\d)"
    r"|(?:19|20)\d\d-(?:1[0-2]|0[1-9])-(?:3[01]|[12]\d|0[1-9]))(?![\d/%]|\.\d)"
)
_NAMED_DATE = regex.compile(
    rf"(?<![\p{{L}}])(?i:(?:{_MONTHS_FULL}|(?-i:{_ABBR_TITLE}|{_ABBR_UPPER}|{_ABBR_LOWER})\.?|(?:{_MONTHS_ABBR})\.)"
    rf"\s\d{{1,2}}(?:st|nd|rd|th)?(?!\d)"
    rf"(?:,?\s\d{{4}})?"
    # a month and a year ("Jul 2019", "JUNE, 2101"): the month, and the year with it
    rf"|(?:{_MONTHS_FULL}|(?-i:{_ABBR_TITLE}|{_ABBR_UPPER}|{_ABBR_LOWER})\.?),?\s\d{{4}}(?!\d)"
    rf"|(?:{_MONTHS_ABBR})\.?\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}}"
    rf"|(?<![\d.])\d{{1,2}}(?:st|nd|rd|th)?\s(?:of\s)?(?:(?i:{_MONTHS_FULL}|may|march)(?:,?\s\d{{4}})?"
    rf"|(?-i:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?(?:,?\s\d{{4}})?"
    rf"|(?:{_MONTHS_ABBR})\.?,?\s\d{{4}})"
    rf"|(?:{_MONTHS_FULL})"
    rf"|(?:may|march)\s\d{{1,2}}(?:st|nd|rd|th)(?![\p{{L}}\d])"  # "March 3rd": the day with it
    rf"|(?:may|march)(?=\s(?:of\s)?\d{{1,4}}\b)"
    rf"|(?<=\b(?:in|since|during|early|late|mid|last|next|until|through|of)\s)(?:may|march|(?-i:{_ABBR_TITLE})\.?)"
    r"|(?:christmas|xmas)(?:\s(?:eve|day))?|thanksgiving|easter|hanukkah|new\syear'?s(?:\s(?:day|eve))?|labor\sday|memorial\sday|"
    r"independence\sday|july\s4th|valentine'?s\sday|halloween)(?![\p{L}])"
)
# "on the 14th", "since the 3rd": a day of the month alone.
_ORDINAL_DAY = regex.compile(
    r"(?<=(?<![\p{L}])(?i:on|since|until|till|of)\sthe\s)(?:[12]?\d|3[01])(?i:st|nd|rd|th)(?![\p{L}\d])"
)
_NAMED_DATE_HINTS = (
    *_MONTHS_ABBR.split("|"),
    "may",
    "christmas",
    "xmas",
    "thanksgiving",
    "easter",
    "hanukkah",
    "year",
    "labor day",
    "memorial day",
    "independence",
    "july",
    "valentine",
    "halloween",
)
# "on 7-22", "since 10-3": dashed month-day only after a date preposition ("from 2-4 mcg" is a range)
_DASH_DATE = regex.compile(
    r"(?<=(?<![\p{L}])(?i:on|since|until|till|dated|of)\s)(?P<date>(?:1[0-2]|0?[1-9])-(?:3[01]|[12]\d|0?[1-9]))"
    r"(?![\d\p{L}%/-]|\.\d)"
)
# "12-Jun", "12-JUN-09", "Jun-12": a day and a month abbreviation joined by dashes (lab and pharmacy style).
_DASH_MONTH_DATE = regex.compile(
    rf"(?<![\p{{L}}\d-])(?:(?:3[01]|[12]\d|0?[1-9])-(?:{_ABBR_TITLE}|{_ABBR_UPPER})(?:-(?:\d{{4}}|\d{{2}}))?"
    rf"|(?:{_ABBR_TITLE}|{_ABBR_UPPER})-(?:3[01]|[12]\d|0?[1-9])(?:-(?:\d{{4}}|\d{{2}}))?)(?![\p{{L}}\d-])"
)
# "'09 PTCA", "CABG in '13": an apostrophe before two digits writes a year of the patient's history.
_APOSTROPHE_YEAR = regex.compile(r"(?<![\p{L}\d'’])['’]\d{2}(?![\d\p{L}'’%]|\.\d)")
# "10/15-10/16": the whole range, its dash included, once both ends are dates.
_SLASH_RANGE = regex.compile(
    r"(?<![\d/.])(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9])\s?-\s?(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9])"
    r"(?![\d/%]|\.\d)"
)
_RANGE_END = regex.compile(
    r"(?<=(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9])\s?-\s?)(?P<date>(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9]))(?![\d/%]|\.\d)"
)


class _ClinicalRecognizer(LocalRecognizer):
    """One entity type, no model, no context words: subclasses set ``NAME`` and ``ENTITY`` and analyse."""

    NAME = ""
    ENTITY = ""

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name=self.NAME, context=[])

    def load(self) -> None:
        return None


class ClinicalDateRecognizer(_ClinicalRecognizer):
    """m/d and m/d/yy dates with or without context, month-name dates and months alone (clinical profile).

    Not scores, ratios and settings: a slash number after "pain", "grade", "CPAP", "PS", a BP label, or
    followed by a unit ("1/2 NS", "3/6 SEM", "5/5 strength") stays.
    """

    NAME = "ClinicalDateRecognizer"
    ENTITY = "DATE_TIME"

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        out: list[RecognizerResult] = []
        try:
            for m in all_matches(_SLASH_DATE, text):
                s, e = m.span("date")
                head, dash, last = m.group("date").partition("-")
                if dash and "/" in head and int(last) <= int(head.split("/")[1]):
                    e = s + len(head)  # "11/30-1", "7/22-3 PRBC": the date, then something else
                if _NOT_DATE_BEFORE.search(text[max(0, s - 14) : s]) or _NOT_DATE_AFTER.match(text, e):
                    continue
                if _SETTINGS_CLAUSE.search(text[max(0, s - 40) : s]):
                    continue
                out.append(_result("DATE_TIME", s, e, 0.85, self.NAME))
            for m in all_matches(_DASH_DATE, text):
                if not _NOT_DATE_AFTER.match(text, m.end("date")):
                    out.append(_result("DATE_TIME", m.start("date"), m.end("date"), 0.8, self.NAME))
            for m in all_matches(_RANGE_END, text):
                out.append(_result("DATE_TIME", m.start("date"), m.end("date"), 0.85, self.NAME))
            if "-" in text:
                for m in all_matches(_SLASH_RANGE, text):
                    if not _NOT_DATE_BEFORE.search(text[max(0, m.start() - 14) : m.start()]):
                        out.append(_result("DATE_TIME", m.start(), m.end(), 0.85, self.NAME))
            if "-" in text:
                for m in all_matches(_DASH_MONTH_DATE, text):
                    out.append(_result("DATE_TIME", m.start(), m.end(), 0.8, self.NAME))
            if "'" in text or "’" in text:
                for m in all_matches(_APOSTROPHE_YEAR, text):
                    out.append(_result("DATE_TIME", m.start(), m.end(), 0.75, self.NAME))
            for m in all_matches(_ORDINAL_DAY, text):
                out.append(_result("DATE_TIME", m.start(), m.end(), 0.8, self.NAME))
            low = text.lower()
            if any(h in low for h in _NAMED_DATE_HINTS):  # most windows name no month or holiday
                for m in all_matches(_NAMED_DATE, text):
                    out.append(_result("DATE_TIME", m.start(), m.end(), 0.85, self.NAME))
        except TimeoutError:
            logger.warning("clinical date regex timed out on a %d-char window", len(text))
        return out


# Cues before a clinician's or a relative's name, and the roles written after one ("mary o'hara np aware").
_NAME_CUE = regex.compile(
    r"(?<![\p{L}])(?i:dr|drs|doctor|md|np|rn|pa|rrt|nurse|pharmacist|therapist|sw|s/w|cm|case\smanager|"
    r"social\sworker|rt|ot|dietitian|dietician|nutritionist|interpreter|translator|cns|crna|lpn|cna|pct|attending|resident|fellow|intern|cardiologist|surgeon|"
    r"intensivist|hospitalist|nephrologist|neurologist|oncologist|pcp|pmd|mr|mrs|ms|miss|rabbi|priest|reverend|"
    r"rev|father|fr|chaplain|wife|husband|spouse|daughters?|dtrs?|sons?|sisters?|brothers?|mother|mom|dad|"
    r"niece|nephew|grandson|granddaughter|grandchildren|aunt|uncle|cousin|friend|fiance|fiancee|partner|"
    r"boyfriend|girlfriend|significant\sother|s\.o\.?|hcp|proxy|guardian|caregivers?|care\sgivers?|neighbou?rs?|"
    r"roommate|lawyer|attorney|per|as\sper|spoke\s(?:with|to)|"
    r"talked\s(?:with|to)|discussed\swith|d/w|paged|called|notified|informed|updated|seen\sby|examined\sby|"
    r"reach|reached|left\s(?:a\s)?(?:message|msg|vm)\s(?:for|with)|message\sleft\sfor|"
    r"covering|by|with|to|and|&)(?:,?\s{1,3}|(?<=(?i:dr|mr|mrs|ms))\.\s{0,3})(?:\(|\")?"
)
# A team, a consulting service or a role, then names in brackets: "renal (Maloof)", "team (Quist/Ferraro)".
_SERVICE_PARENS = regex.compile(
    r"(?<![\p{L}])(?i:team|teams|service|consult|consults|renal|nephro|cards|cardiology|gi|surgery|surg|ortho|"
    r"neuro|neurology|neurosurg|nsurg|id|pulm|pulmonary|heme|onc|heme/onc|psych|psychiatry|derm|ent|urology|uro|"
    r"anesthesia|ho|resident|residents|intern|fellow|attending|md|mds|np|pa|covering|pcp|pmd|rn|"
    # a family and its members: "family (Gina/Rob) aware", "husband (Ray) updated"
    r"family|wife|husband|spouse|daughters?|dtrs?|sons?|sisters?|brothers?|niece|nephew|friend|hcp|proxy|children|"
    r"caregivers?|neighbou?rs?|lawyer|attorney)"
    r"(?:\s{0,2}\(\s?(?P<names>[\p{L}][\p{L}'’-]+(?:\s?[/,&]\s?[\p{L}][\p{L}'’-]+){0,3})\s?\)"
    r"|(?<=(?i:team|attending|resident|intern|fellow|md|np|pa|rn|covering|pcp|pmd|consults?))"
    r":\s{1,2}(?P<names>[\p{L}][\p{L}'’-]+(?:\s?[/,&]\s?[\p{L}][\p{L}'’-]+){0,3})(?![\p{L}'’-]|\s\p{L}))"
)
_ROLE_AFTER = regex.compile(
    r",?\s{0,2}(?<![\p{L}])(?i:rn|rnc|np|md|rrt|pa|pa-c|crna|lpn|ho|pgy-?\d|resident|fellow)(?![\p{L}])"
    # ... or a service's role in brackets: "Brown (cards fellow)", "Small (micu resident)"
    r"|\s{1,2}\((?i:[a-z/]{2,10}\s)?(?i:fellow|resident|attending|intern|np|pa|md|rn)\)"
)
# Clinicians' titles written before a name as well as after it ("per NP Brown"; not "OT little progress").
_ROLE_TITLES = frozenset({"np", "rn", "pa", "md", "crna", "rrt"})
# A role that acts starts a clause ("LASIX GIVEN, RN TO FOLLOW K", "good. MD will see"); it signs nothing.
_ROLE_ACTS = regex.compile(r"\s{1,2}(?i:to|will|would|should|can|may|has|had|is|was|and|&|@|at|in)(?![\p{L}])")
# Words that qualify a role and are surnames too: "charge RN", "prior RN", "new NP" name nobody.
_ROLE_QUALIFIERS = frozenset(
    """
    charge float primary travel traveling agency bedside team oncoming previous prior admitting sending receiving
    covering senior junior student orientee preceptor relief triage resource night day evening new old main
    """.split()
)


def _capitalises_names(text: str) -> bool:
    """Mixed-case text, where a lower-case word after a title is a word ("Elevated PA numbers"), not a name as
    it may be in a note typed all in lower case ("per np brown"): among the first 2,000 letters at least 2%
    capitals and at least 30% lower case."""
    head = text[:2000]
    upper = sum(ch.isupper() for ch in head)
    lower = sum(ch.islower() for ch in head)
    return upper >= 0.02 * (upper + lower) and lower >= 0.3 * (upper + lower)


def _surname_beside_role(word: str) -> bool:
    """A census surname right before a clinician's role is the clinician's, even when it is an English word
    ("Brown RN", "care turned over to Small, RN"), as it is after "Dr"; not a role's qualifier ("charge RN")."""
    from copilot.ingest.redaction.names import census_last_share

    low = word.lower()
    if len(low) < 3 or low in _NOT_NAME or low in _ROLE_QUALIFIERS or low in _GENERIC:
        return False
    # one of the ~1,300 most common surnames (share >= 0.01%: "Brown", "Small", "Wood"); rarer ones that are
    # English words are words first ("Keep", "Given", "Line")
    return census_last_share().get(low.upper(), 0.0) >= 0.01 and not (len(low) <= 3 and is_clinical_word(word))


# What is said of a person right after the name ("Jones aware", "Rob called", "Tyro in to see pt"): the name
# must be a known one.
_SAID_AFTER = regex.compile(
    r"\s{1,2}(?:(?i:is|was|has\sbeen|made)\s{1,2})?(?i:aware|notified|informed|paged|called|updated|visited|visiting|"
    r"in\sto\ssee|at\sbedside|spoke|says|said|stated|states|wants|requests|requested)(?![\p{L}])"
)
# Words a cue can be followed by that are never the name: the grammar of shorthand notes.
# Function words: never a name, after any cue. Role words: never a name, except as a surname after "Dr".
_GRAMMAR = frozenset(
    "the a an and or of to at in on for with by from is was are were be been has had have it its as".split()
)
_ROLE_WORDS = frozenset({"ho", "md", "rn", "np", "pa", "pt"})
_NOT_NAME = frozenset(
    """
    the a an and or of to at in on for with by from is was are were be been has had have will would can could
    this that these those it its he she his her him they them their there here who whom which what when where
    aware notified informed updated called paged made also not no yes all any some each both other others
    pt pts patient patients family md rn np team staff unit floor ho house today tonight yesterday tomorrow
    am pm night day eve evening morning noc shift re regarding about about as per
    """.split()
)
_STRONG_CUES = regex.compile(
    r"(?i:dr|drs|doctor|md|np|rn|pa|rrt|nurse|pharmacist|therapist|sw|s/w|cm|case\smanager|social\sworker|rt|ot|"
    r"dietitian|dietician|nutritionist|interpreter|translator|cns|crna|lpn|cna|pct|mr|mrs|ms|miss|rabbi|priest|reverend|rev|fr|chaplain|attending|resident|"
    r"fellow|intern|pcp|pmd|wife|husband|spouse|daughters?|dtrs?|sons?|sisters?|brothers?|mother|mom|dad|niece|"
    r"nephew|grandson|granddaughter|aunt|uncle|cousin|friend|fiancee?|partner|boyfriend|girlfriend|"
    r"significant\sother|s\.o|hcp|proxy|guardian|caregivers?|care\sgivers?|neighbou?rs?|roommate|lawyer|attorney)$"
)
_INITIAL_NAME = regex.compile(r"[\p{Lu}]\.?\s{1,2}[\p{L}'’-]{3,}$")
_INITIAL_SURNAME = regex.compile(
    r"(?<![\p{L}\d.'’/])(?P<name>\p{Lu}\.?\s{1,2}(?P<surname>\p{Lu}[\p{L}'’-]{2,}))(?![\p{L}])"
)
_NAME_PART = regex.compile(r"[\p{L}][\p{L}'’]{3,}")
_FACILITY_PART = regex.compile(r"[\p{L}]{4,}")
_HEAD_BEFORE = regex.compile(
    r"(?:(?<![\p{L}])(?P<first>[\p{L}]\.?|[\p{L}][\p{L}'’-]+)\s{1,2})?(?P<last>[\p{L}][\p{L}'’-]+)$"
)


def _occurrences(text: str, words: set[str], whole: bool) -> list[tuple[int, int]]:
    """Case-insensitive occurrences of lower-case ``words`` in ``text``; ``whole``: not inside a longer word."""
    if not words:
        return []
    low = text.lower()
    if len(low) != len(text):  # a few characters change length when lowered ("İ"): keep the offsets exact
        pattern = "|".join(regex.escape(w) for w in words)
        rx = rf"(?<![\p{{L}}])(?i:{pattern})(?![\p{{L}}])" if whole else rf"(?i:{pattern})"
        return [m.span() for m in regex.finditer(rx, text)]
    out = []
    for w in words:
        pos = low.find(w)
        while pos >= 0:
            end = pos + len(w)
            alone = (pos == 0 or not text[pos - 1].isalpha()) and (end == len(text) or not text[end].isalpha())
            if alone or not whole:
                out.append((pos, end))
            pos = low.find(w, pos + 1)
    return out


_NUMBER_BEFORE = regex.compile(r"\d\s?$")
_UNIT_CUES = frozenset({"cm", "fr", "ms"})  # case manager, Father, Ms; after a number: cm, French, milliseconds
_LINK = regex.compile(r"\s{0,2}(?:&|and)\s{1,2}")
_LIST_LINK = regex.compile(r"\s{0,2}(?:,|and|&)\s{1,2}(?P<title>(?i:(?:dr|dtr|md|np|rn)\.?\s{1,2}))?")
_AFTER_INITIAL = regex.compile(r"\.?\s{1,2}")
_GAP = regex.compile(r"[ \t]{1,2}")
# A signature's words may be glued to a dash or an initial's dot ("--Kowalczyk, RN", "-K.Nguyen rn").
_WORD_BEFORE = regex.compile(r"(?:^|(?<=[\s(.-]))([\p{L}][\p{L}'’-]*)\.?\s{0,2}$")
_LETTER_WORD = regex.compile(r"[\p{L}][\p{L}'’-]*")
_HONORIFIC = regex.compile(r"(?i:dr|drs|doctor|mr|mrs|ms|miss|rabbi|rev|reverend|fr)")
_NAME_TOKEN = regex.compile(r"(?P<w>[\p{L}](?:[\p{L}'’-]*[\p{L}])?)(?P<dot>\.)?")


_CUE_WORDS = frozenset(
    """
    wife husband spouse daughter daughters son sons sister sisters brother brothers mother father niece nephew
    grandson granddaughter aunt uncle cousin friend fiance fiancee partner boyfriend girlfriend guardian nurse
    doctor resident fellow attending pharmacist therapist chaplain family caregiver neighbor neighbour roommate
    lawyer attorney
    """.split()
)


@lru_cache(maxsize=16_384)
def _misspelt_cue(low: str) -> bool:
    """A relative or role word typed with one slip ("neice", "daugther", "husbnad"): not a name."""
    return len(low) >= 4 and low.isalpha() and low not in _CUE_WORDS and bool(_edits1(low) & _CUE_WORDS)


_APOSTROPHE_NAME = regex.compile(r"(?i:[a-z]['’][a-z]{2,})")
_PAST_TENSE = regex.compile(r"['’]e?d$")
_NAME_PIECE = regex.compile(r"[\p{L}][\p{L}'’.-]*")


def ordinary_word(word: str) -> bool:
    """A common English word that is not mostly a name ("declined" yes; "Logan", "Rakusin" no)."""
    from copilot.ingest.redaction.names import first_name_strength, is_common_word, surname_strength

    if _APOSTROPHE_NAME.fullmatch(word):
        return False  # "o'hara", "D'Angelo": wordfreq splits them into ordinary pieces
    w = word.capitalize()
    return is_common_word(word) and first_name_strength(w) < 2 and surname_strength(w) < 2


def _titled_name(word: str) -> bool:
    """A Title-case word that is no clinical, misspelt or ordinary word ("Delaney" in "Marcus Delaney")."""
    return word[:1].isupper() and not word.isupper() and not is_not_a_name(word) and not ordinary_word(word)


def _listed_name(word: str) -> bool:
    """A Title-case word (not upper case) of three letters or more that is no clinical, ordinary or grammar word."""
    low = word.lower()
    return (
        len(word) >= 3
        and word[:1].isupper()
        and word[1:].islower()
        and low not in _GRAMMAR
        and low not in _NOT_NAME
        and not _STRONG_CUES.fullmatch(low)
        and not is_clinical_word(word)
        and not ordinary_word(word)
    )


def _name_word(word: str, strong: bool, honorific: bool = False) -> bool:
    """A word that may be a name after a cue: no shorthand grammar and no clinical word ("PA line", "wife
    states" stay). After an honorific a census surname counts even when it is a word ("DR. GREEN"); after a
    weak cue ("per", "called") only a known name."""
    from copilot.ingest.redaction.names import census_first_share, census_last_share

    low = word.lower()
    if len(low) < 2 or low in _GRAMMAR:
        return False
    if honorific and low in _ROLE_WORDS and low.upper() in census_last_share():
        return True  # "Dr Ho": after an honorific a short surname, not the house officer
    if low in _NOT_NAME:
        return False
    if honorific:
        # "DR TYRO", "DR. GREEN"; not "DR. ICU", "MS INCISION" (mental status), "MS, THEREFORE"
        if is_clinical_word(word) and len(low) <= 3:
            # "DR. NG", "Dr Ho": a short census surname after an honorific; not "DR. ICU", "MS OR"
            return low.upper() in census_last_share() and low not in _GENERIC
        return not ordinary_word(word) or low.upper() in census_last_share() or not is_not_a_name(word)
    if _STRONG_CUES.fullmatch(low) or _PAST_TENSE.search(low) or _misspelt_cue(low):
        return False  # "wife, son", "neice": another relative; "dc'd", "sx'd": shorthand verbs
    if strong:
        # "SON ROB", "DTR ANN": a census first name, even a short word; not an ordinary English word
        # ("declined", "trumpet", "unstable": the vocabulary lists few inflections)
        if len(low) >= 3 and low.upper() in census_first_share():
            return True
        if len(low) == 2 and word[0].isupper() and word[1].islower() and low.upper() in census_first_share():
            return True  # "son Ed", "husband Al": a two-letter first name written as a name
        return not is_not_a_name(word) and not ordinary_word(word)
    return known_name(word)


class ClinicalNameRecognizer(_ClinicalRecognizer):
    """Clinicians' and relatives' names after clinical cues, in any case: "dr. chen and dr. murray", "per d
    ross", "dtr laverne", "daughters sarah and margie", "HERMAN W. EMPERATRICE, RRT", "mary o'hara np aware"."""

    NAME = "ClinicalNameRecognizer"

    ENTITY = "PERSON"

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        out: list[RecognizerResult] = []
        try:
            out.extend(self._after_cues(text))
            out.extend(self._before_roles(text))
            out.extend(self._before_said(text))
            out.extend(self._initial_surnames(text))
            if "(" in text or ":" in text:
                out.extend(self._in_parentheses(text))
            out.extend(self._mentions(text, out))
        except TimeoutError:
            logger.warning("clinical name regex timed out on a %d-char window", len(text))
        return out

    def _mentions(self, text: str, found: list[RecognizerResult]) -> list[RecognizerResult]:
        """Every other mention of a name word found after a cue ("Dr. Tyro ... per Tyro ... TYRO AWARE")."""
        words = {
            w.lower()
            for r in found
            if r.score >= 0.8
            for w in _NAME_PART.findall(text, r.start, r.end)
            if not is_not_a_name(w) and w.lower() not in _NOT_NAME and not _STRONG_CUES.fullmatch(w.lower())
        }
        return [_result(self.ENTITY, a, b, 0.7, self.NAME) for a, b in _occurrences(text, words, whole=True)]

    @staticmethod
    def _before_said(text: str) -> Iterator[RecognizerResult]:
        """A known name (with an initial or a first name before it) right before "aware", "called"..."""
        for m in all_matches(_SAID_AFTER, text):
            head = _HEAD_BEFORE.search(text[max(0, m.start() - 40) : m.start()])
            if head is None:
                continue
            base = max(0, m.start() - 40)
            last = head.group("last")
            if last.lower() in _NOT_NAME or _STRONG_CUES.fullmatch(last.lower()) or not known_name(last):
                continue
            start = base + head.start("last")
            first = head.group("first")
            if first and (len(first.rstrip(".")) == 1 or known_name(first)) and first.lower() not in _NOT_NAME:
                start = base + head.start("first")
            yield _result("PERSON", start, m.start(), 0.7, "ClinicalNameRecognizer")

    def _after_cues(self, text: str) -> Iterator[RecognizerResult]:
        for m in all_matches(_NAME_CUE, text):
            raw = m.group().strip(' \t\n(",')
            cue = raw.rstrip(".").removesuffix("'s")
            strong = bool(_STRONG_CUES.search(cue))
            honorific = bool(_HONORIFIC.fullmatch(cue))
            if cue.lower() in {"by", "with", "to", "and", "&"}:
                continue  # only as the link of a list that a strong cue opened (below)
            if raw.endswith(".") and not honorific:
                continue  # "daughter. states felt like": the cue ended a sentence
            if cue.lower() in _UNIT_CUES and _NUMBER_BEFORE.search(text, max(0, m.start() - 2), m.start()):
                continue  # "23cm mark", "#16 FR FOLEY": a unit after a number (centimetres, French gauge)
            if cue.lower() == "ms" and cue != "Ms" and not raw.endswith("."):
                # "ms contin", "10mg ms given", "MS back to baseline": morphine or mental status; a known name
                # only ("MS JONES"; "ms. Quinn" keeps its honorific)
                strong = honorific = False
            span = self._run(text, m.end(), strong, honorific)
            if (
                span is not None
                and cue.lower() in _ROLE_TITLES
                and text[span[0] : span[1]].islower()
                and _capitalises_names(text)
            ):
                continue  # "Elevated PA numbers": in mixed-case text a name after a title has capitals
            if span is None and cue.lower() in _ROLE_TITLES:
                # "per NP Brown", "RN SMALL": a common surname right after a clinician's title, as before one
                tok = _NAME_TOKEN.match(text, m.end())
                if (
                    tok is not None
                    and _surname_beside_role(tok.group("w"))
                    and not _SAID_AFTER.match(text, tok.end())
                    and not (tok.group("w").islower() and _capitalises_names(text))
                ):
                    span = (tok.start("w"), tok.end("w"))
            if span is None and strong and not honorific:
                # "SISTER & CHARLIE": another person joined to the cue; a known name only ("wife and son" stays)
                link = _LINK.match(text, m.end())
                if link is not None:
                    span = self._run(text, link.end(), False)
            while span is not None:
                yield _result(self.ENTITY, span[0], span[1], 0.85 if strong else 0.7, self.NAME)
                # "daughters sarah and margie", "dr. chen and dr. murray": the list goes on.
                nxt = _LIST_LINK.match(text, span[1])
                if nxt is None:
                    break
                # The list goes on with the cue's strength; an honorific only where it is repeated ("dr. chen
                # and dr. murray"; not "dr. o'connell and declined").
                again = bool(nxt.group("title")) and honorific
                span = self._run(text, nxt.end(), strong or honorific, again, listed=honorific)

    @staticmethod
    def _run(
        text: str, pos: int, strong: bool, honorific: bool = False, listed: bool = False
    ) -> tuple[int, int] | None:
        """Up to three name words (an initial may stand first or in the middle) from ``pos``. ``listed``: the
        run goes on a list an honorific opened ("Dr. Rakusin and Toolis"), where a Title-case word that is no
        clinical or ordinary word is a name even when it is one slip from a vocabulary word."""
        end = None
        start = pos
        words = 0
        initials = 0
        p = pos
        while words + initials < 3:
            m = _NAME_TOKEN.match(text, p)
            if m is None:
                break
            w = m.group("w")
            if len(w) == 1 and w.isalpha():
                # An initial: "d ross", "E. WELSH", "HERMAN W. EMPERATRICE"
                nxt = _AFTER_INITIAL.match(text, m.end("w"))
                if nxt is None or initials:
                    break
                initials += 1
                p = nxt.end()
                continue
            head, _, tail = w.partition("-")
            if tail and head and (tail.lower() in _GRAMMAR or ordinary_word(tail)) and _name_word(head, strong):
                # "son Rob-who states", "dtr ANN-WILL CALL": the name, then shorthand glued on with a dash
                return start, m.start("w") + len(head)
            if not _name_word(w, strong, honorific) and not (listed and not words and _listed_name(w)):
                break
            if words and not (known_name(w) or _titled_name(w)):
                break  # "Dr. Ferreira recs vanc": only names go on a name
            words += 1
            end = m.end("w")
            gap = _GAP.match(text, end)
            if gap is None:
                break
            p = gap.end()
        if end is None:
            return None
        return start, end

    @staticmethod
    def _in_parentheses(text: str) -> Iterator[RecognizerResult]:
        """Names in brackets after a team, a service or a role: "seen by renal (Maloof)", "team (Quist/Ferraro)
        aware", "MD (Pfeiffer) paged". Each name a known one or a Title-case word no vocabulary knows."""
        from copilot.ingest.redaction.names import _key, census_last_share

        for m in all_matches(_SERVICE_PARENS, text):
            names = list(_NAME_TOKEN.finditer(m.group("names")))
            words = [n.group("w") for n in names]
            colon = text[m.start("names") - 2 : m.start("names")].lstrip().startswith(":")
            named = [known_name(w) or _listed_name(w) for w in words]
            if (
                words
                and all(
                    # a census surname that is also a clinical word ("Cho") beside a name: a list of names
                    (ok or (len(words) > 1 and any(named) and len(w) >= 3 and _key(w) in census_last_share()))
                    and (w[:1].isupper() or not colon)
                    and w.lower() not in _GRAMMAR
                    and not _STRONG_CUES.fullmatch(w.lower())
                    for w, ok in zip(words, named, strict=True)
                )
            ):
                base = m.start("names")
                for n in names:
                    yield _result("PERSON", base + n.start("w"), base + n.end("w"), 0.75, "ClinicalNameRecognizer")

    @staticmethod
    def _initial_surnames(text: str) -> Iterator[RecognizerResult]:
        """An initial and a census surname that is no clinical word: "Z. MILLER AWARE", "J SMITH ORDERED"."""
        from copilot.ingest.redaction.names import _key, census_last_share, surname_strength

        for m in all_matches(_INITIAL_SURNAME, text):
            if m.group("name")[:2] in ("W ", "W\t", "W\n"):
                continue  # "W SEVER 3VD", "PROX W BRIDE COLLATERALS": "w" without a dot is "with"
            sur = m.group("surname")
            if sur.lower() in _NOT_NAME or _key(sur) not in census_last_share():
                continue
            if not is_clinical_word(sur) or (len(sur) > 3 and surname_strength(sur.capitalize()) == 2):
                yield _result("PERSON", m.start("name"), m.end("name"), 0.75, "ClinicalNameRecognizer")

    @staticmethod
    def _before_roles(text: str) -> Iterator[RecognizerResult]:
        """One to three name words and initials right before ", RN", " NP", " RRT" ("carol wolfe rn"), one of
        them a known name ("nasal trumpet, md aware" stays)."""
        for m in all_matches(_ROLE_AFTER, text):
            end = m.start()
            start = None
            pos = end
            count = 0
            surname = False
            while count < 3:
                w = _WORD_BEFORE.search(text[max(0, pos - 40) : pos])
                if w is None:
                    break
                word = w.group(1)
                ws = max(0, pos - 40) + w.start(1)
                # "a-line, md aware": a role that is told something starts a clause, it signs nothing
                beside = (
                    count == 0
                    and not _SAID_AFTER.match(text, m.end())
                    and not _ROLE_ACTS.match(text, m.end())
                    and _surname_beside_role(word)
                )
                if not (len(word) == 1 or beside or _name_word(word, strong=True)):
                    break
                surname = surname or beside
                start = ws
                pos = ws
                count += 1
            if start is not None and (
                surname or has_known_name(text[start:end]) or _INITIAL_NAME.match(text[start:end])
            ):
                s = start
                while s < end and not text[s].isalpha():
                    s += 1
                yield _result("PERSON", s, end, 0.8, "ClinicalNameRecognizer")


_FACILITY_WORD = (
    r"(?i:hospital|hosp|medical\scenter|med\scenter|medical|memorial|campus|rehab|rehabilitation|nursing\shome|"
    r"health\scenter|healthcare|health|clinic|infirmary|general|regional|mc|hc|building|bldg|pavilion|center|centre)"
)
_MOTION = (
    r"(?i:transfer(?:r?ed)?|trans|xfer(?:r?ed)?|admitted|adm|readmitted|brought|went|sent|returned|return|"
    r"med-?flighted|flighted|flown|presented|came|rec'?d|recei?ved|discharged|d/?c'?d|moved|taken|transported|"
    r"works?|working|employed|seen|treated|arrived|intubated|found|code\scalled|called|back|"
    r"was|were|been|stayed|stays|lives|lived|living|resides|resided|took|brings|bring|sends|send|"
    # a family's travel: "daughter flying in from Texas", "son driving up from harford county"
    r"driv(?:e|es|ing|en)|drove|fl(?:y|ies|ying|ew)|com(?:e|es|ing)|travel(?:s|ed|led|ing|ling)?|"
    r"visit(?:s|ed|ing)?|head(?:s|ed|ing)|"
    # where a patient is from: "70 yo M from Towson" (with "from" only)
    r"(?<=\d\s?)(?:yo|y/o|y\.o\.?|year[- ]old)(?:\s{1,2}(?:m|f|male|female|man|woman|gentleman|lady))?)"
)
_AGE = regex.compile(r"(?i:yo|y/o|y\.o\.?|year[- ]old)(?:\s{1,2}\p{L}+)?")
# Verbs of being somewhere: a place follows "at" or "in" only ("was at Harborview"; not "lives on the north side").
_STATIVE = regex.compile(
    r"(?i:was|were|been|stayed|stays|lives|lived|living|resides|resided)"
)
_PREP = r"(?i:to|from|at|in|on|for|by)"
_FAC_TOKEN = r"[\p{L}](?:[\p{L}'’.-]*[\p{L}])?(?![\p{L}\d-])"
_AFTER_MOTION = regex.compile(
    rf"(?<![\p{{L}}])(?P<verb>{_MOTION})\s{{1,3}}(?:(?i:pt|patient|him|her|them)\s{{1,2}})?"
    rf"(?:(?i:back|over|up|down|in|home|here)\s{{1,2}})?"
    rf"(?P<prep>{_PREP})\s{{1,3}}(?:(?i:the)\s{{1,2}})?"
    rf"(?:\d{{1,4}}[A-Za-z]?\s{{1,2}})?(?P<cand>{_FAC_TOKEN}(?:\s{{1,2}}{_FAC_TOKEN}){{0,3}})"
)
# "X Memorial", "St Mary hospital": a facility word, then up to three words before it (searched backwards from
# the facility word: one pass over the text instead of a name pattern tried at every position).
_FACILITY_WORD_RX = regex.compile(_FACILITY_WORD)
_FACILITY_AT = regex.compile(rf"(?<![\p{{L}}]){_FACILITY_WORD}(?![\p{{L}}])")
_NAME_BEFORE = regex.compile(
    rf"(?<![\p{{L}}])(?P<name>(?:(?i:st\.?|saint)\s{{1,2}})?{_FAC_TOKEN}(?:\s{{1,2}}{_FAC_TOKEN}){{0,2}})\s{{1,2}}$"
)
_UNIVERSITY = regex.compile(
    r"(?<![\p{L}])(?:(?i:university|univ)\.?\s(?i:of)\s|(?i:u)\.?\s(?:(?i:of)\s)?)(?P<name>[\p{L}]{2,})(?![\p{L}])"
)
# "St. Agnes", "ST JOSEPH'S", "Saint Vincent": a saint's name (a known first name) names a hospital; not
# "ST elevation", "St. John's wort".
_SAINT = regex.compile(
    r"(?<![\p{L}])(?:St|ST|Saint|SAINT)\.?\s{1,2}(?P<name>\p{Lu}[\p{L}]+)(?:['’](?i:s))?(?![\p{L}])"
)
# "Mount Auburn", "MT. SINAI", "Mt Airy": a mountain's name names a town or a hospital.
_MOUNT = regex.compile(r"(?<![\p{L}])(?:Mount|MOUNT|Mt|MT)\.?\s{1,2}(?P<name>\p{Lu}[\p{L}'’]+)(?![\p{L}])")
_WORT = regex.compile(r"(?:['’](?i:s))?\s{1,2}(?i:wort)")
# "to GH cath lab", "at BIDMC ICU": an acronym before a unit of care names the hospital.
_ACRONYM_BEFORE_UNIT = regex.compile(
    r"(?<![\p{L}])(?i:to|at|from|in)\s{1,2}(?P<name>[A-Za-z]{1,5})\s{1,2}(?i:cath|er|ed|ew|icu|ccu|micu|sicu|or|"
    r"hospital|campus|clinic|rehab)(?![\p{L}])"
)
# "from SVMC", "to NEBH", "from the GBMC": a hospital's acronym after a place preposition.
_ACRONYM_AFTER_PREP = regex.compile(
    r"(?<![\p{L}])(?i:to|at|from|in|into)\s{1,2}(?:(?i:the)\s{1,2})?(?P<name>[A-Z]{2,5})(?![\p{L}\d])"
)
_US_STATE = (
    r"AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|"
    r"OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
# "from Middle River, MD": a town before a state code.
_TOWN_STATE = regex.compile(
    rf"(?P<name>\p{{Lu}}[\p{{Ll}}]+(?:\s\p{{Lu}}[\p{{Ll}}]+){{0,2}}),\s(?:{_US_STATE})(?![\p{{L}}])"
)
# Facility words that belong to the name ("FREDERICK MEMORIAL"); "Hospital", "Medical Center" do not.
_NAME_FACILITY_WORD = regex.compile(r"\s{1,2}(?i:memorial|general|infirmary)(?![\p{L}])")
_WARD = regex.compile(
    rf"(?<![\p{{L}}])(?i:on|to|in|at|from)\s{{1,2}}(?P<name>{_FAC_TOKEN})\s{{1,2}}\d{{1,2}}(?!\d|\.\d|[%:/\p{{L}}])"
)
_PLACE_LINK = regex.compile(r"\s{0,2}(?:,|&|(?i:and|or))\s{1,2}")
_FAC_WORD_AT = regex.compile(r"[\p{L}][\p{L}'’]*(?![\p{L}\d'’-])")
_FACILITY_AFTER = regex.compile(rf"\s{{1,2}}{_FACILITY_WORD}(?![\p{{L}}])")
_ACRONYM_FACILITY = regex.compile(r"^(?:[A-Za-z]{0,4}[Hh]|[A-Za-z]{1,3}(?:MC|mc|HC|hc)|VA|VAMC|VAH)$")
# Generic places of care: where a patient goes, not which hospital ("transferred to the floor", "OSH").
_GENERIC = frozenset(
    """
    osh er ed ew or ir icu ccu micu sicu csru picu nicu cvicu pacu cath lab floor home rehab unit hospital
    room bed nursing home nh snf ltac ltach vna hospice morgue ct mri us echo ep cardiology radiology dialysis
    ward emergency department the a an this that his her their our same other outside another shelter
    """.split()
)
_FACILITY_STOP = _NOT_NAME | _GENERIC
_TOWN_TOKEN = regex.compile(r"(?<![\p{L}\d'’-])[\p{L}][\p{L}'’.-]*[\p{L}](?![\p{L}\d'’-])")

# Words that name a kind of facility, not which one ("the community hospital", "a teaching hospital").
_GENERIC_FACILITY_NAMES = frozenset(
    """
    community general county state city university teaching local regional district children's women's
    veterans outside other nearby affiliated private public psychiatric psych rehabilitation acute chronic
    """.split()
)


# Words naming a kind of care or a specialty, or no place at all: "the heart hospital", "TO DIALYSIS CENTER",
# "the main hospital" name no hospital.
_KIND_OF_CARE = frozenset(
    """
    cancer heart cardiac cardiology cardiovascular eye ear children childrens women womens pediatric pediatrics
    psychiatric psychiatry psych mental behavioral rehab rehabilitation dialysis kidney renal orthopedic
    orthopaedic ortho surgical surgery trauma burn burns veterans va nursing care day urgent emergency medical
    health family specialty acute chronic subacute skilled geriatric maternity hospice neuro neurology oncology
    stroke spine wound pain sleep vascular lung chest transplant infectious diseases main new old same
    """.split()
)
# A hospital's own head words: a name written before them names a hospital even when it is an English word
# ("TRANSFERRED FROM HARBOR HOSPITAL", "to mass general"); "center", "clinic", "health" may name a service.
_HOSPITAL_HEAD = regex.compile(r"(?i:hospital|hosp|medical\scenter|med\scenter|memorial|general|regional|infirmary)")
_PLACE_PREP_BEFORE = regex.compile(r"(?<![\p{L}])(?i:to|from|at|in|into)\s{1,2}(?:(?i:the)\s{1,2})?$")


def _english_named_hospital(text: str, start: int, head: str, names: list[str]) -> bool:
    """Words before a hospital's head word that are English words, not a kind of care, after a place
    preposition: "ADMITTED TO HARBOR HOSPITAL", "from peninsula regional" (upper- and lower-case notes, where
    capitals cannot tell "Harbor" the name from "harbor" the word)."""
    if not _HOSPITAL_HEAD.fullmatch(head) or not _PLACE_PREP_BEFORE.search(text, max(0, start - 20), start):
        return False
    return all(
        len(w) >= 3
        and w.lower() not in _KIND_OF_CARE
        and w.lower() not in _GENERIC_FACILITY_NAMES
        and w.lower() not in _FACILITY_STOP  # grammar and generic places of care too
        for w in names
    )


_RESIDES = regex.compile(r"(?i:lives|lived|living|resides|resided)")


def _facility_words(cand: str, resides: bool = False) -> list[tuple[int, int]]:
    """The leading words of a candidate after a motion cue that name a facility: unknown words (no clinical
    vocabulary, no grammar), facility acronyms ("GH", "VAMC") and places ("new haven"). ``resides``: the cue
    was "lives in", after which a town of the gazetteer counts even when it is an English word ("lives in
    columbia", "LIVES IN READING")."""
    from copilot.ingest.redaction.places import is_place, is_region

    toks = [(m.start(), m.end(), m.group()) for m in _LETTER_WORD.finditer(cand)]
    keep: list[tuple[int, int]] = []
    for i, (s, e, w) in enumerate(toks):
        low = w.lower()
        if low in _FACILITY_STOP:
            break
        if _ACRONYM_FACILITY.match(w) and (w.isupper() or (w.islower() and len(w) <= 3)) and low not in _GENERIC:
            keep.append((s, e))
            continue
        if not is_not_a_name(w) and not (low in clinical_vocabulary() and len(low) <= 3):
            keep.append((s, e))
            continue
        if len(keep) == 1 and i == 1 and (w.isupper() == toks[0][2].isupper()) and len(low) > 3:
            keep.append((s, e))  # "HOLY CROSS", "holy cross": a two-word name after an unknown first word
            break
        phrase = " ".join(t[2] for t in toks[i : i + 2])
        if i + 1 < len(toks) and is_place(phrase.title()):
            keep.extend([(s, e), (toks[i + 1][0], toks[i + 1][1])])
            break
        if not keep and len(w) >= 4 and (is_region(w) or (resides and is_place(w))):
            keep.append((s, e))  # "son lives in florida", "FROM TEXAS": a state or a country, in any case
            break
        if keep and _FACILITY_WORD_RX.fullmatch(w):
            keep.append((s, e))
            continue
        break
    return keep


_PHONE_SHORTHAND = regex.compile(
    # area code and number, any separators, a dash doubled by a slip ("617 - 555 - 1234", "(617)-555-1234",
    # "617555-1234", "617--555-1234"), an optional leading 1 or +1 and extension
    # not inside a longer run of numbers ("3/617-555-1234", "1234-5678-9012"); a letter may be glued on
    # ("w/617-555-1234", "617-555-1234-home")
    r"(?<!\d)(?<!\d[/-])(?<!\d\.)(?:\+?1[\s.-]?)?\(?\d{3}\)?\s?[\s./-]?-?\s?\d{3}\s?[\s.-]?-?\s?\d{4}"
    r"(?:\s?(?i:x|ext\.?)\s?\d{1,5})?"
    r"(?!\d|-\d|\.\d)"
    # a pager or an extension after its word, maybe with a colon and "#" ("Pager: #12345", "PG 23456")
    r"|(?<![\p{L}])(?:(?i:pager|beeper|bpr|pgr|pg|ext|page[ds]?(?:\s(?:at|to))?)\.?:?\s?#?\s?|x)(?:\d{1,2}-\d{4}|\d{4,5})"
    r"(?![\d-])"
)
# A local number "555-2231": a phone where a phone word is near, or where it cannot be a range of values
# ("500-1000", "930-1130" are; an upper bound never starts with 0 and is never below the lower one).
# An in-house extension "5-1234" likewise, but only beside a phone word.
_LOCAL_NUMBER = regex.compile(r"(?<![\d./-])(?P<a>\d{1,3})(?P<sep>[-.\s]?)(?P<b>\d{4})(?![\d-]|\.\d)")

_PHONE_WORD = regex.compile(
    r"(?<![\p{L}])(?i:call|called|phone|ph|tel|cell|home|work|#|@|number|no\.|reach|reached|contact|pager|beeper"
    r"|paged?|paging|fax|wife|husband|spouse|sons?|daughters?|dtrs?|sisters?|brothers?|mother|father|niece|nephew"
    r"|family|friend)"
    r"[^\n]{0,30}$"
)


# Ten digits as a person groups them when reading a number out ("617 555 12 34", "617-55-51234"): groups of two to
# five digits, nothing else between them but one or two separators. A phone only beside a phone word, and only
# when the digits are a valid North American number (area code and exchange never start with 0 or 1).
_GROUPED_DIGITS = regex.compile(
    r"(?<![\d./-])(?:\+?1[\s.-]{1,2})?\(?\d{2,5}\)?(?:[\s.-]{1,2}\d{2,5}){1,4}(?!\d|[./-]\d)"
)


# A pager number a few words after its word ("pager number 12345", "beeper # is 23456", "paged x 2 at 45678",
# "Pager 12345/67890"): five digits, within the same clause. Four digits only right after the word (the rule
# above): after "paged ... at" four digits are a time of day ("paged MD at 0300").
_PAGER_WORD = regex.compile(r"(?<![\p{L}])(?i:pager|beeper|bpr|pgr|paged?|paging)(?![\p{L}])")
_PAGER_CLAUSE = regex.compile(r"[^\n;!?]{0,30}?(?:(?<!(?<![\p{L}])(?i:no|num))\.(?=\s)|[\n;!?]|$)|[^\n;!?]{0,30}")
_FIVE_DIGITS = regex.compile(r"(?<![\d.,-])\d{5}(?![\d]|[.,]\d|-\d)")
# An extension written "x 4567" after a phone word: "x" and four or five digits (never "x 2", a count).
_SPACED_EXTENSION = regex.compile(r"(?<![\p{L}\d])[xX]\s(?P<n>\d{4,5})(?![\d]|[.,]\d)")


def _phone_word_before(text: str, start: int) -> bool:
    """A phone word ("call", "wife", "#", "pager", ...) within the 40 characters before ``start``."""
    return _PHONE_WORD.search(text[max(0, start - 40) : start]) is not None


def _north_american(value: str) -> bool:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    return len(digits) == 10 and digits[0] in "23456789" and digits[3] in "23456789"


_UNIT_AFTER = regex.compile(
    r"\s?(?i:cc|ml|mls|mg|mcg|g|kg|l|u|units?|meq|mmol|mmhg|min|hrs?|am|pm|%)(?![\p{L}])"
)


def _no_range(text: str, m: Any) -> bool:
    """A local number that cannot be a range of values: the second part starts with 0 or is below the first,
    or (dash only) a three-digit exchange (never 0 or 1 first) and a number with no unit after that is at
    least five times it ("482-5518"), or at least twice it with neither end round ("555-1234"). Ranges in
    notes stay within a few-fold, and the wider ones are round: "500-1000", "200-800cc", "882-1326"."""
    a, b = int(m.group("a")), int(m.group("b"))
    if m.group("b").startswith("0") or a > b:
        return True
    if m.group("sep") != "-" or len(m.group("a")) != 3 or m.group("a")[0] in "01":
        return False
    if _UNIT_AFTER.match(text, m.end()):
        return False
    return b >= 5 * a or (b >= 2 * a and a % 10 != 0 and b % 10 != 0)


class ShorthandPhoneRecognizer(_ClinicalRecognizer):
    """Phone and pager numbers as notes write them: "202 2671093", "beeper #4431", "x5523"."""

    NAME = "ShorthandPhoneRecognizer"
    ENTITY = "PHONE_NUMBER"

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        try:
            out = []
            for m in all_matches(_PHONE_SHORTHAND, text):
                start, value = m.start(), m.group()
                if value[0].isalpha() and not (value[0] in "xX" and value[1:2].isdigit()):
                    start += next(i for i, c in enumerate(value) if c.isdigit())  # "pager 38123": the number
                out.append(_result("PHONE_NUMBER", start, m.end(), 0.7, self.NAME))
            for m in all_matches(_LOCAL_NUMBER, text):
                a = m.group("a")
                cue = _phone_word_before(text, m.start())
                if len(a) < 3 and not (cue and m.group("sep") == "-"):
                    continue
                # "555 1234" and "5551234" only beside a phone word: spaces and bare digits separate values too
                if cue or (m.group("sep") in ("-", ".") and _no_range(text, m)):
                    out.append(_result("PHONE_NUMBER", m.start(), m.end(), 0.7, self.NAME))
            for m in all_matches(_GROUPED_DIGITS, text):
                if _north_american(m.group()) and _phone_word_before(text, m.start()):
                    out.append(_result("PHONE_NUMBER", m.start(), m.end(), 0.7, self.NAME))
            for m in all_matches(_PAGER_WORD, text):
                clause = _PAGER_CLAUSE.match(text, m.end())
                end = clause.end() if clause else m.end()
                for d in _FIVE_DIGITS.finditer(text, m.end(), end):
                    if not _UNIT_AFTER.match(text, d.end()):
                        out.append(_result("PHONE_NUMBER", d.start(), d.end(), 0.7, self.NAME))
            for m in all_matches(_SPACED_EXTENSION, text):
                if _phone_word_before(text, m.start()):
                    out.append(_result("PHONE_NUMBER", m.start("n"), m.end("n"), 0.7, self.NAME))
            return out
        except TimeoutError:
            logger.warning("phone regex timed out on a %d-char window", len(text))
            return []


class FacilityRecognizer(_ClinicalRecognizer):
    """Hospitals, wards and buildings in clinical text, and later mentions of them in the same text."""

    NAME = "FacilityRecognizer"

    ENTITY = "LOCATION"

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        spans: list[tuple[int, int, float]] = []
        try:
            for m in all_matches(_AFTER_MOTION, text):
                if _STATIVE.fullmatch(m.group("verb")) and m.group("prep").lower() not in ("at", "in"):
                    continue
                if _AGE.fullmatch(m.group("verb")) and m.group("prep").lower() != "from":
                    continue
                base = m.start("cand")
                resides = bool(_RESIDES.fullmatch(m.group("verb"))) and m.group("prep").lower() == "in"
                words = _facility_words(m.group("cand"), resides)
                if words:
                    spans.append((base + words[0][0], base + words[-1][1], 0.8))
            for f in all_matches(_FACILITY_AT, text):
                base = max(0, f.start() - 80)
                m = _NAME_BEFORE.search(text, base, f.start())
                if m is None:
                    continue
                name = m.group("name")
                all_toks = list(_NAME_PIECE.finditer(name))
                # Keep the tail of the name up to the first word of grammar ("ADMITTED TO | FREDERICK").
                toks: list[Any] = []
                for t in reversed(all_toks):
                    if t.group().lower().rstrip(".") in _FACILITY_STOP or t.group().lower() in _NOT_NAME:
                        break
                    toks.insert(0, t)
                names = [t.group() for t in toks if t.group().lower().rstrip(".") not in {"st", "saint"}]
                if not names or all(w.lower() in _GENERIC_FACILITY_NAMES for w in names):
                    continue  # "the community hospital", "County Hospital"
                titled = all(w[:1].isupper() and not w.isupper() for w in names)
                s = m.start("name") + toks[0].start()
                if (
                    not titled
                    and all(is_clinical_word(w) for w in names)
                    and not _english_named_hospital(text, s, f.group(), names)
                ):
                    continue  # "LIS FOR DIALYSIS CENTER": in upper- or lower-case text the words must be names
                e = m.start("name") + toks[-1].end()
                tail = _NAME_FACILITY_WORD.match(text, e)
                spans.append((s, tail.end() if tail else e, 0.75))
            if "st" in text.lower():
                for m in all_matches(_SAINT, text):
                    name = m.group("name")
                    if known_name(name) and not is_clinical_word(name) and not _WORT.match(text, m.end()):
                        spans.append((m.start(), m.end(), 0.75))
            for m in all_matches(_MOUNT, text):
                name = m.group("name")
                if name.lower() in _GRAMMAR or name.lower() in _FACILITY_STOP or len(name) < 3:
                    continue
                if name.isupper() and not m.group().startswith("MOUNT") and is_clinical_word(name):
                    continue  # "MT WITHOUT": in upper-case notes "MT" is shorthand too
                spans.append((m.start(), m.end(), 0.75))
            for m in all_matches(_UNIVERSITY, text):
                bare_u = not m.group().lower().startswith("univ")
                name = m.group("name")
                if name.lower() in {"the", "a", "an", "and", "or", "to", "of"}:
                    continue
                spelt_of = m.group().lower().startswith(("u of", "u. of"))
                if bare_u and not spelt_of and (len(name) < 3 or is_not_a_name(name)):
                    continue  # "P 2 U PC", "W/U. ON": a unit of blood, a work-up
                spans.append((m.start(), m.end(), 0.75))
            for m in all_matches(_ACRONYM_AFTER_PREP, text):
                w = m.group("name")
                if not _ACRONYM_FACILITY.match(w) or w.lower() in _GENERIC:
                    continue
                # "from SVMC", "to NEBH"; and a two- or three-letter "...H" that the vocabulary also knows as
                # shorthand ("to GH", "in GH": growth hormone is not where a patient goes), never a three-letter
                # word ("to ASH"; word lists count two letters such as "gh" as words, so those are not asked)
                short_h = w.endswith("H") and (len(w) == 2 or (len(w) == 3 and not ordinary_word(w)))
                if w.lower() not in clinical_vocabulary() or short_h:
                    spans.append((m.start("name"), m.end("name"), 0.7))
            for m in all_matches(_ACRONYM_BEFORE_UNIT, text):
                w = m.group("name")
                if _ACRONYM_FACILITY.match(w) and w.lower() not in _GENERIC and (w.isupper() or len(w) <= 3):
                    spans.append((m.start("name"), m.end("name"), 0.75))
            for m in all_matches(_TOWN_STATE, text):
                spans.append((m.start("name"), m.end("name"), 0.7))
            for m in all_matches(_WARD, text):
                w = m.group("name")
                if w.lower() in _FACILITY_STOP or is_not_a_name(w) or w.lower() in clinical_vocabulary():
                    continue
                if w.islower() and ordinary_word(w) and (_capitalises_names(text) or text.lstrip()[:1].isupper()):
                    continue  # "on caster 3", "to step 4": in cased text a ward's name has its capital
                spans.append((m.start("name"), m.end("name"), 0.7))
        except TimeoutError:
            logger.warning("facility regex timed out on a %d-char window", len(text))
        spans.extend(self._coordinated(text, spans))
        spans.extend(self._mentions(text, spans))
        return [_result(self.ENTITY, s, e, sc, self.NAME) for s, e, sc in spans]

    @staticmethod
    def _coordinated(text: str, spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
        """A second place joined to one found ("SCREENED BY BALTIMORE REHAB AND KIMBROUGH", "to Mercy or
        Sinai"): one word, cased like the place's last word, that no vocabulary or English knows."""
        out = []
        for s, e, _ in spans:
            tail = _FACILITY_AFTER.match(text, e)  # "BALTIMORE | REHAB AND KIMBROUGH"
            link = _PLACE_LINK.match(text, tail.end() if tail else e)
            if link is None:
                continue
            tok = _FAC_WORD_AT.match(text, link.end())
            if tok is None:
                continue
            w, last = tok.group(), text[s:e].split()[-1]
            if (w.isupper(), w.istitle()) != (last.isupper(), last.istitle()) or len(w) < 3:
                continue
            if w.lower() in _FACILITY_STOP or is_not_a_name(w) or ordinary_word(w):
                continue
            end = tok.end()
            head = _FACILITY_AFTER.match(text, end)
            out.append((tok.start(), head.end() if head else end, 0.7))
        return out

    @staticmethod
    def _mentions(text: str, spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
        """Every other mention of a facility word found above ("QUARTERMAIN3", "QuartermainBuilding")."""
        words = {
            w.lower()
            for s, e, _ in spans
            for w in _FACILITY_PART.findall(text, s, e)
            if not is_clinical_word(w) and w.lower() not in _FACILITY_STOP
        }
        out = [(a, b, 0.7) for a, b in _occurrences(text, words, whole=False)]
        # A hospital's acronym, found once, names it wherever the text writes it the same way ("to GH ... leave
        # GH ... GH attorneys"): whole words, in capitals, as found.
        acronyms = {
            text[s:e]
            for s, e, _ in spans
            if 2 <= e - s <= 5 and text[s:e].isupper() and _ACRONYM_FACILITY.match(text[s:e])
        }
        for a in acronyms:
            rx = rf"(?<![\p{{L}}\d]){regex.escape(a)}(?![\p{{L}}\d])"
            out.extend((m.start(), m.end(), 0.7) for m in regex.finditer(rx, text))
        return out


class TownRecognizer(_ClinicalRecognizer):
    """Towns and cities of the gazetteer without a cue (clinical text only: made for all-caps and lower-case
    notes, where capitals say nothing; Title-case towns are the place recognizer's)."""

    ENTITY = "LOCATION"
    NAME = "TownRecognizer"

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Towns and cities of the gazetteer without a cue, in any case ("RANDALLSTOWN", "Middle River"): one
        word that no vocabulary, English word or name list knows, or two or three words that together are a
        place, share one casing and are not all clinical words."""
        from copilot.ingest.redaction.places import is_place, place_prefixes

        prefixes = place_prefixes()
        toks = [(m.start(), m.end(), m.group()) for m in _TOWN_TOKEN.finditer(text)]
        out: list[tuple[int, int, float]] = []
        i = 0
        while i < len(toks):
            s, e, w = toks[i]
            low = w.casefold()
            taken = 0
            nxt = toks[i + 1][2].casefold() if i + 1 < len(toks) else ""
            if f"{low} {nxt}" in prefixes:  # only the two first words of a multi-word place are looked at more
                for n in (3, 2):
                    group = toks[i : i + n]
                    if len(group) < n or any(
                        text[a[1] : b[0]] not in (" ", "  ") for a, b in itertools.pairwise(group)
                    ):
                        continue
                    words = [g[2] for g in group]
                    same_case = len({(x.isupper(), x.islower(), x[:1].isupper()) for x in words}) == 1
                    if same_case and is_place(" ".join(words)) and not all_clinical_words(" ".join(words[1:])):
                        out.append((s, group[-1][1], 0.7))
                        taken = n
                        break
            if taken:
                i += taken
                continue
            if (
                len(w) >= 5
                and low not in _FACILITY_STOP
                and is_place(w)
                and not ordinary_word(w)
                and not known_name(w)
                and not is_not_a_name(w)
            ):
                # "RANDALLSTOWN": a town no vocabulary knows. A town Philter lists as a word ("annapolis") is
                # left to the place recognizer's cues and capitals: lower-case "from tube", "in oral" are words.
                out.append((s, e, 0.7))
            i += 1
        return [_result(self.ENTITY, s, e, sc, self.NAME) for s, e, sc in out]

"""The extractive answerer: no language model, deterministic, every sentence cited.

It splits the top passages into sentences (list items and table rows count as sentences), scores each against the
question by semantic similarity (the same embedding model, sentence prefixed by its section heading) and lexical
coverage of the question's content words — a question asking for a number prefers sentences holding one; a wide
table row also counts as close as its first cell with its closest other cell, since a question asks about one
column; a question for a cause prefers what a report found (its findings, its root cause), and a question that
looks a table up by an amount or a percentage the row whose range holds it — and takes the best sentence, close
runners-up, and sentences that answer the parts of a multi-part question the chosen ones leave out. Citations are
numbered per passage. It abstains — "not found in the documents you can access" — when the calibrated probability
that the passages answer the question (:mod:`calibration`, fitted by ``copilot eval answers --calibrate`` on
training questions only) is below its threshold, and then lists the closest documents instead of pretending; and
before any scoring when the question names a record (:func:`missing_identifier`) or a site (:func:`missing_site`)
the passages are not about. A question that names a proper name of the corpus (a supplier: "crestline") is answered
only from the documents that write it, and judged on their passages alone (:func:`named_documents`); a question
for an amount of money is refused when no sentence it reads holds one (:func:`asks_amount`). A part of a
multi-part question that no passage answers is named at the end of the answer ("Not found in the documents you can
access: ...") and in ``Answer.missing_parts``, not silently dropped.

Usage::

    answerer = ExtractiveAnswerer(embedder)            # the shipped calibration and its threshold
    answer = answerer.answer("How often are infusion pumps serviced?", hits)
"""

from __future__ import annotations

import re
import string
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from copilot.protocols import Embedder
from copilot.retrieval.calibration import Calibration, default_calibration
from copilot.types import Answer, Citation, Hit

NOT_FOUND = "I could not find this in the documents you can access."
MISSING_PART = "Not found in the documents you can access:"

_STOP = frozenset(
    (
        "a an the and or of to in on at for by with from is are was were be been being do does did what which "
        "who whom whose when where why how can could should would may might must shall will our we us you "
        "your i me my it its this that these those there their they them as if than then so such any all each "
        "per about into over under not no yes have has had get got please tell know need there's what's much "
        "many often long fast quickly soon t s d ll m re ve don didn doesn isn aren wasn weren won wouldn couldn "
        "shouldn haven hasn dont didnt doesnt isnt arent wont cant im ive whats whos thats wheres hows"
    ).split()
)
# "fast", "quickly", "soon" (like "long", "often", "much") are how a question asks for a time or a quantity, not
# what it is about; "t", "s", "don", "won", "didnt" ... are the pieces of a contraction the tokenizer splits
# ("won't", "didn't", "bluegate's") or staff type without the apostrophe — never the question's topic.
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(tok: str) -> str:
    """The Snowball (Porter 2) stem: "coordinates" and "coordinator" -> "coordin", "penalties" -> "penalti".
    Cached per word: a corpus has a few thousand distinct words, and stemming one costs ~50 µs."""
    if not tok.isalpha():
        return tok
    return str(_stemmer().stemWord(tok))


@lru_cache(maxsize=65_536)
def content_terms(text: str) -> frozenset[str]:
    return frozenset(_stem(t) for t in _TOKEN.findall(text.lower()) if t not in _STOP)


@lru_cache(maxsize=65_536)
def _specificity(word: str) -> float:
    """0 for everyday English words (Zipf >= 6: "back", "time"), 1 for rare ones (Zipf <= 2: "enteral")."""
    from wordfreq import zipf_frequency

    return max(0.0, min(1.0, (6.0 - float(zipf_frequency(word, "en"))) / 4.0))


def _english_frequencies() -> dict[str, float]:
    """wordfreq's English list (~320,000 words and their frequencies): the dictionary wordfreq itself caches and
    reads for every Zipf look-up, so no second copy is held."""
    from wordfreq import get_frequency_dict

    return get_frequency_dict("en")


TYPO_MAX_ZIPF = 3.0
"""A word rarer than this in English may be a slip of the keyboard (Zipf 3: once per million words)."""
TYPO_GAIN_ZIPF = 2.0
"""... when a word one edit away is this much more common (a hundred times) and common itself (Zipf 3 or more):
"strenght" (2.2) is "strength" (4.8); "enteral" (2.0) has no such neighbour."""


@lru_cache(maxsize=65_536)
def english_spelling(word: str) -> str | None:
    """The common English word a rare one is a slip for, one edit away (a letter dropped, added, changed or two
    swapped: Damerau's four), or None. Only words of five letters or more: a short word has too many
    neighbours to tell."""
    if len(word) < 5 or not word.isalpha():
        return None
    freq = _english_frequencies()
    own = freq.get(word, 0.0)
    if own >= 10.0 ** (TYPO_MAX_ZIPF - 9.0):  # Zipf = log10(frequency per word) + 9
        return None
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in string.ascii_lowercase}
    edits |= {a + c + b for a, b in splits for c in string.ascii_lowercase}
    best = max(((freq.get(e, 0.0), e) for e in edits if e != word), default=(0.0, ""))
    floor = max(own * 10.0**TYPO_GAIN_ZIPF, 10.0 ** (TYPO_MAX_ZIPF - 9.0))  # and itself a common word
    return best[1] if best[0] >= floor else None


def _missing_weight(word: str) -> float:
    """How much a question word the passages never mention says the passages are about something else: its
    :func:`_specificity`, or its correct spelling's when it is a slip ("strenght" weighs as "strength")."""
    fixed = english_spelling(word)
    return _specificity(fixed if fixed is not None else word)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _informative(sentence: str) -> bool:
    """At least three words, or fewer with a number in them ("Interval: 6 months")."""
    words = sentence.split()
    return len(words) >= 3 or any(ch.isdigit() for ch in sentence)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _is_rule(line: str) -> bool:
    """A markdown table separator (``|---|:--|``) or a setext/ASCII underline (``=====``)."""
    return bool(re.fullmatch(r"[|:\-\s=+_]+", line)) and any(ch in line for ch in "-=_")


def table_sentences(rows: list[str]) -> list[str]:
    """A pipe table as sentences: each data row reads ``header: cell; header: cell`` so it stands alone."""
    rows = [r for r in rows if not _is_rule(r)]
    if len(rows) < 2:
        return [" ".join(_cells(r)) for r in rows]
    header = _cells(rows[0])
    out = []
    for row in rows[1:]:
        cells = _cells(row)
        pairs = [f"{h}: {c}" if h else c for h, c in zip(header, cells, strict=False) if c]
        if pairs:
            out.append("; ".join(pairs))
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences, list items and table rows (as header-labelled sentences) of a passage, in order. A line that
    starts in lower case after a line left unfinished (no closing punctuation) continues it: PDF text wraps a
    list item across lines and pages ("... the Fire Incident Commander (the" / "senior nurse on site ...")."""
    out: list[str] = []
    table: list[str] = []
    open_line = False  # the last sentence came from prose and has no closing punctuation
    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            out.extend(table_sentences(table))
            table = []
            open_line = False
        if not line or _is_rule(line):
            continue
        if open_line and out and line[0].islower():
            pieces = [s.strip() for s in _SENT_SPLIT.split(line) if s.strip()]
            out[-1] = f"{out[-1]} {pieces[0]}"
            out.extend(p for p in pieces[1:] if len(p) > 2)
        elif line.startswith(("- ", "* ", "• ")) or re.match(r"^\d+[.)]\s", line):
            out.append(line)
        else:
            out.extend(s.strip() for s in _SENT_SPLIT.split(line) if len(s.strip()) > 2)
        open_line = bool(out) and not out[-1].rstrip().endswith((".", "!", "?", ":", ";"))
    return out


_UNDERLINE = re.compile(r"[-=_~]{5,}\s*$")


def _is_heading_like(sentence: str) -> bool:
    """An all-capitals line or a line ending in its own ``-----`` underline (a plain-text heading) carries no
    answer."""
    if _UNDERLINE.search(sentence):
        return True
    letters = [ch for ch in re.sub(r"[=\-_]{3,}", "", sentence) if ch.isalpha()]
    return len(letters) >= 6 and all(ch.isupper() for ch in letters)


# Document-control boilerplate every SOP and contract carries (the control table, the revision history, the
# signature block): true, but never the answer to a staff question. Candidates matching it are down-weighted.
_BOILERPLATE = re.compile(
    r"^(field\b|version\b|document (number|no\.?)\b|effective date\b|owner\b|approved by\b|next review\b"
    r"|signed for\b|revision\b|date: \d{4}-\d{2}-\d{2}; change\b)",
    re.IGNORECASE,
)


# Questions whose answer is a quantity, a duration, a time or a threshold ("how long", "how often", "max hrs",
# "what %"): a sentence with a number in it is the likelier answer. Written from English question forms, not
# from any gold question.
_NUMERIC_QUESTION = re.compile(
    r"\b(how (long|often|many|much|soon|fast|quickly|frequently|old|far|cold|warm|hot|high|low)"
    r"|when\b|what time|what day|what date|which day|deadline|frequency|interval|minimum|maximum|min\b|max\b"
    r"|limit|threshold|temperature|percent|percentage|rate\b|cost|price|fee|penalty|amount|value|within)"
    r"|%",
    re.IGNORECASE,
)
_HAS_NUMBER = re.compile(r"\d")
# A short code of an enumeration, letters then digits: a priority, a grade, a quarter ("P3", "Q4"). A sentence that
# names another member of the same enumeration ("A P1 ticket ...") and not the asked one is about the other one.
_SHORT_CODE = re.compile(r"(?<![\w-])([a-z]{1,2})(\d{1,2})(?![\w-])", re.IGNORECASE)


# A member of a ranked enumeration named by its class noun and a label: "class A", "Class: C", "level 3",
# "Class II", "tier 2". Roman numerals read as numbers ("class 2 recall" is "Class II"). The nouns are the English
# words for a rank of such an enumeration, not words of any gold question.
_LABELLED = re.compile(
    r"\b(class|level|grade|tier|zone|band|category|stage|phase|priority)\s*[:-]?\s*"
    r"(\d{1,2}|[ivx]{1,4}|[a-z])(?![\w-])",
    re.IGNORECASE,
)
_ROMAN = {r: str(n) for n, r in enumerate("i ii iii iv v vi vii viii ix x".split(), start=1)}


def _codes(text: str) -> set[tuple[str, str]]:
    """The enumeration members a text names, as (family, member): ("p", "3") for "P3", ("class", "a") for
    "class A", ("class", "2") for "Class II"."""
    out = {(a.lower(), b) for a, b in _SHORT_CODE.findall(text)}
    for family, label in _LABELLED.findall(text):
        low = label.lower()
        out.add((family.lower(), _ROMAN.get(low, low)))
    return out


def names_a_sibling(question_codes: set[tuple[str, str]], sentence: str) -> bool:
    """The sentence names a code of the question's enumerations ("P1" for a question about "P3"), and none of
    the question's own codes."""
    own = _codes(sentence)
    families = {a for a, _ in question_codes}
    return not (own & question_codes) and any(a in families for a, _ in own)


# A question about a span of time ("how long can we borrow", "how often", "what interval") is answered by a
# duration or a frequency, not by any number: "up to 30 days", "every 6 months", "daily", "within 2 hours",
# never "pool size: 40". Units of time as English writes them, spelt out or shortened.
_DURATION_QUESTION = re.compile(
    r"\bhow (?:long|often|soon|frequently)\b|\b(?:frequency|interval|deadline)\b", re.IGNORECASE
)
_HAS_DURATION = re.compile(
    r"\b(?:\d[\d.,]*|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a|an)[\s-]*(?:business\s+|working\s+|"
    r"calendar\s+)?(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|weeks?|wks?|months?|years?|yrs?|shifts?)\b"
    r"|\b(?:hourly|daily|weekly|fortnightly|monthly|quarterly|annually|yearly|biannually|once|twice)\b"
    r"|\b\d{1,2}:\d{2}\b",
    re.IGNORECASE,
)

# A question about money ("how much is a replacement badge", "price per kg", "monthly fee", "what do we pay") is
# answered by an amount of money: when no sentence the answerer reads holds one, the documents do not say. Not
# "in charge" (a person), and not a question for a rate or a share.
_MONEY_QUESTION = re.compile(
    r"\b(?:costs?|costing|price[sd]?|fees?|(?<!\bin )charges?|charged|pay|paid|money|worth|spend|spent)\b",
    re.IGNORECASE,
)
# ... unless it asks for a rate or a share ("what rate is overtime paid at": time and a half; "what % of the fee")
_RATE_QUESTION = re.compile(r"\b(?:rates?|percent(?:age)?|share|times)\b|%", re.IGNORECASE)
_HAS_MONEY = re.compile(r"[$€£]\s?\d|\b\d[\d,.]*\s?(?:dollars?|usd|eur|euros?|gbp|pounds?)\b", re.IGNORECASE)


def asks_amount(question: str) -> bool:
    """The question asks for an amount of money ("price of a sharps container", "what do we pay ..."), not for a
    rate or a share of one."""
    return bool(_MONEY_QUESTION.search(question)) and not _RATE_QUESTION.search(question)


# Questions that ask for a cause ("why did ... fail", "what was wrong with ...", "what caused ..."): the answer
# is what an incident or service report found, not the symptom it opens with. Report structure (findings, root
# cause, investigation) and causal connectives mark it; written from how such reports are laid out, not from
# any gold question.
_CAUSE_QUESTION = re.compile(
    r"\b(?:why\b|how come\b|what (?:went|was|is|goes) wrong|wrong with\b|what (?:caused|causes)\b"
    r"|(?:the |a )?(?:root )?causes? (?:of|for)\b|reasons? (?:for|why)\b)",
    re.IGNORECASE,
)
_CAUSE_SECTION = re.compile(
    r"\b(?:findings?|root cause|causes?|contributing|investigation|diagnosis|analysis|fault found)\b", re.IGNORECASE
)
# A finding of no fault ("no defect", "in good condition") is a finding, not what went wrong.
_NO_FAULT = re.compile(
    r"\b(?:no (?:defects?|faults?|damage|issues?|problems?|abnormalit(?:y|ies))(?: (?:found|seen|noted))?"
    r"|(?:in )?good (?:condition|order|working order)|within (?:spec(?:ification)?|limits?)|no action)\b",
    re.IGNORECASE,
)
_CAUSAL = re.compile(r"\b(?:because|due to|caused by|as a result of|resulted from|root cause)\b", re.IGNORECASE)


def _finding(section: str, sentence: str) -> bool:
    """What a report found: a sentence under a findings or root-cause heading, or one that says why ("because",
    "due to"); not a finding of no fault."""
    return bool(_CAUSE_SECTION.search(section) or _CAUSAL.search(sentence)) and not _NO_FAULT.search(sentence)


_ROW_CELL = re.compile(r"^[^:;]{1,40}: \S")  # "header: cell", as :func:`table_sentences` writes a row


def _is_row(sentence: str, min_cells: int = 2) -> bool:
    """A table row as :func:`table_sentences` writes it: "header: cell; header: cell"."""
    cells = sentence.split("; ")
    return len(cells) >= min_cells and all(_ROW_CELL.match(c) for c in cells)


# "who is the recall coordinator", "who coordinates product recalls": an SOP's roles list names who holds a role
# after the role and a colon ("- Recall Coordinator: the Supply Chain Quality Lead; receives all notices ...").
# A sentence that opens so, with a role every word of which the question has, says who — not a sentence in which
# the role does something ("The coordinator sends the notice"). Not a table row: its first words are a header.
_WHO_QUESTION = re.compile(r"^\W*(?:who|who's|whos)\b", re.IGNORECASE)
_DEFINED = re.compile(r"^(?:[-*•]\s+)?([^:;]{2,60}):\s+\S")


def defines_asked_role(question: str, sentence: str) -> bool:
    """``question`` asks who, and ``sentence`` is a roles-list line for a role the question names."""
    if not _WHO_QUESTION.search(question) or _is_row(sentence):
        return False
    m = _DEFINED.match(sentence)
    role = content_terms(m.group(1)) if m else frozenset()
    return bool(role) and role <= content_terms(question)


def asks_cause(question: str) -> bool:
    """The question asks why something happened or what was wrong."""
    return bool(_CAUSE_QUESTION.search(question))


# A table looked up by a number ("a $32k order", "uptime was 99.2%", "over 5,000 dollars", "scored 85%"): the row
# whose range holds the question's number answers it ("$5,000.01 to $50,000", "80% to 89%", "Below 80%").
_NUM = r"\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s?(?:k\b|%|percent\b)?"
_QUESTION_NUMBER = re.compile(
    rf"(?<![\w./-])(?:(?P<cmp>over|above|more than|greater than|exceeding|in excess of|under|below|less than)\s)?"
    rf"(?P<n>{_NUM})(?![\w/-]|\.\d)(?:\s?(?P<dollars>dollars|usd))?",
    re.IGNORECASE,
)
_ROW_RANGE = re.compile(
    rf"(?P<lo>{_NUM})\s?(?:to|-|–|—)\s?(?P<hi>{_NUM})"
    rf"|(?:below|under|less than|up to|<)\s?(?P<below>{_NUM})"
    rf"|(?:above|over|more than|greater than|>)\s?(?P<above>{_NUM})"
    rf"|(?P<at_least>{_NUM})\s?(?:or (?:more|above|over|higher)|\+)"
    rf"|(?P<at_most>{_NUM})\s?or (?:less|below|under|lower)",
    re.IGNORECASE,
)
_UPWARD = ("over", "above", "more than", "greater than", "exceeding", "in excess of")


def _number(text: str) -> tuple[float, bool] | None:
    """(value, is a percentage) of "$32k", "99.2%", "5,000"; None when it is no number."""
    low = text.lower().replace("$", "").replace(",", "").strip()
    percent = low.endswith(("%", "percent"))
    low = low.removesuffix("percent").rstrip(" %")
    thousands = low.endswith("k")
    try:
        value = float(low.removesuffix("k").strip()) * (1000 if thousands else 1)
    except ValueError:
        return None
    return value, percent


def question_numbers(question: str) -> list[tuple[float, bool]]:
    """The amounts and percentages a question looks a table up by: "over 5,000 dollars" just above 5,000. Years
    ("in 2025"), identifiers ("BME-INF-0231") and ordinals of a kind ("class 1", "P1") are no look-up key."""
    out = []
    for m in _QUESTION_NUMBER.finditer(question):
        raw = m.group("n")
        parsed = _number(raw)
        if parsed is None:
            continue
        value, percent = parsed
        money = "$" in raw or raw.lower().rstrip().endswith("k") or m.group("dollars") is not None
        if not (money or percent or "," in raw or m.group("cmp")):
            continue  # a bare small number ("class 1", "12 hr") is rarely a key into a range
        if not (money or percent) and 1900 <= value <= 2100:
            continue
        cmp = (m.group("cmp") or "").lower()
        value += 0.01 * (1 if cmp in _UPWARD else -1 if cmp else 0)  # "over $5,000": from $5,000.01
        out.append((value, percent))
    return out


def row_holds(sentence: str, numbers: Sequence[tuple[float, bool]]) -> bool:
    """A range of the row ("$5,000.01 to $50,000", "80% to 89%", "Below 80%", "90% or above") holds one of the
    question's numbers, a percentage only a percentage range."""
    for m in _ROW_RANGE.finditer(sentence):
        text = m.group(0)
        percent = "%" in text or "percent" in text.lower()
        bounds: tuple[float, float] | None = None
        if m.group("lo") is not None:
            lo, hi = _number(m.group("lo")), _number(m.group("hi"))
            if lo and hi:
                bounds = (lo[0], hi[0])
        else:
            for key, make in (("below", lambda v: (float("-inf"), v)), ("at_most", lambda v: (float("-inf"), v)),
                              ("above", lambda v: (v, float("inf"))), ("at_least", lambda v: (v, float("inf")))):
                if m.group(key) is not None and (parsed := _number(m.group(key))) is not None:
                    bounds = make(parsed[0])
        if bounds is None or bounds[0] > bounds[1]:
            continue
        if any(p == percent and bounds[0] <= v <= bounds[1] for v, p in numbers):
            return True
    return False


CAUSE_SECTION_WORDS = "findings root cause"
"""What incident and service reports title the part that says why ("Findings", "Root cause")."""


def lexical_query(question: str) -> str:
    """The words the lexical search is given: the question, and for a question that asks for a cause the words
    reports title their findings with — "what was wrong with stretcher BME-STR-0150" otherwise meets the report's
    equipment table and its "reason for service" (the symptom), which share the asset tag, before its findings.
    The dense search keeps the question's own vector."""
    return f"{question} {CAUSE_SECTION_WORDS}" if asks_cause(question) else question


def expects_number(question: str) -> bool:
    return bool(_NUMERIC_QUESTION.search(question))


# A multi-part question asks several things: "how long did the engineer take to turn up and what credit do we
# get". Parts are split at a second question mark, at "and" / "also" / "plus" / "+" / "&" before a question word
# (or before a preposition and one: "and for how long"), or at a dash, semicolon, colon or comma before one. A
# segment cut off by a dash, colon or comma without a question word of its own is not a part: before the first
# question it is the topic every part is asked in ("chem analyser breakdown in jan - ..."), after one it goes on
# the question before it (a title's own dash: "the Service Report - Autoclave BME-AUT-0003 say about ..."); a
# segment after a question mark that is only a prepositional phrase ("?? per the cold-chain sop") qualifies the
# question before it. English question forms, not any gold question.
_WH = r"(?:how|what|what's|whats|who|whom|whose|when|where|which|why|is|are|do|does|did|can|could|should|must|will)"
_PREP = (
    "of for in on at to from by with without about per under between after before during within into via across"
    " against including"
)
_PREPS = frozenset(_PREP.split())
_PART_SPLIT = re.compile(
    r"(\?)\s+(?=\S)"
    r"|,?\s+(and\s+(?:also\s+)?|also\s+|plus\s+|[+&]\s+)(?=(?:(?:" + "|".join(_PREP.split()) + r")\s+)?" + _WH + r"\b)"
    r"|(\s+[-–—]\s+|;\s+|:\s+(?=" + _WH + r"\b)|,\s+(?=" + _WH + r"\b))",
    re.IGNORECASE,
)
_LEADING_AND = re.compile(r"^(?:and|also|plus)\s+", re.IGNORECASE)
# a bare question word ("how") or a preposition, a question word and at most two words ("on which days")
_QUESTION_PHRASE = re.compile(
    _WH + r"|(?:" + "|".join(_PREP.split()) + r")\s+" + _WH + r"(?:\s+[\w'-]+){0,2}", re.IGNORECASE
)
_HAS_WH = re.compile(r"\b" + _WH + r"\b", re.IGNORECASE)
_STARTS_WITH_PREP = re.compile(r"^(?:" + "|".join(_PREP.split()) + r"|according to|as per)\b", re.IGNORECASE)

# Two things joined by "and", "plus", "vs" or "+" with no question word between them are two parts only when each
# is named by two words of its own ("minimum rest between shifts and max hours in a week"). Not when the
# coordination sits inside one noun phrase, which English marks by:
# - the documents saying it: "linen and laundry", "levels and penalties" stand in a title or a heading — a phrase
#   the indexed text contains is one thing, not two parts (the answerer passes the retrieved passages);
# - a series: "shift swaps, overtime and rest breaks" — the last item of a comma list is not a new question;
# - a shared modifier: the second conjunct is one word before its own preposition or bracket ("storage and
#   handling of controlled drugs", "write-off and reporting for expired stock") — "of ..." belongs to both;
# - a shared document head: the second conjunct ends in a document noun ("the fire safety and evacuation plan",
#   "hand hygiene and PPE policy") — one title;
# - brackets: a coordination inside an open bracket is part of what the bracket names.
_COORDINATION = re.compile(r"\s+(?:and|plus|vs\.?|versus|&|\+)\s+", re.IGNORECASE)
_DOCUMENT_NOUNS = frozenset(
    "policy policies procedure procedures sop sops protocol protocols guideline guidelines guidance contract"
    " contracts agreement agreements plan plans log logs report reports form forms checklist checklists clause"
    " clauses section sections standard standards manual manuals register registers sheet sheets".split()
)
_WORDS = re.compile(r"[\w'-]+")
_DETERMINERS = frozenset("the a an our your their its this that these those each every any".split())


def _attested(left: str, right: str, documents: str) -> bool:
    """The words either side of the conjunction stand joined by "and" / "&" / a comma in ``documents``."""
    lw, rw = _WORDS.findall(left.lower()), _WORDS.findall(right.lower())
    if not (documents and lw and rw):
        return False
    a, b = lw[-1].rstrip("s"), rw[0].rstrip("s")
    pattern = rf"\b{re.escape(a)}s?\s*(?:,|\band\b|&|\+)\s*{re.escape(b)}s?\b"
    return re.search(pattern, documents, re.IGNORECASE) is not None


def _head(conjunct: str) -> list[str]:
    """The words of a conjunct before its first preposition, bracket or question word."""
    out = []
    for w in _WORDS.findall(conjunct.split("(")[0].lower()):
        if w in _PREPS or _HAS_WH.fullmatch(w):
            break
        out.append(w)
    return out


def _two_things(left: str, right: str, documents: str) -> bool:
    if left.count("(") > left.count(")"):
        return False  # inside brackets: "quick q about purpose (defibrillator and crash cart daily checks)"
    if len(content_terms(left)) < 2 or len(content_terms(right)) < 2:
        return False  # one side names one word: "tolerance on tidal volume and on peep"
    if re.search(r",\s*[\w'-]+(?:\s+[\w'-]+)?\s*$", left):
        return False  # the last item of a series
    head = _head(right)
    if head and head[0] not in _DETERMINERS and len(content_terms(" ".join(head))) <= 1 \
            and len(head) < len(_WORDS.findall(right)):
        return False  # "storage and handling of ...": the modifier is shared ("... and the penalty for" has its own)
    if head and head[-1] in _DOCUMENT_NOUNS and _WORDS.findall(left.lower())[-1] not in _DOCUMENT_NOUNS:
        return False  # "... and evacuation plan": one title ("temp logs and excursion forms": two documents)
    return not _attested(left, right, documents)


def _distributed(left: str, right: str) -> str | None:
    """The second of two values asked of one thing, with the thing it is asked of: "tolerance on tidal volume"
    and "on peep" -> "tolerance on peep"; "resolution target for p2 tickets" and "for p4" -> "resolution target
    for p4". The right conjunct is a short prepositional phrase whose preposition the left conjunct has; what
    stands before that preposition in the left is shared. None for any other coordination."""
    words = _WORDS.findall(right)
    if not 2 <= len(words) <= 4 or words[0].lower() not in _PREPS or not content_terms(right):
        return None
    cut = [m.start() for m in re.finditer(rf"\s{re.escape(words[0])}\s", left, re.IGNORECASE)]
    if not cut:
        return None
    shared = left[: cut[-1]].strip()
    return f"{shared} {right}" if content_terms(shared) else None


def question_parts(question: str, documents: str = "") -> list[tuple[str, str]]:
    """The parts of a multi-part question as (the part with the question's context, the part alone); [] for a
    single one. The first is embedded; the words of the second are what the part asks for. ``documents``: text
    the indexed documents hold (the retrieved passages, their titles and headings) — a coordination they contain
    is a noun phrase, not two parts.

    >>> [p for p, _ in question_parts("fridge incident - how many doses got binned and what did that cost us")]
    ['fridge incident how many doses got binned', 'fridge incident what did that cost us']
    >>> question_parts("where is the linen and laundry contract kept")
    []
    """
    pieces = _PART_SPLIT.split(question)
    # re.split with three groups: text, then per separator (?, and, cut) and the text after it
    context: list[str] = []
    asks: list[str] = []
    joined = False
    for i in range(0, len(pieces), 4):
        text = _LEADING_AND.sub("", pieces[i].strip(" ,.?"))  # "...? and P3?"
        if not text:
            continue
        wh = bool(_HAS_WH.search(text))
        if wh or (i + 1 < len(pieces) and not pieces[i + 3]):
            ask = True  # a question word of its own, or a question mark or "and what ..." after it
        elif i and pieces[i - 3]:  # after a question mark: a question, unless only a prepositional phrase
            ask = not _STARTS_WITH_PREP.match(text)
        else:  # after a dash, colon or comma: a question only with a question word of its own
            ask = bool(i) and not pieces[i - 1]
        if ask and joined:
            asks[-1] = f"{asks[-1]} and {text}"  # "on which days and at what times does X deliver": one clause
        elif ask:
            asks.append(text)
        elif asks:
            asks[-1] = f"{asks[-1]} {text}"  # "?? per the sop", "- Autoclave BME-AUT-0003": qualifies the last
        else:
            context.append(text)  # "chem analyser breakdown in jan - ...": the topic every part is asked in
        # a bare question phrase joined by "and" to the next question shares its clause ("how and when to report")
        joined = ask and i + 1 < len(pieces) and bool(pieces[i + 2]) and _QUESTION_PHRASE.fullmatch(text) is not None
    if not asks and context:  # "safety limits for pumps - earth resistance and leakage current": the last names it
        asks = [context.pop()]
    if len(asks) == 1:
        for m in _COORDINATION.finditer(asks[0]):
            left, right = asks[0][: m.start()].strip(" ,"), asks[0][m.end() :].strip(" ,")
            whole = _distributed(left, right)
            if whole is not None or _two_things(left, right, documents):
                return [(f"{' '.join(context)} {ask}".strip(), ask) for ask in (left, whole or right)]
    if len(asks) < 2:
        return []
    topic = " ".join(context)
    # an elliptical question — a bare prepositional phrase or one or two words ("and for how long", "P2?") —
    # names too little to be embedded alone: it is asked of what the question before it was about
    return [
        (" ".join(w for w in (topic, asks[n - 1] if n and _elliptical(ask) else "", ask) if w), ask)
        for n, ask in enumerate(asks)
    ]


# a part that points back at what the question named before ("what does it say", "what did that cost us")
_REFERS_BACK = re.compile(r"\b(?:it|its|it's|that|this|they|them|their|those|these|there)\b", re.IGNORECASE)


def _elliptical(ask: str) -> bool:
    return len(_WORDS.findall(ask)) <= 2 or bool(_STARTS_WITH_PREP.match(ask))


# An identifier the question names — an asset tag, an incident or form number ("BME-INF-0231", "INC-2026-0142",
# "GEN-S1"): letters and digits joined by hyphens, starting with a letter ("24-hour" and "3-way" are not).
_IDENTIFIER = re.compile(r"(?<![\w-])(?=[\w-]*\d)[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w-])", re.IGNORECASE)


def missing_identifier(question: str, hits: Sequence[Hit]) -> str | None:
    """The first identifier the question names that no passage mentions (title, section or text), or None. An
    asset tag or incident number is the question's subject: passages that never name it are about something
    else — typically a neighbouring record, when the one asked about is a document the asker may not open."""
    ids = _IDENTIFIER.findall(question)
    if not ids:
        return None
    seen = " ".join(f"{h.chunk.title} {h.chunk.section} {h.chunk.text}" for h in hits).lower()
    for ident in ids:
        low = ident.lower()
        if low not in seen and not (low.endswith("s") and low[:-1] in seen):  # "TS-300s"
            return ident
    return None


_NON_ALNUM = re.compile(r"[^a-z0-9]+")
NETWORK_SITE = "network"
"""The site value of organisation-wide documents (the demo corpus' default): never a site a question narrows to."""


def missing_site(question: str, hits: Sequence[Hit], sites: Collection[str]) -> str | None:
    """A site the question names ("north campus" for ``north_campus``) that no passage is from or mentions, while
    the best passage belongs to another site — or None. A site's own document (the South Campus generator test
    schedule) answers a question about another site ("the monthly generator load test at north campus") with the
    wrong site's facts; an organisation-wide document (site ``network`` or none) is never a mismatch."""
    if not hits or not sites:
        return None
    text = f" {_NON_ALNUM.sub(' ', question.lower())} "
    best_site = hits[0].chunk.site
    if not best_site or best_site == NETWORK_SITE:
        return None
    seen: str | None = None
    for site in sorted(sites):
        name = _NON_ALNUM.sub(" ", site.lower()).strip()
        if site in (NETWORK_SITE, best_site) or not name or f" {name} " not in text:
            continue
        if any(h.chunk.site == site for h in hits):
            continue
        if seen is None:
            seen = " " + _NON_ALNUM.sub(" ", " ".join(
                f"{h.chunk.title} {h.chunk.section} {h.chunk.text}" for h in hits).lower()) + " "
        if f" {name} " not in seen:
            return site
    return None


def named_documents(question: str, hits: Sequence[Hit], names: Mapping[str, Collection[str]]) -> set[str] | None:
    """The documents among ``hits`` that name a proper name of the corpus the question names ("crestline delivery
    window": a supplier), or None when it names none. ``names``: each name and the documents that write it,
    anywhere (a contract's delivery table never repeats the supplier its parties clause names). A passage from
    another supplier's contract answers the same kind of question with the wrong supplier's terms; only the named
    ones' documents may answer (any of them: "crestline vs meridian late penalty" compares two contracts)."""
    named = [names[w] for w in dict.fromkeys(_TOKEN.findall(question.lower())) if w in names]
    if not named:
        return None
    return {h.chunk.doc_id for h in hits if any(h.chunk.doc_id in docs for docs in named)}


def retrieval_agreement(hits: Sequence[Hit]) -> float:
    """1.0 when the dense and the lexical search put the same document first, 0.0 when they differ (or one's
    first passage did not survive fusion), 0.5 when the hits carry no ranks (the index fused them itself). Two
    independent retrievers agreeing on a document is evidence the question is about it; on near-miss questions
    the corpus does not answer they mostly disagree."""
    if not any(h.dense_rank is not None or h.sparse_rank is not None for h in hits):
        return 0.5
    dense_doc = next((h.chunk.doc_id for h in hits if h.dense_rank == 1), None)
    sparse_doc = next((h.chunk.doc_id for h in hits if h.sparse_rank == 1), None)
    return 1.0 if dense_doc is not None and dense_doc == sparse_doc else 0.0


def _dense_first(hits: Sequence[Hit]) -> int | None:
    """The position among ``hits`` of the passage the dense search ranked first, or None."""
    return next((i for i, h in enumerate(hits) if h.dense_rank == 1), None)


@dataclass(frozen=True)
class _Candidate:
    hit_rank: int
    position: int
    text: str
    cosine: float
    lexical: float
    score: float


class ExtractiveAnswerer:
    """See the module docstring. ``max_sentences`` bounds the answer; ``top_passages`` bounds the work."""

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        *,
        abstain_threshold: float | None = None,
        calibration: Calibration | Literal["default"] | None = "default",
        top_passages: int = 5,
        max_sentences: int = 3,
        list_items: int = 5,
        multi_part: bool = True,
        part_embedded: int = 4,
        runner_up_margin: float = 0.06,
        coverage_margin: float = 0.2,
        answer_type_weight: float = 0.05,
        cause_weight: float = 0.1,
        role_weight: float = 0.1,
        range_weight: float = 0.1,
        sibling_weight: float = 0.1,
        max_candidates: int = 120,
        max_embedded: int = 12,
        dense_reserved: int = 3,
        cache_size: int = 20_000,
        sites: Callable[[], Collection[str]] | None = None,
        names: Callable[[], Mapping[str, Collection[str]]] | None = None,
        row_cells: int = 4,
    ) -> None:
        self.embedder = embedder
        self.sites = sites
        self.names = names
        self.row_cells = row_cells
        self.calibration = default_calibration() if calibration == "default" else calibration
        # an explicit threshold wins; else the calibration's own; else the fixed weights' 0.52
        self.threshold = (
            abstain_threshold if abstain_threshold is not None
            else self.calibration.threshold if self.calibration is not None else 0.52
        )
        self.top_passages = top_passages
        self.max_sentences = max_sentences
        self.list_items = list_items
        self.multi_part = multi_part
        self.part_embedded = part_embedded
        self.runner_up_margin = runner_up_margin
        self.coverage_margin = coverage_margin
        self.answer_type_weight = answer_type_weight
        self.cause_weight = cause_weight
        self.role_weight = role_weight
        self.range_weight = range_weight
        self.sibling_weight = sibling_weight
        self.max_candidates = max_candidates
        self.max_embedded = max_embedded
        self.dense_reserved = dense_reserved
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.cache_stats = {"hits": 0, "misses": 0}
        """Sentence-vector cache lookups (the load benchmark reports the hit rate: a repeated input measures it)."""

    @staticmethod
    def _phrases(hits: Sequence[Hit]) -> str:
        """What the retrieved passages say, titles and headings included: the phrases :func:`question_parts`
        treats as one thing when the question joins them with "and"."""
        return "\n".join(f"{h.chunk.title}\n{h.chunk.section}\n{h.chunk.text}" for h in hits)

    def _sentences(self, hits: Sequence[Hit]) -> list[tuple[int, int, str, str, frozenset[str]]]:
        """(passage rank, position, sentence, section, its terms with its section's and its document title's) of
        the top passages. The title is context of every sentence in the document, like its heading: a contract's
        title names the vendor ("... - Keystone Power & Fire Services") that its response-time table never
        repeats, so "how fast does keystone have to be onsite" meets the table's rows, not another contract's."""
        raw: list[tuple[int, int, str, str, frozenset[str]]] = []
        for rank, hit in enumerate(hits[: self.top_passages]):
            headings = {_norm(h) for h in (hit.chunk.title, *hit.chunk.section.split(" > "))}
            section_terms = content_terms(f"{hit.chunk.title} {hit.chunk.section}")
            for pos, sent in enumerate(split_sentences(hit.chunk.text)):
                if _norm(sent) in headings or not _informative(sent) or _is_heading_like(sent):
                    continue  # a heading repeated in the passage is context, not an answer
                raw.append((rank, pos, sent, hit.chunk.section, content_terms(sent) | section_terms))
            if len(raw) >= self.max_candidates:
                break
        return raw

    def _promising(
        self, question: str, raw: list[tuple[int, int, str, str, frozenset[str]]], n: int, favoured: int | None = None
    ) -> list[tuple[int, int, str, str, frozenset[str]]]:
        """The ``n`` sentences most worth embedding for ``question``: word overlap, then passage rank. When the
        question shares no word with its answer ("swap out a sharps bin" for "replace the container"), word
        overlap ranks other passages' sentences first; so when none of the ``n`` is from the passage the dense
        search (meaning, not words) put first, ``favoured``, its ``dense_reserved`` most promising join them."""
        q_terms = content_terms(question)

        def key(r: tuple[int, int, str, str, frozenset[str]]) -> tuple[float, int, int]:
            lex = len(q_terms & r[4]) / len(q_terms) if q_terms else 0.0
            return (-(lex + 0.1 / (1 + r[0])), r[0], r[1])

        ranked = sorted(raw, key=key)
        pool = ranked[:n]
        if favoured is not None and not any(r[0] == favoured for r in pool):
            pool += [r for r in ranked[n:] if r[0] == favoured][: self.dense_reserved]
        return pool

    def _score(
        self,
        question: str,
        q_vec: np.ndarray,
        pool: list[tuple[int, int, str, str, frozenset[str]]],
        vectors: np.ndarray,
    ) -> list[_Candidate]:
        q_terms = content_terms(question)
        cos = np.asarray(vectors @ q_vec, dtype=np.float32)
        if self.row_cells:
            cos = np.maximum(cos, self._row_cell_cosines(pool, q_vec, cos, q_terms))
        numeric = expects_number(question)
        duration = _DURATION_QUESTION.search(question) is not None
        codes = _codes(question) if self.sibling_weight else set()
        out = []
        cause = asks_cause(question)
        who = self.role_weight > 0 and _WHO_QUESTION.search(question) is not None
        keys = question_numbers(question)
        for (rank, pos, sent, section, terms), c in zip(pool, cos, strict=True):
            lex = len(q_terms & terms) / len(q_terms) if q_terms else 0.0
            score = 0.65 * float(c) + 0.30 * lex + 0.05 / (1 + rank) - (0.2 if _BOILERPLATE.match(sent) else 0.0)
            if numeric:
                typed = _HAS_DURATION if duration else _HAS_NUMBER
                score += self.answer_type_weight if typed.search(sent) else -self.answer_type_weight
            if cause and _finding(section, sent):
                score += self.cause_weight
            if who and defines_asked_role(question, sent):
                score += self.role_weight
            if keys and _is_row(sent) and row_holds(sent, keys):
                score += self.range_weight
            if codes and names_a_sibling(codes, sent):
                score -= self.sibling_weight
            out.append(_Candidate(rank, pos, sent, float(c), lex, score))
        return out

    def _row_cell_cosines(
        self,
        pool: list[tuple[int, int, str, str, frozenset[str]]],
        q_vec: np.ndarray,
        whole: np.ndarray,
        q_terms: frozenset[str] = frozenset(),
    ) -> np.ndarray:
        """Per pooled sentence, its best similarity as a table row read one cell at a time: the row's first
        cell (what the row is about) with each other cell ("Measure: On-time delivery; Penalty or credit: 2% of
        order value per late day"). A wide row dilutes its embedding; the question asks about one column of it.
        Only the ``row_cells`` rows most similar as a whole are read so (each cell is one more embedding);
        other sentences get -1 (the whole sentence's similarity stands). When the question names a column
        (a word of ``q_terms`` in its header: "resolution target for p2"), only that column's cells are read."""
        out = np.full(len(pool), -1.0, dtype=np.float32)
        texts: list[str] = []
        owners: list[int] = []
        rows = [i for i, (_, _, sent, _, _) in enumerate(pool) if _is_row(sent, 3)]
        for i in sorted(rows, key=lambda i: -float(whole[i]))[: self.row_cells]:
            _, _, sent, section, _ = pool[i]
            cells = sent.split("; ")
            named = [c for c in cells[1:] if q_terms & content_terms(c.split(": ", 1)[0])]
            for cell in named or cells[1:]:
                pair = f"{cells[0]}; {cell}"
                texts.append(f"{section}: {pair}" if section else pair)
                owners.append(i)
        if texts:
            sims = np.asarray(self._sentence_vectors(texts) @ q_vec, dtype=np.float32)
            for i, sim in zip(owners, sims, strict=True):
                out[i] = max(out[i], float(sim))
        return out

    def _embed_pool(self, pool: list[tuple[int, int, str, str, frozenset[str]]]) -> np.ndarray:
        # the sentence is embedded with its section path, which often carries the subject ("Interval: ...")
        return self._sentence_vectors([f"{section}: {sent}" if section else sent for _, _, sent, section, _ in pool])

    def score_candidates(
        self, question: str, hits: Sequence[Hit], query_vector: np.ndarray | None = None
    ) -> list[_Candidate]:
        """Score the sentences of the top passages. Embedding sentences is the answerer's whole cost, so only
        the ``max_embedded`` most promising ones (word overlap with the question, then passage rank) are
        embedded; the rest cannot win anyway."""
        raw = self._sentences(hits)
        if not raw:
            return []
        pool = self._promising(question, raw, self.max_embedded, _dense_first(hits[: self.top_passages]))
        q = query_vector if query_vector is not None else self.embedder.embed_query(question)
        return self._score(question, q, pool, self._embed_pool(pool))

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Embeddings of sentences, through a bounded LRU cache: staff ask about the same SOPs again and again,
        and a passage's sentences embed the same every time. Sentences not cached are embedded and used
        directly (never read back from the cache, which may already have evicted them) — in one batch, or each
        on its own when the embedder's vectors depend on their batch (``batch_invariant`` False: the int8
        graph), so that an answer never depends on which questions were asked before it."""
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for t in dict.fromkeys(texts):
                vec = self._cache.get(t)
                if vec is not None:
                    self._cache.move_to_end(t)
                    found[t] = vec
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        with self._lock:
            self.cache_stats["hits"] += len(found)
            self.cache_stats["misses"] += len(missing)
        if missing:
            if getattr(self.embedder, "batch_invariant", True):
                fresh = self.embedder.embed_documents(missing)
            elif (separately := getattr(self.embedder, "embed_separately", None)) is not None:
                fresh = separately(missing)  # so a sentence's vector never depends on what was embedded with it
            else:
                fresh = np.vstack([self.embedder.embed_documents([t]) for t in missing])
            found.update(zip(missing, fresh, strict=True))
            if self.cache_size > 0:
                with self._lock:
                    for text, vec in zip(missing, fresh, strict=True):
                        self._cache[text] = vec
                    while len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
        return np.vstack([found[t] for t in texts])

    def signals(self, question: str, best: _Candidate | None, hits: Sequence[Hit]) -> dict[str, float]:
        """What the confidence is computed from (see :mod:`copilot.retrieval.calibration`)."""
        q_terms = content_terms(question)
        top = " ".join(f"{h.chunk.title} {h.chunk.section} {h.chunk.text}" for h in hits[:3])
        top_terms = content_terms(top)
        coverage = len(q_terms & top_terms) / len(q_terms) if q_terms else 0.0
        # the most specific word of the question that the passages never mention: "enteral" (rare in English)
        # weighs, "money" (common) hardly does
        missing = [w for w in _TOKEN.findall(question.lower()) if w not in _STOP and _stem(w) not in top_terms]
        # codes and shorthand ("250k", "2fa", "p1", "otd") say nothing about the topic: only words count
        missing_specific = max((_missing_weight(w) for w in missing if w.isalpha() and len(w) > 3), default=0.0)
        agree = retrieval_agreement(hits)
        if best is None:
            return {"cosine": 0.0, "lexical": 0.0, "coverage": coverage, "missing_specific": missing_specific,
                    "numeric_match": 0.0, "score": 0.0, "agree": agree}
        numeric = expects_number(question)
        return {
            "cosine": best.cosine,
            "lexical": best.lexical,
            "coverage": coverage,
            "missing_specific": missing_specific,
            "numeric_match": (1.0 if _HAS_NUMBER.search(best.text) else 0.0) if numeric else 0.5,
            "score": best.score,
            "agree": agree,
        }

    def confidence(self, signals: Mapping[str, float]) -> float:
        """P(the passages answer the question) from the shipped calibration; without one, the first fixed
        weights (0.6 similarity, 0.1 overlap, 0.3 coverage)."""
        if self.calibration is not None:
            return self.calibration.probability(signals)
        return 0.6 * signals["cosine"] + 0.1 * signals["lexical"] + 0.3 * signals["coverage"]

    def _select(self, question: str, ranked: list[_Candidate]) -> list[_Candidate]:
        """The best sentence, close runners-up, and sentences that answer what the chosen ones leave out: a
        multi-part question ("how often ... and who signs it off") names terms the best sentence lacks; a
        sentence holding some of them, not far below the best, answers that part."""
        best = ranked[0]
        q_terms = content_terms(question)
        chosen = [best]
        covered = q_terms & content_terms(best.text)
        for c in ranked[1:]:
            if len(chosen) >= self.max_sentences or c.score < best.score - self.coverage_margin:
                break
            if any(c.text == x.text for x in chosen):
                continue
            new = (q_terms & content_terms(c.text)) - covered
            if c.score >= best.score - self.runner_up_margin or new:
                chosen.append(c)
                covered |= new
        return chosen

    def _continuation(self, lead: _Candidate, hits: Sequence[Hit], chosen: list[_Candidate]) -> list[_Candidate]:
        """The list a sentence ending in a colon introduces ("If a defibrillator fails its user test, do not
        wait:" + its numbered steps): the items that follow it in its passage, up to ``list_items``."""
        sentences = split_sentences(hits[lead.hit_rank].chunk.text)
        try:
            start = sentences.index(lead.text) + 1
        except ValueError:
            return []
        taken = {(c.hit_rank, c.text) for c in chosen}
        out = []
        for offset, sent in enumerate(sentences[start : start + self.list_items]):
            if not re.match(r"^(?:[-*•]\s|\d+[.)]\s)", sent):
                break  # the list ended
            if (lead.hit_rank, sent) not in taken:
                out.append(_Candidate(lead.hit_rank, lead.position + 1 + offset, sent, lead.cosine, lead.lexical,
                                      lead.score))
        return out

    def _refuse(self, question: str, hits: Sequence[Hit], judged: Sequence[Hit], rule: str) -> Answer:
        """An abstention a rule decided before any sentence was scored (``rule``: ``missing_identifier``,
        ``missing_site``, ``missing_name``, ``missing_amount``), with the signals of the ``judged`` passages."""
        return self._abstain(question, hits, 0.0, {**self.signals(question, None, judged), rule: 1.0})

    def _abstain(
        self, question: str, hits: Sequence[Hit], confidence: float, signals: Mapping[str, float]
    ) -> Answer:
        return Answer(
            question=question,
            text=NOT_FOUND,
            citations=(),
            abstained=True,
            passages=tuple(hits),
            confidence=confidence,
            answerer=self.name,
            signals=dict(signals),
        )

    def answer(self, question: str, hits: Sequence[Hit], *, query_vector: np.ndarray | None = None) -> Answer:
        """``query_vector``: the question's embedding when the caller already has it (retrieval made it).

        A multi-part question is also answered part by part (:func:`question_parts`): each part's best
        sentence, judged by the same calibration as a question of its own, joins the answer when it passes —
        so one answered part is not lost because the whole question matches no single sentence well. Once the
        question or any part passed, a part too short to pass on its own words ("how long did the engineer take
        to turn up") still adds its best sentence when that holds one of the part's own words."""
        raw = self._sentences(hits)
        if not raw:
            return self._abstain(question, hits, 0.0, self.signals(question, None, hits))
        if missing_identifier(question, hits[: self.top_passages]) is not None:
            return self._refuse(question, hits, hits, "missing_identifier")
        if self.sites is not None and missing_site(question, hits[: self.top_passages], self.sites()) is not None:
            return self._refuse(question, hits, hits, "missing_site")
        judging = hits  # the passages the confidence reads: the named documents' only, when the question names one
        if self.names is not None and (named := named_documents(question, hits[: self.top_passages],
                                                                    self.names())) is not None:
            raw = [r for r in raw if hits[r[0]].chunk.doc_id in named]
            if not raw:
                return self._refuse(question, hits, hits, "missing_name")
            judging = [h for h in hits if h.chunk.doc_id in named]
        if asks_amount(question) and not any(_HAS_MONEY.search(r[2]) for r in raw):
            # a money question over passages that hold no amount of money: the documents do not say
            return self._refuse(question, hits, judging, "missing_amount")
        parts = question_parts(question, self._phrases(hits)) if self.multi_part else []
        pool = self._promising(question, raw, self.max_embedded, _dense_first(hits[: self.top_passages]))
        cause = asks_cause(question)
        if cause and not any(_finding(r[3], r[2]) for r in pool):
            # none of the most promising sentences says what was found: the first findings are embedded too,
            # whatever words they share with the question
            seen = {(r[0], r[1]) for r in pool}
            pool += [r for r in raw if (r[0], r[1]) not in seen and _finding(r[3], r[2])][: self.dense_reserved]
        for _, ask in parts:  # each part's most promising sentences are embedded as well
            seen = {(r[0], r[1]) for r in pool}
            pool += [r for r in self._promising(ask, raw, self.part_embedded) if (r[0], r[1]) not in seen]
        vectors = self._embed_pool(pool)
        q = query_vector if query_vector is not None else self.embedder.embed_query(question)
        cands = self._score(question, q, pool, vectors)
        ranked = sorted(cands, key=lambda c: c.score, reverse=True)
        best = ranked[0]
        signals = self.signals(question, best, judging)
        conf = self.confidence(signals)
        chosen = self._select(question, ranked) if conf >= self.threshold else []
        if chosen and cause and not any(_finding(hits[c.hit_rank].chunk.section, c.text) for c in chosen):
            # "why did the stretcher roll away": the sentence closest to the question restates the event it
            # presupposes; what the same document found joins it
            doc = hits[best.hit_rank].chunk.doc_id
            found = next((c for c in ranked if hits[c.hit_rank].chunk.doc_id == doc
                          and _finding(hits[c.hit_rank].chunk.section, c.text)), None)
            if found is not None:
                chosen.append(found)
        judged = []
        for part, ask in parts:
            # the part's own words are what it asks for ("ratified"), not the shared context's
            words = ask if content_terms(ask) else part
            part_ranked = sorted(self._score(words, self.embedder.embed_query(part), pool, vectors),
                                 key=lambda c: c.score, reverse=True)
            judged.append((part_ranked[0], self.confidence(self.signals(words, part_ranked[0], judging))))
        # once the question or one of its parts passed, the passages are about what was asked: a part that did
        # not pass on its own few words still gets its best sentence when that holds one of the part's words
        on_topic = bool(chosen) or any(p >= self.threshold for _, p in judged)
        failed: list[tuple[str, str]] = []
        for (part, ask), (part_best, part_conf) in zip(parts, judged, strict=True):
            passes = part_conf >= self.threshold or (on_topic and part_best.lexical > 0)
            taken = any((c.hit_rank, c.position) == (part_best.hit_rank, part_best.position) for c in chosen)
            if not passes:
                failed.append((part, ask))
            elif not taken:
                chosen.append(part_best)
                conf = max(conf, part_conf)
        if not chosen:
            return self._abstain(question, hits, conf, signals)
        # a part that did not pass, that names its subject in two words of its own or more (not "what
        # tolerance", "what did that cost", "who do I ring") and that no chosen sentence shares a word with
        # ("... and who approves overtime exceptions" when no sentence names an approver) is said to be
        # missing rather than silently dropped: a false "not found" misleads more than silence, so only then
        said = frozenset().union(*(content_terms(c.text) for c in chosen))
        missing_parts = tuple(
            ask.strip(" ?,;:-").strip()
            for _, ask in failed
            if len(content_terms(ask)) >= 2
            and not _elliptical(ask)
            and not _REFERS_BACK.search(ask)
            and not (content_terms(ask) & said)
        )
        for opener in [c for c in chosen if c.text.rstrip().endswith(":")]:
            chosen.extend(self._continuation(opener, hits, chosen))  # a sentence that opens a list brings it
        chosen.sort(key=lambda c: (c.hit_rank, c.position))
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        pieces: list[str] = []
        for c in chosen:
            if c.hit_rank not in numbers:
                numbers[c.hit_rank] = len(numbers) + 1
                chunk = hits[c.hit_rank].chunk
                citations.append(
                    Citation(
                        n=numbers[c.hit_rank],
                        doc_id=chunk.doc_id,
                        title=chunk.title,
                        section=chunk.section,
                        page=chunk.page_start,
                        source=chunk.source_url,
                        quote=c.text[:300],
                    )
                )
            pieces.append(f"{c.text.lstrip('-*• ').strip()} [{numbers[c.hit_rank]}]")
        pieces += [f'{MISSING_PART} "{part}".' for part in missing_parts]
        return Answer(
            question=question,
            text=" ".join(pieces),
            citations=tuple(citations),
            abstained=False,
            passages=tuple(hits),
            confidence=conf,
            answerer=self.name,
            signals=signals,
            missing_parts=missing_parts,
        )

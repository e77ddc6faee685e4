"""Dashboard summaries in which no number can be wrong: a KPI table for a scope (a site, or the network) and a
month, a narrative written from it — a deterministic template by default, any :class:`Summariser` (an LLM, wired
by the agent issue) when configured — and a faithfulness checker that verifies every number, month, site or
supplier and direction word in the text against the table. A narrative that fails is regenerated once, then
replaced by the template. Every figure in the output carries the query that produced it.

Usage::

    table = build_table(engine, period="2026-03", site="Riverbend Clinic")
    out = summarise(table)                  # template
    out["text"], out["check"]["problems"], out["figures"][0]["query"], out["snapshot_sha256"]
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from copilot.kpi.engine import KpiEngine
from copilot.kpi.exceptions import KpiException, detect, format_value

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def month_name(period: str) -> str:
    return f"{MONTHS[int(period[5:7]) - 1]} {period[:4]}"


def previous_period(period: str) -> str:
    y, m = int(period[:4]), int(period[5:7])
    return f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"


@dataclass
class Row:
    kpi: str
    name: str
    unit: str
    good: str
    value: float | None
    previous: float | None
    level: str
    status: str
    reason: str | None
    query: str

    @property
    def direction(self) -> str | None:
        if self.value is None or self.previous is None or self.value == self.previous:
            return None if self.value is None or self.previous is None else "flat"
        return "up" if self.value > self.previous else "down"


@dataclass
class KpiTable:
    period: str
    scope: str  # a site name, or "the network"
    site: str | None
    rows: list[Row]
    exceptions: list[KpiException] = field(default_factory=list)
    known_places: list[str] = field(default_factory=list)
    """Every site and supplier the engine knows: a narrative naming one not in this table is unfaithful."""

    def snapshot(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "scope": self.scope,
            "rows": [{k: getattr(r, k) for k in ("kpi", "value", "previous", "level", "status", "unit")}
                     for r in self.rows],
            "exceptions": [e.to_dict() for e in self.exceptions],
        }

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.snapshot(), sort_keys=True, default=str).encode()).hexdigest()


def build_table(engine: KpiEngine, *, period: str, site: str | None = None) -> KpiTable:
    """The KPIs of one scope and month with the previous month beside them. Site-less KPIs (suppliers, teams)
    enter a network table as their network-wide value."""
    rows = []
    prev = previous_period(period)
    for kpi in engine.pack.kpis:
        if site is not None and kpi.site == "none":
            continue
        cur = engine.compute(kpi.id, periods=[period], site=site, by_group=False)
        old = engine.compute(kpi.id, periods=[prev], site=site, by_group=False) if prev in engine.periods else []
        c = _network(cur, kpi) if site is None else (cur[0] if cur else None)
        o = (_network(old, kpi) if site is None else (old[0] if old else None)) if old else None
        if c is None:
            continue
        q = {"kpi": kpi.id, "period": period, **({"site": site} if site else {})}
        rows.append(Row(kpi.id, kpi.name, kpi.unit, kpi.good, c.value, o.value if o else None,
                        c.level, c.status, c.reason, "/v1/kpis?" + urlencode(q)))
    found = [e for e in detect(engine, periods=[period]) if site is None or e.site == site]
    places = sorted({*(s for k in engine.pack.ids() for s in engine.sites(k)),
                     *(str(v.group) for k in ("supplier_on_time",) for v in engine.compute(k) if v.group)})
    return KpiTable(period, site or "the network", site, rows, found, places)


def _network(values: list[Any], kpi: Any) -> Any:
    """One network value from per-site cells (:func:`copilot.kpi.engine.combine`)."""
    from copilot.kpi.engine import KpiValue, combine

    ok = [v for v in values if v.status == "ok"]
    if not ok:
        return values[0] if values else None
    if len(ok) == 1:
        return ok[0]
    first = ok[0]
    value = combine([(v.value, v.numerator, v.denominator) for v in ok], kpi)
    if value is None and kpi.agg == "median":
        return KpiValue(first.kpi, first.period, None, None, None, "no_data", "unknown", first.unit,
                        reason="a median has no network total; see the per-team values")
    num = sum(v.numerator or 0 for v in ok)
    den = sum(v.denominator or 0 for v in ok)
    return KpiValue(first.kpi, first.period, None, None, value, "ok" if value is not None else "no_data",
                    kpi.status_of(value), first.unit, numerator=num, denominator=den, n=sum(v.n for v in ok))


class Summariser(Protocol):
    name: str

    def summarise(self, table: KpiTable) -> str: ...


class TemplateSummariser:
    """Deterministic sentences from the table: breaches first, then the other KPIs that moved, then exceptions."""

    name = "template"

    def summarise(self, table: KpiTable) -> str:
        month = month_name(table.period)
        ok_rows = [r for r in table.rows if r.status == "ok" and r.value is not None]
        breaches = [r for r in ok_rows if r.level == "breach"]
        warns = [r for r in ok_rows if r.level == "warn"]
        out = [f"{month}, {table.scope}: {len(breaches)} KPI(s) past their threshold, {len(warns)} near it, "
               f"{len(ok_rows)} measured."]
        for r in breaches + warns + [r for r in ok_rows if r.level == "ok"]:
            out.append(self._sentence(r, table.period))
        missing = [r for r in table.rows if r.status != "ok"]
        if missing:
            out.append("Not measured: " + "; ".join(f"{r.name} ({r.reason})" for r in missing) + ".")
        for e in table.exceptions[:5]:
            out.append(f"Exception: {e.why}. Owner: {e.owner}. Suggested: {e.action}.")
        return " ".join(out)

    def _sentence(self, r: Row, period: str) -> str:
        value = format_value(r.unit, r.value)
        state = {"breach": "past its threshold", "warn": "near its threshold", "ok": "within target"}.get(
            r.level, "")
        if r.previous is None or r.direction is None:
            return f"{r.name} was {value} ({state})."
        prev = format_value(r.unit, r.previous)
        if r.direction == "flat":
            return f"{r.name} was {value}, unchanged from {month_name(previous_period(period))} ({state})."
        verb = "rose" if r.direction == "up" else "fell"
        return f"{r.name} {verb} to {value} from {prev} in {month_name(previous_period(period))} ({state})."


# -- the faithfulness checker -------------------------------------------------------------------------------

_NUM = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:\s?%|\s?(?:days|hours|turns/year))?")
_MONTH = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+(\d{4})\b|\b(\d{4})-(\d{2})\b")
_UP = re.compile(r"\b(rose|rise|risen|up|increased?|increasing|higher|grew|climbed)\b", re.I)
_DOWN = re.compile(r"\b(fell|fall|fallen|down|decreased?|decreasing|lower|dropped|declined)\b", re.I)
_BETTER = re.compile(r"\b(improved?|improving|better)\b", re.I)
_WORSE = re.compile(r"\b(worsened|worsening|worse|deteriorated)\b", re.I)
_SENT = re.compile(r"(?<=[.!?])\s+")


def check(text: str, table: KpiTable) -> dict[str, Any]:
    """Every number, month, place and direction word in ``text`` must come from ``table``. Returns the checked
    count and the problems (an empty list is a pass)."""
    allowed_numbers = _allowed_numbers(table)
    allowed_months = {table.period, previous_period(table.period)} | {e.period for e in table.exceptions}
    places_in_table = {table.scope, *(e.site or "" for e in table.exceptions),
                       *(e.group or "" for e in table.exceptions)}
    problems: list[str] = []
    checked = 0
    for sentence in _SENT.split(text):
        months = {f"{m[1]}-{MONTHS.index(m[0]) + 1:02d}" if m[0] else f"{m[2]}-{m[3]}"
                  for m in _MONTH.findall(sentence)}
        for m in months:
            checked += 1
            if m not in allowed_months:
                problems.append(f"month {m} is not in the table: {sentence[:80]}")
        stripped = _MONTH.sub(" ", sentence)
        for item in sorted({i for e in table.exceptions for i in e.items}, key=len, reverse=True):
            stripped = stripped.replace(item, " ")  # a product's name is quoted, its digits are not figures
        for tok in _NUM.findall(stripped):
            checked += 1
            if _norm_num(tok) not in allowed_numbers:
                problems.append(f"number {tok.strip()!r} is not in the table: {sentence[:80]}")
        for place in table.known_places:
            if place and place in sentence:
                checked += 1
                if place not in places_in_table:
                    problems.append(f"{place} is not in this table: {sentence[:80]}")
        row = next((r for r in table.rows if r.name.lower() in sentence.lower()), None)
        says_up, says_down = bool(_UP.search(sentence)), bool(_DOWN.search(sentence))
        if row is not None and (_BETTER.search(sentence) or _WORSE.search(sentence)):
            checked += 1
            good_dir = "down" if row.good == "lower" else "up"
            better = row.direction == good_dir
            if row.direction in (None, "flat") or bool(_BETTER.search(sentence)) != better:
                problems.append(f"{row.name} did not get {'better' if _BETTER.search(sentence) else 'worse'}: "
                                f"{sentence[:80]}")
        if row is not None and (says_up or says_down):
            checked += 1
            if row.direction in (None, "flat") or (says_up and row.direction != "up") or (
                    says_down and row.direction != "down"):
                problems.append(f"{row.name} did not move that way ({row.direction}): {sentence[:80]}")
    return {"checked": checked, "problems": problems}


def _norm_num(tok: str) -> str:
    return re.sub(r"\s+", "", tok).replace(",", "")


def _allowed_numbers(table: KpiTable) -> set[str]:
    vals: set[str] = set()
    for r in table.rows:
        for v in (r.value, r.previous):
            if v is not None:
                vals.add(_norm_num(format_value(r.unit, v)))
    for e in table.exceptions:
        for v in (e.value, e.threshold, e.baseline):
            if v is not None:
                vals.add(_norm_num(format_value(e.unit, v)))
    for r in table.rows:  # the reasons a KPI is not measured are quoted as they are ("removed in 19")
        vals.update(_norm_num(t) for t in _NUM.findall(r.reason or ""))
    for e in table.exceptions:  # and the pack's suggested actions ("... in the last 12 months")
        vals.update(_norm_num(t) for t in _NUM.findall(e.action))
        vals.update(str(c) for c in e.counts)
    ok = [r for r in table.rows if r.status == "ok" and r.value is not None]
    counts = {str(len([r for r in ok if r.level == lv])) for lv in ("breach", "warn")} | {str(len(ok))}
    return vals | counts | {str(y) for y in range(2000, 2100)}


def summarise(table: KpiTable, summariser: Summariser | None = None) -> dict[str, Any]:
    """Write, check, regenerate once, fall back to the template. Never returns an unchecked narrative."""
    template = TemplateSummariser()
    chosen = summariser or template
    attempts: list[dict[str, Any]] = []

    def write() -> tuple[str, dict[str, Any]]:
        try:  # a model that times out or errors is an attempt that failed, never a failed summary
            text = chosen.summarise(table)
        except Exception as exc:
            return "", {"checked": 0, "problems": [f"{chosen.name} failed: {type(exc).__name__}"]}
        out = check(text, table)
        if not text.strip():
            out["problems"].append(f"{chosen.name} wrote nothing")
        return text, out

    text, result = write()
    attempts.append({"by": chosen.name, "problems": result["problems"]})
    if result["problems"] and chosen is not template:
        text, result = write()
        attempts.append({"by": chosen.name, "problems": result["problems"]})
    if result["problems"]:
        text = template.summarise(table)
        result = check(text, table)
        attempts.append({"by": template.name, "problems": result["problems"]})
    return {
        "period": table.period,
        "scope": table.scope,
        "text": text,
        "by": attempts[-1]["by"],
        "check": {**result, "attempts": attempts},
        "figures": [{"kpi": r.kpi, "name": r.name, "value": r.value, "text": format_value(r.unit, r.value),
                     "level": r.level, "query": r.query} for r in table.rows if r.value is not None],
        "exceptions": [e.to_dict() for e in table.exceptions],
        "snapshot_sha256": table.sha256(),
    }

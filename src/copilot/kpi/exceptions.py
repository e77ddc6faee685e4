"""Exceptions: where a KPI breaches its policy threshold, or jumps against its own history, ranked by impact.

Two detectors, both documented methods, no knowledge of any site, product or supplier:

- **policy**: the month's value is past the KPI's ``breach`` threshold (the pack's defaults); for a ratio counted
  over records (orders, issues, requests) the 95% Wilson interval must lie past it (one late order of two is no
  verdict; two of two is), and for a median over records the share past the line must be above one half by the
  same bound (a sign test);
- **anomaly**: a month past the KPI's ``warn`` line (unusual *and* material) whose modified z-score of
  Iglewicz & Hoaglin (1993), ``0.6745 (x - median) / MAD`` over the same
  series' *other* months, at or beyond ``Z_CUTOFF`` = 3.5 (their recommended cut-off) in the KPI's bad direction.
  A series whose MAD is 0 (flat history) flags a month that departs from the median by more than the KPI's
  ``warn``-to-``breach`` gap — the smallest move the pack calls material.

- **recurrence** (KPIs whose pack entry has a ``recurrence`` rule): one item at one site — a product — short in at
  least ``min`` of some ``months`` consecutive months flags each of those months at the site, naming the product.
  A site's monthly rate over hundreds of issues hides one product that keeps running out; the rule is the pack's
  (three of six months for stockouts), not fitted per case.

Ranking: patient safety first, then money (the amount at stake: over-budget spend, expiring stock value), then
service; within a tier by how far past the threshold (or how many MADs) the value lies.

Usage::

    found = detect(engine, periods=["2026-03"])
    found[0].kpi, found[0].site, found[0].why, found[0].owner, found[0].records
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from copilot.kpi.engine import Fact, KpiEngine, KpiValue, counts_against
from copilot.kpi.pack import KpiDef, Recurrence

Z_CUTOFF = 3.5
TIER = {"patient_safety": 3, "money": 2, "service": 1}
MIN_HISTORY = 6
"""An anomaly needs at least this many other months in the series (a median of fewer says little)."""


@dataclass
class KpiException:
    kpi: str
    name: str
    period: str
    site: str | None
    group: str | None
    value: float
    unit: str
    kinds: list[str]
    impact: str
    owner: str
    action: str
    threshold: float
    baseline: float | None
    z: float | None
    severity: float
    amount: float | None
    records: list[dict[str, Any]] = field(default_factory=list)
    why: str = ""
    items: list[str] = field(default_factory=list)
    """The items (products) a recurrence names, quoted as they are in ``why``."""
    counts: list[int] = field(default_factory=list)
    """Other whole numbers ``why`` quotes (a recurrence's months and its window)."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("value", "baseline", "z", "severity", "amount"):
            if isinstance(d[k], float):
                d[k] = round(d[k], 4)
        return d

    def rank_key(self) -> tuple[int, float, float]:
        return (TIER[self.impact], self.amount or 0.0, self.severity)


def _worse(kpi: KpiDef, a: float, b: float) -> float:
    """How much worse ``a`` is than ``b`` in the KPI's bad direction (negative when better)."""
    return a - b if kpi.good == "lower" else b - a


def _amount(kpi: KpiDef, v: KpiValue) -> float | None:
    if kpi.unit == "currency":
        return v.value
    if kpi.id == "budget_variance" and v.numerator is not None:
        return max(0.0, v.numerator)
    return None


def detect(
    engine: KpiEngine, *, periods: list[str] | None = None, kpis: list[str] | None = None
) -> list[KpiException]:
    wanted = set(periods or engine.periods[-1:])
    found: list[KpiException] = []
    for kpi in engine.pack.kpis:
        if kpis and kpi.id not in kpis:
            continue
        series: dict[tuple[str | None, str | None], dict[str, KpiValue]] = defaultdict(dict)
        for v in engine.compute(kpi.id):
            if v.status == "ok" and v.value is not None:
                series[(v.site, v.group)][v.period] = v
        for (site, group), by_period in series.items():
            for period in sorted(wanted & by_period.keys()):
                v = by_period[period]
                x = float(v.value)  # type: ignore[arg-type]
                kinds: list[str] = []
                severity = 0.0
                breach = kpi.thresholds.breach
                if _worse(kpi, x, breach) > 0 and _significant(kpi, v):
                    kinds.append("policy")
                    severity = max(severity, _worse(kpi, x, breach) / (abs(breach) or 1.0))
                others = [float(o.value) for p, o in by_period.items() if p != period and o.value is not None]
                baseline = statistics.median(others) if others else None
                z = None
                if baseline is not None and len(others) >= MIN_HISTORY:
                    mad = statistics.median(abs(o - baseline) for o in others)
                    step = abs(kpi.thresholds.breach - kpi.thresholds.warn)
                    material = _worse(kpi, x, kpi.thresholds.warn) > 0 and _significant(kpi, v, kpi.thresholds.warn)
                    if mad > 0:
                        z = 0.6745 * _worse(kpi, x, baseline) / mad
                        if z >= Z_CUTOFF and material:
                            kinds.append("anomaly")
                            severity = max(severity, z / Z_CUTOFF - 1)
                    elif _worse(kpi, x, baseline) > step and material:
                        kinds.append("anomaly")
                        severity = max(severity, _worse(kpi, x, baseline) / (step or 1.0) - 1)
                if not kinds:
                    continue
                where = site or group or "the network"
                why = (f"{kpi.name} {_fmt(kpi, x)} at {where} in {period}"
                       + (f", past the {_fmt(kpi, breach)} threshold" if "policy" in kinds else "")
                       + (f", against a usual {_fmt(kpi, baseline)}" if "anomaly" in kinds and baseline is not None
                          else ""))
                found.append(KpiException(
                    kpi.id, kpi.name, period, site, group, x, kpi.unit, kinds, kpi.impact, kpi.owner, kpi.action,
                    breach, baseline, z, severity, _amount(kpi, v), v.records, why))
        if kpi.recurrence:
            _add_recurring(found, kpi, engine.facts(kpi), kpi.recurrence, engine.periods, wanted, series)
    return sorted(found, key=lambda e: e.rank_key(), reverse=True)


def _add_recurring(found: list[KpiException], kpi: KpiDef, facts: list[Fact], rule: Recurrence,
                   periods: list[str], wanted: set[str],
                   series: dict[tuple[str | None, str | None], dict[str, KpiValue]]) -> None:
    bad: dict[tuple[str | None, str], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for f in facts:
        if f.item and counts_against(kpi, f):
            bad[(f.site, f.item)][f.period].append({"model": f.model, "id": f.ref})
    order = {p: i for i, p in enumerate(periods)}
    by_cell: dict[tuple[str | None, str], list[tuple[str, int, list[dict[str, Any]]]]] = defaultdict(list)
    for (site, item), months in bad.items():
        idx = sorted(order[m] for m in months if m in order)
        for period in sorted(wanted & months.keys()):
            i = order.get(period)
            if i is None:
                continue
            best = max(sum(1 for j in idx if start <= j < start + rule.months)
                       for start in range(max(0, i - rule.months + 1), i + 1))
            if best >= rule.min:
                by_cell[(site, period)].append((item, best, months[period]))
    existing = {(e.site, e.group, e.period): e for e in found if e.kpi == kpi.id}
    for (site, period), items in sorted(by_cell.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        names = ", ".join(sorted(i for i, _, _ in items))
        most = max(n for _, n, _ in items)
        why = f"{names} short at {site or 'the network'} in {period} and in {most} of {rule.months} months around it"
        records = [r for _, _, rs in items for r in rs][:20]
        e = existing.get((site, None, period))
        if e is not None:
            e.kinds.append("recurrence")
            e.why += f"; {why}"
            e.records = (records + [r for r in e.records if r not in records])[:20]
            e.items += [i for i, _, _ in items]
            e.counts += [most, rule.months]
            continue
        v = series.get((site, None), {}).get(period)
        if v is None or v.value is None:
            continue
        found.append(KpiException(
            kpi.id, kpi.name, period, site, None, float(v.value), kpi.unit, ["recurrence"], kpi.impact, kpi.owner,
            kpi.action, kpi.thresholds.breach, None, None, most / rule.min - 1, _amount(kpi, v), records, why,
            [i for i, _, _ in items], [most, rule.months]))


def _significant(kpi: KpiDef, v: KpiValue, line: float | None = None) -> bool:
    """A policy breach must be more than the luck of a small count.

    - A ratio counted over records (one per order, issue, request) breaches only when the 95% Wilson interval lies
      past the threshold: one late order out of two is no verdict (interval up to 0.91 against an 80% line), though
      none on time out of one or two is (up to 0.79 and 0.66).
    - A median over records breaches only when the share of records past the line is above one half with the same
      95% Wilson bound (the sign test for a median): two slow tickets of two are no verdict, seven of seven are.
    - Other KPIs (sums, money, ratios of amounts): always.

    ``line`` is the breach threshold unless given (an anomaly asks the same of the warn line).
    """
    if kpi.agg == "median":  # the count is of records past the breach line; the warn line asks no test
        if line is not None or v.past_breach is None or not v.n:
            return True
        return _wilson(v.past_breach / v.n, v.n)[0] > 0.5
    line = kpi.thresholds.breach if line is None else line
    if kpi.unit != "ratio" or v.denominator is None or v.numerator is None or v.denominator != v.n or v.n == 0:
        return True
    low, high = _wilson(v.numerator / v.n, v.n)
    return _worse(kpi, low if kpi.good == "lower" else high, line) > 0


def _wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``p`` observed over ``n`` trials."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return centre - half, centre + half


def _fmt(kpi: KpiDef, x: float | None) -> str:
    return format_value(kpi.unit, x)


def format_value(unit: str, x: float | None) -> str:
    """How a value is written everywhere (tables, summaries, the faithfulness checker)."""
    if x is None:
        return "n/a"
    if unit == "ratio":
        return f"{x * 100:.1f}%"
    if unit == "currency":
        return f"{x:,.0f}"
    if unit == "turns_per_year":
        return f"{x:.1f} turns/year"
    return f"{x:.1f} {unit}"

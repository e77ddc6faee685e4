"""Compute the KPI pack from Odoo: per month, per site (or supplier, team, department), 12 months of history.

Each KPI's ``compute`` names a function in :data:`COMPUTE` that turns Odoo records into *facts* — one per record
(or per site-month for a denominator), each ``(period, site, group, numerator, denominator)`` — and the engine
aggregates facts into values by the KPI's ``agg``. Records are read once per model and window in keyset pages
(``search_read``), or aggregated by Odoo with ``read_group`` where the KPI is a plain sum (budgets); the fetched
windows are cached for the engine's life (one engine per request or per refresh), and every Odoo request is
counted. A KPI whose model the server does not have, or which needs data Odoo does not hold, comes back as
``unavailable`` with the reason — never a number.

Usage::

    engine = KpiEngine(client, KpiPack.load(), today=date(2026, 4, 30), site_aliases={"lakeside": "Lakeside Hospital"})
    rows = engine.compute("stockout_rate")                       # every site x month
    engine.compute("supplier_on_time", periods=["2026-03"])      # by supplier
    engine.requests                                              # Odoo requests so far
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from copilot.kpi.pack import KpiDef, KpiPack

PAGE = 2000


@dataclass(frozen=True)
class Fact:
    period: str
    site: str | None
    group: str | None
    num: float
    den: float = 1.0
    model: str | None = None
    ref: int | None = None
    """The Odoo record behind the fact (an exception names the records that count against the KPI)."""
    item: str | None = None
    """What the record is about (a product), for KPIs with a ``recurrence`` rule."""


@dataclass
class KpiValue:
    kpi: str
    period: str
    site: str | None
    group: str | None
    value: float | None
    status: str  # ok | no_data | unavailable
    level: str  # ok | warn | breach | unknown
    unit: str
    numerator: float | None = None
    denominator: float | None = None
    n: int = 0
    reason: str | None = None
    source: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    """Up to 20 records that count against the KPI in this cell ({"model", "id"})."""
    past_breach: int | None = None
    """Median KPIs: how many of the ``n`` records lie past the breach line (the sign test's count)."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if isinstance(d["value"], float):
            d["value"] = round(d["value"], 6)
        return d


def combine(cells: Sequence[tuple[float | None, float | None, float | None]], kpi: KpiDef) -> float | None:
    """One value from several cells of a period (sites, suppliers, departments), each ``(value, numerator,
    denominator)``: summed numerators over summed denominators, the sum for money, None for a median (a median
    has no total). The network figure of summaries and charts."""
    if not cells:
        return None
    if len(cells) == 1:
        return cells[0][0]
    if kpi.agg == "median":
        return None
    num = sum(c[1] or 0.0 for c in cells)
    if kpi.agg == "sum" or kpi.unit == "currency":
        return num
    den = sum(c[2] or 0.0 for c in cells)
    return num / den if den else None


class Unavailable(Exception):
    """Not an error: the KPI cannot be computed on this server; the reason is reported instead of a number."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def month_of(value: Any) -> str | None:
    if not value:
        return None
    return str(value)[:7]


def months_back(today: date, n: int) -> list[str]:
    out, y, m = [], today.year, today.month
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return sorted(out)


def _month_end(period: str) -> date:
    y, m = int(period[:4]), int(period[5:7])
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _pair(value: Any) -> tuple[Any, str | None]:
    """A group key as (raw, label): many2one ``[id, name]``, 19's dates ``["2026-10-01", "October 2026"]``, or a
    bare label ("October 2026", read_group's date groups before 19)."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], str(value[1])
    return value, str(value) if value not in (None, False) else None


def _m2o(value: Any) -> tuple[int | None, str | None]:
    if isinstance(value, list | tuple) and value:
        return int(value[0]), str(value[1]) if len(value) > 1 else None
    return None, None


class KpiEngine:
    def __init__(
        self,
        client: Any,
        pack: KpiPack | None = None,
        *,
        today: date | None = None,
        months: int = 12,
        site_aliases: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.pack = pack or KpiPack.load()
        self.today = today or datetime.now(UTC).date()
        self.periods = months_back(self.today, months)
        self.site_aliases = dict(site_aliases or {})
        self.requests = 0
        self._records: dict[tuple[str, tuple[str, ...], str], list[dict[str, Any]]] = {}
        self._fields: dict[str, dict[str, Any] | None] = {}
        self._facts: dict[str, list[Fact]] = {}
        self.no_site: dict[str, str] = {}
        """KPI id -> why it has no per-site breakdown on this server."""

    # -- Odoo access (counted, cached) -------------------------------------------------------------------------

    def fields(self, model: str) -> dict[str, Any] | None:
        if model not in self._fields:
            self.requests += 1
            self._fields[model] = self.client.fields_of(model)
        return self._fields[model]

    def need(self, model: str, *fields: str) -> None:
        have = self.fields(model)
        if have is None:
            raise Unavailable(f"model {model} is not installed on this Odoo")
        if not have:
            raise Unavailable(f"the sync account may not read {model}")
        missing = [f for f in fields if f not in have]
        if missing:
            raise Unavailable(f"{model} has no field(s) {', '.join(missing)} on this Odoo")

    def records(self, model: str, fields: Sequence[str], domain: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every matching record, keyset-paged by id; cached per (model, fields, domain) for the engine's life."""
        key = (model, tuple(sorted(fields)), repr(list(domain)))
        if key not in self._records:
            self.need(model, *fields)
            out: list[dict[str, Any]] = []
            last = 0
            while True:
                self.requests += 1
                page = self.client.search_read(
                    model, [*domain, ("id", ">", last)], list(fields), order="id asc", limit=PAGE
                )
                out.extend(page)
                if len(page) < PAGE:
                    break
                last = int(page[-1]["id"])
            self._records[key] = out
        return self._records[key]

    def group_sums(
        self, model: str, domain: Sequence[Any], sums: Sequence[str], groupby: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Sums per group, aggregated by Odoo: ``formatted_read_group`` on 19+ (``read_group`` is deprecated
        there), ``read_group`` before. Rows come back uniform: each groupby spec -> (raw key, label), each summed
        field -> its total."""
        self.requests += 1
        if getattr(self.client, "major", 0) >= 19:
            rows = self.client.formatted_read_group(model, list(domain), list(groupby), [f"{f}:sum" for f in sums])
            return [{**{g: _pair(r.get(g)) for g in groupby}, **{f: r.get(f"{f}:sum") for f in sums}} for r in rows]
        rows = self.client.read_group(model, list(domain), [f"{f}:sum" for f in sums], list(groupby), lazy=False)
        return [{**{g: _pair(r.get(g)) for g in groupby}, **{f: r.get(f) for f in sums}} for r in rows]

    # -- sites ------------------------------------------------------------------------------------------------

    def site_name(self, key: str | None) -> str | None:
        if not key:
            return None
        return self.site_aliases.get(key, key)

    def stock_sites(self) -> dict[int, tuple[str | None, str]]:
        """Location id -> (site, usage). An internal location's site is its full name before the first "/"."""
        rows = self.records("stock.location", ["complete_name", "name", "usage"])
        out: dict[int, tuple[str | None, str]] = {}
        for r in rows:
            name = str(r.get("complete_name") or r.get("name") or "")
            site = name.split("/")[0].strip() if r.get("usage") == "internal" and "/" in name else None
            out[int(r["id"])] = (site, str(r.get("usage") or ""))
        return out

    def equipment_sites(self, kpi: KpiDef) -> dict[int, str | None]:
        """Equipment id -> site: its free-text ``location`` (≤18), else the site of its stock location
        (``location_id``, added by ``stock_maintenance``; what 19 has). On a server with neither every record counts
        for the network and a per-site question about this KPI gets the reason instead of a number."""
        have = self.fields("maintenance.equipment") or {}
        if "location" in have:
            return {int(r["id"]): (str(r["location"]) if r.get("location") else None)
                    for r in self.records("maintenance.equipment", ["location"])}
        if "location_id" in have:
            stock = self.stock_sites()
            return {int(r["id"]): stock.get(_m2o(r.get("location_id"))[0] or -1, (None, ""))[0]
                    for r in self.records("maintenance.equipment", ["location_id"])}
        self.no_site[kpi.id] = (
            "maintenance.equipment has no site on this Odoo (no free-text `location`, removed in 19, and no "
            "`location_id` from stock_maintenance): network figures only"
        )
        return {}

    # -- compute ----------------------------------------------------------------------------------------------

    def facts(self, kpi: KpiDef) -> list[Fact]:
        if kpi.id not in self._facts:
            self._facts[kpi.id] = list(COMPUTE[kpi.compute](self, kpi))
        return self._facts[kpi.id]

    def compute(
        self,
        kpi_id: str,
        *,
        periods: Sequence[str] | None = None,
        site: str | None = None,
        by_group: bool | None = None,
    ) -> list[KpiValue]:
        """One value per (period, site or group). ``site`` narrows to one site (its name); the network level is
        ``site=None`` with ``by_group`` False for a site-less KPI."""
        kpi = self.pack[kpi_id]
        wanted = list(periods or self.periods)
        try:
            facts = self.facts(kpi)
        except Unavailable as exc:
            return [KpiValue(kpi.id, p, site, None, None, "unavailable", "unknown", kpi.unit, reason=exc.reason)
                    for p in wanted]
        if site is not None and kpi.site == "none":
            return [KpiValue(kpi.id, p, site, None, None, "unavailable", "unknown", kpi.unit,
                             reason=f"{kpi.name} is not measured per site (it is broken down by {kpi.by or 'network'})")
                    for p in wanted]
        if site is not None and kpi.id in self.no_site:
            return [KpiValue(kpi.id, p, site, None, None, "unavailable", "unknown", kpi.unit,
                             reason=self.no_site[kpi.id]) for p in wanted]
        grouped: dict[tuple[str, str | None, str | None], list[Fact]] = defaultdict(list)
        use_group = kpi.by is not None if by_group is None else by_group
        for f in facts:
            if f.period not in wanted:
                continue
            if site is not None and f.site != site:
                continue
            key_site = f.site if kpi.site != "none" and kpi.id not in self.no_site else None
            grouped[(f.period, key_site, f.group if use_group else None)].append(f)
        out = []
        for p in wanted:
            keys = sorted((k for k in grouped if k[0] == p), key=lambda k: (str(k[1]), str(k[2])))
            if not keys:
                out.append(KpiValue(kpi.id, p, site, None, None, "no_data", "unknown", kpi.unit,
                                    reason="no records for this period", source=self.source(kpi)))
                continue
            for k in keys:
                out.append(self._value(kpi, k, grouped[k]))
        return out

    def _value(self, kpi: KpiDef, key: tuple[str, str | None, str | None], facts: list[Fact]) -> KpiValue:
        num = sum(f.num for f in facts)
        den = sum(f.den for f in facts)
        n = sum(1 for f in facts if f.den)
        value: float | None
        if kpi.agg == "sum":
            value = num
        elif kpi.agg == "median":
            value = statistics.median(f.num for f in facts) if facts else None
        else:
            value = num / den if den else None
        status = "ok" if value is not None else "no_data"
        bad = [{"model": f.model, "id": f.ref} for f in facts if f.model and f.ref and counts_against(kpi, f)]
        past = None
        if kpi.agg == "median":
            past = sum(1 for f in facts if kpi.status_of(f.num) == "breach")
        return KpiValue(kpi.id, key[0], key[1], key[2], value, status, kpi.status_of(value), kpi.unit,
                        numerator=round(num, 6), denominator=round(den, 6), n=n,
                        reason=None if value is not None else "nothing to divide by", source=self.source(kpi),
                        records=list({(r["model"], r["id"]): r for r in bad}.values())[:20], past_breach=past)

    def source(self, kpi: KpiDef) -> dict[str, Any]:
        return {"models": kpi.models, "filters": kpi.filters, "period": kpi.period}

    def sites(self, kpi_id: str) -> list[str]:
        kpi = self.pack[kpi_id]
        try:
            return sorted({f.site for f in self.facts(kpi) if f.site})
        except Unavailable:
            return []


def counts_against(kpi: KpiDef, f: Fact) -> bool:
    """Does this record count against the KPI (a short issue, a late order, an uncovered machine...)?"""
    if kpi.agg == "median":
        return f.num > kpi.thresholds.warn
    if kpi.agg == "sum" or kpi.id == "budget_variance":
        return f.num > 0
    if kpi.good == "lower":
        return f.num > 0
    return f.num < f.den


# -- the compute functions (registry: name -> function) --------------------------------------------------------


MOVE_FIELDS = ["product_id", "product_uom_qty", "quantity", "location_id", "location_dest_id", "date"]
"""One field list for every stock.move read, so the moves are fetched once per engine."""


def _consumption(e: KpiEngine) -> Iterable[tuple[dict[str, Any], str | None]]:
    sites = e.stock_sites()
    moves = e.records("stock.move", MOVE_FIELDS, [("state", "=", "done")])
    for m in moves:
        src, _ = _m2o(m.get("location_id"))
        dst, _ = _m2o(m.get("location_dest_id"))
        site, usage = sites.get(src or -1, (None, ""))
        if usage == "internal" and sites.get(dst or -1, (None, ""))[1] == "customer":
            yield m, site


def stockout_rate(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    for m, site in _consumption(e):
        demand, done = float(m.get("product_uom_qty") or 0), float(m.get("quantity") or 0)
        if demand <= 0:
            continue
        period = month_of(m.get("date"))
        if period:
            yield Fact(period, site, None, 1.0 if done < demand else 0.0, 1.0, "stock.move", int(m["id"]),
                       _m2o(m.get("product_id"))[1])


def _costs(e: KpiEngine) -> dict[int, float]:
    return {int(r["id"]): float(r.get("standard_price") or 0)
            for r in e.records("product.product", ["standard_price"], [("active", "in", [True, False])])}


def _on_hand(e: KpiEngine) -> list[tuple[dict[str, Any], str | None]]:
    sites = e.stock_sites()
    out = []
    for q in e.records("stock.quant", ["product_id", "location_id", "lot_id", "quantity"]):
        loc, _ = _m2o(q.get("location_id"))
        site, usage = sites.get(loc or -1, (None, ""))
        if usage == "internal" and float(q.get("quantity") or 0) > 0:
            out.append((q, site))
    return out


def expired_inventory_value(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    """Stock value of lots expired or expiring within ``HORIZON_DAYS`` after each month's end (today's quants:
    Odoo keeps no quant history). Every site holding stock gets a fact per month, so none-expiring is 0, not
    "no data"."""
    costs = _costs(e)
    lots = {int(r["id"]): r.get("expiration_date") for r in e.records("stock.lot", ["expiration_date"])}
    for q, site in _on_hand(e):
        lot, _ = _m2o(q.get("lot_id"))
        expiry = str(lots.get(lot or -1) or "")[:10]
        pid, _ = _m2o(q.get("product_id"))
        value = float(q["quantity"]) * costs.get(pid or -1, 0.0)
        for p in e.periods:
            horizon = (_month_end(p) + timedelta(days=HORIZON_DAYS)).isoformat()
            yield Fact(p, site, None, value if expiry and expiry <= horizon else 0.0, 1.0, "stock.lot", lot)


HORIZON_DAYS = 30
"""Near-expiry horizon: hospital pharmacies pull stock 30 days before expiry (a common policy; the pack says so)."""


def inventory_turnover(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    costs = _costs(e)
    on_hand: dict[str | None, float] = defaultdict(float)
    for q, site in _on_hand(e):
        pid, _ = _m2o(q.get("product_id"))
        on_hand[site] += float(q["quantity"]) * costs.get(pid or -1, 0.0)
    issued: dict[tuple[str, str | None], float] = defaultdict(float)
    for m, site in _consumption(e):
        pid, _ = _m2o(m.get("product_id"))
        period = month_of(m.get("date"))
        if period:
            issued[(period, site)] += float(m.get("quantity") or 0) * costs.get(pid or -1, 0.0)
    for (period, site), value in issued.items():
        if on_hand.get(site):
            yield Fact(period, site, None, value * 12, on_hand[site])


def _received_orders(e: KpiEngine) -> list[dict[str, Any]]:
    return [o for o in e.records("purchase.order", ["partner_id", "date_order", "date_planned", "effective_date",
                                                    "state"], [("state", "in", ["purchase", "done"])])
            if o.get("effective_date")]


def _days(a: Any, b: Any) -> float:
    fa = datetime.fromisoformat(str(a)[:19])
    fb = datetime.fromisoformat(str(b)[:19])
    return (fb - fa).total_seconds() / 86400


def purchase_cycle_time(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    for o in _received_orders(e):
        period = month_of(o["effective_date"])
        if period and o.get("date_order"):
            days = _days(o["date_order"], o["effective_date"])
            late = days > kpi.thresholds.warn
            yield Fact(period, None, _m2o(o.get("partner_id"))[1], days, 1.0, "purchase.order" if late else None,
                       int(o["id"]))


def supplier_on_time(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    for o in _received_orders(e):
        period = month_of(o["effective_date"])
        if period and o.get("date_planned"):
            on_time = str(o["effective_date"])[:10] <= str(o["date_planned"])[:10]
            yield Fact(period, None, _m2o(o.get("partner_id"))[1], 1.0 if on_time else 0.0, 1.0, "purchase.order",
                       int(o["id"]))


def _requests_of(e: KpiEngine, kind: str) -> list[dict[str, Any]]:
    rows = e.records("maintenance.request", ["equipment_id", "request_date", "close_date", "maintenance_type"],
                     [("maintenance_type", "in", ["preventive", "corrective"])])
    return [r for r in rows if r.get("maintenance_type") == kind]


def pm_compliance(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    sites = e.equipment_sites(kpi)
    for r in _requests_of(e, "preventive"):
        period = month_of(r.get("request_date"))
        if not period or period > f"{e.today:%Y-%m}":
            continue
        due = date.fromisoformat(str(r["request_date"])[:10])
        if (e.today - due).days < 7 and not r.get("close_date"):
            continue  # not yet late: still inside its grace week
        closed = r.get("close_date")
        ok = bool(closed) and (date.fromisoformat(str(closed)[:10]) - due).days <= 7
        eq, _ = _m2o(r.get("equipment_id"))
        yield Fact(period, sites.get(eq or -1), None, 1.0 if ok else 0.0, 1.0, "maintenance.request", int(r["id"]))


HISTORY_SLACK_DAYS = 7
"""A window starting up to a week before the recorded history still counts as inside it (no PM round is shorter
than a month, so a week without records at the edge says nothing)."""


def history_start(days: Iterable[str]) -> date | None:
    """Where the recorded history starts: the first day of the first month with at least half the median monthly
    number of requests. A few stray older records (an imported last PM, a migrated work order) do not stretch the
    history back to months that hold almost nothing, which would count every machine as uncovered there."""
    per_month: dict[str, int] = defaultdict(int)
    for d in days:
        per_month[d[:7]] += 1
    if not per_month:
        return None
    typical = statistics.median(per_month.values())
    first = min(m for m, n in per_month.items() if n >= typical / 2)
    return date.fromisoformat(f"{first}-01")


def pm_coverage(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    """Per month end: equipment with a preventive maintenance closed in the trailing 12 months / all equipment.
    Only months whose whole window lies inside the recorded history are computed (earlier ones would count
    equipment as uncovered for want of data)."""
    sites = e.equipment_sites(kpi)
    equipment = [int(r["id"]) for r in e.records("maintenance.equipment", ["name"])]
    done: dict[int, list[str]] = defaultdict(list)
    requested: list[str] = []
    for r in e.records("maintenance.request", ["equipment_id", "request_date", "close_date", "maintenance_type"],
                       [("maintenance_type", "in", ["preventive", "corrective"])]):
        if r.get("request_date"):
            requested.append(str(r["request_date"])[:10])
        eq, _ = _m2o(r.get("equipment_id"))
        if r.get("maintenance_type") == "preventive" and r.get("close_date") and eq:
            done[eq].append(str(r["close_date"])[:10])
    first = history_start(requested)
    if first is None:
        return
    for p in e.periods:
        end = _month_end(p)
        start = date(end.year - 1, end.month, end.day) if not (end.month == 2 and end.day == 29) else end
        if (first - start).days > HISTORY_SLACK_DAYS:
            continue  # the window reaches back before the recorded history
        for eq in equipment:
            covered = any(start.isoformat() < d <= end.isoformat() for d in done.get(eq, ()))
            yield Fact(p, sites.get(eq), None, 1.0 if covered else 0.0, 1.0, "maintenance.equipment", eq)


def equipment_uptime(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    """One fact per device and month: its days in service over its days in the month (a device with no request
    counts every day up). The device is the unit an exception names."""
    sites = e.equipment_sites(kpi)
    devices = [int(r["id"]) for r in e.records("maintenance.equipment", ["name"])]
    down: dict[tuple[str, int], float] = defaultdict(float)
    for r in _requests_of(e, "corrective"):
        eq, _ = _m2o(r.get("equipment_id"))
        if not r.get("request_date") or eq is None:
            continue
        start = date.fromisoformat(str(r["request_date"])[:10])
        end = date.fromisoformat(str(r["close_date"])[:10]) if r.get("close_date") else e.today
        day = start
        while day < end:
            down[(f"{day:%Y-%m}", eq)] += 1.0
            day += timedelta(days=1)
    for p in e.periods:
        days = float(_month_end(p).day if p != f"{e.today:%Y-%m}" else e.today.day)
        for eq in devices:
            up = max(0.0, days - down.get((p, eq), 0.0))
            yield Fact(p, sites.get(eq) if sites else None, None, up, days, "maintenance.equipment", eq)


def _departments(e: KpiEngine) -> dict[int, tuple[str, str | None]]:
    return {int(r["id"]): (str(r["name"]), e.site_name(r.get("x_site") or None))
            for r in e.records("hr.department", ["name", "x_site"])}


def budget_variance(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    e.need("x_department_budget", "x_department_id", "x_month", "x_budget", "x_actual")
    depts = _departments(e)
    rows = e.group_sums("x_department_budget", [], ["x_budget", "x_actual"], ["x_department_id", "x_month:month"])
    for g in rows:
        did, _ = g["x_department_id"]
        raw, label = g["x_month:month"]
        period = str(raw)[:7] if isinstance(raw, str) and raw[:4].isdigit() else _period_of_group(label)
        name, site = depts.get(int(did) if did else -1, (str(did), None))
        budget, actual = float(g.get("x_budget") or 0), float(g.get("x_actual") or 0)
        if period and budget:
            yield Fact(period, site, name.split(" / ")[-1], actual - budget, budget, "hr.department", did)


_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                         "september", "october", "november", "december"], 1)}


def _period_of_group(label: Any) -> str | None:
    """read_group's month label ("March 2026") as "2026-03"."""
    if not label:
        return None
    parts = str(label).split()
    if len(parts) == 2 and parts[0].lower() in _MONTHS and parts[1].isdigit():
        return f"{int(parts[1]):04d}-{_MONTHS[parts[0].lower()]:02d}"
    return str(label)[:7]


def overtime_percentage(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    raise Unavailable(f"needs {kpi.needs}; overtime hours alone are not a percentage")


def ticket_resolution_time(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    for t in e.records("helpdesk.ticket", ["team_id", "create_date", "close_date"], [("close_date", "!=", False)]):
        period = month_of(t.get("close_date"))
        if period and t.get("create_date"):
            yield Fact(period, None, _m2o(t.get("team_id"))[1], _days(t["create_date"], t["close_date"]) * 24, 1.0,
                       "helpdesk.ticket", int(t["id"]))


def days_to_close(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    e.need("account.move", "date", "state", "write_date")
    by_month: dict[str, str] = {}
    for m in e.records("account.move", ["date", "write_date"], [("state", "=", "posted")]):
        p = month_of(m.get("date"))
        if p:
            by_month[p] = max(by_month.get(p, ""), str(m.get("write_date") or ""))
    for p, last in by_month.items():
        yield Fact(p, None, None, float((date.fromisoformat(last[:10]) - _month_end(p)).days), 1.0)


def cycle_count_accuracy(e: KpiEngine, kpi: KpiDef) -> Iterable[Fact]:
    sites = e.stock_sites()
    costs = _costs(e)
    on_hand: dict[str | None, float] = defaultdict(float)
    for q, site in _on_hand(e):
        pid, _ = _m2o(q.get("product_id"))
        on_hand[site] += float(q["quantity"]) * costs.get(pid or -1, 0.0)
    adjusted: dict[tuple[str, str | None], float] = defaultdict(float)
    for m in e.records("stock.move", MOVE_FIELDS, [("state", "=", "done")]):
        src, _ = _m2o(m.get("location_id"))
        dst, _ = _m2o(m.get("location_dest_id"))
        s_site, s_use = sites.get(src or -1, (None, ""))
        d_site, d_use = sites.get(dst or -1, (None, ""))
        if "inventory" not in (s_use, d_use):
            continue
        site = s_site if s_use == "internal" else d_site
        pid, _ = _m2o(m.get("product_id"))
        period = month_of(m.get("date"))
        if period:
            adjusted[(period, site)] += abs(float(m.get("quantity") or 0)) * costs.get(pid or -1, 0.0)
    for (period, site), value in adjusted.items():
        if on_hand.get(site):
            yield Fact(period, site, None, max(0.0, on_hand[site] - value), on_hand[site])


COMPUTE: dict[str, Callable[[KpiEngine, KpiDef], Iterable[Fact]]] = {
    "stockout_rate": stockout_rate,
    "expired_inventory_value": expired_inventory_value,
    "inventory_turnover": inventory_turnover,
    "purchase_cycle_time": purchase_cycle_time,
    "supplier_on_time": supplier_on_time,
    "pm_compliance": pm_compliance,
    "pm_coverage": pm_coverage,
    "equipment_uptime": equipment_uptime,
    "budget_variance": budget_variance,
    "overtime_percentage": overtime_percentage,
    "ticket_resolution_time": ticket_resolution_time,
    "days_to_close": days_to_close,
    "cycle_count_accuracy": cycle_count_accuracy,
}

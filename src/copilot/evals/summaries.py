"""Dashboard summaries, exceptions and KPIs measured on seeded demo networks.

For each seed: the demo network (Odoo 17, where equipment carries its site) with the seeded exceptions of
:mod:`copilot.demo.inject` (>= 20 of 8 kinds) on top of the base network's five; the KPI engine reads it through the
real client from the protocol double.

- ``exceptions``: every (KPI, site or supplier/team, month) the detectors flag, against the ground truth:
  recall over truth cells, precision over flagged cells, per kind;
- ``summaries``: a verified summary for every site x the last 4 months and the network x the last 6 months
  (50 per seed), counting the numbers and claims the faithfulness checker rejects in the final text;
- ``kpi``: stockout rate, supplier on-time, budget variance and ticket resolution time recomputed independently
  with pandas on the double's raw tables, every cell compared with the engine's.

Seeds 1-3 are the development seeds (the defaults of the detectors were looked at on them); the default run
scores the untouched seeds 101-105.

Usage::

    copilot eval summaries --seed 101 --json
    copilot eval summaries --json                  # seeds 101-105
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

DEV_SEEDS = (1, 2, 3)
TEST_SEEDS = (101, 102, 103, 104, 105)


def _cells(truth: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], str]:
    """Truth cells (KPI, where, group, month) -> kind. Recall counts one cell per exception and month (its main
    KPI); an exception also visible in another KPI (``also``: a late supplier lengthens the cycle time) makes
    that KPI's flag a true positive too (see :func:`_evidence`)."""
    out = {}
    for t in truth:
        for p in t["periods"]:
            out[(t["kpi"], t["where"], t.get("group") or "", p)] = t["kind"]
    return out


def _evidence(truth: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {(k, t["where"], t.get("group") or "", p) for t in truth for p in t["periods"]
            for k in (t["kpi"], *t.get("also", ()))}


def _flagged(found: list[Any]) -> set[tuple[str, str, str, str]]:
    out = set()
    for e in found:
        where = e.site or e.group or ""
        group = e.group if e.site and e.group else ""
        out.add((e.kpi, where, group or "", e.period))
    return out


def _independent(db: Any, engine: Any) -> tuple[int, list[str]]:
    """Recompute four KPIs with pandas from the raw tables; return (cells checked, mismatches)."""
    import pandas as pd

    def frame(model: str) -> Any:
        return pd.DataFrame(list(db.table(model).values()))

    periods = set(engine.periods)
    checked, bad = 0, []

    def compare(kpi: str, expected: dict[tuple[Any, ...], float], key: Any) -> None:
        nonlocal checked
        got = {key(v): v.value for v in engine.compute(kpi) if v.status == "ok"}
        for k, v in expected.items():
            checked += 1
            if k not in got or abs(got[k] - v) > 1e-6 * max(1.0, abs(v)):
                bad.append(f"{kpi} {k}: engine {got.get(k)} independent {v}")
        for k in got.keys() - expected.keys():
            checked += 1
            bad.append(f"{kpi} {k}: engine {got[k]} independent none")

    locs = frame("stock.location").set_index("id")
    mv = frame("stock.move")
    mv = mv[mv["state"] == "done"]
    mv = mv.assign(src_use=mv["location_id"].map(locs["usage"]), dst_use=mv["location_dest_id"].map(locs["usage"]),
                   site=mv["location_id"].map(locs["name"]).str.split("/").str[0], period=mv["date"].str[:7])
    issues = mv[(mv["src_use"] == "internal") & (mv["dst_use"] == "customer") & (mv["product_uom_qty"] > 0)]
    issues = issues[issues["period"].isin(periods)]
    rate = (issues["quantity"] < issues["product_uom_qty"]).groupby([issues["period"], issues["site"]]).mean()
    compare("stockout_rate", {k: float(v) for k, v in rate.items()}, lambda v: (v.period, v.site))

    po = frame("purchase.order")
    partners = frame("res.partner").set_index("id")["name"]
    po = po[po["state"].isin(["purchase", "done"]) & po["effective_date"].astype(bool)]
    po = po.assign(period=po["effective_date"].str[:7], supplier=po["partner_id"].map(partners),
                   on_time=po["effective_date"].str[:10] <= po["date_planned"].str[:10])
    po = po[po["period"].isin(periods)]
    ot = po.groupby(["period", "supplier"])["on_time"].mean()
    compare("supplier_on_time", {k: float(v) for k, v in ot.items()}, lambda v: (v.period, v.group))

    bud = frame("x_department_budget")
    depts = frame("hr.department").set_index("id")
    bud = bud.assign(period=bud["x_month"].str[:7],
                     dept=bud["x_department_id"].map(depts["name"]).str.split(" / ").str[-1],
                     site=bud["x_department_id"].map(depts["x_site"]).map(lambda s: engine.site_name(s)))
    bud = bud[bud["period"].isin(periods)]
    g = bud.groupby(["period", "site", "dept"])[["x_budget", "x_actual"]].sum()
    var = (g["x_actual"] - g["x_budget"]) / g["x_budget"]
    compare("budget_variance", {k: float(v) for k, v in var.items()}, lambda v: (v.period, v.site, v.group))

    tk = frame("helpdesk.ticket")
    teams = frame("helpdesk.team").set_index("id")["name"]
    tk = tk[tk["close_date"].astype(bool)]
    hours = (pd.to_datetime(tk["close_date"]) - pd.to_datetime(tk["create_date"])).dt.total_seconds() / 3600
    tk = tk.assign(period=tk["close_date"].str[:7], team=tk["team_id"].map(teams), hours=hours)
    tk = tk[tk["period"].isin(periods)]
    med = tk.groupby(["period", "team"])["hours"].median()
    compare("ticket_resolution_time", {k: float(v) for k, v in med.items()}, lambda v: (v.period, v.group))
    return checked, bad


def run_seed(seed: int, *, summaries: bool = True) -> dict[str, Any]:
    from copilot.demo.inject import base_truth, inject_exceptions
    from copilot.demo.network import BOT_KEY, BOT_LOGIN, SITES, TODAY, build_demo_network
    from copilot.kpi.engine import KpiEngine
    from copilot.kpi.exceptions import detect
    from copilot.kpi.summary import build_table, summarise
    from copilot.odoo.client import OdooClient, OdooConfig
    from copilot.odoo_double import Database, OdooDouble

    db = Database(version="17.0")
    net = build_demo_network(db, tickets=800)
    truth = base_truth(net) + inject_exceptions(net, seed=seed)
    cells = _cells(truth)
    out: dict[str, Any] = {"seed": seed, "injected": len(truth) - len(base_truth(net)), "truth_cells": len(cells)}
    with OdooDouble(db) as double:
        cfg = OdooConfig(url=double.url, db=db.name, login=BOT_LOGIN, api_key=BOT_KEY, transport="auto")
        engine = KpiEngine(OdooClient(cfg).connect(), today=TODAY, site_aliases=SITES)
        t0 = time.perf_counter()
        found = detect(engine, periods=engine.periods)
        flagged = _flagged(found)
        hit = {c for c in cells if c in flagged}
        evidence = _evidence(truth)
        by_kind: dict[str, list[bool]] = defaultdict(list)
        for c, kind in cells.items():
            by_kind[kind].append(c in flagged)
        out["exceptions"] = {
            "recall": round(len(hit) / len(cells), 4) if cells else None,
            "precision": round(len(flagged & evidence) / len(flagged), 4) if flagged else None,
            "flagged": len(flagged),
            "by_kind": {k: {"cells": len(v), "found": sum(v)} for k, v in sorted(by_kind.items())},
            "false_positives_by_kpi": dict(sorted(_count(k[0] for k in flagged - evidence).items())),
            "seconds": round(time.perf_counter() - t0, 1),
            "odoo_requests": engine.requests,
        }
        checked, bad = _independent(db, engine)
        out["kpi"] = {"checked": checked, "mismatches": len(bad), "examples": bad[:5]}
        if summaries:
            sites = sorted({s for k in engine.pack.ids() for s in engine.sites(k)})
            scopes: list[tuple[str | None, str]] = [(s, p) for s in sites for p in engine.periods[-4:]]
            scopes += [(None, p) for p in engine.periods[-6:]]
            problems = claims = checked_tokens = 0
            for site, period in scopes:
                res = summarise(build_table(engine, period=period, site=site))
                final = res["check"]["problems"]
                problems += sum(1 for p in final if p.startswith("number"))
                claims += sum(1 for p in final if not p.startswith("number"))
                checked_tokens += res["check"]["checked"]
            out["summaries"] = {"count": len(scopes), "unfaithful_numbers": problems, "unfaithful_claims": claims,
                                "checked_tokens": checked_tokens}
    return out


def _count(items: Any) -> dict[str, int]:
    c: dict[str, int] = defaultdict(int)
    for i in items:
        c[i] += 1
    return dict(c)


def run(*, seed: int | None = None, dev: bool = False) -> dict[str, Any]:
    seeds = [seed] if seed is not None else list(DEV_SEEDS if dev else TEST_SEEDS)
    runs = [run_seed(s) for s in seeds]
    ex = [r["exceptions"] for r in runs]
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in ex:
        for k, v in e["by_kind"].items():
            kinds[k][0] += v["cells"]
            kinds[k][1] += v["found"]
    return {
        "seeds": seeds,
        "exceptions": {
            "recall": round(sum(e["recall"] or 0 for e in ex) / len(ex), 4),
            "precision": round(sum(e["precision"] or 0 for e in ex) / len(ex), 4),
            "by_kind": {k: {"cells": c, "found": f, "recall": round(f / c, 4)} for k, (c, f) in sorted(kinds.items())},
        },
        "summaries": {k: sum(r["summaries"][k] for r in runs) for k in ("count", "unfaithful_numbers",
                                                                         "unfaithful_claims")},
        "kpi": {"checked": sum(r["kpi"]["checked"] for r in runs),
                "mismatches": sum(r["kpi"]["mismatches"] for r in runs)},
        "per_seed": runs,
    }

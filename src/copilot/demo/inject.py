"""Seeded operational exceptions for the KPI evals: for any seed, at least 20 exceptions of 8 kinds at random
sites, products, suppliers, equipment, teams and months, written into a built demo network and returned as
ground truth keyed the way the KPI engine reports (``kpi``, ``where`` = site or supplier/team, ``period``).

The injector knows the demo's data; the detectors (``copilot.kpi.exceptions``) do not. The base network's own
five exceptions are part of the truth too (:func:`base_truth`).

Usage::

    db = Database(version="17.0"); net = build_demo_network(db)
    truth = inject_exceptions(net, seed=7)          # [{"kind", "kpi", "where", "periods", "detail"}, ...]
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from copilot.odoo_double import builders as b

if TYPE_CHECKING:
    from copilot.demo.network import DemoNetwork

PER_KIND = 3


def _months(today: date) -> list[str]:
    out, y, m = [], today.year, today.month
    for _ in range(12):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return sorted(out)


def _site_of(loc_name: str) -> str | None:
    return loc_name.split("/")[0] if "/" in loc_name else None


def _touch(db: Any, model: str, rid: int, **vals: Any) -> None:
    db.table(model)[rid].update(vals)
    db._persist(model, rid)


def inject_exceptions(net: DemoNetwork, *, seed: int, per_kind: int = PER_KIND) -> list[dict[str, Any]]:
    from copilot.demo.network import SITES, TODAY

    rng = random.Random(f"copilot-inject-{seed}")
    db = net.db
    months = _months(TODAY)
    recent = months[1:-1]  # not the first month (no history before it) and not the running one
    truth: list[dict[str, Any]] = []
    locs = {r["id"]: r for r in db.table("stock.location").values()}
    used: set[tuple[str, str, str]] = set()

    def pick(kind: str, choices: list[str], periods: list[str]) -> tuple[str, str]:
        for _ in range(200):
            where, period = rng.choice(choices), rng.choice(periods)
            if (kind, where, period) not in used:
                used.add((kind, where, period))
                return where, period
        raise RuntimeError(f"no free slot for {kind}")

    # 1. stockouts: half of a site's issues in one month delivered only half the demand
    issues: dict[tuple[str, str], list[int]] = defaultdict(list)
    for m in db.table("stock.move").values():
        src, dst = locs.get(m["location_id"], {}), locs.get(m["location_dest_id"], {})
        if src.get("usage") == "internal" and dst.get("usage") == "customer" and m["product_uom_qty"] > 0:
            where = _site_of(src["name"])
            if where:
                issues[(where, m["date"][:7])].append(m["id"])
    sites_stock = sorted({s for s, _ in issues})
    for _ in range(per_kind):
        site, period = pick("stockout", sites_stock, recent)
        moves = issues[(site, period)]
        for mid in rng.sample(moves, k=max(1, len(moves) // 2)):
            m = db.table("stock.move")[mid]
            _touch(db, "stock.move", mid, quantity=float(int(m["product_uom_qty"] // 2)))
        truth.append({"kind": "stockout", "kpi": "stockout_rate", "where": site, "periods": [period]})

    # 2. a supplier's deliveries of one month arrive 10 days after the planned date
    partners = {p["id"]: p["name"] for p in db.table("res.partner").values()}
    orders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for o in db.table("purchase.order").values():
        if o.get("effective_date"):
            orders[(partners[o["partner_id"]], o["effective_date"][:7])].append(o["id"])
    suppliers = sorted({s for s, _ in orders})
    for _ in range(per_kind):
        for _try in range(50):
            supplier, period = pick("late_supplier", suppliers, recent)
            if orders.get((supplier, period)):
                break
        for oid in orders[(supplier, period)]:
            o = db.table("purchase.order")[oid]
            late = datetime.fromisoformat(o["date_planned"]) + timedelta(days=10)
            if f"{late:%Y-%m}" != period:  # keep it in the month it is reported for
                late = datetime.fromisoformat(o["date_planned"]).replace(hour=23) + timedelta(days=1)
            _touch(db, "purchase.order", oid, effective_date=f"{late:%Y-%m-%d %H:%M:%S}")
        truth.append({"kind": "late_supplier", "kpi": "supplier_on_time", "also": ["purchase_cycle_time"],
                      "where": supplier, "periods": [period]})

    # 3. a department overspends 18-25% in one month
    depts = {d["id"]: d for d in db.table("hr.department").values() if d.get("x_site")}
    budget_rows: dict[tuple[int, str], int] = {}
    for r in db.table("x_department_budget").values():
        budget_rows[(r["x_department_id"], r["x_month"][:7])] = r["id"]
    dept_keys = sorted({f"{did}" for did, _ in budget_rows})
    budget_months = sorted({p for _, p in budget_rows} & set(recent))
    for _ in range(per_kind):
        did_s, period = pick("over_budget", dept_keys, budget_months)
        rid = budget_rows[(int(did_s), period)]
        row = db.table("x_department_budget")[rid]
        _touch(db, "x_department_budget", rid, x_actual=round(row["x_budget"] * rng.uniform(1.18, 1.25), 2))
        d = depts[int(did_s)]
        truth.append({"kind": "over_budget", "kpi": "budget_variance", "where": SITES.get(d["x_site"], d["x_site"]),
                      "group": d["name"].split(" / ")[-1], "periods": [period]})

    # equipment by site (the free-text location, <=18; on 19 the injector still records the site it chose)
    eq_site = {eid: net.equipment_site.get(tag) for tag, eid in net.equipment.items()}
    by_site: dict[str, list[int]] = defaultdict(list)
    for eid, skey in eq_site.items():
        if skey:
            by_site[SITES[skey]].append(eid)
    eq_sites = sorted(by_site)
    pm = defaultdict(list)
    for r in db.table("maintenance.request").values():
        if r.get("maintenance_type") == "preventive":
            pm[r["equipment_id"]].append(r["id"])

    # 4. missing PM: a site's whole category has no preventive maintenance in the last 12 months
    for _ in range(per_kind):
        site, _p = pick("missing_pm", eq_sites, [months[-1]])
        fleet = by_site[site]
        victims = rng.sample(fleet, k=max(1, len(fleet) // 3))
        for eid in victims:
            for rid in pm.get(eid, []):
                _touch(db, "maintenance.request", rid, maintenance_type="corrective", close_date=False,
                       request_date=False)
        truth.append({"kind": "missing_pm", "kpi": "pm_coverage", "where": site, "periods": [months[-1]]})

    # 5. late PM: a site's preventive maintenance due in one month closed three weeks late
    due: dict[tuple[str, str], list[int]] = defaultdict(list)
    for eid, rids in pm.items():
        key = eq_site.get(eid)
        for rid in rids:
            r = db.table("maintenance.request")[rid]
            if key and r.get("request_date") and r.get("maintenance_type") == "preventive":
                due[(SITES[key], str(r["request_date"])[:7])].append(rid)
    for _ in range(per_kind):
        for _try in range(50):
            site, period = pick("late_pm", eq_sites, recent)
            if len(due.get((site, period), [])) >= 2:
                break
        for rid in due.get((site, period), []):
            r = db.table("maintenance.request")[rid]
            closed_on = date.fromisoformat(str(r["request_date"])[:10]) + timedelta(days=21)
            _touch(db, "maintenance.request", rid, close_date=str(closed_on))
        truth.append({"kind": "late_pm", "kpi": "pm_compliance", "where": site, "periods": [period]})

    # 6. equipment down: a quarter of a site's fleet out of service for 12 days of one month
    for _ in range(per_kind):
        site, period = pick("equipment_down", eq_sites, recent)
        fleet = by_site[site]
        start = date(int(period[:4]), int(period[5:7]), rng.randint(1, 14))
        for eid in rng.sample(fleet, k=max(1, len(fleet) // 4)):
            b.add_maintenance(db, eid, "Out of service awaiting parts", maintenance_type="corrective",
                              request_date=str(start), close_date=str(start + timedelta(days=12)))
        truth.append({"kind": "equipment_down", "kpi": "equipment_uptime", "where": site, "periods": [period]})

    # 7. expiring stock: a large lot expiring within three weeks of the last month's end
    lots_sites = sorted({s for s, _ in issues})
    products = [p for p in db.table("product.product").values() if p.get("use_expiration_date")]
    stock_loc = {(_site_of(r["name"]) or ""): r["id"] for r in locs.values() if r.get("usage") == "internal"}
    for _ in range(per_kind):
        site, period = pick("expiring_stock", lots_sites, [months[-1]])
        product = rng.choice(products)
        expiry = TODAY + timedelta(days=rng.randint(5, 20))
        lot = b.create(db, "stock.lot", {"name": f"LOT-X{seed}-{rng.randint(1000, 9999)}",
                                          "product_id": product["id"], "expiration_date": f"{expiry} 00:00:00"})
        qty = max(50.0, round(3000 / max(product["standard_price"], 0.05)))
        b.create(db, "stock.quant", {"product_id": product["id"], "location_id": stock_loc[site], "lot_id": lot,
                                     "quantity": float(qty), "in_date": f"{TODAY} 08:00:00"})
        truth.append({"kind": "expiring_stock", "kpi": "expired_inventory_value", "where": site,
                      "periods": [period]})

    # 8. slow tickets: a team's tickets closed in one month took four times as long
    teams = {t["id"]: t["name"] for t in db.table("helpdesk.team").values()}
    closed: dict[tuple[str, str], list[int]] = defaultdict(list)
    for t in db.table("helpdesk.ticket").values():
        if t.get("close_date"):
            closed[(teams[t["team_id"]], t["close_date"][:7])].append(t["id"])
    for _ in range(per_kind):
        for _try in range(50):
            team, period = pick("slow_tickets", sorted(set(teams.values())), recent)
            if len(closed.get((team, period), [])) >= 3:
                break
        for tid in closed.get((team, period), []):
            t = db.table("helpdesk.ticket")[tid]
            created = datetime.fromisoformat(t["create_date"])
            took = datetime.fromisoformat(t["close_date"]) - created
            new_created = datetime.fromisoformat(t["close_date"]) - took * 4
            _touch(db, "helpdesk.ticket", tid, create_date=f"{new_created:%Y-%m-%d %H:%M:%S}")
        truth.append({"kind": "slow_tickets", "kpi": "ticket_resolution_time", "where": team, "periods": [period]})

    # 9. repeated stockouts: one product at one site short in three months out of six (the site's rate hardly moves)
    by_product: dict[tuple[str, int], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for mv in db.table("stock.move").values():
        src, dst = locs.get(mv["location_id"], {}), locs.get(mv["location_dest_id"], {})
        at = _site_of(src.get("name", ""))
        if at and dst.get("usage") == "customer" and 0 < mv["product_uom_qty"] <= mv["quantity"]:
            by_product[(at, mv["product_id"])][mv["date"][:7]].append(mv["id"])
    candidates: list[tuple[str, int]] = sorted(by_product)
    for _ in range(per_kind):
        for _try in range(200):
            chronic_site, chronic_product = rng.choice(candidates)
            first = rng.randrange(0, len(recent) - 5)
            chosen = sorted(rng.sample(recent[first:first + 6], k=3))
            if all(by_product[(chronic_site, chronic_product)].get(p) for p in chosen) and \
                    not any(("repeated_stockouts", chronic_site, p) in used for p in chosen):
                break
        for p in chosen:
            used.add(("repeated_stockouts", chronic_site, p))
            mid = rng.choice(by_product[(chronic_site, chronic_product)][p])
            short = db.table("stock.move")[mid]
            _touch(db, "stock.move", mid, quantity=float(int(short["product_uom_qty"] // 3)))
        truth.append({"kind": "repeated_stockouts", "kpi": "stockout_rate", "where": chronic_site, "periods": chosen})
    db.commit()
    return truth


def base_truth(net: DemoNetwork) -> list[dict[str, Any]]:
    """The base network's own exceptions (``net.exceptions``) in the injector's terms."""
    from copilot.demo.network import SITES, TODAY

    months = _months(TODAY)
    out: list[dict[str, Any]] = []
    for e in net.exceptions:
        kind = e["kind"]
        if kind == "repeated_stockouts":
            periods = sorted({w[:7] for w in e["weeks"]} & set(months))
            out.append({"kind": kind, "kpi": "stockout_rate", "where": SITES[e["site"]], "periods": periods})
        elif kind == "expiring_excess_stock":
            out.append({"kind": kind, "kpi": "expired_inventory_value", "where": SITES[e["site"]],
                        "periods": [months[-1]]})
        elif kind == "late_supplier":
            out.append({"kind": kind, "kpi": "supplier_on_time", "also": ["purchase_cycle_time"],
                        "where": e["supplier"], "periods": months})
        elif kind == "over_budget":
            out.append({"kind": kind, "kpi": "budget_variance", "where": SITES[e["site"]],
                        "group": e["department"], "periods": [p for p in e["months"] if p in months]})
        elif kind == "missing_pm":
            out.append({"kind": kind, "kpi": "pm_coverage", "where": SITES[e["site"]], "periods": [months[-1]]})
    return out

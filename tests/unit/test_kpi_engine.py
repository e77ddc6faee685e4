"""The KPI pack computed from the demo network through the real client (17 over JSON-RPC, 19 over JSON-2),
cross-checked against an independent computation on the double's raw records (plain Python over the tables,
not the engine's code path), plus what the pack must say instead of a number."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest

from copilot.db import make_engine, migrate
from copilot.demo.network import BOT_KEY, BOT_LOGIN, SITES, TODAY, build_demo_network
from copilot.governance.factory import build_governance
from copilot.governance.principal import Principal
from copilot.kpi.engine import KpiEngine
from copilot.kpi.pack import KpiPack
from copilot.kpi.service import KpiService
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo_double import Database, OdooDouble
from copilot.tools import default_registry

pytestmark = pytest.mark.unit


class Net:
    def __init__(self, version: str) -> None:
        self.db = Database(version=version)
        self.net = build_demo_network(self.db, tickets=300)
        self.double = OdooDouble(self.db).start()
        cfg = OdooConfig(url=self.double.url, db=self.db.name, login=BOT_LOGIN, api_key=BOT_KEY, transport="auto")
        self.connect = lambda: OdooClient(cfg).connect()
        self.engine = KpiEngine(self.connect(), today=TODAY, site_aliases=SITES)

    def t(self, model: str) -> list[dict[str, Any]]:
        return list(self.db.table(model).values())


@pytest.fixture(scope="module", params=["17.0", "19.0"])
def net(request: pytest.FixtureRequest) -> Iterator[Net]:
    n = Net(request.param)
    yield n
    n.double.stop()


def _site_of_location(net: Net) -> dict[int, Any]:
    return {r["id"]: (r["name"].split("/")[0] if r.get("usage") == "internal" and "/" in r["name"] else None,
                      r.get("usage")) for r in net.t("stock.location")}


def test_pack_is_data_and_every_kpi_has_a_compute() -> None:
    from copilot.kpi.engine import COMPUTE

    pack = KpiPack.load()
    assert len(pack.kpis) >= 12 and all(k.compute in COMPUTE for k in pack.kpis)
    assert pack["stockout_rate"].status_of(0.06) == "breach" and pack["supplier_on_time"].status_of(0.85) == "warn"


def test_stockout_rate_matches_an_independent_count(net: Net) -> None:
    locs = _site_of_location(net)
    short: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for m in net.t("stock.move"):
        src, dst = locs.get(m["location_id"]), locs.get(m["location_dest_id"])
        if m["state"] == "done" and src and src[1] == "internal" and dst and dst[1] == "customer" \
                and m["product_uom_qty"] > 0:
            short[(m["date"][:7], src[0])].append(int(m["quantity"] < m["product_uom_qty"]))
    got = {(r.period, r.site): r.value for r in net.engine.compute("stockout_rate")}
    assert got.keys() == short.keys()
    for key, flags in short.items():
        assert got[key] == pytest.approx(sum(flags) / len(flags))
    riverbend = [v or 0.0 for (p, s), v in got.items() if s == "Riverbend Clinic"]
    assert max(riverbend) > 0  # the injected repeated stockouts show


def test_supplier_on_time_and_cycle_time_match(net: Net) -> None:
    partners = {r["id"]: r["name"] for r in net.t("res.partner")}
    on_time: dict[tuple[str, str], list[int]] = defaultdict(list)
    cycle: dict[tuple[str, str], list[float]] = defaultdict(list)
    for o in net.t("purchase.order"):
        if o["state"] in ("purchase", "done") and o.get("effective_date"):
            key = (o["effective_date"][:7], partners[o["partner_id"]])
            on_time[key].append(int(o["effective_date"][:10] <= o["date_planned"][:10]))
            delta = datetime.fromisoformat(o["effective_date"]) - datetime.fromisoformat(o["date_order"])
            cycle[key].append(delta.total_seconds() / 86400)
    got = {(r.period, r.group): r.value for r in net.engine.compute("supplier_on_time")}
    assert got == pytest.approx({k: sum(v) / len(v) for k, v in on_time.items()})
    got_c = {(r.period, r.group): r.value for r in net.engine.compute("purchase_cycle_time")}
    assert got_c == pytest.approx({k: sum(v) / len(v) for k, v in cycle.items()})
    late = [v or 0.0 for (p, g), v in got.items() if g == "Crestline Medical Supply"]
    assert max(late) < 0.5  # the injected late supplier shows


def test_budget_variance_matches_and_shows_the_overspend(net: Net) -> None:
    depts = {r["id"]: r for r in net.t("hr.department")}
    sums: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in net.t("x_department_budget"):
        d = depts[r["x_department_id"]]
        key = (r["x_month"][:7], SITES[d["x_site"]], d["name"].split(" / ")[-1])
        sums[key][0] += r["x_budget"]
        sums[key][1] += r["x_actual"]
    got = {(r.period, r.site, r.group): r.value for r in net.engine.compute("budget_variance") if r.value is not None}
    periods = set(net.engine.periods)  # the 12 months up to the as-of date
    assert got == pytest.approx({k: (a - b) / b for k, (b, a) in sums.items() if k[0] in periods})
    assert got[("2026-02", "Lakeside Hospital", "Nursing")] > 0.10


def test_expiring_value_and_ticket_resolution_match(net: Net) -> None:
    lots = {r["id"]: r for r in net.t("stock.lot")}
    cost = {r["id"]: r["standard_price"] for r in net.t("product.product")}
    locs = _site_of_location(net)
    value: dict[str | None, float] = defaultdict(float)
    for q in net.t("stock.quant"):
        lot = lots.get(q.get("lot_id"))
        if lot and locs[q["location_id"]][1] == "internal" and q["quantity"] > 0 \
                and lot["expiration_date"][:10] <= "2026-05-30":
            value[locs[q["location_id"]][0]] += q["quantity"] * cost[q["product_id"]]
    got = {r.site: r.value for r in net.engine.compute("expired_inventory_value", periods=["2026-04"]) if r.value}
    assert got == pytest.approx(dict(value)) and "Harbor View Clinic" in got
    teams = {r["id"]: r["name"] for r in net.t("helpdesk.team")}
    hours: dict[tuple[str, str], list[float]] = defaultdict(list)
    for t in net.t("helpdesk.ticket"):
        if t.get("close_date"):
            d = datetime.fromisoformat(t["close_date"]) - datetime.fromisoformat(t["create_date"])
            hours[(t["close_date"][:7], teams[t["team_id"]])].append(d.total_seconds() / 3600)
    got_t = {(r.period, r.group): r.value for r in net.engine.compute("ticket_resolution_time")}
    periods = set(net.engine.periods)
    assert got_t == pytest.approx({k: statistics.median(v) for k, v in hours.items() if k[0] in periods})


def test_maintenance_kpis_per_site_where_odoo_has_a_site_and_say_so_where_not(net: Net) -> None:
    # 17: the free-text `location`; 19: `location_id` (stock_maintenance) -> the site of that stock location
    cov = net.engine.compute("pm_coverage", periods=["2026-04"])
    lake = next(r for r in cov if r.site == "Lakeside Hospital")
    assert lake.value is not None and lake.value < 0.95 and lake.level == "breach"  # the injected missing PM
    north = next(r for r in cov if r.site == "North Campus Hospital")
    # the documents' overdue PMs (the Q4 pump log's BME-INF-0263 and -0271, the stretcher BME-STR-0150)
    assert north.denominator is not None and north.numerator is not None
    assert north.denominator - north.numerator == 3
    assert all(r.value == 1.0 for r in cov if r.site not in ("Lakeside Hospital", "North Campus Hospital", None))


def test_maintenance_kpis_without_any_equipment_site_say_so(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot.kpi.engine import KpiEngine

    engine = KpiEngine(net.engine.client, today=TODAY, site_aliases=SITES)
    fields = engine.fields
    monkeypatch.setattr(engine, "fields", lambda model: {k: v for k, v in (fields(model) or {}).items()
                                                          if k not in ("location", "location_id")})
    cov = engine.compute("pm_coverage", periods=["2026-04"])
    assert all(r.site is None for r in cov)  # network figure only
    per_site = engine.compute("pm_coverage", periods=["2026-04"], site="Lakeside Hospital")
    assert per_site[0].status == "unavailable" and "location" in (per_site[0].reason or "")


def test_kpis_odoo_cannot_answer_are_explicit(net: Net) -> None:
    for kpi, words in (("days_to_close", "account.move is not installed"),
                       ("overtime_percentage", "contracted hours")):
        rows = net.engine.compute(kpi)
        assert {r.status for r in rows} == {"unavailable"} and words in (rows[0].reason or "")
        assert all(r.value is None for r in rows)
    assert {r.status for r in net.engine.compute("cycle_count_accuracy")} == {"no_data"}
    per_site = net.engine.compute("supplier_on_time", site="Lakeside Hospital")
    assert {r.status for r in per_site} == {"unavailable"} and "not measured per site" in (per_site[0].reason or "")


def test_the_whole_pack_costs_few_requests_and_a_second_pass_none(net: Net) -> None:
    engine = KpiEngine(net.connect(), today=TODAY, site_aliases=SITES)
    for kpi in engine.pack.ids():
        engine.compute(kpi)
    first = engine.requests
    assert first <= 50
    for kpi in engine.pack.ids():
        engine.compute(kpi, periods=["2026-03"])
    assert engine.requests == first


def test_kpi_query_is_governed_and_scoped_by_site(net: Net, tmp_path: Any) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    migrate(eng)
    svc = KpiService(net.connect, site_aliases=SITES, today=lambda: TODAY)
    gov = build_governance(eng, default_registry(), services=SimpleNamespace(kpis=svc))
    erin = Principal(id="erin", name="Erin", role="executive", sites=("Riverbend Clinic",))
    ok = gov.executor.execute(erin, "kpi_query", {"kpi": "stockout_rate", "periods": ["2026-02"]})
    assert ok.ok and {v["site"] for v in ok.result["values"]} == {"Riverbend Clinic"}
    other = gov.executor.execute(erin, "kpi_query", {"kpi": "stockout_rate", "site": "Lakeside Hospital"})
    assert (other.status, other.error_code) == ("denied", "site_forbidden")
    nurse = Principal(id="nina", name="Nina", role="staff")
    assert gov.executor.execute(nurse, "kpi_query", {"kpi": "stockout_rate"}).error_code == "forbidden"
    future = gov.executor.execute(erin, "kpi_query", {"kpi": "stockout_rate", "periods": ["2031-01"]})
    assert (future.status, future.error_code) == ("error", "future_period")
    unknown = gov.executor.execute(erin, "kpi_query", {"kpi": "happiness"})
    assert unknown.error_code == "unknown_kpi"


def test_exceptions_find_the_injected_ones_ranked_with_owner_action_and_records(net: Net) -> None:
    from copilot.kpi.exceptions import detect

    found = detect(net.engine, periods=net.engine.periods)
    keys = {(e.kpi, e.site or e.group) for e in found}
    assert ("stockout_rate", "Riverbend Clinic") in keys
    assert ("supplier_on_time", "Crestline Medical Supply") in keys
    assert ("budget_variance", "Lakeside Hospital") in keys
    assert ("expired_inventory_value", "Harbor View Clinic") in keys
    if net.db.major < 19:
        assert ("pm_coverage", "Lakeside Hospital") in keys
    tiers = [e.rank_key()[0] for e in found]
    assert tiers == sorted(tiers, reverse=True)  # patient safety, then money, then service
    over = next(e for e in found if e.kpi == "budget_variance" and e.period == "2026-02" and e.group == "Nursing")
    assert over.owner == "finance" and over.action and over.amount and over.amount > 0
    assert over.records and over.records[0]["model"] == "hr.department"
    stock = next(e for e in found if e.kpi == "stockout_rate")
    assert all(r["model"] == "stock.move" for r in stock.records) and stock.records


def _table(net: Net, site: str | None = "Lakeside Hospital") -> Any:
    from copilot.kpi.summary import build_table

    return build_table(net.engine, period="2026-03", site=site)


def test_template_summaries_pass_their_own_check_for_every_site(net: Net) -> None:
    from copilot.kpi.summary import build_table, summarise

    sites = sorted({s for k in net.engine.pack.ids() for s in net.engine.sites(k)})
    for site in [None, *sites]:
        out = summarise(build_table(net.engine, period="2026-03", site=site))
        assert out["check"]["problems"] == [] and out["check"]["checked"] > 5, (site, out["check"])
        assert out["by"] == "template" and len(out["snapshot_sha256"]) == 64
        assert all(f["query"].startswith("/v1/kpis?kpi=") for f in out["figures"])


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda t: t.replace("Budget variance fell", "Budget variance rose", 1), "did not move"),
        (lambda t: t + " Stockout rate was 9.9% in March 2026.", "number '9.9%'"),
        (lambda t: t + " Stockout rate was 0.0% in May 2024.", "month 2024-05"),
        (lambda t: t + " Riverbend Clinic was fine.", "Riverbend Clinic is not in this table"),
        (lambda t: t + " Budget variance worsened.", "did not get worse"),
    ],
)
def test_the_checker_catches_unfaithful_numbers_months_places_and_directions(net: Net, edit: Any,
                                                                              problem: str) -> None:
    from copilot.kpi.summary import TemplateSummariser, check

    table = _table(net)
    text = TemplateSummariser().summarise(table)
    assert "Budget variance fell" in text  # the demo's overspend eased from February to March
    problems = check(edit(text), table)["problems"]
    assert any(problem in p for p in problems), problems


def test_an_unfaithful_narrator_is_retried_once_then_replaced_by_the_template(net: Net) -> None:
    from copilot.kpi.summary import summarise

    class Liar:
        name = "liar"
        calls = 0

        def summarise(self, table: Any) -> str:
            self.calls += 1
            return "Stockout rate rose to 42.0% in March 2026."

    liar = Liar()
    out = summarise(_table(net), liar)
    assert liar.calls == 2 and out["by"] == "template" and out["check"]["problems"] == []
    assert [a["by"] for a in out["check"]["attempts"]] == ["liar", "liar", "template"]


def test_dashboard_summary_is_governed_scoped_and_audited_with_the_snapshot_hash(net: Net, tmp_path: Any) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    migrate(eng)
    svc = KpiService(net.connect, site_aliases=SITES, today=lambda: TODAY)
    gov = build_governance(eng, default_registry(), services=SimpleNamespace(kpis=svc))
    boss = Principal(id="erin", name="Erin", role="executive", sites=("*",))
    res = gov.executor.execute(boss, "dashboard_summary", {"period": "2026-03"}).raise_for_status()
    assert res.result["check"]["problems"] == [] and res.result["odoo_requests"] <= 50
    rec = gov.audit.get(res.audit_id or "")
    assert rec.prompt_version == "kpi-snapshot:" + res.result["snapshot_sha256"][:32]
    local = Principal(id="lena", name="Lena", role="executive", sites=("Riverbend Clinic",))
    assert gov.executor.execute(local, "dashboard_summary", {"period": "2026-03"}).error_code == "site_forbidden"
    assert gov.executor.execute(local, "dashboard_summary",
                                {"period": "2026-03", "site": "Lakeside Hospital"}).error_code == "site_forbidden"
    assert gov.executor.execute(local, "dashboard_summary",
                                {"period": "2026-03", "site": "Riverbend Clinic"}).ok
    assert gov.executor.execute(boss, "dashboard_summary", {"period": "2027-01"}).error_code == "period_out_of_range"
    assert gov.executor.execute(boss, "dashboard_summary", {"period": "March"}).error_code == "validation"


def test_odoo_going_down_mid_computation_is_a_typed_error_not_a_partial_summary(tmp_path: Any) -> None:
    from copilot.errors import CopilotError

    db = Database(version="19.0")
    build_demo_network(db, tickets=50)
    double = OdooDouble(db).start()
    cfg = OdooConfig(url=double.url, db=db.name, login=BOT_LOGIN, api_key=BOT_KEY, transport="auto",
                     retries=1, backoff=0.0)
    svc = KpiService(lambda: OdooClient(cfg, sleep=lambda s: None).connect(), site_aliases=SITES,
                     today=lambda: TODAY)
    engine = svc.engine()
    engine.compute("stockout_rate")  # some models read
    double.stop()
    eng = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    migrate(eng)
    gov = build_governance(eng, default_registry(), services=SimpleNamespace(kpis=svc))
    boss = Principal(id="erin", name="Erin", role="executive", sites=("*",))
    res = gov.executor.execute(boss, "dashboard_summary", {"period": "2026-03"})
    assert res.status == "error" and res.result is None and res.error_code
    with pytest.raises(CopilotError):
        res.raise_for_status()


def test_a_product_that_keeps_running_out_is_named_though_the_site_rate_hardly_moves(net: Net) -> None:
    from copilot.kpi.exceptions import detect
    from copilot.kpi.summary import TemplateSummariser, build_table, check

    found = [e for e in detect(net.engine, periods=net.engine.periods) if "recurrence" in e.kinds]
    assert found and {e.site for e in found} == {"Riverbend Clinic"}  # the base network's one chronic stockout
    e = found[-1]
    assert e.items == ["Nitrile examination gloves, medium (box of 100)"] and e.counts[1] == 6
    assert e.records and all(r["model"] == "stock.move" for r in e.records)
    assert any(v.value is not None and v.value < 0.05 for v in net.engine.compute("stockout_rate", site=e.site)
               if v.period == e.period)  # the monthly rate alone would not have flagged it
    table = build_table(net.engine, period=e.period, site="Riverbend Clinic")
    text = TemplateSummariser().summarise(table)
    assert "box of 100" in text and check(text, table)["problems"] == []
    wrong = text.replace(f"in {e.counts[0]} of 6 months", "in 5 of 6 months" if e.counts[0] != 5 else "in 4 of 6")
    assert any("number '5'" in p or "number '4'" in p for p in check(wrong, table)["problems"])


def test_small_counts_are_no_verdict_for_a_median_or_a_counted_ratio() -> None:
    from copilot.kpi.engine import KpiValue
    from copilot.kpi.exceptions import _significant
    from copilot.kpi.pack import KpiPack

    pack = KpiPack.load()
    tickets, supplier = pack["ticket_resolution_time"], pack["supplier_on_time"]

    def median(past: int, n: int) -> KpiValue:
        return KpiValue(tickets.id, "2026-03", None, "IT", 120.0, "ok", "breach", "hours", n=n, past_breach=past)

    assert not _significant(tickets, median(2, 2)) and _significant(tickets, median(7, 7))
    assert not _significant(tickets, median(6, 10)) and _significant(tickets, median(20, 25))

    def ratio(on_time: int, n: int) -> KpiValue:
        return KpiValue(supplier.id, "2026-03", None, "Acme", on_time / n, "ok", "breach", "ratio",
                        numerator=on_time, denominator=n, n=n)

    assert not _significant(supplier, ratio(1, 2)) and _significant(supplier, ratio(0, 2))
    assert not _significant(supplier, ratio(2, 3), supplier.thresholds.warn)  # one late order of three: no anomaly
    assert _significant(supplier, ratio(3, 12), supplier.thresholds.warn)

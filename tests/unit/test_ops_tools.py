"""The Odoo look-up and action tools, through the governed executor only, with the real odoorpc/JSON-2 client
against the Odoo protocol double on loopback (17.0 over JSON-RPC, 19.0 over JSON-2): answers checked against
the double's raw tables, policy decided on facts read from Odoo, nothing written before approval, typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel

from copilot.db import make_engine, migrate
from copilot.errors import NotFoundError
from copilot.governance.factory import Governance, build_governance
from copilot.governance.principal import Principal
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo.ops import OpsService
from copilot.odoo_double import Database, OdooDouble
from copilot.odoo_double.ops_sample import OpsSample, seed_ops_sample
from copilot.tools import default_registry
from copilot.tools.base import ToolRegistry, tool

pytestmark = pytest.mark.unit

ADMIN = Principal(id="ada", name="Ada", role="admin", sites=("*",))
ERIN = Principal(id="erin", name="Erin", role="executive", sites=("*",))
EVE = Principal(id="eve", name="Eve", role="executive", sites=("*",))
QUINN = Principal(id="quinn", name="Quinn", role="compliance", sites=("*",))
BEN = Principal(id="ben", name="Ben", role="biomed_engineer", sites=("*",))
BEA = Principal(id="bea", name="Bea", role="biomed_engineer", sites=("*",))
NINA = Principal(id="nina", name="Nina", role="staff", sites=("Lakeside Hospital",))
KEYED = Principal(id="kim", name="Kim", role="staff", sites=("lakeside",))  # a site key, as the user store holds


class Net:
    def __init__(self, version: str) -> None:
        self.db = Database(version=version)
        self.sample: OpsSample = seed_ops_sample(self.db)
        self.double = OdooDouble(self.db).start()
        self.cfg = OdooConfig(url=self.double.url, db=self.db.name, login=self.sample.login,
                              api_key=self.sample.key, retries=0, timeout=5)
        self.ops = OpsService(lambda: OdooClient(self.cfg).connect(), site_aliases=self.sample.sites,
                              odoo_url="https://odoo.example", today=lambda: self.sample.today)

    def rows(self, model: str) -> list[dict[str, Any]]:
        return list(self.db.table(model).values())

    def gov(self, tmp: Path) -> Governance:
        eng = make_engine(f"sqlite:///{tmp / 'g.db'}")
        migrate(eng)
        return build_governance(eng, default_registry(), services=SimpleNamespace(ops=self.ops))


@pytest.fixture(scope="module", params=["17.0", "19.0"])
def net(request: pytest.FixtureRequest) -> Iterator[Net]:
    n = Net(request.param)
    yield n
    n.double.stop()


@pytest.fixture
def gov(net: Net, tmp_path: Path) -> Governance:
    return net.gov(tmp_path)


def run(gov: Governance, who: Principal, tool: str, args: dict[str, Any]) -> Any:
    return gov.executor.execute(who, tool, args)


# --- look-ups -------------------------------------------------------------------------------------------------

def test_the_transport_is_the_real_one(net: Net) -> None:
    with net.ops.reader() as r:
        assert r.client.transport_name == ("json2" if net.db.major >= 19 else "jsonrpc")


@pytest.mark.parametrize(("who", "args", "expected"), [
    (ADMIN, {"equipment": "BME-INF-0002"}, {"BME-INF-0002": "out_of_service"}),
    (ADMIN, {"equipment": "bme-ven-0001"}, {"BME-VEN-0001": "in_service"}),
    (ADMIN, {"equipment": "Infusion pump"}, {"BME-INF-0001": "in_service", "BME-INF-0002": "out_of_service"}),
    (ADMIN, {"category": "Ventilators"}, {"BME-VEN-0001": "in_service"}),
    (ADMIN, {"site": "Harbor View Clinic"}, {"BME-INF-0002": "out_of_service"}),
    (ADMIN, {"site": "harbor_view_clinic"}, {"BME-INF-0002": "out_of_service"}),
    (NINA, {}, {"BME-VEN-0001": "in_service", "BME-INF-0001": "in_service"}),
    (KEYED, {"equipment": "Infusion pump"}, {"BME-INF-0001": "in_service"}),
    (ADMIN, {"equipment": "no such device"}, {}),
])
def test_equipment_status(gov: Governance, who: Principal, args: dict[str, Any], expected: dict[str, str]) -> None:
    res = run(gov, who, "equipment_status", args).raise_for_status()
    got = {e["asset_tag"]: e["status"] for e in res.result["equipment"]}
    assert got == expected
    for e in res.result["equipment"]:
        assert e["url"].startswith("https://odoo.example/") and str(e["id"]) in e["url"]
        assert all(q["type"] in ("corrective", "preventive") and q["stage"] != "Repaired" for q in e["open_requests"])


def test_equipment_status_lists_open_requests_with_their_fields(net: Net, gov: Governance) -> None:
    res = run(gov, ADMIN, "equipment_status", {"equipment": "BME-INF-0002"}).raise_for_status()
    (card,) = res.result["equipment"]
    raw = net.db.table("maintenance.request")[net.sample.ids["req:open"]]
    (req,) = card["open_requests"]
    assert (req["id"], req["request_date"], req["type"], req["priority"]) == (
        raw["id"], raw["request_date"], "corrective", "2")
    assert card["site"] == "Harbor View Clinic" and card["category"] == "Infusion pumps"


@pytest.mark.parametrize(("who", "args", "lots"), [
    (ADMIN, {"days": 30}, ["LOT-AMX-500-LAK", "LOT-AMX-500-HAR"]),
    (ADMIN, {"days": 15}, ["LOT-AMX-500-LAK"]),
    (ADMIN, {"days": 365, "product": "morphine"}, ["LOT-MOR-10-LAK"]),
    (ADMIN, {"days": 30, "site": "Harbor View Clinic"}, ["LOT-AMX-500-HAR"]),
    (NINA, {"days": 30}, ["LOT-AMX-500-LAK"]),
])
def test_lots_expiring(net: Net, gov: Governance, who: Principal, args: dict[str, Any], lots: list[str]) -> None:
    res = run(gov, who, "lots_expiring", args).raise_for_status()
    assert [r["name"] for r in res.result["lots"]] == lots  # soonest first
    cost = {p["id"]: p["standard_price"] for p in net.rows("product.product")}
    quants = {q["lot_id"]: q["quantity"] for q in net.rows("stock.quant") if q.get("lot_id")}
    for r in res.result["lots"]:
        assert r["quantity"] == quants[r["id"]]
        assert r["value"] == pytest.approx(quants[r["id"]] * cost[r["product"]["id"]])
        exp = net.db.table("stock.lot")[r["id"]]["expiration_date"][:10]
        assert r["expiration_date"] == exp
        assert net.sample.today + timedelta(days=r["days_left"]) == date.fromisoformat(exp)


@pytest.mark.parametrize(("who", "args", "status", "sites"), [
    (ADMIN, {"product": "GLV-NIT-M"}, "ok",
     {"Lakeside Hospital": 120.0, "Harbor View Clinic": 15.0, "Central Warehouse": 0.0}),
    (ADMIN, {"product": "glv-nit-m", "site": "Lakeside Hospital"}, "ok", {"Lakeside Hospital": 120.0}),
    (NINA, {"product": "Nitrile examination gloves, medium (box of 100)"}, "ok", {"Lakeside Hospital": 120.0}),
    (ADMIN, {"product": "gloves"}, "ambiguous", None),
])
def test_stock_on_hand(gov: Governance, who: Principal, args: dict[str, Any], status: str,
                       sites: dict[str, float] | None) -> None:
    res = run(gov, who, "stock_on_hand", args).raise_for_status().result
    assert res["status"] == status
    if sites is None:
        assert sorted(c["name"][:11] for c in res["candidates"]) == ["[GLV-NIT-L]", "[GLV-NIT-M]"]
    else:
        assert {s["site"]: s["quantity"] for s in res["sites"]} == sites


@pytest.mark.parametrize(("who", "args", "orders"), [
    (ADMIN, {}, ["P00001", "P00003"]),
    (ADMIN, {"supplier": "meridian"}, ["P00003"]),
    (ADMIN, {"product": "GLV-NIT-M"}, ["P00001"]),
    (ADMIN, {"site": "Harbor View Clinic"}, ["P00003"]),
    (NINA, {}, ["P00001"]),
])
def test_purchase_orders_open(gov: Governance, who: Principal, args: dict[str, Any], orders: list[str]) -> None:
    res = run(gov, who, "purchase_orders_open", args).raise_for_status().result
    got = [o["name"] for o in res["orders"] if o["name"] in ("P00001", "P00002", "P00003")]
    assert got == orders
    for o in res["orders"]:
        assert o["state"] in ("draft", "sent", "to approve", "purchase") and o["receipt_status"] != "full"
        assert o["lines"] and o["supplier"]["url"]
    first = next((o for o in res["orders"] if o["name"] == "P00001"), None)
    if first:
        assert [(p["state"], p["scheduled_date"][:10]) for p in first["pickings"]] == [("assigned", "2026-05-02")]


@pytest.mark.parametrize(("who", "tool", "args", "code"), [
    (NINA, "equipment_status", {"site": "Harbor View Clinic"}, "site_forbidden"),
    (KEYED, "stock_on_hand", {"product": "GLV-NIT-M", "site": "harbor_view_clinic"}, "site_forbidden"),
    (ADMIN, "lots_expiring", {"site": "Atlantis General"}, "unknown_site"),
    (ADMIN, "lots_expiring", {"days": 0}, "validation"),
    (ADMIN, "lots_expiring", {"days": 366}, "validation"),
    (ADMIN, "stock_on_hand", {"product": "unobtainium"}, "unknown_product"),
    (ADMIN, "stock_on_hand", {}, "validation"),
    (NINA, "purchase_request_create", {"site": "Lakeside Hospital", "lines": [{"product": "AMX-500", "quantity": 1}]},
     "forbidden"),
])
def test_lookups_refuse_bad_input(gov: Governance, who: Principal, tool: str, args: dict[str, Any],
                                  code: str) -> None:
    res = run(gov, who, tool, args)
    assert res.status in ("denied", "error") and res.error_code == code


# --- facts and policy -----------------------------------------------------------------------------------------

def _orders(net: Net) -> int:
    return len(net.db.table("purchase.order"))


@pytest.mark.parametrize(("lines", "supplier", "status", "rule", "amount"), [
    ([{"product": "GLV-NIT-M", "quantity": 50}], "Crestline", "ok", None, 300.0),          # 6.00 below 100
    ([{"product": "GLV-NIT-M", "quantity": 100}], None, "ok", None, 550.0),               # 5.50 from 100 on
    ([{"product": "PMP-VOL", "quantity": 3}], None, "pending_approval", "purchase-over-5000", 6300.0),
    ([{"product": "AMX-500", "quantity": 10}], None, "ok", None, 22.0),
    ([{"product": "MOR-10", "quantity": 10}], None, "pending_approval", "controlled-substances", 30.0),
    ([{"product": "GLV-NIT-L", "quantity": 10}], "Crestline", "ok", None, 65.0),             # no price: standard_price
])
def test_purchase_request_is_priced_and_governed_by_odoo_facts(
    net: Net, gov: Governance, lines: list[dict[str, Any]], supplier: str | None, status: str, rule: str | None,
    amount: float,
) -> None:
    before = _orders(net)
    args: dict[str, Any] = {"site": "Lakeside Hospital", "lines": lines, "amount": 1}  # a claimed amount is ignored
    if supplier:
        args["supplier"] = supplier
    res = run(gov, ERIN, "purchase_request_create", args)
    assert (res.status, res.rule_id) == (status, rule), res.error
    rec = gov.audit.get(res.audit_id or "")
    assert rec is not None and rec.args["_facts"]["amount"] == amount
    if status == "ok":
        po = net.db.table("purchase.order")[res.result["purchase_order"]["id"]]
        assert (po["state"], po["partner_id"], po["origin"]) == (
            "draft", rec.args["_facts"]["supplier"]["id"], f"Copilot {res.request_id}")
        got = [(ln["product_id"], ln["product_qty"], ln["price_unit"]) for ln in net.rows("purchase.order.line")
               if ln["order_id"] == po["id"]]
        assert sum(q * p for _, q, p in got) == pytest.approx(amount)
        assert _orders(net) == before + 1
    else:
        assert _orders(net) == before  # nothing written before approval


def test_approval_queue_shows_the_facts_and_an_approved_order_is_written_once(net: Net, gov: Governance) -> None:
    before = _orders(net)
    res = run(gov, ERIN, "purchase_request_create",
              {"site": "lakeside", "lines": [{"product": "PMP-VOL", "quantity": 4}], "note": "ICU expansion"})
    assert res.status == "pending_approval" and _orders(net) == before
    (queued,) = [q.to_dict() for q in gov.approvals.find() if q.id == res.approval_id]
    facts = queued["facts"]
    assert facts["amount"] == 8400.0 and facts["supplier"]["name"] == "Crestline Medical Supply"
    assert facts["lines"][0]["product"]["url"].startswith("https://odoo.example/")
    assert facts["deliver_to"]["name"] == "Lakeside Hospital: Receipts" and "_facts" not in queued["args"]
    with pytest.raises(Exception, match="requester cannot decide"):
        gov.executor.approve(ERIN, res.approval_id or "")
    done = gov.executor.approve(EVE, res.approval_id or "", reason="budgeted").raise_for_status()
    assert done.result["purchase_order"]["created"] is True and _orders(net) == before + 1
    with pytest.raises(Exception, match="already"):
        gov.executor.approve(ADMIN, res.approval_id or "")
    assert _orders(net) == before + 1


def test_controlled_substances_wait_for_compliance_not_an_executive(net: Net, gov: Governance) -> None:
    res = run(gov, ERIN, "purchase_request_create",
              {"site": "Lakeside Hospital", "lines": [{"product": "MOR-10", "quantity": 5}]})
    assert res.rule_id == "controlled-substances"
    with pytest.raises(Exception, match="may not approve"):
        gov.executor.approve(EVE, res.approval_id or "")
    assert gov.executor.approve(QUINN, res.approval_id or "").ok


def test_a_price_change_after_the_request_refuses_the_approved_run(net: Net, gov: Governance) -> None:
    pid = net.sample.ids["PMP-VOL"]
    res = run(gov, ERIN, "purchase_request_create",
              {"site": "Lakeside Hospital", "lines": [{"product": "PMP-VOL", "quantity": 3}], "supplier": "Meridian"})
    assert res.status == "pending_approval"  # Meridian has no price for pumps: 3 x 2,300 standard price
    before = _orders(net)
    net.db.table("product.product")[pid]["standard_price"] = 2400.0
    try:
        out = gov.executor.approve(EVE, res.approval_id or "")
    finally:
        net.db.table("product.product")[pid]["standard_price"] = 2300.0
    assert (out.status, out.error_code) == ("error", "facts_changed") and _orders(net) == before


@pytest.mark.parametrize(("args", "code"), [
    ({"site": "Lakeside Hospital", "lines": [{"product": "GLV-NIT-M", "quantity": 0}]}, "validation"),
    ({"site": "Lakeside Hospital", "lines": [{"product": "GLV-NIT-M", "quantity": -3}]}, "validation"),
    ({"site": "Lakeside Hospital", "lines": []}, "validation"),
    ({"site": "Lakeside Hospital", "lines": [{"product": "gloves", "quantity": 1}]}, "ambiguous"),
    ({"site": "Lakeside Hospital", "lines": [{"product": "unobtainium", "quantity": 1}]}, "unknown_product"),
    ({"site": "Atlantis", "lines": [{"product": "AMX-500", "quantity": 1}]}, "unknown_site"),
    ({"site": "Lakeside Hospital", "lines": [{"product": "AMX-500", "quantity": 1}], "supplier": "Nobody Ltd"},
     "unknown_supplier"),
    ({"site": "Lakeside Hospital", "lines": [{"product": "AMX-500", "quantity": 1},
                                             {"product": "GLV-NIT-M", "quantity": 1}]}, "supplier_required"),
])
def test_purchase_request_bad_input_writes_nothing(net: Net, gov: Governance, args: dict[str, Any],
                                                   code: str) -> None:
    before = _orders(net)
    res = run(gov, ERIN, "purchase_request_create", args)
    assert res.status == "error" and res.error_code == code, res.error
    assert _orders(net) == before and not gov.approvals.find()


def test_odoo_down_is_a_typed_error_and_nothing_runs(net: Net, gov: Governance) -> None:
    before = (_orders(net), len(net.db.table("maintenance.request")))
    net.double.stop()
    try:
        for tool, args in (
            ("purchase_request_create",
             {"site": "Lakeside Hospital", "lines": [{"product": "AMX-500", "quantity": 1}]}),
            ("maintenance_request_create", {"equipment": "BME-INF-0001", "kind": "corrective", "description": "x"}),
            ("equipment_status", {"equipment": "BME-INF-0001"}),
        ):
            res = run(gov, ADMIN if tool == "equipment_status" else BEN if "maint" in tool else ERIN, tool, args)
            assert (res.status, res.error_code) == ("error", "unavailable"), (tool, res.error)
            with pytest.raises(Exception) as exc:
                res.raise_for_status()
            assert type(exc.value).__name__ == "UnavailableError"
    finally:
        net.double.start()
    assert (_orders(net), len(net.db.table("maintenance.request"))) == before and not gov.approvals.find()


# --- maintenance ------------------------------------------------------------------------------------------------

def test_maintenance_request_is_created_in_odoo(net: Net, gov: Governance) -> None:
    res = run(gov, BEN, "maintenance_request_create", {
        "equipment": "BME-INF-0001", "kind": "corrective", "description": "Alarm <b>silent</b>", "priority": "2",
        "schedule_date": "2026-05-04"}).raise_for_status()
    rec = net.db.table("maintenance.request")[res.result["request"]["id"]]
    assert (rec["equipment_id"], rec["maintenance_type"], rec["priority"], rec["schedule_date"]) == (
        net.sample.ids["BME-INF-0001"], "corrective", "2", "2026-05-04 08:00:00")
    assert rec["description"] == "<p>Alarm &lt;b&gt;silent&lt;/b&gt;</p>" and rec["name"] == "Repair - BME-INF-0001"
    after = run(gov, BEN, "equipment_status", {"equipment": "BME-INF-0001"}).raise_for_status()
    assert after.result["equipment"][0]["status"] == "out_of_service"
    net.db.table("maintenance.request")[rec["id"]]["stage_id"] = net.sample.ids["stage:Repaired"]


def test_life_support_maintenance_waits_for_another_engineer(net: Net, gov: Governance) -> None:
    before = len(net.db.table("maintenance.request"))
    res = run(gov, BEN, "maintenance_request_create",
              {"equipment": "BME-VEN-0001", "kind": "preventive", "description": "annual PM"})
    assert (res.status, res.rule_id) == ("pending_approval", "life-support-maintenance-request")
    (queued,) = [q.to_dict() for q in gov.approvals.find()]
    assert queued["facts"]["equipment_category"] == "Ventilators"
    assert queued["facts"]["equipment"]["asset_tag"] == "BME-VEN-0001"
    assert "annual PM" not in str(queued["facts"])  # caller text stays in the (redacted) arguments
    assert len(net.db.table("maintenance.request")) == before
    assert gov.executor.approve(BEA, res.approval_id or "").ok
    assert len(net.db.table("maintenance.request")) == before + 1


@pytest.mark.parametrize(("args", "code"), [
    ({"equipment": "BME-XXX-9999", "kind": "corrective", "description": "x"}, "unknown_equipment"),
    ({"equipment": "Infusion pump", "kind": "corrective", "description": "x"}, "ambiguous"),
    ({"equipment": "BME-INF-0001", "kind": "emergency", "description": "x"}, "validation"),
    ({"equipment": "BME-INF-0001", "kind": "corrective", "description": ""}, "validation"),
    ({"equipment": "BME-INF-0001", "kind": "corrective", "description": "x", "priority": "5"}, "validation"),
])
def test_maintenance_request_bad_input(net: Net, gov: Governance, args: dict[str, Any], code: str) -> None:
    before = len(net.db.table("maintenance.request"))
    res = run(gov, BEN, "maintenance_request_create", args)
    assert (res.status, res.error_code) == ("error", code)
    assert len(net.db.table("maintenance.request")) == before


def test_status_set_round_trip_and_life_support_rule(net: Net, gov: Governance) -> None:
    res = run(gov, BEN, "maintenance_equipment_status_set",
              {"equipment": "BME-INF-0001", "status": "out_of_service", "reason": "Cracked housing"})
    assert res.raise_for_status().result["changed"] is True
    req = net.db.table("maintenance.request")[res.result["request"]["id"]]
    assert (req["maintenance_type"], req["kanban_state"], req["priority"]) == ("corrective", "blocked", "3")
    again = run(gov, BEN, "maintenance_equipment_status_set",
                {"equipment": "BME-INF-0001", "status": "out_of_service", "reason": "again"}).raise_for_status()
    assert again.result["changed"] is False
    back = run(gov, BEN, "maintenance_equipment_status_set",
               {"equipment": "BME-INF-0001", "status": "in_service", "reason": "Housing replaced"}).raise_for_status()
    assert req["id"] in back.result["closed"]
    closed = net.db.table("maintenance.request")[req["id"]]
    assert closed["stage_id"] == net.sample.ids["stage:Repaired"] and closed["close_date"] == str(net.sample.today)
    vent = run(gov, BEN, "maintenance_equipment_status_set",
               {"equipment": "BME-VEN-0001", "status": "out_of_service", "reason": "Flow sensor drift"})
    assert (vent.status, vent.rule_id) == ("pending_approval", "life-support-status-change")
    assert gov.approvals.find()[0].to_dict()["facts"]["will"]["action"] == "open_corrective_request"
    gov.executor.reject(BEA, vent.approval_id or "", reason="use the spare instead")


def test_status_set_for_a_server_without_a_done_stage_is_unavailable(net: Net, gov: Governance) -> None:
    sid = net.sample.ids["stage:Repaired"]
    stage = net.db.table("maintenance.stage")[sid]
    stage["done"] = False
    try:
        res = run(gov, BEN, "maintenance_equipment_status_set",
                  {"equipment": "BME-INF-0002", "status": "in_service", "reason": "fixed"})
    finally:
        stage["done"] = True
    assert (res.status, res.error_code) == ("error", "unavailable")
    assert net.db.table("maintenance.request")[net.sample.ids["req:open"]]["stage_id"] != sid


# --- the executor's facts step on its own ---------------------------------------------------------------------

class _Args(BaseModel):
    mode: str = "ok"


def _facts_of(args: _Args, ctx: Any) -> dict[str, Any]:
    if args.mode == "typed":
        raise NotFoundError("no such product", code="unknown_product")
    if args.mode == "crash":
        raise RuntimeError("secret patient name")
    return {"amount": 9000 if args.mode == "big" else 10}


RAN: list[dict[str, Any] | None] = []


@tool(name="purchase_request_create", args=_Args, read_only=False, description="facts probe", facts=_facts_of)
def _probe(args: _Args, ctx: Any) -> dict[str, Any]:
    RAN.append(ctx.facts)
    return {"ran": True}


@pytest.mark.parametrize(("mode", "status", "code", "ran"), [
    ("ok", "ok", None, [{"amount": 10}]),
    ("big", "pending_approval", None, []),
    ("typed", "error", "unknown_product", []),
    ("crash", "error", "facts_error", []),
])
def test_facts_run_before_policy_and_a_failure_runs_nothing(tmp_path: Path, mode: str, status: str,
                                                            code: str | None, ran: list[Any]) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'f.db'}")
    migrate(eng)
    gov = build_governance(eng, ToolRegistry((_probe,)))
    RAN.clear()
    res = gov.executor.execute(ERIN, "purchase_request_create", {"mode": mode})
    assert (res.status, res.error_code, RAN) == (status, code, ran)
    rec = gov.audit.get(res.audit_id or "")
    assert "secret" not in rec.args_json and (rec.args.get("_facts") is not None) == (code is None)

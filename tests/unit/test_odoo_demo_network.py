"""The demo hospital network: deterministic, permissioned like the corpus sidecar, with its injected
exceptions visible in the data (the ground truth the dashboard and triage issues will score against)."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter
from collections.abc import Iterator

import pytest

from copilot.demo.network import GROUP_MAP, HOSPITALS, USERS, DemoNetwork, build_demo_network
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo.source import OdooSource, resolve_user_groups
from copilot.odoo_double import SUPERUSER_ID, Database, OdooDouble

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def net17() -> DemoNetwork:
    return build_demo_network(Database(version="17.0"))


def _fingerprint(db: Database, models: list[str]) -> str:
    rows = {
        m: sorted(
            (
                rid,
                json.dumps(
                    {
                        k: v
                        for k, v in r.items()
                        if not k.endswith("_date")
                        or k
                        in ("request_date", "close_date", "expiration_date", "effective_date", "date_planned")
                    },
                    sort_keys=True,
                ),
            )
            for rid, r in db.table(m).items()
        )
        for m in models
    }
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def test_same_seed_same_network(net17: DemoNetwork) -> None:
    models = ["maintenance.request", "helpdesk.ticket", "purchase.order", "stock.quant", "documents.document"]
    again = build_demo_network(Database(version="17.0"))
    assert _fingerprint(again.db, models) == _fingerprint(net17.db, models)
    assert again.exceptions == net17.exceptions


def test_sizes(net17: DemoNetwork) -> None:
    db = net17.db
    assert len(db.table("helpdesk.ticket")) >= 1500
    assert len(net17.documents) >= 50
    assert len(db.table("stock.move")) > 5000
    assert {e["kind"] for e in net17.exceptions} == {
        "missing_pm",
        "repeated_stockouts",
        "expiring_excess_stock",
        "late_supplier",
        "over_budget",
    }


def test_tickets_are_varied_and_realistically_noisy(net17: DemoNetwork) -> None:
    truth = net17.ticket_truth
    mislabelled = sum(t["mislabelled"] for t in truth.values()) / len(truth)
    assert 0.02 < mislabelled < 0.09
    assert 0.03 < sum(t["ambiguous"] for t in truth.values()) / len(truth) < 0.12
    assert len(Counter(t["labelled_category"] for t in truth.values())) == 8
    bodies = [r["description"] for r in net17.db.table("helpdesk.ticket").values()]
    assert len(set(bodies)) > 0.9 * len(bodies)
    lengths = [len(b) for b in bodies]
    assert max(lengths) > 3 * min(lengths)
    # shared vocabulary: "screen" occurs under more than one category
    env = net17.db.env(SUPERUSER_ID)
    with_screen = env.search_read("helpdesk.ticket", [("description", "ilike", "screen")], ["ticket_type_id"])
    assert len({r["ticket_type_id"][1] for r in with_screen}) >= 3


def test_injected_exceptions_are_in_the_data(net17: DemoNetwork) -> None:
    env = net17.db.env(SUPERUSER_ID)
    exc = {e["kind"]: e for e in net17.exceptions}
    lakeside_pumps = env.search(
        "maintenance.equipment",
        [("serial_no", "=like", "BME-INF-%"), ("location", "=", HOSPITALS["lakeside"])],
    )
    assert lakeside_pumps
    assert (
        env.search_count(
            "maintenance.request",
            [("equipment_id", "in", lakeside_pumps), ("maintenance_type", "=", "preventive")],
        )
        == 0
    )
    assert (
        env.search_count(
            "maintenance.request",
            [
                ("equipment_id.location", "=", HOSPITALS["north_campus"]),
                ("equipment_id.serial_no", "=like", "BME-INF-%"),
                ("maintenance_type", "=", "preventive"),
            ],
        )
        > 0
    )
    orders = env.search_read(
        "purchase.order", [("effective_date", "!=", False)], ["partner_id", "date_planned", "effective_date"]
    )
    delays: dict[str, list[float]] = {}
    for o in orders:
        days = (_d(o["effective_date"]) - _d(o["date_planned"])) / 86400
        delays.setdefault(o["partner_id"][1], []).append(days)
    late = exc["late_supplier"]["supplier"]
    assert statistics.mean(delays[late]) > 4 > max(statistics.mean(v) for k, v in delays.items() if k != late)
    rows = env.read_group(
        "x_department_budget",
        [("x_department_id.name", "=", "Lakeside Hospital / Nursing")],
        ["x_budget:sum", "x_actual:sum"],
        ["x_month:month"],
    )
    over = {r["x_month:month"] for r in rows if r["x_actual"] > 1.1 * r["x_budget"]}
    assert over == {"February 2026", "March 2026"}
    lot = env.search_read(
        "stock.lot", [("name", "=", exc["expiring_excess_stock"]["lot"])], ["expiration_date"]
    )
    assert lot[0]["expiration_date"].startswith(exc["expiring_excess_stock"]["expiration_date"])
    quant = env.search_read(
        "stock.quant", [("lot_id.name", "=", exc["expiring_excess_stock"]["lot"])], ["quantity"]
    )
    assert quant[0]["quantity"] >= 500


def _d(text: str) -> float:
    from datetime import datetime

    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").timestamp()


@pytest.fixture(scope="module", params=["17.0", "18.0", "19.0"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[DemoNetwork, OdooClient]]:
    net = build_demo_network(Database(version=request.param), operations=False)
    with OdooDouble(net.db) as double:
        cfg = OdooConfig(
            url=double.url,
            db=net.db.name,
            login=net.bot_login,
            password="copilot-bot-pw",
            api_key=net.bot_key,
        )
        yield net, OdooClient(cfg).connect()


def test_corpus_acls_match_the_sidecar_and_odoo(served: tuple[DemoNetwork, OdooClient]) -> None:
    net, client = served
    refs = {r.doc_id: r for r in OdooSource(client, group_map=GROUP_MAP).list_documents()}
    contract = refs[f"odoo:documents:{net.documents['contracts/courier-coldlink.md']}"]
    assert contract.doc_type == "contract" and contract.department == "procurement"
    logs = {d for d in refs if d.startswith("odoo:maintenance:")}
    assert len(logs) == len({r["equipment_id"] for r in net.db.table("maintenance.request").values()})
    su = net.db.env(SUPERUSER_ID)
    requests: dict[int, set[int]] = {}
    for rid in su.search("maintenance.request", []):
        requests.setdefault(int(net.db.table("maintenance.request")[rid]["equipment_id"]), set()).add(rid)
    for login in USERS:
        groups = set(resolve_user_groups(client, net.users[login], GROUP_MAP))
        env = net.db.env(net.users[login])
        odoo = {f"odoo:documents:{i}" for i in env.search("documents.document", [("type", "=", "binary")])}
        odoo |= {f"odoo:knowledge:{i}" for i in env.search("knowledge.article", [])}
        # a maintenance log: the equipment and every request on it (maintenance's record rules)
        visible = set(env.search("maintenance.request", []))
        odoo |= {
            f"odoo:maintenance:{e}" for e in env.search("maintenance.equipment", []) if requests.get(e, {0}) <= visible
        }
        by_acl = {d for d, r in refs.items() if set(r.acl_groups) & groups}
        assert by_acl == odoo, login  # the permission matrix: no more, no less
        # who runs the fleet reads every log; other staff only what they follow
        assert (logs <= by_acl) is (login in ("ben.biomed", "fred.facilities")), login
    if net.db.major < 18:  # the folder's groups, and Documents managers (17's manager rule)
        assert contract.acl_groups == ("documents.group_documents_manager", "finance", "procurement")
    paul = set(resolve_user_groups(client, net.users["paul.procurement"], GROUP_MAP))
    nina = set(resolve_user_groups(client, net.users["nina.nurse"], GROUP_MAP))
    assert set(contract.acl_groups) & paul and not set(contract.acl_groups) & nina

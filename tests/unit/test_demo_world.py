"""One demo world: every asset tag, site, clinic and contracted supplier the demo documents name exists in the Odoo
demo network with the attributes the documents give — read through the real client, from the documents' own text
(not from the table in ``copilot.demo.world``), so a document edited without the network (or the reverse) fails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from copilot.demo.network import BOT_KEY, BOT_LOGIN, SITES, build_demo_network, default_corpus_dir
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo_double import Database, OdooDouble

pytestmark = pytest.mark.unit

SOURCES = default_corpus_dir() / ".src"
TAG = re.compile(r"\b(?:BME|LAB|FAC)-[A-Z]{3}-\d{4}\b")


def _docs() -> list[tuple[dict[str, Any], str]]:
    out = []
    for p in sorted(SOURCES.rglob("*.md")):
        text = p.read_text(encoding="utf-8")
        _, front, body = text.split("---", 2)
        out.append((yaml.safe_load(front), body))
    return out


@pytest.fixture(scope="module", params=["17.0", "19.0"])
def odoo(request: pytest.FixtureRequest) -> Iterator[tuple[OdooClient, str]]:
    db = Database(version=request.param)
    build_demo_network(db, tickets=50)
    with OdooDouble(db) as double:
        cfg = OdooConfig(url=double.url, db=db.name, login=BOT_LOGIN, api_key=BOT_KEY)
        yield OdooClient(cfg).connect(), request.param


def _equipment(client: OdooClient, version: str) -> dict[str, dict[str, Any]]:
    """Devices by asset tag, each with its site: the free-text ``location`` (17), or the site of its stock location
    (``location_id``, 19) — the full name before the first "/"."""
    fields = ["name", "serial_no", "model", "category_id", "note", "location" if version < "19" else "location_id"]
    rows = client.search_read("maintenance.equipment", [], fields)
    if version >= "19":
        names = {r["id"]: r["complete_name"] for r in client.search_read("stock.location", [], ["complete_name"])}
        for r in rows:
            r["location"] = names[r["location_id"][0]].split("/")[0] if r.get("location_id") else None
    return {r["serial_no"]: r for r in rows}


def test_every_asset_tag_a_document_names_is_in_odoo(odoo: tuple[OdooClient, str]) -> None:
    client, version = odoo
    equipment = _equipment(client, version)
    named = {t for _, body in _docs() for t in TAG.findall(body)}
    assert len(named) >= 15
    assert sorted(named - equipment.keys()) == []


def _table(body: str) -> dict[str, str]:
    return {m[1].strip(): m[2].strip() for m in re.finditer(r"^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|$", body, re.M)}


def test_each_service_report_device_has_its_model_site_and_repair(odoo: tuple[OdooClient, str]) -> None:
    client, version = odoo
    equipment = _equipment(client, version)
    reports = [(front, body) for front, body in _docs() if "Asset tag" in _table(body)]
    assert len(reports) >= 7
    for front, body in reports:
        row = _table(body)
        tag = row["Asset tag"]
        eq = equipment[tag]
        device = row["Device"].split(",")[0]  # "Helix CX-900 chemistry analyser, module B": the module is a part
        assert device in eq["model"], (tag, device, eq["model"])
        assert eq["location"] == SITES[front["site"]], (tag, eq["location"], front["site"])
        assert row.get("Serial number", "") in (eq["note"] or ""), tag
        requests = client.search_read("maintenance.request", [("equipment_id", "=", eq["id"])],
                                      ["maintenance_type", "request_date", "close_date"])
        assert requests, tag


@pytest.mark.parametrize(
    ("tag", "site", "kind", "opened", "closed"),
    [  # the downtime each service report states (its "Downtime" section)
        ("BME-DEF-0112", "Lakeside Hospital", "corrective", "2026-01-11", "2026-01-12"),
        ("BME-INF-0231", "North Campus Hospital", "corrective", "2026-02-03", "2026-02-06"),
        ("BME-FRG-0021", "North Campus Hospital", "corrective", "2025-12-17", "2025-12-19"),
        ("BME-STR-0150", "North Campus Hospital", "corrective", "2026-02-10", "2026-02-13"),
        ("BME-AUT-0003", "South Campus Hospital", "corrective", "2025-12-02", "2025-12-03"),
        ("LAB-CHM-0009", "Diagnostic Laboratory", "corrective", "2026-01-07", "2026-01-08"),
        ("BME-VEN-0047", "South Campus Hospital", "preventive", "2026-01-22", "2026-01-22"),
        ("FAC-GEN-0003", "South Campus Hospital", None, None, None),
        ("FAC-GEN-0004", "South Campus Hospital", None, None, None),
    ],
)
def test_documented_history_is_odoo_history(odoo: tuple[OdooClient, str], tag: str, site: str, kind: str | None,
                                            opened: str | None, closed: str | None) -> None:
    client, version = odoo
    eq = _equipment(client, version)[tag]
    assert eq["location"] == site
    if kind:
        rows = client.search_read("maintenance.request", [("equipment_id", "=", eq["id"]),
                                                          ("maintenance_type", "=", kind)],
                                  ["request_date", "close_date"])
        assert any(str(r["request_date"])[:10] == opened and str(r["close_date"])[:10] == closed for r in rows)


def test_every_site_and_clinic_the_documents_name_is_an_odoo_site() -> None:
    names = set(SITES.values())
    short = {n.removesuffix(" Clinic").removesuffix(" Hospital") for n in names}
    metas = {front.get("site") for front, _ in _docs()} - {None, "network"}
    assert metas <= SITES.keys()
    text = "\n".join(body for _, body in _docs())
    for m in re.finditer(r"([A-Z][a-z]+(?: [A-Z][a-z]+)?) Clinic\b", text):
        assert m[1] in short, m[0]
    scope = re.search(r"^(.+) clinics\.$", (SOURCES / "sops" / "vaccine-storage-clinics.md").read_text(), re.M)
    assert scope is not None
    clinics = [c.strip() for c in re.split(r",| and ", scope[1]) if c.strip()]
    assert len(clinics) == 8 and all(f"{c} Clinic" in names for c in clinics)


def test_every_contracted_supplier_is_an_odoo_partner(odoo: tuple[OdooClient, str]) -> None:
    client, _ = odoo
    meta = yaml.safe_load((default_corpus_dir() / "copilot-meta.yaml").read_text(encoding="utf-8"))
    suppliers = {v["title"].rsplit(" - ", 1)[1] for k, v in meta["files"].items() if k.startswith("contracts/")}
    assert len(suppliers) >= 10
    partners = {r["name"] for r in client.search_read("res.partner", [("is_company", "=", True)], ["name"])}
    assert sorted(suppliers - partners) == []


@pytest.mark.parametrize(("name", "category", "in_documents"), [
    ("Fentanyl transdermal patch 25 mcg/h", "All / Pharmaceuticals / Controlled substances", "Fentanyl patches"),
    ("Volumetric infusion pump, Medirion IP-7", "All / Capital equipment / Biomedical", "Medirion IP-7"),
    ("Syringe pump, Medirion SP-3", "All / Capital equipment / Biomedical", "Medirion SP-3"),
])
def test_products_the_documents_name_are_in_the_catalogue_with_a_supplier_price(
        odoo: tuple[OdooClient, str], name: str, category: str, in_documents: str) -> None:
    client, _ = odoo
    (product,) = client.search_read("product.product", [("name", "=", name)], ["categ_id", "standard_price"])
    assert product["categ_id"][1] == category
    prices = client.search_read("product.supplierinfo", [("product_id", "=", product["id"])], ["price"])
    assert prices and prices[0]["price"] == product["standard_price"]
    assert in_documents in "\n".join(body for _, body in _docs())


@pytest.mark.parametrize(("lines", "approvers", "amount"), [
    # the issue's own example: "order 12 volumetric pumps for Lakeside" -> above 5,000, an executive decides
    ([{"product": "Volumetric infusion pump, Medirion IP-7", "quantity": 12}], ["executive", "admin"], 22200.0),
    # a controlled substance, however small, waits for compliance (its Odoo category says so, not the caller)
    ([{"product": "FEN-25", "quantity": 10}], ["compliance", "admin"], 64.0),
])
def test_the_documents_world_is_governed_by_odoo_facts(odoo: tuple[OdooClient, str], tmp_path: Path,
                                                      lines: list[dict[str, Any]], approvers: list[str],
                                                      amount: float) -> None:
    from types import SimpleNamespace

    from copilot.db import make_engine, migrate
    from copilot.governance.factory import build_governance
    from copilot.governance.principal import Principal
    from copilot.odoo.ops import OpsService
    from copilot.tools import default_registry

    client, _ = odoo
    ops = OpsService(lambda: OdooClient(client.config).connect(), site_aliases=SITES)
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    migrate(engine)
    gov = build_governance(engine, default_registry(), services=SimpleNamespace(ops=ops))
    erin = Principal(id="erin", name="Erin", role="executive", sites=("*",))
    res = gov.executor.execute(erin, "purchase_request_create", {"site": "Lakeside Hospital", "lines": lines,
                                                                 "amount": 1})  # a claimed amount changes nothing
    assert res.status == "pending_approval", res.error
    req = gov.approvals.get(res.approval_id)
    assert sorted(req.approving_roles) == sorted(approvers)
    assert req.facts["amount"] == amount


def test_sources_are_what_is_rendered() -> None:
    assert Path(SOURCES).is_dir() and any(SOURCES.rglob("*.md"))

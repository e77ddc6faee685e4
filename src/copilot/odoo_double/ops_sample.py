"""A small operations network on the Odoo double, for the ops tools' tests and anyone trying them by hand:
two sites (a hospital and a clinic) plus a central warehouse, each with an internal location and a receipt
operation type; products with categories (one controlled), a supplier price list, lots near expiry, equipment
(a ventilator and infusion pumps, one of them with an open repair), open purchase orders with receipts.

Model and field names are Odoo's (see :mod:`copilot.odoo_double.ops_models`). On 19 equipment carries its site
in ``location_id`` (stock_maintenance), on 17 in the free-text ``location``.

Usage::

    db = Database(version="19.0")
    sample = seed_ops_sample(db)               # returns ids by name, the bot's login and key
    with OdooDouble(db) as odoo: ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from copilot.odoo_double import builders as b
from copilot.odoo_double.ops_models import add_ops_models
from copilot.odoo_double.store import Database

TODAY = date(2026, 4, 30)
SITES = {"lakeside": "Lakeside Hospital", "harbor_view_clinic": "Harbor View Clinic",
         "central_warehouse": "Central Warehouse"}
BOT_LOGIN, BOT_KEY = "ops-bot", "ops-sample-key"


@dataclass
class OpsSample:
    ids: dict[str, int] = field(default_factory=dict)
    today: date = TODAY
    sites: dict[str, str] = field(default_factory=lambda: dict(SITES))
    login: str = BOT_LOGIN
    key: str = BOT_KEY


def seed_ops_sample(db: Database) -> OpsSample:
    from copilot.demo.ops import operation_models

    s = OpsSample()
    ids = s.ids
    for spec in operation_models(db.major):  # stock, purchase (the demo network's declarations)
        db.add_model(spec)
        db.grant(spec.name, "base.group_user", read=True)
        db.grant(spec.name, "base.group_system", read=True, write=True, create=True, unlink=True)
    add_ops_models(db)
    # an Equipment Manager: Maintenance's rules show a plain employee only the equipment and requests they follow
    groups = ("base.group_user", "base.group_system", "maintenance.group_equipment_manager")
    uid = db.add_user(BOT_LOGIN, "not-used", groups=groups, name="Ops Bot")
    db.add_api_key(uid, BOT_KEY)
    wh = b.create(db, "stock.warehouse", {"name": "Network", "code": "NET"})
    b.create(db, "stock.location", {"name": "Vendors", "usage": "supplier"})
    for key, name in SITES.items():
        ids[f"loc:{key}"] = b.create(db, "stock.location", {"name": f"{name}/Stock", "usage": "internal",
                                                            "warehouse_id": wh})
        ids[f"receipts:{key}"] = b.create(db, "stock.picking.type", {
            "name": f"{name}: Receipts", "code": "incoming", "warehouse_id": wh,
            "default_location_dest_id": ids[f"loc:{key}"]})
    ids["cat:all"] = b.create(db, "product.category", {"name": "All"})
    ids["cat:supplies"] = b.create(db, "product.category", {"name": "Medical supplies", "parent_id": ids["cat:all"]})
    ids["cat:pharma"] = b.create(db, "product.category", {"name": "Pharmaceuticals", "parent_id": ids["cat:all"]})
    ids["cat:controlled"] = b.create(db, "product.category", {"name": "Controlled Substances",
                                                              "parent_id": ids["cat:pharma"]})
    kind = {"type": "consu", "is_storable": True} if db.major >= 18 else {"type": "product", "detailed_type": "product"}
    for code, name, cost, cat in (
        ("GLV-NIT-M", "Nitrile examination gloves, medium (box of 100)", 6.5, "supplies"),
        ("GLV-NIT-L", "Nitrile examination gloves, large (box of 100)", 6.5, "supplies"),
        ("AMX-500", "Amoxicillin 500 mg capsules (pack of 21)", 2.4, "pharma"),
        ("MOR-10", "Morphine sulfate 10 mg/ml ampoule", 3.2, "controlled"),
        ("PMP-VOL", "Volumetric infusion pump", 2300.0, "supplies"),
    ):
        ids[code] = b.create(db, "product.product", {"name": name, "default_code": code, "standard_price": cost,
                                                     "categ_id": ids[f"cat:{cat}"], **kind})
    ids["crestline"] = b.create(db, "res.partner", {"name": "Crestline Medical Supply", "is_company": True})
    ids["meridian"] = b.create(db, "res.partner", {"name": "Meridian Pharma Distribution", "is_company": True})
    for partner, code, min_qty, price in (("crestline", "GLV-NIT-M", 0, 6.0), ("crestline", "GLV-NIT-M", 100, 5.5),
                                          ("crestline", "PMP-VOL", 0, 2100.0), ("meridian", "AMX-500", 0, 2.2),
                                          ("meridian", "MOR-10", 0, 3.0)):
        b.create(db, "product.supplierinfo", {"partner_id": ids[partner], "product_id": ids[code],
                                              "min_qty": min_qty, "price": price})
    for site, code, days, qty in (("harbor_view_clinic", "AMX-500", 20, 750), ("lakeside", "AMX-500", 10, 40),
                                  ("lakeside", "MOR-10", 200, 12)):
        lot = b.create(db, "stock.lot", {"name": f"LOT-{code}-{site[:3].upper()}", "product_id": ids[code],
                                         "expiration_date": f"{TODAY + timedelta(days=days)} 00:00:00"})
        ids[f"lot:{site}:{code}"] = lot
        b.create(db, "stock.quant", {"product_id": ids[code], "location_id": ids[f"loc:{site}"], "lot_id": lot,
                                     "quantity": float(qty)})
    for site, on_hand in (("lakeside", 120.0), ("harbor_view_clinic", 15.0)):
        b.create(db, "stock.quant", {"product_id": ids["GLV-NIT-M"], "location_id": ids[f"loc:{site}"],
                                     "quantity": on_hand})
    cats = {c: b.create(db, "maintenance.equipment.category", {"name": c})
            for c in ("Ventilators", "Infusion pumps")}
    for st, (name, done) in enumerate((("New Request", False), ("In Progress", False), ("Repaired", True))):
        ids[f"stage:{name}"] = b.create(db, "maintenance.stage", {"name": name, "sequence": st, "done": done})
    for tag, label, cat, site in (("BME-VEN-0001", "Ventilator", "Ventilators", "lakeside"),
                                  ("BME-INF-0001", "Infusion pump", "Infusion pumps", "lakeside"),
                                  ("BME-INF-0002", "Infusion pump", "Infusion pumps", "harbor_view_clinic")):
        where: dict[str, Any] = ({"location_id": ids[f"loc:{site}"]} if db.major >= 19
                                 else {"location": SITES[site]})
        ids[tag] = b.add_equipment(db, f"{label} {tag}", serial_no=tag, category_id=cats[cat], **where)
    ids["req:open"] = b.add_maintenance(db, ids["BME-INF-0002"], "Door latch broken - BME-INF-0002",
                                        maintenance_type="corrective", request_date=str(TODAY - timedelta(days=3)),
                                        stage_id=ids["stage:In Progress"], priority="2")
    b.add_maintenance(db, ids["BME-INF-0001"], "Preventive maintenance BME-INF-0001", maintenance_type="preventive",
                      request_date=str(TODAY - timedelta(days=40)), close_date=str(TODAY - timedelta(days=39)),
                      stage_id=ids["stage:Repaired"])
    for name, partner, site, state, receipt, code in (
        ("P00001", "crestline", "lakeside", "purchase", "pending", "GLV-NIT-M"),
        ("P00002", "meridian", "harbor_view_clinic", "purchase", "full", "AMX-500"),
        ("P00003", "meridian", "harbor_view_clinic", "draft", "pending", "AMX-500"),
    ):
        picks: list[int] = []
        if state == "purchase":
            picks.append(b.create(db, "stock.picking", {
                "name": f"{site[:3].upper()}/IN/{name}", "origin": name, "picking_type_id": ids[f"receipts:{site}"],
                "state": "done" if receipt == "full" else "assigned",
                "scheduled_date": f"{TODAY + timedelta(days=2)} 10:00:00"}))
        ids[name] = b.create(db, "purchase.order", {
            "name": name, "partner_id": ids[partner], "state": state, "receipt_status": receipt,
            "date_order": f"{TODAY - timedelta(days=5)} 09:00:00", "picking_type_id": ids[f"receipts:{site}"],
            "picking_ids": [(6, 0, picks)],
            "order_line": [(0, 0, {"product_id": ids[code], "product_qty": 100.0, "price_unit": 1.0})]})
    return s

"""Operational data of the demo network: stock, purchases, department budgets and overtime, helpdesk tickets.

Model and field names follow Odoo (ODOO.md §6); budgets and overtime use a Studio-style custom model
(``x_department_budget``) because Community has no budget model. Known exceptions are injected and recorded in
:attr:`DemoNetwork.exceptions`; ticket labels (with their deliberate mislabels) in ``ticket_truth``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from copilot.demo.world import CONTRACTED_SUPPLIERS
from copilot.odoo_double import builders as b
from copilot.odoo_double.ops_models import add_ops_models
from copilot.odoo_double.schema import Field, ModelSpec
from copilot.odoo_double.store import Database

if TYPE_CHECKING:
    from copilot.demo.network import DemoNetwork


def _f(type_: str, string: str, **kw: Any) -> Field:
    return Field(type_, string, **kw)


def _m2o(rel: str, string: str, **kw: Any) -> Field:
    return Field("many2one", string, relation=rel, **kw)


def _sel(string: str, *keys: str) -> Field:
    return Field("selection", string, selection=tuple((k, k.replace("_", " ").title()) for k in keys))


def operation_models(major: int) -> list[ModelSpec]:
    uom = {"product_uom_id" if major >= 19 else "product_uom": _f("char", "Unit of Measure")}
    product_kind = (
        {"is_storable": _f("boolean", "Track Inventory")}
        if major >= 18
        else {"detailed_type": _sel("Product Type", "consu", "service", "product")}
    )
    po_states = ("draft", "sent", "to approve", "purchase", "cancel") + (() if major >= 19 else ("done",))
    return [
        ModelSpec(
            "hr.department",
            "Department",
            {
                "name": _f("char", "Department Name", required=True),
                "complete_name": _f("char", "Complete Name", compute=lambda db, r: r.get("name")),
                "parent_id": _m2o("hr.department", "Parent Department"),
                "active": _f("boolean", "Active", default=True),
                "x_site": _f("char", "Site"),
            },
        ),
        ModelSpec(
            "x_department_budget",
            "Department budget (Studio)",
            {
                "x_name": _f("char", "Name"),
                "x_department_id": _m2o("hr.department", "Department", required=True),
                "x_month": _f("date", "Month"),
                "x_budget": _f("float", "Budget"),
                "x_actual": _f("float", "Actual"),
                "x_overtime_hours": _f("float", "Overtime hours"),
            },
            rec_name="x_name",
        ),
        ModelSpec(
            "product.product",
            "Product",
            {
                "name": _f("char", "Name", required=True),
                "default_code": _f("char", "Internal Reference"),
                "type": _sel("Product Type", "consu", "service", "combo")
                if major >= 18
                else _sel("Product Type", "consu", "service", "product"),
                **product_kind,
                "standard_price": _f("float", "Cost"),
                "uom_name": _f("char", "Unit"),
                "use_expiration_date": _f("boolean", "Use Expiration Date"),
                "active": _f("boolean", "Active", default=True),
            },
        ),
        ModelSpec(
            "stock.warehouse",
            "Warehouse",
            {"name": _f("char", "Warehouse", required=True), "code": _f("char", "Short Name")},
        ),
        ModelSpec(
            "stock.location",
            "Inventory Locations",
            {
                "name": _f("char", "Location Name", required=True),
                "complete_name": _f("char", "Full Location Name", compute=lambda db, r: r.get("name")),
                "usage": _sel(
                    "Location Type",
                    "supplier",
                    "view",
                    "internal",
                    "customer",
                    "inventory",
                    "production",
                    "transit",
                ),
                "location_id": _m2o("stock.location", "Parent Location"),
                "warehouse_id": _m2o("stock.warehouse", "Warehouse"),
                "active": _f("boolean", "Active", default=True),
            },
            parent_name="location_id",
        ),
        ModelSpec(
            "stock.lot",
            "Lot/Serial",
            {
                "name": _f("char", "Lot/Serial Number", required=True),
                "product_id": _m2o("product.product", "Product"),
                "expiration_date": _f("datetime", "Expiration Date"),
                "use_date": _f("datetime", "Best before Date"),
                "removal_date": _f("datetime", "Removal Date"),
                "alert_date": _f("datetime", "Alert Date"),
            },
        ),
        ModelSpec(
            "stock.quant",
            "Quants",
            {
                "product_id": _m2o("product.product", "Product", required=True),
                "location_id": _m2o("stock.location", "Location", required=True),
                "lot_id": _m2o("stock.lot", "Lot"),
                "quantity": _f("float", "Quantity"),
                "reserved_quantity": _f("float", "Reserved Quantity"),
                "in_date": _f("datetime", "Incoming Date"),
            },
            rec_name="product_id",
        ),
        ModelSpec(
            "stock.warehouse.orderpoint",
            "Minimum Inventory Rule",
            {
                "name": _f("char", "Name"),
                "trigger": _sel("Trigger", "auto", "manual"),
                "product_id": _m2o("product.product", "Product"),
                "location_id": _m2o("stock.location", "Location"),
                "warehouse_id": _m2o("stock.warehouse", "Warehouse"),
                "product_min_qty": _f("float", "Min Quantity"),
                "product_max_qty": _f("float", "Max Quantity"),
            },
        ),
        ModelSpec(
            "stock.move",
            "Stock Move",
            {
                **({} if major >= 19 else {"name": _f("char", "Description")}),
                "reference": _f("char", "Reference"),
                "origin": _f("char", "Source Document"),
                "product_id": _m2o("product.product", "Product", required=True),
                "product_uom_qty": _f("float", "Demand"),
                "quantity": _f("float", "Quantity"),
                "location_id": _m2o("stock.location", "Source Location"),
                "location_dest_id": _m2o("stock.location", "Destination Location"),
                # a move's lots are many2many (recordings: fields_get of stock.move in 17 and 19)
                "lot_ids": Field("many2many", "Serial Numbers", relation="stock.lot"),
                "state": _sel(
                    "Status",
                    "draft",
                    "waiting",
                    "confirmed",
                    "partially_available",
                    "assigned",
                    "done",
                    "cancel",
                ),
                "date": _f("datetime", "Date Scheduled"),
            },
            rec_name="reference",
        ),
        ModelSpec(
            "purchase.order",
            "Purchase Order",
            {
                "name": _f("char", "Order Reference", required=True),
                "partner_id": _m2o("res.partner", "Vendor"),
                "date_order": _f("datetime", "Order Deadline"),
                "date_approve": _f("datetime", "Confirmation Date"),
                "date_planned": _f("datetime", "Expected Arrival"),
                "effective_date": _f("datetime", "Arrival"),
                "state": _sel("Status", *po_states),
                "amount_total": _f("monetary", "Total"),
                "receipt_status": _sel("Receipt Status", "pending", "partial", "full"),
                "order_line": Field(
                    "one2many", "Order Lines", relation="purchase.order.line", relation_field="order_id"
                ),
                # an operation type, not a location (recordings: purchase.order fields_get, 17 and 19)
                "picking_type_id": _m2o("stock.picking.type", "Deliver To"),
            },
        ),
        ModelSpec(
            "stock.picking.type",
            "Operation Types",
            {
                "name": _f("char", "Operation Type", required=True),
                "code": _sel("Type of Operation", "incoming", "outgoing", "internal"),
                "warehouse_id": _m2o("stock.warehouse", "Warehouse"),
                "default_location_dest_id": _m2o("stock.location", "Default Destination Location"),
            },
        ),
        ModelSpec(
            "purchase.order.line",
            "Purchase Order Line",
            {
                "order_id": _m2o("purchase.order", "Order Reference", required=True, ondelete="cascade"),
                "product_id": _m2o("product.product", "Product"),
                "name": _f("text", "Description"),
                "product_qty": _f("float", "Quantity"),
                "qty_received": _f("float", "Received Qty"),
                **uom,
                "price_unit": _f("float", "Unit Price"),
                "price_subtotal": _f("monetary", "Subtotal"),
                "date_planned": _f("datetime", "Expected Arrival"),
            },
        ),
        ModelSpec("helpdesk.team", "Helpdesk Team", {"name": _f("char", "Helpdesk Team", required=True)}),
        ModelSpec(
            "helpdesk.stage",
            "Helpdesk Stage",
            {"name": _f("char", "Stage Name", required=True), "fold": _f("boolean", "Folded in Kanban")},
        ),
        ModelSpec(
            "helpdesk.ticket.type", "Helpdesk Ticket Type", {"name": _f("char", "Type", required=True)}
        ),
        ModelSpec("helpdesk.tag", "Helpdesk Tags", {"name": _f("char", "Tag Name", required=True)}),
        ModelSpec(
            "helpdesk.ticket",
            "Helpdesk Ticket",
            {
                "name": _f("char", "Subject", required=True),
                "description": _f("html", "Description"),
                "team_id": _m2o("helpdesk.team", "Helpdesk Team"),
                "ticket_type_id": _m2o("helpdesk.ticket.type", "Type"),
                "stage_id": _m2o("helpdesk.stage", "Stage"),
                "partner_id": _m2o("res.partner", "Customer"),
                "user_id": _m2o("res.users", "Assigned to"),
                "priority": Field(
                    "selection",
                    "Priority",
                    selection=(("0", "Low"), ("1", "Medium"), ("2", "High"), ("3", "Urgent")),
                ),
                "tag_ids": Field("many2many", "Tags", relation="helpdesk.tag"),
                "close_date": _f("datetime", "Close date"),
                "active": _f("boolean", "Active", default=True),
            },
        ),
    ]


def reattach_operation_models(db: Database) -> None:
    """A demo database reopened from its file: the records and access rows are there, the model definitions
    (code, not data) are not — without this a restarted demo has no stock, purchase or helpdesk models."""
    for spec in operation_models(db.major):
        db.add_model(spec)


def register_operation_models(db: Database) -> None:
    for spec in operation_models(db.major):
        db.add_model(spec)
        db.grant(spec.name, "base.group_user", read=True)
        db.grant(spec.name, "base.group_system", read=True, write=True, create=True, unlink=True)
    for model in ("helpdesk.ticket",):
        db.grant(model, "riverside.group_helpdesk", read=True, write=True, create=True)


PRODUCTS = [  # (code, name, unit, cost, weekly use per clinic, weekly use per hospital, expiry)
    ("GLV-NIT-M", "Nitrile examination gloves, medium (box of 100)", "box", 6.5, 12, 60, False),
    ("SYR-5ML", "Syringe 5 ml luer lock", "unit", 0.12, 150, 900, False),
    ("IVS-STD", "IV administration set, standard", "unit", 1.9, 20, 160, False),
    ("NDL-21G", "Hypodermic needle 21G", "unit", 0.05, 200, 1100, False),
    ("MSK-SRG", "Surgical mask type IIR (box of 50)", "box", 4.2, 10, 45, False),
    ("GAU-10", "Sterile gauze swab 10x10 cm (pack of 100)", "pack", 3.1, 6, 30, False),
    ("ALC-RUB", "Alcohol hand rub 500 ml", "bottle", 3.8, 8, 40, False),
    ("AMX-500", "Amoxicillin 500 mg capsules (pack of 21)", "pack", 2.4, 15, 70, True),
    ("PCM-1G", "Paracetamol 1 g tablets (pack of 100)", "pack", 3.0, 10, 55, True),
    ("NS-1L", "Sodium chloride 0.9% 1 L infusion bag", "bag", 1.1, 10, 140, True),
    ("INS-RAP", "Insulin rapid-acting 10 ml vial", "vial", 18.0, 3, 18, True),
    ("VAC-FLU", "Influenza vaccine prefilled syringe", "unit", 9.5, 20, 25, True),
    ("REA-CHM", "Chemistry analyser reagent kit", "kit", 120.0, 0, 0, True),
    ("CAT-FOL", "Foley catheter 16 Fr", "unit", 2.2, 2, 25, False),
    ("BAT-AA", "Alkaline battery AA (pack of 24)", "pack", 7.0, 1, 6, False),
]
CATEGORIES = {  # product code -> category path (what the policy's controlled-substance rule reads)
    **{c: "All / Medical supplies" for c in ("GLV-NIT-M", "SYR-5ML", "IVS-STD", "NDL-21G", "MSK-SRG", "GAU-10",
                                              "ALC-RUB", "CAT-FOL", "BAT-AA")},
    **{c: "All / Pharmaceuticals" for c in ("AMX-500", "PCM-1G", "NS-1L", "INS-RAP", "VAC-FLU")},
    "REA-CHM": "All / Laboratory",
}
CATALOGUE_ONLY = [  # ordered, never stocked in the demo year: (code, name, unit, cost, category, vendor)
    ("FEN-25", "Fentanyl transdermal patch 25 mcg/h", "patch", 6.4,
     "All / Pharmaceuticals / Controlled substances", "Meridian Pharma Distribution"),
    ("PMP-IP7", "Volumetric infusion pump, Medirion IP-7", "unit", 1850.0, "All / Capital equipment / Biomedical",
     "Crestline Medical Supply"),
    ("PMP-SP3", "Syringe pump, Medirion SP-3", "unit", 1450.0, "All / Capital equipment / Biomedical",
     "Crestline Medical Supply"),
]
"""Products the documents name that the network buys but does not stock: the SOPs' pump models (BME-INF devices are
Medirion IP-7 and SP-3) and a controlled substance (fentanyl patches, in the controlled-substances SOP)."""
SUPPLIERS = {
    "Crestline Medical Supply": (
        "GLV-NIT-M",
        "SYR-5ML",
        "IVS-STD",
        "NDL-21G",
        "MSK-SRG",
        "GAU-10",
        "CAT-FOL",
        "BAT-AA",
        "ALC-RUB",
    ),
    "Meridian Pharma Distribution": ("AMX-500", "PCM-1G", "NS-1L", "INS-RAP", "VAC-FLU"),
    "Helix Diagnostics Supply": ("REA-CHM",),
}
LATE_SUPPLIER = "Crestline Medical Supply"
STOCKOUT_SITE, STOCKOUT_PRODUCT = "riverbend_clinic", "GLV-NIT-M"
EXPIRY_SITE, EXPIRY_PRODUCT = "harbor_view_clinic", "AMX-500"
OVER_BUDGET = ("lakeside", "Nursing")


def build_operations(net: DemoNetwork, rng: random.Random, *, tickets: int = 1500) -> None:
    from copilot.demo.network import CLINICS, HOSPITALS, SITES, TODAY

    db = net.db
    register_operation_models(db)
    add_ops_models(db)  # product categories, supplier prices, receipts: what the ops tools read and write
    db.add_group("riverside.group_helpdesk", "Helpdesk")
    wh = b.create(db, "stock.warehouse", {"name": "Central Warehouse", "code": "CWH"})
    supplier_loc = b.create(db, "stock.location", {"name": "Vendors", "usage": "supplier"})
    consumed = b.create(db, "stock.location", {"name": "Patient care consumption", "usage": "customer"})
    locs = {
        s: b.create(db, "stock.location", {"name": f"{n}/Stock", "usage": "internal", "warehouse_id": wh})
        for s, n in SITES.items()
        if s in CLINICS or s in HOSPITALS or s == "central_warehouse"
    }
    products = {}
    for code, name, unit, cost, *_rest, expiry in PRODUCTS:
        vals: dict[str, Any] = {
            "name": name,
            "default_code": code,
            "uom_name": unit,
            "standard_price": cost,
            "use_expiration_date": expiry,
        }
        if db.major >= 18:
            vals |= {"type": "consu", "is_storable": True}
        else:
            vals |= {"type": "product", "detailed_type": "product"}
        products[code] = b.create(db, "product.product", vals)
    categories = _catalogue(db, products)
    start = TODAY - timedelta(days=364)
    weeks = [start + timedelta(days=7 * i) for i in range(52)]
    stockout_weeks: list[str] = []
    for site, loc in locs.items():
        if site == "central_warehouse":
            continue
        for code, _n, _u, _c, per_clinic, per_hosp, expiry in PRODUCTS:
            use = per_hosp if site in HOSPITALS else per_clinic
            if use == 0:
                continue
            stock = use * 3.0
            b.create(
                db,
                "stock.warehouse.orderpoint",
                {
                    "name": f"OP/{site}/{code}",
                    "trigger": "auto",
                    "product_id": products[code],
                    "location_id": loc,
                    "warehouse_id": wh,
                    "product_min_qty": use * 1.5,
                    "product_max_qty": use * 4,
                },
            )
            for i, week in enumerate(weeks):
                demand = max(0, round(use * rng.uniform(0.7, 1.3)))
                issued = min(demand, stock)
                if site == STOCKOUT_SITE and code == STOCKOUT_PRODUCT and i % 9 == 4:
                    issued = stock  # replenishment arrived late: shelf emptied
                if site == STOCKOUT_SITE and code == STOCKOUT_PRODUCT and issued < demand:
                    stockout_weeks.append(str(week))  # the weeks the shelf could not meet demand (the truth)
                stock -= issued
                _move(db, products[code], issued, loc, consumed, week, f"{site.upper()}/OUT/{i:03d}", demand)
                if stock < use * 1.5:
                    late = site == STOCKOUT_SITE and code == STOCKOUT_PRODUCT and i % 9 in (3, 4)
                    refill = 0 if late else round(use * 4 - stock)
                    if refill:
                        _move(
                            db,
                            products[code],
                            refill,
                            locs["central_warehouse"],
                            loc,
                            week + timedelta(days=2),
                            f"CWH/INT/{site[:4].upper()}{i:03d}",
                            refill,
                        )
                        stock += refill
            final = 0.0 if (site == STOCKOUT_SITE and code == STOCKOUT_PRODUCT) else stock
            lot: int | bool = False
            if expiry:
                exp_days = 20 if (site == EXPIRY_SITE and code == EXPIRY_PRODUCT) else rng.randint(90, 700)
                if site == EXPIRY_SITE and code == EXPIRY_PRODUCT:
                    final = use * 50.0  # far more than can be used before expiry
                lot = b.create(
                    db,
                    "stock.lot",
                    {
                        "name": f"LOT-{code}-{site[:3].upper()}{rng.randint(100, 999)}",
                        "product_id": products[code],
                        "expiration_date": f"{TODAY + timedelta(days=exp_days)} 00:00:00",
                        "alert_date": f"{TODAY + timedelta(days=exp_days - 30)} 00:00:00",
                    },
                )
            b.create(
                db,
                "stock.quant",
                {
                    "product_id": products[code],
                    "location_id": loc,
                    "lot_id": lot,
                    "quantity": float(final),
                    "in_date": f"{weeks[-1]} 08:00:00",
                },
            )
    net.exceptions.append(
        {
            "kind": "repeated_stockouts",
            "site": STOCKOUT_SITE,
            "product": STOCKOUT_PRODUCT,
            "weeks": stockout_weeks,
        }
    )
    lot_row = next(
        r
        for r in db.table("stock.lot").values()
        if r["product_id"] == products[EXPIRY_PRODUCT] and EXPIRY_SITE[:3].upper() in r["name"]
    )
    net.exceptions.append(
        {
            "kind": "expiring_excess_stock",
            "site": EXPIRY_SITE,
            "product": EXPIRY_PRODUCT,
            "lot": lot_row["name"],
            "expiration_date": lot_row["expiration_date"][:10],
        }
    )
    receipts = b.create(
        db,
        "stock.picking.type",
        {"name": "Receipts", "code": "incoming", "warehouse_id": wh,
         "default_location_dest_id": locs["central_warehouse"]},
    )
    _purchases(db, rng, products, receipts, supplier_loc, weeks, net)
    _supplier_prices(db, products, categories)
    for site in HOSPITALS:  # hospitals also receive direct deliveries (capital equipment, urgent stock)
        b.create(db, "stock.picking.type", {"name": f"{SITES[site]}: Receipts", "code": "incoming",
                                             "warehouse_id": wh, "default_location_dest_id": locs[site]})
    _budgets(db, rng, net, TODAY)
    from copilot.demo.tickets import build_tickets

    build_tickets(net, rng, count=tickets, today=TODAY)


def _move(
    db: Database, product: int, qty: float, src: int, dst: int, when: date, ref: str, demand: float
) -> None:
    vals: dict[str, Any] = {
        "reference": ref,
        "product_id": product,
        "product_uom_qty": float(demand),
        "quantity": float(qty),
        "location_id": src,
        "location_dest_id": dst,
        "state": "done",
        "date": f"{when} 10:00:00",
    }
    if db.major < 19:
        vals["name"] = ref
    b.create(db, "stock.move", vals)


def _catalogue(db: Database, products: dict[str, int]) -> dict[str, int]:
    """Categories for every product (created as Odoo paths, "All / Pharmaceuticals / Controlled substances"), and
    the catalogue-only products. Returns category path -> id."""
    ids: dict[str, int] = {}

    def category(path: str) -> int:
        if path not in ids:
            parent, _, name = path.rpartition(" / ")
            ids[path] = b.create(db, "product.category", {"name": name, **({"parent_id": category(parent)}
                                                                           if parent else {})})
        return ids[path]

    for code, path in CATEGORIES.items():
        db.table("product.product")[products[code]]["categ_id"] = category(path)
        db._persist("product.product", products[code])
    for code, name, unit, cost, path, _vendor in CATALOGUE_ONLY:
        vals: dict[str, Any] = {"name": name, "default_code": code, "uom_name": unit, "standard_price": cost,
                                "use_expiration_date": False, "categ_id": category(path)}
        vals |= {"type": "consu", "is_storable": True} if db.major >= 18 else {"type": "product",
                                                                                "detailed_type": "product"}
        products[code] = b.create(db, "product.product", vals)
    return ids


def _supplier_prices(db: Database, products: dict[str, int], categories: dict[str, int]) -> None:
    """Each supplier's price list (``product.supplierinfo``): the contract price of every product it delivers."""
    partners = {p["name"]: p["id"] for p in db.table("res.partner").values() if p.get("is_company")}
    costs = {code: cost for code, _n, _u, cost, *_ in PRODUCTS} | {c[0]: c[3] for c in CATALOGUE_ONLY}
    offers = [(vendor, code) for vendor, codes in SUPPLIERS.items() for code in codes]
    offers += [(vendor, code) for code, *_rest, vendor in CATALOGUE_ONLY]
    for vendor, code in offers:
        b.create(db, "product.supplierinfo", {"partner_id": partners[vendor], "product_id": products[code],
                                              "min_qty": 1.0, "price": costs[code], "delay": 3})


def _purchases(
    db: Database,
    rng: random.Random,
    products: dict[str, int],
    receipts: int,
    supplier_loc: int,
    weeks: list[date],
    net: DemoNetwork,
) -> None:
    costs = {code: cost for code, _n, _u, cost, *_ in PRODUCTS}
    delays: list[int] = []
    n = 0
    for vendor, codes in SUPPLIERS.items():
        partner = b.create(db, "res.partner", {"name": vendor, "is_company": True, "active": True})
        for week in weeks[::2]:
            n += 1
            planned = week + timedelta(days=7)
            # a normal supplier delivers five orders in six on time (inside the pack's 80% breach line; the same
            # draw as before, so the rest of the network stays)
            delay = rng.randint(5, 14) if vendor == LATE_SUPPLIER else rng.choice([-1, 0, 0, 0, 0, 2])
            arrived = planned + timedelta(days=delay)
            done = arrived <= weeks[-1]
            lines: list[tuple[int, int, dict[str, Any]]] = []
            for code in rng.sample(list(codes), k=min(len(codes), rng.randint(1, 4))):
                qty = float(rng.randint(5, 60) * 10)
                lines.append(
                    (
                        0,
                        0,
                        {
                            "product_id": products[code],
                            "name": code,
                            "product_qty": qty,
                            "qty_received": qty if done else 0.0,
                            "price_unit": costs[code],
                            "price_subtotal": round(qty * costs[code], 2),
                            "date_planned": f"{planned} 12:00:00",
                        },
                    )
                )
            b.create(
                db,
                "purchase.order",
                {
                    "name": f"P{n:05d}",
                    "partner_id": partner,
                    "date_order": f"{week} 09:00:00",
                    "date_approve": f"{week} 15:00:00",
                    "date_planned": f"{planned} 12:00:00",
                    "effective_date": f"{arrived} 11:00:00" if done else False,
                    "state": "purchase",
                    "receipt_status": "full" if done else "pending",
                    "picking_type_id": receipts,
                    "amount_total": round(sum(v[2]["price_subtotal"] for v in lines), 2),
                    "order_line": lines,
                },
            )
            if vendor == LATE_SUPPLIER and done:
                delays.append(delay)
    for vendor in CONTRACTED_SUPPLIERS:  # the service contracts' suppliers (no stock orders in the demo)
        if vendor not in SUPPLIERS:
            b.create(db, "res.partner", {"name": vendor, "is_company": True, "active": True})
    net.exceptions.append(
        {
            "kind": "late_supplier",
            "supplier": LATE_SUPPLIER,
            "mean_delay_days": round(sum(delays) / len(delays), 1),
            "orders": len(delays),
        }
    )


def _budgets(db: Database, rng: random.Random, net: DemoNetwork, today: date) -> None:
    from copilot.demo.network import HOSPITALS

    months = [
        date(today.year - (today.month - i <= 0), (today.month - i - 1) % 12 + 1, 1) for i in range(12, 0, -1)
    ]
    for site, site_name in HOSPITALS.items():
        for dept, budget in (
            ("Nursing", 420_000.0),
            ("Pharmacy", 160_000.0),
            ("Facilities", 90_000.0),
            ("Biomedical Engineering", 60_000.0),
        ):
            did = b.create(db, "hr.department", {"name": f"{site_name} / {dept}", "x_site": site})
            for month in months:
                over = (site, dept) == OVER_BUDGET and month.month in (2, 3)
                actual = budget * (rng.uniform(1.15, 1.22) if over else rng.uniform(0.9, 1.04))
                overtime = (
                    rng.uniform(300, 500) * (2.4 if over else 1.0)
                    if dept == "Nursing"
                    else rng.uniform(10, 60)
                )
                b.create(
                    db,
                    "x_department_budget",
                    {
                        "x_name": f"{site_name} / {dept} {month:%Y-%m}",
                        "x_department_id": did,
                        "x_month": str(month),
                        "x_budget": budget,
                        "x_actual": round(actual, 2),
                        "x_overtime_hours": round(overtime, 1),
                    },
                )
    net.exceptions.append(
        {
            "kind": "over_budget",
            "site": OVER_BUDGET[0],
            "department": OVER_BUDGET[1],
            "months": [f"{today.year}-02", f"{today.year}-03"],
            "detail": "Actuals 15-22% over budget, overtime hours ~2.4x normal",
        }
    )

"""What the ops tools read and write that the demo's operation models leave out, declared as Odoo has it.

Added on top of :func:`copilot.demo.ops.operation_models` (or any double that has ``product.product``,
``purchase.order``, ``stock.location``):

- ``product.category`` (``name``, ``parent_id``, ``complete_name`` = the parent path joined by " / ") and
  ``product.product.categ_id`` — required on every real product (recorded ``fields_get`` 17 and 19);
- ``product.tag`` and ``product.product.product_tag_ids`` (recorded 17 and 19);
- ``product.supplierinfo`` (``partner_id``, ``product_id``, ``min_qty``, ``price``, ``sequence``, ``delay``):
  the relation is recorded (``seller_ids``), its fields come from Odoo's source (product/models/
  product_supplierinfo.py, 17 and 19) — **not recorded** (no recorded ``fields_get`` of that model);
- ``stock.picking`` (``name, origin, partner_id, picking_type_id, location_dest_id, scheduled_date, state``) and
  ``purchase.order.picking_ids``, ``origin``, ``note`` (19) / ``notes`` (17) (recorded);
- ``purchase.order.name`` taken from a ``P00001`` sequence when not given, as Odoo's ``create`` does
  (recorded: ``g9.po.create.admin`` sends no name and reads back ``P00017``);
- on 19, ``maintenance.equipment.location_id`` → ``stock.location`` (stock_maintenance; recorded 19 only).

Usage::

    build_demo_network(db)
    add_ops_models(db, grant=True)      # grant=False when reopening a saved database (rights are data)
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from copilot.odoo_double.schema import Field, ModelSpec
from copilot.odoo_double.store import Database


def _category_path(db: Database, rec: dict[str, Any]) -> str:
    names: list[str] = []
    cur: dict[str, Any] | None = rec
    seen: set[int] = set()
    while cur is not None and int(cur["id"]) not in seen:
        seen.add(int(cur["id"]))
        names.append(str(cur.get("name") or ""))
        parent = cur.get("parent_id")
        cur = db.table("product.category").get(int(parent)) if parent else None
    return " / ".join(reversed(names))


def _po_sequence(db: Database, data: dict[str, Any]) -> str:
    taken = [int(m.group(1)) for r in db.table("purchase.order").values()
             if (m := re.fullmatch(r"P(\d+)", str(r.get("name") or "")))]
    return f"P{max(taken, default=0) + 1:05d}"


NEW_MODELS = (
    ModelSpec("product.category", "Product Category", {
        "name": Field("char", "Name", required=True),
        "parent_id": Field("many2one", "Parent Category", relation="product.category", ondelete="cascade"),
        "complete_name": Field("char", "Complete Name", compute=_category_path),
    }, rec_name="complete_name"),  # Odoo: product.category._rec_name = 'complete_name' ("All / Saleable")
    ModelSpec("product.tag", "Product Tag", {"name": Field("char", "Tag Name", required=True)}),
    ModelSpec("product.supplierinfo", "Supplier Pricelist", {
        "partner_id": Field("many2one", "Vendor", relation="res.partner", required=True, ondelete="cascade"),
        "product_id": Field("many2one", "Product Variant", relation="product.product"),
        "min_qty": Field("float", "Quantity"),
        "price": Field("float", "Price"),
        "sequence": Field("integer", "Sequence", default=1),
        "delay": Field("integer", "Delivery Lead Time", default=1),
    }, rec_name="partner_id"),
    ModelSpec("stock.picking", "Transfer", {
        "name": Field("char", "Reference"),
        "origin": Field("char", "Source Document"),
        "partner_id": Field("many2one", "Contact", relation="res.partner"),
        "picking_type_id": Field("many2one", "Operation Type", relation="stock.picking.type", required=True),
        "location_dest_id": Field("many2one", "Destination Location", relation="stock.location"),
        "scheduled_date": Field("datetime", "Scheduled Date"),
        "state": Field("selection", "Status", selection=tuple(
            (k, k.title()) for k in ("draft", "waiting", "confirmed", "assigned", "done", "cancel")), default="draft"),
    }),
)


def _extra_fields(major: int) -> dict[str, dict[str, Field]]:
    return {
        "product.product": {
            "categ_id": Field("many2one", "Product Category", relation="product.category"),
            "product_tag_ids": Field("many2many", "Tags", relation="product.tag"),
        },
        "purchase.order": {
            "name": Field("char", "Order Reference", required=True, default=_po_sequence),
            "origin": Field("char", "Source"),
            "picking_ids": Field("many2many", "Receptions", relation="stock.picking"),
            "state": Field("selection", "Status", selection=tuple(
                (k, k.title()) for k in ("draft", "sent", "to approve", "purchase", "cancel",
                                         *(() if major >= 19 else ("done",)))), default="draft"),
            ("note" if major >= 19 else "notes"): Field("html", "Terms and Conditions"),
        },
        "maintenance.equipment": (
            {"location_id": Field("many2one", "Location", relation="stock.location")} if major >= 19 else {}
        ),
    }


def add_ops_models(db: Database, *, grant: bool = True) -> None:
    """Declare the models and fields above (idempotent); ``grant`` adds the demo's rights for the new models
    (employees read, Settings users do everything), as :func:`copilot.demo.ops.register_operation_models` does."""
    for spec in NEW_MODELS:
        db.add_model(replace(spec, fields=dict(spec.fields)))
        if grant:
            db.grant(spec.name, "base.group_user", read=True)
            db.grant(spec.name, "base.group_system", read=True, write=True, create=True, unlink=True)
    for model, extra in _extra_fields(db.major).items():
        if model in db.models and extra:
            spec = db.models[model]
            db.add_model(replace(spec, fields={**spec.fields, **extra}))

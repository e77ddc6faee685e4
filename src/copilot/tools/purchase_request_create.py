"""``purchase_request_create``: a real draft ``purchase.order`` in Odoo for a site, priced from Odoo.

The facts — read before the policy and shown in the approval queue with Odoo links — are the order as it would
be written: the site's receipt operation type, the supplier (named, or the products' common vendor in
``product.supplierinfo``), every line at the supplier's price for that quantity or the product's
``standard_price``, the total, and each product's category path and tags. The policy decides on those
(``facts.amount``, ``facts.product_categories``): nothing the caller claims can lower a threshold, and an
``amount`` argument is ignored. Nothing is written before approval; a repeated run of the same request finds the
order it created (``origin`` = ``Copilot <request id>``) instead of creating another.

Usage (through the executor only)::

    executor.execute(erin, "purchase_request_create", {"site": "Central Warehouse",
        "lines": [{"product": "INS-RAP", "quantity": 400}], "supplier": "Meridian Pharma Distribution"})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class PurchaseLine(BaseModel):
    product: str = Field(min_length=1, max_length=200, description="name or internal reference")
    quantity: float = Field(gt=0, le=1_000_000)


class PurchaseRequestArgs(BaseModel):
    site: str = Field(min_length=1, max_length=200)
    lines: list[PurchaseLine] = Field(min_length=1, max_length=50)
    supplier: str | None = Field(default=None, min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


def facts(args: PurchaseRequestArgs, ctx: ToolContext) -> dict[str, Any]:
    with ctx.services.ops.reader() as r:
        out: dict[str, Any] = r.purchase_facts(
            site=args.site, lines=[(ln.product, ln.quantity) for ln in args.lines], supplier=args.supplier,
            allowed=r.allowed_sites(ctx.principal.sites),
        )
    out["will_create"] = {"model": "purchase.order", "state": "draft"}
    return out


@tool(
    name="purchase_request_create",
    args=PurchaseRequestArgs,
    read_only=False,
    description="Create a draft purchase order in Odoo for a site (lines of product and quantity, optional "
    "supplier); above 5,000 it waits for an executive, controlled substances for compliance.",
    approving_roles=("executive", "admin"),
    site_field="site",
    facts=facts,
)
def purchase_request_create(args: PurchaseRequestArgs, ctx: ToolContext) -> dict[str, Any]:
    f = ctx.facts or facts(args, ctx)
    with ctx.services.ops.writer() as w:
        order = w.create_purchase_order(f, origin=f"Copilot {ctx.request_id}", note=args.note)
    return {"purchase_order": order, "amount": f["amount"], "supplier": f["supplier"], "site": f["site"]}

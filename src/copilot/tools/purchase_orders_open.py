"""``purchase_orders_open``: purchase orders not fully received (``state`` draft/sent/to approve/purchase and,
with purchase_stock, ``receipt_status`` not ``full``), with their receipts (``stock.picking`` state and
scheduled date) and lines (read-only). An order's site is its operation type's destination location's site.

Usage (through the executor only)::

    executor.execute(erin, "purchase_orders_open", {"supplier": "Crestline"})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class PurchaseOrdersOpenArgs(BaseModel):
    site: str | None = Field(default=None, max_length=200)
    supplier: str | None = Field(default=None, min_length=1, max_length=200)
    product: str | None = Field(default=None, min_length=1, max_length=200)


@tool(
    name="purchase_orders_open",
    args=PurchaseOrdersOpenArgs,
    read_only=True,
    description="Open purchase orders (not fully received) with their receipts and lines, by site, supplier or "
    "product.",
    site_field="site",
)
def purchase_orders_open(args: PurchaseOrdersOpenArgs, ctx: ToolContext) -> dict[str, Any]:
    with ctx.services.ops.reader() as r:
        result: dict[str, Any] = r.purchase_orders_open(
            site=args.site, supplier=args.supplier, product=args.product,
            allowed=r.allowed_sites(ctx.principal.sites),
        )
    return result

"""``stock_on_hand``: on-hand quantity per site (internal locations) of the product matching a name or internal
reference (read-only). Several matching products are returned as candidates (``status: ambiguous``) for the
caller to ask the user — never one picked silently.

Usage (through the executor only)::

    executor.execute(paul, "stock_on_hand", {"product": "GLV-NIT-M"})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class StockOnHandArgs(BaseModel):
    product: str = Field(min_length=1, max_length=200)
    site: str | None = Field(default=None, max_length=200)


@tool(
    name="stock_on_hand",
    args=StockOnHandArgs,
    read_only=True,
    description="On-hand stock per site for a product (name or internal reference); several matches come back "
    "as candidates to choose from.",
    site_field="site",
)
def stock_on_hand(args: StockOnHandArgs, ctx: ToolContext) -> dict[str, Any]:
    with ctx.services.ops.reader() as r:
        result: dict[str, Any] = r.stock_on_hand(
            product=args.product, site=args.site, allowed=r.allowed_sites(ctx.principal.sites)
        )
    return result

"""``lots_expiring``: lots (``stock.lot.expiration_date``, product_expiry) expiring within ``days``, with their
on-hand quantity at the site's internal locations (``stock.quant``), value at ``standard_price`` and days left,
soonest first (read-only). Scoped by the caller's sites like every look-up.

Usage (through the executor only)::

    executor.execute(paul, "lots_expiring", {"site": "Harbor View Clinic", "days": 30})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class LotsExpiringArgs(BaseModel):
    site: str | None = Field(default=None, max_length=200)
    days: int = Field(default=30, ge=1, le=365)
    product: str | None = Field(default=None, min_length=1, max_length=200)


@tool(
    name="lots_expiring",
    args=LotsExpiringArgs,
    read_only=True,
    description="Lots expiring within N days (default 30) with on-hand quantity and value per site, soonest first.",
    site_field="site",
)
def lots_expiring(args: LotsExpiringArgs, ctx: ToolContext) -> dict[str, Any]:
    with ctx.services.ops.reader() as r:
        result: dict[str, Any] = r.lots_expiring(
            site=args.site, days=args.days, product=args.product, allowed=r.allowed_sites(ctx.principal.sites)
        )
    return result

"""``kpi_query``: one KPI of the healthcare-operations pack, per month and site (or supplier, team, department),
computed from Odoo (read-only). Scoped by the caller's sites: a site outside them is refused by the executor
(``site_field``), and answers list only the caller's sites.

Usage (through the executor only)::

    executor.execute(exec_user, "kpi_query", {"kpi": "stockout_rate", "site": "Riverbend Clinic"})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class KpiQueryArgs(BaseModel):
    kpi: str = Field(min_length=1, max_length=64)
    periods: list[str] = Field(default_factory=list, max_length=24, description="YYYY-MM; default: 12 months")
    site: str | None = Field(default=None, max_length=200)


@tool(
    name="kpi_query",
    args=KpiQueryArgs,
    read_only=True,
    description="A healthcare-operations KPI (stockout rate, expiring inventory value, supplier on-time delivery, "
    "PM compliance, budget variance, ticket resolution time, ...) per month and site, computed from Odoo.",
    site_field="site",
)
def kpi_query(args: KpiQueryArgs, ctx: ToolContext) -> dict[str, Any]:
    sites = ctx.principal.sites
    allowed = None if "*" in sites else list(sites)  # no sites: network-level answers only
    result: dict[str, Any] = ctx.services.kpis.query(
        args.kpi, periods=args.periods or None, site=args.site, allowed_sites=allowed
    )
    return result

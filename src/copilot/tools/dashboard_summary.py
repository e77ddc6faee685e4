"""``dashboard_summary``: the month's KPI table for a site (or the network) with a narrative whose every number,
month, place and direction is checked against the table, the ranked exceptions, and the query behind each
figure (read-only). The audit record keeps the hash of the KPI snapshot the summary was written from (as the
call's ``prompt_version``).

Usage (through the executor only)::

    executor.execute(exec_user, "dashboard_summary", {"period": "2026-03", "site": "Lakeside Hospital"})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copilot.errors import PermissionDeniedError, ValidationError
from copilot.tools.base import ToolContext, tool


class DashboardSummaryArgs(BaseModel):
    period: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")
    site: str | None = Field(default=None, max_length=200, description="A site; omit for the network")


@tool(
    name="dashboard_summary",
    args=DashboardSummaryArgs,
    read_only=True,
    description="An executive summary of one month's operational KPIs for a site or the network: every number "
    "verified against the KPI table, exceptions ranked by impact with owners and suggested actions.",
    site_field="site",
)
def dashboard_summary(args: DashboardSummaryArgs, ctx: ToolContext) -> dict[str, Any]:
    from copilot.kpi.summary import build_table, summarise

    sites = ctx.principal.sites
    if args.site is None and "*" not in sites:
        raise PermissionDeniedError("a network summary needs access to every site", code="site_forbidden")
    kpis = ctx.services.kpis
    engine = kpis.engine()
    site = kpis.site_aliases.get(args.site, args.site) if args.site else None
    if args.period not in engine.periods:
        raise ValidationError(
            f"{args.period} is outside the 12 months held ({engine.periods[0]} .. {engine.periods[-1]})",
            code="period_out_of_range",
        )
    before = engine.requests
    summariser = getattr(ctx.services, "summariser", None)  # an LLM's narrative when a model is configured
    out: dict[str, Any] = summarise(build_table(engine, period=args.period, site=site), summariser)
    out["odoo_requests"] = engine.requests - before
    ctx.notes.model = out["by"]
    snapshot = "kpi-snapshot:" + out["snapshot_sha256"][:32]
    prompt = getattr(summariser, "prompt", None) if out["by"] != "template" else None
    ctx.notes.prompt_version = f"{prompt.id};{snapshot}" if prompt is not None else snapshot
    return out

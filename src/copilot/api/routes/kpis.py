"""KPIs for executives: the pack's definitions and one KPI's values per month and site, through the governed
``kpi_query`` tool (audited, scoped by the caller's sites)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from copilot.api.deps import Ctx, require_tool
from copilot.governance.principal import Principal

router = APIRouter(prefix="/v1", tags=["kpis"])

Reader = Annotated[Principal, Depends(require_tool("kpi_query"))]
Summariser = Annotated[Principal, Depends(require_tool("dashboard_summary"))]


class SummaryRequest(BaseModel):
    period: str = Field(pattern=r"^\d{4}-\d{2}$")
    site: str | None = Field(default=None, max_length=200)


@router.get("/kpis")
def kpis(
    ctx: Ctx, who: Reader,
    kpi: Annotated[str | None, Query(max_length=64, description="A KPI id; omit for the pack's definitions")] = None,
    period: Annotated[list[str] | None, Query(max_length=24, description="YYYY-MM, repeatable")] = None,
    site: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    if kpi is None:
        return {"kpis": ctx.copilot.kpis.pack.as_dicts()}
    res = ctx.copilot.executor.execute(
        who, "kpi_query", {"kpi": kpi, "periods": [p[:7] for p in period or []], "site": site}
    ).raise_for_status()
    out: dict[str, Any] = res.result
    return out


@router.post("/summaries")
def summaries(body: SummaryRequest, ctx: Ctx, who: Summariser) -> dict[str, Any]:
    """One month's verified narrative for a site or the network, with the figures' queries and the exceptions."""
    res = ctx.copilot.executor.execute(who, "dashboard_summary", body.model_dump()).raise_for_status()
    out: dict[str, Any] = res.result
    return out

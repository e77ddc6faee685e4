"""The executive dashboard's charts and the monthly review pack. Every value is read through the governed
``kpi_query`` tool and every summary through ``dashboard_summary`` (audited, scoped by the caller's sites);
drawing is :mod:`copilot.kpi.charts`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from copilot.api.deps import Ctx, ServiceContext, require_tool
from copilot.errors import ValidationError
from copilot.governance.principal import Principal
from copilot.kpi.charts import breakdown_svg, pack_html, pack_pdf, review_pack, trend_svg, with_links
from copilot.kpi.pack import KpiDef

router = APIRouter(prefix="/v1", tags=["kpis"])

Reader = Annotated[Principal, Depends(require_tool("kpi_query"))]
Summariser = Annotated[Principal, Depends(require_tool("dashboard_summary"))]
KpiId = Annotated[str, Path(min_length=1, max_length=64)]
Site = Annotated[str | None, Query(min_length=1, max_length=200, description="A site; omit for the network")]
Period = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]
SVG = "image/svg+xml"
_SVG_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {SVG: {}}, "description": "an SVG chart"}}
_NO_STORE = {"Cache-Control": "no-store"}


def _kpi_values(ctx: ServiceContext, who: Principal, kpi: str, site: str | None) -> dict[str, Any]:
    """12 months of one KPI through the executor (audited, site-scoped; an unknown KPI is the tool's 404)."""
    res = ctx.copilot.executor.execute(who, "kpi_query", {"kpi": kpi, "periods": [], "site": site})
    out: dict[str, Any] = res.raise_for_status().result
    return out


@router.get("/kpis/{kpi}/trend.svg", response_class=Response, responses=_SVG_RESPONSE)
def trend(kpi: KpiId, ctx: Ctx, who: Reader, site: Site = None) -> Response:
    """The KPI's 12 months for a site or the network, with its warn and breach lines."""
    data = _kpi_values(ctx, who, kpi, site)
    kdef = KpiDef.model_validate(data["kpi"])
    if site is not None and kdef.site == "none":
        raise ValidationError(f"{kdef.name} is measured for the network (by {kdef.by or 'month'}), not per site",
                              code="kpi_not_per_site")
    svg = trend_svg(data["values"], kdef, periods=data["periods"], scope=site)
    return Response(svg, media_type=SVG, headers=_NO_STORE)


@router.get("/kpis/{kpi}/breakdown.svg", response_class=Response, responses=_SVG_RESPONSE)
def breakdown(kpi: KpiId, ctx: Ctx, who: Reader, period: Period) -> Response:
    """One month of the KPI by site (or by supplier, team, department for a site-less KPI), coloured by level."""
    data = _kpi_values(ctx, who, kpi, None)
    if period not in data["periods"]:
        raise ValidationError(f"{period} is outside the months held ({data['periods'][0]} .. "
                              f"{data['periods'][-1]})", code="period_out_of_range")
    svg = breakdown_svg(data["values"], KpiDef.model_validate(data["kpi"]), period)
    return Response(svg, media_type=SVG, headers=_NO_STORE)


@router.get("/summaries/pack", response_class=Response,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}, "application/json": {}}}})
def review(
    ctx: Ctx, who: Summariser, period: Period, site: Site = None,
    format: Literal["html", "pdf", "json"] = "html",
) -> Response:
    """The month's review pack: the verified summary, its figures with their queries, the ranked exceptions with
    owners, actions and Odoo record links, the charts and the snapshot hash — as a self-contained HTML page, a
    PDF, or (``json``, for the dashboard) the summary with the record links."""
    summary = ctx.copilot.executor.execute(
        who, "dashboard_summary", {"period": period, "site": site}).raise_for_status().result
    odoo_url = ctx.copilot.settings.odoo_url
    if format == "json":
        return JSONResponse(with_links(summary, odoo_url), headers=_NO_STORE)
    pack = review_pack(summary, lambda kpi, where: _kpi_values(ctx, who, kpi, where), site=site, odoo_url=odoo_url)
    disposition = {"Content-Disposition": f'attachment; filename="{pack.filename}.{format}"', **_NO_STORE}
    if format == "pdf":
        return Response(pack_pdf(pack), media_type="application/pdf", headers=disposition)
    return Response(pack_html(pack), media_type="text/html; charset=utf-8", headers=disposition)

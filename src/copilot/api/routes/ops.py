"""Operations: health, readiness (index, database, Odoo), Prometheus metrics, ingestion and status (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

from copilot.api.deps import Admin, Caller, Ctx

router = APIRouter(tags=["ops"])


class IngestRequest(BaseModel):
    path: str | None = Field(default=None, min_length=1, max_length=4096,
                             description="A folder on the server's machine; omit to sync the configured Odoo")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers (no dependencies checked)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a dependency is down"}})
def readyz(ctx: Ctx) -> JSONResponse:
    """Readiness: the index opens and counts, the database answers, Odoo (when configured) answers."""
    checks: dict[str, str] = {}
    cp = ctx.copilot
    try:
        cp.index.count()
        checks["index"] = "ok"
    except Exception as exc:  # readiness reports, it does not raise
        checks["index"] = f"error: {type(exc).__name__}"
    try:
        with cp.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if cp.settings.odoo_url:
        import httpx

        try:
            r = httpx.post(cp.settings.odoo_url.rstrip("/") + "/web/webclient/version_info", json={}, timeout=3)
            checks["odoo"] = "ok" if r.status_code < 500 else f"error: HTTP {r.status_code}"
        except httpx.HTTPError as exc:
            checks["odoo"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
def metrics(ctx: Ctx, _: Caller) -> Response:
    """Prometheus exposition (any authenticated principal; scrape with an API key)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return Response(generate_latest(ctx.extra["metrics"].registry), media_type=CONTENT_TYPE_LATEST)


@router.post("/v1/ingest", status_code=202, tags=["admin"])
def ingest(body: IngestRequest, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Start an ingestion (a folder on the server, or the configured Odoo) through the governed ``ingest_run``
    tool: administrators only (the policy), and audited."""
    args = {"source": "folder", "path": body.path} if body.path is not None else {"source": "odoo"}
    result: dict[str, Any] = ctx.copilot.executor.execute(who, "ingest_run", args).raise_for_status().result
    return result


@router.get("/v1/ingest", tags=["admin"])
def ingest_state(ctx: Ctx, _: Admin) -> dict[str, Any]:
    return ctx.jobs.state


@router.get("/v1/status", tags=["admin"])
def status(ctx: Ctx, _: Admin) -> dict[str, Any]:
    return ctx.copilot.status()

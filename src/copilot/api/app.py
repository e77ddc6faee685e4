"""The FastAPI service: an app factory wiring the :class:`~copilot.app.Copilot` graph (index, Odoo, policy,
executor, audit) to thin routers that parse, authorise and delegate.

Nothing is built at import time. Auth: API keys and users (:mod:`copilot.api.users`), OIDC and widget session
tokens (:mod:`copilot.api.auth`); ``tokens`` adds fixed operator tokens (the lease token in ``server.json``).

Usage::

    cp = build_copilot(get_settings())
    app = build_app(cp, tokens={lease_token: operator})
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from copilot.api.auth import Authenticator
from copilot.api.deps import ServiceContext
from copilot.api.jobs import IngestJobs, TriageJobs
from copilot.api.limits import build_limits
from copilot.api.middleware import Metrics, ServiceMiddleware
from copilot.api.routes import ask, chat, dashboard, kpis, ops, review, session, triage, web
from copilot.api.routes.ask import AskRequest, AskResponse, acting_principal
from copilot.api.settings import ServiceSettings
from copilot.api.users import UserStore
from copilot.app import Copilot
from copilot.errors import AuthenticationError, CopilotError, RateLimitedError, http_status
from copilot.governance.principal import Principal

__all__ = ["AskRequest", "AskResponse", "IngestJobs", "acting_principal", "build_app"]


def build_app(copilot: Copilot, *, tokens: Mapping[str, Principal] | None = None,
              service: ServiceSettings | None = None) -> FastAPI:
    """Build the service. ``service`` defaults to :meth:`ServiceSettings.from_settings` of the copilot's
    settings; ``tokens`` maps fixed bearer tokens to principals (the operator's lease token)."""
    svc = service or ServiceSettings.from_settings(copilot.settings)
    users = UserStore(copilot.engine)
    metrics = Metrics()
    metrics.watch_caches(copilot)
    limits = build_limits(svc)
    ctx = ServiceContext(
        copilot=copilot, svc=svc, auth=Authenticator(svc, users, static=tokens, limits=limits), users=users,
        jobs=copilot.ingest_jobs, limiter=limits,
        extra={"metrics": metrics, "triage_jobs": TriageJobs(copilot)},
        cpu=anyio.CapacityLimiter(svc.ask_concurrency or usable_cores()),
    )
    app = FastAPI(title="Copilot", version="0.1.0",
                  description="Cited answers from SOPs, contracts and maintenance logs; governed tools; "
                              "audit review. Every /v1 route needs a bearer token (API key, OIDC or session).")
    app.state.ctx = ctx
    app.state.copilot = copilot
    app.state.jobs = ctx.jobs
    for router in (ask.router, chat.router, review.router, session.router, triage.router, kpis.router,
                   dashboard.router, ops.router, web.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")

    @app.exception_handler(CopilotError)
    async def _copilot_error(_: Request, exc: CopilotError) -> JSONResponse:
        status = http_status(exc)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
        if isinstance(exc, RateLimitedError):
            headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
        return JSONResponse({"error": exc.code, "detail": exc.message}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # where and why, never the offending value (it may be PHI)
        errors = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")}
                  for e in exc.errors()[:20]]
        return JSONResponse({"error": "validation", "detail": errors}, status_code=422)

    app.add_middleware(CORSMiddleware, allow_origins=svc.cors_origins, allow_methods=["GET", "POST"],
                       allow_headers=["Authorization", "Content-Type", "Accept"], allow_credentials=False,
                       max_age=600)
    app.add_middleware(ServiceMiddleware, svc=svc, metrics=metrics)
    return app


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity on Linux)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def openapi_schema(app: FastAPI) -> dict[str, Any]:
    return app.openapi()

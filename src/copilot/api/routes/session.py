"""Sign-in and sessions: demo password sign-in (development only), session tokens for the widget, ``/v1/me``,
and governed tool calls (``POST /v1/tools/{name}``: the executor decides, parks for approval, audits)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from copilot.api.deps import Caller, Ctx, client_address
from copilot.errors import AuthenticationError, PermissionDeniedError, RateLimitedError

router = APIRouter(prefix="/v1", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class PrincipalOut(BaseModel):
    id: str
    name: str
    role: str
    groups: list[str]
    sites: list[str]


class SessionOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: int
    principal: PrincipalOut


class ToolCallOut(BaseModel):
    status: str
    tool: str
    request_id: str
    result: Any = None
    approval_id: str | None = None
    audit_id: str | None = None


@router.post("/auth/login", response_model=SessionOut)
def login(body: LoginIn, ctx: Ctx, request: Request) -> dict[str, Any]:
    """Demo sign-in with a password: refused unless ``password_login`` (development only) is on. Failures lock out
    the client address and the user name with back-off (``api/limits.py``) before any password is checked."""
    if not ctx.svc.password_login:
        raise PermissionDeniedError("password sign-in is disabled; use your organisation's sign-in",
                                    code="password_login_disabled")
    keys = (f"ip:{client_address(request)}", f"user:{body.username.lower()}")
    locked = max(ctx.limiter.locked(k) for k in keys)
    if locked:
        raise RateLimitedError(f"too many failed sign-ins; retry in {locked:.0f}s", code="locked_out",
                               retry_after=locked)
    try:
        user = ctx.users.authenticate_password(body.username, body.password)
    except AuthenticationError:
        for k in keys:
            ctx.limiter.failed(k)
        raise
    ctx.limiter.succeeded(keys[1])
    who = user.principal()
    token, exp = ctx.auth.mint_session(who)
    return {"token": token, "expires_at": exp, "principal": who.to_dict()}


@router.post("/auth/session", response_model=SessionOut)
def session(who: Caller, ctx: Ctx) -> dict[str, Any]:
    """Exchange any credential (API key, OIDC token, session) for a short-lived widget session token."""
    token, exp = ctx.auth.mint_session(who)
    return {"token": token, "expires_at": exp, "principal": who.to_dict()}


@router.get("/me", response_model=PrincipalOut)
def me(who: Caller) -> dict[str, Any]:
    return who.to_dict()


@router.post("/tools/{name}", response_model=ToolCallOut, tags=["tools"])
def call_tool(name: str, body: dict[str, Any], who: Caller, ctx: Ctx) -> dict[str, Any]:
    """Run a governed tool. ``pending_approval`` is a success (202-like) with an ``approval_id``."""
    res = ctx.copilot.executor.execute(who, name, body).raise_for_status()
    return {"status": res.status, "tool": res.tool, "request_id": res.request_id, "result": res.result,
            "approval_id": res.approval_id, "audit_id": res.audit_id}


class DemoUserOut(BaseModel):
    id: str
    name: str
    role: str
    groups: list[str]
    hint: str


@router.get("/auth/demo-users", response_model=list[DemoUserOut])
def demo_users(ctx: Ctx) -> list[dict[str, Any]]:
    """The demo users for the sign-in page; only while demo password sign-in is on (development)."""
    from copilot.api.demo import DEMO_USERS
    from copilot.errors import NotFoundError

    if not ctx.svc.password_login:
        raise NotFoundError("no demo users here", code="not_found")
    return [{"id": u, "name": n, "role": r, "groups": list(g), "hint": h} for u, n, r, g, h in DEMO_USERS]

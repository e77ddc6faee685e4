"""What every router needs: the service context, the caller's principal (with its rate limit) and role checks.

Routers get the :class:`ServiceContext` from ``request.app.state.ctx`` — built once by
:func:`copilot.api.app.build_app`, never at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from copilot.api.auth import Authenticator
from copilot.api.limits import EdgeLimits
from copilot.api.settings import ServiceSettings
from copilot.api.users import UserStore
from copilot.errors import PermissionDeniedError, RateLimitedError
from copilot.governance.principal import Principal

if TYPE_CHECKING:
    from copilot.api.jobs import IngestJobs
    from copilot.app import Copilot


@dataclass
class ServiceContext:
    copilot: Copilot
    svc: ServiceSettings
    auth: Authenticator
    users: UserStore
    jobs: IngestJobs
    limiter: EdgeLimits
    extra: dict[str, Any] = field(default_factory=dict)
    cpu: Any = None
    """An ``anyio.CapacityLimiter``: how many answers compute at once (``ask_concurrency``). More threads than
    cores only queue inside the CPU, where every request slows down together; here they wait their turn."""

    async def compute(self, fn: Callable[[], Any]) -> Any:
        """Run CPU-bound ``fn`` in the bounded pool, off the event loop."""
        import anyio

        return await anyio.to_thread.run_sync(fn, limiter=self.cpu)


def get_ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServiceContext, Depends(get_ctx)]
_bearer = HTTPBearer(auto_error=False, description="An API key (cpk_...), a session token or an OIDC token")


def principal(ctx: Ctx, request: Request,
              creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """The authenticated caller, rate-limited per principal."""
    from copilot.errors import AuthenticationError

    if creds is None:
        raise AuthenticationError("missing bearer token")
    address = f"ip:{client_address(request)}"
    locked = ctx.limiter.locked(address)
    if locked:
        raise RateLimitedError(f"too many failed credentials from this address; retry in {locked:.0f}s",
                               code="locked_out", retry_after=locked)
    try:
        who = ctx.auth.authenticate(creds.credentials)
    except AuthenticationError as exc:
        # unknown tokens and wrong keys are guesses: counted before anything else is spent. A genuine token that
        # expired or was revoked is not a guess, and must not lock out a hospital's shared (NAT) address.
        if exc.code not in GENUINE_BUT_ENDED:
            ctx.limiter.failed(address)
        raise
    wait = ctx.limiter.take(who.id)
    if wait:
        raise RateLimitedError(f"rate limit exceeded; retry in {wait:.1f}s", retry_after=wait)
    request.state.principal_id = who.id
    return who


GENUINE_BUT_ENDED = frozenset({"token_expired", "session_revoked"})
"""Authentication failures of a correctly signed token that is no longer valid (not counted as guesses)."""


def client_address(request: Request) -> str:
    """The peer address (a proxy in front sets it with uvicorn's ``--proxy-headers``/``--forwarded-allow-ips``;
    a client's own X-Forwarded-For is never trusted here)."""
    return request.client.host if request.client else "unknown"


Caller = Annotated[Principal, Depends(principal)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    def check(who: Caller) -> Principal:
        if who.role not in roles:
            raise PermissionDeniedError(f"role {who.role!r} may not use this route")
        return who

    return check


def require_tool(tool: str) -> Callable[[ServiceContext, Principal], Principal]:
    """Authorise by the governance policy: the caller's role must be allowed ``tool`` (e.g. ``audit_search``)."""

    def check(ctx: Ctx, who: Caller) -> Principal:
        if not ctx.copilot.governance.policy.current().may_use(who.role, tool):
            raise PermissionDeniedError(f"role {who.role!r} may not use {tool}")
        return who

    return check


Admin = Annotated[Principal, Depends(require_roles("admin"))]

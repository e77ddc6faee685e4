"""What every router needs: the service context, the caller's principal (with its rate limit) and role checks.

Routers get the :class:`ServiceContext` from ``request.app.state.ctx`` — built once by
:func:`copilot.api.app.build_app`, never at import time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from copilot.api.auth import Authenticator
from copilot.api.settings import ServiceSettings
from copilot.api.users import UserStore
from copilot.errors import PermissionDeniedError, RateLimitedError
from copilot.governance.principal import Principal

if TYPE_CHECKING:
    from copilot.api.jobs import IngestJobs
    from copilot.app import Copilot


class RateLimiter:
    """A token bucket per principal id: ``per_minute`` sustained, ``burst`` at once. In-process (one server)."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Take one token; returns 0 when allowed, else the seconds until one is available."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


@dataclass
class ServiceContext:
    copilot: Copilot
    svc: ServiceSettings
    auth: Authenticator
    users: UserStore
    jobs: IngestJobs
    limiter: RateLimiter
    extra: dict[str, Any] = field(default_factory=dict)


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
    who = ctx.auth.authenticate(creds.credentials)
    wait = ctx.limiter.hit(who.id)
    if wait:
        raise RateLimitedError(f"rate limit exceeded; retry in {wait:.1f}s")
    request.state.principal_id = who.id
    return who


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

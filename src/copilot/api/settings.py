"""Service settings: auth, limits and browser security, read from the main :class:`~copilot.config.Settings`.

The fields live here until the lead adds them to ``Settings`` (same names, ``COPILOT_`` prefix); whatever the
main settings already carry wins over the defaults below, so moving a field there needs no change here.

Usage::

    svc = ServiceSettings.from_settings(get_settings())
    svc.rate_limit_per_minute
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from copilot.config import Settings


class ServiceSettings(BaseModel):
    environment: str = "development"
    # Browser security
    cors_origins: list[str] = Field(default_factory=list, description="Host pages allowed to embed the widget")
    frame_ancestors: list[str] = Field(default_factory=list, description="CSP frame-ancestors besides 'self'")
    # Limits
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    rate_limit_per_minute: int = Field(default=600, ge=1, description="Requests per principal per minute")
    rate_limit_burst: int = Field(default=60, ge=1)
    # Sessions (widget): short-lived, signed; the secret is random per process unless configured
    session_ttl_s: int = Field(default=900, ge=60, le=12 * 3600)
    session_secret: str | None = None
    # OIDC bearer tokens
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_jwks: dict[str, Any] | None = Field(default=None, description="An inline JWKS (tests, air-gapped)")
    oidc_algorithms: list[str] = Field(default_factory=lambda: ["RS256"])
    oidc_role_claim: str = "roles"
    oidc_role_map: dict[str, str] = Field(default_factory=dict, description="IdP role -> Copilot role")
    oidc_groups_claim: str = "groups"
    oidc_leeway_s: int = 30
    # Demo sign-in with passwords (development only)
    password_login: bool = False

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> ServiceSettings:
        if self.environment != "development" and self.password_login:
            raise ValueError("password sign-in (demo users) is refused outside environment=development")
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("oidc_audience is required with oidc_issuer")
        if "*" in self.cors_origins and self.environment != "development":
            raise ValueError("a wildcard CORS origin is refused outside development")
        return self

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ServiceSettings:
        """Take every field the main settings define, then ``overrides`` (the CLI's flags, tests)."""
        values: dict[str, Any] = {"environment": settings.environment}
        for name in cls.model_fields:
            if hasattr(settings, name):
                value = getattr(settings, name)
                values[name] = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        values.update(overrides)
        return cls(**values)

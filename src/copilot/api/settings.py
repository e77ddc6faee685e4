"""Service settings: the part of :class:`~copilot.config.Settings` the HTTP service reads (auth, limits, browser
security), derived from it field by field — one declaration (type, default, bounds, description) in ``config.py``,
none repeated here — plus the overrides the CLI's flags and the tests pass.

Usage::

    svc = ServiceSettings.from_settings(get_settings())
    svc.rate_limit_per_minute
    ServiceSettings(environment="test", rate_limit_burst=5)      # a view with defaults, for tests
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, create_model, model_validator

from copilot.config import Settings, refuse_unsafe_service

SERVICE_FIELDS = (
    "environment",
    # browser security
    "cors_origins", "frame_ancestors",
    # limits
    "max_body_bytes", "rate_limit_per_minute", "rate_limit_burst", "rate_limit_max_keys", "redis_url", "redis_prefix",
    "auth_max_failures_per_address", "auth_max_failures_per_user", "auth_lockout_base_s", "auth_lockout_max_s",
    "ask_concurrency",
    # widget sessions: short-lived, signed; the secret is random per process unless configured
    "session_ttl_s", "session_secret",
    # OIDC bearer tokens
    "oidc_issuer", "oidc_audience", "oidc_jwks_url", "oidc_jwks", "oidc_algorithms", "oidc_role_claim",
    "oidc_role_map", "oidc_groups_claim", "oidc_leeway_s",
    # demo sign-in with passwords (development only)
    "password_login",
)

_Fields = create_model(  # type: ignore[call-overload]
    "_ServiceFields",
    __config__=ConfigDict(extra="forbid"),
    **{name: (Settings.model_fields[name].annotation, Settings.model_fields[name]) for name in SERVICE_FIELDS},
)


class ServiceSettings(_Fields):  # type: ignore[valid-type,misc]
    @model_validator(mode="after")
    def _refuse_unsafe(self) -> ServiceSettings:
        refuse_unsafe_service(self)
        return self

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ServiceSettings:
        """Take every service field of the main settings, then ``overrides`` (the CLI's flags, tests)."""
        values: dict[str, Any] = {name: getattr(settings, name) for name in SERVICE_FIELDS}
        values.update(overrides)
        return cls(**values)

    def secret(self) -> str | None:
        """The session signing secret, unwrapped (only the authenticator calls this)."""
        s = self.session_secret
        return s.get_secret_value() if s is not None else None


def service_fields() -> type[BaseModel]:
    """The generated model (for docs and tests that list the service's settings)."""
    return _Fields

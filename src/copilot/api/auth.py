"""Bearer authentication: widget session tokens, API keys, OIDC access tokens — each resolved to a
:class:`~copilot.governance.principal.Principal`.

* **Session tokens** (``HS256`` JWTs, ``typ=session``) are minted for a signed-in user and live minutes
  (``session_ttl_s``): the widget carries one, never a long-lived key.
* **API keys** (``cpk_...``) are looked up hashed in :class:`~copilot.api.users.UserStore`.
* **OIDC** tokens are verified against the configured JWKS: signature, issuer, audience, expiry; the role comes
  from ``oidc_role_claim`` through ``oidc_role_map`` and a token without a mapped role is refused.

Usage::

    auth = Authenticator(service_settings, user_store, static={"lease-token": operator})
    principal = auth.authenticate("Bearer ...")        # raises AuthenticationError
    token, exp = auth.mint_session(principal)
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Mapping
from typing import Any

import jwt

from copilot.api.limits import EdgeLimits
from copilot.api.settings import ServiceSettings
from copilot.api.users import KEY_PREFIX, ROLES, UserStore
from copilot.errors import AuthenticationError, ConfigError, NotFoundError
from copilot.governance.principal import Principal

SESSION_ISSUER = "copilot-session"


class OidcVerifier:
    """Verifies IdP access tokens. The JWKS is inline (tests, air-gapped) or fetched (and cached) from a URL."""

    def __init__(self, svc: ServiceSettings) -> None:
        if not svc.oidc_issuer or not (svc.oidc_jwks or svc.oidc_jwks_url):
            raise ConfigError("OIDC needs oidc_issuer, oidc_audience and a JWKS (inline or URL)")
        self.svc = svc
        self._keys: dict[str, Any] = {}
        if svc.oidc_jwks is not None:
            self._keys = {str(k.key_id): k for k in jwt.PyJWKSet.from_dict(svc.oidc_jwks).keys}
        self._client = jwt.PyJWKClient(svc.oidc_jwks_url, cache_keys=True) if svc.oidc_jwks_url else None

    def _key(self, token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid")
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        if kid in self._keys:
            return self._keys[kid].key
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values())).key
        raise AuthenticationError("token signed by an unknown key")

    def verify(self, token: str) -> Principal:
        svc = self.svc
        try:
            claims = jwt.decode(
                token, self._key(token), algorithms=svc.oidc_algorithms, audience=svc.oidc_audience,
                issuer=svc.oidc_issuer, leeway=svc.oidc_leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("token expired", code="token_expired") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise AuthenticationError(f"invalid token: {type(exc).__name__}") from exc
        raw = claims.get(svc.oidc_role_claim) or []
        raw_roles = [raw] if isinstance(raw, str) else list(raw)
        roles = [svc.oidc_role_map.get(r, r) for r in raw_roles]
        role = next((r for r in ROLES[::-1] if r in roles), None)  # the most privileged mapped role wins
        if role is None:
            raise AuthenticationError("token carries no Copilot role", code="no_role")
        groups = claims.get(svc.oidc_groups_claim) or []
        return Principal(id=f"oidc:{claims['sub']}", name=str(claims.get("name") or claims["sub"]), role=role,
                         groups=tuple(str(g) for g in groups) if isinstance(groups, list) else ())


class Authenticator:
    """Resolves a bearer credential to a principal. ``static`` maps fixed tokens (the operator's lease
    token written to ``server.json``) to principals."""

    def __init__(self, svc: ServiceSettings, users: UserStore | None,
                 *, static: Mapping[str, Principal] | None = None, limits: EdgeLimits | None = None) -> None:
        self.svc = svc
        self.users = users
        self.static = dict(static or {})
        self.limits = limits
        self._secret = (svc.secret() or secrets.token_urlsafe(32)).encode()
        self.oidc = OidcVerifier(svc) if svc.oidc_issuer else None

    def authenticate(self, token: str) -> Principal:
        if not token:
            raise AuthenticationError("missing bearer token")
        for known, who in self.static.items():
            if secrets.compare_digest(known.encode(), token.encode()):
                return who
        if token.startswith(KEY_PREFIX):
            if self.users is None:
                raise AuthenticationError("API keys are not enabled")
            return self.users.authenticate_key(token).principal()
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthenticationError("invalid token") from exc
        if header.get("alg") == "HS256" and claims.get("iss") == SESSION_ISSUER:
            return self._verify_session(token)
        if self.oidc is not None:
            return self.oidc.verify(token)
        raise AuthenticationError("invalid token")

    def mint_session(self, who: Principal, ttl_s: int | None = None) -> tuple[str, int]:
        """A short-lived token for the widget; returns (token, expiry as a unix time). ``iat`` is cut, not
        rounded, to the millisecond: a session minted before a revocation must never look minted after it."""
        exp = int(time.time()) + min(ttl_s or self.svc.session_ttl_s, self.svc.session_ttl_s)
        claims = {"iss": SESSION_ISSUER, "typ": "session", "sub": who.id, "name": who.name, "role": who.role,
                  "groups": list(who.groups), "sites": list(who.sites), "exp": exp,
                  "iat": math.floor(time.time() * 1000) / 1000, "jti": secrets.token_hex(8)}
        return jwt.encode(claims, self._secret, algorithm="HS256"), exp

    def revoke_sessions(self, subject: str) -> None:
        """End every session of ``subject`` now (sign-out everywhere; an OIDC subject or an operator)."""
        if self.limits is None:
            raise ConfigError("session revocation needs the edge limits store")
        self.limits.revoke_subject(subject, ttl_s=self.svc.session_ttl_s + 60)

    def _check_live(self, subject: str, issued_at: float) -> None:
        """A session ends when its user is revoked — checked against the user store on every request, so a revoked
        user's widget stops at once, in every API process — or when its subject's sessions were revoked."""
        if self.users is not None:
            try:
                user = self.users.get(subject)
            except NotFoundError:
                user = None
            if user is not None and not user.active:
                raise AuthenticationError("session revoked", code="session_revoked")
        if self.limits is not None and issued_at and issued_at <= self.limits.revoked_since(subject):
            raise AuthenticationError("session revoked", code="session_revoked")

    def _verify_session(self, token: str) -> Principal:
        try:
            c = jwt.decode(token, self._secret, algorithms=["HS256"], issuer=SESSION_ISSUER,
                           options={"require": ["exp", "sub", "role"]})
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("session expired", code="token_expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("invalid session token") from exc
        if c.get("typ") != "session" or c["role"] not in ROLES:
            raise AuthenticationError("invalid session token")
        self._check_live(str(c["sub"]), float(c.get("iat") or 0))
        return Principal(id=str(c["sub"]), name=str(c.get("name", "")), role=str(c["role"]),
                         groups=tuple(c.get("groups") or ()), sites=tuple(c.get("sites") or ()))

"""Auth parts on their own: API keys stored hashed, revocation, OIDC tokens against a locally generated JWKS,
session tokens, the service settings' refusals, and the ``copilot users`` commands."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import text

from copilot.api.auth import Authenticator
from copilot.api.settings import ServiceSettings
from copilot.api.users import UserStore, check_password, hash_password
from copilot.config import Settings
from copilot.db import make_engine, migrate
from copilot.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError

pytestmark = pytest.mark.unit

ISSUER, AUDIENCE = "https://idp.riverside.example/realms/staff", "copilot"


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    return UserStore(engine)


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    """Two RSA keys; only ``good`` is published in the JWKS."""
    out = {}
    for kid in ("good", "rogue"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        out[kid] = (key, {**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
    return out


@pytest.fixture
def oidc(keys: dict[str, Any]) -> Authenticator:
    svc = ServiceSettings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks={"keys": [keys["good"][1]]},
                          oidc_role_map={"copilot-compliance": "compliance", "nurse": "staff"})
    return Authenticator(svc, None)


def token(keys: dict[str, Any], kid: str = "good", **over: Any) -> str:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-17", "name": "Quinn", "exp": int(time.time()) + 300,
              "roles": ["nurse", "copilot-compliance"], "groups": ["all_staff", "quality"], **over}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, keys[kid][0], algorithm="RS256", headers={"kid": kid})


def test_api_key_is_printed_once_and_stored_hashed(store: UserStore) -> None:
    user, key = store.add("Nina Okafor", role="staff", groups=("all_staff", "nursing"))
    assert user.id == "nina.okafor" and key.startswith("cpk_")
    with store.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM api_keys")) for v in row)
    assert key.split("_", 2)[2] not in dump
    who = store.authenticate_key(key).principal()
    assert (who.id, who.role, who.groups) == ("nina.okafor", "staff", ("all_staff", "nursing"))


@pytest.mark.parametrize("mangle", [
    lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # wrong secret
    lambda k: "cpk_ffffffffffffffff_" + k.split("_", 2)[2],  # unknown key id
    lambda k: "cpk_",
    lambda k: "cpk_x",
])
def test_wrong_api_keys_are_refused(store: UserStore, mangle: Any) -> None:
    _, key = store.add("Paul", role="staff")
    with pytest.raises(AuthenticationError):
        store.authenticate_key(mangle(key))


def test_revocation_disables_every_key(store: UserStore) -> None:
    _, k1 = store.add("Ivan", role="helpdesk_agent")
    k2 = store.issue_key("ivan")
    assert store.revoke("ivan") == 2
    for k in (k1, k2):
        with pytest.raises(AuthenticationError):
            store.authenticate_key(k)
    with pytest.raises(NotFoundError):
        store.revoke("ivan")
    assert store.list() == [] and store.list(include_revoked=True)[0].revoked_at


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"role": "root"}, ValidationError),
    ({"role": "staff", "groups": ("All Staff",)}, ValidationError),
    ({"role": "staff", "user_id": "../x"}, ValidationError),
])
def test_bad_users_are_refused(store: UserStore, kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        store.add("X", **kwargs)


def test_duplicate_user_is_a_conflict(store: UserStore) -> None:
    store.add("Erin", role="executive")
    with pytest.raises(ConflictError):
        store.add("Erin", role="executive")


def test_passwords_are_scrypt_hashed() -> None:
    stored = hash_password("demo")
    assert stored.startswith("scrypt$") and "demo" not in stored
    assert check_password("demo", stored) and not check_password("demO", stored)
    assert not check_password("demo", None)


def test_oidc_token_maps_to_the_most_privileged_role(oidc: Authenticator, keys: dict[str, Any]) -> None:
    who = oidc.authenticate(token(keys))
    assert (who.id, who.role, who.groups) == ("oidc:u-17", "compliance", ("all_staff", "quality"))


@pytest.mark.parametrize(("over", "kid", "code"), [
    ({"exp": int(time.time()) - 3600}, "good", "token_expired"),
    ({"aud": "someone-else"}, "good", "unauthenticated"),
    ({"iss": "https://evil.example"}, "good", "unauthenticated"),
    ({}, "rogue", "unauthenticated"),
    ({"roles": ["visitor"]}, "good", "no_role"),
    ({"roles": None}, "good", "no_role"),
    ({"sub": None}, "good", "unauthenticated"),
])
def test_bad_oidc_tokens_are_refused(oidc: Authenticator, keys: dict[str, Any], over: dict[str, Any], kid: str,
                                     code: str) -> None:
    with pytest.raises(AuthenticationError) as exc:
        oidc.authenticate(token(keys, kid, **over))
    assert exc.value.code == code


def test_oidc_disabled_refuses_jwts(keys: dict[str, Any]) -> None:
    with pytest.raises(AuthenticationError):
        Authenticator(ServiceSettings(), None).authenticate(token(keys))


def test_session_tokens_are_short_lived_and_bound_to_this_server() -> None:
    from copilot.governance.principal import Principal

    a, b = Authenticator(ServiceSettings(), None), Authenticator(ServiceSettings(), None)
    nina = Principal(id="nina", name="Nina", role="staff", groups=("nursing",))
    tok, exp = a.mint_session(nina, ttl_s=10_000)
    assert exp - time.time() <= 900
    assert a.authenticate(tok) == nina
    with pytest.raises(AuthenticationError):
        b.authenticate(tok)


@pytest.mark.parametrize(("kwargs", "ok"), [
    ({"environment": "development", "password_login": True}, True),
    ({"environment": "production", "password_login": True}, False),
    ({"environment": "test", "password_login": True}, False),
    ({"environment": "production", "cors_origins": ["*"]}, False),
    ({"oidc_issuer": ISSUER}, False),
    ({"environment": "production", "cors_origins": ["https://intranet.example"]}, True),
])
def test_service_settings_refuse_unsafe_values(kwargs: dict[str, Any], ok: bool) -> None:
    if ok:
        ServiceSettings(**kwargs)
    else:
        with pytest.raises(ValueError):
            ServiceSettings(**kwargs)


def test_service_settings_read_the_main_settings() -> None:
    svc = ServiceSettings.from_settings(Settings(environment="test"), rate_limit_burst=5)
    assert svc.environment == "test" and svc.rate_limit_burst == 5


def test_users_cli_add_list_revoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from copilot import cli
    from copilot.config import get_settings

    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert cli.main(["users", "add", "Nina Okafor", "--role", "staff", "--groups", "all_staff,nursing",
                         "--json"]) == 0
        key = json.loads(capsys.readouterr().out)["api_key"]
        engine = make_engine(f"sqlite:///{tmp_path / 'copilot.db'}")
        assert UserStore(engine).authenticate_key(key).groups == ("all_staff", "nursing")
        assert cli.main(["users", "list", "--json"]) == 0
        assert [u["id"] for u in json.loads(capsys.readouterr().out)] == ["nina.okafor"]
        assert cli.main(["users", "revoke", "nina.okafor", "--json"]) == 0
        capsys.readouterr()
        assert cli.main(["users", "add", "X", "--role", "staff", "--groups", "Bad Group"]) == 2
    finally:
        get_settings.cache_clear()


def test_serve_demo_is_refused_outside_development(tmp_path: Path) -> None:
    import argparse

    from copilot import cli
    from copilot.errors import CopilotError

    args = argparse.Namespace(demo=True, host="127.0.0.1", port=0, ingest=None, sync_odoo=False)
    with pytest.raises(CopilotError, match="refused outside development"):
        cli.cmd_serve(args, Settings(environment="production", data_dir=tmp_path))

"""Hardened edges: limits before authentication (lock-outs with back-off per address and per user name), bounded
buckets, sessions that end the moment their user is revoked, one settings declaration, and no PHI pass-through
outside development. (Across several API processes with Redis: tests/integration/test_edge_limits_redis.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from copilot.api.app import build_app
from copilot.api.limits import EdgeLimits, MemoryStore
from copilot.api.settings import SERVICE_FIELDS, ServiceSettings
from copilot.api.users import UserStore
from copilot.app import build_copilot
from copilot.config import Settings

pytestmark = pytest.mark.unit


class Edge:
    def __init__(self, tmp: Path, **svc: Any) -> None:
        settings = Settings(data_dir=tmp, embedding_backend="hashing", redaction="none")
        self.cp = build_copilot(settings)
        service = ServiceSettings.from_settings(settings, password_login=True, **svc)
        self.app = build_app(self.cp, service=service)
        self.users = UserStore(self.cp.engine)
        _, self.key = self.users.add("Nina Okafor", role="staff", groups=("all_staff",), user_id="nina",
                                     password="right-password")

    def client(self, address: str) -> TestClient:
        return TestClient(self.app, client=(address, 40000))


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[Edge]:
    e = Edge(tmp_path, auth_max_failures_per_address=4, auth_max_failures_per_user=3, auth_lockout_base_s=0.4,
             auth_lockout_max_s=2.0)
    yield e
    e.cp.close()


def me(c: TestClient, token: str) -> Any:
    return c.get("/v1/me", headers={"Authorization": f"Bearer {token}"})


def login(c: TestClient, user: str, password: str) -> Any:
    return c.post("/v1/auth/login", json={"username": user, "password": password})


@pytest.mark.parametrize("bad", ["not-a-token", "cpk_0123456789abcdef_wrongsecret", "eyJhbGciOiJIUzI1NiJ9.e30.x"])
def test_unknown_tokens_lock_the_address_out_before_anything_else(edge: Edge, bad: str) -> None:
    attacker, other = edge.client("10.0.0.66"), edge.client("10.0.0.7")
    assert [me(attacker, bad).status_code for _ in range(4)] == [401] * 4
    locked = me(attacker, edge.key)  # even a valid key, from the locked address
    assert locked.status_code == 429 and locked.json()["error"] == "locked_out"
    assert int(locked.headers["Retry-After"]) >= 1
    assert me(other, edge.key).status_code == 200  # another address is not affected
    time.sleep(0.5)
    assert me(attacker, edge.key).status_code == 200  # the lock-out ends


def test_failed_sign_ins_lock_the_user_name_with_back_off(edge: Edge) -> None:
    rotating = [edge.client(f"10.1.0.{i}") for i in range(10)]  # one guess per address: only the name counts
    assert [login(c, "nina", "guess").status_code for c in rotating[:3]] == [401] * 3
    blocked = login(rotating[3], "nina", "right-password")
    assert blocked.status_code == 429 and blocked.json()["error"] == "locked_out"
    first = int(blocked.headers["Retry-After"])
    time.sleep(0.5)
    assert [login(c, "nina", "guess").status_code for c in rotating[4:7]] == [401, 401, 401]
    again = login(rotating[7], "nina", "right-password")
    assert again.status_code == 429
    assert edge.app.state.ctx.limiter.locked("user:nina") > 0.5  # the second lock-out is twice the first
    assert first >= 1
    time.sleep(0.9)
    ok = login(rotating[8], "nina", "right-password")
    assert ok.status_code == 200 and ok.json()["principal"]["id"] == "nina"
    assert login(rotating[9], "nina", "guess").status_code == 401  # a success cleared the count: no lock yet


def test_revoking_a_user_ends_their_widget_session_at_once(edge: Edge) -> None:
    c = edge.client("10.2.0.1")
    session = login(c, "nina", "right-password").json()["token"]
    assert me(c, session).status_code == 200
    edge.users.revoke("nina")
    gone = me(c, session)
    assert gone.status_code == 401 and gone.json()["error"] == "session_revoked"


def test_expired_or_revoked_sessions_do_not_lock_a_shared_address_out(edge: Edge) -> None:
    from copilot.governance.principal import Principal

    auth = edge.app.state.ctx.auth
    c = edge.client("10.4.0.1")  # a hospital's NAT: every nurse's widget comes from here
    token, _ = auth.mint_session(Principal(id="oidc:x", name="X", role="staff"))
    auth.revoke_sessions("oidc:x")
    assert [me(c, token).json()["error"] for _ in range(6)] == ["session_revoked"] * 6
    assert me(c, edge.key).status_code == 200  # six refusals, no lock-out (the limit is 4 guesses)


def test_sessions_of_a_subject_the_store_does_not_hold_can_be_revoked(edge: Edge) -> None:
    from copilot.governance.principal import Principal

    auth = edge.app.state.ctx.auth
    oidc_user = Principal(id="oidc:abc", name="Ann", role="staff", groups=("all_staff",))
    token, _ = auth.mint_session(oidc_user)
    c = edge.client("10.2.0.2")
    assert me(c, token).status_code == 200
    auth.revoke_sessions("oidc:abc")
    assert me(c, token).json()["error"] == "session_revoked"
    fresh, _ = auth.mint_session(oidc_user)  # signing in again works
    time.sleep(0.01)
    assert me(c, fresh).status_code == 200


def test_buckets_are_bounded() -> None:
    store = MemoryStore(max_keys=100)
    limits = EdgeLimits(store, per_minute=60, burst=2)
    for i in range(5000):
        limits.take(f"caller-{i}")
        limits.failed(f"ip:192.0.2.{i % 250}.{i}")
    assert len(store) <= 100
    assert limits.take("fresh") == 0  # an evicted or new key starts with a full bucket


def test_the_token_bucket_still_limits_a_principal(tmp_path: Path) -> None:
    e = Edge(tmp_path, rate_limit_per_minute=60, rate_limit_burst=3)
    try:
        c = e.client("10.3.0.1")
        codes = [me(c, e.key).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    finally:
        e.cp.close()


def test_service_settings_are_derived_not_repeated() -> None:
    fields = ServiceSettings.model_fields
    assert set(fields) == set(SERVICE_FIELDS)
    for name in SERVICE_FIELDS:
        assert fields[name].annotation == Settings.model_fields[name].annotation, name
        assert fields[name].get_default(call_default_factory=True) == \
            Settings.model_fields[name].get_default(call_default_factory=True), name
    with pytest.raises(ValueError, match=r"[Ee]xtra inputs are not permitted"):
        ServiceSettings(no_such_setting=1)


@pytest.mark.parametrize(("environment", "ok"), [("development", True), ("test", False), ("production", False)])
def test_redaction_none_only_in_development(environment: str, ok: bool) -> None:
    if ok:
        assert Settings(environment=environment, redaction="none").redaction == "none"
    else:
        with pytest.raises(ValueError, match="REDACTION=none"):
            Settings(environment=environment, redaction="none")

"""Edge limits across several API processes: two real uvicorn processes share lock-outs, rate-limit buckets and
session revocations through the real Redis (``COPILOT_REDIS_URL``); the in-process store is the embedded default."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from copilot.api.limits import EdgeLimits, RedisStore
from copilot.api.users import UserStore
from copilot.db import make_engine, migrate

pytestmark = pytest.mark.integration

REDIS = "redis://127.0.0.1:6379/0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS)
    client.ping()  # Redis runs on this machine and in CI: unreachable is a failure, not a skip
    prefix = f"copilot:test:{uuid.uuid4().hex[:8]}:"
    yield prefix
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory, redis_prefix: str) -> Iterator[tuple[list[str], str]]:
    data = tmp_path_factory.mktemp("edge")
    engine = make_engine(f"sqlite:///{data / 'copilot.db'}")
    migrate(engine)
    _, key = UserStore(engine).add("Nina Okafor", role="staff", groups=("all_staff",), user_id="nina",
                                   password="right-password")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "HF_HUB_OFFLINE": "1"}
    ports = [_free_port(), _free_port()]
    procs = [subprocess.Popen([sys.executable, "-m", "fixtures.edge_server", str(data), str(p), redis_prefix],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        deadline = time.monotonic() + 60
        for url, proc in zip(urls, procs, strict=True):
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server did not start")
                time.sleep(0.2)
        yield urls, key
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def _me(url: str, token: str) -> httpx.Response:
    return httpx.get(url + "/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_failures_at_one_process_lock_the_user_out_at_the_other(two_processes: tuple[list[str], str]) -> None:
    (a, b), _ = two_processes
    assert httpx.post(a + "/v1/auth/login", json={"username": "nina", "password": "x"}).status_code == 401
    assert httpx.post(b + "/v1/auth/login", json={"username": "nina", "password": "y"}).status_code == 401
    assert httpx.post(a + "/v1/auth/login", json={"username": "nina", "password": "z"}).status_code == 401
    locked = httpx.post(b + "/v1/auth/login", json={"username": "nina", "password": "right-password"})
    assert locked.status_code == 429 and locked.json()["error"] == "locked_out"


def test_a_session_revoked_at_one_process_is_refused_by_the_other(two_processes: tuple[list[str], str],
                                                                  redis_prefix: str) -> None:
    (a, b), key = two_processes
    session = httpx.post(a + "/v1/auth/session", headers={"Authorization": f"Bearer {key}"}).json()["token"]
    assert _me(b, session).status_code == 200  # the same signing secret: any process accepts it
    EdgeLimits(RedisStore(REDIS, prefix=redis_prefix)).revoke_subject("nina", ttl_s=900)  # e.g. from a third one
    assert _me(a, session).json()["error"] == "session_revoked"
    assert _me(b, session).json()["error"] == "session_revoked"


def test_the_token_bucket_is_shared(redis_prefix: str) -> None:
    one = EdgeLimits(RedisStore(REDIS, prefix=redis_prefix + "b1:"), per_minute=60, burst=4)
    two = EdgeLimits(RedisStore(REDIS, prefix=redis_prefix + "b1:"), per_minute=60, burst=4)
    waits = [(one if i % 2 else two).take("erin") for i in range(6)]
    assert waits[:4] == [0, 0, 0, 0] and all(w > 0 for w in waits[4:])
    time.sleep(1.1)
    assert one.take("erin") == 0  # one token a second refills


def test_keys_expire_by_themselves(redis_prefix: str) -> None:
    import redis

    limits = EdgeLimits(RedisStore(REDIS, prefix=redis_prefix + "ttl:"), max_failures_address=2,
                        lockout_base_s=1, lockout_max_s=1)
    limits.failed("ip:198.51.100.1")
    limits.failed("ip:198.51.100.1")
    assert limits.locked("ip:198.51.100.1") > 0
    client = redis.Redis.from_url(REDIS)
    assert all(client.ttl(k) > 0 for k in client.scan_iter(redis_prefix + "ttl:*"))
    time.sleep(1.2)
    assert limits.locked("ip:198.51.100.1") == 0

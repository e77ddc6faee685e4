"""Abuse limits at the edge: token buckets for callers, lock-outs for failed credentials, session revocation.

Three questions the service asks on every request, answered by one store:

- **rate**: may this principal make another request (a token bucket, ``per_minute`` sustained, ``burst`` at once)?
- **failures**: has this client address, or this user name, failed to authenticate too often? Failures count
  *before* authentication succeeds (unknown tokens, wrong API keys, wrong passwords), so guessing is slowed down
  per address and per account: after ``max_failures`` within the window the key is locked out for
  ``base_s * 2**(n-1)`` seconds (``n``: lock-outs so far, capped at ``max_s``); a success clears the user name's count.
- **revocation**: was this session subject revoked after the token was issued? (A user revoked in the user store is
  checked against the database on every request; this list covers principals the store does not hold — OIDC
  subjects, operators — and explicit sign-outs.)

Two stores with the same behaviour: :class:`MemoryStore` (embedded default: one process; bounded — the least
recently used keys are evicted past ``max_keys``, so a flood of addresses cannot grow memory) and
:class:`RedisStore` (``COPILOT_REDIS_URL``: several API processes share buckets, lock-outs and revocations; keys
expire by themselves).

Usage::

    limits = EdgeLimits(MemoryStore(), per_minute=600, burst=60, max_failures_address=20, max_failures_user=5)
    limits.locked("ip:10.0.0.7")            # seconds left on a lock-out, 0 when free
    limits.failed("ip:10.0.0.7")            # one more failure (may start a lock-out)
    limits.take("alice")                    # 0 when allowed, else seconds until a token is free
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol


class LimitStore(Protocol):
    def take(self, key: str, rate: float, burst: float, now: float) -> float:
        """Take one token from ``key``'s bucket; 0 when allowed, else the seconds until one is available."""
        ...

    def incr(self, key: str, ttl_s: float) -> int:
        """Add one to a counter that expires ``ttl_s`` after its first increment; returns the new value."""
        ...

    def put(self, key: str, value: float, ttl_s: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl_s`` seconds."""
        ...

    def get(self, key: str) -> float | None:
        """The value under ``key``, None when absent or expired."""
        ...

    def delete(self, key: str) -> None: ...


class MemoryStore:
    """One process. Bounded: past ``max_keys`` the least recently used entries go (a bucket evicted is a full
    bucket again, a counter evicted starts over — the price of a bound, paid only under a flood)."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self.max_keys = max_keys
        self._data: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def _put(self, key: str, value: tuple[float, float]) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_keys:
            self._data.popitem(last=False)

    def take(self, key: str, rate: float, burst: float, now: float) -> float:
        with self._lock:
            tokens, last = self._data.get(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens >= 1:
                self._put(key, (tokens - 1, now))
                return 0.0
            self._put(key, (tokens, now))
            return (1 - tokens) / rate

    def incr(self, key: str, ttl_s: float) -> int:
        now = time.time()
        with self._lock:
            count, expires = self._data.get(key, (0.0, now + ttl_s))
            if expires <= now:
                count, expires = 0.0, now + ttl_s
            self._put(key, (count + 1, expires))
            return int(count + 1)

    def put(self, key: str, value: float, ttl_s: float) -> None:
        with self._lock:
            self._put(key, (value, time.time() + ttl_s))

    def get(self, key: str) -> float | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            if item[1] <= time.time():
                self._data.pop(key, None)
                return None
            return item[0]

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


_TAKE = """
local tokens = tonumber(redis.call('HGET', KEYS[1], 't'))
local last = tonumber(redis.call('HGET', KEYS[1], 'l'))
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if tokens == nil then tokens = burst; last = now end
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'l', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RedisStore:
    """Shared by every API process pointing at the same Redis. Every key expires on its own (a full bucket, an
    old counter, a finished lock-out need no entry), so the store stays bounded by live traffic."""

    def __init__(self, url: str, *, prefix: str = "copilot:edge:", client: Any = None) -> None:
        import redis

        self.prefix = prefix
        self.r = client or redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._take = self.r.register_script(_TAKE)

    def take(self, key: str, rate: float, burst: float, now: float) -> float:
        # the wall clock, not the caller's monotonic one: processes on several machines share the bucket
        return float(self._take(keys=[self.prefix + "b:" + key], args=[rate, burst, time.time()]))

    def incr(self, key: str, ttl_s: float) -> int:
        k = self.prefix + "c:" + key
        pipe = self.r.pipeline()
        pipe.incr(k)
        pipe.expire(k, max(1, int(ttl_s)), nx=True)
        count, _ = pipe.execute()
        return int(count)

    def put(self, key: str, value: float, ttl_s: float) -> None:
        self.r.set(self.prefix + "v:" + key, repr(float(value)), px=max(1, int(ttl_s * 1000)))

    def get(self, key: str) -> float | None:
        v = self.r.get(self.prefix + "v:" + key)
        return float(v) if v is not None else None

    def delete(self, key: str) -> None:
        self.r.delete(self.prefix + "c:" + key, self.prefix + "v:" + key)


@dataclass
class EdgeLimits:
    store: Any
    per_minute: int = 600
    burst: int = 60
    max_failures_address: int = 20
    max_failures_user: int = 5
    window_s: float = 900.0
    lockout_base_s: float = 30.0
    lockout_max_s: float = 900.0

    def take(self, principal_id: str) -> float:
        return float(self.store.take("p:" + principal_id, self.per_minute / 60.0, float(self.burst), time.time()))

    def locked(self, key: str) -> float:
        """Seconds left on ``key``'s lock-out (``ip:<address>`` or ``user:<name>``), 0 when free."""
        until = self.store.get("lock:" + key)
        return max(0.0, float(until) - time.time()) if until else 0.0

    def failed(self, key: str) -> float:
        """Count one failed credential for ``key``; returns the lock-out it started (seconds) or 0."""
        limit = self.max_failures_user if key.startswith("user:") else self.max_failures_address
        n = int(self.store.incr("fail:" + key, self.window_s))
        if n < limit:
            return 0.0
        rounds = int(self.store.incr("rounds:" + key, self.lockout_max_s * 8))
        seconds = min(self.lockout_max_s, self.lockout_base_s * 2 ** (rounds - 1))
        self.store.put("lock:" + key, time.time() + seconds, seconds)
        self.store.delete("fail:" + key)
        return seconds

    def succeeded(self, key: str) -> None:
        """A correct credential clears the failures of a user name (not of an address: one good account must not
        unlock an address that is guessing others)."""
        if key.startswith("user:"):
            self.store.delete("fail:" + key)
            self.store.delete("rounds:" + key)

    def revoke_subject(self, subject: str, *, ttl_s: float) -> None:
        """Sessions of ``subject`` issued up to now are refused (kept ``ttl_s``: the longest a session lives)."""
        self.store.put("revoked:" + subject, time.time(), ttl_s)

    def revoked_since(self, subject: str) -> float:
        """When ``subject``'s sessions were last revoked (unix time), 0 when never (or long enough ago)."""
        return float(self.store.get("revoked:" + subject) or 0.0)


def build_limits(svc: Any) -> EdgeLimits:
    """The edge limits for a service's settings: Redis when ``redis_url`` is set, else in-process."""
    store: Any = (RedisStore(svc.redis_url, prefix=svc.redis_prefix) if svc.redis_url
                  else MemoryStore(svc.rate_limit_max_keys))
    return EdgeLimits(store, per_minute=svc.rate_limit_per_minute, burst=svc.rate_limit_burst,
                      max_failures_address=svc.auth_max_failures_per_address,
                      max_failures_user=svc.auth_max_failures_per_user,
                      lockout_base_s=svc.auth_lockout_base_s, lockout_max_s=svc.auth_lockout_max_s)

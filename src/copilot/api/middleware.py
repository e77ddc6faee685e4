"""One pure-ASGI middleware for what every response needs: a body-size limit, security headers and
Prometheus metrics (per route template, so ids in paths do not explode the label set).

Pure ASGI rather than ``BaseHTTPMiddleware`` so streamed (SSE) responses pass through untouched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from copilot.api.settings import ServiceSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Metrics:
    """A registry per app (no process globals), so tests can build many apps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("copilot_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("copilot_http_request_seconds", "HTTP request latency", ["route"],
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5),
                                 registry=self.registry)
        self.asks = Counter("copilot_answers_total", "Answers by outcome", ["outcome"], registry=self.registry)

    def watch_caches(self, copilot: Any) -> None:
        """Export the answering caches' lookups (``copilot_cache_lookups_total{cache,result}``): a benchmark that
        repeats its input measures these, so the load report prints their hit rate."""
        self.registry.register(_CacheCollector(copilot))


class _CacheCollector:
    def __init__(self, copilot: Any) -> None:
        self.copilot = copilot

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily

        fam = CounterMetricFamily("copilot_cache_lookups", "Cache lookups on the answer path",
                                  labels=["cache", "result"])
        built = self.copilot.__dict__  # only caches already built: a scrape must not load a model
        answerer = built.get("answerer")
        sources = {"sentence_vectors": getattr(getattr(answerer, "fallback", answerer), "cache_stats", None),
                   "query_normalizer": getattr(getattr(self.copilot, "_normalizer", None), "cache_stats", None)}
        for name, stats in sources.items():
            if isinstance(stats, dict):
                for result in ("hits", "misses"):
                    fam.add_metric([name, result], float(stats.get(result, 0)))
        yield fam


def security_headers(svc: ServiceSettings) -> list[tuple[bytes, bytes]]:
    ancestors = " ".join(["'self'", *svc.frame_ancestors])
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
           f"frame-ancestors {ancestors}")
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]


class ServiceMiddleware:
    def __init__(self, app: ASGIApp, svc: ServiceSettings, metrics: Metrics) -> None:
        self.app = app
        self.max_body = svc.max_body_bytes
        self.headers = security_headers(svc)
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = {"code": 500}
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_body
                except ValueError:
                    too_big = True
                if too_big:
                    await _reject(send, 413, "request body too large", self.headers)
                    self._observe(scope, 413, t0)
                    return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLarge
            return msg

        started = False

        async def send_with_headers(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                status["code"] = msg["status"]
                msg["headers"] = [*msg.get("headers", []), *self.headers]
            await send(msg)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLarge:
            if not started:
                await _reject(send, 413, "request body too large", self.headers)
            status["code"] = 413
        self._observe(scope, status["code"], t0)

    def _observe(self, scope: Scope, code: int, t0: float) -> None:
        route = getattr(scope.get("route"), "path", None) or ("static" if scope["path"].startswith("/static")
                                                              else "unmatched")
        self.metrics.requests.labels(scope["method"], route, str(code)).inc()
        self.metrics.latency.labels(route).observe(time.perf_counter() - t0)


class _BodyTooLarge(Exception):
    pass


async def _reject(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": "too_large", "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})

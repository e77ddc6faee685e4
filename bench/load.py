"""Bounded load on loopback against ``copilot serve``: N concurrent users asking demo questions for D seconds.

Starts ``copilot serve --demo`` in a fresh data dir (real embedder by default; ``--embedder hashing`` for a
quick run), waits for the demo sync, creates one staff API key per simulated user (so the per-principal rate
limit applies per user, as in production), then runs the load with asyncio + httpx and reports throughput,
p50/p95/p99 latency of ``POST /v1/ask``, errors and the server's peak RSS.

Usage::

    python bench/load.py --json                         # 20 users, 60 s, the settings' embedder
    python bench/load.py --users 5 --seconds 10 --embedder hashing --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

QUESTIONS = [
    "How often do infusion pumps need preventive maintenance?",
    "What is the hand hygiene audit frequency?",
    "How should vaccines be stored in the cold chain?",
    "Who do I call for an on-call escalation for biomedical equipment?",
    "How are oxygen cylinders stored?",
    "What do I do with expired stock?",
    "How often are defibrillators checked?",
    "What is the password policy for staff accounts?",
    "How do I report an incident?",
    "Can I send patient information by email?",
    "What are the rules for shift swaps and overtime?",
    "How are laboratory specimens transported?",
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data: Path, port: int, embedder: str) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {**os.environ, "COPILOT_DATA_DIR": str(data), "COPILOT_ENVIRONMENT": "development",
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if embedder != "default":
        env["COPILOT_EMBEDDING_BACKEND"] = embedder
    log = (data / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "copilot.cli", "serve", "--demo", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited:\n" + (data / "serve.log").read_text())
        try:
            token = json.loads((data / "server.json").read_text())["token"]
            state = httpx.get(f"{base}/v1/ingest", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
            if state.get("state") == "done":
                return proc, base, token
        except (OSError, ValueError, KeyError, httpx.HTTPError):
            pass
        time.sleep(1)
    proc.kill()
    raise SystemExit("server did not become ready")


def make_keys(data: Path, n: int) -> list[str]:
    """One staff user + API key per simulated user, written to the server's database."""
    from copilot.api.users import UserStore
    from copilot.db import make_engine

    store = UserStore(make_engine(f"sqlite:///{(data / 'copilot.db').resolve()}"))
    return [store.add(f"Load {i}", role="staff", groups=("all_staff", "nursing"), user_id=f"load.{i}")[1]
            for i in range(n)]


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            self.stop.wait(0.25)


async def user(client: httpx.AsyncClient, key: str, until: float, lat: list[float], errors: list[str],
               rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        try:
            r = await client.post("/v1/ask", json={"question": rng.choice(QUESTIONS)}, headers=headers)
            if r.status_code != 200:
                errors.append(f"HTTP {r.status_code}")
            else:
                lat.append(time.perf_counter() - t0)
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)


async def run_load(base: str, keys: list[str], seconds: float) -> dict[str, Any]:
    lat: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=len(keys) + 4, max_keepalive_connections=len(keys) + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        for k in keys[:3]:  # warm the path once (first query compiles/loads lazily)
            await client.post("/v1/ask", json={"question": QUESTIONS[0]}, headers={"Authorization": f"Bearer {k}"})
        t0 = time.perf_counter()
        until = t0 + seconds
        await asyncio.gather(*(user(client, k, until, lat, errors, random.Random(i)) for i, k in enumerate(keys)))
        wall = time.perf_counter() - t0
    lat.sort()

    def pct(p: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else None

    return {"requests_ok": len(lat), "errors": len(errors), "error_kinds": sorted(set(errors)),
            "throughput_rps": round(len(lat) / wall, 1), "p50_ms": pct(0.50), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "max_ms": round(lat[-1] * 1000, 1) if lat else None, "wall_s": round(wall, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--embedder", default="default", choices=["default", "torch", "onnx-int8", "hashing"],
                    help="default: whatever Settings defaults to")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="copilot-load-") as tmp:
        data = Path(tmp)
        proc, base, _ = start_server(data, _port(), args.embedder)
        try:
            keys = make_keys(data, args.users)
            sampler = RssSampler(proc.pid)
            sampler.start()
            idle_rss = psutil.Process(proc.pid).memory_info().rss
            result = asyncio.run(run_load(base, keys, args.seconds))
            sampler.stop.set()
            sampler.join()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    out = {"bench": "load", "users": args.users, "seconds": args.seconds,
           "embedder": os.environ.get("COPILOT_EMBEDDING_BACKEND", "settings default")
           if args.embedder == "default" else args.embedder,
           "cpus": os.cpu_count(), **result, "server_rss_mb_before": round(idle_rss / 2**20, 1),
           "server_rss_mb_peak": round(sampler.peak / 2**20, 1),
           "note": "extractive answers; loopback; one uvicorn worker; numbers from a shared, loaded machine "
                   "are provisional"}
    print(json.dumps(out, indent=2) if args.json else out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

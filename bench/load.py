"""Bounded load on loopback against ``copilot serve``: N concurrent users asking demo questions for D seconds.

Starts ``copilot serve --demo`` in a fresh data dir (real embedder by default; ``--embedder hashing`` for a
quick run), waits for the demo sync, creates one staff API key per simulated user (so the per-principal rate
limit applies per user, as in production), then runs the load with asyncio + httpx and reports throughput,
p50/p95/p99 latency of ``POST /v1/ask``, errors, the server's RSS and the answer caches' hit rates.

By default every request asks a **different** question (``bench/questions.py``: 6,700 distinct questions from the
gold sets, the users' own utterances and the documents' headings; none repeated within a run, the count of
repeats is reported if a run outlasts the pool), so the figure is the uncached service. ``--repeat`` asks the 12
questions below over and over: the cached case, for comparison. ``--soak`` runs ``--seconds`` (e.g. 600) and
samples the server's RSS each 10 s: growth after warm-up is reported.

Usage::

    python bench/load.py --json                         # 20 users, 60 s, distinct questions
    python bench/load.py --repeat --json                # the cached case
    python bench/load.py --users 10 --seconds 600 --soak --json
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from questions import question_pool  # bench/ is a folder of scripts, not a package

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


BENCH_RATE_LIMIT = 1_000_000  # requests a minute per key under the benchmark (see start_server)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data: Path, port: int, embedder: str) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {**os.environ, "COPILOT_DATA_DIR": str(data), "COPILOT_ENVIRONMENT": "development",
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if embedder != "default":
        env["COPILOT_EMBEDDING_BACKEND"] = embedder
    # The simulated users ask without pause (10 users x 10 s^-1 each in a soak); the per-key limit (600 a minute by
    # default) would answer 429 and measure the limiter, not the service. Raised here unless the caller sets it.
    env.setdefault("COPILOT_RATE_LIMIT_PER_MINUTE", str(BENCH_RATE_LIMIT))
    env.setdefault("COPILOT_RATE_LIMIT_BURST", str(BENCH_RATE_LIMIT // 60))
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
            auth = {"Authorization": f"Bearer {token}"}
            state = httpx.get(f"{base}/v1/ingest", headers=auth, timeout=5).json()
            # the demo also trains triage in the background on first start: wait, or it shares the cores
            triage = httpx.get(f"{base}/v1/triage/jobs", headers=auth, timeout=5).json()
            if state.get("state") == "done" and triage.get("state") in ("done", "failed", "idle", None):
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
    def __init__(self, pid: int, every_s: float = 10.0) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self.every_s = every_s
        self.stop = threading.Event()

    def run(self) -> None:
        t0, last = time.monotonic(), -1e9
        while not self.stop.is_set():
            try:
                rss = self.proc.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)
            if time.monotonic() - last >= self.every_s:
                last = time.monotonic()
                self.samples.append((round(last - t0, 1), rss))
            self.stop.wait(0.25)


class Questions:
    """Hands out the pool once, in order (shared by all users); past its end it starts over and counts repeats."""

    def __init__(self, repeat: bool) -> None:
        self.repeat = repeat
        self.pool = question_pool()
        self.i = 0
        self.repeats = 0
        self.rng = random.Random(0)

    def next(self) -> str:
        if self.repeat:
            return self.rng.choice(QUESTIONS)
        q = self.pool[self.i % len(self.pool)]
        self.repeats += self.i >= len(self.pool)
        self.i += 1
        return q


async def user(client: httpx.AsyncClient, key: str, until: float, lat: list[float], errors: list[str],
               questions: Questions) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        try:
            r = await client.post("/v1/ask", json={"question": questions.next()}, headers=headers)
            if r.status_code != 200:
                errors.append(f"HTTP {r.status_code}")
            else:
                lat.append(time.perf_counter() - t0)
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)


def cache_lookups(base: str, token: str) -> dict[str, dict[str, float]]:
    """The server's ``copilot_cache_lookups_total`` counters: cache -> {hits, misses}."""
    text = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10).text
    out: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        if line.startswith("copilot_cache_lookups_total{"):
            labels, value = line.rsplit(" ", 1)
            cache = labels.split('cache="')[1].split('"')[0]
            result = labels.split('result="')[1].split('"')[0]
            out.setdefault(cache, {})[result] = float(value)
    return out


async def run_load(base: str, keys: list[str], seconds: float, questions: Questions,
                   token: str) -> dict[str, Any]:
    lat: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=len(keys) + 4, max_keepalive_connections=len(keys) + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        for k in keys[:3]:  # warm the path once (first query compiles/loads lazily); not from the pool
            await client.post("/v1/ask", json={"question": QUESTIONS[0]}, headers={"Authorization": f"Bearer {k}"})
        before = cache_lookups(base, token)
        t0 = time.perf_counter()
        until = t0 + seconds
        await asyncio.gather(*(user(client, k, until, lat, errors, questions) for k in keys))
        wall = time.perf_counter() - t0
        after = cache_lookups(base, token)
    caches = {}
    for name, counts in after.items():
        hits = counts.get("hits", 0) - before.get(name, {}).get("hits", 0)
        misses = counts.get("misses", 0) - before.get(name, {}).get("misses", 0)
        caches[name] = {"lookups": int(hits + misses),
                        "hit_rate": round(hits / (hits + misses), 3) if hits + misses else None}
    lat.sort()

    def pct(p: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else None

    return {"requests_ok": len(lat), "errors": len(errors), "error_kinds": sorted(set(errors)), "caches": caches,
            "distinct_questions": not questions.repeat, "questions_repeated": questions.repeats,
            "throughput_rps": round(len(lat) / wall, 1), "p50_ms": pct(0.50), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "max_ms": round(lat[-1] * 1000, 1) if lat else None, "wall_s": round(wall, 1)}


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of this load client, the server and the server's child processes."""
    def used(p: psutil.Process) -> float:
        t = p.cpu_times()
        return float(t.user + t.system)

    server = psutil.Process(server_pid)
    return {"client": used(psutil.Process()), "server": used(server),
            "server_children": sum(used(c) for c in server.children(recursive=True))}


def cpu_per_request(before: dict[str, float], after: dict[str, float], result: dict[str, Any]) -> dict[str, Any]:
    """Milliseconds of CPU per answered request, per process: where the two cores went."""
    n = max(1, result["requests_ok"] + result["errors"])
    return {"cpu_ms_per_request": {k: round(1000 * (after[k] - before[k]) / n, 2) for k in after}}


def soak_report(samples: list[tuple[float, int]]) -> dict[str, Any]:
    """RSS growth from the first sample after warm-up (the first minute, or the second sample) to the end."""
    if len(samples) < 3:
        return {"soak": "too short to judge"}
    warm = next((s for s in samples if s[0] >= 60), samples[1])
    end = samples[-1]
    return {"rss_mb_after_warmup": round(warm[1] / 2**20, 1), "rss_mb_end": round(end[1] / 2**20, 1),
            "rss_growth_pct": round(100 * (end[1] - warm[1]) / warm[1], 2),
            "rss_series_mb": [(t, round(r / 2**20, 1)) for t, r in samples]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--embedder", default="default", choices=["default", "torch", "onnx-int8", "hashing"],
                    help="default: whatever Settings defaults to")
    ap.add_argument("--repeat", action="store_true", help="ask the same 12 questions over and over (cached case)")
    ap.add_argument("--soak", action="store_true", help="report RSS growth after warm-up (use --seconds 600)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="copilot-load-") as tmp:
        data = Path(tmp)
        proc, base, token = start_server(data, _port(), args.embedder)
        try:
            keys = make_keys(data, args.users)
            sampler = RssSampler(proc.pid)
            sampler.start()
            idle_rss = psutil.Process(proc.pid).memory_info().rss
            cpu0 = cpu_seconds(proc.pid)
            result = asyncio.run(run_load(base, keys, args.seconds, Questions(args.repeat), token))
            cpu1 = cpu_seconds(proc.pid)
            children_rss = [round(c.memory_info().rss / 2**20, 1)
                            for c in psutil.Process(proc.pid).children(recursive=True)]
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
           "cpus": os.cpu_count(),
           "rate_limit_per_minute": int(os.environ.get("COPILOT_RATE_LIMIT_PER_MINUTE", BENCH_RATE_LIMIT)),
           **result, "server_rss_mb_before": round(idle_rss / 2**20, 1),
           "server_rss_mb_peak": round(sampler.peak / 2**20, 1), "server_children_rss_mb": children_rss,
           **cpu_per_request(cpu0, cpu1, result),
           **(soak_report(sampler.samples) if args.soak else {}),
           "note": "extractive answers; loopback; one uvicorn worker; numbers from a shared, loaded machine "
                   "are provisional"}
    print(json.dumps(out, indent=2) if args.json else out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Small helpers shared by the benchmarks: JSON output, percentiles, timing, memory and machine facts.

Benchmarks print ONE JSON object on stdout (progress goes to stderr): ``python bench/x.py --json | jq``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def emit(result: dict[str, Any], *, as_json: bool = True) -> None:
    """Print the result: one JSON object (``--json``) or an indented, human-readable form."""
    if as_json:
        print(json.dumps(result, default=str))
    else:
        print(json.dumps(result, default=str, indent=2))
    sys.stdout.flush()


def log(*parts: object) -> None:
    """Progress to stderr, so stdout stays pure JSON."""
    print(*parts, file=sys.stderr, flush=True)


def percentile(samples: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default method), without needing numpy."""
    if not samples:
        return float("nan")
    xs = sorted(samples)
    k = (len(xs) - 1) * pct / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean in milliseconds and sequential QPS (one client, one query at a time)."""
    ms = [s * 1000.0 for s in seconds]
    mean = sum(ms) / len(ms) if ms else float("nan")
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(mean, 3),
        "qps": round(1000.0 / mean, 2) if ms and mean > 0 else float("nan"),
    }


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """``with timer() as t: ...`` then ``t["s"]`` holds the elapsed seconds."""
    box: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["s"] = time.perf_counter() - start


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB, macOS in bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(peak / scale, 1)


def rss_mb() -> float:
    """Current resident set size (psutil), for before/after deltas."""
    import psutil

    return round(psutil.Process().memory_info().rss / (1024 * 1024), 1)


def machine() -> dict[str, Any]:
    """Facts that make a number interpretable later: CPU count, load while measuring, versions."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpus": os.cpu_count(),
        "loadavg_1m": round(load[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }

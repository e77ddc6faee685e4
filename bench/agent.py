"""Router overhead on the 2-core machine: what one conversation turn costs beyond the governed tool call itself.

    .venv/bin/python bench/agent.py --json            # ~2 min
    .venv/bin/python bench/agent.py --json --runs 5

The real graph: the demo network on the Odoo protocol double, the ONNX int8 embedder, the governed executor with
the product's tools, the SQLite conversation store. Each turn's time is split by timing the executor from the
outside: ``overhead = respond() - time inside executor.execute`` — slot extraction against the Odoo catalog,
the query embedding, the intent model, the reply and the session write (``overhead_stages_ms`` splits it, over
all turns of all runs; ``intent`` is the model without the embedding). (The catalog is read from Odoo once at
warm-up and cached for five minutes, like in service; the tool's own Odoo traffic is the tool's time.)

No input repeats: every run takes its own slice of the distinct labelled utterances (dev, test and test2 splits
together), and nothing on the path caches by text. Figures are medians over runs of each run's p50 / p95.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, latency_summary, log, machine, peak_rss_mb
from copilot.config import get_settings
from copilot.evals.agent import load_utterances
from copilot.evals.runner import GOLD_DIR

SPLITS = ("agent_utterances_dev.jsonl", "agent_utterances_test.jsonl", "agent_utterances_test2.jsonl")


class TimedExecutor:
    """The governed executor, with the seconds spent inside ``execute`` counted (everything else delegates)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.seconds = 0.0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self._inner.execute(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def time_stage(obj: Any, method: str, sink: dict[str, float], stage: str) -> None:
    """Wrap ``obj.method`` so the seconds spent in it add to ``sink[stage]`` (a turn's stage breakdown)."""
    inner = getattr(obj, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            sink[stage] = sink.get(stage, 0.0) + time.perf_counter() - t0

    setattr(obj, method, timed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    from copilot.agent.slots import CatalogSource
    from copilot.evals.agent import demo_router
    from copilot.governance.principal import Principal

    texts = list(dict.fromkeys(u["text"] for f in SPLITS for u in load_utterances(GOLD_DIR / f)))
    per_run = len(texts) // args.runs
    base = get_settings()
    with demo_router(base, "copilot-bench-agent-") as (_cp, router, _double, warm_s):
        router.catalog = CatalogSource.fixed(router.catalog.get())  # the 5-minute refresh is not a turn's
        timed = TimedExecutor(router.executor)
        router.executor = timed  # type: ignore[assignment]
        stage: dict[str, float] = {}
        time_stage(router.extractor(), "extract", stage, "slots")
        time_stage(router.classifier.embedder, "embed_query", stage, "embedding")
        time_stage(router.classifier, "predict", stage, "intent")  # includes the embedding
        time_stage(router.sessions, "save", stage, "session_write")
        time_stage(router.sessions, "open", stage, "session_read")
        time_stage(timed._inner.redact, "text", stage, "redact_turn_text")
        stages: dict[str, list[float]] = {}
        admin = Principal(id="bench", name="Bench", role="admin", groups=("all_staff",), sites=("*",))
        runs: list[dict[str, Any]] = []
        for r in range(args.runs):
            chunk = texts[r * per_run : (r + 1) * per_run]
            overhead, total, tool = [], [], []
            for text in chunk:
                timed.seconds = 0.0
                stage.clear()
                t = time.perf_counter()
                router.respond(admin, text, session_id=uuid.uuid4().hex, request_id=uuid.uuid4().hex)
                dt = time.perf_counter() - t
                total.append(dt)
                tool.append(timed.seconds)
                overhead.append(dt - timed.seconds)
                stage["intent"] = stage.get("intent", 0.0) - stage.get("embedding", 0.0)
                for k, v in stage.items():
                    stages.setdefault(k, []).append(v)
            runs.append({"overhead": latency_summary(overhead), "total": latency_summary(total),
                         "tool": latency_summary(tool)})
            log(f"run {r + 1}: {len(chunk)} turns, overhead p95 {runs[-1]['overhead']['p95_ms']} ms")

    def med(part: str, key: str) -> float:
        return round(statistics.median(run[part][key] for run in runs), 3)

    emit({
        "bench": "agent",
        "agent": "router",
        "embedding_backend": base.embedding_backend,
        "turns_per_run": per_run,
        "runs": args.runs,
        "distinct_utterances": len(texts),
        "router_overhead_ms": {"p50": med("overhead", "p50_ms"), "p95": med("overhead", "p95_ms"),
                               "target_p95": 20.0},
        "tool_ms": {"p50": med("tool", "p50_ms"), "p95": med("tool", "p95_ms")},
        "turn_total_ms": {"p50": med("total", "p50_ms"), "p95": med("total", "p95_ms")},
        "overhead_stages_ms": {k: {"p50": round(1000 * statistics.median(v), 3),
                                   "p95": round(1000 * sorted(v)[int(0.95 * (len(v) - 1))], 3)}
                               for k, v in sorted(stages.items())},
        "warm_up_s": round(warm_s, 2),
        "local_model": None,
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
        "per_run": runs,
    }, as_json=args.json)


if __name__ == "__main__":
    main()

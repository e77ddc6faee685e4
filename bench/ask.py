"""In-process ask latency over the demo corpus, with and without caches, fusion modes side by side.

    .venv/bin/python bench/ask.py --json              # ~2 min on the 2-core box
    .venv/bin/python bench/ask.py --json --runs 5

The demo corpus is ingested once (redaction on, ONNX int8 embedder). The questions are every distinct question
of ``evals/gold/demo_qa.jsonl`` and ``evals/gold/demo_staff.jsonl`` (about 300), each asked once per run as
its asker, so no run repeats a question. Configurations, interleaved run by run so a busy machine slows all
alike; each figure is the median over runs of that run's p50 / p95:

* ``uncached``: the answerer's sentence-vector cache holds nothing (``cache_size=0``) and the query normaliser's
  cache is cleared before every question — every sentence and the question are embedded afresh;
* ``cached``: the production caches (sentence vectors, normalised questions), warmed by the previous runs;
* ``uncached_rrf_native``: the baseline before this issue — equal-weight RRF fused by the index in one query —
  uncached as well, to show what the two-query convex fusion costs;
* ``uncached_batched``: uncached, each question's sentences embedded in one batch as before 2026-12-06 (late):
  with the int8 graph a sentence's vector then depends on its batch, so answers depended on the questions
  asked before them. Beside ``uncached`` (each sentence on its own, ``embed_separately``), it shows what
  batch-independent sentence vectors cost or save;
* ``uncached_whole_rows``: uncached, table rows judged as whole rows only (``row_cells=0``, before
  2026-12-07): beside ``uncached`` it shows what embedding each row's cells one at a time costs.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, latency_summary, log, machine
from copilot.config import get_settings
from copilot.evals import runner as R
from copilot.ingest.sources import FolderSource
from copilot.retrieval.answerer import ExtractiveAnswerer
from copilot.retrieval.fusion import FusionConfig
from copilot.types import AccessScope


class _Batched:
    """The embedder, declared batch-invariant: the answerer then embeds a question's sentences in one batch."""

    batch_invariant = True

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name, self.dimension = inner.name, inner.dimension

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._inner, attr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    gold = R.load_demo_gold() + R.load_gold_file(R.GOLD_DIR / "demo_staff.jsonl")
    seen: set[str] = set()
    questions = []
    for g in gold:
        if g["question"] not in seen:
            seen.add(g["question"])
            questions.append((g["question"], tuple(g.get("groups") or ("all_staff",))))
    base = get_settings()
    with tempfile.TemporaryDirectory(prefix="copilot-bench-ask-") as tmp:
        cp = R._build(base, Path(tmp), base.redaction)
        with cp:
            t0 = time.perf_counter()
            cp.ingest(FolderSource(R.DEMO_CORPUS))
            log(f"ingested the demo corpus in {time.perf_counter() - t0:.1f}s; {len(questions)} questions")
            cached_answerer = cp.answerer
            # the site and name rules of the production answerer (``cp.answerer``), in every configuration
            learned = {"sites": cp._indexed_sites, "names": cp._indexed_names}
            uncached_answerer = ExtractiveAnswerer(cp.embedder, cache_size=0, **learned)
            convex = cp.retriever.fusion
            batched_answerer = ExtractiveAnswerer(_Batched(cp.embedder), cache_size=0, **learned)
            whole_rows_answerer = ExtractiveAnswerer(cp.embedder, cache_size=0, row_cells=0, **learned)
            configs: dict[str, tuple[ExtractiveAnswerer, FusionConfig, bool]] = {
                "uncached": (uncached_answerer, convex, True),
                "cached": (cached_answerer, convex, False),
                "uncached_rrf_native": (uncached_answerer, FusionConfig("rrf", 0.5), True),
                "uncached_batched": (batched_answerer, convex, True),
                "uncached_whole_rows": (whole_rows_answerer, convex, True),
            }
            runs: dict[str, list[dict[str, float]]] = {k: [] for k in configs}
            for run in range(args.runs + 1):  # run 0 warms the cached configuration and the process
                for name, (answerer, fusion, clear) in configs.items():
                    cp.answerer_, cp.retriever.fusion = answerer, fusion
                    cp.__dict__["answerer"] = answerer
                    norm = cp.normalizer()
                    lat = []
                    for text, groups in questions:
                        if clear and norm is not None:
                            norm._cache.clear()
                        t = time.perf_counter()
                        cp.ask(text, AccessScope(groups=groups))
                        lat.append(time.perf_counter() - t)
                    if run:
                        runs[name].append(latency_summary(lat))
                        log(f"run {run} {name}: p50 {runs[name][-1]['p50_ms']} ms")
            cp.retriever.fusion = convex
    result: dict[str, Any] = {
        "bench": "ask",
        "questions": len(questions),
        "runs": args.runs,
        "fusion": convex.label(),
        "machine": machine(),
    }
    for name, rows in runs.items():
        result[name] = {
            "p50_ms": round(statistics.median(r["p50_ms"] for r in rows), 2),
            "p95_ms": round(statistics.median(r["p95_ms"] for r in rows), 2),
        }
    result["ratio_uncached_separately_vs_batched"] = round(
        result["uncached"]["p50_ms"] / result["uncached_batched"]["p50_ms"], 3
    )
    result["ratio_uncached_convex_vs_native"] = round(
        result["uncached"]["p50_ms"] / result["uncached_rrf_native"]["p50_ms"], 3
    )
    result["ratio_uncached_row_cells_vs_whole_rows"] = round(
        result["uncached"]["p50_ms"] / result["uncached_whole_rows"]["p50_ms"], 3
    )
    emit(result, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

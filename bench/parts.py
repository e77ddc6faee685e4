"""How often the multi-part splitter splits the load benchmark's questions, and what that costs in query embeddings.

    .venv/bin/python bench/parts.py --json              # the split share over the whole pool (seconds)
    .venv/bin/python bench/parts.py --json --asks 300   # plus in-process asks: query embeddings per request

The pool is ``bench/questions.py``'s (what ``bench/load.py`` draws from). ``split_share`` runs the splitter on the
question alone; with ``--asks N`` the demo corpus is ingested (redaction on, the configured embedder) and the
first N pool questions are asked as an all-staff user, counting every ``embed_query`` call — the figure the
second load round took from cProfile (1.76 a request) — so the retrieved passages' own phrases take part.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, log
from copilot.config import get_settings
from copilot.evals import parts as P
from copilot.evals import runner as R
from copilot.types import AccessScope
from questions import question_pool


def asks(questions: list[str]) -> dict[str, Any]:
    from copilot.ingest.sources import FolderSource

    base = get_settings()
    with tempfile.TemporaryDirectory(prefix="copilot-bench-parts-") as tmp:
        cp = R._build(base, Path(tmp), base.redaction)
        with cp:
            cp.ingest(FolderSource(R.DEMO_CORPUS))
            embedder = cp.embedder
            real = embedder.embed_query
            calls = 0

            def counting(text: str) -> Any:
                nonlocal calls
                calls += 1
                return real(text)

            embedder.embed_query = counting  # type: ignore[method-assign]
            t0 = time.perf_counter()
            for q in questions:
                cp.ask(q, AccessScope(groups=("all_staff",)))
            seconds = time.perf_counter() - t0
    return {
        "asked": len(questions),
        "query_embeddings": calls,
        "query_embeddings_per_request": round(calls / len(questions), 3),
        "ask_ms_mean": round(1000 * seconds / len(questions), 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--asks", type=int, default=0, help="ask this many pool questions in-process (0: none)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    pool = question_pool()
    result: dict[str, Any] = {"bench": "parts", "split_share": P.split_share(pool)}
    if args.asks:
        log(f"asking {args.asks} of {len(pool)} pool questions in-process")
        result["in_process"] = asks(pool[: args.asks])
    emit(result, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

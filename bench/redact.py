"""Redaction throughput: Copilot's redactor vs stock Presidio on the same texts. Prints JSON.

    .venv/bin/python bench/redact.py --json [--short 200 --long 8 --workers 2 --runs 3]

Texts are built from the presidio-synth sentences (PII-dense): short tickets of ~100 words and long reports
of ~5,000 words; each analyzer's span precision and recall on those same texts is reported beside its speed.
``notes`` are the PhysioNet nursing notes of the dev part (clinical shorthand, the clinical profile's rules),
scored by character recall and precision. Stock Presidio runs through its BatchAnalyzerEngine (its fastest path)
with the same spaCy model. No cache sits between runs: every run analyses every text again.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from copilot.evals.physionet import load_notes
from copilot.evals.redaction import (
    GoldSpan,
    Sample,
    copilot_analyzer,
    load_synth,
    score,
    score_chars,
    stock_analyzer,
)


def build_samples(words: int, count: int) -> list[Sample]:
    """Texts of about ``words`` words made of consecutive presidio-synth sentences, with their gold spans moved
    to the joined offsets, so recall is scored on exactly the texts that are timed."""
    sentences = load_synth()
    out, i = [], 0
    for _ in range(count):
        parts: list[str] = []
        gold: list[GoldSpan] = []
        n = pos = 0
        while n < words:
            s = sentences[i % len(sentences)]
            i += 1
            gold.extend(GoldSpan(g.start + pos, g.end + pos, g.category) for g in s.gold)
            parts.append(s.text)
            pos += len(s.text) + 1
            n += len(s.text.split())
        out.append(Sample(" ".join(parts), tuple(gold)))
    return out


def measure(
    analyzers: dict[str, Callable[[Sequence[str]], Any]], texts: list[str], runs: int
) -> dict[str, dict[str, Any]]:
    """Median over ``runs`` timed runs per analyzer, runs interleaved (A B A B ...) so that load from anything
    else on the machine falls on every analyzer alike; one untimed warm-up call each first."""
    for analyze in analyzers.values():
        # An e-mail in the warm-up: stock Presidio's first e-mail validation tries to download the public-suffix
        # list, a one-off cost per process that must not land inside its timed runs.
        analyze([*texts[:2], "write to jane.doe@example.com"])
    times: dict[str, list[float]] = {name: [] for name in analyzers}
    for _ in range(runs):
        for name, analyze in analyzers.items():
            t0 = time.perf_counter()
            analyze(texts)
            times[name].append(time.perf_counter() - t0)
    chars = sum(len(t) for t in texts)
    out = {}
    for name, ts in times.items():
        med = statistics.median(ts)
        out[name] = {
            "seconds_median": round(med, 3),
            "seconds_runs": [round(t, 3) for t in ts],
            "chars_per_s": round(chars / med),
            "texts_per_s": round(len(texts) / med, 2),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--short", type=int, default=200)
    ap.add_argument("--long", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)

    samples = {"short": build_samples(100, args.short), "long": build_samples(5000, args.long)}
    short, long_ = [s.text for s in samples["short"]], [s.text for s in samples["long"]]
    notes = load_notes("dev")
    note_texts = [n.text for n in notes]
    note_gold = [[(g.start, g.end, g.category) for g in n.gold] for n in notes]
    from copilot.ingest.redaction import PresidioRedactor, RedactionConfig

    report: dict[str, Any] = {
        "short_texts": len(short),
        "long_texts": len(long_),
        "short_chars": sum(map(len, short)),
        "long_chars": sum(map(len, long_)),
        "notes": len(note_texts),
        "notes_chars": sum(map(len, note_texts)),
    }
    analyzers: dict[str, Callable[[Sequence[str]], Any]] = {
        "stock": stock_analyzer(),
        "copilot": copilot_analyzer(),
    }
    par = None
    if args.workers > 1:
        par = PresidioRedactor(RedactionConfig(workers=args.workers, parallel_min_chars=0))
        par.start_workers()  # every worker loads spaCy outside the timing, as the server does at start
        analyzers[f"copilot_{args.workers}_workers"] = par.analyze_batch
    for size, texts in (("short", short), ("long", long_), ("notes", note_texts)):
        for name, res in measure(analyzers, texts, args.runs).items():
            # Recall on these very texts: a speed-up counts only at equal or better recall.
            if size == "notes":
                chars = score_chars(texts, note_gold, analyzers[name](texts))["char"]
                res["char_precision"], res["char_recall"] = chars["precision"], chars["recall"]
            else:
                scored = score(samples[size], analyzers[name](texts))["overall"]
                res["precision"], res["recall"] = scored["precision"], scored["recall"]
            report.setdefault(name, {})[size] = res
    if par is not None:
        par.close()
    for key in [k for k in report if k.startswith("copilot")]:
        report[key]["speedup_vs_stock"] = {
            size: round(report[key][size]["chars_per_s"] / report["stock"][size]["chars_per_s"], 2)
            for size in ("short", "long", "notes")
        }
    report["peak_rss_mb"] = {
        # the main process holds stock Presidio, the one-process redactor and the texts
        "main": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # RUSAGE_CHILDREN's maximum is the largest single worker's peak, i.e. the peak per worker
        "per_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }
    print(json.dumps(report, indent=2 if not args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Embedding backends side by side: torch (sentence-transformers) vs ONNX Runtime int8, in one process.

Measures, per backend: warm-up time, RSS, throughput at ~256- and ~128-word-piece chunks (batch 32, median
of N runs, backends interleaved so a busy machine slows both alike), cosine agreement of int8 with torch, and
retrieval quality (Recall@5, MRR@10) on slices of PolicyQA and COVID-QA with brute-force cosine search.

Usage::

    .venv/bin/python bench/embed.py --json                 # ~5-10 min on the 2-core box
    .venv/bin/python bench/embed.py --json --questions 100 # quick look

Prints one JSON object. Numbers depend on the CPU and on what else runs: ``machine.loadavg_*`` says how busy
the box was.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from copilot.retrieval.embedder import OnnxInt8Embedder, SentenceTransformerEmbedder, default_model_path

DEFAULT_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
POLICYQA = Path("qa_policyqa") / "dev.json"
COVIDQA = Path("qa_covidqa") / "200423_covidQA.json"

Embedder = SentenceTransformerEmbedder | OnnxInt8Embedder


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def raw_tokenizer() -> Any:
    """The model's fast tokenizer, truncation and fixed padding off (we cut the windows ourselves)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(default_model_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def windows(text: str, tok: Any, size: int, stride: int) -> list[tuple[int, int]]:
    """Character spans of consecutive ``size``-word-piece windows (``stride`` apart) over ``text``."""
    offsets = [o for o in tok.encode(text, add_special_tokens=False).offsets]
    if not offsets:
        return []
    spans = []
    for start in range(0, len(offsets), stride):
        piece = offsets[start : start + size]
        spans.append((piece[0][0], piece[-1][1]))
        if start + size >= len(offsets):
            break
    return spans


# ------------------------------------------------------------------------------------------- datasets


@dataclass
class RetrievalSet:
    name: str
    passages: list[str]
    queries: list[str]
    gold: list[set[int]]
    skipped: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "passages": len(self.passages),
            "questions": len(self.queries),
            "skipped_questions": self.skipped,
        }


def load_policyqa(root: Path, n_questions: int, seed: int) -> RetrievalSet:
    """Every paragraph context is a passage (identical contexts merged); gold = the question's paragraph."""
    data = json.loads((root / POLICYQA).read_text())["data"]
    passage_id: dict[str, int] = {}
    qas: list[tuple[str, int]] = []
    for article in data:
        for para in article["paragraphs"]:
            pid = passage_id.setdefault(para["context"], len(passage_id))
            qas.extend((qa["question"], pid) for qa in para["qas"] if qa.get("answers"))
    picked = random.Random(seed).sample(qas, min(n_questions, len(qas)))
    return RetrievalSet(
        "policyqa",
        passages=list(passage_id),
        queries=[q for q, _ in picked],
        gold=[{pid} for _, pid in picked],
    )


def _answer_start(context: str, text: str, hint: int) -> int | None:
    """The occurrence of the answer nearest its recorded offset (~234 COVID-QA offsets are off by one)."""
    hits, at = [], context.find(text)
    while at != -1:
        hits.append(at)
        at = context.find(text, at + 1)
    return min(hits, key=lambda h: abs(h - hint)) if hits else None


def load_covidqa(root: Path, n_questions: int, seed: int, tok: Any, size: int = 200, stride: int = 150) -> RetrievalSet:
    """Articles split into ~200-word-piece passages (50 overlap); gold = passages containing the answer text.

    Whole articles are taken in a seeded order until ``n_questions`` questions are covered, so every gold
    passage of a chosen question is in the index together with its neighbours (the hard negatives).
    """
    data = json.loads((root / COVIDQA).read_text())["data"]
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    out = RetrievalSet("covidqa", [], [], [])
    for i in order:
        if len(out.queries) >= n_questions:
            break
        for para in data[i]["paragraphs"]:
            context = para["context"]
            spans = windows(context, tok, size, stride)
            first = len(out.passages)
            out.passages.extend(context[a:b] for a, b in spans)
            for qa in para["qas"]:
                if len(out.queries) >= n_questions or not qa.get("answers"):
                    continue
                ans = qa["answers"][0]
                text = ans["text"].strip()
                start = _answer_start(context, text, int(ans.get("answer_start", 0))) if text else None
                if start is None:
                    out.skipped += 1
                    continue
                end = start + len(text)
                gold = {first + k for k, (a, b) in enumerate(spans) if a <= start and end <= b}
                if not gold:  # an answer longer than the overlap: the passage(s) where it starts
                    gold = {first + k for k, (a, b) in enumerate(spans) if a <= start < b}
                if not gold:
                    out.skipped += 1
                    continue
                out.queries.append(qa["question"])
                out.gold.append(gold)
    return out


def retrieval_quality(emb: Embedder, ds: RetrievalSet) -> dict[str, Any]:
    """Recall@5 and MRR@10; ``hits_at_5`` (per question) feeds the paired comparison, not the output."""
    started = time.perf_counter()
    p = emb.embed_documents(ds.passages)
    q = emb.embed_documents(ds.queries)
    scores = q @ p.T
    top = np.argsort(-scores, axis=1)[:, :10]
    hits: list[bool] = []
    rr = 0.0
    for row, gold in zip(top, ds.gold, strict=True):
        ranks = [r for r, pid in enumerate(row) if int(pid) in gold]
        hits.append(bool(ranks) and ranks[0] < 5)
        if ranks:
            rr += 1 / (ranks[0] + 1)
    n = len(ds.queries)
    return {
        "hits_at_5": hits,
        "recall_at_5": round(sum(hits) / n, 4),
        "mrr_at_10": round(rr / n, 4),
        "seconds": round(time.perf_counter() - started, 1),
    }


# ---------------------------------------------------------------------------------------------- speed


def make_chunks(root: Path, tok: Any, n: int, words: int) -> list[str]:
    """``n`` chunks of ``words`` word pieces each, cut from COVID-QA article text (real prose)."""
    data = json.loads((root / COVIDQA).read_text())["data"]
    chunks: list[str] = []
    for article in data:
        context = article["paragraphs"][0]["context"]
        for a, b in windows(context, tok, words, words):
            if len(chunks) >= n:
                return chunks
            if len(tok.encode(context[a:b], add_special_tokens=False).ids) >= words - 2:
                chunks.append(context[a:b])
    return chunks


def throughput(embedders: dict[str, Embedder], chunks: list[str], runs: int) -> dict[str, dict[str, Any]]:
    """Median chunks/s over ``runs`` passes per backend, the backends interleaved pass by pass."""
    for emb in embedders.values():
        emb.embed_documents(chunks[:32])  # first-call allocations out of the timing
    times: dict[str, list[float]] = {name: [] for name in embedders}
    for _ in range(runs):
        for name, emb in embedders.items():
            t = time.perf_counter()
            emb.embed_documents(chunks)
            times[name].append(time.perf_counter() - t)
    return {
        name: {
            "chunks_per_s": round(len(chunks) / statistics.median(ts), 1),
            "runs_chunks_per_s": [round(len(chunks) / t, 1) for t in ts],
        }
        for name, ts in times.items()
    }


# ------------------------------------------------------------------------------------------------ main


def cpu_info() -> dict[str, Any]:
    flags: set[str] = set()
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "avx2": "avx2" in flags,
        "avx512_vnni": "avx512_vnni" in flags,
        "avx_vnni": "avx_vnni" in flags,
    }


def paired_sign_test(a: list[bool], b: list[bool]) -> dict[str, Any]:
    """Questions only one backend gets right (in the top 5), and the exact two-sided sign-test p-value:
    tells a real quality loss from a handful of coin-flip questions."""
    only_a = sum(x and not y for x, y in zip(a, b, strict=True))
    only_b = sum(y and not x for x, y in zip(a, b, strict=True))
    n, k = only_a + only_b, min(only_a, only_b)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0
    return {"only_torch": only_a, "only_onnx_int8": only_b, "sign_test_p": round(p, 3)}


def recommend(result: dict[str, Any]) -> dict[str, Any]:
    """onnx-int8 only if it is clearly faster and retrieval quality holds on both datasets: a Recall@5 drop
    of at most 0.01, or at most 0.02 when the paired sign test cannot tell it from noise (p >= 0.05)."""
    speed = result["throughput"]
    speedups = [speed[k]["onnx-int8"]["chunks_per_s"] / speed[k]["torch"]["chunks_per_s"] for k in speed]
    q = result["retrieval"]
    drops = {
        ds: round(q[ds]["torch"]["recall_at_5"] - q[ds]["onnx-int8"]["recall_at_5"], 4) for ds in q if ds != "datasets"
    }
    paired = {ds: q[ds]["paired_recall_at_5"] for ds in drops}
    faster = min(speedups) >= 1.15
    holds = all(d <= 0.01 or (d <= 0.02 and paired[ds]["sign_test_p"] >= 0.05) for ds, d in drops.items())
    same_quality = holds and result["agreement"]["mean_cosine"] >= 0.97
    backend = "onnx-int8" if faster and same_quality else "torch"
    why = (
        f"onnx-int8 is {min(speedups):.2f}-{max(speedups):.2f}x torch's throughput; "
        f"Recall@5 drop vs torch {drops} (paired sign test {paired}); "
        f"mean cosine {result['agreement']['mean_cosine']}"
    )
    return {
        "default_backend": backend,
        "speedup_range": [round(min(speedups), 2), round(max(speedups), 2)],
        "recall_at_5_drop": drops,
        "reason": why,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print compact JSON (default: indented)")
    ap.add_argument("--questions", type=int, default=500, help="questions per retrieval dataset")
    ap.add_argument("--runs", type=int, default=3, help="timed passes per backend and chunk size")
    ap.add_argument("--chunks", type=int, default=64, help="chunks per timed pass (batch size 32)")
    ap.add_argument("--cache-dir", type=Path, default=Path(".copilot") / "models", help="ONNX cache")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS, help="the shared datasets folder")
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result: dict[str, Any] = {"machine": {**cpu_info(), "loadavg_start": os.getloadavg()[0]}}
    base_rss = rss_mb()

    # ONNX first, so its load time and RSS are measured without torch in the process.
    load: dict[str, dict[str, Any]] = {}
    t = time.perf_counter()
    onnx = OnnxInt8Embedder(cache_dir=args.cache_dir, batch_size=32)
    onnx.warm_up()
    onnx_load = time.perf_counter() - t
    if onnx.build_seconds is not None:  # first run built the graph (and imported torch): time a clean load
        t = time.perf_counter()
        onnx = OnnxInt8Embedder(cache_dir=args.cache_dir, batch_size=32)
        onnx.warm_up()
        onnx_load = time.perf_counter() - t
    load["onnx-int8"] = {
        "warm_up_s": round(onnx_load, 2),
        "export_and_quantise_s": None if onnx.build_seconds is None else round(onnx.build_seconds, 1),
        "rss_after_load_mb": round(rss_mb(), 0),
        "rss_added_mb": round(rss_mb() - base_rss, 0),
        "onnx_file_mb": round(onnx.onnx_path.stat().st_size / 2**20, 1) if onnx.onnx_path else None,
    }
    before = rss_mb()
    t = time.perf_counter()
    st = SentenceTransformerEmbedder(batch_size=32)
    st.warm_up()
    load["torch"] = {
        "warm_up_s": round(time.perf_counter() - t, 2),
        "rss_after_load_mb": round(rss_mb(), 0),
        "rss_added_mb": round(rss_mb() - before, 0),
    }
    result["load"] = load
    embedders: dict[str, Embedder] = {"torch": st, "onnx-int8": onnx}

    tok = raw_tokenizer()
    result["throughput"] = {}
    for words in (254, 126):  # + [CLS]/[SEP] = 256 / 128 word pieces
        chunks = make_chunks(args.datasets, tok, args.chunks, words)
        result["throughput"][f"{words + 2}_tokens"] = throughput(embedders, chunks, args.runs)
    result["throughput_batch_size"] = 32

    sample = make_chunks(args.datasets, tok, 64, 254) + make_chunks(args.datasets, tok, 64, 60)
    cos = (st.embed_documents(sample) * onnx.embed_documents(sample)).sum(axis=1)
    result["agreement"] = {
        "texts": len(sample),
        "mean_cosine": round(float(cos.mean()), 4),
        "min_cosine": round(float(cos.min()), 4),
    }

    sets = [
        load_policyqa(args.datasets, args.questions, args.seed),
        load_covidqa(args.datasets, args.questions, args.seed, tok),
    ]
    retrieval: dict[str, Any] = {"datasets": {ds.name: ds.describe() for ds in sets}}
    for ds in sets:
        per = {name: retrieval_quality(emb, ds) for name, emb in embedders.items()}
        hits = {name: r.pop("hits_at_5") for name, r in per.items()}
        retrieval[ds.name] = {**per, "paired_recall_at_5": paired_sign_test(hits["torch"], hits["onnx-int8"])}
    result["retrieval"] = retrieval

    result["peak_rss_mb"] = round(peak_rss_mb(), 0)
    result["machine"]["loadavg_end"] = os.getloadavg()[0]
    result["recommendation"] = recommend(result)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

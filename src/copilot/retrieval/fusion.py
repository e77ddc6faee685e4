"""Hybrid fusion of the dense and the lexical (BM25) result lists.

Equal-weight reciprocal rank fusion (RRF) — what the index does in one query — can rank below the better of its
two inputs when one side is weak: on COVID-QA the general-purpose dense model drags hybrid below BM25 alone. The
fusion here works on the two lists the index returns (each with the caller's ACL filter inside its own vector
query) and is chosen by measurement (``copilot eval fusion``: selected on dev splits of COVID-QA, PolicyQA and the
demo, reported on their test splits):

- ``rrf``: weighted reciprocal rank fusion, ``w / (k + rank_dense) + (1 - w) / (k + rank_sparse)``;
- ``convex``: a convex combination of the min-max normalised scores, ``w * dense + (1 - w) * sparse`` (a
  candidate missing from one list scores 0 there) — Bruch et al. (2023) found it beats RRF when tuned;
- ``rescore``: the lexical candidates re-ranked by ``w * dense`` similarity ``+ (1 - w) * bm25`` (normalised),
  dense-only candidates appended — the dense side can only reorder what BM25 found;
- ``adaptive``: ``convex`` with a per-query weight: each side's weight is scaled by how clearly its top result
  stands out from the rest of its top 10 (a flat list is a side that does not know), so the query itself says
  which side to trust.

Usage::

    fused = fuse(dense_hits, sparse_hits, FusionConfig("convex", dense_weight=0.4), limit=8)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from copilot.types import Hit

FusionMethod = Literal["rrf", "convex", "rescore", "adaptive"]


@dataclass(frozen=True)
class FusionConfig:
    method: FusionMethod = "rrf"
    dense_weight: float = 0.5
    rrf_k: int = 60

    @property
    def native(self) -> bool:
        """Equal-weight RRF is what the index computes itself in one query."""
        return self.method == "rrf" and self.dense_weight == 0.5

    def label(self) -> str:
        return f"{self.method}(w_dense={self.dense_weight:g}" + (f", k={self.rrf_k})" if self.method == "rrf" else ")")


def _minmax(hits: Sequence[Hit]) -> dict[str, float]:
    if not hits:
        return {}
    scores = [h.score for h in hits]
    lo, hi = min(scores), max(scores)
    span = hi - lo
    return {h.point_id: (h.score - lo) / span if span > 0 else 1.0 for h in hits}


def _peak(hits: Sequence[Hit], norm: dict[str, float], depth: int = 10) -> float:
    """How far the top result stands above the rest of the top ``depth`` (0: a flat list)."""
    rest = [norm[h.point_id] for h in hits[1:depth]]
    return 1.0 - sum(rest) / len(rest) if rest else 0.0


def fuse(dense: Sequence[Hit], sparse: Sequence[Hit], cfg: FusionConfig, limit: int) -> list[Hit]:
    """The fused top ``limit`` of two ranked lists (each best first); the returned hits carry the fused score."""
    by_id: dict[str, Hit] = {}
    for h in (*dense, *sparse):
        by_id.setdefault(h.point_id, h)
    w = cfg.dense_weight
    scores: dict[str, float] = {}
    if cfg.method == "rrf":
        for weight, hits in ((w, dense), (1.0 - w, sparse)):
            for rank, h in enumerate(hits, start=1):
                scores[h.point_id] = scores.get(h.point_id, 0.0) + weight / (cfg.rrf_k + rank)
    elif cfg.method == "convex":
        d, s = _minmax(dense), _minmax(sparse)
        for pid in by_id:
            scores[pid] = w * d.get(pid, 0.0) + (1.0 - w) * s.get(pid, 0.0)
    elif cfg.method == "adaptive":
        d, s = _minmax(dense), _minmax(sparse)
        cd, cs = _peak(dense, d), _peak(sparse, s)
        wq = w * cd / (w * cd + (1.0 - w) * cs) if (w * cd + (1.0 - w) * cs) > 0 else w
        for pid in by_id:
            scores[pid] = wq * d.get(pid, 0.0) + (1.0 - wq) * s.get(pid, 0.0)
    elif cfg.method == "rescore":
        d, s = _minmax(dense), _minmax(sparse)
        for h in sparse:
            scores[h.point_id] = 1.0 + w * d.get(h.point_id, 0.0) + (1.0 - w) * s[h.point_id]
        for h in dense:
            scores.setdefault(h.point_id, w * d[h.point_id])  # below every lexical candidate
    else:
        raise ValueError(f"unknown fusion method {cfg.method!r}")
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))[:limit]
    d_rank = {h.point_id: r for r, h in enumerate(dense, start=1)}
    s_rank = {h.point_id: r for r, h in enumerate(sparse, start=1)}
    return [
        replace(by_id[pid], score=scores[pid], dense_rank=d_rank.get(pid), sparse_rank=s_rank.get(pid))
        for pid in order
    ]

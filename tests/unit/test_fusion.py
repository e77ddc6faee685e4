"""Hybrid fusion of dense and BM25 lists, and the retriever that applies it with the ACL in each query."""

from __future__ import annotations

import pytest

from copilot.retrieval.fusion import FusionConfig, fuse
from copilot.retrieval.search import Retriever
from copilot.types import AccessScope, Chunk, Hit, SearchMode, SearchRequest, SparseVector

pytestmark = pytest.mark.unit


def _hit(pid: str, score: float) -> Hit:
    chunk = Chunk(doc_id=f"d:{pid}", ordinal=0, text=pid, title=pid, section="", page_start=None, page_end=None,
                  source_url="", doc_type="sop", site=None, department=None, acl_groups=("all_staff",),
                  checksum="x")
    return Hit(point_id=pid, score=score, chunk=chunk)


DENSE = [_hit("a", 0.9), _hit("b", 0.8), _hit("c", 0.3)]
SPARSE = [_hit("c", 12.0), _hit("d", 6.0), _hit("a", 1.0)]


def ids(hits: list[Hit]) -> list[str]:
    return [h.point_id for h in hits]


def test_equal_rrf_rewards_agreement() -> None:
    assert ids(fuse(DENSE, SPARSE, FusionConfig("rrf", 0.5), 4))[:2] == ["a", "c"]


def test_weights_move_the_result_towards_one_side() -> None:
    assert ids(fuse(DENSE, SPARSE, FusionConfig("convex", 0.9), 4))[0] == "a"
    assert ids(fuse(DENSE, SPARSE, FusionConfig("convex", 0.1), 4))[0] == "c"
    assert ids(fuse(DENSE, SPARSE, FusionConfig("rrf", 0.1), 4))[0] == "c"


def test_convex_scores_are_min_max_normalised() -> None:
    got = {h.point_id: h.score for h in fuse(DENSE, SPARSE, FusionConfig("convex", 0.5), 4)}
    assert got["c"] == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)  # dense min, sparse max
    assert got["b"] == pytest.approx(0.5 * (0.5 / 0.6))  # missing from BM25: 0 there


def test_rescore_keeps_lexical_candidates_first() -> None:
    assert ids(fuse(DENSE, SPARSE, FusionConfig("rescore", 0.9), 4)) == ["a", "c", "d", "b"]


def test_limit_and_empty_lists() -> None:
    assert len(fuse(DENSE, SPARSE, FusionConfig("convex", 0.4), 2)) == 2
    assert ids(fuse([], SPARSE, FusionConfig("convex", 0.4), 5)) == ["c", "d", "a"]
    assert fuse([], [], FusionConfig(), 5) == []


class _RecordingIndex:
    def __init__(self) -> None:
        self.requests: list[SearchRequest] = []

    def search(self, request: SearchRequest) -> list[Hit]:
        self.requests.append(request)
        return DENSE if request.mode is SearchMode.DENSE else SPARSE if request.mode is SearchMode.SPARSE else []


class _Embedder:
    def embed_query(self, text: str):
        import numpy as np

        return np.ones(4, dtype=np.float32)


class _Sparse:
    def embed_query(self, text: str) -> SparseVector:
        return SparseVector(indices=(1, 2), values=(1.0, 1.0))


def test_retriever_fuses_two_filtered_queries() -> None:
    index = _RecordingIndex()
    retriever = Retriever(_Embedder(), _Sparse(), index, prefetch_limit=30,  # type: ignore[arg-type]
                          fusion=FusionConfig("convex", 0.4))
    scope = AccessScope(groups=("nursing",))
    hits = retriever.search("pump interval", scope, limit=2)
    assert [r.mode for r in index.requests] == [SearchMode.DENSE, SearchMode.SPARSE]
    assert all(r.scope == scope and r.limit == 30 for r in index.requests)  # the ACL travels into each query
    assert len(hits) == 2


def test_retriever_lets_the_index_fuse_equal_rrf() -> None:
    index = _RecordingIndex()
    Retriever(_Embedder(), _Sparse(), index).search("x", AccessScope.admin())  # type: ignore[arg-type]
    assert [r.mode for r in index.requests] == [SearchMode.HYBRID]


def test_fused_hits_remember_their_ranks_in_each_list() -> None:
    fused = {h.point_id: h for h in fuse(DENSE, SPARSE, FusionConfig("convex", 0.4), 4)}
    assert (fused["a"].dense_rank, fused["a"].sparse_rank) == (1, 3)
    assert (fused["d"].dense_rank, fused["d"].sparse_rank) == (None, 2)

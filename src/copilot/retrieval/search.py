"""Query-side retrieval: embed the question (dense + BM25) and run one filtered hybrid query.

The caller's :class:`~copilot.types.AccessScope` travels into the vector query itself; nothing is filtered after.

Usage::

    retriever = Retriever(embedder, sparse_encoder, index)
    hits = retriever.search("PM interval for infusion pumps?", AccessScope(groups=("nursing",)))
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from copilot.protocols import Embedder, SparseEncoder, VectorIndex
from copilot.retrieval.fusion import FusionConfig, fuse
from copilot.types import AccessScope, Hit, SearchMode, SearchRequest


class Retriever:
    def __init__(
        self,
        embedder: Embedder,
        sparse: SparseEncoder,
        index: VectorIndex,
        *,
        prefetch_limit: int = 50,
        fusion: FusionConfig | None = None,
    ) -> None:
        self.embedder = embedder
        self.sparse = sparse
        self.index = index
        self.prefetch_limit = prefetch_limit
        self.fusion = fusion or FusionConfig()

    def search(
        self,
        query: str,
        scope: AccessScope,
        *,
        mode: SearchMode = SearchMode.HYBRID,
        limit: int = 8,
        filters: dict[str, str] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """``query_vector``: the query's dense embedding if the caller already made it (it is reused)."""
        if mode is SearchMode.SPARSE:
            dense = None
        else:
            dense = (query_vector if query_vector is not None else self.embedder.embed_query(query)).tolist()
        sparse = self.sparse.embed_query(query) if mode is not SearchMode.DENSE else None
        request = SearchRequest(
            scope=scope,
            dense=dense,
            sparse=sparse,
            mode=mode,
            limit=limit,
            filters=dict(filters or {}),
            prefetch_limit=max(self.prefetch_limit, limit),
        )
        if mode is not SearchMode.HYBRID or self.fusion.native or not (sparse and sparse.indices):
            return self.index.search(request)  # the index fuses equal-weight RRF itself, in one query
        # Two filtered queries (the ACL filter sits inside each), fused here as measured by `eval fusion`.
        depth = request.prefetch_limit
        dense_hits = self.index.search(replace(request, mode=SearchMode.DENSE, limit=depth))
        sparse_hits = self.index.search(replace(request, mode=SearchMode.SPARSE, limit=depth))
        return fuse(dense_hits, sparse_hits, self.fusion, limit)

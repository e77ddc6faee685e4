"""Choose the vector index shape from settings, and the query semantics both shapes share.

Embedded Qdrant Edge at ``settings.qdrant_path`` by default; a Qdrant server (or cluster) through
qdrant-client when ``COPILOT_QDRANT_URL`` is set. The adapters are imported lazily so the embedded default
never imports qdrant-client (and the server shape never loads the Edge engine).

The ACL and filter rules live here, once, as plain data, so the two adapters cannot drift apart: each adapter
only translates a :class:`FilterPlan` into its own filter objects.

Usage::

    index = build_index(get_settings(), dimension=embedder.dimension)
    index.open()
"""

from __future__ import annotations

from dataclasses import dataclass

from copilot.config import Settings
from copilot.errors import ValidationError
from copilot.protocols import VectorIndex
from copilot.types import AccessScope, Chunk, SearchMode, SearchRequest

DENSE_VECTOR = "dense"
SPARSE_VECTOR = "bm25"

# Keyword payload indexes: the ACL filter and the common exact-match filters.
KEYWORD_INDEXES: tuple[str, ...] = ("acl_groups", "doc_type", "site", "doc_id", "department")

# Payload fields a caller may filter on exactly (``SearchRequest.filters``). Anything else is a typo that
# would silently match nothing, so it is refused.
FILTERABLE_FIELDS: frozenset[str] = frozenset(
    {"doc_id", "doc_type", "site", "department", "title", "section", "source_url", "checksum"}
)

DEFAULT_RRF_K = 60
"""RRF constant shared by both shapes (score = sum 1/(k + rank)); 60 is the value of Cormack et al. and keeps
one list's top hit from drowning the other list."""


@dataclass(frozen=True)
class FilterPlan:
    """What a search may see, independent of any Qdrant client.

    ``match_nothing``: skip the query (a non-admin without groups sees nothing). ``acl_any``: the chunk's
    ``acl_groups`` must contain one of these (``None`` for admins: no ACL condition). ``exact``: extra
    keyword equality conditions.
    """

    match_nothing: bool
    acl_any: tuple[str, ...] | None
    exact: tuple[tuple[str, str], ...]

    @property
    def is_empty(self) -> bool:
        return self.acl_any is None and not self.exact


def plan_filter(scope: AccessScope, filters: dict[str, str]) -> FilterPlan:
    """Reduce a caller's scope and extra filters to a :class:`FilterPlan` (fail closed).

    Non-admins match chunks whose ``acl_groups`` contains any of their groups; chunks with no ACL groups
    therefore match no non-admin. Admins are unfiltered by ACL.
    """
    unknown = sorted(set(filters) - FILTERABLE_FIELDS)
    if unknown:
        raise ValidationError(f"unknown filter field(s) {unknown}; allowed: {sorted(FILTERABLE_FIELDS)}")
    exact = tuple(sorted((k, str(v)) for k, v in filters.items()))
    if scope.is_admin:
        return FilterPlan(match_nothing=False, acl_any=None, exact=exact)
    groups = tuple(sorted({g for g in scope.groups if g}))
    return FilterPlan(match_nothing=not groups, acl_any=groups, exact=exact)


def check_request(request: SearchRequest, dimension: int) -> None:
    """Refuse a request whose vectors do not fit its mode (a bug in the caller, not a user error)."""
    needs_dense = request.mode in (SearchMode.DENSE, SearchMode.HYBRID)
    needs_sparse = request.mode in (SearchMode.SPARSE, SearchMode.HYBRID)
    if needs_dense and request.dense is None:
        raise ValidationError(f"{request.mode.value} search needs a dense query vector")
    if needs_sparse and request.sparse is None:
        raise ValidationError(f"{request.mode.value} search needs a sparse query vector")
    if request.dense is not None and len(request.dense) != dimension:
        raise ValidationError(f"query vector has dimension {len(request.dense)}, index has {dimension}")
    if request.limit < 1:
        raise ValidationError("limit must be at least 1")


def chunk_from_payload(payload: dict[str, object] | None) -> Chunk:
    """A stored payload back to a :class:`Chunk` (both adapters store :meth:`Chunk.payload`)."""
    return Chunk.from_payload(dict(payload or {}))


def build_index(settings: Settings, dimension: int) -> VectorIndex:
    """The configured index, not yet opened: ``open()`` is where files get locked or sockets made."""
    if settings.qdrant_url:
        from copilot.retrieval.index_qdrant import QdrantServerIndex

        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return QdrantServerIndex(
            url=settings.qdrant_url,
            api_key=api_key,
            collection=settings.qdrant_collection,
            dimension=dimension,
            shards=settings.qdrant_shards,
            replicas=settings.qdrant_replicas,
        )
    from copilot.retrieval.index_edge import EdgeIndex

    return EdgeIndex(settings.qdrant_path, dimension, hnsw_threshold=settings.hnsw_threshold)

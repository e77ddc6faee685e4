"""The scale-out index: a Qdrant server or cluster through qdrant-client (same schema and semantics as Edge).

Also runs against qdrant-client's local mode (``location=":memory:"`` or ``path=...``), which speaks the same
API: the contract tests use it. Local mode is a pure-Python engine and far slower than Edge at scale (see
``bench/query.py``), so it is a test double and a baseline, never the embedded default.

qdrant-client types never leave this module: requests come in as :class:`copilot.types.SearchRequest`, hits go
out as :class:`copilot.types.Hit`.

Usage::

    index = QdrantServerIndex(url="http://qdrant:6333", api_key=key, dimension=384, shards=3, replicas=2)
    index.open()   # connects, creates the collection and payload indexes if missing
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from copilot.errors import IndexError_, IndexLockedError
from copilot.retrieval.index_factory import (
    DEFAULT_RRF_K,
    DENSE_VECTOR,
    KEYWORD_INDEXES,
    SPARSE_VECTOR,
    FilterPlan,
    check_request,
    chunk_from_payload,
    plan_filter,
)
from copilot.types import Chunk, Hit, IndexedChunk, SearchMode, SearchRequest, SparseVector

if TYPE_CHECKING:
    from qdrant_client import QdrantClient
    from qdrant_client import models as qm

T = TypeVar("T")


class QdrantServerIndex:
    """:class:`copilot.protocols.VectorIndex` over a Qdrant collection reached through qdrant-client.

    Exactly one of ``url`` (server), ``path`` (local on-disk mode) or ``location`` (``":memory:"``) is used;
    with none given, ``":memory:"``. ``shards``/``replicas`` apply when the collection is created.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        location: str | None = None,
        path: str | None = None,
        api_key: str | None = None,
        collection: str = "copilot",
        dimension: int = 384,
        shards: int = 1,
        replicas: int = 1,
        timeout: float = 10.0,
        rrf_k: int = DEFAULT_RRF_K,
    ) -> None:
        if sum(x is not None for x in (url, location, path)) > 1:
            raise ValueError("give one of url, location or path")
        self.url = url
        self.location = location if (location or url or path) else ":memory:"
        self.path = path
        self._api_key = api_key
        self.collection = collection
        self.dimension = dimension
        self.shards = shards
        self.replicas = replicas
        self.timeout = timeout
        self.rrf_k = rrf_k
        self._client: QdrantClient | None = None

    @property
    def where(self) -> str:
        """Where the collection lives, for messages (never includes the API key)."""
        return self.url or self.path or self.location or "?"

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        """Connect and make sure the collection and its payload indexes exist."""
        if self._client is not None:
            return
        from qdrant_client import QdrantClient
        from qdrant_client import models as qm

        try:
            if self.url:
                client = QdrantClient(url=self.url, api_key=self._api_key, timeout=int(self.timeout))
            elif self.path:
                client = QdrantClient(path=self.path)
            else:
                client = QdrantClient(location=self.location)
        except Exception as exc:
            raise _translate(exc, f"could not open Qdrant at {self.where}") from exc
        self._client = client
        try:
            self._call("open the collection", lambda: self._ensure_collection(client, qm))
        except Exception:
            self._client = None
            client.close()
            raise

    def _ensure_collection(self, client: QdrantClient, qm: Any) -> None:
        if not client.collection_exists(self.collection):
            client.create_collection(
                self.collection,
                vectors_config={
                    DENSE_VECTOR: qm.VectorParams(size=self.dimension, distance=qm.Distance.COSINE)
                },
                sparse_vectors_config={SPARSE_VECTOR: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
                shard_number=self.shards,
                replication_factor=self.replicas,
            )
        else:
            info = client.get_collection(self.collection)
            vectors = info.config.params.vectors
            dense = vectors.get(DENSE_VECTOR) if isinstance(vectors, dict) else None
            if dense is None or dense.size != self.dimension:
                raise IndexError_(
                    f"collection {self.collection!r} at {self.where} does not have a {self.dimension}-d "
                    f"{DENSE_VECTOR!r} vector", code="index_incompatible")
        with warnings.catch_warnings():
            # local mode warns that payload indexes are no-ops there; servers use them
            warnings.simplefilter("ignore", UserWarning)
            for field in KEYWORD_INDEXES:
                client.create_payload_index(self.collection, field, qm.PayloadSchemaType.KEYWORD)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> QdrantServerIndex:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require(self) -> QdrantClient:
        if self._client is None:
            raise IndexError_(f"the index at {self.where} is not open (call open())", code="index_closed")
        return self._client

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except IndexError_:
            raise
        except Exception as exc:
            raise _translate(exc, f"could not {what} ({self.collection!r} at {self.where})") from exc

    # ------------------------------------------------------------------ writes

    def upsert(self, items: Sequence[IndexedChunk]) -> None:
        if not items:
            return
        from qdrant_client import models as qm

        client = self._require()
        points = []
        for item in items:
            if len(item.dense) != self.dimension:
                raise IndexError_(
                    f"chunk {item.chunk.doc_id}#{item.chunk.ordinal} has a {len(item.dense)}-d vector, "
                    f"index expects {self.dimension}", code="index_dimension")
            points.append(qm.PointStruct(
                id=item.chunk.point_id,
                vector={DENSE_VECTOR: [float(x) for x in item.dense], SPARSE_VECTOR: _sparse(item.sparse)},
                payload=item.chunk.payload(),
            ))
        self._call("upsert", lambda: client.upsert(self.collection, points=points, wait=True))

    def delete_document(self, doc_id: str) -> None:
        from qdrant_client import models as qm

        client = self._require()
        selector = qm.FilterSelector(filter=_doc_filter(doc_id))
        self._call("delete a document",
                   lambda: client.delete(self.collection, points_selector=selector, wait=True))

    def set_document_acl(self, doc_id: str, acl_groups: Sequence[str]) -> int:
        """Payload-only update (``set_payload`` by doc_id filter): vectors and scores are untouched."""
        client = self._require()
        n = self.count(doc_id)
        if n:
            groups = sorted({str(g) for g in acl_groups})
            self._call("update a document ACL", lambda: client.set_payload(
                self.collection, payload={"acl_groups": groups}, points=_doc_filter(doc_id), wait=True))
        return n

    def optimize(self) -> None:
        """The server optimizes in the background; nothing to do."""
        self._require()

    def flush(self) -> None:
        """Writes are acknowledged with ``wait=True``; nothing to do."""
        self._require()

    # ------------------------------------------------------------------ reads

    def search(self, request: SearchRequest) -> list[Hit]:
        check_request(request, self.dimension)
        plan = plan_filter(request.scope, request.filters)
        if plan.match_nothing:
            return []
        from qdrant_client import models as qm

        client = self._require()
        flt = _filter(plan)
        sparse = _sparse(request.sparse) if request.sparse is not None else None
        mode = request.mode
        if mode is SearchMode.HYBRID and sparse is not None and not sparse.indices:
            mode = SearchMode.DENSE  # no indexable query term: dense alone
        if mode is SearchMode.SPARSE and (sparse is None or not sparse.indices):
            return []
        dense = [float(x) for x in request.dense] if request.dense is not None else None

        kwargs: dict[str, Any]
        if mode is SearchMode.DENSE:
            kwargs = {"query": dense, "using": DENSE_VECTOR}
        elif mode is SearchMode.SPARSE:
            kwargs = {"query": sparse, "using": SPARSE_VECTOR}
        else:
            prefetch_limit = max(request.prefetch_limit, request.limit)
            kwargs = {
                "prefetch": [
                    qm.Prefetch(query=dense, using=DENSE_VECTOR, limit=prefetch_limit, filter=flt),
                    qm.Prefetch(query=sparse, using=SPARSE_VECTOR, limit=prefetch_limit, filter=flt),
                ],
                "query": qm.RrfQuery(rrf=qm.Rrf(k=self.rrf_k)),
            }
        response = self._call("search", lambda: client.query_points(
            self.collection, query_filter=flt, limit=request.limit, with_payload=True, **kwargs))
        return [Hit(point_id=str(p.id), score=float(p.score), chunk=chunk_from_payload(p.payload))
                for p in response.points]

    def count(self, doc_id: str | None = None) -> int:
        client = self._require()
        flt = _doc_filter(doc_id) if doc_id is not None else None
        result = self._call("count", lambda: client.count(self.collection, count_filter=flt, exact=True))
        return int(result.count)

    def iter_chunks(self, batch_size: int = 256) -> Iterator[Chunk]:
        client = self._require()
        offset: Any = None
        while True:
            records, offset = self._call("scroll", lambda off=offset: client.scroll(  # type: ignore[misc]
                self.collection, limit=batch_size, offset=off, with_payload=True, with_vectors=False))
            for r in records:
                yield chunk_from_payload(r.payload)
            if offset is None or not records:
                return

    def vectors(self, point_id: str) -> tuple[list[float], SparseVector] | None:
        """The stored vectors of one point (audits, tests)."""
        client = self._require()
        records = self._call("retrieve", lambda: client.retrieve(
            self.collection, [point_id], with_payload=False, with_vectors=True))
        if not records:
            return None
        vec: Any = records[0].vector or {}
        sparse = vec.get(SPARSE_VECTOR)
        sv = SparseVector(tuple(sparse.indices), tuple(sparse.values)) if sparse else SparseVector((), ())
        return [float(x) for x in vec.get(DENSE_VECTOR, [])], sv


def _sparse(vec: SparseVector) -> qm.SparseVector:
    from qdrant_client import models as qm

    return qm.SparseVector(indices=list(vec.indices), values=[float(v) for v in vec.values])


def _doc_filter(doc_id: str) -> qm.Filter:
    from qdrant_client import models as qm

    return qm.Filter(must=[qm.FieldCondition(key="doc_id", match=qm.MatchValue(value=doc_id))])


def _filter(plan: FilterPlan) -> qm.Filter | None:
    from qdrant_client import models as qm

    if plan.is_empty:
        return None
    must: list[Any] = []
    if plan.acl_any is not None:
        must.append(qm.FieldCondition(key="acl_groups", match=qm.MatchAny(any=list(plan.acl_any))))
    must.extend(qm.FieldCondition(key=k, match=qm.MatchValue(value=v)) for k, v in plan.exact)
    return qm.Filter(must=must)


def _translate(exc: Exception, context: str) -> IndexError_:
    """qdrant-client / transport errors → our tree. Connection problems get ``code="index_unavailable"``."""
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    unreachable = isinstance(exc, ResponseHandlingException | ConnectionError | TimeoutError)
    if unreachable or _is_grpc_unavailable(exc):
        return IndexError_(f"{context}: Qdrant is unreachable ({type(exc).__name__}: {exc})",
                           code="index_unavailable")
    if isinstance(exc, UnexpectedResponse):
        code = "index_unavailable" if exc.status_code in (502, 503, 504) else "index"
        if exc.status_code in (401, 403):
            return IndexError_(f"{context}: Qdrant refused the API key (HTTP {exc.status_code})",
                               code="index_auth")
        return IndexError_(f"{context}: HTTP {exc.status_code} {exc.reason_phrase}", code=code)
    if isinstance(exc, RuntimeError) and "already accessed by another instance" in str(exc):
        return IndexLockedError(f"{context}: the local Qdrant storage is in use by another client")
    return IndexError_(f"{context}: {type(exc).__name__}: {exc}")


def _is_grpc_unavailable(exc: Exception) -> bool:
    code = getattr(exc, "code", None)
    try:
        return callable(code) and "UNAVAILABLE" in str(code())
    except Exception:
        return False

"""The embedded default index: a Qdrant Edge shard (in-process Rust engine) in the data directory.

Schema: named dense vector ``dense`` (cosine) and named sparse vector ``bm25`` with the IDF modifier,
keyword payload indexes on the ACL and filter fields, point id = :attr:`Chunk.point_id`, payload =
:meth:`Chunk.payload`.

One process owns a shard: Edge locks its write-ahead log, so a second ``EdgeShard.load`` on the same
directory fails with ``WouldBlock``. :meth:`EdgeIndex.open` turns that into :class:`IndexLockedError` naming
the path and the owner, which it learns from the owner file this class writes beside the shard
(``<path>.owner.json``).

Exact search vs HNSW: below ``hnsw_threshold`` points a brute-force scan is as fast as a graph walk and always
exact, so (a) the optimizer is configured to build HNSW only for segments of at least ``hnsw_threshold``
vectors, and (b) queries ask for exact search while the shard is smaller than that. The default comes from
``bench/query.py --hnsw-study``.

Usage::

    index = EdgeIndex(settings.qdrant_path, dimension=384)
    index.open()                      # raises IndexLockedError if the server owns it
    index.upsert(items); index.optimize(); index.flush()
    hits = index.search(SearchRequest(scope=scope, dense=qv, sparse=qs))
    index.close()
"""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    import qdrant_edge as qe

DEFAULT_HNSW_THRESHOLD = 20_000


class EdgeIndex:
    """:class:`copilot.protocols.VectorIndex` over a Qdrant Edge shard at ``path``.

    The constructor only records settings; :meth:`open` creates or loads the shard (and takes its lock).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        dimension: int,
        *,
        hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
        hnsw_m: int = 16,
        hnsw_ef_construct: int = 100,
        hnsw_ef: int | None = None,
        rrf_k: int = DEFAULT_RRF_K,
        max_search_threads: int | None = None,
    ) -> None:
        if dimension < 1:
            raise ValueError("dimension must be positive")
        self.path = Path(path)
        self.dimension = dimension
        self.hnsw_threshold = max(0, hnsw_threshold)
        self.hnsw_m = hnsw_m
        self.hnsw_ef_construct = hnsw_ef_construct
        self.hnsw_ef = hnsw_ef
        self.rrf_k = rrf_k
        self.max_search_threads = max_search_threads
        self._shard: qe.EdgeShard | None = None
        self._points: int | None = None  # cached point count; None = stale
        self._lock = threading.Lock()  # guards the cached count only; the shard is thread-safe

    # ------------------------------------------------------------------ lifecycle

    @property
    def owner_file(self) -> Path:
        """Beside the shard, not inside it: the shard directory belongs to Edge."""
        return self.path.with_name(self.path.name + ".owner.json")

    def _config(self) -> qe.EdgeConfig:
        import qdrant_edge as qe

        # Edge thresholds are in KB of vector data; convert the point threshold for this dimension.
        threshold_kb = max(1, math.ceil(self.hnsw_threshold * self.dimension * 4 / 1024))
        return qe.EdgeConfig(
            vectors={DENSE_VECTOR: qe.EdgeVectorParams(size=self.dimension, distance=qe.Distance.Cosine)},
            sparse_vectors={SPARSE_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            hnsw_config=qe.HnswIndexConfig(
                m=self.hnsw_m, ef_construct=self.hnsw_ef_construct, full_scan_threshold=threshold_kb
            ),
            optimizers=qe.EdgeOptimizersConfig(indexing_threshold=threshold_kb),
            max_search_threads=self.max_search_threads,
        )

    def open(self) -> None:
        """Create the shard, or load it (checking the configured dimension), and take ownership."""
        if self._shard is not None:
            return
        import qdrant_edge as qe

        config = self._config()
        exists = (self.path / "edge_config.json").exists() or (self.path / "segments").exists()
        try:
            if exists:
                shard = qe.EdgeShard.load(str(self.path), config)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                shard = qe.EdgeShard.create(str(self.path), config)
        except Exception as exc:
            raise self._translate_open_error(exc) from exc
        self._shard = shard
        self._write_owner_file()
        try:
            schema = shard.info().payload_schema
            for field in KEYWORD_INDEXES:
                if field not in schema:
                    shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))
        except Exception as exc:
            self.close()
            raise IndexError_(f"could not create payload indexes on {self.path}: {exc}") from exc
        self._points = None

    def _translate_open_error(self, exc: Exception) -> Exception:
        text = str(exc)
        if "WouldBlock" in text or "temporarily unavailable" in text:
            return IndexLockedError(self._locked_message())
        if "incompatible" in text.lower():
            return IndexError_(
                f"the index at {self.path} was built with a different configuration "
                f"(this process expects {self.dimension}-d vectors): {text}. Re-create it or point "
                "COPILOT_DATA_DIR elsewhere.",
                code="index_incompatible",
            )
        return IndexError_(f"could not open the index at {self.path}: {text}")

    def _locked_message(self) -> str:
        owner = self._read_owner()
        holder = "another process"
        if owner:
            pid = owner.get("pid")
            alive = isinstance(pid, int) and _pid_alive(pid)
            cmd = owner.get("command") or "?"
            since = owner.get("since") or "?"
            holder = f"process {pid} ({cmd}, since {since})" + ("" if alive else " [not running?]")
        return (
            f"the embedded index at {self.path} is locked by {holder}. A Qdrant Edge shard belongs to one "
            "process at a time; normally the running Copilot server owns it. Send the request through the "
            "server, or stop it first."
        )

    def _read_owner(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.owner_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write_owner_file(self) -> None:
        import sys

        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:3])),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        tmp = self.owner_file.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(info), encoding="utf-8")
            tmp.replace(self.owner_file)
        except OSError:
            pass  # best effort: the lock itself is Edge's; this only improves the error message

    def close(self) -> None:
        """Flush, release the shard lock and remove our owner file."""
        shard, self._shard = self._shard, None
        if shard is None:
            return
        try:
            shard.flush()
        finally:
            shard.close()
            owner = self._read_owner()
            if owner and owner.get("pid") == os.getpid():
                self.owner_file.unlink(missing_ok=True)

    def __enter__(self) -> EdgeIndex:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require(self) -> qe.EdgeShard:
        if self._shard is None:
            raise IndexError_(f"the index at {self.path} is not open (call open())", code="index_closed")
        return self._shard

    # ------------------------------------------------------------------ writes

    def upsert(self, items: Sequence[IndexedChunk]) -> None:
        if not items:
            return
        import qdrant_edge as qe

        shard = self._require()
        points = []
        for item in items:
            if len(item.dense) != self.dimension:
                raise IndexError_(
                    f"chunk {item.chunk.doc_id}#{item.chunk.ordinal} has a {len(item.dense)}-d vector, "
                    f"index expects {self.dimension}", code="index_dimension")
            vector: dict[str, Any] = {
                DENSE_VECTOR: [float(x) for x in item.dense],
                SPARSE_VECTOR: _edge_sparse(item.sparse),
            }
            points.append(qe.Point(item.chunk.point_id, vector, item.chunk.payload()))
        self._update(shard, qe.UpdateOperation.upsert_points(points))

    def delete_document(self, doc_id: str) -> None:
        import qdrant_edge as qe

        shard = self._require()
        self._update(shard, qe.UpdateOperation.delete_points_by_filter(_doc_filter(doc_id)))

    def set_document_acl(self, doc_id: str, acl_groups: Sequence[str]) -> int:
        """Payload-only update: vectors (and thus scores) are untouched."""
        import qdrant_edge as qe

        shard = self._require()
        flt = _doc_filter(doc_id)
        n = int(shard.count(qe.CountRequest(exact=True, filter=flt)))
        if n:
            groups = sorted({str(g) for g in acl_groups})
            self._update(shard, qe.UpdateOperation.set_payload_by_filter(flt, {"acl_groups": groups}))
        return n

    def _update(self, shard: qe.EdgeShard, op: qe.UpdateOperation) -> None:
        try:
            shard.update(op)
        except Exception as exc:
            raise IndexError_(f"index update failed at {self.path}: {exc}") from exc
        finally:
            with self._lock:
                self._points = None

    def optimize(self) -> None:
        """Merge segments and build HNSW for segments over ``hnsw_threshold`` points (blocking)."""
        shard = self._require()
        try:
            shard.optimize()
        except Exception as exc:
            raise IndexError_(f"index optimize failed at {self.path}: {exc}") from exc

    def flush(self) -> None:
        self._require().flush()

    # ------------------------------------------------------------------ reads

    def _point_count(self, shard: qe.EdgeShard) -> int:
        with self._lock:
            if self._points is None:
                self._points = int(shard.info().points_count)
            return self._points

    def search(self, request: SearchRequest) -> list[Hit]:
        check_request(request, self.dimension)
        plan = plan_filter(request.scope, request.filters)
        if plan.match_nothing:
            return []
        import qdrant_edge as qe

        shard = self._require()
        flt = _edge_filter(plan)
        exact = self._point_count(shard) < self.hnsw_threshold
        dense_params = qe.SearchParams(exact=exact, hnsw_ef=self.hnsw_ef)
        sparse_query = _edge_sparse(request.sparse or SparseVector((), ()))
        mode = request.mode
        if mode is SearchMode.HYBRID and not sparse_query.indices:
            mode = SearchMode.DENSE  # the query has no indexable term (all stopwords): dense alone
        if mode is SearchMode.SPARSE and not sparse_query.indices:
            return []

        if mode is SearchMode.DENSE:
            query = qe.QueryRequest(
                limit=request.limit,
                query=qe.Query.Nearest([float(x) for x in request.dense or ()], using=DENSE_VECTOR),
                filter=flt, params=dense_params, with_payload=True,
            )
        elif mode is SearchMode.SPARSE:
            query = qe.QueryRequest(
                limit=request.limit, query=qe.Query.Nearest(sparse_query, using=SPARSE_VECTOR),
                filter=flt, with_payload=True,
            )
        else:
            prefetch_limit = max(request.prefetch_limit, request.limit)
            query = qe.QueryRequest(
                limit=request.limit,
                prefetches=[
                    qe.Prefetch(
                        limit=prefetch_limit,
                        query=qe.Query.Nearest([float(x) for x in request.dense or ()], using=DENSE_VECTOR),
                        filter=flt, params=dense_params,
                    ),
                    qe.Prefetch(
                        limit=prefetch_limit, query=qe.Query.Nearest(sparse_query, using=SPARSE_VECTOR),
                        filter=flt,
                    ),
                ],
                query=qe.Fusion.Rrf(k=self.rrf_k),  # type: ignore[arg-type]  # stub omits nested class
                filter=flt, with_payload=True,
            )
        try:
            points = shard.query(query)
        except Exception as exc:
            raise IndexError_(f"index query failed at {self.path}: {exc}") from exc
        return [Hit(point_id=str(p.id), score=float(p.score), chunk=chunk_from_payload(p.payload))
                for p in points]

    def count(self, doc_id: str | None = None) -> int:
        import qdrant_edge as qe

        shard = self._require()
        if doc_id is None:
            return self._point_count(shard)
        return int(shard.count(qe.CountRequest(exact=True, filter=_doc_filter(doc_id))))

    def iter_chunks(self, batch_size: int = 256) -> Iterator[Chunk]:
        import qdrant_edge as qe

        shard = self._require()
        offset: Any = None
        while True:
            request = qe.ScrollRequest(offset=offset, limit=batch_size, with_payload=True)
            records, offset = shard.scroll(request)
            for r in records:
                yield chunk_from_payload(r.payload)
            if offset is None or not records:
                return

    def vectors(self, point_id: str) -> tuple[list[float], SparseVector] | None:
        """The stored vectors of one point (audits, tests: an ACL change must leave them as they were)."""
        shard = self._require()
        records = shard.retrieve([point_id], with_payload=False, with_vector=True)
        if not records:
            return None
        vec: Any = records[0].vector or {}
        sparse = vec.get(SPARSE_VECTOR)
        sv = SparseVector(tuple(sparse.indices), tuple(sparse.values)) if sparse else SparseVector((), ())
        return [float(x) for x in vec.get(DENSE_VECTOR, [])], sv

    def stats(self) -> dict[str, int]:
        """Points, segments, indexed vectors, and segments holding a dense HNSW graph (from ``optimize()``).

        ``indexed_vectors`` counts sparse vectors too (they are always in an inverted index), so the graph is
        detected from the segment files instead; a diagnostic, not part of the protocol.
        """
        info = self._require().info()
        graphs = sum(1 for _ in (self.path / "segments").glob(f"*/vector_index-{DENSE_VECTOR}/graph.bin"))
        return {"points": int(info.points_count), "segments": int(info.segments_count),
                "indexed_vectors": int(info.indexed_vectors_count), "hnsw_segments": graphs}


def _edge_sparse(vec: SparseVector) -> qe.SparseVector:
    import qdrant_edge as qe

    return qe.SparseVector(list(vec.indices), [float(v) for v in vec.values])


def _doc_filter(doc_id: str) -> qe.Filter:
    import qdrant_edge as qe

    return qe.Filter(must=[qe.FieldCondition(key="doc_id", match=qe.MatchValue(doc_id))])


def _edge_filter(plan: FilterPlan) -> qe.Filter | None:
    import qdrant_edge as qe

    if plan.is_empty:
        return None
    must: list[Any] = []
    if plan.acl_any is not None:
        must.append(qe.FieldCondition(key="acl_groups", match=qe.MatchAny(list(plan.acl_any))))
    must.extend(qe.FieldCondition(key=k, match=qe.MatchValue(v)) for k, v in plan.exact)
    return qe.Filter(must=must)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""Where workers hand their vectors to the one process that owns the embedded Edge shard.

Qdrant Edge locks its write-ahead log, so only the serving process (or the CLI when no server runs) may write the
embedded index. A worker on another core or machine therefore does not upsert: it writes the document's chunks
and vectors to ``ingest_staged_chunks`` in the manifest database *in the same transaction* that moves the
document's manifest row from ``indexing`` to ``staged`` (a compare-and-set on the row's task id). The owner then
drains: for each staged document it deletes the document's old points, upserts the staged ones under their
deterministic point ids, and in one transaction marks the row ``indexed`` and deletes the staged rows.

Why the database and not a result queue on the broker: the manifest is already the shared record of progress,
the hand-off commits atomically with it (a worker killed mid-write leaves nothing half-staged), and a drain
killed half-way is simply re-run (delete + upsert of the same ids). A result queue would need its own ack
discipline and would lose the link between "this document is done" and "its vectors exist".

Cost: one dense vector is 1.5 KB (384 float32) plus the chunk text and a sparse vector, transient: rows live
only between a worker's commit and the owner's next drain (the coordinator drains every half second).

Usage::

    store = StagingStore(engine, manifest)
    store.stage(source, doc_id, task_id=..., checksum=..., items=items, page_count=3, redactions={})  # worker
    applied = store.drain(index)                                                                    # owner
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Engine, LargeBinary, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from copilot.db import Base
from copilot.ingest.manifest import DocStatus, Manifest, ManifestRow
from copilot.protocols import VectorIndex
from copilot.types import Chunk, IndexedChunk, SparseVector

log = logging.getLogger(__name__)

UPSERT_BATCH = 256


class StagedChunkRow(Base):
    __tablename__ = "ingest_staged_chunks"

    source: Mapped[str] = mapped_column(primary_key=True)
    doc_id: Mapped[str] = mapped_column(primary_key=True)
    ordinal: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str]
    payload: Mapped[str]
    dense: Mapped[bytes] = mapped_column(LargeBinary)
    sparse: Mapped[str]


def _row(source: str, task_id: str, item: IndexedChunk) -> StagedChunkRow:
    return StagedChunkRow(
        source=source,
        doc_id=item.chunk.doc_id,
        ordinal=item.chunk.ordinal,
        task_id=task_id,
        payload=json.dumps(item.chunk.payload(), sort_keys=True),
        dense=np.asarray(item.dense, dtype="<f4").tobytes(),
        sparse=json.dumps({"i": list(item.sparse.indices), "v": list(item.sparse.values)}),
    )


def _item(row: StagedChunkRow) -> IndexedChunk:
    sparse = json.loads(row.sparse)
    return IndexedChunk(
        chunk=Chunk.from_payload(json.loads(row.payload)),
        dense=np.frombuffer(row.dense, dtype="<f4").astype(float).tolist(),
        sparse=SparseVector(indices=tuple(int(i) for i in sparse["i"]), values=tuple(float(v) for v in sparse["v"])),
    )


class StagingStore:
    """The staged-vectors table and the two sides of the hand-off (worker: :meth:`stage`; owner: :meth:`drain`)."""

    def __init__(self, engine: Engine, manifest: Manifest) -> None:
        self._engine = engine
        self.manifest = manifest

    def stage(
        self,
        source: str,
        doc_id: str,
        *,
        task_id: str,
        checksum: str,
        items: Sequence[IndexedChunk],
        page_count: int | None,
        redactions: dict[str, int],
    ) -> bool:
        """Write the vectors and mark the row ``staged``, atomically, if the row still belongs to ``task_id``.

        Returns False (and writes nothing) when a newer task owns the document: its result would be stale.
        """
        with Session(self._engine) as s, s.begin():
            ok = self.manifest.finish(
                source,
                doc_id,
                task_id=task_id,
                status=DocStatus.STAGED,
                checksum=checksum,
                chunk_count=len(items),
                page_count=page_count,
                redactions=redactions,
                session=s,
            )
            if not ok:
                return False
            s.execute(delete(StagedChunkRow).where(StagedChunkRow.source == source, StagedChunkRow.doc_id == doc_id))
            s.add_all(_row(source, task_id, it) for it in items)
        return True

    def drain(self, index: VectorIndex, *, limit: int | None = None) -> int:
        """Apply staged documents to ``index`` (the caller owns it); returns how many were applied.

        Per document: delete its old points, upsert the staged ones, then mark ``indexed`` and drop the staged
        rows in one transaction. Killed anywhere, the document stays ``staged`` and the next drain redoes it.
        """
        applied = 0
        for entry in self.manifest.staged()[:limit]:
            with Session(self._engine) as s:
                rows = s.scalars(
                    select(StagedChunkRow)
                    .where(
                        StagedChunkRow.source == entry.source,
                        StagedChunkRow.doc_id == entry.doc_id,
                        StagedChunkRow.task_id == entry.task_id,
                    )
                    .order_by(StagedChunkRow.ordinal)
                ).all()
                items = [_item(r) for r in rows]
            if len(items) != entry.chunk_count:  # cannot happen through stage(); refuse to index a partial set
                log.error("staged chunks of %s: %d of %d; left staged", entry.doc_id, len(items), entry.chunk_count)
                continue
            index.delete_document(entry.doc_id)
            for start in range(0, len(items), UPSERT_BATCH):
                index.upsert(items[start : start + UPSERT_BATCH])
            with Session(self._engine) as s, s.begin():
                row = s.get(ManifestRow, (entry.source, entry.doc_id), with_for_update=True)
                if row is not None and row.status == DocStatus.STAGED.value and row.task_id == entry.task_id:
                    row.status = DocStatus.INDEXED.value
                s.execute(
                    delete(StagedChunkRow).where(
                        StagedChunkRow.source == entry.source,
                        StagedChunkRow.doc_id == entry.doc_id,
                        StagedChunkRow.task_id == entry.task_id,
                    )
                )
            applied += 1
        if applied:
            index.flush()
        return applied

    def count(self) -> int:
        """Staged chunk rows not yet applied (tests and ``copilot status``)."""
        from sqlalchemy import func

        with Session(self._engine) as s:
            return int(s.scalar(select(func.count()).select_from(StagedChunkRow)) or 0)

"""The ingestion manifest: what was indexed, from which content, with which ACL, and what failed.

One row per (source, doc_id). Status moves ``indexing`` → ``indexed`` (or ``failed``). A row left in
``indexing`` by a killed process is simply re-done on the next run: the pipeline deletes the document's chunks
before upserting again and point ids are deterministic, so a resumed ingest leaves no duplicate and no gap.

Scale-out ingestion (``copilot.ingest.queue``) adds ``queued`` (a task is in the broker) and ``staged`` (a worker
computed the vectors; the owner of the embedded index has yet to apply them), and makes the row the lock of its
document: ``task_id`` names the one task allowed to work on it, and every state change a worker makes is a
compare-and-set on that id, so a duplicate, superseded or redelivered message cannot overwrite newer work.

Usage::

    manifest = Manifest(engine)
    entry = manifest.get("folder", "folder:sops/pm.pdf")
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from copilot.db import Base
from copilot.types import DocumentRef


class DocStatus(StrEnum):
    QUEUED = "queued"  # scale-out: a task for this version is in the broker
    INDEXING = "indexing"  # being worked on (shown as "running")
    STAGED = "staged"  # scale-out, embedded index: vectors computed, waiting for the index owner to apply them
    INDEXED = "indexed"  # done
    FAILED = "failed"  # parked with its reason


# What `copilot status` calls each state.
PROGRESS_NAMES: dict[DocStatus, str] = {
    DocStatus.QUEUED: "queued",
    DocStatus.INDEXING: "running",
    DocStatus.STAGED: "staged",
    DocStatus.INDEXED: "done",
    DocStatus.FAILED: "failed",
}


class ManifestRow(Base):
    __tablename__ = "manifest_documents"

    source: Mapped[str] = mapped_column(primary_key=True)
    doc_id: Mapped[str] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(default="")
    uri: Mapped[str] = mapped_column(default="")
    checksum: Mapped[str] = mapped_column(default="")
    acl_groups: Mapped[str] = mapped_column(default="")
    status: Mapped[str]
    chunk_count: Mapped[int] = mapped_column(default=0)
    page_count: Mapped[int | None] = mapped_column(default=None)
    error_code: Mapped[str | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(default=None)
    redactions: Mapped[str | None] = mapped_column(default=None)
    updated_at: Mapped[datetime]
    task_id: Mapped[str | None] = mapped_column(default=None)
    worker: Mapped[str | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)


@dataclass(frozen=True)
class ManifestEntry:
    source: str
    doc_id: str
    title: str
    uri: str
    checksum: str
    acl_groups: tuple[str, ...]
    status: DocStatus
    chunk_count: int
    page_count: int | None
    error_code: str | None
    error: str | None
    redactions: dict[str, int]
    updated_at: datetime
    task_id: str | None = None
    worker: str | None = None
    attempts: int = 0


@dataclass(frozen=True)
class Claim:
    """What :meth:`Manifest.claim` decided for one delivery: ``run`` it, ``skip`` it (stale or superseded),
    ``done`` already (a redelivery after the result was recorded), or ``park`` it (too many deliveries).
    ``attempt`` is this delivery's number; ``last_error`` the reason the previous try recorded."""

    action: Literal["run", "skip", "done", "park"]
    attempt: int
    last_error: str | None


def _acl_text(groups: Iterable[str]) -> str:
    return ",".join(sorted(set(groups)))


def _entry(row: ManifestRow) -> ManifestEntry:
    return ManifestEntry(
        source=row.source,
        doc_id=row.doc_id,
        title=row.title,
        uri=row.uri,
        checksum=row.checksum,
        acl_groups=tuple(g for g in row.acl_groups.split(",") if g),
        status=DocStatus(row.status),
        chunk_count=row.chunk_count,
        page_count=row.page_count,
        error_code=row.error_code,
        error=row.error,
        redactions=json.loads(row.redactions) if row.redactions else {},
        updated_at=row.updated_at,
        task_id=row.task_id,
        worker=row.worker,
        attempts=row.attempts or 0,
    )


class Manifest:
    """Thin repository over ``manifest_documents``; each call is its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def all(self, source: str | None = None) -> dict[str, ManifestEntry]:
        stmt = select(ManifestRow)
        if source is not None:
            stmt = stmt.where(ManifestRow.source == source)
        with Session(self._engine) as s:
            return {r.doc_id: _entry(r) for r in s.scalars(stmt)}

    def get(self, source: str, doc_id: str) -> ManifestEntry | None:
        with Session(self._engine) as s:
            row = s.get(ManifestRow, (source, doc_id))
            return _entry(row) if row else None

    def _upsert(self, source: str, doc_id: str, **values: object) -> None:
        values["updated_at"] = datetime.now(UTC)
        with Session(self._engine) as s, s.begin():
            row = s.get(ManifestRow, (source, doc_id))
            if row is None:
                row = ManifestRow(source=source, doc_id=doc_id, **values)
                s.add(row)
            else:
                for k, v in values.items():
                    setattr(row, k, v)

    def mark_indexing(
        self, source: str, doc_id: str, *, title: str, uri: str, checksum: str, acl_groups: Iterable[str]
    ) -> None:
        """Recorded *before* touching the index, so a crash leaves a row that the next run re-does."""
        self._upsert(
            source,
            doc_id,
            title=title,
            uri=uri,
            checksum=checksum,
            acl_groups=_acl_text(acl_groups),
            status=DocStatus.INDEXING.value,
            error_code=None,
            error=None,
            task_id=None,  # this process owns the row now: any queued message for it becomes a no-op
        )

    def mark_indexed(
        self,
        source: str,
        doc_id: str,
        *,
        chunk_count: int,
        page_count: int | None,
        redactions: dict[str, int],
    ) -> None:
        self._upsert(
            source,
            doc_id,
            status=DocStatus.INDEXED.value,
            chunk_count=chunk_count,
            page_count=page_count,
            redactions=json.dumps(redactions, sort_keys=True),
            error_code=None,
            error=None,
        )

    def mark_failed(
        self,
        source: str,
        doc_id: str,
        *,
        title: str,
        uri: str,
        checksum: str,
        acl_groups: Iterable[str],
        code: str,
        error: str,
    ) -> None:
        self._upsert(
            source,
            doc_id,
            title=title,
            uri=uri,
            checksum=checksum,
            acl_groups=_acl_text(acl_groups),
            status=DocStatus.FAILED.value,
            chunk_count=0,
            error_code=code,
            error=error[:2000],
        )

    def set_acl(self, source: str, doc_id: str, acl_groups: Iterable[str]) -> None:
        self._upsert(source, doc_id, acl_groups=_acl_text(acl_groups))

    def remove(self, source: str, doc_id: str) -> None:
        with Session(self._engine) as s, s.begin():
            s.execute(delete(ManifestRow).where(ManifestRow.source == source, ManifestRow.doc_id == doc_id))

    def counts(self) -> dict[str, int]:
        with Session(self._engine) as s:
            rows = s.execute(select(ManifestRow.status, func.count()).group_by(ManifestRow.status)).all()
            chunks = s.scalar(select(func.coalesce(func.sum(ManifestRow.chunk_count), 0))) or 0
        out = {str(status): int(n) for status, n in rows}
        out["chunks"] = int(chunks)
        return out

    def progress(self, *, documents: bool = False) -> dict[str, Any]:
        """Queued / running / staged / done / failed, overall and per worker (``copilot status``).

        ``documents=True`` adds one line per document: its state, worker, deliveries and failure reason.
        """
        with Session(self._engine) as s:
            rows = s.execute(
                select(ManifestRow.status, ManifestRow.worker, func.count()).group_by(
                    ManifestRow.status, ManifestRow.worker
                )
            ).all()
            docs = (
                s.execute(
                    select(
                        ManifestRow.doc_id,
                        ManifestRow.status,
                        ManifestRow.worker,
                        ManifestRow.attempts,
                        ManifestRow.error_code,
                        ManifestRow.chunk_count,
                    ).order_by(ManifestRow.doc_id)
                ).all()
                if documents
                else []
            )
        totals = dict.fromkeys(PROGRESS_NAMES.values(), 0)
        workers: dict[str, dict[str, int]] = {}
        for status, worker, n in rows:
            name = PROGRESS_NAMES[DocStatus(status)]
            totals[name] += int(n)
            if worker:
                per = workers.setdefault(worker, dict.fromkeys(PROGRESS_NAMES.values(), 0))
                per[name] += int(n)
        out: dict[str, Any] = {"totals": totals, "workers": dict(sorted(workers.items()))}
        if documents:
            out["documents"] = [
                {
                    "doc_id": d,
                    "state": PROGRESS_NAMES[DocStatus(st)],
                    "worker": w,
                    "attempts": a,
                    "reason": code,
                    "chunks": c,
                }
                for d, st, w, a, code, c in docs
            ]
        return out

    # -- scale-out: the row as the lock of its document -------------------------------------------------------

    def queue(self, source: str, refs: Sequence[tuple[DocumentRef, str]]) -> None:
        """Record ``(ref, task_id)`` pairs as queued in one transaction, *before* their messages are published:
        a worker that receives a message must find its row (see :meth:`claim`). Deliveries start at zero."""
        now = datetime.now(UTC)
        with Session(self._engine) as s, s.begin():
            for ref, task_id in refs:
                values: dict[str, Any] = {
                    "title": ref.title,
                    "uri": ref.uri,
                    "checksum": ref.checksum,
                    "acl_groups": _acl_text(ref.acl_groups),
                    "status": DocStatus.QUEUED.value,
                    "task_id": task_id,
                    "attempts": 0,
                    "worker": None,
                    "error_code": None,
                    "error": None,
                    "queued_at": now,
                    "started_at": None,
                    "updated_at": now,
                }
                row = s.get(ManifestRow, (source, ref.doc_id))
                if row is None:
                    s.add(ManifestRow(source=source, doc_id=ref.doc_id, **values))
                else:
                    for k, v in values.items():
                        setattr(row, k, v)

    def restore(self, source: str, doc_id: str, previous: ManifestEntry | None) -> None:
        """Undo :meth:`queue` for a document whose message never reached the broker."""
        if previous is None:
            self.remove(source, doc_id)
            return
        self._upsert(
            source,
            doc_id,
            title=previous.title,
            uri=previous.uri,
            checksum=previous.checksum,
            acl_groups=_acl_text(previous.acl_groups),
            status=previous.status.value,
            error_code=previous.error_code,
            error=previous.error,
            task_id=previous.task_id,
            attempts=previous.attempts,
            worker=previous.worker,
        )

    def claim(self, source: str, doc_id: str, *, task_id: str, worker: str, max_attempts: int) -> Claim:
        """Take the document for this delivery of ``task_id``, or say why not (one row-locked transaction).

        * the row names another task (or is gone): this message is stale or superseded → ``skip``;
        * the row is already staged or indexed by this task: a redelivery after the work was recorded → ``done``;
        * this would be delivery number ``max_attempts + 1``: earlier deliveries died or failed → ``park``
          (the caller records why);
        * otherwise the row becomes ``indexing`` on ``worker`` and the delivery count goes up → ``run``.
        """
        now = datetime.now(UTC)
        with Session(self._engine) as s, s.begin():
            row = s.get(ManifestRow, (source, doc_id), with_for_update=True)
            if row is None or row.task_id != task_id:
                return Claim("skip", 0, None)
            status = DocStatus(row.status)
            if status in (DocStatus.STAGED, DocStatus.INDEXED, DocStatus.FAILED):
                return Claim("done", row.attempts, row.error)
            if row.attempts >= max_attempts:
                return Claim("park", row.attempts, row.error)
            row.attempts += 1
            row.status = DocStatus.INDEXING.value
            row.worker = worker
            row.started_at = now
            row.updated_at = now
            return Claim("run", row.attempts, row.error)

    def _owned(self, s: Session, source: str, doc_id: str, task_id: str) -> ManifestRow | None:
        row = s.get(ManifestRow, (source, doc_id), with_for_update=True)
        if row is None or row.task_id != task_id or row.status != DocStatus.INDEXING.value:
            return None
        return row

    def retry_later(self, source: str, doc_id: str, *, task_id: str, code: str, error: str) -> bool:
        """Back to ``queued`` with the reason of the failed try (the retry message is about to be sent)."""
        with Session(self._engine) as s, s.begin():
            row = self._owned(s, source, doc_id, task_id)
            if row is None:
                return False
            row.status = DocStatus.QUEUED.value
            row.error_code = code
            row.error = error[:2000]
            row.updated_at = datetime.now(UTC)
            return True

    def park(self, source: str, doc_id: str, *, task_id: str, code: str, error: str) -> bool:
        """``failed`` with its reason; the document is not tried again until its content changes."""
        with Session(self._engine) as s, s.begin():
            row = s.get(ManifestRow, (source, doc_id), with_for_update=True)
            if row is None or row.task_id != task_id or row.status not in (
                DocStatus.INDEXING.value,
                DocStatus.QUEUED.value,
            ):
                return False
            row.status = DocStatus.FAILED.value
            row.chunk_count = 0
            row.error_code = code
            row.error = error[:2000]
            row.updated_at = datetime.now(UTC)
            return True

    def finish(
        self,
        source: str,
        doc_id: str,
        *,
        task_id: str,
        status: DocStatus,
        checksum: str,
        chunk_count: int,
        page_count: int | None,
        redactions: dict[str, int],
        session: Session | None = None,
    ) -> bool:
        """Record this task's result (``staged`` or ``indexed``) if the row still belongs to it.

        Pass ``session`` to make it part of a larger transaction (the staged vectors are written in the same one).
        """

        def apply(s: Session) -> bool:
            row = self._owned(s, source, doc_id, task_id)
            if row is None:
                return False
            row.status = status.value
            row.checksum = checksum  # what was actually read, should the file have changed since it was listed
            row.chunk_count = chunk_count
            row.page_count = page_count
            row.redactions = json.dumps(redactions, sort_keys=True)
            row.error_code = None
            row.error = None
            row.updated_at = datetime.now(UTC)
            return True

        if session is not None:
            return apply(session)
        with Session(self._engine) as s, s.begin():
            return apply(s)

    def staged(self) -> list[ManifestEntry]:
        """Documents whose vectors wait for the owner of the embedded index."""
        with Session(self._engine) as s:
            rows = s.scalars(select(ManifestRow).where(ManifestRow.status == DocStatus.STAGED.value))
            return [_entry(r) for r in rows]

    def states(self, source: str, doc_ids: Iterable[str]) -> dict[str, ManifestEntry]:
        """The current rows of these documents (the submitter watches its run with this)."""
        wanted = list(doc_ids)
        out: dict[str, ManifestEntry] = {}
        with Session(self._engine) as s:
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                stmt = select(ManifestRow).where(ManifestRow.source == source, ManifestRow.doc_id.in_(part))
                out.update({r.doc_id: _entry(r) for r in s.scalars(stmt)})
        return out

    def failures(self) -> list[ManifestEntry]:
        with Session(self._engine) as s:
            rows = s.scalars(
                select(ManifestRow).where(ManifestRow.status == DocStatus.FAILED.value).order_by(ManifestRow.doc_id)
            )
            return [_entry(r) for r in rows]

"""The ingestion manifest: what was indexed, from which content, with which ACL, and what failed.

One row per (source, doc_id). Status moves ``indexing`` → ``indexed`` (or ``failed``). A row left in
``indexing`` by a killed process is simply re-done on the next run: the pipeline deletes the document's chunks
before upserting again and point ids are deterministic, so a resumed ingest leaves no duplicate and no gap.

Usage::

    manifest = Manifest(engine)
    entry = manifest.get("folder", "folder:sops/pm.pdf")
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from copilot.db import Base


class DocStatus(StrEnum):
    INDEXING = "indexing"
    INDEXED = "indexed"
    FAILED = "failed"


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

    def failures(self) -> list[ManifestEntry]:
        with Session(self._engine) as s:
            rows = s.scalars(
                select(ManifestRow).where(ManifestRow.status == DocStatus.FAILED.value).order_by(ManifestRow.doc_id)
            )
            return [_entry(r) for r in rows]

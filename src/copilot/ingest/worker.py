"""One document's work on a scale-out worker: claim → load → redact → chunk → embed → hand over, with the verdict
on failure (retry later, or park). Free of Celery, so the rules are plain code; ``copilot.ingest.queue`` wraps
:meth:`DocumentWorker.process` in a task.

The rules, all enforced through the manifest row (see :meth:`copilot.ingest.manifest.Manifest.claim`):

* **Idempotent.** The row names the task that owns the document; a message for any other task id is skipped,
  and a redelivery after the result was recorded is acknowledged without work. Point ids are
  ``uuid5(doc_id#ordinal)``, so writing the same document twice writes the same points.
* **Bounded.** Each delivery counts (a worker killed mid-task counts too, because the count is taken before the
  work). A bad document (corrupt, encrypted, empty, unsupported: an :class:`~copilot.errors.IngestError`) is
  parked at once with its typed reason; anything else (a parser crash, the index or the model failing) is
  retried with exponential back-off, and parked as ``poison`` once ``max_attempts`` deliveries have failed.
* **The index is written by its owner.** ``IndexSink`` upserts straight into a Qdrant server (many writers are
  fine); ``StagingSink`` hands the vectors to the owner of the embedded Edge shard through the manifest
  database (:mod:`copilot.ingest.staging`).

Usage::

    worker = DocumentWorker(loaders=..., chunker=..., redactor=..., embedder=..., sparse=..., manifest=...,
                            sink=StagingSink(StagingStore(engine, manifest)), max_attempts=3)
    outcome = worker.process(message, task_id="...", worker_name="w1@host")
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from copilot.errors import CopilotError, IngestError
from copilot.ingest.chunker import embedding_text
from copilot.ingest.manifest import DocStatus, Manifest
from copilot.ingest.pipeline import LoaderLike, prepare_document
from copilot.ingest.sources import FolderSource
from copilot.ingest.staging import StagingStore
from copilot.protocols import Chunker, Embedder, Redactor, Source, SparseEncoder, VectorIndex
from copilot.types import DocumentRef, IndexedChunk

log = logging.getLogger(__name__)

POISON = "poison"


# -- the message ---------------------------------------------------------------------------------------------


def encode_message(source: Source, ref: DocumentRef) -> dict[str, Any]:
    """The task's one argument (JSON): how to reopen the source, and the document's listing."""
    if not isinstance(source, FolderSource):
        raise CopilotError(
            f"scale-out ingestion reads folder sources; {type(source).__name__} runs in-process", code="validation"
        )
    return {
        "source": {"kind": "folder", "root": str(source.root), "name": source.name, "max_bytes": source.max_bytes},
        "ref": {
            "doc_id": ref.doc_id,
            "title": ref.title,
            "uri": ref.uri,
            "source_url": ref.source_url,
            "mime_type": ref.mime_type,
            "checksum": ref.checksum,
            "size": ref.size,
            "modified": ref.modified.isoformat(),
            "doc_type": ref.doc_type,
            "site": ref.site,
            "department": ref.department,
            "acl_groups": list(ref.acl_groups),
            "extra": dict(ref.extra),
        },
    }


def decode_message(message: dict[str, Any]) -> tuple[FolderSource, DocumentRef]:
    spec, r = message["source"], message["ref"]
    if spec.get("kind") != "folder":
        raise CopilotError(f"unknown source kind {spec.get('kind')!r}", code="validation")
    source = FolderSource(spec["root"], name=spec["name"], max_bytes=int(spec["max_bytes"]))
    ref = DocumentRef(
        doc_id=r["doc_id"],
        title=r["title"],
        uri=r["uri"],
        source_url=r["source_url"],
        mime_type=r["mime_type"],
        checksum=r["checksum"],
        size=int(r["size"]),
        modified=datetime.fromisoformat(r["modified"]),
        doc_type=r["doc_type"],
        site=r.get("site"),
        department=r.get("department"),
        acl_groups=tuple(r.get("acl_groups") or ()),
        extra=dict(r.get("extra") or {}),
    )
    return source, ref


# -- where the vectors go ------------------------------------------------------------------------------------


class ResultSink(Protocol):
    def write(
        self,
        manifest: Manifest,
        source: str,
        ref: DocumentRef,
        *,
        task_id: str,
        checksum: str,
        items: list[IndexedChunk],
        page_count: int | None,
        redactions: dict[str, int],
    ) -> bool: ...

    def discard(self, doc_id: str) -> None: ...


class IndexSink:
    """Workers write a shared Qdrant server directly: delete the document's old points, upsert, mark ``indexed``."""

    def __init__(self, index: VectorIndex) -> None:
        self.index = index

    def write(
        self,
        manifest: Manifest,
        source: str,
        ref: DocumentRef,
        *,
        task_id: str,
        checksum: str,
        items: list[IndexedChunk],
        page_count: int | None,
        redactions: dict[str, int],
    ) -> bool:
        self.index.delete_document(ref.doc_id)
        for start in range(0, len(items), 256):
            self.index.upsert(items[start : start + 256])
        return manifest.finish(
            source,
            ref.doc_id,
            task_id=task_id,
            status=DocStatus.INDEXED,
            checksum=checksum,
            chunk_count=len(items),
            page_count=page_count,
            redactions=redactions,
        )

    def discard(self, doc_id: str) -> None:
        """A parked document's old version leaves the index (what is there no longer matches the source)."""
        self.index.delete_document(doc_id)


class StagingSink:
    """Workers of an embedded Edge shard stage their vectors for the owner (see :mod:`copilot.ingest.staging`)."""

    def __init__(self, store: StagingStore) -> None:
        self.store = store

    def write(
        self,
        manifest: Manifest,
        source: str,
        ref: DocumentRef,
        *,
        task_id: str,
        checksum: str,
        items: list[IndexedChunk],
        page_count: int | None,
        redactions: dict[str, int],
    ) -> bool:
        return self.store.stage(
            source,
            ref.doc_id,
            task_id=task_id,
            checksum=checksum,
            items=items,
            page_count=page_count,
            redactions=redactions,
        )

    def discard(self, doc_id: str) -> None:
        """Nothing here: the owner removes a parked document's old chunks when its run ends."""


# -- the work ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What happened to one delivery. ``retry_in``: seconds until the retry message (``None``: no retry)."""

    status: str  # indexed | staged | failed | parked | skipped | done | retry
    retry_in: float | None = None
    reason: str | None = None


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential back-off with full jitter: ``uniform(base/2, min(cap, base * 2**(attempt-1)))``."""
    top = min(cap, base * (2 ** max(0, attempt - 1)))
    return random.uniform(min(base / 2, top), top)


class DocumentWorker:
    """Processes one delivered message; see the module docstring for the rules."""

    def __init__(
        self,
        *,
        loaders: LoaderLike,
        chunker: Chunker,
        redactor: Redactor,
        embedder: Embedder,
        sparse: SparseEncoder,
        manifest: Manifest,
        sink: ResultSink,
        max_attempts: int = 3,
        backoff_s: float = 2.0,
        backoff_max_s: float = 60.0,
    ) -> None:
        self.loaders = loaders
        self.chunker = chunker
        self.redactor = redactor
        self.embedder = embedder
        self.sparse = sparse
        self.manifest = manifest
        self.sink = sink
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s

    def process(self, message: dict[str, Any], *, task_id: str, worker_name: str) -> Outcome:
        source, ref = decode_message(message)
        claim = self.manifest.claim(
            source.name, ref.doc_id, task_id=task_id, worker=worker_name, max_attempts=self.max_attempts
        )
        if claim.action == "skip":
            log.info("stale or superseded message for %s (task %s): skipped", ref.doc_id, task_id)
            return Outcome("skipped")
        if claim.action == "done":
            return Outcome("done")
        if claim.action == "park":  # earlier deliveries died (worker killed) or kept failing
            reason = f"gave up after {claim.attempt} deliveries; last error: {claim.last_error or 'worker lost'}"
            self._park(source.name, ref, task_id, POISON, reason)
            return Outcome("parked", reason=reason)
        t0 = time.perf_counter()
        try:
            return self._run(source, ref, task_id)
        except CopilotError as exc:
            return self._failed(source.name, ref, task_id, claim.attempt, exc.code, exc.message)
        except Exception as exc:  # the model or the database broke: the machine's fault, not the document's
            log.exception("ingest task for %s failed", ref.doc_id)
            return self._failed(source.name, ref, task_id, claim.attempt, "error", type(exc).__name__)
        finally:
            log.info("document %s: %.3f s (delivery %d)", ref.doc_id, time.perf_counter() - t0, claim.attempt)

    def _run(self, source: FolderSource, ref: DocumentRef, task_id: str) -> Outcome:
        prep = prepare_document(source, ref, self.loaders, self.redactor, self.chunker)
        if prep.error is not None:
            raise prep.error
        if not prep.chunks:
            raise IngestError("document produced no text to index", code="empty")
        dense = self.embedder.embed_documents([embedding_text(c) for c in prep.chunks])
        sparse = self.sparse.embed_documents([c.text for c in prep.chunks])
        items = [IndexedChunk(chunk=c, dense=dense[i].tolist(), sparse=sparse[i]) for i, c in enumerate(prep.chunks)]
        written = self.sink.write(
            self.manifest,
            source.name,
            ref,
            task_id=task_id,
            checksum=prep.data_checksum or ref.checksum,
            items=items,
            page_count=prep.page_count,
            redactions=prep.redactions,
        )
        if not written:
            return Outcome("skipped", reason="superseded while running")
        return Outcome("indexed" if isinstance(self.sink, IndexSink) else "staged")

    def _failed(self, source: str, ref: DocumentRef, task_id: str, attempt: int, code: str, message: str) -> Outcome:
        if code in _BAD_DOCUMENT_CODES:  # the document itself: trying again gives the same answer
            self._park(source, ref, task_id, code, message)
            return Outcome("failed", reason=code)
        if attempt >= self.max_attempts:
            reason = f"gave up after {attempt} deliveries; last error: {code}: {message}"
            self._park(source, ref, task_id, POISON, reason)
            return Outcome("parked", reason=reason)
        if not self.manifest.retry_later(source, ref.doc_id, task_id=task_id, code=code, error=message):
            return Outcome("skipped", reason="superseded while running")
        return Outcome("retry", retry_in=backoff(attempt, self.backoff_s, self.backoff_max_s), reason=code)

    def _park(self, source: str, ref: DocumentRef, task_id: str, code: str, message: str) -> None:
        if self.manifest.park(source, ref.doc_id, task_id=task_id, code=code, error=message):
            try:
                self.sink.discard(ref.doc_id)
            except CopilotError:
                log.warning("could not remove the old chunks of parked %s", ref.doc_id)


def _ingest_error_codes() -> frozenset[str]:
    """Every code of the :class:`IngestError` family (a document that is bad in itself), plus ``empty``."""
    codes = {IngestError.code, "empty"}
    stack: list[type[IngestError]] = [IngestError]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            codes.add(sub.code)
            stack.append(sub)
    return frozenset(codes)


_BAD_DOCUMENT_CODES = _ingest_error_codes()

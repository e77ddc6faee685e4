"""The manifest row as a document's lock (scale-out ingestion): which delivery may work, and the back-off.

One row per case: the row's state before a delivery, the delivery's task id, and what ``Manifest.claim`` decides.
The broker and worker processes are exercised in ``tests/integration/test_ingest_workers.py``; these are the rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from copilot.db import make_engine, migrate
from copilot.ingest.manifest import DocStatus, Manifest
from copilot.ingest.worker import _BAD_DOCUMENT_CODES, backoff
from copilot.types import DocumentRef

pytestmark = pytest.mark.unit

REF = DocumentRef(
    doc_id="folder:a.md", title="A", uri="/x/a.md", source_url="file:///x/a.md", mime_type="text/markdown",
    checksum="c1", size=10, modified=datetime(2026, 1, 1, tzinfo=UTC), acl_groups=("all_staff",),
)


@pytest.fixture
def manifest(tmp_path: Path) -> Manifest:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    return Manifest(engine)


def _to(manifest: Manifest, state: str, attempts: int) -> None:
    """Bring the row (task "t1") into ``state`` after ``attempts`` deliveries, through the public transitions."""
    manifest.queue("folder", [(REF, "t1")])
    for _ in range(attempts):
        assert manifest.claim("folder", REF.doc_id, task_id="t1", worker="w0", max_attempts=99).action == "run"
        if state != "indexing":
            manifest.retry_later("folder", REF.doc_id, task_id="t1", code="error", error="boom")
    if state == "indexing" and attempts == 0:
        manifest.claim("folder", REF.doc_id, task_id="t1", worker="w0", max_attempts=99)
    if state in ("staged", "indexed", "failed"):
        manifest.claim("folder", REF.doc_id, task_id="t1", worker="w0", max_attempts=99)
        if state == "failed":
            manifest.park("folder", REF.doc_id, task_id="t1", code="corrupt", error="bad xref")
        else:
            manifest.finish("folder", REF.doc_id, task_id="t1", status=DocStatus(state), checksum="c1",
                            chunk_count=2, page_count=1, redactions={})


@pytest.mark.parametrize(
    ("state", "attempts", "task", "action"),
    [
        ("queued", 0, "t1", "run"),  # first delivery
        ("queued", 2, "t1", "run"),  # a retry, still under the limit
        ("queued", 3, "t1", "park"),  # the limit reached: parked as poison by the caller
        ("indexing", 1, "t1", "run"),  # redelivered after its worker was killed mid-task
        ("indexing", 3, "t1", "park"),  # killed its worker every time
        ("staged", 0, "t1", "done"),  # redelivered after the result was recorded (lost ack)
        ("indexed", 0, "t1", "done"),
        ("failed", 0, "t1", "done"),
        ("queued", 0, "t0", "skip"),  # a stale message from an earlier run
        ("indexed", 0, "other", "skip"),  # a duplicate under another id
    ],
)
def test_claim(manifest: Manifest, state: str, attempts: int, task: str, action: str) -> None:
    _to(manifest, state, attempts)
    claim = manifest.claim("folder", REF.doc_id, task_id=task, worker="w1", max_attempts=3)
    assert claim.action == action
    entry = manifest.get("folder", REF.doc_id)
    assert entry is not None
    if action == "run":
        assert (entry.status, entry.worker, entry.attempts) == (DocStatus.INDEXING, "w1", claim.attempt)
    else:
        assert entry.worker != "w1"  # nothing taken


def test_a_superseded_task_cannot_record_its_result(manifest: Manifest) -> None:
    manifest.queue("folder", [(REF, "t1")])
    assert manifest.claim("folder", REF.doc_id, task_id="t1", worker="w1", max_attempts=3).action == "run"
    manifest.queue("folder", [(REF, "t2")])  # a newer run re-queued the document meanwhile
    ok = manifest.finish("folder", REF.doc_id, task_id="t1", status=DocStatus.INDEXED, checksum="c1",
                         chunk_count=2, page_count=1, redactions={})
    assert not ok
    assert not manifest.park("folder", REF.doc_id, task_id="t1", code="corrupt", error="x")
    entry = manifest.get("folder", REF.doc_id)
    assert entry is not None and (entry.status, entry.task_id) == (DocStatus.QUEUED, "t2")


def test_restore_undoes_a_queue_whose_message_never_left(manifest: Manifest) -> None:
    manifest.queue("folder", [(REF, "t1")])
    manifest.restore("folder", REF.doc_id, None)
    assert manifest.get("folder", REF.doc_id) is None


def test_progress_per_worker(manifest: Manifest) -> None:
    manifest.queue("folder", [(REF, "t1")])
    manifest.claim("folder", REF.doc_id, task_id="t1", worker="w1", max_attempts=3)
    progress = manifest.progress(documents=True)
    assert progress["totals"]["running"] == 1 and progress["workers"]["w1"]["running"] == 1
    assert progress["documents"] == [
        {"doc_id": REF.doc_id, "state": "running", "worker": "w1", "attempts": 1, "reason": None, "chunks": 0}
    ]


@pytest.mark.parametrize("attempt", [1, 2, 3, 8])
def test_backoff_doubles_within_its_cap(attempt: int) -> None:
    for _ in range(20):
        delay = backoff(attempt, 2.0, 10.0)
        assert min(1.0, 2.0 * 2 ** (attempt - 1)) <= delay <= min(10.0, 2.0 * 2 ** (attempt - 1))


@pytest.mark.parametrize(
    ("code", "bad_document"),
    [("corrupt", True), ("encrypted", True), ("empty", True), ("too_large", True), ("unsupported_type", True),
     ("no_text", True), ("encoding", True), ("error", False), ("source", False), ("index", False),
     ("model", False)],
)
def test_which_failures_park_at_once(code: str, bad_document: bool) -> None:
    assert (code in _BAD_DOCUMENT_CODES) is bad_document

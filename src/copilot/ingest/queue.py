"""Scale-out ingestion on Celery with RabbitMQ: one task per document, the manifest as the record of progress.

Switched on by ``COPILOT_BROKER_URL`` (e.g. ``amqp://guest:guest@127.0.0.1:5672//``); without it ingestion runs
in-process as before. Two roles:

* **workers** (``copilot worker``, any number, any machine that sees the documents and the manifest database)
  run :class:`~copilot.ingest.worker.DocumentWorker` for each message;
* the **coordinator** (:class:`DistributedIngest`, inside ``copilot ingest`` or the server's ingestion job: the
  process that owns the index) plans the run, queues one task per document that is not done, applies deletions
  and ACL-only changes itself, and — when the index is the embedded Edge shard — drains the vectors workers
  staged (:mod:`copilot.ingest.staging`) until every queued document is done or parked.

Delivery guarantees (RabbitMQ + Celery settings in :func:`make_celery`):

* ``task_acks_late``: a message is acknowledged after its task returns, so a worker killed mid-task (SIGKILL,
  lost machine, lost connection) leaves it unacknowledged and the broker redelivers it to another worker;
  ``task_reject_on_worker_lost`` does the same when only a pool child dies;
* ``worker_prefetch_multiplier=1``: a worker holds one message beyond the one it runs, not a batch a dead worker
  would sit on;
* publisher confirms: ``copilot ingest`` returns only once the broker has the messages on disk (durable queue,
  persistent messages), so they survive a broker restart;
* retries are new messages with the same task id (Celery ``retry``) after an exponential back-off; the number of
  deliveries is counted in the manifest, not in the message, so deliveries lost to killed workers count too.

Usage::

    ingest = DistributedIngest(settings, manifest=..., staging=..., index=lambda: cp.index)
    report = ingest.run(FolderSource("docs/"))       # queues, drains, waits; raises BrokerUnavailableError
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from copilot.config import Settings
from copilot.errors import BrokerUnavailableError, CopilotError
from copilot.ingest.manifest import DocStatus, Manifest
from copilot.ingest.pipeline import IngestReport, plan_source
from copilot.ingest.staging import StagingStore
from copilot.protocols import Source, VectorIndex
from copilot.types import DocumentRef

if TYPE_CHECKING:
    from celery import Celery

    from copilot.ingest.worker import DocumentWorker

log = logging.getLogger(__name__)

TASK_NAME = "copilot.ingest.document"
SUBMIT_BATCH = 200
INFRA_RETRIES = 20  # retries when the manifest database is unreachable (not counted as document deliveries)


def safe_url(url: str) -> str:
    """The broker URL without its password, for messages and ``copilot status``."""
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url))


def make_celery(settings: Settings, worker: Callable[[], DocumentWorker] | None = None) -> Celery:
    """The Celery app for ``settings.broker_url``. ``worker`` builds the process's :class:`DocumentWorker` on
    its first task (models load once per worker process, not per task, and never in the submitter)."""
    from celery import Celery

    if not settings.broker_url:
        raise CopilotError("COPILOT_BROKER_URL is not set: ingestion runs in-process", code="config")
    app = Celery("copilot", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.ingest_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,  # an unexpected task error is already recorded in the manifest
        task_ignore_result=True,  # progress lives in the manifest, not in a result backend
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=False,  # finish it; the redelivery is a no-op
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker outlives a broker restart
        broker_heartbeat=30,
        broker_transport_options={"confirm_publish": True},
        task_time_limit=settings.ingest_task_time_limit_s,
    )
    if worker is not None:
        _register(app, worker)
    return app


def _register(app: Celery, make_worker: Callable[[], DocumentWorker]) -> None:
    state: dict[str, DocumentWorker] = {}

    @app.task(bind=True, name=TASK_NAME, max_retries=None)
    def ingest_document(self: Any, message: dict[str, Any]) -> str:
        from copilot.ingest.worker import backoff

        if "worker" not in state:
            state["worker"] = make_worker()
        worker = state["worker"]
        try:
            outcome = worker.process(message, task_id=self.request.id, worker_name=self.request.hostname)
        except Exception as exc:  # the manifest database itself failed, so nothing could be recorded: later
            log.warning("ingest task %s: %s; retrying", self.request.id, type(exc).__name__)
            delay = backoff(self.request.retries + 1, worker.backoff_s, worker.backoff_max_s)
            raise self.retry(exc=exc, countdown=delay, max_retries=INFRA_RETRIES) from exc
        if outcome.retry_in is not None:
            raise self.retry(countdown=outcome.retry_in)
        return outcome.status


def check_broker(app: Celery, url: str, timeout: float = 5.0) -> None:
    """Raise :class:`BrokerUnavailableError` unless the broker accepts a connection now."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        raise BrokerUnavailableError(
            f"message broker unreachable at {safe_url(url)} ({type(exc).__name__}); nothing was queued"
        ) from exc


class DistributedIngest:
    """Plans a run, queues one task per document that is not done, and (Edge) drains the workers' vectors.

    ``index`` is a callable so that a broker that is down fails before the embedded index is opened.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        manifest: Manifest,
        staging: StagingStore,
        index: Callable[[], VectorIndex],
        app: Celery | None = None,
        poll_s: float = 0.5,
    ) -> None:
        if not settings.broker_url:
            raise CopilotError("COPILOT_BROKER_URL is not set", code="config")
        self.settings = settings
        self.manifest = manifest
        self.staging = staging
        self._index = index
        self.app = app or make_celery(settings)
        self.poll_s = poll_s

    @property
    def owns_staging(self) -> bool:
        """Workers stage for the owner unless they write a Qdrant server themselves."""
        return not self.settings.qdrant_url

    def run(self, source: Source, *, wait: bool = True, timeout_s: float | None = None) -> IngestReport:
        """Queue what is not done and, with ``wait``, return once every queued document is done or parked."""
        started = time.perf_counter()
        check_broker(self.app, str(self.settings.broker_url))
        index = self._index()
        report = IngestReport(source=source.name)
        if self.owns_staging:
            self.staging.drain(index)  # results a previous coordinator did not live to apply
        todo, gone = plan_source(
            source, self.manifest, index, report, done=frozenset({DocStatus.INDEXED, DocStatus.STAGED})
        )
        for doc_id in gone:
            index.delete_document(doc_id)
            self.manifest.remove(source.name, doc_id)
            report.deleted += 1
        t0 = time.perf_counter()
        self.submit(source, todo)
        report.add_time("queue", time.perf_counter() - t0)
        if wait and todo:
            self.wait(source.name, [r.doc_id for r in todo], report, timeout_s=timeout_s)
        index.flush()
        report.wall_seconds = time.perf_counter() - started
        return report

    def submit(self, source: Source, refs: list[DocumentRef]) -> list[str]:
        """Record each document as queued, then publish its task (publisher confirms), in batches.

        The row is written first because a worker must find it; should the broker go away mid-batch, the rows of
        the messages that did not reach it are restored to what they were and :class:`BrokerUnavailableError`
        says how many were queued (those run; a rerun queues the rest).
        """
        from copilot.ingest.worker import encode_message

        known = self.manifest.all(source.name)
        task_ids: list[str] = []
        queued = 0
        # a connection of its own, not one from kombu's process-wide pool: a pooled connection may predate a
        # broker restart and fail on its first write
        with self.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
            producer = conn.Producer()
            for start in range(0, len(refs), SUBMIT_BATCH):
                batch = [(ref, str(uuid.uuid4())) for ref in refs[start : start + SUBMIT_BATCH]]
                messages = [encode_message(source, ref) for ref, _ in batch]
                self.manifest.queue(source.name, batch)
                for i, ((_ref, task_id), message) in enumerate(zip(batch, messages, strict=True)):
                    try:
                        self.app.send_task(
                            TASK_NAME,
                            args=[message],
                            task_id=task_id,
                            queue=self.settings.ingest_queue,
                            producer=producer,
                            retry=False,
                        )
                    except Exception as exc:
                        for later, _ in batch[i:]:  # later batches were never recorded
                            self.manifest.restore(source.name, later.doc_id, known.get(later.doc_id))
                        raise BrokerUnavailableError(
                            f"message broker at {safe_url(str(self.settings.broker_url))} lost after {queued} of "
                            f"{len(refs)} documents were queued ({type(exc).__name__}); those run, "
                            "the rest were not queued: run the ingest again"
                        ) from exc
                    queued += 1
                    task_ids.append(task_id)
        return task_ids

    def wait(self, source: str, doc_ids: list[str], report: IngestReport, *, timeout_s: float | None) -> None:
        """Drain (Edge) and watch the manifest until each document is ``indexed`` or ``failed``."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        index = self._index()
        while True:
            if self.owns_staging:
                self.staging.drain(index)
            states = self.manifest.states(source, doc_ids)
            pending = [
                d for d in doc_ids if d in states and states[d].status not in (DocStatus.INDEXED, DocStatus.FAILED)
            ]
            if not pending:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise CopilotError(
                    f"{len(pending)} of {len(doc_ids)} documents not finished after {timeout_s:.0f} s; "
                    "they stay queued (see `copilot status`)",
                    code="timeout",
                )
            time.sleep(self.poll_s)
        for doc_id in doc_ids:
            entry = states.get(doc_id)
            if entry is None:
                continue
            if entry.status is DocStatus.INDEXED:
                report.indexed += 1
                report.chunks += entry.chunk_count
                report.pages += entry.page_count or 1
            else:
                report.failed += 1
                report.failures.append((doc_id, entry.error_code or "error"))
                if self.owns_staging:
                    index.delete_document(doc_id)  # an old version's chunks no longer match the source


def worker_name(settings: Settings) -> str:
    """``copilot@<host>`` unless ``COPILOT_WORKER_NAME`` names this worker (Celery's ``-n``)."""
    return settings.worker_name or f"copilot-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"


def run_worker(
    settings: Settings,
    make_worker: Callable[[], DocumentWorker],
    *,
    name: str | None = None,
    pool: str = "prefork",
    concurrency: int = 1,
    loglevel: str = "INFO",
) -> None:
    """Consume ``settings.ingest_queue`` until stopped (``copilot worker``). Models load in each pool process on
    its first task, after the fork."""
    app = make_celery(settings, worker=make_worker)
    app.worker_main(
        [
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--hostname",
            name or worker_name(settings),
            "--queues",
            settings.ingest_queue,
            "--loglevel",
            loglevel,
            "--without-gossip",
            "--without-mingle",
        ]
    )

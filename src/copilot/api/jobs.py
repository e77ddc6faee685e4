"""Background ingestion in the server, which owns the embedded index (Qdrant Edge locks its write-ahead log)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from copilot.errors import ConflictError, CopilotError
from copilot.ingest.jobs import IngestJobs

if TYPE_CHECKING:
    from copilot.app import Copilot

log = logging.getLogger(__name__)

__all__ = ["IngestJobs", "TriageJobs"]  # IngestJobs lives with ingestion (the governed ``ingest_run`` tool uses it)


class TriageJobs:
    """At most one triage pass (sync of new tickets, or a backlog) at a time, with progress for the queue page."""

    def __init__(self, copilot: Copilot) -> None:
        self.copilot = copilot
        self._lock = threading.Lock()
        self.state: dict[str, Any] = {"state": "idle"}

    def start(self, *, backlog: bool = False, ticket_ids: list[int] | None = None,
              train_first: bool = False) -> dict[str, Any]:
        from copilot.triage.sync import run_sync

        if not self._lock.acquire(blocking=False):
            raise ConflictError("a triage pass is already running", code="triage_running")
        self.state = {"state": "running", "done": 0, "total": None}

        def progress(done: int, total: int) -> None:
            self.state = {"state": "running", "done": done, "total": total}

        def work() -> None:
            cp = self.copilot
            try:
                if train_first and cp.triage.models.current_version() is None:
                    self.state = {"state": "training", "done": 0, "total": None}
                    cp.triage.train_from_odoo()
                report = run_sync(cp.triage, cp.executor, ticket_ids=ticket_ids, backlog=backlog,
                                  progress=progress)
                self.state = {"state": "done", "report": report, "done": report["tickets"],
                              "total": report["tickets"]}
            except CopilotError as exc:
                self.state = {"state": "failed", "error": exc.message, "code": exc.code}
            except Exception as exc:
                log.exception("triage pass failed")
                self.state = {"state": "failed", "error": type(exc).__name__, "code": "error"}
            finally:
                self._lock.release()

        threading.Thread(target=work, name="copilot-triage", daemon=True).start()
        return {"state": "started"}

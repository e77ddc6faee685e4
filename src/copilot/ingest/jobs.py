"""Background ingestion in the process that owns the embedded index (Qdrant Edge locks its write-ahead log): at most
one run at a time, its state readable while it runs. Started only through the governed ``ingest_run`` tool.

Usage::

    jobs = IngestJobs(copilot)
    jobs.start(lambda: FolderSource(path))     # {"state": "started"}; ConflictError while one runs
    jobs.state                                  # {"state": "done", "report": {...}}
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from copilot.errors import ConflictError, CopilotError

if TYPE_CHECKING:
    from copilot.app import Copilot

log = logging.getLogger(__name__)


class IngestJobs:
    """At most one ingestion at a time, in a background thread of the server."""

    def __init__(self, copilot: Copilot) -> None:
        self.copilot = copilot
        self._lock = threading.Lock()
        self.state: dict[str, Any] = {"state": "idle"}

    def start(self, make_source: Callable[[], Any]) -> dict[str, Any]:
        if not self._lock.acquire(blocking=False):
            raise ConflictError("an ingestion is already running", code="ingest_running")
        self.state = {"state": "running"}

        def work() -> None:
            try:
                report = self.copilot.ingest(make_source())
                self.state = {"state": "done", "report": report.as_dict()}
            except CopilotError as exc:
                self.state = {"state": "failed", "error": exc.message, "code": exc.code}
            except Exception as exc:  # keep the server alive; the error is reported, not raised
                log.exception("ingestion failed")
                self.state = {"state": "failed", "error": type(exc).__name__, "code": "error"}
            finally:
                self._lock.release()

        threading.Thread(target=work, name="copilot-ingest", daemon=True).start()
        return {"state": "started"}

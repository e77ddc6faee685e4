"""The FastAPI service: thin routes that parse, authorise and delegate to :class:`~copilot.app.Copilot`.

The server owns the embedded index (Qdrant Edge locks its write-ahead log), so ingestion runs here as a
background job; the CLI posts to ``/v1/ingest`` when a server is running.

Usage::

    app = build_app(copilot, tokens={"s3cret": Principal(id="ops", name="Ops", role="admin")})
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""


import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from copilot.app import Copilot
from copilot.errors import CopilotError, http_status
from copilot.governance.principal import Principal

log = logging.getLogger(__name__)


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    groups: list[str] | None = Field(
        default=None, description="Narrow the caller's document groups (never widen: intersected with them)."
    )
    filters: dict[str, str] = Field(default_factory=dict, description="Exact payload filters: doc_type, site")


class CitationOut(BaseModel):
    n: int
    doc_id: str
    title: str
    section: str
    page: int | None
    source: str
    quote: str


class PassageOut(BaseModel):
    doc_id: str
    title: str
    score: float


class AskResponse(BaseModel):
    answer: str
    citations: list[CitationOut]
    abstained: bool
    confidence: float
    passages: list[PassageOut]


class IngestRequest(BaseModel):
    path: str = Field(min_length=1, description="A folder on the server's machine")


def acting_principal(caller: Principal, groups: list[str] | None) -> Principal:
    """Apply a request's ``groups``: an admin may ask *as* a staff member of those groups (to check what they
    see; the audit trail still names the admin); anyone else only narrows to a subset of their own groups."""
    if groups is None:
        return caller
    if caller.role == "admin":
        return replace(caller, role="staff", groups=tuple(groups))
    return replace(caller, groups=tuple(g for g in groups if g in caller.groups))


class IngestJobs:
    """At most one ingestion at a time, in a background thread of the server (the index owner)."""

    def __init__(self, copilot: Copilot) -> None:
        self.copilot = copilot
        self._lock = threading.Lock()
        self.state: dict[str, Any] = {"state": "idle"}

    def start(self, make_source: Callable[[], Any]) -> dict[str, Any]:
        if not self._lock.acquire(blocking=False):
            raise HTTPException(409, "an ingestion is already running")

        def work() -> None:
            try:
                self.state = {"state": "running"}
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


def build_app(copilot: Copilot, *, tokens: dict[str, Principal]) -> FastAPI:
    """``tokens`` maps bearer tokens to principals (the auth issue replaces this with users, API keys, OIDC)."""
    app = FastAPI(title="Copilot", version="0.1.0")
    bearer = HTTPBearer(auto_error=False)
    jobs = IngestJobs(copilot)
    app.state.copilot = copilot
    app.state.jobs = jobs

    def principal(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
        if creds is None:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        for token, who in tokens.items():
            if secrets.compare_digest(token.encode(), creds.credentials.encode()):
                return who
        raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})

    def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role != "admin":
            raise HTTPException(403, "admin only")
        return who

    @app.exception_handler(CopilotError)
    async def _copilot_error(_: Request, exc: CopilotError) -> JSONResponse:
        return JSONResponse({"error": exc.code, "detail": exc.message}, status_code=http_status(exc))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/ask", response_model=AskResponse)
    def ask(body: AskRequest, who: Annotated[Principal, Depends(principal)]) -> dict[str, Any]:
        args = {"question": body.question, **body.filters}
        result = copilot.executor.execute(acting_principal(who, body.groups), "knowledge_search", args)
        return dict(result.raise_for_status().result)

    @app.post("/v1/ingest", status_code=202)
    def ingest(body: IngestRequest, _: Annotated[Principal, Depends(admin)]) -> dict[str, Any]:
        from copilot.ingest.sources import FolderSource

        path = Path(body.path)
        if not path.is_dir():
            raise HTTPException(422, "path is not a folder on the server")
        return jobs.start(lambda: FolderSource(path, max_bytes=copilot.settings.max_file_bytes))

    @app.get("/v1/ingest")
    def ingest_state(_: Annotated[Principal, Depends(admin)]) -> dict[str, Any]:
        return jobs.state

    @app.get("/v1/status")
    def status(_: Annotated[Principal, Depends(admin)]) -> dict[str, Any]:
        return copilot.status()

    return app

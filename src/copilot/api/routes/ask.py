"""``POST /v1/ask`` (JSON, or Server-Sent Events with ``Accept: text/event-stream``) and answer feedback.

The answer comes from the governed ``knowledge_search`` tool, so the ACL scope, the role check and the audit
record are the executor's. Streaming sends the answer sentence by sentence (``event: sentence``), then
``event: citations`` (citations, abstained, confidence, request id), then ``event: done``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from copilot.api.deps import Caller, Ctx
from copilot.governance.principal import Principal
from copilot.types import Citation

router = APIRouter(prefix="/v1", tags=["ask"])


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    groups: list[str] | None = Field(
        default=None, max_length=50,
        description="Narrow the caller's document groups (never widen: intersected with them).")
    filters: dict[str, str] = Field(default_factory=dict, description="Exact payload filters: doc_type, site")


CitationOut = Citation
"""Citations go out exactly as the answerer made them (``Answer.to_dict`` is the one shape)."""


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
    request_id: str = Field(description="The audit request id; send it back with feedback")


class FeedbackRequest(BaseModel):
    request_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=1000)


class FeedbackResponse(BaseModel):
    id: int


_FILTER_KEYS = {"doc_type", "site"}
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")


def acting_principal(caller: Principal, groups: list[str] | None) -> Principal:
    """Apply a request's ``groups``: an admin may ask *as* a staff member of those groups (to check what they
    see; the audit trail still names the admin); anyone else only narrows to a subset of their own groups."""
    if groups is None:
        return caller
    if caller.role == "admin":
        return replace(caller, role="staff", groups=tuple(groups))
    return replace(caller, groups=tuple(g for g in groups if g in caller.groups))


def sse(event: str, data: Any) -> str:
    """One SSE frame; JSON data never contains a raw newline, so one ``data:`` line suffices."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream_answer(out: dict[str, Any]) -> Iterator[str]:
    for sentence in _SENTENCE.split(out["answer"].strip()):
        if sentence:
            yield sse("sentence", {"text": sentence})
    yield sse("citations", {k: out[k] for k in ("citations", "abstained", "confidence", "passages",
                                                  "request_id")})
    yield sse("done", {})


@router.post("/ask", response_model=AskResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "JSON, or SSE events sentence* citations done"}})
async def ask(body: AskRequest, who: Caller, ctx: Ctx, request: Request) -> Any:
    """Async: the event loop only parses and streams; the answer is computed in the bounded CPU pool
    (``ask_concurrency``), so a burst queues instead of thrashing the cores."""
    from copilot.errors import ValidationError

    unknown = set(body.filters) - _FILTER_KEYS
    if unknown:
        raise ValidationError(f"unknown filters: {', '.join(sorted(unknown))}", code="validation")
    rid = uuid.uuid4().hex
    args = {"question": body.question, **body.filters}
    acting = acting_principal(who, body.groups)
    result = await ctx.compute(lambda: ctx.copilot.executor.execute(acting, "knowledge_search", args,
                                                                    request_id=rid))
    out = dict(result.raise_for_status().result)
    out["request_id"] = rid
    metrics = ctx.extra.get("metrics")
    if metrics is not None:
        metrics.asks.labels("abstained" if out.get("abstained") else "answered").inc()
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(stream_answer(out), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    return out


@router.post("/feedback", response_model=FeedbackResponse, status_code=201, tags=["feedback"])
def feedback(body: FeedbackRequest, who: Caller, ctx: Ctx) -> dict[str, int]:
    """Thumbs up/down on an answer, kept for the answer evals (joined to the audit trail by request id). A write
    like any other: the governed ``answer_feedback`` tool checks it is the caller's own answer and audits it."""
    res = ctx.copilot.executor.execute(who, "answer_feedback", body.model_dump()).raise_for_status()
    return {"id": int(res.result["id"])}

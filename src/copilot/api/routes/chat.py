"""``POST /v1/chat``: one conversation turn with the agent (the router, or the LLM agent when a model is
configured), as JSON or Server-Sent Events.

JSON: the :class:`~copilot.agent.base.Reply` (text, intent, slots, steps, cards, citations, clarify,
pending_approval) plus ``session_id`` and ``request_id``. SSE (``Accept: text/event-stream``): ``step`` events as
each governed tool call starts (status ``running``) and ends (the step), then ``reply`` (the same object), then
``done``; a turn that fails ends with an ``error`` event. The agent runs every tool through the
governed executor; this handler only parses, authenticates and delegates.

A message that is empty or longer than 8,000 characters is refused with a typed 422 and nothing runs. Sessions
belong to their user: another user's ``session_id`` answers 404.

Usage::

    curl -H "Authorization: Bearer $KEY" -d '{"message": "is BME-DEF-0112 back in service?"}' \\
         -H 'Content-Type: application/json' http://127.0.0.1:8000/v1/chat
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from copilot.agent import progress
from copilot.api.deps import Caller, Ctx, ServiceContext
from copilot.api.routes.ask import sse
from copilot.errors import CopilotError

router = APIRouter(prefix="/v1", tags=["chat"])
log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 8000


class ChatRequest(BaseModel):
    message: str = Field(description="The user's turn (1-8,000 characters)")
    session_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                   description="Continue this conversation (yours); omit to start one")


class ChatResponse(BaseModel):
    text: str
    by: str
    intent: str | None = None
    slots: dict[str, Any] = Field(default_factory=dict)
    steps: list[dict[str, Any]] = Field(default_factory=list)
    cards: list[dict[str, Any]] = Field(default_factory=list)
    citations: list[dict[str, Any]] = Field(default_factory=list)
    clarify: dict[str, Any] | None = None
    pending_approval: str | None = None
    prompt_version: str | None = None
    session_id: str
    request_id: str


_agent_lock = threading.Lock()


def agent_of(ctx: ServiceContext) -> Any:
    """The service's agent, built once on first use (the router warms its classifier then)."""
    agent = ctx.extra.get("agent")
    if agent is None:
        with _agent_lock:
            agent = ctx.extra.get("agent")
            if agent is None:
                from copilot.agent import build_agent

                agent = build_agent(ctx.copilot)
                ctx.extra["agent"] = agent
    return agent


def _check(message: str) -> None:
    from copilot.errors import ValidationError

    if not message.strip():
        raise ValidationError("message: empty", code="message_empty")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ValidationError(f"message: longer than {MAX_MESSAGE_CHARS} characters", code="message_too_long")


def _live(respond: Callable[[], dict[str, Any]]) -> Iterator[str]:
    """Run the turn in a worker thread and stream its tool steps as they start and finish (``step`` events with
    status ``running``, then the step itself), then ``reply`` and ``done``. An error in the turn becomes an
    ``error`` event (typed code, no detail that could hold the user's text)."""
    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def run() -> None:
        try:
            with progress.listening(lambda e: events.put(("step", e))):
                events.put(("reply", respond()))
        except CopilotError as exc:
            events.put(("error", {"error": exc.code, "detail": exc.message}))
        except Exception:  # the stream must end with an event, whatever the turn raised
            log.exception("chat turn failed")
            events.put(("error", {"error": "error", "detail": "the turn failed"}))

    ctx = contextvars.copy_context()
    threading.Thread(target=lambda: ctx.run(run), name="copilot-chat-turn", daemon=True).start()
    while True:
        kind, data = events.get()
        if kind == "step":
            yield sse("step", {k: v for k, v in data.items() if k != "event"})
            continue
        yield sse(kind, data)
        if kind == "reply":
            yield sse("done", {"request_id": data["request_id"], "session_id": data["session_id"]})
        return


@router.post("/chat", response_model=ChatResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "JSON, or SSE events step* reply done"}})
def chat(body: ChatRequest, who: Caller, ctx: Ctx, request: Request) -> Any:
    _check(body.message)
    session_id = body.session_id or uuid.uuid4().hex
    rid = uuid.uuid4().hex
    agent = agent_of(ctx)

    def respond() -> dict[str, Any]:
        out: dict[str, Any] = agent.respond(who, body.message, session_id=session_id, request_id=rid).to_dict()
        out.update(session_id=session_id, request_id=rid)
        return out

    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(_live(respond), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    return respond()

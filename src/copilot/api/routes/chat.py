"""``POST /v1/chat``: one conversation turn with the agent (the router, or the LLM agent when a model is
configured), as JSON or Server-Sent Events.

JSON: the :class:`~copilot.agent.base.Reply` (text, intent, slots, steps, cards, citations, clarify,
pending_approval) plus ``session_id`` and ``request_id``. SSE (``Accept: text/event-stream``): one ``step`` event
per governed tool call, then ``reply`` (the same object), then ``done``. The agent runs every tool through the
governed executor; this handler only parses, authenticates and delegates.

A message that is empty or longer than 8,000 characters is refused with a typed 422 and nothing runs. Sessions
belong to their user: another user's ``session_id`` answers 404.

Usage::

    curl -H "Authorization: Bearer $KEY" -d '{"message": "is BME-DEF-0112 back in service?"}' \\
         -H 'Content-Type: application/json' http://127.0.0.1:8000/v1/chat
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from copilot.api.deps import Caller, Ctx, ServiceContext
from copilot.api.routes.ask import sse

router = APIRouter(prefix="/v1", tags=["chat"])

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


def _stream(out: dict[str, Any]) -> Iterator[str]:
    for step in out.get("steps") or []:
        yield sse("step", step)
    yield sse("reply", out)
    yield sse("done", {"request_id": out["request_id"], "session_id": out["session_id"]})


@router.post("/chat", response_model=ChatResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "JSON, or SSE events step* reply done"}})
def chat(body: ChatRequest, who: Caller, ctx: Ctx, request: Request) -> Any:
    _check(body.message)
    session_id = body.session_id or uuid.uuid4().hex
    rid = uuid.uuid4().hex
    reply = agent_of(ctx).respond(who, body.message, session_id=session_id, request_id=rid)
    out = reply.to_dict()
    out.update(session_id=session_id, request_id=rid)
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(_stream(out), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    return out

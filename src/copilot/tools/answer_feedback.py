"""``answer_feedback``: a thumbs up or down on one of the caller's own answers — a write like any other, so it goes
through the executor (role check, audit record with the comment redacted) instead of a side door.

Usage (through the executor only)::

    executor.execute(nurse, "answer_feedback", {"request_id": rid, "rating": "down", "comment": "outdated"})
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from copilot.errors import NotFoundError
from copilot.tools.base import ToolContext, tool


class AnswerFeedbackArgs(BaseModel):
    request_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=1000)


@tool(name="answer_feedback", args=AnswerFeedbackArgs, read_only=False, pii_fields=("comment",),
      description="Record a thumbs up or down (and a comment) on one of your own answers.")
def answer_feedback(args: AnswerFeedbackArgs, ctx: ToolContext) -> dict[str, Any]:
    services = ctx.services
    asked = services.audit.search(request_id=args.request_id, principal=ctx.principal.id, limit=5)
    if not any(r.tool != "answer_feedback" for r in asked):
        raise NotFoundError("no answer of yours with that request id", code="not_found")
    comment = services.redactor.redact(args.comment).text if args.comment else None
    fid = services.feedback.add_feedback(args.request_id, ctx.principal.id, 1 if args.rating == "up" else -1, comment)
    return {"id": fid}

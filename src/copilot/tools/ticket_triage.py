"""``ticket_triage``: suggest team, category and priority for helpdesk tickets (read-only).

Either Odoo ticket ids (read through the helpdesk reader) or a subject and body pasted by an agent. The text is
redacted before it reaches the model and comes back redacted; the subject and body arguments are masked in the
audit trail.

Usage (through the executor only)::

    executor.execute(agent, "ticket_triage", {"ticket_ids": [41, 42]})
    executor.execute(agent, "ticket_triage", {"subject": "Vent alarm", "body": "BME-VEN-0047 alarming on ICU"})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from copilot.tools.base import ToolContext, tool


class TicketTriageArgs(BaseModel):
    ticket_ids: list[int] = Field(default_factory=list, max_length=100)
    subject: str = Field(default="", max_length=1000)
    body: str = Field(default="", max_length=1_000_000)

    @model_validator(mode="after")
    def _one_of(self) -> TicketTriageArgs:
        if not self.ticket_ids and not (self.subject.strip() or self.body.strip()):
            raise ValueError("give ticket_ids, or a subject or body")
        return self


@tool(
    name="ticket_triage",
    args=TicketTriageArgs,
    read_only=True,
    description="Suggest team, category and priority for helpdesk tickets, with calibrated confidence, the top "
    "alternatives and similar resolved tickets; flags tickets naming life-support equipment as urgent.",
    pii_fields=("subject", "body"),
)
def ticket_triage(args: TicketTriageArgs, ctx: ToolContext) -> dict[str, Any]:
    triage = ctx.services.triage
    if args.ticket_ids:
        tickets = triage.reader.read(args.ticket_ids)
        found = {t.id for t in tickets}
        suggestions = triage.suggest([(t.subject, t.body) for t in tickets])
        out = [
            {"ticket_id": t.id, "current": t.labels, **s}
            for t, s in zip(tickets, suggestions, strict=True)
        ]
        out += [{"ticket_id": i, "reason": "not_found", "labels": {}} for i in args.ticket_ids if i not in found]
    else:
        out = triage.suggest([(args.subject, args.body)])
    ctx.notes.model = "triage:" + str(out[0].get("model_version")) if out else None
    return {"suggestions": out}

"""``ticket_triage_apply``: write a triage decision to the Odoo ticket (team, type, priority, tags), post a chatter
note saying what Copilot did, with what confidence and why, and keep the previous values for undo.

Governed like every write: the default policy applies a model's suggestion on its own only when every label is
above its class threshold and the ticket is neither urgent nor about critical equipment; otherwise the call waits
for a helpdesk agent. An agent's own decision (``source: agent``) is allowed to agents and admins only. The write
is refused (``ticket_changed``) when a person edited the ticket in Odoo after the suggestion, and an item already
applied is never written twice.

Usage (through the executor only)::

    executor.execute(bot, "ticket_triage_apply", {"ticket_id": 7, "item_id": "...",
        "labels": {"ticket_type_id": "Medical equipment", "team_id": "Biomedical Engineering"},
        "confidence": 0.97, "auto": True, "expected_write_date": "2026-12-01 10:00:00"})
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class TriageApplyArgs(BaseModel):
    ticket_id: int = Field(ge=1)
    labels: dict[str, str] = Field(min_length=1, max_length=10)
    """Odoo field -> the value's display name (many2one) or key (selection)."""
    confidence: float = Field(ge=0, le=1)
    auto: bool = False
    """Every label is at or above its class's auto-apply threshold."""
    urgent: bool = False
    critical_equipment: bool = False
    source: Literal["model", "agent"] = "model"
    item_id: str | None = Field(default=None, max_length=36)
    expected_write_date: str | None = Field(default=None, max_length=32)
    alternatives: list[str] = Field(default_factory=list, max_length=5)
    """For the chatter note: the runner-up labels with their probabilities, e.g. "Network & phones 0.04"."""
    model_version: str | None = Field(default=None, max_length=64)


def chatter_note(args: TriageApplyArgs, who: str) -> str:
    """Plain text: Odoo escapes it and wraps it in a paragraph itself (``message_post`` with a str body)."""
    what = ", ".join(f"{f} = {v}" for f, v in args.labels.items())
    if args.source == "agent":
        return f"Copilot triage: {what}, decided by {who}."
    why = f"confidence {args.confidence:.2f}"
    if args.alternatives:
        why += "; alternatives: " + ", ".join(args.alternatives)
    if args.critical_equipment:
        why += "; names critical equipment"
    how = "applied automatically" if args.auto else f"accepted by {who}"
    return f"Copilot triage: {what} ({why}; model {args.model_version or '?'}; {how})."


@tool(
    name="ticket_triage_apply",
    args=TriageApplyArgs,
    read_only=False,
    description="Write a triage decision (team, type, priority) to an Odoo helpdesk ticket with a chatter note; "
    "confident, non-urgent suggestions apply on their own, the rest wait for a helpdesk agent.",
    approving_roles=("helpdesk_agent", "admin"),
)
def ticket_triage_apply(args: TriageApplyArgs, ctx: ToolContext) -> dict[str, Any]:
    who = ctx.approver_id or ctx.principal.id
    result: dict[str, Any] = ctx.services.triage.apply(
        ticket_id=args.ticket_id,
        item_id=args.item_id,
        labels=args.labels,
        expected_write_date=args.expected_write_date,
        note=chatter_note(args, who),
        actor=who,
    )
    ctx.notes.model = f"triage:{args.model_version}" if args.model_version else None
    return result

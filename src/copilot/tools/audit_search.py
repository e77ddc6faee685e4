"""``audit_search``: compliance searches the audit trail — and the search itself is audited (who looked for what,
when), like every other read of governed data. Arguments are stored redacted, as for any tool.

Usage (through the executor only)::

    executor.execute(compliance_user, "audit_search", {"tool": "purchase_request_create", "limit": 50})
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool

_IDENT = r"^[A-Za-z0-9_.:@-]+$"


class AuditSearchArgs(BaseModel):
    text: str | None = Field(default=None, max_length=200, description="Substring of args, tool, error, rule")
    principal: str | None = Field(default=None, max_length=128, pattern=_IDENT)
    tool: str | None = Field(default=None, max_length=128, pattern=_IDENT)
    kind: str | None = Field(default=None, max_length=128, pattern=_IDENT)
    outcome: str | None = Field(default=None, max_length=128, pattern=_IDENT)
    decision: str | None = Field(default=None, max_length=128, pattern=_IDENT)
    request_id: str | None = Field(default=None, max_length=128, pattern=_IDENT)
    approval_id: str | None = Field(default=None, max_length=128, pattern=_IDENT)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=1, le=1000)


@tool(name="audit_search", args=AuditSearchArgs, read_only=True,
      description="Search the tamper-evident audit trail (compliance).")
def audit_search(args: AuditSearchArgs, ctx: ToolContext) -> dict[str, Any]:
    recs = ctx.services.audit.search(
        text=args.text, principal=args.principal, tool=args.tool, kind=args.kind, outcome=args.outcome,
        request_id=args.request_id, approval_id=args.approval_id, since=args.since, until=args.until,
        limit=None if args.decision else args.limit)
    if args.decision:
        recs = [r for r in recs if r.decision == args.decision][-args.limit:]
    return {"records": [r.to_dict() for r in recs]}

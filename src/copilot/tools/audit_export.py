"""``audit_export``: export audit records verbatim (hashes included, so an auditor can re-verify the chain
elsewhere) — the export itself is audited with its filters.

Usage (through the executor only)::

    res = executor.execute(compliance_user, "audit_export", {"format": "csv", "tool": "purchase_request_create"})
    res.result["content"], res.result["count"]
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class AuditExportArgs(BaseModel):
    format: Literal["jsonl", "csv"] = "jsonl"
    principal: str | None = Field(default=None, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")
    tool: str | None = Field(default=None, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")
    since: datetime | None = None
    until: datetime | None = None


@tool(name="audit_export", args=AuditExportArgs, read_only=True,
      description="Export audit records verbatim as JSON lines or CSV (compliance).")
def audit_export(args: AuditExportArgs, ctx: ToolContext) -> dict[str, Any]:
    buf = io.StringIO()
    n = ctx.services.audit.export(buf, fmt=args.format, since=args.since, until=args.until,
                                 principal=args.principal, tool=args.tool)
    return {"format": args.format, "count": n, "content": buf.getvalue()}

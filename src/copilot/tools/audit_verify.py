"""``audit_verify``: verify the audit trail's hash chain (from genesis or a checkpoint) — and record that it was
verified, by whom, with what outcome.

Usage (through the executor only)::

    executor.execute(compliance_user, "audit_verify", {})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class AuditVerifyArgs(BaseModel):
    from_checkpoint: str | None = Field(default=None, max_length=64,
                                        description="A checkpoint id, 'latest' or 'retention' (default: genesis)")


@tool(name="audit_verify", args=AuditVerifyArgs, read_only=True,
      description="Verify the audit trail's hash chain (compliance).")
def audit_verify(args: AuditVerifyArgs, ctx: ToolContext) -> dict[str, Any]:
    report: dict[str, Any] = ctx.services.audit.verify(from_checkpoint=args.from_checkpoint).to_dict()
    return report

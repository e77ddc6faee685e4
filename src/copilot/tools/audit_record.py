"""``audit_record``: one audit record by id, for compliance — the read is audited too.

Usage (through the executor only)::

    executor.execute(compliance_user, "audit_record", {"record_id": "01J..."})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class AuditRecordArgs(BaseModel):
    record_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


@tool(name="audit_record", args=AuditRecordArgs, read_only=True, description="Read one audit record (compliance).")
def audit_record(args: AuditRecordArgs, ctx: ToolContext) -> dict[str, Any]:
    record: dict[str, Any] = ctx.services.audit.get(args.record_id).to_dict()
    return record

"""Compliance review: audit search, record detail, chain verification, export; the approvals queue.

Audit routes are authorised by the governance policy (``audit_search`` / ``audit_export`` / ``audit_verify``:
the compliance role and admins). Approval decisions go to the executor, which enforces segregation of duties
(not your own request, an approving role for its rule) and audits every decision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from copilot.api.deps import Caller, Ctx
from copilot.governance.approvals import ApprovalStatus
from copilot.governance.audit import AuditRecord
from copilot.governance.principal import Principal

router = APIRouter(prefix="/v1", tags=["review"])

# The audit routes authorise in the executor (the policy's tool list per role), so a refused read is audited too.
_Ident = Annotated[str | None, Query(max_length=200)]


AuditRecordOut = AuditRecord
"""Audit records go out exactly as stored (the ``*_json`` columns verbatim, so a reader can re-verify hashes)."""


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    start_seq: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    first_bad_record_id: str | None
    reason: str | None
    seconds: float


class ApprovalOut(BaseModel):
    id: str
    status: str
    tool: str
    request_id: str
    requester_id: str
    requester_role: str
    args: dict[str, Any]
    facts: dict[str, Any] | None = None
    """What Odoo said when the call was parked — the records to be written, with links (tools with facts)."""
    rule_id: str | None
    reason: str
    approving_roles: list[str]
    created_at: str
    expires_at: str
    decided_at: str | None
    decided_by: str | None
    decided_role: str | None
    decision_reason: str | None
    executed_at: str | None
    outcome: str | None
    error_code: str | None


class DecisionIn(BaseModel):
    reason: str = Field(default="", max_length=1000)


class DecisionOut(BaseModel):
    approval_id: str
    status: str
    audit_id: str | None = None
    error: str | None = None


def _governed(ctx: Ctx, who: Principal, tool: str, args: dict[str, Any]) -> Any:
    """Compliance's reads go through the executor like any tool: role check, and an audit record of the read."""
    return ctx.copilot.executor.execute(who, tool, {k: v for k, v in args.items() if v is not None}
                                        ).raise_for_status().result


@router.get("/audit/records", response_model=list[AuditRecordOut])
def audit_search(
    ctx: Ctx, who: Caller,
    text: Annotated[str | None, Query(max_length=200, description="Substring of args, tool, error, rule")] = None,
    principal: _Ident = None, tool: _Ident = None, kind: _Ident = None, outcome: _Ident = None,
    decision: _Ident = None, request_id: _Ident = None,
    since: datetime | None = None, until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    out = _governed(ctx, who, "audit_search", {
        "text": text, "principal": principal, "tool": tool, "kind": kind, "outcome": outcome, "decision": decision,
        "request_id": request_id, "since": since, "until": until, "limit": limit})
    records: list[dict[str, Any]] = out["records"]
    return records


@router.get("/audit/records/{record_id}", response_model=AuditRecordOut)
def audit_record(record_id: Annotated[str, Path(max_length=64)], ctx: Ctx, who: Caller) -> dict[str, Any]:
    record: dict[str, Any] = _governed(ctx, who, "audit_record", {"record_id": record_id})
    return record


@router.get("/audit/verify", response_model=VerifyOut)
def audit_verify(ctx: Ctx, who: Caller) -> dict[str, Any]:
    report: dict[str, Any] = _governed(ctx, who, "audit_verify", {})
    return report


@router.get("/audit/export", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}})
def audit_export(
    ctx: Ctx, who: Caller, format: Literal["jsonl", "csv"] = "jsonl",
    principal: _Ident = None, tool: _Ident = None,
    since: datetime | None = None, until: datetime | None = None,
) -> StreamingResponse:
    out = _governed(ctx, who, "audit_export", {"format": format, "principal": principal, "tool": tool,
                                               "since": since, "until": until})
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(iter([out["content"]]), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="copilot-audit.{format}"', "X-Record-Count": str(out["count"])})


@router.get("/approvals", response_model=list[ApprovalOut], tags=["approvals"])
def approvals_list(
    ctx: Ctx, who: Caller,
    status: Literal["pending", "approved", "rejected", "expired", "all"] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Requests the caller's role may decide (admins and compliance see all)."""
    role = None if who.role in ("admin", "compliance") else who.role
    reqs = ctx.copilot.approvals.find(status=None if status == "all" else ApprovalStatus(status),
                                      approver_role=role, limit=limit)
    return [r.to_dict() for r in reqs]


@router.get("/approvals/{approval_id}", response_model=ApprovalOut, tags=["approvals"])
def approval_get(approval_id: Annotated[str, Path(max_length=64)], ctx: Ctx, who: Caller) -> dict[str, Any]:
    """One request, for its requester (the widget waits on it) and for whoever may decide it."""
    from copilot.errors import NotFoundError

    req = ctx.copilot.approvals.get(approval_id)
    if not (req.requester.id == who.id or who.role in ("admin", "compliance", *req.approving_roles)):
        raise NotFoundError("no such approval request", code="not_found")  # not 403: ids are not disclosed
    out: dict[str, Any] = req.to_dict()
    return out


@router.post("/approvals/{approval_id}/approve", response_model=DecisionOut, tags=["approvals"])
def approve(approval_id: str, body: DecisionIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    res = ctx.copilot.executor.approve(who, approval_id, reason=body.reason)
    return {"approval_id": approval_id, "status": res.status, "audit_id": res.audit_id, "error": res.error_code}


@router.post("/approvals/{approval_id}/reject", response_model=DecisionOut, tags=["approvals"])
def reject(approval_id: str, body: DecisionIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    req = ctx.copilot.executor.reject(who, approval_id, reason=body.reason)
    return {"approval_id": req.id, "status": req.status.value}

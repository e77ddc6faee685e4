"""Helpdesk triage for agents: suggest for one ticket or a batch, the queue of suggestions, and decisions.

Every Odoo write goes through the executor as ``ticket_triage_apply``: *accept* approves the pending call (the
approvals routes work too), *change* rejects it and applies the agent's own labels as the agent, *reject* rejects
it and records that the ticket's labels stand (feedback for the next training). Authorised by the policy: the
caller's role must be allowed ``ticket_triage`` (reads) or ``ticket_triage_apply`` (decisions).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from copilot.api.deps import Ctx, require_tool
from copilot.errors import ConflictError, NotFoundError, ValidationError
from copilot.governance.approvals import ApprovalStatus
from copilot.governance.principal import Principal
from copilot.triage.model import TriageModelError
from copilot.triage.service import approval_lookup

router = APIRouter(prefix="/v1/triage", tags=["triage"])

Reader = Annotated[Principal, Depends(require_tool("ticket_triage"))]
Decider = Annotated[Principal, Depends(require_tool("ticket_triage_apply"))]
SYNC_LIMIT = 20
"""More ticket ids than this run as a background job (progress at ``GET /v1/triage/jobs``)."""


class TriageRequest(BaseModel):
    subject: str = Field(default="", max_length=1000)
    body: str = Field(default="", max_length=1_000_000)
    ticket_ids: list[int] = Field(default_factory=list, max_length=5000)
    backlog: bool = Field(default=False, description="Triage every open ticket (background job)")

    @model_validator(mode="after")
    def _something(self) -> TriageRequest:
        if not (self.backlog or self.ticket_ids or self.subject.strip() or self.body.strip()):
            raise ValueError("give a subject or body, ticket_ids, or backlog=true")
        return self


class DecisionRequest(BaseModel):
    action: Literal["accept", "change", "reject"]
    labels: dict[str, str] = Field(default_factory=dict, max_length=10,
                                   description="change: target (category, team, priority) -> label")
    reason: str = Field(default="", max_length=1000)


def _fields(ctx: Any) -> dict[str, str]:
    return {**ctx.copilot.triage.targets, "team": "team_id"}


@router.post("", responses={202: {"description": "a batch started in the background"}})
def triage(body: TriageRequest, ctx: Ctx, who: Reader) -> Any:
    """One ticket (subject/body, or up to 20 ticket ids) is answered at once; larger batches and the backlog
    run in the background and fill the queue."""
    if body.backlog or len(body.ticket_ids) > SYNC_LIMIT:
        state = ctx.extra["triage_jobs"].start(backlog=body.backlog, ticket_ids=body.ticket_ids or None)
        return JSONResponse(state, status_code=202)
    res = ctx.copilot.executor.execute(
        who, "ticket_triage",
        {"ticket_ids": body.ticket_ids} if body.ticket_ids else {"subject": body.subject, "body": body.body},
    ).raise_for_status()
    return res.result


@router.get("/jobs")
def jobs(ctx: Ctx, _: Reader) -> dict[str, Any]:
    state: dict[str, Any] = ctx.extra["triage_jobs"].state
    return state


def _approval_status(ctx: Any) -> Any:
    return approval_lookup(ctx.copilot.approvals)


@router.get("/queue")
def queue(
    ctx: Ctx, _: Reader,
    status: Literal["suggested", "applied", "rejected", "failed", "no_suggestion", "agrees", "expired",
                    "superseded", "all"] = "suggested",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Suggestions with confidence, top alternatives, similar resolved tickets and Odoo links."""
    svc = ctx.copilot.triage
    svc.reconcile(_approval_status(ctx))
    items = []
    for it in svc.store.queue(status=status, limit=limit):
        d = it.to_dict()
        d["link"] = svc.ticket_link(it.odoo_model, it.ticket_id)
        for sim in d["suggestion"].get("similar", []):
            sim["link"] = svc.ticket_link(it.odoo_model, sim["ticket_id"])
        items.append(d)
    return {"items": items, "counts": svc.store.counts(), "model_version": svc.models.current_version(),
            "job": ctx.extra["triage_jobs"].state}


@router.get("/model")
def model_card(ctx: Ctx, _: Reader) -> dict[str, Any]:
    """The current model's card (data window, classes, per-class precision/recall, calibration, thresholds)."""
    try:
        card: dict[str, Any] = ctx.copilot.triage.models.load()[1].card
    except TriageModelError as exc:
        if exc.code == "triage_no_model":
            raise NotFoundError(exc.message, code=exc.code) from exc
        raise
    return card


@router.post("/items/{item_id}/decision")
def decide(
    item_id: Annotated[str, Path(max_length=36)], body: DecisionRequest, ctx: Ctx, who: Decider
) -> dict[str, Any]:
    svc = ctx.copilot.triage
    ex = ctx.copilot.executor
    item = svc.store.get(item_id)
    if item.status not in ("suggested", "failed"):
        raise ConflictError(f"this suggestion is already {item.status}", code="already_decided")
    pending = None
    if item.approval_id:
        req = ctx.copilot.approvals.get(item.approval_id)
        pending = req if req.status is ApprovalStatus.PENDING else None
    fields = _fields(ctx)
    if body.action == "accept" and pending is not None:
        res = ex.approve(who, pending.id, reason=body.reason).raise_for_status()
        return {"item_id": item_id, "status": "applied", "result": res.result}
    if body.action == "reject":
        if pending is not None:
            ex.reject(who, pending.id, reason=body.reason or "rejected in the triage queue")
        svc.reconcile(_approval_status(ctx))
        if pending is None:
            svc.store.update(item_id, expect=("suggested", "failed"), status="rejected",
                             final=svc.rejected_final(item), decided_by=who.id)
        return {"item_id": item_id, "status": "rejected"}
    # change, or accept of an item with no pending approval (a failed write retried by the agent)
    wanted = body.labels if body.action == "change" else {
        k: v["label"] for k, v in item.suggestion.get("labels", {}).items() if v.get("label")}
    unknown = [k for k in wanted if k not in fields]
    if unknown or not wanted:
        raise ValidationError(f"labels must name targets among {sorted(fields)}")
    labels = {fields[k]: v for k, v in wanted.items()}
    svc.check_labels(labels)  # a typo is a 422 and the pending call stays as it was
    if pending is not None:
        ex.reject(who, pending.id, reason="changed in the triage queue")
    res = ex.execute(who, "ticket_triage_apply", {
        "ticket_id": item.ticket_id, "item_id": item_id, "labels": labels, "confidence": 1.0,
        "source": "agent", "expected_write_date": item.ticket_write_date or None,
        "model_version": item.model_version}).raise_for_status()
    return {"item_id": item_id, "status": "applied", "result": res.result}

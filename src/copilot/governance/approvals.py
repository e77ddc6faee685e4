"""Pending approvals: storage and the state machine ``pending → approved | rejected | expired``.

Transitions are conditional updates (``WHERE status = 'pending'``) run inside the audit log's chain-locked
transaction together with their audit record, so a replayed or concurrent approve can win only once and every
transition is on the chain. The decision flow itself (segregation of duties, running the call once) lives in
:meth:`copilot.governance.executor.GovernedExecutor.approve`.

The raw arguments of a pending call are needed to run it later, so they are kept — only while the request is
pending — and erased on any decision; the redacted form stays for listing and review.

Usage::

    store = ApprovalStore(engine)
    for req in store.find(status=ApprovalStatus.PENDING):
        print(req.id, req.tool, req.args_redacted)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, Text, insert, select, update

from copilot.errors import NotFoundError
from copilot.governance.audit import canonical_json, to_iso
from copilot.governance.principal import Principal

metadata = MetaData()

approvals = Table(
    "approvals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("tool", String(128), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("requester_id", String(128), nullable=False),
    Column("requester_role", String(64), nullable=False),
    Column("requester_json", Text, nullable=False),
    Column("args_raw", Text),
    Column("args_redacted", Text, nullable=False),
    Column("rule_id", String(128)),
    Column("reason", Text, nullable=False),
    Column("approving_roles", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("decided_at", String(32)),
    Column("decided_by", String(128)),
    Column("decided_role", String(64)),
    Column("decision_reason", Text),
    Column("executed_at", String(32)),
    Column("outcome", String(32)),
    Column("error_code", String(64)),
)


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ApprovalRequest:
    id: str
    status: ApprovalStatus
    tool: str
    request_id: str
    requester: Principal
    args_redacted: dict[str, Any]
    rule_id: str | None
    reason: str
    approving_roles: tuple[str, ...]
    created_at: str
    expires_at: str
    decided_at: str | None
    decided_by: str | None
    decided_role: str | None
    decision_reason: str | None
    executed_at: str | None
    outcome: str | None
    error_code: str | None
    args_raw: dict[str, Any] | None = None

    @property
    def facts(self) -> dict[str, Any] | None:
        """What Odoo said when the call was parked (records with links, amounts): what approving would write."""
        facts = self.args_redacted.get("_facts") if isinstance(self.args_redacted, dict) else None
        return facts if isinstance(facts, dict) else None

    def is_expired(self, now: datetime) -> bool:
        return (to_iso(now) or "") >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        """A view without the raw arguments (safe for lists, the CLI and the API)."""
        return {
            "id": self.id,
            "status": self.status.value,
            "tool": self.tool,
            "request_id": self.request_id,
            "requester_id": self.requester.id,
            "requester_role": self.requester.role,
            "args": {k: v for k, v in self.args_redacted.items() if k != "_facts"},
            "facts": self.facts,
            "rule_id": self.rule_id,
            "reason": self.reason,
            "approving_roles": list(self.approving_roles),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "decided_at": self.decided_at,
            "decided_by": self.decided_by,
            "decided_role": self.decided_role,
            "decision_reason": self.decision_reason,
            "executed_at": self.executed_at,
            "outcome": self.outcome,
            "error_code": self.error_code,
        }


def _secure_delete(conn: Connection) -> None:
    """SQLite keeps overwritten values in free pages; make erasing raw arguments actually erase them."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete=ON")


def _from_row(row: Any) -> ApprovalRequest:
    m = row._mapping
    return ApprovalRequest(
        id=m["id"],
        status=ApprovalStatus(m["status"]),
        tool=m["tool"],
        request_id=m["request_id"],
        requester=Principal.from_dict(json.loads(m["requester_json"])),
        args_redacted=json.loads(m["args_redacted"]),
        rule_id=m["rule_id"],
        reason=m["reason"],
        approving_roles=tuple(json.loads(m["approving_roles"])),
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        decided_at=m["decided_at"],
        decided_by=m["decided_by"],
        decided_role=m["decided_role"],
        decision_reason=m["decision_reason"],
        executed_at=m["executed_at"],
        outcome=m["outcome"],
        error_code=m["error_code"],
        args_raw=json.loads(m["args_raw"]) if m["args_raw"] else None,
    )


class ApprovalStore:
    """Rows of the ``approvals`` table. Writes take a connection so they join the audit transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self,
        conn: Connection,
        *,
        tool: str,
        request_id: str,
        requester: Principal,
        args_raw: dict[str, Any],
        args_redacted: Any,
        rule_id: str | None,
        reason: str,
        approving_roles: tuple[str, ...],
        now: datetime,
        ttl: timedelta,
    ) -> str:
        approval_id = str(uuid.uuid4())
        conn.execute(
            insert(approvals),
            {
                "id": approval_id,
                "status": ApprovalStatus.PENDING.value,
                "tool": tool,
                "request_id": request_id,
                "requester_id": requester.id,
                "requester_role": requester.role,
                "requester_json": canonical_json(requester.to_dict()),
                "args_raw": json.dumps(args_raw),
                "args_redacted": canonical_json(args_redacted),
                "rule_id": rule_id,
                "reason": reason,
                "approving_roles": json.dumps(list(approving_roles)),
                "created_at": to_iso(now),
                "expires_at": to_iso(now + ttl),
            },
        )
        return approval_id

    def get(self, approval_id: str, *, conn: Connection | None = None) -> ApprovalRequest:
        q = select(approvals).where(approvals.c.id == approval_id)
        if conn is not None:
            row = conn.execute(q).first()
        else:
            with self.engine.connect() as c:
                row = c.execute(q).first()
        if row is None:
            raise NotFoundError("no such approval request", code="approval_not_found")
        return _from_row(row)

    def find(
        self,
        *,
        status: ApprovalStatus | str | None = ApprovalStatus.PENDING,
        tool: str | None = None,
        approver_role: str | None = None,
        limit: int = 100,
    ) -> list[ApprovalRequest]:
        """Requests, oldest first. ``approver_role`` keeps those that role may decide."""
        q = select(approvals).order_by(approvals.c.created_at)
        if status is not None:
            q = q.where(approvals.c.status == ApprovalStatus(status).value)
        if tool:
            q = q.where(approvals.c.tool == tool)
        with self.engine.connect() as conn:
            reqs = [_from_row(r) for r in conn.execute(q)]
        if approver_role:
            reqs = [r for r in reqs if approver_role in r.approving_roles]
        return reqs[:limit]

    def transition(
        self,
        conn: Connection,
        approval_id: str,
        to: ApprovalStatus,
        *,
        now: datetime,
        decided_by: str | None = None,
        decided_role: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """Move a *pending* request to ``to``; False when it was no longer pending (lost race, replay).

        Raw arguments are erased on rejection and expiry; on approval they are kept until the run is recorded.
        """
        values: dict[str, Any] = {
            "status": to.value,
            "decided_at": to_iso(now),
            "decided_by": decided_by,
            "decided_role": decided_role,
            "decision_reason": reason,
        }
        if to is not ApprovalStatus.APPROVED:
            values["args_raw"] = None
            _secure_delete(conn)
        res = conn.execute(
            update(approvals)
            .where(approvals.c.id == approval_id, approvals.c.status == ApprovalStatus.PENDING.value)
            .values(**values)
        )
        return res.rowcount == 1

    def record_execution(
        self, conn: Connection, approval_id: str, *, outcome: str, error_code: str | None, now: datetime
    ) -> None:
        _secure_delete(conn)
        conn.execute(
            update(approvals)
            .where(approvals.c.id == approval_id)
            .values(executed_at=to_iso(now), outcome=outcome, error_code=error_code, args_raw=None)
        )

    def due(self, now: datetime | None = None) -> list[ApprovalRequest]:
        now = now or datetime.now(UTC)
        q = select(approvals).where(
            approvals.c.status == ApprovalStatus.PENDING.value, approvals.c.expires_at <= to_iso(now)
        )
        with self.engine.connect() as conn:
            return [_from_row(r) for r in conn.execute(q)]

"""The triage queue: suggestions per ticket version, their outcome, and agents' feedback for the next training.

Statuses: ``suggested`` (waiting for an agent: below threshold, urgent or critical — an approval is pending),
``applied`` (written to Odoo), ``rejected`` (an agent said no), ``no_suggestion`` (empty, other language, no model),
``failed`` (Odoo refused the write; the suggestion stays for a retry), ``superseded`` (the ticket changed in Odoo).

Usage::

    store = TriageStore(engine)
    item = store.upsert(model="helpdesk.ticket", ticket_id=7, write_date="2026-12-01 10:00:00", ...)
    store.queue(status="suggested")
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Text, and_, insert, select, update

from copilot.errors import NotFoundError

metadata = MetaData()

items = Table(
    "triage_items",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("odoo_model", String(64), nullable=False),
    Column("ticket_id", Integer, nullable=False),
    Column("ticket_write_date", String(32), nullable=False),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("current_json", Text, nullable=False),
    Column("suggestion_json", Text, nullable=False),
    Column("model_version", String(64)),
    Column("status", String(24), nullable=False),
    Column("reason", String(64)),
    Column("approval_id", String(36)),
    Column("audit_id", String(64)),
    Column("decided_by", String(128)),
    Column("decided_at", String(32)),
    Column("final_json", Text),
    Column("previous_json", Text),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)
state = Table("triage_state", metadata, Column("key", String(64), primary_key=True), Column("value", Text))

OPEN_STATUSES = ("suggested", "failed")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class TriageItem:
    id: str
    odoo_model: str
    ticket_id: int
    ticket_write_date: str
    subject: str
    text: str
    current: dict[str, str]
    suggestion: dict[str, Any]
    model_version: str | None
    status: str
    reason: str | None
    approval_id: str | None
    audit_id: str | None
    decided_by: str | None
    decided_at: str | None
    final: dict[str, Any] | None
    previous: dict[str, Any] | None
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "odoo_model": self.odoo_model,
            "ticket_id": self.ticket_id,
            "ticket_write_date": self.ticket_write_date,
            "subject": self.subject,
            "text": self.text,
            "current": self.current,
            "suggestion": self.suggestion,
            "model_version": self.model_version,
            "status": self.status,
            "reason": self.reason,
            "approval_id": self.approval_id,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "final": self.final,
            "previous": self.previous,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def _item(row: Any) -> TriageItem:
    m = row._mapping

    def j(key: str) -> Any:
        return json.loads(m[key]) if m[key] else None

    return TriageItem(
        id=m["id"],
        odoo_model=m["odoo_model"],
        ticket_id=int(m["ticket_id"]),
        ticket_write_date=m["ticket_write_date"],
        subject=m["subject"],
        text=m["text"],
        current=j("current_json") or {},
        suggestion=j("suggestion_json") or {},
        model_version=m["model_version"],
        status=m["status"],
        reason=m["reason"],
        approval_id=m["approval_id"],
        audit_id=m["audit_id"],
        decided_by=m["decided_by"],
        decided_at=m["decided_at"],
        final=j("final_json"),
        previous=j("previous_json"),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


class TriageStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, odoo_model: str, ticket_id: int, write_date: str) -> TriageItem | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(items).where(
                    and_(
                        items.c.odoo_model == odoo_model,
                        items.c.ticket_id == ticket_id,
                        items.c.ticket_write_date == write_date,
                    )
                )
            ).first()
        return _item(row) if row else None

    def add(
        self,
        *,
        odoo_model: str,
        ticket_id: int,
        write_date: str,
        subject: str,
        text: str,
        current: dict[str, str],
        suggestion: dict[str, Any],
        model_version: str | None,
        status: str,
        reason: str | None = None,
    ) -> tuple[TriageItem, bool]:
        """Insert the suggestion for this ticket version; an existing row for the same version is returned
        unchanged (``created`` False). Older open rows of the ticket become ``superseded``."""
        existing = self.find(odoo_model, ticket_id, write_date)
        if existing is not None:
            return existing, False
        now = _now()
        iid = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(
                update(items)
                .where(
                    and_(
                        items.c.odoo_model == odoo_model,
                        items.c.ticket_id == ticket_id,
                        items.c.status.in_((*OPEN_STATUSES, "no_suggestion")),
                    )
                )
                .values(status="superseded", updated_at=now)
            )
            conn.execute(
                insert(items).values(
                    id=iid,
                    odoo_model=odoo_model,
                    ticket_id=ticket_id,
                    ticket_write_date=write_date,
                    subject=subject,
                    text=text,
                    current_json=json.dumps(current),
                    suggestion_json=json.dumps(suggestion),
                    model_version=model_version,
                    status=status,
                    reason=reason,
                    created_at=now,
                    updated_at=now,
                )
            )
        return self.get(iid), True

    def get(self, item_id: str) -> TriageItem:
        with self.engine.connect() as conn:
            row = conn.execute(select(items).where(items.c.id == item_id)).first()
        if row is None:
            raise NotFoundError("no such triage item", code="triage_item_missing")
        return _item(row)

    def by_approval(self, approval_id: str) -> TriageItem | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(items).where(items.c.approval_id == approval_id)).first()
        return _item(row) if row else None

    def update(self, item_id: str, *, expect: tuple[str, ...] | None = None, **values: Any) -> bool:
        """Conditional update (``expect``: the statuses it may move from), so a retry or a race applies once."""
        vals = {k + "_json" if k in ("final", "previous") else k: v for k, v in values.items()}
        for k in ("final_json", "previous_json"):
            if k in vals and vals[k] is not None:
                vals[k] = json.dumps(vals[k])
        vals["updated_at"] = _now()
        cond = items.c.id == item_id
        if expect:
            cond = and_(cond, items.c.status.in_(expect))
        with self.engine.begin() as conn:
            return bool(conn.execute(update(items).where(cond).values(**vals)).rowcount)

    def queue(self, *, status: str | None = "suggested", limit: int = 100, offset: int = 0) -> list[TriageItem]:
        q = select(items).order_by(items.c.created_at.desc(), items.c.ticket_id.desc()).limit(limit).offset(offset)
        if status and status != "all":
            q = q.where(items.c.status == status)
        with self.engine.connect() as conn:
            return [_item(r) for r in conn.execute(q)]

    def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            rows = conn.execute(select(items.c.status, func.count()).group_by(items.c.status)).all()
        return {str(s): int(n) for s, n in rows}

    def feedback(self) -> dict[tuple[str, int], tuple[dict[str, Any], str]]:
        """Agents' final labels per ticket (the latest decision wins) and when they were decided: the next
        training prefers them to Odoo's labels unless the ticket changed in Odoo after the decision."""
        out: dict[tuple[str, int], tuple[dict[str, Any], str]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(items.c.odoo_model, items.c.ticket_id, items.c.final_json, items.c.decided_at)
                .where(items.c.final_json.is_not(None))
                .order_by(items.c.decided_at)
            ).all()
        for model, tid, final, decided_at in rows:
            out[(str(model), int(tid))] = (json.loads(final), str(decided_at or ""))
        return out

    def settled(self, odoo_model: str, ticket_id: int) -> dict[str, Any]:
        """The ticket's last decided labels (applied or rejected, by the model's rule or a person): a later sync
        does not propose to change a field that still holds that value."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(items.c.final_json)
                .where(
                    and_(
                        items.c.odoo_model == odoo_model,
                        items.c.ticket_id == ticket_id,
                        items.c.status.in_(("applied", "rejected")),
                        items.c.final_json.is_not(None),
                    )
                )
                .order_by(items.c.updated_at.desc())
                .limit(1)
            ).first()
        return dict(json.loads(row[0])) if row else {}

    def get_state(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(state.c.value).where(state.c.key == key)).first()
        return str(row[0]) if row else None

    def set_state(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            if conn.execute(update(state).where(state.c.key == key).values(value=value)).rowcount == 0:
                conn.execute(insert(state).values(key=key, value=value))

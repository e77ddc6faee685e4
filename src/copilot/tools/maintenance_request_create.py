"""``maintenance_request_create``: open a real ``maintenance.request`` in Odoo for one piece of equipment.

Its facts (read before the policy, shown in the approval queue) are the equipment as Odoo has it — link,
category, site, current status and open requests — and the request that would be created. The default policy
sends requests on life-support equipment (by Odoo category) to a biomedical engineer other than the requester.
The caller's description is written to the request (HTML-escaped), never into the facts.

Usage (through the executor only)::

    executor.execute(ben, "maintenance_request_create", {"equipment": "BME-INF-0007", "kind": "corrective",
        "description": "Occlusion alarm does not trigger", "priority": "2"})
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from copilot.tools.base import ToolContext, tool

KIND_LABEL = {"corrective": "Repair", "preventive": "Preventive maintenance"}


class MaintenanceRequestArgs(BaseModel):
    equipment: str = Field(min_length=1, max_length=200, description="asset tag (serial_no) or name")
    kind: Literal["corrective", "preventive"]
    description: str = Field(min_length=1, max_length=4000)
    priority: Literal["0", "1", "2", "3"] = "1"
    schedule_date: datetime | None = None

    @field_validator("schedule_date", mode="before")
    @classmethod
    def _day_is_morning(cls, v: Any) -> Any:
        """A bare day means 08:00 that day (Odoo's ``schedule_date`` is a datetime)."""
        if isinstance(v, str) and len(v) == 10:
            return datetime.combine(date.fromisoformat(v), time(8, 0))
        return v


def request_name(kind: str, card: dict[str, Any]) -> str:
    return f"{KIND_LABEL[kind]} - {card.get('asset_tag') or card.get('name')}"


def facts(args: MaintenanceRequestArgs, ctx: ToolContext) -> dict[str, Any]:
    with ctx.services.ops.reader() as r:
        card = r.equipment_facts(args.equipment, r.allowed_sites(ctx.principal.sites))
    return {
        "equipment": {k: card[k] for k in ("model", "id", "name", "url", "asset_tag")},
        "equipment_category": card["category"],
        "site": card["site"],
        "status": card["status"],
        "open_requests": card["open_requests"],
        "will_create": {
            "model": "maintenance.request",
            "name": request_name(args.kind, card),
            "maintenance_type": args.kind,
            "priority": args.priority,
            "schedule_date": f"{args.schedule_date:%Y-%m-%d %H:%M:%S}" if args.schedule_date else None,
        },
    }


@tool(
    name="maintenance_request_create",
    args=MaintenanceRequestArgs,
    read_only=False,
    description="Create a corrective or preventive maintenance request in Odoo for one piece of equipment "
    "(life-support equipment waits for a biomedical engineer's approval).",
    approving_roles=("biomed_engineer", "admin"),
    facts=facts,
)
def maintenance_request_create(args: MaintenanceRequestArgs, ctx: ToolContext) -> dict[str, Any]:
    f = ctx.facts or facts(args, ctx)
    plan = f["will_create"]
    with ctx.services.ops.writer() as w:
        created = w.create_maintenance_request(
            equipment_id=int(f["equipment"]["id"]), name=plan["name"], kind=args.kind,
            description=args.description, priority=args.priority, schedule_date=plan["schedule_date"],
        )
    return {"request": created, "equipment": f["equipment"]}

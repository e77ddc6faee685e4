"""``maintenance_equipment_status_set``: take equipment out of service or return it to service, in Odoo.

Community ``maintenance.equipment`` has no status field (ODOO.md §6; recorded ``fields_get`` of 17 and 19), so
Copilot does not invent one: a device is *out of service* while it has an open corrective ``maintenance.request``
— the definition the KPI pack's uptime already counts down-days with. ``out_of_service`` opens such a request
(priority High, ``kanban_state`` blocked, the reason as its description); ``in_service`` closes the device's open
corrective requests into the first ``done`` stage with today's ``close_date``. Asking for the status it already
has writes nothing. The facts (shown to an approver) say which of these would happen, on which records.

Usage (through the executor only)::

    executor.execute(ben, "maintenance_equipment_status_set",
                     {"equipment": "BME-VEN-0003", "status": "out_of_service", "reason": "Flow sensor drift"})
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class EquipmentStatusSetArgs(BaseModel):
    equipment: str = Field(min_length=1, max_length=200, description="asset tag (serial_no) or name")
    status: Literal["in_service", "out_of_service"]
    reason: str = Field(min_length=1, max_length=2000)


def facts(args: EquipmentStatusSetArgs, ctx: ToolContext) -> dict[str, Any]:
    with ctx.services.ops.reader() as r:
        card = r.equipment_facts(args.equipment, r.allowed_sites(ctx.principal.sites))
    corrective = [q for q in card["open_requests"] if q["type"] == "corrective"]
    if card["status"] == args.status:
        action: dict[str, Any] = {"action": "none"}
    elif args.status == "out_of_service":
        action = {"action": "open_corrective_request", "model": "maintenance.request",
                  "name": f"Out of service - {card['asset_tag'] or card['name']}", "priority": "3"}
    else:
        action = {"action": "close_corrective_requests", "requests": [q["id"] for q in corrective]}
    return {
        "equipment": {k: card[k] for k in ("model", "id", "name", "url", "asset_tag")},
        "equipment_category": card["category"],
        "site": card["site"],
        "status": card["status"],
        "open_requests": card["open_requests"],
        "will": action,
    }


@tool(
    name="maintenance_equipment_status_set",
    args=EquipmentStatusSetArgs,
    read_only=False,
    description="Take equipment out of service (opens a corrective request) or return it to service (closes its "
    "open corrective requests); life-support equipment waits for a biomedical engineer's approval.",
    approving_roles=("biomed_engineer", "admin"),
    facts=facts,
)
def maintenance_equipment_status_set(args: EquipmentStatusSetArgs, ctx: ToolContext) -> dict[str, Any]:
    f = ctx.facts or facts(args, ctx)
    will = f["will"]
    out: dict[str, Any] = {"equipment": f["equipment"], "status": args.status, "previous": f["status"],
                           "changed": will["action"] != "none"}
    if will["action"] == "none":
        return out
    with ctx.services.ops.writer() as w:
        if will["action"] == "open_corrective_request":
            out["request"] = w.create_maintenance_request(
                equipment_id=int(f["equipment"]["id"]), name=will["name"], kind="corrective",
                description=args.reason, priority=will["priority"], schedule_date=None, kanban_state="blocked",
            )
        else:
            w.close_requests(will["requests"])
            out["closed"] = will["requests"]
    return out

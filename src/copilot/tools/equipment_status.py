"""``equipment_status``: equipment found by asset tag (``serial_no``) or name, with its in/out-of-service status,
category, site and open ``maintenance.request``s, each with an Odoo link (read-only).

Status follows :mod:`copilot.odoo.ops`: a device is out of service while it has an open corrective request.
Scoped by the caller's sites: a ``site`` outside them is refused by the executor (``site_field``), and an
answer without a site lists only equipment at the caller's sites.

Usage (through the executor only)::

    executor.execute(ben, "equipment_status", {"equipment": "BME-DEF-0112"})
    executor.execute(ben, "equipment_status", {"site": "Lakeside Hospital", "category": "Ventilators"})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class EquipmentStatusArgs(BaseModel):
    equipment: str | None = Field(default=None, min_length=1, max_length=200, description="asset tag or name")
    site: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)


@tool(
    name="equipment_status",
    args=EquipmentStatusArgs,
    read_only=True,
    description="Equipment by asset tag or name (or a site/category): in or out of service, category, site and "
    "open maintenance requests, with Odoo links.",
    site_field="site",
)
def equipment_status(args: EquipmentStatusArgs, ctx: ToolContext) -> dict[str, Any]:
    with ctx.services.ops.reader() as r:
        result: dict[str, Any] = r.equipment_status(
            query=args.equipment, site=args.site, category=args.category,
            allowed=r.allowed_sites(ctx.principal.sites),
        )
    return result

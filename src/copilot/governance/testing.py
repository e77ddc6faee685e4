"""Test doubles for governance, part of the product (STYLE.md §9): write tools whose side effect is an entry
in a :class:`Ledger`, so tests and benchmarks can prove a side effect happened exactly once — or not at all.

The doubles carry the tool names of the default policy (``purchase_request_create``, ``ticket_triage_apply``,
``maintenance_equipment_status_set``, ``knowledge_search``) so the shipped rules are exercised as written. They
are for the executor's own unit tests only: the real tools (``copilot.tools``) read their facts from Odoo, while
these doubles' facts functions take them from their arguments (``amount``, ``controlled_substance``,
``criticality``) so a test can put a call on either side of a rule.

Usage::

    gov, ledger = build_test_governance(make_engine("sqlite:///tmp/t.db"))
    gov.executor.execute(alice, "purchase_request_create", {"item": "pumps", "amount": 100})
    ledger.entries   # [("purchase_request_create", "u-alice", None, {...})]
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from copilot.errors import SourceError
from copilot.governance.factory import Governance, build_governance
from copilot.governance.policy import DEFAULT_POLICY_PATH, Policy
from copilot.protocols import Redactor
from copilot.tools.base import Tool, ToolContext, ToolRegistry, tool
from copilot.tools.ticket_triage_apply import TriageApplyArgs


@dataclass
class Ledger:
    """Side effects of the double tools: (tool, requester id, approver id, args)."""

    entries: list[tuple[str, str, str | None, dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, args: BaseModel, ctx: ToolContext) -> int:
        with self._lock:
            self.entries.append((name, ctx.principal.id, ctx.approver_id, args.model_dump()))
            return len(self.entries)

    def count(self, name: str | None = None) -> int:
        return sum(1 for e in self.entries if name is None or e[0] == name)


@dataclass
class TestServices:
    ledger: Ledger = field(default_factory=Ledger)
    audit: Any = None
    """The governance's own audit log (the real audit-reading tools run beside the doubles)."""


class PurchaseRequestArgs(BaseModel):
    item: str = Field(min_length=1, max_length=200)
    amount: float = Field(ge=0)
    site: str | None = None
    product_category: str | None = None
    controlled_substance: bool = False
    description: str = ""
    requested_for: str | None = None


class EquipmentStatusArgs(BaseModel):
    equipment_id: int
    status: Literal["operational", "out_of_service", "maintenance", "retired"]
    criticality: Literal["low", "medium", "high", "life_support"] = "medium"
    equipment_category: str = ""
    site: str | None = None


class AskArgs(BaseModel):
    question: str = Field(min_length=1, max_length=2000)


class EchoArgs(BaseModel):
    text: str = ""
    fail: Literal["none", "typed", "crash"] = "none"


CONTROLLED_CATEGORY = "Controlled Substances"
LIFE_SUPPORT_CATEGORY = "Ventilators"


def purchase_facts(args: PurchaseRequestArgs, ctx: ToolContext) -> dict[str, Any]:
    """The double's facts: the amount and category as the arguments state them (the real tool reads Odoo)."""
    cats = [c for c in (args.product_category,) if c]
    if args.controlled_substance:
        cats.append(CONTROLLED_CATEGORY)
    return {"amount": args.amount, "product_categories": cats, "product_tags": []}


def equipment_facts(args: EquipmentStatusArgs, ctx: ToolContext) -> dict[str, Any]:
    life_support = args.criticality == "life_support"
    return {"equipment_category": LIFE_SUPPORT_CATEGORY if life_support else args.equipment_category or None}


def _ledger(ctx: ToolContext) -> Ledger:
    ledger: Ledger = ctx.services.ledger
    return ledger


@tool(
    name="purchase_request_create",
    args=PurchaseRequestArgs,
    read_only=False,
    description="Create a purchase request (double: writes to the ledger)",
    approving_roles=("executive", "admin"),
    site_field="site",
    pii_fields=("requested_for",),
    facts=purchase_facts,
)
def purchase_request_create(args: PurchaseRequestArgs, ctx: ToolContext) -> dict[str, Any]:
    return {"purchase_request_id": _ledger(ctx).record("purchase_request_create", args, ctx)}


@tool(
    name="ticket_triage_apply",
    args=TriageApplyArgs,
    read_only=False,
    description="Write a triage decision back to a helpdesk ticket (double: the real tool's arguments, a ledger "
    "entry instead of the Odoo write)",
    approving_roles=("helpdesk_agent",),
)
def ticket_triage_apply(args: TriageApplyArgs, ctx: ToolContext) -> dict[str, Any]:
    _ledger(ctx).record("ticket_triage_apply", args, ctx)
    return {"ticket_id": args.ticket_id, "applied": True}


@tool(
    name="maintenance_equipment_status_set",
    args=EquipmentStatusArgs,
    read_only=False,
    description="Change an equipment's status (double)",
    site_field="site",
    facts=equipment_facts,
)
def maintenance_equipment_status_set(args: EquipmentStatusArgs, ctx: ToolContext) -> dict[str, Any]:
    _ledger(ctx).record("maintenance_equipment_status_set", args, ctx)
    return {"equipment_id": args.equipment_id, "status": args.status}


@tool(
    name="knowledge_search",
    args=AskArgs,
    read_only=True,
    description="Scripted knowledge answer (double): confident unless the question mentions 'unknown'",
)
def scripted_knowledge_search(args: AskArgs, ctx: ToolContext) -> dict[str, Any]:
    low = "unknown" in args.question.lower()
    return {
        "text": "Not in the documents." if low else "Every 6 months [1].",
        "confidence": 0.1 if low else 0.92,
        "abstained": low,
        "groups": list(ctx.scope.groups),
    }


@tool(
    name="echo", args=EchoArgs, read_only=True, description="Returns its text; can fail on request (double)"
)
def echo(args: EchoArgs, ctx: ToolContext) -> dict[str, Any]:
    if args.fail == "typed":
        raise SourceError("upstream unavailable")
    if args.fail == "crash":
        raise RuntimeError(f"boom with secret {args.text}")
    return {"text": args.text, "requester": ctx.principal.id}


TEST_TOOLS: tuple[Tool, ...] = (
    purchase_request_create,
    ticket_triage_apply,
    maintenance_equipment_status_set,
    scripted_knowledge_search,
    echo,
)


def test_policy() -> Policy:
    """The shipped default policy, plus the ``echo`` double for every role."""
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    for role in data["roles"].values():
        if "*" not in role["tools"]:
            role["tools"].append("echo")
    return Policy.from_mapping(data, source="test-policy")


def build_test_governance(
    engine: Any,
    *,
    policy: Path | Policy | None = None,
    redactor: Redactor | None = None,
    checkpoint_every: int = 1000,
    **kw: Any,
) -> tuple[Governance, Ledger]:
    """The governance graph over the double tools, with a fresh :class:`Ledger`. ``engine`` must be migrated.
    ``policy`` defaults to :func:`test_policy`."""
    from copilot.tools.audit_export import audit_export
    from copilot.tools.audit_record import audit_record
    from copilot.tools.audit_search import audit_search
    from copilot.tools.audit_verify import audit_verify

    services = TestServices()
    gov = build_governance(
        engine,
        ToolRegistry((*TEST_TOOLS, audit_search, audit_record, audit_export, audit_verify)),
        policy=policy if policy is not None else test_policy(),
        redactor=redactor,
        services=services,
        checkpoint_every=checkpoint_every,
        **kw,
    )
    services.audit = gov.audit
    return gov, services.ledger

"""Governed tools: one module per tool, each declared with :func:`copilot.tools.base.tool` and reachable only
through :class:`copilot.governance.executor.GovernedExecutor`.

:func:`default_registry` builds a fresh registry of the product's tools (an executor seals the registry it is
given, so each executor gets its own).
"""

from __future__ import annotations

from copilot.tools.base import ToolRegistry


def default_registry() -> ToolRegistry:
    from copilot.tools.answer_feedback import answer_feedback
    from copilot.tools.audit_export import audit_export
    from copilot.tools.audit_record import audit_record
    from copilot.tools.audit_search import audit_search
    from copilot.tools.audit_verify import audit_verify
    from copilot.tools.dashboard_summary import dashboard_summary
    from copilot.tools.equipment_status import equipment_status
    from copilot.tools.ingest_run import ingest_run
    from copilot.tools.knowledge_search import knowledge_search
    from copilot.tools.kpi_query import kpi_query
    from copilot.tools.lots_expiring import lots_expiring
    from copilot.tools.maintenance_equipment_status_set import maintenance_equipment_status_set
    from copilot.tools.maintenance_request_create import maintenance_request_create
    from copilot.tools.purchase_orders_open import purchase_orders_open
    from copilot.tools.purchase_request_create import purchase_request_create
    from copilot.tools.stock_on_hand import stock_on_hand
    from copilot.tools.ticket_triage import ticket_triage
    from copilot.tools.ticket_triage_apply import ticket_triage_apply

    return ToolRegistry((
        knowledge_search, kpi_query, dashboard_summary, ticket_triage, ticket_triage_apply,
        equipment_status, lots_expiring, stock_on_hand, purchase_orders_open,
        maintenance_request_create, purchase_request_create, maintenance_equipment_status_set,
        audit_search, audit_record, audit_export, audit_verify, answer_feedback, ingest_run,
    ))

"""Governed tools: one module per tool, each declared with :func:`copilot.tools.base.tool` and reachable only
through :class:`copilot.governance.executor.GovernedExecutor`.

:func:`default_registry` builds a fresh registry of the product's tools (an executor seals the registry it is
given, so each executor gets its own).
"""

from __future__ import annotations

from copilot.tools.base import ToolRegistry


def default_registry() -> ToolRegistry:
    from copilot.tools.dashboard_summary import dashboard_summary
    from copilot.tools.knowledge_search import knowledge_search
    from copilot.tools.kpi_query import kpi_query
    from copilot.tools.ticket_triage import ticket_triage
    from copilot.tools.ticket_triage_apply import ticket_triage_apply

    return ToolRegistry((knowledge_search, kpi_query, dashboard_summary, ticket_triage, ticket_triage_apply))

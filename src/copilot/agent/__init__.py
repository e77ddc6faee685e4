"""Conversational agents over the governed tools: the no-model router (default) and, when a model is configured,
the LLM agent (``copilot.agent.llm``). Both answer :class:`copilot.agent.base.ConversationAgent`.

Usage::

    agent = build_agent(copilot)           # the LLM agent if COPILOT_LLM_URL is set, else the router
    reply = agent.respond(principal, "triage ticket 4411", session_id="s-1", request_id="r-1")
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copilot.agent.base import ConversationAgent
    from copilot.agent.router import Router
    from copilot.app import Copilot

log = logging.getLogger(__name__)


def build_router(copilot: Copilot, *, embedder: Any = None, catalog: Any = None, sessions: Any = None) -> Router:
    """The router over the copilot's executor, embedder, Odoo catalog and conversation store.

    The catalog is read from the configured Odoo (read-only) on first use and every five minutes; without Odoo it
    holds the configured site names only, and look-ups then answer "not available"."""
    from copilot.agent.intents import IntentClassifier
    from copilot.agent.router import Router
    from copilot.agent.sessions import ConversationStore
    from copilot.agent.slots import Catalog, CatalogSource, pack_kpis, read_catalog

    settings = copilot.settings
    aliases = dict(settings.kpi_site_aliases)
    if catalog is None:
        if settings.odoo_url and settings.odoo_db:

            def load() -> Catalog:
                from copilot.odoo.client import OdooClient

                with OdooClient(settings.odoo_config()).connect() as client:
                    return read_catalog(client, aliases, pack_kpis())

            catalog = CatalogSource(load)
        else:
            catalog = CatalogSource.fixed(Catalog(sites=tuple(sorted(set(aliases.values()))), kpis=pack_kpis()))
    as_of = settings.kpi_as_of
    return Router(
        copilot.executor,
        IntentClassifier.load(embedder or copilot.embedder),
        catalog,
        sessions or ConversationStore(copilot.engine),
        today=(lambda: as_of) if as_of else None,
    )


def build_agent(copilot: Copilot, **router_parts: Any) -> ConversationAgent:
    """The LLM agent when ``copilot.agent.llm`` is importable and settings configure a model, else the router."""
    settings = copilot.settings
    if getattr(settings, "llm_url", None):
        try:
            from copilot.agent.llm import build_llm_agent
        except ImportError as exc:  # the optional LLM extra is not installed: the router answers
            log.warning("LLM configured but the agent cannot load (%s); using the router", exc)
        else:
            agent = build_llm_agent(settings, copilot.executor)
            if agent is not None:
                return agent
    return build_router(copilot, **router_parts)

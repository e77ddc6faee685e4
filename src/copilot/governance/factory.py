"""Wiring for the governance graph: one call builds the executor, audit log, approvals and policy store.

``build_copilot`` calls :func:`build_governance` with the app's engine and tool registry; tests call it with a
SQLite file and the test-double tools of :mod:`copilot.governance.testing`.

Usage::

    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    gov = build_governance(engine, registry, services=services)
    gov.executor.execute(principal, "knowledge_search", {"question": "..."})
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from copilot.governance.approvals import ApprovalStore
from copilot.governance.audit import AuditLog
from copilot.governance.executor import GovernedExecutor, Hook, annotate_answer
from copilot.governance.policy import DEFAULT_POLICY_PATH, Policy, PolicyStore
from copilot.governance.redact_args import ArgsRedactor
from copilot.protocols import Redactor
from copilot.tools.base import ToolRegistry


@dataclass
class Governance:
    executor: GovernedExecutor
    audit: AuditLog
    approvals: ApprovalStore
    policy: PolicyStore


def build_governance(
    engine: Engine,
    registry: ToolRegistry,
    *,
    policy: Path | Policy | None = None,
    redactor: Redactor | None = None,
    services: Any = None,
    checkpoint_every: int = 1000,
    before_call: Sequence[Hook] = (),
    after_call: Sequence[Hook] = (annotate_answer,),
) -> Governance:
    """Build the governance graph.

    ``policy``: a YAML path (reloaded on change), a fixed :class:`Policy`, or ``None`` for the shipped
    default. ``redactor``: the Presidio redactor in production; ``None`` falls back to the regex redactor.
    """
    store = (
        PolicyStore.fixed(policy)
        if isinstance(policy, Policy)
        else PolicyStore(policy or DEFAULT_POLICY_PATH)
    )
    store.current()  # fail at startup, not on the first call, when the policy is missing or invalid
    audit = AuditLog(engine, checkpoint_every=checkpoint_every)
    approvals = ApprovalStore(engine)
    executor = GovernedExecutor(
        registry,
        store,
        audit,
        approvals,
        redactor=ArgsRedactor(redactor),
        services=services,
        before_call=before_call,
        after_call=after_call,
    )
    return Governance(executor=executor, audit=audit, approvals=approvals, policy=store)

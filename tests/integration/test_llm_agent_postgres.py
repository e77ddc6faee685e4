"""The LLM agent's conversation checkpointed in PostgreSQL: an approval interrupt survives a restart and the
parked write runs once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from copilot.agent.llm import LlmAgent, build_checkpointer
from copilot.agent.testing import ScriptedChatModel
from copilot.db import make_engine, migrate
from copilot.governance.policy import Policy
from copilot.governance.principal import Principal
from copilot.governance.testing import build_test_governance
from fixtures.pg import schema_url

pytestmark = pytest.mark.integration

ALICE = Principal("u-alice", "Alice", "executive", groups=("staff",), sites=("north",))
BOB = Principal("u-bob", "Bob", "executive", groups=("staff",), sites=("north",))
POLICY = {
    "version": 1,
    "roles": {"executive": {"tools": ["purchase_request_create"], "sites": ["*"], "acl_groups": ["*"]}},
    "rules": [{"id": "pr-over-5000", "tool": "purchase_request_create",
               "when": {"field": "args.amount", "op": ">", "value": 5000},
               "effect": "require_approval", "approving_roles": ["executive"], "reason": "over 5,000"}],
}


def test_an_interrupted_conversation_resumes_from_postgres_after_a_restart(pg_schema: str, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gov.db'}")
    migrate(engine)
    gov, ledger = build_test_governance(engine, policy=Policy.from_mapping(POLICY))
    url = schema_url(pg_schema)

    def agent(*script: Any) -> LlmAgent:
        return LlmAgent(ScriptedChatModel.of(*script), gov.executor, checkpointer=build_checkpointer(url),
                        model_name="scripted", tool_first=False)

    first = agent(json.dumps({"action": "call", "tool": "purchase_request_create",
                              "args": {"item": "pumps", "amount": 9000}}))
    reply = first.respond(ALICE, "order pumps for 9000", session_id="s1", request_id="r1")
    assert reply.pending_approval and ledger.count() == 0
    gov.executor.approve(BOB, reply.pending_approval)
    again = agent(json.dumps({"action": "answer", "text": "Approved and placed."}),
                  json.dumps({"action": "answer", "text": "Bye."}))
    reply = again.respond(ALICE, "status?", session_id="s1", request_id="r2")
    assert "Approved and placed." in reply.text and ledger.count() == 1
    engine.dispose()

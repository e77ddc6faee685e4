"""What a conversational agent is to the rest of Copilot: one turn in, one :class:`Reply` out.

Two implementations answer the same protocol:

- the **router** (``copilot.agent.router``, the default, no model): intent classification, slot extraction and
  validation against Odoo, a clarifying question when a required slot is missing or ambiguous;
- the **LLM agent** (``copilot.agent.llm``, when ``COPILOT_LLM_URL`` or a local model is configured): a LangChain
  agent whose tools are the registry's.

Both reach Odoo, the documents and every side effect only through ``GovernedExecutor.execute`` (one path: the
executor's role check, policy, approvals and audit trail), record one :class:`Step` per governed call, and treat
message, document, ticket and tool-result text as data: a write tool runs only when the user's own message in the
current turn asks for it.

Usage::

    reply = agent.respond(principal, "is BME-DEF-0112 back in service?", session_id="s-1", request_id="r-1")
    reply.text, reply.steps[0].tool, reply.cards[0].kind
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from copilot.governance.principal import Principal

StepStatus = Literal["ok", "denied", "pending_approval", "error"]


@dataclass
class Step:
    """One governed tool call made for the turn (what the widget shows as it runs)."""

    tool: str
    args: dict[str, Any]
    status: StepStatus
    request_id: str
    approval_id: str | None = None
    error_code: str | None = None
    summary: str = ""


@dataclass
class Card:
    """A structured result the widget renders: ``answer``, ``triage``, ``kpi``, ``summary``, ``equipment``, ``lots``,
    ``stock``, ``purchase_orders``, ``approval``, ``clarify``."""

    kind: str
    data: dict[str, Any]


@dataclass
class Clarify:
    """A question back to the user instead of a guess: which slot is missing or ambiguous, and the options."""

    question: str
    missing: str
    options: list[str] = field(default_factory=list)


@dataclass
class Reply:
    text: str
    by: str
    """``router`` or ``agent:<model>``."""
    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    clarify: Clarify | None = None
    pending_approval: str | None = None
    prompt_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ConversationAgent(Protocol):
    name: str

    def respond(self, principal: Principal, message: str, *, session_id: str, request_id: str) -> Reply:
        """Answer one user turn. Never raises for a refused or failed tool call (it becomes a step and a sentence);
        raises :class:`copilot.errors.ValidationError` for a message it cannot take (empty, too long)."""
        ...

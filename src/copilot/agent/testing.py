"""Test doubles for the LLM agent, part of the product (STYLE.md §9): a scripted chat model that plays the real
LangChain message protocol — ``AIMessage`` with ``tool_calls`` for native tool calling, JSON text for structured
tool selection — records what it was shown, and can fail on cue (an exception in the script is raised at that
step: a timeout, an endpoint down).

Usage::

    model = ScriptedChatModel.of(
        '{"action": "call", "tool": "knowledge_search", "args": {"question": "PM interval?"}}',
        '{"action": "answer", "text": "Every 6 months [1]."}',
    )
    agent = LlmAgent(model, executor, checkpointer=InMemorySaver(), model_name="scripted")
    model.seen[0]          # the messages the first call received
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


class ScriptedChatModel(GenericFakeChatModel):
    """A :class:`GenericFakeChatModel` whose script may hold exceptions, that accepts ``bind_tools`` (a native
    tool-calling model's interface) and keeps every prompt it received in ``seen`` and every bound keyword
    (``response_format``, ``tools``) in ``bound``."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)
    bound: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def of(cls, *script: AIMessage | str | BaseException) -> ScriptedChatModel:
        return cls(messages=_items(script))

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        self.bound.append({"tools": [getattr(t, "name", t) for t in tools], **kwargs})
        return self.bind(**kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        if kwargs:
            self.bound.append(dict(kwargs))
        item = next(self.messages)
        if isinstance(item, BaseException):
            raise item
        msg = AIMessage(content=item) if isinstance(item, str) else item
        return ChatResult(generations=[ChatGeneration(message=msg)])


def _items(script: Sequence[AIMessage | str | BaseException]) -> Iterator[Any]:
    yield from script

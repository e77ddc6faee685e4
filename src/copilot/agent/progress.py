"""Tool steps as they run: an agent announces each governed call when it starts and when it ends, to whoever
listens in the current context (the chat route's event stream); without a listener nothing happens.

Usage::

    with listening(events.put):          # in the thread that runs the agent
        agent.respond(...)               # -> {"event": "started", "tool": ...}, then {"event": "finished", ...}
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict
from typing import Any

from copilot.agent.base import Step

_sink: ContextVar[Callable[[dict[str, Any]], None] | None] = ContextVar("copilot_step_sink", default=None)


@contextmanager
def listening(sink: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def started(tool: str) -> None:
    sink = _sink.get()
    if sink is not None:
        sink({"event": "started", "tool": tool, "status": "running"})


def finished(step: Step) -> None:
    sink = _sink.get()
    if sink is not None:
        sink({"event": "finished", **asdict(step)})

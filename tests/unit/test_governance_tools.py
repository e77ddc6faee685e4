"""The tool registry, and the proof that a write tool's side effect is reachable only through the executor."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel

from copilot.db import make_engine, migrate
from copilot.errors import ConflictError, NotFoundError
from copilot.governance.principal import Principal
from copilot.governance.testing import TEST_TOOLS, build_test_governance, purchase_request_create
from copilot.tools import base
from copilot.tools.base import Tool, ToolContext, ToolRegistry, tool

pytestmark = pytest.mark.unit


class _Args(BaseModel):
    n: int


def _make_tool(name: str = "side_effect", sink: list[int] | None = None) -> Tool:
    sink = sink if sink is not None else []

    @tool(name=name, args=_Args, read_only=False, description="appends to a list")
    def side_effect(args: _Args, ctx: ToolContext) -> int:
        sink.append(args.n)
        return args.n

    return side_effect


def test_decorator_returns_a_spec_not_the_function() -> None:
    spec = _make_tool()
    assert isinstance(spec, Tool)
    assert not callable(spec)
    with pytest.raises(TypeError):
        spec(_Args(n=1), None)  # type: ignore[operator]
    assert spec.read_only is False and spec.args_model is _Args


def _reachable(root: Any, depth: int = 4) -> list[Any]:
    """Every object reachable from ``root`` through public attributes (and mapping/sequence items)."""
    seen: dict[int, Any] = {}
    frontier = [root]
    for _ in range(depth):
        nxt: list[Any] = []
        for obj in frontier:
            if id(obj) in seen or isinstance(obj, str | bytes | int | float | bool | type(None)):
                continue
            seen[id(obj)] = obj
            if isinstance(obj, dict):
                nxt.extend(obj.values())
            elif isinstance(obj, list | tuple | set | frozenset):
                nxt.extend(obj)
            if inspect.ismodule(obj) or isinstance(obj, type):
                continue
            for name in dir(obj):
                if name.startswith("_"):
                    continue
                try:
                    value = getattr(obj, name)
                except Exception:
                    continue
                nxt.append(value)
            if isinstance(obj, ToolRegistry):  # follow the lookup API too
                nxt.extend([obj.get(spec_name), obj.require(spec_name), list(obj)])
        frontier = nxt
    return list(seen.values())


spec_name = "purchase_request_create"


def test_no_public_path_from_registry_executor_or_tool_to_the_implementation(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(engine)
    gov, ledger = build_test_governance(engine)
    impl = base._IMPLEMENTATIONS[purchase_request_create]  # the function we must not be able to reach
    # The walker does find a function exposed publicly (guards against a vacuous walk).
    assert any(o is impl for o in _reachable(SimpleNamespace(box=SimpleNamespace(items=[impl]))))
    for root in (gov.executor.registry, purchase_request_create, gov.executor, gov):
        reachable = _reachable(root)
        assert all(obj is not impl for obj in reachable), f"implementation reachable from {root!r}"
    # The registry hands out its invoker only once — to the executor that already holds it.
    with pytest.raises(ConflictError) as err:
        gov.executor.registry.seal()
    assert err.value.code == "registry_sealed"
    # And the one public path works and is audited.
    alice = Principal("u-alice", "Alice", "executive")
    res = gov.executor.execute(alice, "purchase_request_create", {"item": "gloves", "amount": 10})
    assert res.ok and ledger.count() == 1
    assert gov.audit.get(res.audit_id or "").tool == "purchase_request_create"


def test_invoker_refuses_a_tool_of_another_registry() -> None:
    sink: list[int] = []
    stranger = _make_tool("stranger", sink)
    invoker = ToolRegistry((_make_tool("mine"),)).seal()
    ctx = ToolContext(principal=Principal("u", "U", "admin"), request_id="r", scope=base.AccessScope())
    with pytest.raises(NotFoundError):
        invoker.invoke(stranger, _Args(n=1), ctx)
    assert sink == []


def test_registry_lookup_and_duplicates() -> None:
    reg = ToolRegistry(TEST_TOOLS)
    assert reg.names() == sorted(t.name for t in TEST_TOOLS)
    assert reg.get("echo") is not None and reg.get("nope") is None
    assert "echo" in reg and len(reg) == len(TEST_TOOLS)
    with pytest.raises(NotFoundError):
        reg.require("nope")
    with pytest.raises(ConflictError):
        reg.register(_make_tool("echo"))
    reg.register(reg.require("echo"))  # same spec twice is idempotent


@pytest.mark.parametrize("bad", [object(), "echo", lambda a, c: None])
def test_registry_only_accepts_decorated_tools(bad: Any) -> None:
    with pytest.raises(TypeError):
        ToolRegistry().register(bad)


@pytest.mark.parametrize("name", ["", "has space", "semi;colon", "slash/name"])
def test_invalid_tool_names(name: str) -> None:
    with pytest.raises(ValueError):
        tool(name=name, args=_Args, read_only=True, description="x")

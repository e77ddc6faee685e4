"""Tool definitions and the registry every governed tool lives in.

A tool is declared with the :func:`tool` decorator. The decorator returns a :class:`Tool` *specification*, not
the function: the implementation is kept in a module-private table and can only be called through the
:class:`ToolInvoker` that :meth:`ToolRegistry.seal` hands out exactly once — to the governed executor. So the
public API offers no path from a tool name (or a tool object) to its side effect other than
``executor.execute(principal, tool_name, raw_args)``.

Usage::

    class CreatePR(BaseModel):
        amount: float

    @tool(name="purchase_request_create", args=CreatePR, read_only=False,
          description="Create a purchase request in Odoo", approving_roles=("executive",))
    def purchase_request_create(args: CreatePR, ctx: ToolContext) -> dict:
        ...

    registry = ToolRegistry()
    registry.register(purchase_request_create)   # a Tool, not a function
    executor = GovernedExecutor(registry, ...)   # seals the registry
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from copilot.errors import ConflictError, NotFoundError
from copilot.types import AccessScope

if TYPE_CHECKING:
    from copilot.governance.principal import Principal

ToolFunction = Callable[[Any, "ToolContext"], Any]
FactsFunction = Callable[[Any, "ToolContext"], dict[str, Any]]
"""Reads from a system of record what policy must decide on (an order's amount at Odoo prices, whether a product
is a controlled substance, whether equipment is life-support). Read-only; runs before the policy."""

# Tool spec -> implementation. Module-private on purpose: only ToolInvoker reads it.
_IMPLEMENTATIONS: weakref.WeakKeyDictionary[Tool, ToolFunction] = weakref.WeakKeyDictionary()
_FACTS: weakref.WeakKeyDictionary[Tool, FactsFunction] = weakref.WeakKeyDictionary()


@dataclass
class AuditNotes:
    """What a tool wants recorded beside its call: retrieval ids and the model/prompt that produced output."""

    doc_ids: list[str] = field(default_factory=list)
    chunk_ids: list[str] = field(default_factory=list)
    model: str | None = None
    prompt_version: str | None = None


@dataclass
class ToolContext:
    """Everything a tool may use besides its arguments.

    ``principal`` is the *requester* (also on an approved, deferred run); ``approver_id`` is set on such runs.
    ``scope`` is the ACL scope governance derived from the principal and the policy — tools must filter with
    it and never build one from request input.
    """

    principal: Principal
    request_id: str
    scope: AccessScope
    services: Any = None
    approval_id: str | None = None
    approver_id: str | None = None
    notes: AuditNotes = field(default_factory=AuditNotes)
    facts: dict[str, Any] | None = None
    """What the tool's facts function read before the policy decided (the same facts an approver saw); a write
    tool acts on these — the resolved records and prices — rather than resolving the arguments again."""


@dataclass(frozen=True, eq=False)
class Tool:
    """A tool's public specification. Deliberately not callable and holding no reference to its function."""

    name: str
    description: str
    args_model: type[BaseModel]
    read_only: bool
    approving_roles: tuple[str, ...] = ()
    site_field: str | None = None
    """Name of an argument holding an Odoo site; the executor refuses sites outside the principal's scope."""
    pii_fields: tuple[str, ...] = ()
    """Argument names masked entirely in the audit trail (on top of the default sensitive names)."""
    has_facts: bool = False
    """The tool declared a facts function (``facts=``): the executor runs it before the policy and exposes its
    result to rules as ``facts.*``."""


def tool(
    *,
    name: str,
    args: type[BaseModel],
    read_only: bool,
    description: str,
    approving_roles: tuple[str, ...] = (),
    site_field: str | None = None,
    pii_fields: tuple[str, ...] = (),
    facts: FactsFunction | None = None,
) -> Callable[[ToolFunction], Tool]:
    """Declare a tool. The decorated name becomes the :class:`Tool` spec; the function is sealed away.

    ``facts`` is a read-only function ``(args, ctx) -> dict`` the executor runs before evaluating the policy, so
    rules decide on what the system of record says (``facts.amount``), never on what the caller claims."""
    if not name or not name.replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"invalid tool name {name!r}")

    def wrap(fn: ToolFunction) -> Tool:
        spec = Tool(
            name=name,
            description=description,
            args_model=args,
            read_only=read_only,
            approving_roles=tuple(approving_roles),
            site_field=site_field,
            pii_fields=tuple(pii_fields),
            has_facts=facts is not None,
        )
        _IMPLEMENTATIONS[spec] = fn
        if facts is not None:
            _FACTS[spec] = facts
        return spec

    return wrap


class ToolInvoker:
    """The only object that can run a tool's implementation. Obtained once per registry via :meth:`seal`."""

    __slots__ = ("_registry",)

    def __init__(self, registry: ToolRegistry) -> None:
        self._registry = registry

    def invoke(self, spec: Tool, args: BaseModel, ctx: ToolContext) -> Any:
        if self._registry.get(spec.name) is not spec:
            raise NotFoundError(f"tool {spec.name!r} is not registered with this registry")
        return _IMPLEMENTATIONS[spec](args, ctx)

    def facts(self, spec: Tool, args: BaseModel, ctx: ToolContext) -> dict[str, Any] | None:
        """Run the tool's facts function (None when it declares none)."""
        if self._registry.get(spec.name) is not spec:
            raise NotFoundError(f"tool {spec.name!r} is not registered with this registry")
        fn = _FACTS.get(spec)
        return None if fn is None else dict(fn(args, ctx))


class ToolRegistry:
    """Name → :class:`Tool`. Lookup is a dict, never an if/else chain (STYLE.md §5)."""

    def __init__(self, tools: tuple[Tool, ...] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._sealed = False
        self._lock = threading.Lock()
        for t in tools:
            self.register(t)

    def register(self, spec: Tool) -> Tool:
        if not isinstance(spec, Tool) or spec not in _IMPLEMENTATIONS:
            raise TypeError("register a Tool made by the @tool decorator")
        with self._lock:
            if spec.name in self._tools and self._tools[spec.name] is not spec:
                raise ConflictError(f"tool {spec.name!r} is already registered", code="duplicate_tool")
            self._tools[spec.name] = spec
        return spec

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def require(self, name: str) -> Tool:
        spec = self._tools.get(name)
        if spec is None:
            raise NotFoundError(f"unknown tool {name!r}", code="unknown_tool")
        return spec

    def names(self) -> list[str]:
        return sorted(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(sorted(self._tools.values(), key=lambda t: t.name))

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def seal(self) -> ToolInvoker:
        """Hand out the registry's invoker — once. The governed executor calls this in its constructor, so no
        second component can obtain a way to run tools."""
        with self._lock:
            if self._sealed:
                raise ConflictError(
                    "this tool registry is already bound to an executor", code="registry_sealed"
                )
            self._sealed = True
        return ToolInvoker(self)

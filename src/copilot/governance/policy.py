"""The governance policy: roles → tools and data scopes, and approval rules as data.

The policy is a YAML file validated with pydantic (see ``default_policy.yaml``). :class:`PolicyStore` reloads
it when the file changes; a broken edit keeps the last good policy in force (and is logged) rather than
opening or closing everything. Rules are evaluated by severity, never by file order, so an ``allow``
rule cannot shadow a ``deny``: ``deny`` > ``require_approval`` > ``flag_for_review`` > ``allow``.

A condition is a leaf ``{field: "args.amount", op: ">", value: 5000}`` or a combinator ``{all: [...]}``,
``{any: [...]}``, ``{not: {...}}``. Fields are dotted paths rooted at ``args``, ``facts`` (what the tool's facts
function read from Odoo before the policy ran: prices, categories), ``context``, ``principal``, ``tool`` or
(post-call rules only) ``result``. A missing field makes a leaf false; comparing incompatible
types raises :class:`PolicyEvaluationError`, which the executor turns into a denial (fail closed).

Usage::

    store = PolicyStore(Path("policy.yaml"))
    decision = store.current().evaluate("purchase_request_create", "pre", {"args": {"amount": 9000}})
    decision.effect  # Effect.REQUIRE_APPROVAL
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from copilot.errors import ConfigError, CopilotError
from copilot.types import ADMIN_GROUP, AccessScope

log = logging.getLogger(__name__)

DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.yaml")
WILDCARD = "*"
FIELD_ROOTS = ("args", "facts", "context", "principal", "tool", "result")


class PolicyEvaluationError(CopilotError):
    """A rule could not be evaluated (e.g. comparing a number with a string). Treated as a denial."""

    code = "policy_error"

    def __init__(self, message: str, *, rule_id: str) -> None:
        super().__init__(message)
        self.rule_id = rule_id


class Effect(StrEnum):
    ALLOW = "allow"
    FLAG_FOR_REVIEW = "flag_for_review"
    REQUIRE_APPROVAL = "require_approval"
    DENY = "deny"


SEVERITY = {Effect.ALLOW: 0, Effect.FLAG_FOR_REVIEW: 1, Effect.REQUIRE_APPROVAL: 2, Effect.DENY: 3}

Op = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not_in", "contains", "contains_any", "exists"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Leaf(_Strict):
    field: str
    op: Op
    value: Any = None

    @field_validator("field")
    @classmethod
    def _rooted(cls, v: str) -> str:
        root = v.split(".", 1)[0]
        if root not in FIELD_ROOTS or not all(v.split(".")):
            raise ValueError(f"field {v!r} must be a dotted path starting with one of {FIELD_ROOTS}")
        return v

    @model_validator(mode="after")
    def _value_shape(self) -> Leaf:
        if self.op in ("in", "not_in", "contains_any") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs a list value")
        return self


class AllOf(_Strict):
    all: list[Condition]


class AnyOf(_Strict):
    any: list[Condition]


class NotOf(_Strict):
    not_: Condition = Field(alias="not")


Condition = Leaf | AllOf | AnyOf | NotOf
for _m in (AllOf, AnyOf, NotOf):
    _m.model_rebuild()


class RoleSpec(_Strict):
    tools: list[str] = Field(default_factory=list)
    sites: list[str] = Field(default_factory=lambda: [WILDCARD])
    acl_groups: list[str] = Field(default_factory=list)
    description: str = ""


class Rule(_Strict):
    id: str
    tool: str | list[str] = WILDCARD
    stage: Literal["pre", "post"] = "pre"
    when: Condition | None = None
    effect: Effect
    approving_roles: list[str] = Field(default_factory=list)
    reason: str = ""

    @model_validator(mode="after")
    def _coherent(self) -> Rule:
        if self.stage == "post" and self.effect not in (Effect.FLAG_FOR_REVIEW, Effect.DENY, Effect.ALLOW):
            raise ValueError(f"rule {self.id}: a post-call rule can only flag, deny or allow")
        if self.stage == "pre" and self.when is not None and _mentions_result(self.when):
            raise ValueError(f"rule {self.id}: only post-call rules may look at result.*")
        return self

    def applies_to(self, tool_name: str) -> bool:
        tools = [self.tool] if isinstance(self.tool, str) else self.tool
        return WILDCARD in tools or tool_name in tools


class PolicyDocument(_Strict):
    version: Literal[1] = 1
    approval_ttl_hours: float = Field(default=72, gt=0)
    roles: dict[str, RoleSpec]
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> PolicyDocument:
        ids = [r.id for r in self.rules]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate rule ids: {sorted(dupes)}")
        for r in self.rules:
            unknown = [x for x in r.approving_roles if x not in self.roles]
            if unknown:
                raise ValueError(f"rule {r.id}: unknown approving roles {unknown}")
        return self


def _mentions_result(cond: Condition) -> bool:
    if isinstance(cond, Leaf):
        return cond.field.split(".", 1)[0] == "result"
    if isinstance(cond, AllOf):
        return any(_mentions_result(c) for c in cond.all)
    if isinstance(cond, AnyOf):
        return any(_mentions_result(c) for c in cond.any)
    return _mentions_result(cond.not_)


# --- evaluation -----------------------------------------------------------------------------------------

_MISSING = object()
Predicate = Callable[[Mapping[str, Any]], bool]


def resolve(data: Mapping[str, Any], path: str) -> Any:
    """Follow a dotted path through mappings, dataclasses, pydantic models and plain objects."""
    cur: Any = data
    for part in path.split("."):
        if isinstance(cur, Mapping):
            cur = cur.get(part, _MISSING)
        elif isinstance(cur, BaseModel) or dataclasses.is_dataclass(cur):
            cur = getattr(cur, part, _MISSING)
        else:
            return _MISSING
        if cur is _MISSING:
            return _MISSING
    return cur


def _lower(x: Any) -> Any:
    return x.lower() if isinstance(x, str) else x


def _contains(hay: Any, needle: Any) -> bool:
    if isinstance(hay, str):
        return isinstance(needle, str) and needle.lower() in hay.lower()
    if isinstance(hay, list | tuple | set | frozenset):
        return _lower(needle) in {_lower(h) for h in hay}
    raise TypeError(f"cannot test containment in {type(hay).__name__}")


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in (">", ">=", "<", "<="):
        numeric = isinstance(left, int | float) and isinstance(right, int | float)
        if (
            isinstance(left, bool)
            or isinstance(right, bool)
            or not (numeric or (isinstance(left, str) and isinstance(right, str)))
        ):
            raise TypeError(f"cannot order {type(left).__name__} and {type(right).__name__}")
    if op == "==":
        return bool(_lower(left) == _lower(right))
    if op == "!=":
        return bool(_lower(left) != _lower(right))
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == "in":
        return _lower(left) in {_lower(v) for v in right}
    if op == "not_in":
        return _lower(left) not in {_lower(v) for v in right}
    if op == "contains":
        return _contains(left, right)
    if op == "contains_any":
        return any(_contains(left, v) for v in right)
    raise TypeError(f"unknown op {op}")  # pragma: no cover - Literal keeps this unreachable


def compile_condition(cond: Condition | None, rule_id: str) -> Predicate:
    """Turn a condition tree into a closure once, at load time, so evaluation is a few calls per rule."""
    if cond is None:
        return lambda _ctx: True
    if isinstance(cond, AllOf):
        parts = [compile_condition(c, rule_id) for c in cond.all]
        return lambda ctx: all(p(ctx) for p in parts)
    if isinstance(cond, AnyOf):
        parts = [compile_condition(c, rule_id) for c in cond.any]
        return lambda ctx: any(p(ctx) for p in parts)
    if isinstance(cond, NotOf):
        inner = compile_condition(cond.not_, rule_id)
        return lambda ctx: not inner(ctx)
    leaf = cond

    def leaf_pred(ctx: Mapping[str, Any]) -> bool:
        left = resolve(ctx, leaf.field)
        if leaf.op == "exists":
            return left is not _MISSING and left is not None
        if left is _MISSING or left is None:
            return False
        if isinstance(left, Enum):
            left = left.value
        try:
            return _compare(leaf.op, left, leaf.value)
        except TypeError as exc:
            raise PolicyEvaluationError(
                f"rule {rule_id}: {leaf.field} {leaf.op} failed ({exc})", rule_id=rule_id
            ) from None

    return leaf_pred


@dataclass(frozen=True)
class Decision:
    """The outcome of evaluating the rules of one stage. ``rule_id`` is the rule that set ``effect``."""

    effect: Effect
    rule_id: str | None = None
    approving_roles: tuple[str, ...] = ()
    reason: str = ""
    flags: tuple[str, ...] = ()

    @property
    def needs_approval(self) -> bool:
        return self.effect is Effect.REQUIRE_APPROVAL


ALLOW = Decision(Effect.ALLOW)


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    predicate: Predicate


class Policy:
    """A validated, compiled policy. Immutable; :class:`PolicyStore` swaps whole instances on reload."""

    def __init__(self, doc: PolicyDocument, *, source: str = "<memory>") -> None:
        self.doc = doc
        self.source = source
        self._rules = [_CompiledRule(r, compile_condition(r.when, r.id)) for r in doc.rules]

    @classmethod
    def from_mapping(cls, data: Any, *, source: str = "<memory>") -> Policy:
        try:
            return cls(PolicyDocument.model_validate(data), source=source)
        except PydanticValidationError as exc:
            raise ConfigError(f"invalid policy {source}: {exc}", code="invalid_policy") from None

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<memory>") -> Policy:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid policy YAML {source}: {exc}", code="invalid_policy") from None
        return cls.from_mapping(data, source=source)

    @classmethod
    def load(cls, path: Path) -> Policy:
        return cls.from_yaml(path.read_text(encoding="utf-8"), source=str(path))

    # roles and scopes

    def role(self, name: str) -> RoleSpec | None:
        return self.doc.roles.get(name)

    def may_use(self, role: str, tool_name: str) -> bool:
        spec = self.doc.roles.get(role)
        return spec is not None and (WILDCARD in spec.tools or tool_name in spec.tools)

    def allowed_sites(self, role: str, principal_sites: tuple[str, ...]) -> tuple[str, ...] | None:
        """The sites a principal may act on: its own sites narrowed by its role. ``None`` means every site."""
        spec = self.doc.roles.get(role)
        if spec is None:
            return ()
        if WILDCARD in spec.sites:
            return None if WILDCARD in principal_sites else tuple(principal_sites)
        if WILDCARD in principal_sites:
            return tuple(spec.sites)
        return tuple(s for s in principal_sites if s in spec.sites)

    def access_scope(self, role: str, principal_groups: tuple[str, ...]) -> AccessScope:
        """The ACL scope for retrieval: the principal's groups narrowed by the groups its role may read."""
        spec = self.doc.roles.get(role)
        if spec is None:
            return AccessScope()
        if ADMIN_GROUP in spec.acl_groups:
            return AccessScope.admin()
        if WILDCARD in spec.acl_groups:
            groups = tuple(sorted(set(principal_groups) - {ADMIN_GROUP}))
        else:
            groups = tuple(sorted(set(principal_groups) & set(spec.acl_groups)))
        return AccessScope(groups=groups, is_admin=False)

    # rules

    def evaluate(self, tool_name: str, stage: str, ctx: Mapping[str, Any]) -> Decision:
        """Evaluate every rule of ``stage`` that applies to ``tool_name``; the most severe match wins."""
        best: _CompiledRule | None = None
        flags: list[str] = []
        for cr in self._rules:
            r = cr.rule
            if r.stage != stage or not r.applies_to(tool_name):
                continue
            if not cr.predicate(ctx):
                continue
            if r.effect is Effect.FLAG_FOR_REVIEW:
                flags.append(r.id)
            if best is None or SEVERITY[r.effect] > SEVERITY[best.rule.effect]:
                best = cr
        if best is None:
            return Decision(Effect.ALLOW, flags=tuple(flags))
        return Decision(
            effect=best.rule.effect,
            rule_id=best.rule.id,
            approving_roles=tuple(best.rule.approving_roles),
            reason=best.rule.reason,
            flags=tuple(flags),
        )

    def unknown_tools(self, known: set[str]) -> list[str]:
        """Tool names the policy mentions that no registry holds (typos make rules silently dead)."""
        named: set[str] = set()
        for spec in self.doc.roles.values():
            named.update(spec.tools)
        for r in self.doc.rules:
            named.update([r.tool] if isinstance(r.tool, str) else r.tool)
        return sorted(named - known - {WILDCARD})


class PolicyStore:
    """Serves the current :class:`Policy`, reloading the file when its mtime or size changes.

    The check is one ``os.stat`` per call. The first load must succeed (a missing or invalid policy is a
    :class:`ConfigError` at startup); later broken edits are logged and the last good policy stays in force.
    """

    def __init__(self, path: Path | None = None, *, policy: Policy | None = None) -> None:
        self.path = path
        self._policy = policy
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None

    @classmethod
    def fixed(cls, policy: Policy) -> PolicyStore:
        return cls(None, policy=policy)

    def _stat(self) -> tuple[int, int]:
        assert self.path is not None
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> Policy:
        if self.path is None:
            if self._policy is None:
                raise ConfigError("no policy configured", code="invalid_policy")
            return self._policy
        try:
            stamp = self._stat()
        except OSError as exc:
            if self._policy is None:
                raise ConfigError(f"policy file unreadable: {self.path}", code="invalid_policy") from exc
            self.last_error = f"policy file unreadable: {exc.__class__.__name__}"
            log.error("policy %s unreadable, keeping the last good policy", self.path)
            return self._policy
        if stamp == self._stamp and self._policy is not None:
            return self._policy
        with self._lock:
            if stamp == self._stamp and self._policy is not None:
                return self._policy
            try:
                self._policy = Policy.load(self.path)
                self.last_error = None
            except ConfigError as exc:
                if self._policy is None:
                    raise
                self.last_error = exc.message
                log.error("policy %s is invalid, keeping the last good policy: %s", self.path, exc.message)
            self._stamp = stamp
            return self._policy

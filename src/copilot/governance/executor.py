"""The one governed executor every tool call passes through — CLI, API, router or LLM agent.

``execute(principal, tool_name, raw_args)``: authenticate → look the tool up → validate the arguments →
role and site check → pre-call policy → ``before_call`` hooks → run, or park the call as a pending approval →
post-call policy → ``after_call`` hooks → audit record. Denials, errors and pending calls are audited too.

**Fail closed.** A write tool's side effect never happens without its audit trail: an ``intent`` record is
committed *before* the tool runs (if that write fails, the tool does not run), then the outcome record. A
read-only tool runs first and its result is withheld unless its record is written. Parking a call as pending
writes the approval row and its audit record in one transaction.

**Approvals.** :meth:`approve` enforces segregation of duties (the approver is not the requester and holds an
approving role for the rule/tool), moves the request out of ``pending`` with a conditional update in the audit
transaction — so a replay or a concurrent approve cannot run the call twice — then runs it with the
requester's identity and records the approver.

Usage::

    executor = GovernedExecutor(registry, PolicyStore(path), AuditLog(engine), ApprovalStore(engine))
    res = executor.execute(alice, "purchase_request_create", {"amount": 9000, "item": "pumps"})
    res.status            # "pending_approval"
    executor.approve(bob, res.approval_id, reason="budgeted").status   # "ok"
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import SQLAlchemyError

from copilot.errors import (
    AuthenticationError,
    ConflictError,
    CopilotError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)
from copilot.governance.approvals import ApprovalRequest, ApprovalStatus, ApprovalStore
from copilot.governance.audit import AuditEntry, AuditLog
from copilot.governance.policy import SEVERITY, Decision, Effect, Policy, PolicyEvaluationError, PolicyStore
from copilot.governance.principal import Principal
from copilot.governance.redact_args import MASK, ArgsRedactor
from copilot.tools.base import Tool, ToolContext, ToolRegistry
from copilot.types import AccessScope, Answer

log = logging.getLogger(__name__)

Status = Literal["ok", "pending_approval", "denied", "error"]
UNAUTHENTICATED = "<unauthenticated>"
FACTS_KEY = "_facts"

logger = logging.getLogger(__name__)

_OVERLAP = ThreadPoolExecutor(max_workers=8, thread_name_prefix="audit-redaction")
"""Waits on the redaction worker for reads while their tools run (threads that mostly wait, not compute)."""
"""Where a call's facts sit in its recorded arguments (audit records, the approval row)."""


@dataclass
class ExecutionResult:
    """What a caller gets back. ``audit_id`` is the record of the call's outcome (or its intent when the
    outcome could not be written — then ``audit_complete`` is False)."""

    status: Status
    tool: str
    request_id: str
    result: Any = None
    approval_id: str | None = None
    audit_id: str | None = None
    decision: str = Effect.ALLOW.value
    rule_id: str | None = None
    flags: tuple[str, ...] = ()
    error_code: str | None = None
    error: str | None = None
    audit_complete: bool = True
    error_type: type[CopilotError] | None = field(default=None, repr=False, compare=False)
    """The class of a tool's own typed error, so :meth:`raise_for_status` maps it to HTTP like the tool meant."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def raise_for_status(self) -> ExecutionResult:
        """Turn a refusal into the typed error the API maps to HTTP (pending is not an error)."""
        if self.status in ("ok", "pending_approval"):
            return self
        cls = _ERROR_FOR_CODE.get(self.error_code or "") or self.error_type or (
            PermissionDeniedError if self.status == "denied" else None
        )
        raise _rebuild(cls or CopilotError, self.error or self.status, self.error_code)


def _rebuild(cls: type[CopilotError], message: str, code: str | None) -> CopilotError:
    """The error again, as the nearest class of its family built like :class:`CopilotError` (a subclass with its
    own constructor, such as the Odoo client's errors, gives way to the plain base it maps to HTTP with)."""
    for c in cls.__mro__:
        if isinstance(c, type) and issubclass(c, CopilotError) and c.__init__ is CopilotError.__init__:
            return c(message, code=code)
    return CopilotError(message, code=code)


_ERROR_FOR_CODE: dict[str, type[CopilotError]] = {
    "unauthenticated": AuthenticationError,
    "unknown_tool": NotFoundError,
    "validation": ValidationError,
    "forbidden": PermissionDeniedError,
    "site_forbidden": PermissionDeniedError,
    "policy_denied": PermissionDeniedError,
    "policy_error": PermissionDeniedError,
    "audit_unavailable": UnavailableError,
}


@dataclass
class Call:
    """One call as hooks see it. ``before_call`` hooks may raise :class:`PermissionDeniedError` to veto;
    ``after_call`` hooks see ``result``/``error`` and may add to ``ctx.notes`` (retrieval ids, model)."""

    principal: Principal
    tool: Tool
    args: BaseModel
    ctx: ToolContext
    decision: Decision
    policy_ctx: dict[str, Any]
    result: Any = None
    error: CopilotError | None = None
    flags: list[str] = field(default_factory=list)


Hook = Callable[[Call], None]


def annotate_answer(call: Call) -> None:
    """Default ``after_call`` hook: an :class:`Answer` result records its cited documents and answerer."""
    res, notes = call.result, call.ctx.notes
    if isinstance(res, Answer):
        if not notes.doc_ids:
            notes.doc_ids = list(dict.fromkeys(h.chunk.doc_id for h in res.passages))
        if not notes.chunk_ids:
            notes.chunk_ids = [h.point_id for h in res.passages]
        notes.model = notes.model or res.answerer


def _validation_message(exc: PydanticValidationError) -> str:
    """Where and why validation failed — never the offending value (it may be PHI)."""
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['type']}" for e in exc.errors()[:10]]
    return "invalid arguments: " + "; ".join(parts)


class GovernedExecutor:
    """See the module docstring. Constructing it seals the registry: it becomes the only way to run tools."""

    def __init__(
        self,
        registry: ToolRegistry,
        policy: PolicyStore | Policy,
        audit: AuditLog,
        approvals: ApprovalStore,
        *,
        redactor: ArgsRedactor | None = None,
        services: Any = None,
        before_call: Sequence[Hook] = (),
        after_call: Sequence[Hook] = (annotate_answer,),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.registry = registry
        self._invoker = registry.seal()
        self.policy = policy if isinstance(policy, PolicyStore) else PolicyStore.fixed(policy)
        self.audit = audit
        self.approvals = approvals
        self.redact = redactor or ArgsRedactor()
        self._offloaded: bool | None = None
        self.services = services
        self.before_call: list[Hook] = list(before_call)
        self.after_call: list[Hook] = list(after_call)
        self.now = now

    # --- public entry points ----------------------------------------------------------------------------

    def execute(
        self,
        principal: Principal | None,
        tool_name: str,
        raw_args: Any,
        *,
        request_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> ExecutionResult:
        """Run one tool call under governance. Never raises for a refused call: see ``status``."""
        t0 = time.perf_counter_ns()
        rid = request_id or uuid.uuid4().hex
        if not isinstance(principal, Principal):
            return self._refuse(
                None,
                tool_name,
                raw_args,
                rid,
                t0,
                "denied",
                AuthenticationError("an authenticated principal is required", code="unauthenticated"),
            )
        spec = self.registry.get(tool_name)
        if spec is None:
            return self._refuse(
                principal,
                tool_name,
                raw_args,
                rid,
                t0,
                "error",
                NotFoundError("unknown tool", code="unknown_tool"),
            )
        try:
            args = spec.args_model.model_validate(raw_args)
        except PydanticValidationError as exc:
            return self._refuse(
                principal,
                tool_name,
                raw_args,
                rid,
                t0,
                "error",
                ValidationError(_validation_message(exc), code="validation"),
                spec=spec,
            )
        policy = self.policy.current()
        refusal = self._authorize(policy, principal, spec, args)
        if refusal is not None:
            return self._refuse(
                principal, tool_name, args, rid, t0, "denied", refusal[0], spec=spec, rule_id=refusal[1]
            )
        ctx = self._tool_ctx(policy, principal, rid)
        facts_error = self._gather_facts(spec, args, ctx)
        if facts_error is not None:  # the facts policy needs could not be read: nothing runs, nothing parks
            return self._refuse(principal, tool_name, args, rid, t0, "error", facts_error, spec=spec)

        def deny(exc: CopilotError, rule_id: str | None) -> ExecutionResult:
            return self._refuse(
                principal, tool_name, args, rid, t0, "denied", exc, spec=spec, rule_id=rule_id,
                decision=Effect.DENY, facts=ctx.facts,
            )

        policy_ctx = self._policy_ctx(principal, spec, args, rid, context, approved=False, facts=ctx.facts)
        try:
            decision = policy.evaluate(spec.name, "pre", policy_ctx)
        except PolicyEvaluationError as exc:
            return deny(exc, exc.rule_id)
        if decision.effect is Effect.DENY:
            reason = PermissionDeniedError(decision.reason or "denied by policy", code="policy_denied")
            return deny(reason, decision.rule_id)
        call = Call(principal, spec, args, ctx, decision, policy_ctx, flags=list(decision.flags))
        try:
            for hook in self.before_call:
                hook(call)
        except PermissionDeniedError as exc:
            return deny(exc, decision.rule_id)
        if decision.effect is Effect.REQUIRE_APPROVAL:
            return self._park(call, policy, t0)
        return self._run(call, policy, t0)

    def approve(self, approver: Principal | None, approval_id: str, *, reason: str = "") -> ExecutionResult:
        """Approve a pending call and run it once, as its requester, recording the approver.

        Raises :class:`AuthenticationError`, :class:`NotFoundError`, :class:`PermissionDeniedError`
        (self-approval, not an approving role) or :class:`ConflictError` (already decided, expired, replay).
        """
        req = self._decidable(approver, approval_id, "approve")
        assert isinstance(approver, Principal)
        now = self.now()
        with self.audit.transaction() as tx:
            if not self.approvals.transition(
                tx.conn,
                req.id,
                ApprovalStatus.APPROVED,
                now=now,
                decided_by=approver.id,
                decided_role=approver.role,
                reason=self.redact.text(reason) if reason else None,
            ):
                raise ConflictError("approval request was already decided", code="already_decided")
            tx.append(self._transition_entry(req, "approval.approved", approver, reason))
        t0 = time.perf_counter_ns()
        spec = self.registry.get(req.tool)
        policy = self.policy.current()
        principal = req.requester
        result: ExecutionResult
        if spec is None:
            result = self._refuse(
                principal,
                req.tool,
                req.args_redacted,
                req.request_id,
                t0,
                "error",
                NotFoundError("unknown tool", code="unknown_tool"),
                approval_id=req.id,
                approver_id=approver.id,
            )
        else:
            result = self._run_approved(spec, policy, req, approver, t0)
        try:
            with self.audit.engine.begin() as conn:
                self.approvals.record_execution(
                    conn, req.id, outcome=result.status, error_code=result.error_code, now=self.now()
                )
        except SQLAlchemyError:  # the run and its audit records stand; only the summary columns are missing
            log.error("could not record the outcome of approval %s", req.id)
        result.approval_id = req.id
        return result

    def reject(self, approver: Principal | None, approval_id: str, *, reason: str = "") -> ApprovalRequest:
        """Reject a pending call (same segregation of duties as approving). Its raw arguments are erased."""
        req = self._decidable(approver, approval_id, "reject")
        assert isinstance(approver, Principal)
        with self.audit.transaction() as tx:
            if not self.approvals.transition(
                tx.conn,
                req.id,
                ApprovalStatus.REJECTED,
                now=self.now(),
                decided_by=approver.id,
                decided_role=approver.role,
                reason=self.redact.text(reason) if reason else None,
            ):
                raise ConflictError("approval request was already decided", code="already_decided")
            tx.append(self._transition_entry(req, "approval.rejected", approver, reason))
        return self.approvals.get(req.id)

    def expire_due(self) -> int:
        """Expire every pending request past its deadline; each expiry is an audited transition."""
        n = 0
        now = self.now()
        for req in self.approvals.due(now):
            n += self._expire(req, now)
        return n

    # --- internals --------------------------------------------------------------------------------------

    def _authorize(
        self, policy: Policy, principal: Principal, spec: Tool, args: BaseModel
    ) -> tuple[CopilotError, str] | None:
        if not policy.may_use(principal.role, spec.name):
            return PermissionDeniedError(
                f"role {principal.role!r} may not use {spec.name}", code="forbidden"
            ), (f"role:{principal.role}")
        if spec.site_field:
            site = getattr(args, spec.site_field, None)
            allowed = policy.allowed_sites(principal.role, principal.sites)
            if site is not None and allowed is not None and site not in allowed:
                return PermissionDeniedError("site outside the caller's scope", code="site_forbidden"), (
                    f"scope:{principal.role}"
                )
        return None

    def _policy_ctx(
        self,
        principal: Principal,
        spec: Tool,
        args: BaseModel,
        rid: str,
        context: Mapping[str, Any] | None,
        *,
        approved: bool,
        facts: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "args": args.model_dump(mode="json"),
            "facts": dict(facts or {}),
            "principal": {
                "id": principal.id,
                "role": principal.role,
                "groups": list(principal.groups),
                "sites": list(principal.sites),
            },
            "tool": {"name": spec.name, "read_only": spec.read_only},
            "context": {"request_id": rid, "approved": approved, **dict(context or {})},
        }

    def _tool_ctx(self, policy: Policy, principal: Principal, rid: str, **kw: Any) -> ToolContext:
        scope: AccessScope = policy.access_scope(principal.role, principal.groups)
        return ToolContext(principal=principal, request_id=rid, scope=scope, services=self.services, **kw)

    def _redaction_runs_elsewhere(self, spec: Tool, args: Any) -> bool:
        """Whether these arguments go to an audit redactor that works in its own processes (then a read's
        redaction overlaps its tool). Arguments without text never build the redactor: a command such as
        ``copilot audit verify`` must start without spaCy."""
        dumped = args.model_dump(mode="json") if isinstance(args, BaseModel) else args
        if not self.redact.needs_redactor(dumped, extra_keys=spec.pii_fields):
            return False
        if self._offloaded is None:
            config = getattr(self.redact.redactor, "config", None)
            self._offloaded = bool(getattr(config, "offload", False))
        return self._offloaded

    def _redacted_or_masked(
        self, spec: Tool | None, args: Any, facts: dict[str, Any] | None
    ) -> tuple[Any, CopilotError | None]:
        """The redacted arguments, or — when redaction itself failed (its workers died) — a record that holds
        none of them and the typed error to fail closed with. Raw arguments are never the fallback."""
        try:
            return self._redacted(spec, args, facts), None
        except CopilotError as exc:
            logger.warning("audit redaction failed (%s): the call fails closed", exc.code)
            return {"_args": MASK, **({FACTS_KEY: facts} if facts is not None else {})}, exc

    def _redacted(self, spec: Tool | None, args: Any, facts: dict[str, Any] | None = None) -> Any:
        """The arguments as recorded: redacted, plus the facts the policy decided on under ``_facts`` (a name no
        pydantic argument can have). Facts are read from Odoo by the tool's own code — record references, links,
        quantities and prices, never the caller's free text — so they are recorded as read."""
        if isinstance(args, BaseModel):
            args = args.model_dump(mode="json")
        if not isinstance(args, dict):
            args = {"_raw": args if isinstance(args, str | int | float | bool | None) else str(args)}
        out = self.redact(args, extra_keys=spec.pii_fields if spec else ())
        if facts is not None and isinstance(out, dict):
            out[FACTS_KEY] = facts
        return out

    def _gather_facts(self, spec: Tool, args: BaseModel, ctx: ToolContext) -> CopilotError | None:
        """Run the tool's facts function into ``ctx.facts``; a failure is returned as the typed error to refuse
        with (Odoo down, an unknown or ambiguous record), so policy never decides on missing facts."""
        if not spec.has_facts:
            return None
        try:
            facts = self._invoker.facts(spec, args, ctx)
            ctx.facts = json.loads(json.dumps(facts or {}))  # what the audit chain and the approval will hold
        except CopilotError as exc:
            return exc
        except Exception as exc:  # a bug in the facts code: its type only (the message may hold PHI)
            return CopilotError(f"facts failed: {type(exc).__name__}", code="facts_error")
        return None

    def _entry(
        self, principal: Principal | None, tool: str, args_redacted: Any, rid: str, **kw: Any
    ) -> AuditEntry:
        return AuditEntry(
            kind=kw.pop("kind", "tool_call"),
            request_id=rid,
            principal_id=principal.id if principal else UNAUTHENTICATED,
            role=principal.role if principal else "",
            tool=tool,
            args=args_redacted,
            **kw,
        )

    def _refuse(
        self,
        principal: Principal | None,
        tool_name: str,
        args: Any,
        rid: str,
        t0: int,
        status: Status,
        err: CopilotError,
        *,
        spec: Tool | None = None,
        rule_id: str | None = None,
        decision: Effect | None = None,
        approval_id: str | None = None,
        approver_id: str | None = None,
        facts: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        dec = (decision or (Effect.DENY if status == "denied" else Effect.ALLOW)).value
        entry = self._entry(
            principal,
            tool_name[:128] if isinstance(tool_name, str) else "<invalid>",
            self._redacted_or_masked(spec, args, facts)[0],
            rid,
            decision=dec,
            rule_id=rule_id,
            outcome=status,
            error_code=err.code,
            error=err.message,
            approval_id=approval_id,
            approver_id=approver_id,
            latency_us=(time.perf_counter_ns() - t0) // 1000,
        )
        base = ExecutionResult(
            status=status,
            tool=str(tool_name),
            request_id=rid,
            decision=dec,
            rule_id=rule_id,
            error_code=err.code,
            error=err.message,
            approval_id=approval_id,
            error_type=type(err),
        )
        try:
            base.audit_id = self.audit.append(entry).record_id
        except UnavailableError:
            base.audit_complete = False
        return base

    def _park(self, call: Call, policy: Policy, t0: int) -> ExecutionResult:
        spec, principal, decision = call.tool, call.principal, call.decision
        roles = decision.approving_roles or spec.approving_roles
        redacted = self._redacted(spec, call.args, call.ctx.facts)
        now = self.now()
        ttl = timedelta(hours=policy.doc.approval_ttl_hours)
        try:
            with self.audit.transaction() as tx:
                approval_id = self.approvals.create(
                    tx.conn,
                    tool=spec.name,
                    request_id=call.ctx.request_id,
                    requester=principal,
                    args_raw=call.args.model_dump(mode="json"),
                    args_redacted=redacted,
                    rule_id=decision.rule_id,
                    reason=decision.reason,
                    approving_roles=tuple(roles),
                    now=now,
                    ttl=ttl,
                )
                rec = tx.append(
                    self._entry(
                        principal,
                        spec.name,
                        redacted,
                        call.ctx.request_id,
                        decision=decision.effect.value,
                        rule_id=decision.rule_id,
                        outcome="pending_approval",
                        approval_id=approval_id,
                        flags=call.flags,
                        latency_us=(time.perf_counter_ns() - t0) // 1000,
                    )
                )
        except UnavailableError as exc:
            return ExecutionResult(
                "error",
                spec.name,
                call.ctx.request_id,
                decision=decision.effect.value,
                rule_id=decision.rule_id,
                error_code=exc.code,
                error=exc.message,
                audit_complete=False,
            )
        return ExecutionResult(
            "pending_approval",
            spec.name,
            call.ctx.request_id,
            approval_id=approval_id,
            audit_id=rec.record_id,
            decision=decision.effect.value,
            rule_id=decision.rule_id,
            flags=tuple(call.flags),
        )

    def _run(
        self,
        call: Call,
        policy: Policy,
        t0: int,
        *,
        approval_id: str | None = None,
        approver_id: str | None = None,
    ) -> ExecutionResult:
        spec, principal, decision, ctx = call.tool, call.principal, call.decision, call.ctx
        rid = ctx.request_id
        pending: Future[tuple[Any, CopilotError | None]] | None = None
        if spec.read_only and self._redaction_runs_elsewhere(spec, call.args):
            # A read's record is written after the tool ran, so its redaction (in the redaction worker) runs
            # while the tool does; the result is still returned only once its record is on the chain.
            pending = _OVERLAP.submit(self._redacted_or_masked, spec, call.args, ctx.facts)
            redacted, redaction_error = None, None
        else:
            redacted, redaction_error = self._redacted_or_masked(spec, call.args, ctx.facts)
        if redaction_error is not None:
            # Fail closed before anything runs: the record holds no argument, an action has no side effect.
            return self._refuse(principal, spec.name, call.args, rid, t0, "error", redaction_error, spec=spec,
                                approval_id=approval_id, approver_id=approver_id, facts=ctx.facts)
        intent_id: str | None = None
        if not spec.read_only:
            try:
                intent_id = self.audit.append(
                    self._entry(
                        principal,
                        spec.name,
                        redacted,
                        rid,
                        kind="tool_call.intent",
                        decision=decision.effect.value,
                        rule_id=decision.rule_id,
                        outcome="started",
                        approval_id=approval_id,
                        approver_id=approver_id,
                    )
                ).record_id
            except UnavailableError as exc:
                # Fail closed: no audit intent, no side effect.
                return ExecutionResult(
                    "error",
                    spec.name,
                    rid,
                    decision=decision.effect.value,
                    rule_id=decision.rule_id,
                    error_code=exc.code,
                    error=exc.message,
                    approval_id=approval_id,
                    audit_complete=False,
                )
        status: Status = "ok"
        try:
            call.result = self._invoker.invoke(spec, call.args, ctx)
        except CopilotError as exc:
            call.error, status = exc, "error"
        except Exception as exc:  # a tool bug: record the type only, never the message (may hold PHI)
            call.error, status = (
                CopilotError(f"tool failed: {type(exc).__name__}", code="tool_error"),
                "error",
            )
        effect, rule_id = decision.effect, decision.rule_id
        if call.error is None:
            try:
                post = policy.evaluate(spec.name, "post", {**call.policy_ctx, "result": call.result})
                call.flags.extend(f for f in post.flags if f not in call.flags)
                if post.effect is Effect.DENY:
                    call.error = PermissionDeniedError(
                        post.reason or "result withheld by policy", code="policy_denied"
                    )
                    status, effect, rule_id = "denied", Effect.DENY, post.rule_id
                elif post.rule_id and SEVERITY[post.effect] > SEVERITY[effect]:
                    effect, rule_id = post.effect, post.rule_id
            except PolicyEvaluationError as exc:
                call.error, status, effect, rule_id = exc, "denied", Effect.DENY, exc.rule_id
        for hook in self.after_call:
            hook(call)
        if pending is not None:
            redacted, redaction_error = pending.result()
        if redaction_error is not None:
            # A read whose redaction (run beside it) failed: the record holds no argument, the caller no result.
            call.error, call.result, status = redaction_error, None, "error"
        notes = ctx.notes
        err = call.error
        entry = self._entry(
            principal,
            spec.name,
            redacted,
            rid,
            decision=effect.value,
            rule_id=rule_id,
            outcome=status,
            error_code=err.code if err else None,
            error=err.message if err else None,
            approval_id=approval_id,
            approver_id=approver_id,
            flags=call.flags,
            doc_ids=notes.doc_ids,
            chunk_ids=notes.chunk_ids,
            model=notes.model,
            prompt_version=notes.prompt_version,
            latency_us=(time.perf_counter_ns() - t0) // 1000,
        )
        result = ExecutionResult(
            status,
            spec.name,
            rid,
            result=call.result if status == "ok" else None,
            approval_id=approval_id,
            decision=effect.value,
            rule_id=rule_id,
            flags=tuple(call.flags),
            error_code=err.code if err else None,
            error=err.message if err else None,
            error_type=type(err) if err else None,
        )
        try:
            result.audit_id = self.audit.append(entry).record_id
        except UnavailableError as exc:
            if spec.read_only:
                # Fail closed for reads: no record, no result.
                return ExecutionResult(
                    "error",
                    spec.name,
                    rid,
                    decision=effect.value,
                    rule_id=rule_id,
                    error_code=exc.code,
                    error=exc.message,
                    audit_complete=False,
                )
            # The side effect happened and its intent is on the chain; report the gap rather than lie.
            result.audit_id, result.audit_complete = intent_id, False
        return result

    def _run_approved(
        self, spec: Tool, policy: Policy, req: ApprovalRequest, approver: Principal, t0: int
    ) -> ExecutionResult:
        principal = req.requester
        refuse_kw: dict[str, Any] = {"spec": spec, "approval_id": req.id, "approver_id": approver.id}
        if req.args_raw is None:
            return self._refuse(
                principal,
                spec.name,
                req.args_redacted,
                req.request_id,
                t0,
                "error",
                ConflictError("arguments no longer available", code="already_decided"),
                **refuse_kw,
            )
        try:
            args = spec.args_model.model_validate(req.args_raw)
        except PydanticValidationError as exc:
            return self._refuse(
                principal,
                spec.name,
                req.args_redacted,
                req.request_id,
                t0,
                "error",
                ValidationError(_validation_message(exc), code="validation"),
                **refuse_kw,
            )
        refusal = self._authorize(policy, principal, spec, args)
        if refusal is not None:  # the requester lost the right meanwhile
            return self._refuse(
                principal,
                spec.name,
                args,
                req.request_id,
                t0,
                "denied",
                refusal[0],
                rule_id=refusal[1],
                **refuse_kw,
            )
        ctx = self._tool_ctx(policy, principal, req.request_id, approval_id=req.id, approver_id=approver.id)
        facts_error = self._gather_facts(spec, args, ctx)
        if facts_error is None and spec.has_facts and ctx.facts != req.args_redacted.get(FACTS_KEY):
            # The approver decided on what Odoo said then; what it says now differs (a price, a category, a
            # stage): running would write something nobody approved.
            facts_error = ConflictError(
                "Odoo changed since the request was approved; submit it again", code="facts_changed"
            )
        if facts_error is not None:
            return self._refuse(
                principal, spec.name, args, req.request_id, t0, "error", facts_error, facts=ctx.facts, **refuse_kw
            )
        policy_ctx = self._policy_ctx(principal, spec, args, req.request_id, None, approved=True, facts=ctx.facts)
        try:
            decision = policy.evaluate(spec.name, "pre", policy_ctx)
        except PolicyEvaluationError as exc:
            return self._refuse(
                principal,
                spec.name,
                args,
                req.request_id,
                t0,
                "denied",
                exc,
                rule_id=exc.rule_id,
                decision=Effect.DENY,
                **refuse_kw,
            )
        if decision.effect is Effect.DENY:
            return self._refuse(
                principal,
                spec.name,
                args,
                req.request_id,
                t0,
                "denied",
                PermissionDeniedError(decision.reason or "denied by policy", code="policy_denied"),
                rule_id=decision.rule_id,
                decision=Effect.DENY,
                **refuse_kw,
            )
        decision = Decision(
            Effect.REQUIRE_APPROVAL,
            req.rule_id or decision.rule_id,
            req.approving_roles,
            req.reason,
            decision.flags,
        )
        call = Call(principal, spec, args, ctx, decision, policy_ctx, flags=list(decision.flags))
        try:
            for hook in self.before_call:
                hook(call)
        except PermissionDeniedError as exc:
            return self._refuse(
                principal,
                spec.name,
                args,
                req.request_id,
                t0,
                "denied",
                exc,
                decision=Effect.DENY,
                **refuse_kw,
            )
        return self._run(call, policy, t0, approval_id=req.id, approver_id=approver.id)

    def _decidable(self, approver: Principal | None, approval_id: str, verb: str) -> ApprovalRequest:
        """Checks shared by approve and reject; every refusal is itself audited."""
        if not isinstance(approver, Principal):
            raise AuthenticationError("an authenticated approver is required", code="unauthenticated")
        req = self.approvals.get(approval_id)
        err: CopilotError | None = None
        if req.status is not ApprovalStatus.PENDING:
            err = ConflictError(f"approval request is already {req.status.value}", code="already_decided")
        elif req.is_expired(self.now()):
            self._expire(req, self.now())
            err = ConflictError("approval request has expired", code="expired")
        elif approver.id == req.requester.id:
            err = PermissionDeniedError("the requester cannot decide their own request", code="self_approval")
        elif approver.role not in req.approving_roles:
            err = PermissionDeniedError(
                f"role {approver.role!r} may not {verb} {req.tool} requests", code="not_an_approver"
            )
        if err is not None:
            with contextlib.suppress(UnavailableError):
                self.audit.append(
                    self._transition_entry(req, f"approval.{verb}_refused", approver, "", error=err)
                )
            raise err
        return req

    def _expire(self, req: ApprovalRequest, now: datetime) -> int:
        with self.audit.transaction() as tx:
            if not self.approvals.transition(tx.conn, req.id, ApprovalStatus.EXPIRED, now=now):
                return 0
            tx.append(self._transition_entry(req, "approval.expired", None, ""))
        return 1

    def _transition_entry(
        self,
        req: ApprovalRequest,
        kind: str,
        approver: Principal | None,
        reason: str,
        *,
        error: CopilotError | None = None,
    ) -> AuditEntry:
        args: dict[str, Any] = {"requester_id": req.requester.id, "request": req.args_redacted}
        if reason:
            args["reason"] = self.redact.text(reason)
        return AuditEntry(
            kind=kind,
            request_id=req.request_id,
            principal_id=approver.id if approver else "<system>",
            role=approver.role if approver else "",
            tool=req.tool,
            args=args,
            decision=Effect.REQUIRE_APPROVAL.value,
            rule_id=req.rule_id,
            approver_id=approver.id if approver and error is None else None,
            approval_id=req.id,
            outcome="refused" if error else kind.rsplit(".", 1)[-1],
            error_code=error.code if error else None,
            error=error.message if error else None,
        )

"""The governed executor: every refusal path, hooks, post-call rules, PII never stored raw, and fail-closed
behaviour when the database is unavailable."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from copilot.db import make_engine, migrate
from copilot.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError
from copilot.governance.executor import Call
from copilot.governance.factory import Governance
from copilot.governance.principal import Principal
from copilot.governance.testing import Ledger, build_test_governance

pytestmark = pytest.mark.unit

ALICE = Principal("u-alice", "Alice", "executive", groups=("staff", "finance"), sites=("north",))
STAFF = Principal("u-sam", "Sam", "staff", groups=("staff",), sites=("north",))
AGENT = Principal("u-hana", "Hana", "helpdesk_agent", groups=("staff",))
ADMIN = Principal("u-root", "Root", "admin", groups=("staff",), sites=("*",))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "copilot.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "copilot.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine, path
    engine.dispose()


@pytest.fixture
def gov(db: tuple[Engine, Path]) -> tuple[Governance, Ledger]:
    return build_test_governance(db[0])


def test_read_only_call_runs_and_is_audited(gov: tuple[Governance, Ledger]) -> None:
    g, _ = gov
    res = g.executor.execute(STAFF, "echo", {"text": "hello"}, request_id="req-1", context={"channel": "api"})
    assert res.status == "ok" and res.result == {"text": "hello", "requester": "u-sam"}
    rec = g.audit.get(res.audit_id or "")
    assert (rec.kind, rec.request_id, rec.principal_id, rec.role, rec.tool, rec.outcome, rec.decision) == (
        "tool_call",
        "req-1",
        "u-sam",
        "staff",
        "echo",
        "ok",
        "allow",
    )
    assert rec.args == {"text": "hello", "fail": "none"} and rec.latency_us > 0
    assert g.audit.verify().ok


@pytest.mark.parametrize(
    ("principal", "tool", "args", "status", "code", "exc"),
    [
        (None, "echo", {"text": "x"}, "denied", "unauthenticated", AuthenticationError),
        ("u-alice", "echo", {"text": "x"}, "denied", "unauthenticated", AuthenticationError),
        (STAFF, "drop_tables", {}, "error", "unknown_tool", NotFoundError),
        (STAFF, "echo", {"text": 5}, "error", "validation", ValidationError),
        (STAFF, "echo", "not a mapping", "error", "validation", ValidationError),
        (STAFF, "echo", {"text": "x", "fail": "sometimes"}, "error", "validation", ValidationError),
        (
            ALICE,
            "purchase_request_create",
            {"item": "x", "amount": -1},
            "error",
            "validation",
            ValidationError,
        ),
        (
            STAFF,
            "purchase_request_create",
            {"item": "x", "amount": 1},
            "denied",
            "forbidden",
            PermissionDeniedError,
        ),
        (
            AGENT,
            "maintenance_equipment_status_set",
            {"equipment_id": 1, "status": "retired"},
            "denied",
            "forbidden",
            PermissionDeniedError,
        ),
        (
            ALICE,
            "purchase_request_create",
            {"item": "x", "amount": 1, "site": "south"},
            "denied",
            "site_forbidden",
            PermissionDeniedError,
        ),
    ],
)
def test_refusals_are_typed_audited_and_have_no_side_effect(
    gov: tuple[Governance, Ledger], principal: Any, tool: str, args: Any, status: str, code: str, exc: type
) -> None:
    g, ledger = gov
    res = g.executor.execute(principal, tool, args)
    assert (res.status, res.error_code) == (status, code)
    assert ledger.count() == 0 and res.result is None
    rec = g.audit.get(res.audit_id or "")
    assert rec.outcome == status and rec.error_code == code
    with pytest.raises(exc):
        res.raise_for_status()
    assert g.audit.verify().ok


def test_validation_errors_never_echo_the_offending_value(gov: tuple[Governance, Ledger]) -> None:
    g, _ = gov
    res = g.executor.execute(ALICE, "purchase_request_create", {"item": "x", "amount": "SSN 123-45-6789"})
    assert res.error_code == "validation" and "amount" in (res.error or "")
    assert "123-45-6789" not in (res.error or "")
    assert "123-45-6789" not in g.audit.get(res.audit_id or "").args_json


def test_admin_wildcard_role_and_site_wildcard(gov: tuple[Governance, Ledger]) -> None:
    g, ledger = gov
    res = g.executor.execute(ADMIN, "purchase_request_create", {"item": "x", "amount": 1, "site": "south"})
    assert res.ok and ledger.count() == 1


def test_write_tool_writes_intent_then_outcome(gov: tuple[Governance, Ledger]) -> None:
    g, ledger = gov
    res = g.executor.execute(
        ALICE, "purchase_request_create", {"item": "gloves", "amount": 120, "site": "north"}
    )
    assert res.ok and ledger.entries[0][:3] == ("purchase_request_create", "u-alice", None)
    recs = g.audit.search(request_id=res.request_id)
    assert [(r.kind, r.outcome) for r in recs] == [("tool_call.intent", "started"), ("tool_call", "ok")]
    assert recs[1].record_id == res.audit_id


def test_over_threshold_waits_for_approval_without_side_effect(gov: tuple[Governance, Ledger]) -> None:
    g, ledger = gov
    res = g.executor.execute(ALICE, "purchase_request_create", {"item": "pumps", "amount": 9000})
    assert (res.status, res.decision, res.rule_id) == (
        "pending_approval",
        "require_approval",
        "purchase-over-5000",
    )
    assert ledger.count() == 0
    req = g.approvals.get(res.approval_id or "")
    assert req.status == "pending" and req.approving_roles == ("executive", "admin")
    rec = g.audit.get(res.audit_id or "")
    assert (rec.outcome, rec.approval_id, rec.rule_id) == (
        "pending_approval",
        res.approval_id,
        "purchase-over-5000",
    )
    res.raise_for_status()  # pending is not an error


def test_triage_auto_applies_only_when_confident_not_urgent_and_no_critical_equipment(
    gov: tuple[Governance, Ledger],
) -> None:
    g, ledger = gov
    base = {"ticket_id": 7, "labels": {"ticket_type_id": "Network & phones"}, "confidence": 0.97}
    ok = g.executor.execute(AGENT, "ticket_triage_apply", {**base, "auto": True})
    urgent = g.executor.execute(AGENT, "ticket_triage_apply", {**base, "auto": True, "urgent": True})
    vent = g.executor.execute(AGENT, "ticket_triage_apply", {**base, "auto": True, "critical_equipment": True})
    unsure = g.executor.execute(AGENT, "ticket_triage_apply", {**base, "confidence": 0.6, "auto": False})
    assert (ok.status, ok.rule_id) == ("ok", "triage-auto-apply")
    assert [urgent.status, vent.status, unsure.status] == ["pending_approval"] * 3
    assert ledger.count() == 1


def test_post_call_rule_flags_a_low_confidence_answer(gov: tuple[Governance, Ledger]) -> None:
    g, _ = gov
    low = g.executor.execute(STAFF, "knowledge_search", {"question": "unknown procedure?"})
    high = g.executor.execute(STAFF, "knowledge_search", {"question": "PM interval?"})
    assert (low.status, low.decision, low.flags) == ("ok", "flag_for_review", ("low-confidence-answer",))
    assert low.result["groups"] == ["staff"]  # ACL scope came from governance, not the request
    assert (high.decision, high.flags) == ("allow", ())
    assert g.audit.get(low.audit_id or "").flags == ["low-confidence-answer"]


def test_policy_evaluation_error_denies(gov: tuple[Governance, Ledger], db: tuple[Engine, Path]) -> None:
    from copilot.governance.policy import Policy

    policy = Policy.from_mapping(
        {
            "roles": {"staff": {"tools": ["echo"]}},
            "rules": [
                {
                    "id": "weird",
                    "tool": "echo",
                    "when": {"field": "args.text", "op": ">", "value": 3},
                    "effect": "require_approval",
                    "approving_roles": ["staff"],
                }
            ],
        }
    )
    g, _ledger = build_test_governance(db[0], policy=policy)
    res = g.executor.execute(STAFF, "echo", {"text": "abc"})
    assert (res.status, res.error_code, res.rule_id) == ("denied", "policy_error", "weird")


def test_deny_rule(db: tuple[Engine, Path]) -> None:
    from copilot.governance.policy import Policy

    policy = Policy.from_mapping(
        {
            "roles": {"staff": {"tools": ["echo"]}},
            "rules": [
                {
                    "id": "no-night",
                    "when": {"field": "context.channel", "op": "==", "value": "agent"},
                    "effect": "deny",
                    "reason": "agents may not echo",
                },
                {"id": "always", "effect": "allow"},
            ],
        }
    )
    g, _ = build_test_governance(db[0], policy=policy)
    denied = g.executor.execute(STAFF, "echo", {"text": "x"}, context={"channel": "agent"})
    allowed = g.executor.execute(STAFF, "echo", {"text": "x"}, context={"channel": "api"})
    assert (denied.status, denied.error_code, denied.rule_id) == ("denied", "policy_denied", "no-night")
    assert (allowed.status, allowed.rule_id) == ("ok", "always")


def test_tool_failures_are_recorded_without_their_message(gov: tuple[Governance, Ledger]) -> None:
    g, _ = gov
    typed = g.executor.execute(STAFF, "echo", {"text": "x", "fail": "typed"})
    crash = g.executor.execute(STAFF, "echo", {"text": "MRN 998877", "fail": "crash"})
    assert (typed.status, typed.error_code) == ("error", "source")
    assert (crash.status, crash.error_code, crash.error) == (
        "error",
        "tool_error",
        "tool failed: RuntimeError",
    )
    rec = g.audit.get(crash.audit_id or "")
    assert "998877" not in (rec.error or "") + rec.args_json


def test_hooks_veto_and_annotate(db: tuple[Engine, Path]) -> None:
    seen: list[str] = []

    def veto_night_shift(call: Call) -> None:
        seen.append(call.tool.name)
        if call.principal.id == "u-sam":
            raise PermissionDeniedError("vetoed by hook", code="hook_veto")

    def annotate(call: Call) -> None:
        call.ctx.notes.doc_ids = ["doc-1"]
        call.ctx.notes.chunk_ids = ["c-1", "c-2"]
        call.ctx.notes.model = "scripted"
        call.ctx.notes.prompt_version = "answer@3"

    g, _ = build_test_governance(db[0], before_call=[veto_night_shift], after_call=[annotate])
    vetoed = g.executor.execute(STAFF, "echo", {"text": "x"})
    ok = g.executor.execute(ALICE, "echo", {"text": "x"})
    assert (vetoed.status, vetoed.error_code) == ("denied", "hook_veto") and seen == ["echo", "echo"]
    rec = g.audit.get(ok.audit_id or "")
    assert (rec.doc_ids, rec.chunk_ids, rec.model, rec.prompt_version) == (
        ["doc-1"],
        ["c-1", "c-2"],
        "scripted",
        "answer@3",
    )


def test_annotate_answer_records_retrieval_ids() -> None:
    from copilot.governance.executor import annotate_answer
    from copilot.tools.base import ToolContext
    from copilot.types import AccessScope, Answer, Chunk, Hit

    chunk = Chunk("doc-9", 0, "t", "T", "S", 1, 1, "u", "sop", None, None, ("staff",), "c")
    answer = Answer("q", "a", (), False, (Hit(chunk.point_id, 0.9, chunk),), 0.9, "extractive")
    ctx = ToolContext(principal=STAFF, request_id="r", scope=AccessScope())
    call = Call(STAFF, None, None, ctx, None, {}, result=answer)  # type: ignore[arg-type]
    annotate_answer(call)
    assert (ctx.notes.doc_ids, ctx.notes.chunk_ids, ctx.notes.model) == (
        ["doc-9"],
        [chunk.point_id],
        "extractive",
    )


PII = {
    "item": "insulin pens",
    "amount": 40,
    "description": "for patient MRN 00443322, call 555-201-7788, jane.roe@example.org, SSN 123-45-6789",
    "requested_for": "Jane Roe",
}
RAW_MARKERS = ["00443322", "555-201-7788", "jane.roe@example.org", "123-45-6789", "Jane Roe"]


def _all_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_pii_in_arguments_is_never_stored_raw(
    gov: tuple[Governance, Ledger], db: tuple[Engine, Path]
) -> None:
    g, ledger = gov
    done = g.executor.execute(ALICE, "purchase_request_create", PII)
    pending = g.executor.execute(ALICE, "purchase_request_create", {**PII, "amount": 9000})
    rejected = g.executor.execute(ALICE, "purchase_request_create", {**PII, "amount": 9001})
    bob = Principal("u-bob", "Bob", "executive")
    g.executor.approve(bob, pending.approval_id or "", reason="ok, confirmed on 555-201-7788")
    g.executor.reject(bob, rejected.approval_id or "", reason="no")
    assert done.ok and ledger.count() == 2  # the tool itself got the real values
    assert ledger.entries[0][3]["requested_for"] == "Jane Roe"
    g.audit.engine.dispose()
    with db[0].connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    blob = _all_bytes(db[1])
    for marker in RAW_MARKERS:
        assert marker.encode() not in blob, marker
    assert b"<MEDICAL_RECORD_NUMBER>" in blob and b"<REDACTED>" in blob


def test_raw_args_exist_only_while_pending(gov: tuple[Governance, Ledger], db: tuple[Engine, Path]) -> None:
    g, _ = gov
    res = g.executor.execute(ALICE, "purchase_request_create", {**PII, "amount": 9000})
    with db[0].connect() as conn:
        raw = conn.execute(
            text("select args_raw from approvals where id=:i"), {"i": res.approval_id}
        ).scalar()
    assert raw is not None and "Jane Roe" in raw
    g.executor.approve(Principal("u-bob", "Bob", "executive"), res.approval_id or "")
    with db[0].connect() as conn:
        raw = conn.execute(
            text("select args_raw from approvals where id=:i"), {"i": res.approval_id}
        ).scalar()
    assert raw is None


# --- the database unavailable: fail closed -------------------------------------------------------------


def _unreachable_engine() -> Engine:
    return create_engine("sqlite:////proc/no-such-dir/copilot.db")


@pytest.mark.parametrize(
    ("principal", "tool", "args"),
    [
        (ALICE, "purchase_request_create", {"item": "gloves", "amount": 10}),  # write tool, allowed
        (ALICE, "purchase_request_create", {"item": "gloves", "amount": 9000}),  # would be parked
        (STAFF, "echo", {"text": "x"}),  # read-only: the result is withheld
    ],
)
def test_database_unavailable_fails_closed(principal: Principal, tool: str, args: dict[str, Any]) -> None:
    g, ledger = build_test_governance(_unreachable_engine())
    res = g.executor.execute(principal, tool, args)
    assert (res.status, res.error_code, res.audit_complete) == ("error", "audit_unavailable", False)
    assert res.result is None and ledger.count() == 0
    with pytest.raises(Exception) as err:
        res.raise_for_status()
    assert type(err.value).__name__ == "UnavailableError"


def test_audit_table_gone_mid_flight_fails_closed(
    gov: tuple[Governance, Ledger], db: tuple[Engine, Path]
) -> None:
    g, ledger = gov
    assert g.executor.execute(ALICE, "purchase_request_create", {"item": "a", "amount": 1}).ok
    with db[0].begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_records RENAME TO audit_records_moved")
    res = g.executor.execute(ALICE, "purchase_request_create", {"item": "b", "amount": 1})
    assert (res.status, res.error_code) == ("error", "audit_unavailable")
    assert ledger.count() == 1  # only the first call's side effect


def test_outcome_write_failure_after_side_effect_is_reported_not_hidden(
    gov: tuple[Governance, Ledger], db: tuple[Engine, Path]
) -> None:
    g, ledger = gov
    original = g.audit.append
    calls = {"n": 0}

    def flaky(entry: Any) -> Any:  # the second append (the outcome) hits a dead database
        calls["n"] += 1
        if calls["n"] == 2:
            g.audit.engine = _unreachable_engine()
        return original(entry)

    g.audit.append = flaky  # type: ignore[method-assign]
    res = g.executor.execute(ALICE, "purchase_request_create", {"item": "a", "amount": 1})
    assert ledger.count() == 1 and res.status == "ok" and res.audit_complete is False
    g.audit.engine = db[0]
    intent = g.audit.get(res.audit_id or "")
    assert (intent.kind, intent.outcome) == ("tool_call.intent", "started")


class _WorkerRedactor:
    """A Redactor standing for the API's audit redactor (its batches run in worker processes: ``offload``);
    ``dead=True`` is one whose workers died twice (the typed error the Presidio redactor raises then)."""

    def __init__(self, *, dead: bool = False, offload: bool = True) -> None:
        from types import SimpleNamespace

        self.config = SimpleNamespace(offload=offload)
        self.dead = dead
        self.threads: list[int] = []

    def warm_up(self) -> None:
        return None

    def redact(self, text: str) -> Any:
        return self.redact_batch([text])[0]

    def redact_batch(self, texts: Any) -> list[Any]:
        import threading

        from copilot.errors import UnavailableError
        from copilot.types import RedactionResult

        self.threads.append(threading.get_ident())
        if self.dead:
            raise UnavailableError("the redaction workers died twice on this batch", code="redaction_unavailable")
        return [RedactionResult(t.replace("Maria Lopez", "<PERSON>"), ()) for t in texts]


@pytest.mark.parametrize("offload", [True, False])
def test_a_read_whose_redaction_failed_fails_closed_without_its_arguments(
    db: tuple[Engine, Path], offload: bool
) -> None:
    g, _ = build_test_governance(db[0], redactor=_WorkerRedactor(dead=True, offload=offload))
    res = g.executor.execute(STAFF, "echo", {"text": "call Maria Lopez"})
    assert (res.status, res.error_code, res.result) == ("error", "redaction_unavailable", None)
    rec = g.audit.get(res.audit_id or "")
    assert rec.args == {"_args": "<REDACTED>"} and "Lopez" not in str(rec.args)
    assert rec.outcome == "error" and g.audit.verify().ok


def test_an_action_whose_redaction_failed_never_runs(db: tuple[Engine, Path]) -> None:
    g, ledger = build_test_governance(db[0], redactor=_WorkerRedactor(dead=True))
    res = g.executor.execute(ALICE, "purchase_request_create", {"item": "pumps for Maria Lopez", "amount": 100})
    assert (res.status, res.error_code) == ("error", "redaction_unavailable")
    assert ledger.entries == []
    rec = g.audit.get(res.audit_id or "")
    assert "Lopez" not in str(rec.args) and rec.outcome == "error"


def test_a_reads_redaction_runs_beside_its_tool_when_it_runs_in_workers(db: tuple[Engine, Path]) -> None:
    import threading

    red = _WorkerRedactor()
    g, _ = build_test_governance(db[0], redactor=red)
    res = g.executor.execute(STAFF, "echo", {"text": "call Maria Lopez"})
    assert res.status == "ok" and res.result == {"text": "call Maria Lopez", "requester": "u-sam"}
    assert red.threads and threading.get_ident() not in red.threads  # waited on beside the tool
    assert g.audit.get(res.audit_id or "").args == {"text": "call <PERSON>", "fail": "none"}
    # an action is redacted before it runs (its intent record comes first), in the caller's thread
    red.threads.clear()
    assert g.executor.execute(ALICE, "purchase_request_create", {"item": "pumps", "amount": 100}).status == "ok"
    assert red.threads and set(red.threads) == {threading.get_ident()}

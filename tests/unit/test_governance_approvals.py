"""Approvals: segregation of duties, run-once on approval, replay/expiry/decided refusals, all audited."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from copilot.db import make_engine, migrate
from copilot.errors import (
    AuthenticationError,
    ConflictError,
    CopilotError,
    NotFoundError,
    PermissionDeniedError,
)
from copilot.governance.approvals import ApprovalStatus
from copilot.governance.factory import Governance
from copilot.governance.principal import Principal
from copilot.governance.testing import Ledger, build_test_governance

pytestmark = pytest.mark.unit

ALICE = Principal("u-alice", "Alice", "executive", sites=("north",))
BOB = Principal("u-bob", "Bob", "executive")
CAROL = Principal("u-carol", "Carol", "compliance")
SAM = Principal("u-sam", "Sam", "staff")
ROOT = Principal("u-root", "Root", "admin")
BIG = {"item": "infusion pumps", "amount": 12000, "site": "north"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "copilot.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def env(template: Path, tmp_path: Path) -> Iterator[tuple[Governance, Ledger, Clock, Engine]]:
    path = tmp_path / "copilot.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    gov, ledger = build_test_governance(engine)
    clock = Clock()
    gov.executor.now = clock
    yield gov, ledger, clock, engine
    engine.dispose()


def _pending(gov: Governance, who: Principal = ALICE, args: dict | None = None) -> str:
    res = gov.executor.execute(who, "purchase_request_create", args or BIG)
    assert res.status == "pending_approval"
    return res.approval_id or ""


def test_approval_runs_once_as_the_requester_and_records_the_approver(env) -> None:  # type: ignore[no-untyped-def]
    gov, ledger, _, _ = env
    aid = _pending(gov)
    res = gov.executor.approve(BOB, aid, reason="budgeted")
    assert res.status == "ok" and res.approval_id == aid
    assert ledger.entries == [("purchase_request_create", "u-alice", "u-bob", ledger.entries[0][3])]
    req = gov.approvals.get(aid)
    assert (req.status, req.decided_by, req.decided_role, req.decision_reason, req.outcome) == (
        ApprovalStatus.APPROVED,
        "u-bob",
        "executive",
        "budgeted",
        "ok",
    )
    assert req.executed_at is not None and req.args_raw is None
    kinds = [(r.kind, r.principal_id, r.approver_id) for r in gov.audit.search(approval_id=aid)]
    assert kinds == [
        ("tool_call", "u-alice", None),
        ("approval.approved", "u-bob", "u-bob"),
        ("tool_call.intent", "u-alice", "u-bob"),
        ("tool_call", "u-alice", "u-bob"),
    ]
    assert gov.audit.verify().ok


@pytest.mark.parametrize(
    ("approver", "exc", "code"),
    [
        (ALICE, PermissionDeniedError, "self_approval"),
        (Principal("u-alice", "Alice again", "admin"), PermissionDeniedError, "self_approval"),
        (SAM, PermissionDeniedError, "not_an_approver"),
        (CAROL, PermissionDeniedError, "not_an_approver"),
        (None, AuthenticationError, "unauthenticated"),
    ],
)
def test_segregation_of_duties(env, approver, exc, code) -> None:  # type: ignore[no-untyped-def]
    gov, ledger, _, _ = env
    aid = _pending(gov)
    for decide in (gov.executor.approve, gov.executor.reject):
        with pytest.raises(exc) as err:
            decide(approver, aid)
        assert err.value.code == code
    assert ledger.count() == 0 and gov.approvals.get(aid).status is ApprovalStatus.PENDING
    if approver is not None:
        refused = gov.audit.search(approval_id=aid, outcome="refused")
        assert [r.error_code for r in refused] == [code, code]
    assert gov.audit.verify().ok


def test_admin_may_approve_any_rule_that_names_it(env) -> None:  # type: ignore[no-untyped-def]
    gov, ledger, _, _ = env
    aid = _pending(gov, args={"item": "morphine", "amount": 50, "controlled_substance": True})
    assert gov.approvals.get(aid).approving_roles == ("compliance", "admin")
    with pytest.raises(PermissionDeniedError):
        gov.executor.approve(BOB, aid)  # an executive is not an approver for controlled substances
    assert gov.executor.approve(CAROL, aid).ok and ledger.count() == 1


def test_replayed_approval_does_not_run_twice(env) -> None:  # type: ignore[no-untyped-def]
    gov, ledger, _, _ = env
    aid = _pending(gov)
    assert gov.executor.approve(BOB, aid).ok
    for who in (BOB, ROOT):
        with pytest.raises(ConflictError) as err:
            gov.executor.approve(who, aid)
        assert err.value.code == "already_decided"
    assert ledger.count() == 1


def test_concurrent_approvals_run_the_call_once(env) -> None:  # type: ignore[no-untyped-def]
    gov, ledger, _, _ = env
    aid = _pending(gov)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def go(who: Principal) -> None:
        barrier.wait()
        try:
            outcomes.append(gov.executor.approve(who, aid).status)
        except CopilotError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=go, args=(p,)) for p in (BOB, ROOT, BOB, ROOT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_decided"] * 3 + ["ok"]
    assert ledger.count() == 1
    assert len(gov.audit.search(approval_id=aid, kind="approval.approved")) == 1


@pytest.mark.parametrize("first", ["approve", "reject"])
def test_deciding_an_already_decided_request(env, first: str) -> None:  # type: ignore[no-untyped-def]
    gov, ledger, _, _ = env
    aid = _pending(gov)
    getattr(gov.executor, first)(BOB, aid)
    for decide in (gov.executor.approve, gov.executor.reject):
        with pytest.raises(ConflictError):
            decide(ROOT, aid)
    assert ledger.count() == (1 if first == "approve" else 0)


def test_rejection_erases_raw_args_and_is_audited(env) -> None:  # type: ignore[no-untyped-def]
    gov, ledger, _, _ = env
    aid = _pending(gov)
    req = gov.executor.reject(BOB, aid, reason="not budgeted")
    assert (req.status, req.decided_by, req.args_raw) == (ApprovalStatus.REJECTED, "u-bob", None)
    assert req.args_redacted["item"] == "infusion pumps"
    assert [r.kind for r in gov.audit.search(approval_id=aid)] == ["tool_call", "approval.rejected"]
    assert ledger.count() == 0


def test_approving_an_expired_request(env) -> None:  # type: ignore[no-untyped-def]
    gov, ledger, clock, _ = env
    aid = _pending(gov)
    clock.now += timedelta(hours=72, seconds=1)
    with pytest.raises(ConflictError) as err:
        gov.executor.approve(BOB, aid)
    assert err.value.code == "expired"
    req = gov.approvals.get(aid)
    assert req.status is ApprovalStatus.EXPIRED and req.args_raw is None
    with pytest.raises(ConflictError) as err:
        gov.executor.approve(BOB, aid)
    assert err.value.code == "already_decided"
    assert ledger.count() == 0
    assert [r.kind for r in gov.audit.search(approval_id=aid)] == [
        "tool_call",
        "approval.expired",
        "approval.approve_refused",
        "approval.approve_refused",
    ]


def test_expire_due_sweeps_only_overdue_requests(env) -> None:  # type: ignore[no-untyped-def]
    gov, _, clock, _ = env
    old = _pending(gov)
    clock.now += timedelta(hours=48)
    fresh = _pending(gov)
    clock.now += timedelta(hours=25)
    assert gov.executor.expire_due() == 1 and gov.executor.expire_due() == 0
    assert gov.approvals.get(old).status is ApprovalStatus.EXPIRED
    assert gov.approvals.get(fresh).status is ApprovalStatus.PENDING
    assert [r.id for r in gov.approvals.find()] == [fresh]


def test_requester_losing_the_role_meanwhile_is_denied_on_approval(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gov, ledger, _, _ = env
    aid = _pending(gov)
    demoted = gov.approvals.get(aid)
    # Policy change: executives no longer may create purchase requests.
    from copilot.governance.policy import PolicyStore
    from copilot.governance.testing import test_policy

    doc = test_policy().doc.model_dump(by_alias=True, mode="json")
    doc["roles"]["executive"]["tools"].remove("purchase_request_create")
    from copilot.governance.policy import Policy

    gov.executor.policy = PolicyStore.fixed(Policy.from_mapping(doc))
    res = gov.executor.approve(BOB, aid)
    assert (res.status, res.error_code) == ("denied", "forbidden") and ledger.count() == 0
    assert demoted.requester.id == "u-alice"
    assert gov.approvals.get(aid).outcome == "denied"


def test_unknown_approval_id(env) -> None:  # type: ignore[no-untyped-def]
    gov, _, _, _ = env
    with pytest.raises(NotFoundError):
        gov.executor.approve(BOB, "nope")


def test_listing_filters(env) -> None:  # type: ignore[no-untyped-def]
    gov, _, _, _ = env
    a = _pending(gov)
    b = _pending(gov, args={"item": "fentanyl", "amount": 10, "controlled_substance": True})
    assert [r.id for r in gov.approvals.find(approver_role="compliance")] == [b]
    assert {r.id for r in gov.approvals.find(approver_role="admin")} == {a, b}
    gov.executor.reject(BOB, a)
    assert [r.id for r in gov.approvals.find()] == [b]
    assert [r.id for r in gov.approvals.find(status="rejected")] == [a]
    assert len(gov.approvals.find(status=None)) == 2
    assert "args_raw" not in gov.approvals.get(b).to_dict()

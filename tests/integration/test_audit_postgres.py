"""The audit log and executor against the real PostgreSQL server: append-only enforced by triggers, tampering
named by verify, the governed flow end to end, and fail-closed when the server is unreachable.

Each run migrates into its own schema (``search_path`` in the URL) and drops it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from copilot.db import make_engine, migrate
from copilot.governance.audit import AuditEntry, AuditLog
from copilot.governance.principal import Principal
from copilot.governance.testing import build_test_governance
from fixtures.pg import schema_url

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def engine(pg_schema: str) -> Iterator[Engine]:
    eng = make_engine(schema_url(pg_schema))
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def audit(engine: Engine) -> AuditLog:
    return AuditLog(engine, checkpoint_every=10)


def _fill(audit: AuditLog, n: int) -> None:
    audit.append_many(
        [
            AuditEntry(kind="tool_call", principal_id=f"u{i % 3}", tool="echo", args={"i": i}, outcome="ok")
            for i in range(n)
        ]
    )


def test_migration_lands_in_the_test_schema(engine: Engine, pg_schema: str) -> None:
    with engine.connect() as conn:
        tables = set(
            conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": pg_schema},
            ).scalars()
        )
        triggers = set(
            conn.execute(
                text("SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = :s"),
                {"s": pg_schema},
            ).scalars()
        )
    assert {
        "audit_records",
        "audit_chain_head",
        "audit_checkpoints",
        "approvals",
        "alembic_version",
    } <= tables
    assert {"audit_records_append_only", "audit_checkpoints_append_only"} <= triggers


def test_append_and_verify(audit: AuditLog) -> None:
    before = audit.head()[0]
    _fill(audit, 25)
    report = audit.verify()
    assert report.ok and report.head_seq == before + 25
    assert audit.verify(from_checkpoint="latest").ok


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_records SET tool = 'x' WHERE seq = 1",
        "DELETE FROM audit_records WHERE seq = 1",
        "TRUNCATE audit_records",
        "UPDATE audit_checkpoints SET hash = 'x'",
        "DELETE FROM audit_checkpoints",
    ],
)
def test_database_refuses_update_delete_truncate(audit: AuditLog, sql: str) -> None:
    _fill(audit, 3)
    with pytest.raises(DBAPIError, match="append-only"), audit.engine.begin() as conn:
        conn.exec_driver_sql(sql)
    assert audit.verify().ok


def test_edited_row_is_named_by_verify(engine: Engine, pg_schema: str) -> None:
    """A superuser can disable the trigger; the chain still tells on them."""
    log = AuditLog(engine)
    _fill(log, 5)
    seq = log.head()[0] - 2
    victim = log.search(limit=None)[seq - 1]
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only")
        conn.execute(text("UPDATE audit_records SET principal_id = 'u-mallory' WHERE seq = :s"), {"s": seq})
        conn.exec_driver_sql("ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only")
    report = log.verify()
    assert (report.ok, report.first_bad_seq, report.first_bad_record_id) == (False, seq, victim.record_id)
    assert "edited" in (report.reason or "")
    # Later tests in this module start from a checkpoint past the damage.
    log.checkpoint("manual")


def test_governed_flow_end_to_end(engine: Engine) -> None:
    gov, ledger = build_test_governance(engine)
    alice = Principal("u-alice", "Alice", "executive", sites=("north",))
    bob = Principal("u-bob", "Bob", "executive")
    args = {
        "item": "pumps",
        "amount": 7000,
        "site": "north",
        "description": "for MRN 00443322, call 555-201-7788",
        "requested_for": "Jane Roe",
    }
    res = gov.executor.execute(alice, "purchase_request_create", args)
    assert res.status == "pending_approval" and ledger.count() == 0
    with pytest.raises(Exception, match="own request"):
        gov.executor.approve(alice, res.approval_id or "")
    done = gov.executor.approve(bob, res.approval_id or "", reason="budgeted")
    assert done.ok and ledger.entries[0][1:3] == ("u-alice", "u-bob")
    with pytest.raises(Exception, match="already"):
        gov.executor.approve(bob, res.approval_id or "")
    assert ledger.count() == 1
    with engine.connect() as conn:
        stored = " ".join(conn.execute(text("SELECT args_json FROM audit_records")).scalars())
        raw = conn.execute(
            text("SELECT args_raw FROM approvals WHERE id = :i"), {"i": res.approval_id}
        ).scalar()
    for marker in ("00443322", "555-201-7788", "Jane Roe"):
        assert marker not in stored
    assert raw is None
    assert gov.audit.verify(from_checkpoint="latest").ok


def test_unreachable_server_fails_closed() -> None:
    dead = make_engine("postgresql://postgres@127.0.0.1:1/test?connect_timeout=2")
    gov, ledger = build_test_governance(dead)
    res = gov.executor.execute(
        Principal("u-alice", "Alice", "executive"), "purchase_request_create", {"item": "x", "amount": 1}
    )
    assert (res.status, res.error_code) == ("error", "audit_unavailable") and ledger.count() == 0

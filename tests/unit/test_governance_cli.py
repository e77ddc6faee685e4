"""The approvals and audit CLI handlers, mounted on a throwaway parser the way the lead mounts them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from copilot.db import make_engine, migrate
from copilot.governance.cli import add_approvals_commands, add_audit_commands
from copilot.governance.principal import Principal
from copilot.governance.testing import build_test_governance

pytestmark = pytest.mark.unit

ALICE = Principal("u-alice", "Alice", "executive", sites=("*",))


@pytest.fixture
def services(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(engine)
    gov, ledger = build_test_governance(engine)
    yield SimpleNamespace(
        executor=gov.executor, audit=gov.audit, approvals=gov.approvals, settings=None, ledger=ledger
    )
    engine.dispose()


def run(services: Any, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="copilot")
    sub = parser.add_subparsers(dest="command", required=True)
    add_approvals_commands(sub)
    add_audit_commands(sub)
    args = parser.parse_args(list(argv))
    return int(args.handler(args, services))


def test_approvals_list_approve_reject(services: Any, capsys: pytest.CaptureFixture[str]) -> None:
    a = services.executor.execute(ALICE, "purchase_request_create", {"item": "x", "amount": 9000}).approval_id
    b = services.executor.execute(ALICE, "purchase_request_create", {"item": "y", "amount": 9500}).approval_id
    assert run(services, "approvals", "list") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in listed] == [a, b] and "args_raw" not in listed[0]

    assert run(services, "approvals", "approve", a, "--as", "u-alice", "--role", "executive") == 2
    err = json.loads(capsys.readouterr().err)
    assert err["error"] == "self_approval"

    assert (
        run(services, "approvals", "approve", a, "--as", "u-bob", "--role", "executive", "--reason", "ok")
        == 0
    )
    assert json.loads(capsys.readouterr().out)["status"] == "ok"
    assert services.ledger.count() == 1
    assert run(services, "approvals", "approve", a, "--as", "u-bob", "--role", "executive") == 2
    assert json.loads(capsys.readouterr().err)["error"] == "already_decided"

    assert run(services, "approvals", "reject", b, "--as", "u-bob", "--role", "executive") == 0
    assert json.loads(capsys.readouterr().out)["status"] == "rejected"
    assert run(services, "approvals", "list", "--status", "all") == 0
    assert {r["status"] for r in json.loads(capsys.readouterr().out)} == {"approved", "rejected"}
    assert run(services, "approvals", "approve", b) == 2  # no identity
    assert run(services, "approvals", "expire") == 0


def test_authenticated_services_principal_wins_over_flags(
    services: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    aid = services.executor.execute(
        ALICE, "purchase_request_create", {"item": "x", "amount": 9000}
    ).approval_id
    services.principal = ALICE  # the app authenticated Alice; flags claiming Bob are ignored
    assert run(services, "approvals", "approve", aid, "--as", "u-bob", "--role", "executive") == 2
    assert json.loads(capsys.readouterr().err)["error"] == "self_approval"


def test_audit_verify_search_export_archive(
    services: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(3):
        services.executor.execute(ALICE, "echo", {"text": f"hello {i}"})
    assert run(services, "audit", "verify") == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert run(services, "audit", "search", "hello 2") == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    out = tmp_path / "export.csv"
    assert run(services, "audit", "export", "--format", "csv", "--tool", "echo", "-o", str(out)) == 0
    assert len(out.read_text().splitlines()) == 4
    assert run(services, "audit", "export", "--principal", "u-alice") == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    reads = [r for r in services.audit.search(limit=None) if r.tool.startswith("audit_")]
    assert [r.tool for r in reads] == ["audit_verify", "audit_search", "audit_export", "audit_export"]
    assert all(r.principal_id.startswith("cli:") and r.role == "compliance" for r in reads)  # reads leave records
    assert run(services, "audit", "checkpoint") == 0
    assert run(services, "audit", "archive", "--before", "2999-01-01", "-o", str(tmp_path / "a.jsonl")) == 0
    capsys.readouterr()
    assert run(services, "audit", "verify", "--from-checkpoint", "retention") == 0
    assert json.loads(capsys.readouterr().out)["start_seq"] == 7  # three calls and the four audited reads
    with services.audit.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_records_no_update")
        conn.exec_driver_sql("UPDATE audit_records SET principal_id='u-mallory' WHERE seq=2")
    assert run(services, "audit", "verify") == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["first_bad_seq"]) == (False, 2)
    assert run(services, "audit", "verify", "--from-checkpoint", "nope") == 2

"""Several OS processes appending to one chain at once must not fork it (SQLite: BEGIN IMMEDIATE; PostgreSQL:
SELECT ... FOR UPDATE on the chain-head row)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from copilot.db import make_engine, migrate
from copilot.governance.audit import AuditLog
from fixtures.pg import schema_url

pytestmark = pytest.mark.integration

WORKERS = 4
PER_WORKER = 60

WORKER = """
import sys
from copilot.db import make_engine
from copilot.governance.audit import AuditEntry, AuditLog
url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = AuditLog(make_engine(url), checkpoint_every=25)
for i in range(n):
    log.append(AuditEntry(kind="tool_call", principal_id=name, tool="echo", args={"i": i}, outcome="ok"))
"""


def _hammer(url: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, f"w{k}", str(PER_WORKER)], stderr=subprocess.PIPE
        )
        for k in range(WORKERS)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]


def _check(url: str) -> None:
    log = AuditLog(make_engine(url))
    report = log.verify()
    assert report.ok, report
    recs = log.search(limit=None)
    assert [r.seq for r in recs] == list(range(1, WORKERS * PER_WORKER + 1))
    for k in range(WORKERS):
        mine = [r.args["i"] for r in recs if r.principal_id == f"w{k}"]
        assert mine == list(range(PER_WORKER))  # each writer's records, in its own order, none lost
    assert len({r.prev_hash for r in recs}) == len(recs)  # no two records claim the same parent: no fork
    assert [c.seq for c in log.checkpoints()] == list(range(25, WORKERS * PER_WORKER + 1, 25))
    log.engine.dispose()


def test_concurrent_processes_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'copilot.db'}"
    migrate(make_engine(url))
    _hammer(url)
    _check(url)


def test_concurrent_processes_postgres(pg_schema: str) -> None:
    url = schema_url(pg_schema)
    migrate(make_engine(url))
    _hammer(url)
    _check(url)

"""The hash-chained audit log on SQLite: tampering of every kind is detected and named, triggers refuse edits,
checkpoints, export, search and retention (archive + checkpoint, no deletion)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from copilot.db import make_engine, migrate
from copilot.errors import NotFoundError, ValidationError
from copilot.governance.audit import GENESIS, AuditEntry, AuditLog, record_hash

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "copilot.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


class Ticker:
    """Deterministic, strictly increasing timestamps (one second apart from 2026-05-01)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        day, sec = divmod(self.n, 86400)
        h, rem = divmod(sec, 3600)
        return f"2026-05-{1 + day:02d}T{h:02d}:{rem // 60:02d}:{rem % 60:02d}.000000Z"


@pytest.fixture
def audit(template: Path, tmp_path: Path) -> Iterator[AuditLog]:
    path = tmp_path / "copilot.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield AuditLog(engine, checkpoint_every=5, clock=Ticker())
    engine.dispose()


def _fill(audit: AuditLog, n: int = 12) -> None:
    for i in range(n):
        audit.append(
            AuditEntry(
                kind="tool_call",
                request_id=f"r{i}",
                principal_id="u-alice" if i % 2 else "u-bob",
                role="staff",
                tool="echo" if i % 3 else "knowledge_search",
                args={"i": i, "q": f"question {i}"},
                decision="allow",
                outcome="ok",
                latency_us=100 + i,
                doc_ids=[f"doc-{i}"],
            )
        )


def _unguard(engine: Engine) -> None:
    """What an attacker with file access does first: drop the append-only triggers."""
    with engine.begin() as conn:
        for t in ("update", "delete"):
            conn.exec_driver_sql(f"DROP TRIGGER audit_records_no_{t}")


def test_fresh_chain_verifies(audit: AuditLog) -> None:
    assert audit.verify().ok and audit.head() == (0, GENESIS)
    _fill(audit)
    report = audit.verify()
    assert report.ok and report.checked == 12 and report.head_seq == 12
    recs = audit.search(limit=None)
    assert [r.seq for r in recs] == list(range(1, 13))
    assert recs[0].prev_hash == GENESIS and all(b.prev_hash == a.hash for a, b in itertools.pairwise(recs))
    assert all(record_hash(r.to_dict()) == r.hash for r in recs)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_records SET tool='x' WHERE seq=3",
        "DELETE FROM audit_records WHERE seq=3",
        "UPDATE audit_checkpoints SET hash='0'",
        "DELETE FROM audit_checkpoints",
    ],
)
def test_triggers_refuse_update_and_delete(audit: AuditLog, sql: str) -> None:
    _fill(audit)
    with pytest.raises(IntegrityError, match="append-only"), audit.engine.begin() as conn:
        conn.exec_driver_sql(sql)
    assert audit.verify().ok


Tamper = Callable[[Engine], None]


def _edit(conn_sql: str) -> Tamper:
    def run(engine: Engine) -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(conn_sql)

    return run


def _reorder(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_records SET seq=-1 WHERE seq=4")
        conn.exec_driver_sql("UPDATE audit_records SET seq=4 WHERE seq=5")
        conn.exec_driver_sql("UPDATE audit_records SET seq=5 WHERE seq=-1")


def _insert_forged(engine: Engine) -> None:
    """Insert a record between 6 and 7 that chains correctly to 6, renumbering the rest."""
    with engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_records ORDER BY seq"))]
        conn.exec_driver_sql("DELETE FROM audit_records WHERE seq > 6")
        forged = dict(
            rows[6], seq=7, record_id="forged", tool="purchase_request_create", prev_hash=rows[5]["hash"]
        )
        forged["hash"] = record_hash(forged)
        tail = [forged] + [dict(r, seq=r["seq"] + 1) for r in rows[6:]]
        for r in tail:
            conn.execute(
                text(f"INSERT INTO audit_records ({','.join(r)}) VALUES ({','.join(':' + k for k in r)})"), r
            )


def _rewrite_and_rehash(engine: Engine) -> None:
    """Edit record 3 and recompute its own hash: caught at record 4, whose prev_hash no longer matches."""
    with engine.begin() as conn:
        row = dict(conn.execute(text("SELECT * FROM audit_records WHERE seq=3")).one()._mapping)
        row["principal_id"] = "u-mallory"
        conn.execute(
            text("UPDATE audit_records SET principal_id=:p, hash=:h WHERE seq=3"),
            {"p": "u-mallory", "h": record_hash(row)},
        )


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "reason"),
    [
        (_edit("UPDATE audit_records SET args_json='{\"i\":3}' WHERE seq=3"), 3, "edited"),
        (_edit("UPDATE audit_records SET outcome='denied' WHERE seq=8"), 8, "edited"),
        (_edit("UPDATE audit_records SET latency_us=1 WHERE seq=1"), 1, "edited"),
        (_edit("UPDATE audit_records SET ts='2020-01-01T00:00:00.000000Z' WHERE seq=12"), 12, "edited"),
        (_edit("DELETE FROM audit_records WHERE seq=7"), 7, "missing"),
        (_edit("DELETE FROM audit_records WHERE seq>=11"), 11, "missing"),
        (_edit("UPDATE audit_records SET seq=seq+100 WHERE seq>=9"), 9, "missing"),
        (_reorder, 4, "prev_hash"),
        (_insert_forged, 8, "prev_hash"),
        (_rewrite_and_rehash, 4, "prev_hash"),
    ],
)
def test_tampering_is_detected_and_the_first_bad_record_named(
    audit: AuditLog, tamper: Tamper, bad_seq: int, reason: str
) -> None:
    _fill(audit)
    ids = {r.seq: r.record_id for r in audit.search(limit=None)}
    _unguard(audit.engine)
    tamper(audit.engine)
    report = audit.verify()
    assert not report.ok
    assert report.first_bad_seq == bad_seq and reason in (report.reason or "")
    if reason == "edited":
        assert report.first_bad_record_id == ids[bad_seq]


def test_tampered_head_row_is_detected(audit: AuditLog) -> None:
    _fill(audit)
    with audit.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_chain_head SET seq=20")
    report = audit.verify()
    assert not report.ok and report.first_bad_seq == 13


def test_periodic_checkpoints_and_verification_from_one(audit: AuditLog) -> None:
    _fill(audit)
    cps = audit.checkpoints()
    assert [(c.seq, c.count, c.kind) for c in cps] == [(5, 5, "periodic"), (10, 10, "periodic")]
    manual = audit.checkpoint()
    assert (manual.seq, manual.kind) == (12, "manual")
    from_cp = audit.verify(from_checkpoint=cps[1].id)
    assert from_cp.ok and from_cp.start_seq == 10 and from_cp.checked == 2
    assert audit.verify(from_checkpoint="latest").checked == 0
    # A tampered record before the checkpoint is outside that verification, but a full one catches it.
    _unguard(audit.engine)
    _edit("UPDATE audit_records SET tool='x' WHERE seq=2")(audit.engine)
    assert audit.verify(from_checkpoint=cps[0].id).ok
    assert audit.verify().first_bad_seq == 2
    # A checkpoint that disagrees with the chain is reported.
    _edit(
        "UPDATE audit_records SET hash = (CASE WHEN substr(hash, 1, 1) = '0' THEN '1' ELSE '0' END)"
        " || substr(hash, 2) WHERE seq=10"
    )(audit.engine)
    assert not audit.verify(from_checkpoint=cps[0].id).ok
    with pytest.raises(NotFoundError):
        audit.verify(from_checkpoint=999)


def test_search_filters(audit: AuditLog) -> None:
    _fill(audit)
    assert {r.principal_id for r in audit.search(principal="u-alice")} == {"u-alice"}
    assert len(audit.search(tool="knowledge_search")) == 4
    assert [r.request_id for r in audit.search(text="question 11")] == ["r11"]
    assert [r.seq for r in audit.search(since="2026-05-01T00:00:03Z", until="2026-05-01T00:00:05Z")] == [3, 4]
    assert len(audit.search(limit=3)) == 3
    with pytest.raises(ValidationError):
        audit.search(since="last tuesday")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_is_verbatim_and_filtered(audit: AuditLog, fmt: str) -> None:
    _fill(audit)
    buf = io.StringIO()
    n = audit.export(buf, fmt=fmt, principal="u-bob", since="2026-05-01T00:00:02Z")  # type: ignore[arg-type]
    rows = (
        [json.loads(line) for line in buf.getvalue().splitlines()]
        if fmt == "jsonl"
        else list(csv.DictReader(io.StringIO(buf.getvalue())))
    )
    assert n == len(rows) == 5 and {r["principal_id"] for r in rows} == {"u-bob"}
    if fmt == "jsonl":
        assert all(record_hash(r) == r["hash"] for r in rows)  # exports can be re-verified offline
    with pytest.raises(ValidationError):
        audit.export(io.StringIO(), fmt="xml")  # type: ignore[arg-type]


def test_retention_archives_with_a_checkpoint_and_deletes_nothing(audit: AuditLog, tmp_path: Path) -> None:
    _fill(audit)
    cp = audit.archive("2026-05-01T00:00:08Z", tmp_path / "archive-1.jsonl")
    # Ticks: records 1-5, checkpoint, records 6-10...; record 6 is the last one stamped before 00:00:08.
    assert cp is not None and (cp.kind, cp.seq) == ("retention", 6) and cp.archive_sha256
    assert audit.count() == 13  # 12 + the audit.archive record; nothing deleted
    assert audit.search(kind="audit.archive")[0].args["up_to_seq"] == 6
    assert audit.verify_archive(cp).ok and audit.verify_archive(cp).checked == 6
    report = audit.verify(from_checkpoint="retention")
    assert report.ok and report.start_seq == 6 and report.checked == 7
    # Nothing new before the cutoff: no second archive.
    assert audit.archive("2026-05-01T00:00:08Z", tmp_path / "archive-2.jsonl") is None
    # A second archive continues from the first and chains to it.
    cp2 = audit.archive("2026-06-01T00:00:00Z", tmp_path / "archive-2.jsonl")
    assert cp2 is not None and cp2.seq == 13 and audit.verify_archive(cp2).checked == 7
    # A tampered archive file is detected.
    path = tmp_path / "archive-1.jsonl"
    path.write_text(path.read_text().replace("u-alice", "u-mallor"))
    assert not audit.verify_archive(cp).ok


def test_unavailable_database_raises_a_typed_error(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from copilot.errors import UnavailableError

    log = AuditLog(create_engine("sqlite:////proc/none/x.db"))
    with pytest.raises(UnavailableError):
        log.append(AuditEntry(kind="tool_call"))

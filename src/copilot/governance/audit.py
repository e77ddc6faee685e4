"""The tamper-evident audit log: one hash-chained record per tool call and per approval transition.

Each record's ``hash`` is ``sha256(prev_hash + "\\n" + canonical_json(record without hash))``, where the
canonical form covers every stored column (including ``seq`` and ``prev_hash``) exactly as the database
returns it. Editing, deleting, inserting or reordering a record therefore breaks the chain, and
:meth:`AuditLog.verify` names the first bad record. ``audit_chain_head`` holds the head (seq, hash):
appenders lock it — ``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL — so
concurrent processes never fork the chain, and verify compares the last record with it to catch truncation.
Checkpoints (head, time, count) are written every ``checkpoint_every`` records and on retention; a verifier
can start from one.

Retention never deletes: :meth:`AuditLog.archive` exports old records to a JSONL file and writes a retention
checkpoint (with the file's sha256); verification can then start from that checkpoint, and
:meth:`AuditLog.verify_archive` proves the file. On both databases triggers refuse UPDATE/DELETE of records.

Usage::

    audit = AuditLog(engine)
    audit.append(AuditEntry(kind="tool_call", principal_id="u1", role="staff", tool="knowledge_search"))
    report = audit.verify()
    report.ok, report.first_bad_seq
"""

from __future__ import annotations

import csv
import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from copilot.errors import NotFoundError, UnavailableError, ValidationError

GENESIS = "0" * 64

metadata = MetaData()

audit_records = Table(
    "audit_records",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("record_id", String(36), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("principal_id", String(128), nullable=False),
    Column("role", String(64), nullable=False),
    Column("tool", String(128), nullable=False),
    Column("args_json", Text, nullable=False),
    Column("decision", String(32), nullable=False),
    Column("rule_id", String(128)),
    Column("approver_id", String(128)),
    Column("approval_id", String(36)),
    Column("outcome", String(32), nullable=False),
    Column("error_code", String(64)),
    Column("error", Text),
    Column("latency_us", BigInteger, nullable=False),
    Column("doc_ids_json", Text, nullable=False),
    Column("chunk_ids_json", Text, nullable=False),
    Column("model", String(128)),
    Column("prompt_version", String(64)),
    Column("flags_json", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("archive_path", Text),
    Column("archive_sha256", String(64)),
)

COLUMNS: tuple[str, ...] = tuple(c.name for c in audit_records.columns)
CHAINED: tuple[str, ...] = tuple(c for c in COLUMNS if c != "hash")


def utcnow_iso() -> str:
    """Fixed-width UTC timestamps, so text comparison orders them (SQLite and PostgreSQL alike)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_iso(value: datetime | str | None) -> str | None:
    """Normalise a datetime or ISO string (``2026-05-01``, ``...T10:00+02:00``, ``...Z``) to stored form."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("not an ISO timestamp", code="bad_timestamp") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_ARGS_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
_ROW_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)
_PREV = CHAINED.index("prev_hash")


def canonical_json(value: Any) -> str:
    """Deterministic JSON for values stored inside a record (arguments, id lists)."""
    return _ARGS_ENCODER.encode(value)


def _chain_hash(prev_hash: str, values: Sequence[Any]) -> str:
    body = _ROW_ENCODER.encode(list(values))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def record_hash(row: Mapping[str, Any]) -> str:
    """The chain hash of a stored row.

    Canonical form (v1): ``sha256(prev_hash + "\\n" + json_array)``, where ``json_array`` is the compact,
    ASCII-escaped JSON array of the values of :data:`CHAINED` (every column but ``hash``, ``prev_hash``
    included) in that order. A verifier outside Python needs only this rule and the column order.
    """
    return _chain_hash(row["prev_hash"], [row[c] for c in CHAINED])


@dataclass
class AuditEntry:
    """What a caller records. ``args`` must already be redacted (the executor does it)."""

    kind: str
    request_id: str = ""
    principal_id: str = ""
    role: str = ""
    tool: str = ""
    args: Any = field(default_factory=dict)
    decision: str = ""
    rule_id: str | None = None
    approver_id: str | None = None
    approval_id: str | None = None
    outcome: str = ""
    error_code: str | None = None
    error: str | None = None
    latency_us: int = 0
    doc_ids: Sequence[str] = ()
    chunk_ids: Sequence[str] = ()
    model: str | None = None
    prompt_version: str | None = None
    flags: Sequence[str] = ()

    def to_row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "request_id": self.request_id,
            "principal_id": self.principal_id,
            "role": self.role,
            "tool": self.tool,
            "args_json": canonical_json(self.args),
            "decision": self.decision,
            "rule_id": self.rule_id,
            "approver_id": self.approver_id,
            "approval_id": self.approval_id,
            "outcome": self.outcome,
            "error_code": self.error_code,
            "error": self.error,
            "latency_us": int(self.latency_us),
            "doc_ids_json": canonical_json(list(self.doc_ids)),
            "chunk_ids_json": canonical_json(list(self.chunk_ids)),
            "model": self.model,
            "prompt_version": self.prompt_version,
            "flags_json": canonical_json(list(self.flags)),
        }


@dataclass(frozen=True)
class AuditRecord:
    """A stored record; the ``*_json`` columns are kept verbatim so a reader can re-verify it."""

    seq: int
    record_id: str
    ts: str
    kind: str
    request_id: str
    principal_id: str
    role: str
    tool: str
    args_json: str
    decision: str
    rule_id: str | None
    approver_id: str | None
    approval_id: str | None
    outcome: str
    error_code: str | None
    error: str | None
    latency_us: int
    doc_ids_json: str
    chunk_ids_json: str
    model: str | None
    prompt_version: str | None
    flags_json: str
    prev_hash: str
    hash: str

    @property
    def args(self) -> Any:
        return json.loads(self.args_json)

    @property
    def doc_ids(self) -> list[str]:
        return list(json.loads(self.doc_ids_json))

    @property
    def chunk_ids(self) -> list[str]:
        return list(json.loads(self.chunk_ids_json))

    @property
    def flags(self) -> list[str]:
        return list(json.loads(self.flags_json))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Checkpoint:
    id: int
    seq: int
    hash: str
    count: int
    created_at: str
    kind: str
    archive_path: str | None = None
    archive_sha256: str | None = None


@dataclass(frozen=True)
class VerifyReport:
    """Result of a verification. ``first_bad_*`` name the first record that breaks the chain."""

    ok: bool
    checked: int
    start_seq: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad_record_id: str | None = None
    reason: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AuditTx:
    """An open, chain-locked transaction. Append as many records as needed; they commit together."""

    def __init__(self, log: AuditLog, conn: Connection, seq: int, head: str) -> None:
        self.log = log
        self.conn = conn
        self.seq = seq
        self.head = head
        self.appended = 0

    def append(self, entry: AuditEntry) -> AuditRecord:
        row = entry.to_row()
        row["seq"] = self.seq + 1
        row["record_id"] = str(uuid.uuid4())
        row["ts"] = self.log.clock()
        row["prev_hash"] = self.head
        row["hash"] = record_hash(row)
        self.log._sql().run(self.conn, "insert", row)
        self.seq, self.head = row["seq"], row["hash"]
        self.appended += 1
        every = self.log.checkpoint_every
        if every and self.seq % every == 0:
            self._checkpoint("periodic")
        return AuditRecord(**{c: row[c] for c in COLUMNS})

    def _checkpoint(self, kind: str, archive_path: str | None = None, sha: str | None = None) -> None:
        self.conn.execute(
            insert(audit_checkpoints),
            {
                "seq": self.seq,
                "hash": self.head,
                "count": self.seq,
                "created_at": self.log.clock(),
                "kind": kind,
                "archive_path": archive_path,
                "archive_sha256": sha,
            },
        )


class _Statements:
    """The append path's three statements, compiled once for the engine's dialect and run as driver SQL.

    Appends are the executor's hot path; this skips SQLAlchemy's per-call statement caching and compilation
    work (measured: about half of an append's CPU time on SQLite)."""

    def __init__(self, engine: Engine) -> None:
        head = audit_chain_head.c
        stmts = {
            "head": select(head.seq, head.hash).where(head.id == 1).with_for_update(),
            "set_head": update(audit_chain_head)
            .where(head.id == 1)
            .values(seq=bindparam("seq"), hash=bindparam("hash")),
            "insert": insert(audit_records).values({c: bindparam(c) for c in COLUMNS}),
        }
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        for name, stmt in stmts.items():
            compiled = stmt.compile(dialect=engine.dialect)
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            self._compiled[name] = (str(compiled), order, dict(compiled.params))

    def run(self, conn: Connection, name: str, params: Mapping[str, Any]) -> Any:
        sql, order, defaults = self._compiled[name]
        merged = {**defaults, **params}
        if order is not None:
            return conn.exec_driver_sql(sql, tuple(merged[k] for k in order))
        return conn.exec_driver_sql(sql, merged)


ExportFormat = Literal["jsonl", "csv"]


class AuditLog:
    """Append, verify, search, export and archive the audit chain. Cheap to construct; opens no connection."""

    def __init__(
        self,
        engine: Engine,
        *,
        checkpoint_every: int = 1000,
        clock: Callable[[], str] = utcnow_iso,
    ) -> None:
        self.engine = engine
        self.checkpoint_every = checkpoint_every
        self.clock = clock
        self._sqlite = engine.dialect.name == "sqlite"
        # Writers in this process queue on a mutex before taking the database's chain lock: SQLite's busy
        # handler sleeps in growing steps (up to 100 ms), which under 20 concurrent requests turned a 1 ms
        # append into second-long tails. Other processes still serialise on the database lock.
        self._writer = threading.Lock()
        self._statements: _Statements | None = None

    def _sql(self) -> _Statements:
        if self._statements is None:
            self._statements = _Statements(self.engine)
        return self._statements

    # --- writing ----------------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[AuditTx]:
        """Lock the chain head and yield an :class:`AuditTx`; commits on success, rolls back on error.

        Raises :class:`UnavailableError` when the database cannot be reached or the write fails, so callers
        can fail closed without knowing SQLAlchemy.
        """
        with self._writer:
            yield from self._locked_transaction()

    def _locked_transaction(self) -> Iterator[AuditTx]:
        try:
            conn = self.engine.connect()
        except SQLAlchemyError as exc:
            raise UnavailableError("audit store unavailable", code="audit_unavailable") from exc
        try:
            with conn:
                try:
                    if self._sqlite:
                        # Take the write lock up front: a deferred transaction that reads the head and then
                        # writes could lose a race and fail instead of waiting.
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                    sql = self._sql()
                    head = sql.run(conn, "head", {}).one()
                    tx = AuditTx(self, conn, int(head[0]), str(head[1]))
                    yield tx
                    if tx.appended:
                        sql.run(conn, "set_head", {"seq": tx.seq, "hash": tx.head})
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
        except SQLAlchemyError as exc:
            raise UnavailableError("audit write failed", code="audit_unavailable") from exc

    def append(self, entry: AuditEntry) -> AuditRecord:
        with self.transaction() as tx:
            return tx.append(entry)

    def append_many(self, entries: Sequence[AuditEntry]) -> int:
        """Append a batch in one transaction (imports, benchmarks)."""
        with self.transaction() as tx:
            for e in entries:
                tx.append(e)
        return len(entries)

    def checkpoint(self, kind: str = "manual") -> Checkpoint:
        with self.transaction() as tx:
            tx._checkpoint(kind)
        return self.checkpoints()[-1]

    # --- reading ----------------------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            row = conn.execute(select(audit_chain_head.c.seq, audit_chain_head.c.hash)).one()
        return int(row.seq), str(row.hash)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_records)).scalar_one())

    def get(self, record_id: str) -> AuditRecord:
        with self.engine.connect() as conn:
            row = conn.execute(select(audit_records).where(audit_records.c.record_id == record_id)).first()
        if row is None:
            raise NotFoundError("no such audit record", code="audit_record_not_found")
        return AuditRecord(**row._mapping)

    def checkpoints(self, kind: str | None = None) -> list[Checkpoint]:
        q = select(audit_checkpoints).order_by(audit_checkpoints.c.id)
        if kind:
            q = q.where(audit_checkpoints.c.kind == kind)
        with self.engine.connect() as conn:
            return [Checkpoint(**r._mapping) for r in conn.execute(q)]

    def search(
        self,
        *,
        text: str | None = None,
        principal: str | None = None,
        tool: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
        request_id: str | None = None,
        approval_id: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        limit: int | None = 100,
    ) -> list[AuditRecord]:
        """Records matching every given filter, oldest first. ``text`` is a substring of the (redacted)
        arguments, tool, error or rule id."""
        return list(
            self._iter(
                text=text,
                principal=principal,
                tool=tool,
                kind=kind,
                outcome=outcome,
                request_id=request_id,
                approval_id=approval_id,
                since=since,
                until=until,
                limit=limit,
            )
        )

    def _iter(
        self,
        *,
        text: str | None = None,
        principal: str | None = None,
        tool: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
        request_id: str | None = None,
        approval_id: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        min_seq: int = 0,
        max_seq: int | None = None,
        limit: int | None = None,
    ) -> Iterator[AuditRecord]:
        c = audit_records.c
        q = select(audit_records).where(c.seq > min_seq).order_by(c.seq)
        if max_seq is not None:
            q = q.where(c.seq <= max_seq)
        for col, val in (
            (c.principal_id, principal),
            (c.tool, tool),
            (c.kind, kind),
            (c.outcome, outcome),
            (c.request_id, request_id),
            (c.approval_id, approval_id),
        ):
            if val is not None:
                q = q.where(col == val)
        if since is not None:
            q = q.where(c.ts >= to_iso(since))
        if until is not None:
            q = q.where(c.ts < to_iso(until))
        if text:
            pattern = f"%{text}%"
            q = q.where(
                or_(
                    c.args_json.ilike(pattern),
                    c.tool.ilike(pattern),
                    c.error.ilike(pattern),
                    c.rule_id.ilike(pattern),
                )
            )
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            for row in conn.execution_options(stream_results=True, yield_per=2000).execute(q):
                yield AuditRecord(**row._mapping)

    # --- verification -----------------------------------------------------------------------------------

    def _start(self, from_checkpoint: Checkpoint | int | str | None) -> tuple[int, str]:
        if from_checkpoint is None:
            return 0, GENESIS
        if isinstance(from_checkpoint, Checkpoint):
            return from_checkpoint.seq, from_checkpoint.hash
        cps = self.checkpoints()
        if from_checkpoint in ("latest", "retention"):
            pool = [cp for cp in cps if from_checkpoint == "latest" or cp.kind == "retention"]
            if not pool:
                return 0, GENESIS
            return pool[-1].seq, pool[-1].hash
        for cp in cps:
            if str(cp.id) == str(from_checkpoint):
                return cp.seq, cp.hash
        raise NotFoundError(f"no checkpoint {from_checkpoint}", code="checkpoint_not_found")

    def verify(self, *, from_checkpoint: Checkpoint | int | str | None = None) -> VerifyReport:
        """Walk the chain from genesis (or a checkpoint) and report the first record that breaks it."""
        import time

        t0 = time.perf_counter()
        start_seq, prev = self._start(from_checkpoint)
        head_seq, head_hash = self.head()
        cp_at = {cp.seq: cp for cp in self.checkpoints() if cp.seq > start_seq}
        expected = start_seq + 1
        checked = 0

        def bad(seq: int, rid: str | None, reason: str) -> VerifyReport:
            return VerifyReport(
                False, checked, start_seq, head_seq, head_hash, seq, rid, reason, time.perf_counter() - t0
            )

        with self.engine.connect() as conn:
            # Bounded by the head read above, so records appended while we verify are not "extra".
            q = (
                select(*(audit_records.c[c] for c in COLUMNS))
                .where(audit_records.c.seq > start_seq, audit_records.c.seq <= head_seq)
                .order_by(audit_records.c.seq)
            )
            for r in conn.execution_options(stream_results=True, yield_per=5000).execute(q):
                values = tuple(r)
                seq = int(values[0])
                if seq != expected:
                    return bad(expected, None, f"record seq {expected} is missing (deleted); next is {seq}")
                stored = values[-1]
                if values[_PREV] != prev:
                    return bad(
                        seq,
                        values[1],
                        f"prev_hash does not match the hash of seq {seq - 1} "
                        "(a record was inserted, removed, reordered or rewritten)",
                    )
                if _chain_hash(prev, values[:-1]) != stored:
                    return bad(seq, values[1], "content does not match its hash (record edited)")
                cp = cp_at.get(seq)
                if cp is not None and cp.hash != stored:
                    return bad(seq, values[1], f"checkpoint {cp.id} disagrees with the record")
                prev = stored
                expected += 1
                checked += 1
        last = expected - 1
        if last != head_seq or prev != head_hash:
            if last < head_seq:
                return bad(
                    last + 1, None, f"records after seq {last} are missing (chain head is seq {head_seq})"
                )
            return bad(last, None, f"chain head (seq {head_seq}) does not match the last record")
        return VerifyReport(True, checked, start_seq, head_seq, head_hash, seconds=time.perf_counter() - t0)

    # --- export and retention ---------------------------------------------------------------------------

    def export(
        self,
        out: TextIO,
        *,
        fmt: ExportFormat = "jsonl",
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        principal: str | None = None,
        tool: str | None = None,
        min_seq: int = 0,
        max_seq: int | None = None,
    ) -> int:
        """Write matching records, verbatim (hashes included), as JSON lines or CSV; returns the count."""
        if fmt not in ("jsonl", "csv"):
            raise ValidationError(f"unknown export format {fmt!r}", code="bad_format")
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS)) if fmt == "csv" else None
        if writer is not None:
            writer.writeheader()
        n = 0
        for rec in self._iter(
            since=since, until=until, principal=principal, tool=tool, min_seq=min_seq, max_seq=max_seq
        ):
            if writer is not None:
                writer.writerow(rec.to_dict())
            else:
                out.write(canonical_json(rec.to_dict()) + "\n")
            n += 1
        return n

    def archive(self, before: datetime | str, path: Path) -> Checkpoint | None:
        """Retention: export records older than ``before`` (since the last retention checkpoint) to ``path``
        and write a retention checkpoint carrying the file's sha256. Nothing is deleted; verification can
        start from the checkpoint. Returns ``None`` when there is nothing new to archive."""
        cutoff = to_iso(before)
        start_seq, _ = self._start("retention")
        with self.engine.connect() as conn:
            last = conn.execute(
                select(func.max(audit_records.c.seq)).where(
                    audit_records.c.seq > start_seq, audit_records.c.ts < cutoff
                )
            ).scalar_one()
        if last is None:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as fh:
            self.export(fh, fmt="jsonl", min_seq=start_seq, max_seq=int(last))
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        with self.transaction() as tx:
            row = tx.conn.execute(select(audit_records.c.hash).where(audit_records.c.seq == int(last))).one()
            tx.conn.execute(
                insert(audit_checkpoints),
                {
                    "seq": int(last),
                    "hash": row.hash,
                    "count": int(last),
                    "created_at": self.clock(),
                    "kind": "retention",
                    "archive_path": str(path),
                    "archive_sha256": sha,
                },
            )
            tx.append(
                AuditEntry(
                    kind="audit.archive",
                    args={"up_to_seq": int(last), "archive_sha256": sha, "before": cutoff},
                    outcome="ok",
                )
            )
        return [cp for cp in self.checkpoints("retention") if cp.seq == int(last)][-1]

    def verify_archive(self, checkpoint: Checkpoint, path: Path | None = None) -> VerifyReport:
        """Prove an archive file: its sha256 matches the checkpoint and its records chain to it."""
        path = path or Path(checkpoint.archive_path or "")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != checkpoint.archive_sha256:
            return VerifyReport(
                False, 0, 0, checkpoint.seq, checkpoint.hash, None, None, "archive sha256 mismatch"
            )
        earlier = [c for c in self.checkpoints("retention") if c.seq < checkpoint.seq]
        start_seq, prev = (earlier[-1].seq, earlier[-1].hash) if earlier else (0, GENESIS)
        expected, checked = start_seq + 1, 0
        for line in data.decode("utf-8").splitlines():
            row = json.loads(line)
            if row["seq"] != expected or row["prev_hash"] != prev or record_hash(row) != row["hash"]:
                return VerifyReport(
                    False,
                    checked,
                    start_seq,
                    checkpoint.seq,
                    checkpoint.hash,
                    expected,
                    row.get("record_id"),
                    "archived record breaks the chain",
                )
            prev, expected, checked = row["hash"], expected + 1, checked + 1
        if expected - 1 != checkpoint.seq or prev != checkpoint.hash:
            return VerifyReport(
                False,
                checked,
                start_seq,
                checkpoint.seq,
                checkpoint.hash,
                expected - 1,
                None,
                "archive does not end at its checkpoint",
            )
        return VerifyReport(True, checked, start_seq, checkpoint.seq, checkpoint.hash)

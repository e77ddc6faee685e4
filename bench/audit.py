"""Audit log and executor benchmarks; prints JSON.

    python bench/audit.py --json                 # SQLite + PostgreSQL, verify over 100k records
    python bench/audit.py --json --full          # also verify 1M records on SQLite (minutes)
    python bench/audit.py --json --full-pg       # ... and on PostgreSQL (the fill alone takes long)
    python bench/audit.py --json --no-pg         # SQLite only

Measures: appends/s with one writer and with 4 writer processes (one transaction per record, the executor's
pattern); verify time for N records; executor overhead per call (p50/p95) on SQLite for a read-only call
with no rule, a write call whose approval rule is evaluated but not triggered, and a call that is parked as
a pending approval. PostgreSQL runs in a throwaway schema of ``COPILOT_BENCH_PG_URL``
(default ``postgresql://postgres@127.0.0.1:5432/test``) that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from copilot.db import make_engine, migrate
from copilot.governance.audit import AuditEntry, AuditLog
from copilot.governance.principal import Principal
from copilot.governance.testing import build_test_governance

WORKER = """
import sys, time
from copilot.db import make_engine
from copilot.governance.audit import AuditEntry, AuditLog
url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = AuditLog(make_engine(url))
log.head()
print(time.time(), flush=True)
for i in range(n):
    log.append(AuditEntry(kind="tool_call", principal_id=name, role="staff", tool="echo",
                          args={"i": i, "q": "what is the PM interval"}, outcome="ok", decision="allow"))
print(time.time(), flush=True)
"""


def _entry(i: int) -> AuditEntry:
    return AuditEntry(
        kind="tool_call",
        request_id=uuid.uuid4().hex,
        principal_id=f"u-{i % 50}",
        role="staff",
        tool="knowledge_search",
        args={"question": f"What is the PM interval for pump model {i}?"},
        decision="allow",
        outcome="ok",
        latency_us=900 + i % 100,
        doc_ids=[f"doc-{i % 700}", f"doc-{(i * 7) % 700}"],
        chunk_ids=[str(uuid.uuid4())],
        model="extractive",
    )


def single_writer(url: str, n: int) -> float:
    log = AuditLog(make_engine(url))
    log.head()
    t0 = time.perf_counter()
    for i in range(n):
        log.append(_entry(i))
    dt = time.perf_counter() - t0
    log.engine.dispose()
    return n / dt


def concurrent_writers(url: str, writers: int, per_writer: int) -> dict[str, Any]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, f"w{k}", str(per_writer)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(writers)
    ]
    starts, ends = [], []
    for p in procs:
        out, err = p.communicate(timeout=900)
        if p.returncode != 0:
            raise RuntimeError(err[-2000:])
        a, b = (float(x) for x in out.split())
        starts.append(a)
        ends.append(b)
    wall = max(ends) - min(starts)
    log = AuditLog(make_engine(url))
    ok = log.verify().ok
    log.engine.dispose()
    return {
        "writers": writers,
        "records": writers * per_writer,
        "appends_per_s": round(writers * per_writer / wall),
        "chain_ok": ok,
    }


def verify_time(url: str, total: int, batch: int = 10_000) -> dict[str, Any]:
    log = AuditLog(make_engine(url), checkpoint_every=10_000)
    have = log.head()[0]
    t0 = time.perf_counter()
    while have < total:
        k = min(batch, total - have)
        log.append_many([_entry(have + i) for i in range(k)])
        have += k
    fill_s = time.perf_counter() - t0
    report = log.verify()
    from_cp = log.verify(from_checkpoint="latest")
    log.engine.dispose()
    return {
        "records": report.checked,
        "verify_s": round(report.seconds, 2),
        "verify_records_per_s": round(report.checked / report.seconds) if report.seconds else None,
        "ok": report.ok,
        "verify_from_latest_checkpoint_s": round(from_cp.seconds, 4),
        "bulk_fill_s": round(fill_s, 1),
    }


def executor_overhead(url: str, n: int) -> dict[str, Any]:
    gov, _ = build_test_governance(make_engine(url))
    ex = gov.executor
    staff = Principal("u-sam", "Sam", "staff", groups=("staff",), sites=("north",))
    exec_ = Principal("u-alice", "Alice", "executive", groups=("staff",), sites=("north",))
    cases = {
        "read_only_no_rule": (staff, "echo", {"text": "PM interval for infusion pumps?"}),
        "write_rule_evaluated_not_triggered": (
            exec_,
            "purchase_request_create",
            {"item": "gloves", "amount": 120},
        ),
        "pending_approval": (exec_, "purchase_request_create", {"item": "pumps", "amount": 9000}),
    }
    out: dict[str, Any] = {}
    for name, (who, tool, args) in cases.items():
        for _ in range(20):  # warm-up
            ex.execute(who, tool, args)
        samples = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            res = ex.execute(who, tool, args)
            samples.append((time.perf_counter_ns() - t0) / 1e6)
            assert res.status in ("ok", "pending_approval"), res
        samples.sort()
        out[name] = {
            "calls": n,
            "p50_ms": round(statistics.median(samples), 3),
            "p95_ms": round(samples[int(0.95 * (n - 1))], 3),
            "max_ms": round(samples[-1], 3),
        }
    policy = gov.policy.current()
    t0 = time.perf_counter_ns()
    for _ in range(10_000):
        policy.evaluate("purchase_request_create", "pre", {"args": {"amount": 120, "item": "gloves"}})
    out["policy_evaluate_us"] = round((time.perf_counter_ns() - t0) / 10_000 / 1000, 2)
    gov.audit.engine.dispose()
    return out


def run_backend(name: str, make_url: Any, args: argparse.Namespace) -> dict[str, Any]:
    res: dict[str, Any] = {}
    url = make_url("append")
    res["append_single_writer_per_s"] = round(single_writer(url, args.appends))
    res["append_concurrent"] = concurrent_writers(make_url("concurrent"), 4, args.appends // 4)
    full = args.full_pg if name == "postgresql" else args.full
    sizes = [args.records] + ([1_000_000] if full else [])
    res["verify"] = [verify_time(make_url(f"verify{s}"), s) for s in sizes]
    if name == "sqlite":
        res["executor"] = executor_overhead(make_url("executor"), args.calls)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print only the JSON result")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--full", action="store_true", help="also verify 1M records on SQLite")
    ap.add_argument("--full-pg", action="store_true", help="also verify 1M records on PostgreSQL (slow fill)")
    ap.add_argument("--appends", type=int, default=2000)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()

    result: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "note": "shared, loaded machine: numbers are provisional",
    }
    with tempfile.TemporaryDirectory() as tmp:

        def sqlite_url(tag: str) -> str:
            url = f"sqlite:///{Path(tmp) / tag}.db"
            eng = make_engine(url)
            migrate(eng)
            eng.dispose()
            return url

        result["sqlite"] = run_backend("sqlite", sqlite_url, args)

    if not args.no_pg:
        base = os.environ.get("COPILOT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
        admin = make_engine(base)
        schemas: list[str] = []

        def pg_url(tag: str) -> str:
            schema = f"copilot_bench_{tag}_{uuid.uuid4().hex[:6]}"
            with admin.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            schemas.append(schema)
            url = f"{base}?options={quote(f'-csearch_path={schema}')}"
            eng = make_engine(url)
            migrate(eng)
            eng.dispose()
            return url

        try:
            result["postgresql"] = run_backend("postgresql", pg_url, args)
        finally:
            with admin.begin() as conn:
                for s in schemas:
                    conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {s} CASCADE")
            admin.dispose()

    text = json.dumps(result, indent=None if args.json else 2)
    print(text)


if __name__ == "__main__":
    main()

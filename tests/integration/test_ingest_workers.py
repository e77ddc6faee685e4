"""Scale-out ingestion for real: Celery workers in their own processes over the machine's RabbitMQ, the manifest on
PostgreSQL, the embedded Edge shard owned by this test process (the coordinator), which drains what workers stage.

Faults: a worker killed with SIGKILL mid-task (its message is redelivered to the other worker), the broker
application restarted mid-run (``rabbitmqctl stop_app`` / ``start_app``; started again in ``finally``), a poison
document whose parser crashes every time (parked after N deliveries, the rest go on), a corrupt PDF (parked at
once with its typed reason), the broker down at submit time (typed error, nothing queued), a resumed run
(re-queues only what is not done; a stale message is a no-op).

"No chunk lost or duplicated" is checked against a clean in-process ingest of the same corpus with the same
embedder: same (doc_id, ordinal, text) set, same point count.

Workers use the deterministic hashing embedder and no redaction (the model is not the point here; the worker
code path is the same). Each worker is one process (``--pool solo``), so SIGKILL takes the whole worker down,
as when a machine dies. Opt out on a machine without RabbitMQ: ``COPILOT_TEST_NO_BROKER=1``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot.app import Copilot, build_copilot
from copilot.config import Settings
from copilot.db import make_engine
from copilot.errors import BrokerUnavailableError
from copilot.ingest.manifest import DocStatus
from copilot.ingest.sources import FolderSource
from copilot.retrieval.embedder import HashingEmbedder
from fixtures.pg import PG_URL, schema_url

pytestmark = pytest.mark.integration

BROKER_URL = os.environ.get("COPILOT_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")

WORKER = textwrap.dedent(
    """
    import os, sys, time
    from copilot.app import build_copilot
    from copilot.config import Settings
    from copilot.ingest.loaders import LoaderRegistry
    from copilot.ingest.queue import run_worker
    from copilot.retrieval.embedder import HashingEmbedder

    slow_s = float(os.environ.get("TEST_SLOW_S", "0"))
    slow_marker = os.environ.get("TEST_SLOW_MARKER", "MARKER-SLOW")

    class SlowEmbedder(HashingEmbedder):
        # a document carrying the marker takes slow_s to embed: long enough to be killed in the middle
        def embed_documents(self, texts):
            if slow_s and any(slow_marker in t for t in texts):
                time.sleep(slow_s)
            return super().embed_documents(texts)

    class CrashingLoaders:
        # a parser that crashes on one document every time (a poison document), real loaders for the rest
        def __init__(self):
            self.real = LoaderRegistry.default()
        def load(self, data, ref):
            if b"MARKER-POISON" in data:
                raise RuntimeError("parser crashed")
            return self.real.load(data, ref)

    settings = Settings()
    cp = build_copilot(settings, embedder_=SlowEmbedder(384))

    def make_worker():
        worker = cp.document_worker()
        worker.loaders = CrashingLoaders()
        return worker

    print("worker pid", os.getpid(), flush=True)
    run_worker(settings, make_worker, name=sys.argv[1], pool="solo", loglevel="INFO")
    """
)


# -- fixtures ------------------------------------------------------------------------------------------------


def _broker_reachable() -> bool:
    from kombu import Connection

    try:
        with Connection(BROKER_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


@pytest.fixture(scope="module", autouse=True)
def _broker() -> None:
    if not _broker_reachable():
        if os.environ.get("COPILOT_TEST_NO_BROKER") == "1":
            pytest.skip("COPILOT_TEST_NO_BROKER=1: RabbitMQ tests opted out explicitly")
        pytest.fail(f"RabbitMQ not reachable at {BROKER_URL} (set COPILOT_TEST_NO_BROKER=1 to opt out)")


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL schema per test: the shared manifest every process sees."""
    admin = make_engine(PG_URL)
    schema = f"copilot_w_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue of this test's own on the shared broker, deleted afterwards."""
    name = f"copilot.test.{uuid.uuid4().hex[:10]}"
    yield name
    from kombu import Connection

    try:
        with Connection(BROKER_URL, connect_timeout=5) as conn:
            conn.default_channel.queue_delete(name)
    except Exception:  # the queue may never have been declared
        pass


class Workers:
    """Worker processes started from :data:`WORKER`; each stops with the test."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, *names: str, **extra: str) -> dict[str, subprocess.Popen[bytes]]:
        """Start the named workers at once and return when every one is consuming."""
        for name in names:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-c", WORKER, name],
                env={**self.env, **extra},
                stdout=(self.tmp / f"{name}.log").open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        for name in names:
            while " ready." not in self.log(name):
                assert self.procs[name].poll() is None, self.log(name)
                assert time.monotonic() < deadline, f"worker {name} not ready: " + self.log(name)
                time.sleep(0.2)
        return {name: self.procs[name] for name in names}

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def setup(tmp_path: Path, database: str, queue_name: str) -> Iterator[tuple[Callable[..., Copilot], Workers]]:
    """``make(**settings)`` builds the coordinator (owner of the Edge shard); ``workers.start(name)`` a worker."""
    values: dict[str, Any] = {
        "environment": "development",
        "database_url": database,
        "broker_url": BROKER_URL,
        "ingest_queue": queue_name,
        "embedding_backend": "hashing",
        "redaction": "none",
        "ingest_max_attempts": 3,
        "ingest_retry_backoff_s": 0.2,
        "ingest_retry_backoff_max_s": 1.0,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    env.update({f"COPILOT_{k.upper()}": str(v) for k, v in values.items()})
    env["COPILOT_DATA_DIR"] = str(tmp_path / "worker-data")
    made: list[Copilot] = []

    def make(**overrides: Any) -> Copilot:
        settings = Settings.model_validate({**values, "data_dir": tmp_path / "owner", **overrides})
        cp = build_copilot(settings, embedder_=HashingEmbedder(384))
        _ = cp.manifest.counts()  # migrate before any worker starts
        made.append(cp)
        return cp

    workers = Workers(tmp_path, env)
    try:
        yield make, workers
    finally:
        workers.stop()
        for cp in made:
            cp.close()


def _corpus(root: Path, n: int, *, marker: Callable[[int], str] = lambda i: "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "copilot-meta.yaml").write_text("defaults: {acl_groups: [all_staff]}\n")
    for i in range(n):
        paras = "\n\n".join(
            f"Step {j} of procedure {i}: check item {i}-{j} and record it in the log. {marker(i)}" for j in range(10)
        )
        (root / f"sop-{i:02d}.md").write_text(f"# Procedure {i}\n\n## Steps\n\n{paras}\n")
    return root


def _clean(tmp: Path, corpus: Path) -> tuple[set[tuple[str, int, str]], int]:
    """The chunks a single-process ingest of ``corpus`` stores (same embedder, same chunker)."""
    settings = Settings(data_dir=tmp / "clean", embedding_backend="hashing", redaction="none", broker_url=None)
    with build_copilot(settings, embedder_=HashingEmbedder(384)) as cp:
        cp.ingest(FolderSource(corpus))
        return {(c.doc_id, c.ordinal, c.text) for c in cp.index.iter_chunks()}, cp.index.count()


def _stored(cp: Copilot) -> tuple[set[tuple[str, int, str]], int]:
    return {(c.doc_id, c.ordinal, c.text) for c in cp.index.iter_chunks()}, cp.index.count()


def _wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# -- tests ---------------------------------------------------------------------------------------------------


def test_two_workers_share_the_corpus_and_store_exactly_the_clean_chunks(setup: Any, tmp_path: Path) -> None:
    make, workers = setup
    corpus = _corpus(tmp_path / "corpus", 12, marker=lambda i: "MARKER-SLOW")
    cp = make()
    workers.start("w1@test", "w2@test", TEST_SLOW_S="0.3")

    report = cp.ingest(FolderSource(corpus))

    assert (report.indexed, report.failed) == (12, 0)
    assert _stored(cp) == _clean(tmp_path, corpus)
    progress = cp.status()["progress"]
    assert progress["totals"]["done"] == 12
    per_worker = {w: p["done"] for w, p in progress["workers"].items()}
    assert set(per_worker) == {"w1@test", "w2@test"} and all(n > 0 for n in per_worker.values()), per_worker
    assert cp.staging.count() == 0  # every staged vector was applied and its rows removed


def test_worker_killed_mid_task_is_redelivered_without_loss_or_duplicate(setup: Any, tmp_path: Path) -> None:
    make, workers = setup
    corpus = _corpus(tmp_path / "corpus", 8, marker=lambda i: "MARKER-SLOW" if i == 3 else "")
    cp = make()
    procs = workers.start("w1@test", "w2@test", TEST_SLOW_S="3")
    slow = "folder:sop-03.md"
    killed: dict[str, str] = {}

    def kill_when_running() -> None:
        entry = _wait_for(
            lambda: (e := cp.manifest.get("folder", slow)) is not None and e.status is DocStatus.INDEXING and e,
            60,
            "the slow document to start",
        )
        killed["name"] = str(entry.worker)
        os.killpg(procs[killed["name"]].pid, signal.SIGKILL)

    import threading

    killer = threading.Thread(target=kill_when_running)
    killer.start()
    report = cp.ingest(FolderSource(corpus))
    killer.join()

    assert procs[killed["name"]].wait(5) == -signal.SIGKILL
    entry = cp.manifest.get("folder", slow)
    assert entry is not None and entry.status is DocStatus.INDEXED
    survivor = ({"w1@test", "w2@test"} - {killed["name"]}).pop()
    assert entry.worker == survivor and entry.attempts == 2  # delivered again, counted again
    assert (report.indexed, report.failed) == (8, 0)
    assert _stored(cp) == _clean(tmp_path, corpus)
    assert {e.status for e in cp.manifest.all().values()} == {DocStatus.INDEXED}


def test_poison_document_is_parked_after_n_deliveries_and_a_corrupt_one_at_once(
    setup: Any, tmp_path: Path
) -> None:
    make, workers = setup
    corpus = _corpus(tmp_path / "corpus", 6, marker=lambda i: "MARKER-POISON" if i == 2 else "")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage, no xref, no trailer")
    cp = make()
    workers.start("w1@test", "w2@test")

    report = cp.ingest(FolderSource(corpus))

    assert report.indexed == 5 and report.failed == 2
    poison = cp.manifest.get("folder", "folder:sop-02.md")
    assert poison is not None and poison.status is DocStatus.FAILED
    assert poison.error_code == "poison" and poison.attempts == 3
    assert "RuntimeError" in str(poison.error) and "3 deliveries" in str(poison.error)
    corrupt = cp.manifest.get("folder", "folder:broken.pdf")
    assert corrupt is not None and corrupt.status is DocStatus.FAILED
    assert corrupt.error_code == "corrupt" and corrupt.attempts == 1  # a bad document is not retried
    assert {c.doc_id for c in cp.index.iter_chunks()} == {f"folder:sop-{i:02d}.md" for i in range(6) if i != 2}
    failures = {f["doc_id"]: f["reason"] for f in cp.status()["failures"]}
    assert failures == {"folder:sop-02.md": "poison", "folder:broken.pdf": "corrupt"}

    # parked documents stay parked: a rerun queues nothing
    again = cp.ingest(FolderSource(corpus))
    assert (again.unchanged, again.indexed, again.failed) == (7, 0, 0)


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=120)


def test_broker_restart_mid_run_loses_nothing(setup: Any, tmp_path: Path) -> None:
    if shutil.which("rabbitmqctl") is None or _rabbitmqctl("status").returncode != 0:
        pytest.fail("rabbitmqctl cannot control the local broker: the restart test cannot run here")
    make, workers = setup
    corpus = _corpus(tmp_path / "corpus", 12, marker=lambda i: "MARKER-SLOW")
    cp = make()
    workers.start("w1@test", "w2@test", TEST_SLOW_S="0.5")
    restarted: dict[str, Any] = {}

    def restart_when_busy() -> None:
        _wait_for(lambda: cp.status()["progress"]["totals"]["done"] >= 2, 60, "two documents done")
        stop = _rabbitmqctl("stop_app")
        try:
            restarted["stopped"] = stop.returncode == 0
            restarted["done_at_stop"] = cp.status()["progress"]["totals"]["done"]
            time.sleep(3)
        finally:
            start = _rabbitmqctl("start_app")  # never leave the machine's broker stopped
            restarted["started"] = start.returncode == 0

    import threading

    restarter = threading.Thread(target=restart_when_busy)
    restarter.start()
    try:
        report = cp.ingest(FolderSource(corpus))
    finally:
        restarter.join()
    assert restarted == {"stopped": True, "started": True, "done_at_stop": restarted["done_at_stop"]}
    assert restarted["done_at_stop"] < 12  # the broker really went away mid-run
    assert _broker_reachable()
    assert (report.indexed, report.failed) == (12, 0), workers.log("w1@test")[-3000:]
    assert _stored(cp) == _clean(tmp_path, corpus)
    assert "Connection to broker lost" in workers.log("w1@test") + workers.log("w2@test")


def test_broker_down_at_submit_is_a_typed_error_and_queues_nothing(setup: Any, tmp_path: Path) -> None:
    make, _ = setup
    corpus = _corpus(tmp_path / "corpus", 3)
    cp = make(broker_url="amqp://guest:guest@127.0.0.1:1//")
    with pytest.raises(BrokerUnavailableError) as err:
        cp.ingest(FolderSource(corpus))
    assert err.value.code == "broker_unavailable" and "guest:guest" not in err.value.message
    assert cp.manifest.all() == {}
    assert not (tmp_path / "owner" / "qdrant").exists()  # failed before the index was even opened


def test_resumed_run_requeues_only_what_is_not_done_and_stale_messages_are_no_ops(
    setup: Any, tmp_path: Path
) -> None:
    make, workers = setup
    corpus = _corpus(tmp_path / "corpus", 6)
    cp = make()
    workers.start("w1@test")
    first = cp.ingest(FolderSource(corpus))
    assert first.indexed == 6
    before = cp.manifest.all()

    # an interrupted earlier run: one row still "queued" under a task whose message is gone
    cp.manifest.queue("folder", [(next(FolderSource(corpus).list_documents()), "lost-task")])
    # a stale message for a finished document (say, a duplicate the broker redelivered)
    from copilot.ingest.queue import TASK_NAME
    from copilot.ingest.worker import encode_message

    stale_ref = next(r for r in FolderSource(corpus).list_documents() if r.doc_id == "folder:sop-05.md")
    app = cp.distributed().app
    with app.connection_for_write() as conn:
        app.send_task(
            TASK_NAME, args=[encode_message(FolderSource(corpus), stale_ref)], task_id="stale-task",
            queue=cp.settings.ingest_queue, producer=conn.Producer(),
        )
    (corpus / "sop-04.md").write_text("# Procedure 4\n\n## Steps\n\nA changed step: record the new value.\n")
    (corpus / "sop-09.md").write_text("# Procedure 9\n\n## Steps\n\nA new procedure for the new pump.\n")

    second = cp.ingest(FolderSource(corpus))

    assert (second.unchanged, second.indexed, second.failed) == (4, 3, 0)  # queued-before, changed, new
    after = cp.manifest.all()
    stale = after["folder:sop-05.md"]
    assert stale.status is DocStatus.INDEXED and stale.task_id == before["folder:sop-05.md"].task_id
    assert stale.attempts == before["folder:sop-05.md"].attempts  # the stale message did no work
    assert _stored(cp) == _clean(tmp_path, corpus)
    assert "stale or superseded" in workers.log("w1@test")


def test_direct_sink_writes_the_index_itself_and_redelivery_is_idempotent(database: str, tmp_path: Path) -> None:
    """The Qdrant-server shape: the worker upserts itself (no staging). No Qdrant server runs on this machine, so
    the same adapter runs on qdrant-client's local engine, in this process; the manifest is PostgreSQL."""
    from copilot.ingest.worker import encode_message
    from copilot.retrieval.index_qdrant import QdrantServerIndex

    corpus = _corpus(tmp_path / "corpus", 3)
    settings = Settings(
        data_dir=tmp_path / "w", database_url=database, embedding_backend="hashing", redaction="none",
        broker_url=BROKER_URL, ingest_max_attempts=2,
    )
    index = QdrantServerIndex(location=":memory:", dimension=384)
    with build_copilot(settings, embedder_=HashingEmbedder(384), index_=index) as cp:
        worker = cp.document_worker(direct=True)
        source = FolderSource(corpus)
        refs = list(source.list_documents())
        cp.manifest.queue("folder", [(r, f"task-{i}") for i, r in enumerate(refs)])
        outcomes = [worker.process(encode_message(source, r), task_id=f"task-{i}", worker_name="w") for i, r in
                    enumerate(refs)]
        assert [o.status for o in outcomes] == ["indexed"] * 3
        count = index.count()
        assert count == sum(e.chunk_count for e in cp.manifest.all().values()) > 0
        # the broker redelivers the first message (its ack was lost): nothing is redone, nothing duplicated
        again = worker.process(encode_message(source, refs[0]), task_id="task-0", worker_name="w2")
        stale = worker.process(encode_message(source, refs[1]), task_id="someone-else", worker_name="w2")
        assert (again.status, stale.status, index.count()) == ("done", "skipped", count)
        assert {e.status for e in cp.manifest.all().values()} == {DocStatus.INDEXED}
        assert {e.attempts for e in cp.manifest.all().values()} == {1}

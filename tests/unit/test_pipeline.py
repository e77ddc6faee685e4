"""The ingestion pipeline end to end on small folders: incremental sync, ACL-only updates, bad input.

Real parts throughout (loaders, chunker, Bm25, the Qdrant Edge shard, the manifest on SQLite); the embedder is
the deterministic hashing embedder and redaction is off, which is what makes these unit tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.app import build_copilot
from copilot.config import Settings
from copilot.ingest.manifest import DocStatus
from copilot.ingest.sources import FolderSource
from copilot.types import AccessScope
from fixtures.embedders import CountingEmbedder

pytestmark = pytest.mark.unit

SIDECAR = """\
defaults: {doc_type: sop, site: network, acl_groups: [all_staff]}
folders:
  contracts: {doc_type: contract, acl_groups: [procurement, finance]}
"""

PUMP = """# Infusion Pump Preventive Maintenance

## Interval

Every infusion pump receives preventive maintenance every 6 months by biomedical engineering.

## Checks

- Occlusion pressure alarm test
- Battery capacity test of at least 4 hours
"""

COLD = """# Cold Chain Storage

Vaccines are stored between 2 and 8 degrees Celsius. Excursions are reported to pharmacy within 1 hour.
"""

CONTRACT = """# MedGas Supply Agreement

Late deliveries incur a penalty of 2% of the order value per late day, capped at 10%.
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "sops").mkdir(parents=True)
    (root / "contracts").mkdir()
    (root / "copilot-meta.yaml").write_text(SIDECAR)
    (root / "sops" / "pump.md").write_text(PUMP)
    (root / "sops" / "cold.md").write_text(COLD)
    (root / "contracts" / "medgas.md").write_text(CONTRACT)
    return root


@pytest.fixture
def make_copilot(tmp_path: Path):
    opened = []

    def make(**overrides):
        settings = Settings(
            data_dir=tmp_path / "data",
            embedding_backend="hashing",
            redaction="none",
            abstain_threshold=0.0,
            **overrides,
        )
        embedder = CountingEmbedder()
        cp = build_copilot(settings, embedder_=embedder)
        opened.append(cp)
        return cp, embedder

    yield make
    for cp in opened:
        cp.close()


def _doc_ids(cp) -> set[str]:
    return {c.doc_id for c in cp.index.iter_chunks()}


def test_first_ingest_indexes_every_document(corpus: Path, make_copilot) -> None:
    cp, _ = make_copilot()
    report = cp.ingest(FolderSource(corpus))
    assert (report.indexed, report.failed, report.unchanged) == (3, 0, 0)
    assert cp.index.count() == report.chunks == sum(e.chunk_count for e in cp.manifest.all().values())
    hits = cp.search("how often are infusion pumps maintained", AccessScope(groups=("all_staff",)))
    assert hits and "pump" in hits[0].chunk.doc_id


def test_unchanged_resync_embeds_nothing(corpus: Path, make_copilot) -> None:
    cp, emb = make_copilot()
    cp.ingest(FolderSource(corpus))
    before, count = emb.embedded, cp.index.count()
    report = cp.ingest(FolderSource(corpus))
    assert report.unchanged == 3 and report.indexed == 0
    assert emb.embedded == before and cp.index.count() == count


def test_changed_document_replaces_its_chunks(corpus: Path, make_copilot) -> None:
    cp, _ = make_copilot()
    cp.ingest(FolderSource(corpus))
    (corpus / "sops" / "cold.md").write_text("# Cold Chain Storage\n\nStore insulin between 2 and 8 °C.\n")
    report = cp.ingest(FolderSource(corpus))
    assert report.indexed == 1 and report.unchanged == 2
    texts = [c.text for c in cp.index.iter_chunks() if "cold" in c.doc_id]
    assert texts and all("Vaccines" not in t for t in texts) and any("insulin" in t for t in texts)


def test_deleted_document_leaves_index_and_manifest(corpus: Path, make_copilot) -> None:
    cp, _ = make_copilot()
    cp.ingest(FolderSource(corpus))
    (corpus / "sops" / "cold.md").unlink()
    report = cp.ingest(FolderSource(corpus))
    assert report.deleted == 1
    assert not any("cold" in d for d in _doc_ids(cp))
    assert not any("cold" in d for d in cp.manifest.all())


def test_acl_change_updates_payload_without_reembedding(corpus: Path, make_copilot) -> None:
    cp, emb = make_copilot()
    cp.ingest(FolderSource(corpus))
    staff = AccessScope(groups=("all_staff",))
    assert not any(h.chunk.doc_type == "contract" for h in cp.search("late delivery penalty", staff))
    before = emb.embedded
    (corpus / "copilot-meta.yaml").write_text(SIDECAR.replace("[procurement, finance]", "[procurement, all_staff]"))
    report = cp.ingest(FolderSource(corpus))
    assert report.acl_updated == 1 and report.indexed == 0 and emb.embedded == before
    assert any(h.chunk.doc_type == "contract" for h in cp.search("late delivery penalty", staff))


def test_acl_filter_is_inside_the_query(corpus: Path, make_copilot) -> None:
    cp, _ = make_copilot()
    cp.ingest(FolderSource(corpus))
    nursing = cp.search("penalty per late day", AccessScope(groups=("all_staff",)), limit=10)
    procurement = cp.search("penalty per late day", AccessScope(groups=("procurement",)), limit=10)
    assert all(h.chunk.doc_type != "contract" for h in nursing)
    assert procurement and all(h.chunk.doc_type == "contract" for h in procurement)
    assert cp.search("penalty", AccessScope(groups=())) == []


def _write_bad_inputs(root: Path) -> dict[str, str]:
    bad = root / "bad"
    bad.mkdir()
    (bad / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage")
    (bad / "zero.md").write_bytes(b"")
    (bad / "notes.xyz").write_bytes(b"some text")
    (bad / "latin.txt").write_bytes(bytes(range(128, 256)) * 20)
    (bad / "huge.txt").write_bytes(b"word " * 5000)
    return {
        "corrupt.pdf": "corrupt",
        "zero.md": "empty",
        "notes.xyz": "unsupported_type",
        "latin.txt": "encoding",
        "huge.txt": "too_large",
    }


def test_bad_inputs_are_recorded_and_the_batch_goes_on(corpus: Path, make_copilot) -> None:
    expected = _write_bad_inputs(corpus)
    cp, _ = make_copilot(max_file_bytes=20_000)
    report = cp.ingest(FolderSource(corpus, max_bytes=20_000))
    assert report.indexed == 3
    reasons = {Path(e.uri).name: e.error_code for e in cp.manifest.all().values() if e.status is DocStatus.FAILED}
    assert reasons == expected
    status = cp.status()
    assert {f["reason"] for f in status["failures"]} == set(expected.values())
    # errors name the reason, never document text
    assert all("some text" not in (f["error"] or "") for f in status["failures"])
    # an unchanged failure is not retried; the good documents stay unchanged
    again = cp.ingest(FolderSource(corpus, max_bytes=20_000))
    assert again.indexed == 0 and again.failed == 0 and again.unchanged == 8


def test_ask_cites_the_source(corpus: Path, make_copilot) -> None:
    cp, _ = make_copilot()
    cp.ingest(FolderSource(corpus))
    answer = cp.ask("How often do infusion pumps get preventive maintenance?", AccessScope(groups=("all_staff",)))
    assert not answer.abstained
    assert "6 months" in answer.text and "[1]" in answer.text
    assert answer.citations[0].title.startswith("Infusion Pump") or "pump" in answer.citations[0].doc_id
    assert answer.citations[0].section


def test_questions_are_answered_while_an_ingestion_runs(corpus: Path, make_copilot) -> None:
    import threading

    cp, emb = make_copilot()
    cp.ingest(FolderSource(corpus))
    release = threading.Event()
    slow = type(emb).embed_documents

    def blocking(self, texts):  # the second ingestion stalls in the embedder until released
        if threading.current_thread().name == "ingest-under-test":
            release.wait(10)
        return slow(self, texts)

    (corpus / "sops" / "cold.md").write_text("# Cold Chain Storage\n\nStore insulin between 2 and 8 °C.\n")
    type(emb).embed_documents = blocking
    try:
        worker = threading.Thread(target=cp.ingest, args=(FolderSource(corpus),), name="ingest-under-test")
        worker.start()
        hits = cp.search("infusion pump maintenance", AccessScope(groups=("all_staff",)))
        assert hits and worker.is_alive()  # answered while the ingestion is still stalled
    finally:
        release.set()
        worker.join(10)
        type(emb).embed_documents = slow

"""Incremental sync from the Odoo double through the real pipeline (17 over JSON-RPC, 19 over JSON-2).

Real loaders, chunker, Bm25 and Qdrant Edge shard; the embedder is the hashing embedder wrapped to count what
it embeds and redaction is off, as in tests/unit/test_pipeline.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot.app import build_copilot
from copilot.config import Settings
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo.source import OdooSource, resolve_user_groups
from copilot.odoo_double import SUPERUSER_ID, Database, OdooDouble
from copilot.odoo_double import builders as b
from copilot.odoo_double.sample import Sample, seed_sample
from copilot.types import AccessScope
from fixtures.embedders import CountingEmbedder

pytestmark = pytest.mark.unit


class Sync:
    def __init__(self, double: OdooDouble, sample: Sample, transport: str, tmp: Path) -> None:
        self.double, self.sample, self.db = double, sample, double.db
        cfg = OdooConfig(
            url=double.url,
            db=double.db.name,
            login="admin",
            password="admin",
            api_key="key-admin",
            transport=transport,
            retries=1,
            backoff=0.0,
        )  # type: ignore[arg-type]
        self.client = OdooClient(cfg, sleep=lambda s: None).connect()
        self.embedder = CountingEmbedder()
        settings = Settings(
            data_dir=tmp / "data", embedding_backend="hashing", redaction="none", abstain_threshold=0.0
        )
        self.cp: Any = build_copilot(settings, embedder_=self.embedder)

    def source(self) -> OdooSource:
        return OdooSource(self.client, base_url="https://odoo.example.org")

    def ingest(self) -> Any:
        return self.cp.ingest(self.source())

    def scope(self, login: str) -> AccessScope:
        return AccessScope(groups=resolve_user_groups(self.client, self.sample.users[login]))

    def docs_for(self, login: str, query: str) -> set[str]:
        return {h.chunk.doc_id for h in self.cp.search(query, self.scope(login), limit=20)}

    def doc(self, key: str) -> str:
        return f"odoo:documents:{self.sample.documents[key]}"


@pytest.fixture(params=[("17.0", "jsonrpc"), ("19.0", "json2")], ids=["17", "19"])
def sync(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sync]:
    version, transport = request.param
    db = Database(version=version)
    sample = seed_sample(db)
    with OdooDouble(db) as double:
        s = Sync(double, sample, transport, tmp_path)
        yield s
        s.cp.close()


def test_first_sync_then_no_change_resync_costs_pages_and_embeds_nothing(sync: Sync) -> None:
    first = sync.ingest()
    assert (first.indexed, first.failed) == (7, 0)
    citations = {h.chunk.source_url for h in sync.cp.search("infusion pump", AccessScope.admin(), limit=20)}
    assert f"https://odoo.example.org/odoo/documents/{sync.sample.documents['pm']}" in citations
    embedded = sync.embedder.embedded
    sync.double.stats.reset()
    again = sync.ingest()
    assert (again.unchanged, again.indexed, again.acl_updated) == (7, 0, 0)
    assert sync.embedder.embedded == embedded
    calls = sync.double.stats.calls
    assert "ir.attachment.read" not in calls  # no content downloaded for unchanged documents
    # the listing: a fields_get per probed model (ir.model is readable by Access Rights admins only), pages, and
    # a page of employees (who follow the equipment: the maintenance logs' readers)
    assert sync.double.stats.requests <= 14


def test_edit_one_document_reindexes_exactly_it(sync: Sync) -> None:
    sync.ingest()
    b.set_document_content(
        sync.db,
        sync.sample.documents["pm"],
        b"# Infusion pump PM\n\nInspect every 3 months and log the battery test.\n",
    )
    report = sync.ingest()
    assert (report.indexed, report.unchanged) == (1, 6)
    texts = [c.text for c in sync.cp.index.iter_chunks() if c.doc_id == sync.doc("pm")]
    assert texts and any("3 months" in t for t in texts) and not any("6 months" in t for t in texts)


def test_deleted_document_chunks_are_gone(sync: Sync) -> None:
    sync.ingest()
    assert sync.cp.index.count(sync.doc("hand")) > 0
    sync.db.env(SUPERUSER_ID).unlink("documents.document", [sync.sample.documents["hand"]])
    report = sync.ingest()
    assert report.deleted == 1
    assert sync.cp.index.count(sync.doc("hand")) == 0


def test_folder_permission_change_applies_without_reembedding(sync: Sync) -> None:
    sync.ingest()
    query = "infusion sets delivered within business days"
    assert sync.doc("supply") in sync.docs_for("carol", query)
    assert sync.doc("supply") not in sync.docs_for("bob", query)
    embedded = sync.embedder.embedded
    b.set_folder_access(
        sync.db,
        sync.sample.folders["contracts"],
        read_groups=["hospital.group_procurement", "hospital.group_clinical"],
    )
    report = sync.ingest()
    assert (report.acl_updated, report.indexed) == (2, 0)
    assert sync.embedder.embedded == embedded
    assert sync.doc("supply") not in sync.docs_for("carol", query)  # finance lost access
    assert sync.doc("supply") in sync.docs_for("bob", query)
    assert sync.doc("supply") in sync.docs_for("alice", query)


def test_odoo_down_mid_sync_loses_nothing_and_the_next_sync_resumes(sync: Sync) -> None:
    sync.double.inject(*([503] * 40))  # listing fails: nothing may be deleted or marked
    with pytest.raises(Exception, match="unavailable"):
        sync.ingest()
    sync.double.faults.clear()
    first = sync.ingest()
    assert first.indexed == 7
    b.set_document_content(sync.db, sync.sample.documents["pm"], b"# PM\n\nNew interval: 4 months.\n")
    src = sync.source()
    original_read = src.read
    state = {"n": 0}

    def flaky_read(ref: Any) -> bytes:  # Odoo goes down while content is being fetched
        state["n"] += 1
        sync.double.inject(503, 503)
        return original_read(ref)

    src.read = flaky_read  # type: ignore[method-assign]
    report = sync.cp.ingest(src)
    assert report.failed == 1 and report.failures[0][1] == "unavailable"
    assert sync.cp.index.count() > 0  # the other six documents are untouched
    resumed = sync.ingest()
    assert resumed.indexed == 1 and resumed.failed == 0
    texts = [c.text for c in sync.cp.index.iter_chunks() if c.doc_id == sync.doc("pm")]
    assert any("4 months" in t for t in texts)


@pytest.mark.parametrize(("version", "transport", "deprecated"),
                         [("17.0", "jsonrpc", False), ("19.0", "jsonrpc", True), ("19.0", "json2", False)])
def test_status_says_which_transport_and_whether_it_is_deprecated(
    tmp_path: Path, version: str, transport: str, deprecated: bool
) -> None:
    from pydantic import SecretStr

    db = Database(version=version)
    seed_sample(db)
    with OdooDouble(db) as double:
        settings = Settings(
            data_dir=tmp_path / "data", embedding_backend="hashing", redaction="none", odoo_url=double.url,
            odoo_db=db.name, odoo_login="admin", odoo_password=SecretStr("admin"),
            odoo_api_key=SecretStr("key-admin"), odoo_transport=transport,
        )
        with build_copilot(settings) as cp:
            cp.odoo_source()
            odoo = cp.status()["odoo"]
    assert (odoo["server_version"], odoo["transport"], odoo["transport_deprecated"]) == (
        version, transport, deprecated
    )
    assert odoo["login"] == "admin" and "key-admin" not in str(odoo)  # the login, never a secret

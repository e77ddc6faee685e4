"""OdooSource against the double as 17 and 19: refs, checksums, ACLs that agree with Odoo's own record rules,
request counts proportional to pages, the ir.attachment fallback, and outages mid-listing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo.errors import OdooAccessError, OdooMissingError, OdooUnavailableError
from copilot.odoo.source import OdooSource, resolve_user_groups
from copilot.odoo_double import SUPERUSER_ID, Database, OdooDouble
from copilot.odoo_double import builders as b
from copilot.odoo_double.sample import Sample, seed_sample
from copilot.types import DocumentRef

pytestmark = pytest.mark.unit

WIRES = [("17.0", "jsonrpc"), ("19.0", "json2")]


class Env:
    def __init__(self, double: OdooDouble, sample: Sample, transport: str) -> None:
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

    def source(self, **kw: object) -> OdooSource:
        return OdooSource(self.client, base_url="https://odoo.example.org", **kw)  # type: ignore[arg-type]

    def refs(self, **kw: object) -> dict[str, DocumentRef]:
        return {r.doc_id: r for r in self.source(**kw).list_documents()}


@pytest.fixture(params=WIRES, ids=lambda w: w[0])
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    version, transport = request.param
    db = Database(version=version)
    sample = seed_sample(db)
    with OdooDouble(db) as double:
        yield Env(double, sample, transport)


def test_refs_carry_odoo_links_checksums_and_types(env: Env) -> None:
    refs = env.refs()
    pm = refs[f"odoo:documents:{env.sample.documents['pm']}"]
    content = env.source().read(pm)
    assert content.startswith(b"# Infusion pump preventive maintenance")
    assert pm.checksum == hashlib.sha1(content).hexdigest()  # Odoo's attachment checksum
    assert pm.source_url == f"https://odoo.example.org/odoo/documents/{env.sample.documents['pm']}"
    assert pm.mime_type == "text/markdown"
    assert pm.size == len(content)
    art = refs[f"odoo:knowledge:{env.sample.articles['onboarding']}"]
    assert art.mime_type == "text/html"
    assert art.source_url.endswith(f"/odoo/knowledge/{env.sample.articles['onboarding']}")
    log = refs[f"odoo:maintenance:{env.sample.equipment['pump']}"]
    text = env.source().read(log).decode()
    assert log.doc_type == "maintenance_log"
    assert "## 2026-03-02 Occlusion alarm" in text and "Replaced filter." in text
    assert text.index("Occlusion alarm") < text.index("6-month PM")  # newest first
    assert not any(r.doc_id.startswith("odoo:attachment:") for r in refs.values())  # Documents is installed
    if env.db.major >= 18:  # folders are documents too, but hold no content
        assert not {f"odoo:documents:{f}" for f in env.sample.folders.values()} & set(refs)


@pytest.mark.parametrize("login", ["alice", "bob", "carol", "admin"])
def test_acl_groups_agree_with_odoo_record_rules(env: Env, login: str) -> None:
    """For each user: documents whose ACL intersects the user's groups == what Odoo lets the user read."""
    uid = env.sample.users.get(login, 2)
    groups = set(resolve_user_groups(env.client, uid))
    refs = env.refs()
    odoo_env = env.db.env(uid)
    allowed = {
        f"odoo:documents:{i}" for i in odoo_env.search("documents.document", [("type", "=", "binary")])
    }
    allowed |= {f"odoo:knowledge:{i}" for i in odoo_env.search("knowledge.article", [])}
    by_acl = {
        d for d, r in refs.items() if set(r.acl_groups) & groups and not d.startswith("odoo:maintenance")
    }
    assert by_acl == allowed  # admin too: the manager rules become manager tokens in every ACL


def test_restricted_folder_is_named_by_group_or_partner(env: Env) -> None:
    refs = env.refs(
        group_map={"hospital.group_procurement": "procurement", "hospital.group_finance": "finance"}
    )
    supply = refs[f"odoo:documents:{env.sample.documents['supply']}"]
    if env.db.major < 18:  # the folder's groups, and Documents managers (17's manager rule)
        assert supply.acl_groups == ("documents.group_documents_manager", "finance", "procurement")
    else:  # 18+ grants access per partner; Documents system administrators see everything
        partners = {env.db.table("res.users")[env.sample.users[u]]["partner_id"] for u in ("alice", "carol")}
        assert supply.acl_groups == (
            "documents.group_documents_system", *sorted(f"odoo_partner_{p}" for p in partners)
        )


def test_edit_changes_only_that_checksum_and_permission_change_only_acl(env: Env) -> None:
    before = env.refs()
    b.set_document_content(
        env.db, env.sample.documents["pm"], b"# Infusion pump PM\n\nInspect every 3 months.\n"
    )
    b.set_folder_access(env.db, env.sample.folders["contracts"], read_groups=["hospital.group_finance"])
    after = env.refs()
    assert set(after) == set(before)
    changed = {d for d in before if before[d].checksum != after[d].checksum}
    assert changed == {f"odoo:documents:{env.sample.documents['pm']}"}
    acl_changed = {d for d in before if before[d].acl_groups != after[d].acl_groups}
    assert acl_changed == {f"odoo:documents:{env.sample.documents[k]}" for k in ("supply", "service")}


def test_deleted_and_archived_records_leave_the_listing(env: Env) -> None:
    su = env.db.env(SUPERUSER_ID)
    su.unlink("documents.document", [env.sample.documents["hand"]])
    su.write("documents.document", [env.sample.documents["service"]], {"active": False})
    su.write("knowledge.article", [env.sample.articles["onboarding"]], {"active": False})
    refs = env.refs()
    for gone in (
        f"odoo:documents:{env.sample.documents['hand']}",
        f"odoo:documents:{env.sample.documents['service']}",
        f"odoo:knowledge:{env.sample.articles['onboarding']}",
    ):
        assert gone not in refs


def test_listing_cost_is_per_page_not_per_document(env: Env) -> None:
    def listing_requests() -> int:
        env.double.stats.reset()
        list(env.source(page_size=50).list_documents())
        return env.double.stats.requests

    small = listing_requests()
    folder = env.sample.folders["sops"]
    for i in range(40):
        b.add_document(env.db, folder, f"Extra SOP {i}.md", f"# SOP {i}\n\nBody {i}.\n".encode())
    assert listing_requests() == small  # 44 documents still fit one page of 50
    for i in range(40, 60):
        b.add_document(env.db, folder, f"Extra SOP {i}.md", f"# SOP {i}\n\nBody {i}.\n".encode())
    assert listing_requests() == small + 1  # 64 documents: one more page


def test_attachment_fallback_without_documents(env: Env) -> None:
    su = env.db.env(SUPERUSER_ID)
    doc_models = ["documents.document", "documents.folder", "documents.access"]
    su.unlink("ir.model", su.search("ir.model", [("model", "in", doc_models)]))
    for model in doc_models:  # not installed: "Object documents.document doesn't exist", as on Community
        env.db.models.pop(model, None)
    src = env.source()
    refs = {r.doc_id: r for r in src.list_documents()}
    assert "attachments" in src.active_readers and "documents" not in src.active_readers
    manual = next(r for r in refs.values() if r.title == "pump-manual.txt")
    assert src.read(manual) == b"Pump manual: prime the line before use."
    assert manual.source_url.endswith(f"/web/content/{manual.extra['attachment_id']}")
    # an attachment follows its equipment (Maintenance's rules): Equipment Managers, and the employees who follow
    # it -- here its creator (OdooBot) -- not every employee
    assert manual.acl_groups == ("maintenance.group_equipment_manager", "odoo_user_1")
    pump = env.sample.equipment["pump"]
    bob = env.sample.users["bob"]
    env.db.env(SUPERUSER_ID).write(
        "maintenance.equipment", [pump], {"message_partner_ids": [(4, env.db.table("res.users")[bob]["partner_id"])]}
    )
    again = next(r for r in env.source().list_documents() if r.title == "pump-manual.txt")
    assert again.acl_groups == ("maintenance.group_equipment_manager", "odoo_user_1", f"odoo_user_{bob}")


def test_knowledge_inherits_parent_permission_and_members(env: Env) -> None:
    parent = env.sample.articles["negotiation"]
    child = b.add_article(env.db, "Price benchmarks", "<p>Benchmarks.</p>", internal=False, parent=parent)  # type: ignore[arg-type]
    refs = env.refs()
    alice_partner = env.db.table("res.users")[env.sample.users["alice"]]["partner_id"]
    expected = ("base.group_system", f"odoo_partner_{alice_partner}")  # Settings users see every article
    assert refs[f"odoo:knowledge:{parent}"].acl_groups == expected
    # internal "none" and the member alice are both inherited (``_get_partner_member_permissions``)
    assert refs[f"odoo:knowledge:{child}"].acl_groups == expected
    assert child in env.db.env(env.sample.users["alice"]).search("knowledge.article", [])
    assert child not in env.db.env(env.sample.users["bob"]).search("knowledge.article", [])


def test_outage_mid_listing_is_typed_and_the_next_listing_is_complete(env: Env) -> None:
    src = env.source(page_size=2)
    it = src.list_documents()
    first = next(it)
    env.double.inject(503, 503, 503)
    with pytest.raises(OdooUnavailableError):
        list(it)
    refs = list(env.source(page_size=2).list_documents())
    assert first.doc_id in {r.doc_id for r in refs}
    assert len(refs) == 7


def test_reading_a_vanished_attachment_is_missing(env: Env) -> None:
    src = env.source()
    ref = next(r for r in src.list_documents() if r.doc_id == f"odoo:documents:{env.sample.documents['pm']}")
    env.db.env(SUPERUSER_ID).unlink("ir.attachment", [ref.extra["attachment_id"]])
    with pytest.raises(OdooMissingError):
        src.read(ref)


def test_user_groups_resolve_per_version(env: Env) -> None:
    groups = resolve_user_groups(env.client, env.sample.users["bob"], {"hospital.group_clinical": "clinical"})
    pid = env.db.table("res.users")[env.sample.users["bob"]]["partner_id"]
    assert {
        "clinical",
        "base.group_user",
        f"odoo_partner_{pid}",
        f"odoo_user_{env.sample.users['bob']}",
    } <= set(groups)
    assert "hospital.group_procurement" not in groups


def test_own_documents_only_folder_17() -> None:
    """A 17 folder with ``user_specific``: read-group members see only what they own; write groups see all."""
    db = Database(version="17.0")
    sample = seed_sample(db)
    su = db.env(SUPERUSER_ID)
    sops = sample.folders["sops"]
    b.set_folder_access(
        db, sops, read_groups=["hospital.group_clinical"], write_groups=["hospital.group_finance"]
    )
    su.write("documents.folder", [sops], {"user_specific": True})
    su.write("documents.document", [sample.documents["pm"]], {"owner_id": sample.users["bob"]})
    with OdooDouble(db) as double:
        env = Env(double, sample, "jsonrpc")
        refs = env.refs()
        for login in ("alice", "bob", "carol"):
            uid = sample.users[login]
            groups = set(resolve_user_groups(env.client, uid))
            allowed = {f"odoo:documents:{i}" for i in db.env(uid).search("documents.document", [])}
            by_acl = {
                d for d, r in refs.items() if d.startswith("odoo:documents:") and set(r.acl_groups) & groups
            }
            assert by_acl == allowed, login
        assert f"odoo:documents:{sample.documents['pm']}" in allowed  # carol (finance) writes, so reads all


def _recorded_fields(recordings: Path, version: str, model: str) -> set[str]:
    path = recordings / f"odoo{version.split('.')[0]}" / "fields_get.json"
    return set(json.loads(path.read_text(encoding="utf-8"))[model])


@pytest.mark.parametrize("version", ["17.0", "19.0"])
def test_maintenance_reader_asks_only_fields_the_real_server_has(version: str, odoo_recordings: Path) -> None:
    """19 removed `maintenance.equipment.location`: asking for it is "Invalid field" and ended the sync."""
    from copilot.odoo.readers import MaintenanceReader

    class _Ctx:
        def fields(self, model: str) -> set[str]:
            return _recorded_fields(odoo_recordings, version, model)

    asked = MaintenanceReader.equipment_fields(_Ctx())  # type: ignore[arg-type]
    assert set(asked) <= _recorded_fields(odoo_recordings, version, "maintenance.equipment")
    assert ("location" in asked) is (version == "17.0")
    assert set(MaintenanceReader.REQUEST_FIELDS) <= _recorded_fields(odoo_recordings, version, "maintenance.request")


def test_double_serves_the_recorded_equipment_fields_per_version(odoo_recordings: Path) -> None:
    for version in ("17.0", "19.0"):
        served = set(Database(version=version).models["maintenance.equipment"].fields)
        recorded = _recorded_fields(odoo_recordings, version, "maintenance.equipment")
        assert ("location" in served) == ("location" in recorded)


def test_maintenance_sync_on_19_lists_equipment(env: Env) -> None:
    logs = [r for r in env.refs().values() if r.doc_type == "maintenance_log"]
    assert logs  # the 17 wire shows the location line, the 19 one has none to show
    text = env.source().read(logs[0]).decode()
    assert ("- Location: North ICU" in text) is (env.db.major < 19)


@pytest.mark.parametrize(("version", "transport"), WIRES)
def test_least_privilege_account_syncs_without_ir_model(version: str, transport: str) -> None:
    """A sync account that is a plain internal user (no Access Rights, no Settings) may read neither
    `ir.model` nor `ir.model.data` on a real server (recorded: g8.search_read.demo.ir.model*). The installed-model
    probe (fields_get) and the group names (get_external_id) must not need them."""
    db = Database(version=version)
    seed_sample(db)
    with OdooDouble(db) as double:
        cfg = OdooConfig(url=double.url, db=db.name, login="alice", password="alice-pw", api_key="key-alice",
                         transport=transport, retries=1, backoff=0.0)  # type: ignore[arg-type]
        client = OdooClient(cfg, sleep=lambda s: None).connect()
        with pytest.raises(OdooAccessError):
            client.search_read("ir.model.data", [], ["name"], limit=1)
        with pytest.raises(OdooAccessError):
            client.search_read("ir.model", [], ["model"], limit=1)
        src = OdooSource(client, base_url="https://odoo.example.org")
        refs = list(src.list_documents())
        assert refs and "maintenance" in src.active_readers and "knowledge" in src.active_readers
        groups = {g for r in refs for g in r.acl_groups}
        assert "base.group_user" in groups  # names resolved, not odoo_group_<id> placeholders
        assert not [g for g in groups if g.startswith("odoo_group_")]


@pytest.mark.parametrize("version", ["17.0", "18.0", "19.0"])
def test_documents_manager_sees_member_only_documents_only_before_18(version: str) -> None:
    """18+: a Documents manager — even with Settings — does not see a document shared with named members only;
    a Documents *system* administrator does. A sync bot that is only a manager under-indexes silently."""
    db = Database(version=version)
    sample = seed_sample(db)
    manager = db.add_user("mgr", "mgr-pw", groups=["base.group_user", "documents.group_documents_manager",
                                                    "base.group_system"])
    contracts = sample.documents["supply"]  # in a folder readable by procurement and finance only
    seen_by_manager = contracts in db.env(manager).search("documents.document", [])
    assert seen_by_manager is (db.major < 18)
    if db.major >= 18:
        system = db.add_user("docsys", "docsys-pw", groups=["base.group_user", "documents.group_documents_system"])
        assert contracts in db.env(system).search("documents.document", [])

"""Permission matrix: for every user, the Documents and Knowledge records Copilot lets them retrieve (ACL tokens
of the synced refs ∩ the user's resolved groups) equal the records Odoo lets them open (the double's record
rules, derived from Odoo's own rule definitions: ``copilot.odoo_double.rules``) — no more, no less, on 17, 18
and 19.

The corpus holds the cases the rules turn on: 17 "own documents only" for read and for write groups
(``user_specific``, ``user_specific_write``), folders with only read or only write groups; 18+ members with and
without a role, expired members, owners, the parent folder's link one level up (hidden or not, and not two
levels); Knowledge members with ``none``, members and internal permission inherited from parent articles, a
desynchronized child, a portal member; maintenance logs (one per equipment, with all its requests) read by
Equipment Managers, or by an employee who follows the equipment and owns, follows or repairs every request
(``maintenance/security/maintenance.xml``), with a portal follower and a follower who misses one request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo.source import OdooSource, resolve_user_groups
from copilot.odoo_double import SUPERUSER_ID, Database, OdooDouble
from copilot.odoo_double import builders as b

pytestmark = pytest.mark.unit

VERSIONS = ["17.0", "18.0", "19.0"]
GROUPS = {"hospital.group_procurement": "Procurement", "hospital.group_finance": "Finance",
          "hospital.group_clinical": "Clinical"}  # fmt: skip
USERS = {  # login -> groups
    "alice": ["base.group_user", "documents.group_documents_user", "hospital.group_procurement"],
    "carol": ["base.group_user", "documents.group_documents_user", "hospital.group_finance"],
    "bob": ["base.group_user", "documents.group_documents_user", "hospital.group_clinical"],
    "dave": ["base.group_user"],  # an employee without any Documents group
    "erin": ["base.group_user", "documents.group_documents_manager"],
    "paula": ["base.group_portal"],  # a share user
    "mona": ["base.group_user", "maintenance.group_equipment_manager"],  # an Equipment Manager
}
STAFF = {login for login, groups in USERS.items() if "base.group_portal" not in groups}


@dataclass
class Corpus:
    db: Database
    users: dict[str, int] = field(default_factory=dict)
    expect: dict[str, set[str]] = field(default_factory=dict)  # doc key -> logins that must read it


def _pid(db: Database, uid: int) -> int:
    return int(db.table("res.users")[uid]["partner_id"])


def _share(db: Database, doc: int, uid: int, role: str = "view") -> None:
    member = {"partner_id": _pid(db, uid), "role": role}
    db.env(SUPERUSER_ID).write("documents.document", [doc], {"access_ids": [(0, 0, member)]})


def _doc(db: Database, folder: int, name: str, owner: int | None = None) -> int:
    return b.add_document(db, folder, f"{name}.md", f"# {name}\n".encode(), owner=owner)


def build(version: str) -> Corpus:
    db = Database(version=version)
    for xmlid, label in GROUPS.items():
        db.add_group(xmlid, label)
    c = Corpus(db)
    for login, groups in USERS.items():
        c.users[login] = db.add_user(login, f"{login}-pw", groups=groups)
    db.add_api_key(2, "key-admin")
    if db.major < 18:
        _documents_17(c)
    else:
        _documents_18(c)
    _knowledge(c)
    _maintenance(c)
    db.commit()
    return c


def _documents_17(c: Corpus) -> None:
    db, u = c.db, c.users
    proc, fin, clin = "hospital.group_procurement", "hospital.group_finance", "hospital.group_clinical"
    opened = b.add_folder(db, "Open")
    both = b.add_folder(db, "Read proc, write fin", read_groups=[proc], write_groups=[fin])
    own_read = b.add_folder(db, "Own (read)", read_groups=[clin], write_groups=[fin])
    db.env(SUPERUSER_ID).write("documents.folder", [own_read], {"user_specific": True})
    own_both = b.add_folder(db, "Own (read, write)", read_groups=[clin], write_groups=[fin])
    db.env(SUPERUSER_ID).write("documents.folder", [own_both], {"user_specific": True, "user_specific_write": True})
    read_only = b.add_folder(db, "Only read groups", read_groups=[proc])
    write_only = b.add_folder(db, "Only write groups", write_groups=[fin])
    staff = STAFF
    c.expect[f"d{_doc(db, opened, 'open')}"] = staff
    c.expect[f"d{_doc(db, both, 'both')}"] = {"alice", "carol", "erin"}
    c.expect[f"d{_doc(db, own_read, 'own_read_bob', u['bob'])}"] = {"bob", "carol", "erin"}
    c.expect[f"d{_doc(db, own_read, 'own_read_alice', u['alice'])}"] = {"carol", "erin"}  # alice is no reader
    c.expect[f"d{_doc(db, own_read, 'own_read_none')}"] = {"carol", "erin"}
    c.expect[f"d{_doc(db, own_both, 'own_both_carol', u['carol'])}"] = {"carol", "erin"}
    c.expect[f"d{_doc(db, own_both, 'own_both_bob', u['bob'])}"] = {"bob", "erin"}
    c.expect[f"d{_doc(db, own_both, 'own_both_dave', u['dave'])}"] = {"erin"}  # owner in no group
    c.expect[f"d{_doc(db, own_both, 'own_both_none')}"] = {"erin"}  # the write group no longer reads it
    c.expect[f"d{_doc(db, read_only, 'read_only')}"] = {"alice", "erin"}
    c.expect[f"d{_doc(db, write_only, 'write_only')}"] = {"carol", "erin"}


def _documents_18(c: Corpus) -> None:
    db, u = c.db, c.users
    env = db.env(SUPERUSER_ID)
    staff = STAFF
    opened = b.add_folder(db, "Open")
    members = b.add_folder(db, "Members", internal="none")
    env.write("documents.document", [members], {"access_ids": [
        (0, 0, {"partner_id": _pid(db, u["alice"]), "role": "view"}),
        (0, 0, {"partner_id": _pid(db, u["carol"]), "role": "edit"}),
    ]})  # fmt: skip
    c.expect[f"d{_doc(db, opened, 'open')}"] = staff
    c.expect[f"d{_doc(db, members, 'members')}"] = {"alice", "carol"}
    # link via parent: bob is a member of the folder only; the children's link gives him access one level down
    parent = b.add_folder(db, "Bob's folder", internal="none")
    _share(db, parent, u["bob"])
    linked = _doc(db, parent, "linked")
    hidden = _doc(db, parent, "hidden")
    no_link = _doc(db, parent, "no_link")
    for doc, vals in (
        (linked, {"access_via_link": "view"}),
        (hidden, {"access_via_link": "view", "is_access_via_link_hidden": True}),
        (no_link, {"access_via_link": "none"}),
    ):
        old = env.value("documents.document", db.table("documents.document")[doc], "access_ids")
        env.write("documents.document", [doc], {**vals, "access_ids": [(2, a) for a in old]})
    c.expect[f"d{linked}"] = {"bob"}
    c.expect[f"d{hidden}"] = set()
    c.expect[f"d{no_link}"] = set()
    # one level only: carol reads the grandparent; the sub-folder and the document are shared by link
    top = b.add_folder(db, "Carol's top", internal="none")
    _share(db, top, u["carol"])
    sub = b.add_folder(db, "Sub", parent=top, internal="none")
    env.write("documents.document", [sub], {"access_via_link": "view", "access_ids": [(5, 0, 0)]})
    deep = _doc(db, sub, "deep")
    env.write("documents.document", [deep], {"access_via_link": "view"})
    c.expect[f"d{deep}"] = set()
    # owners, roles, expiry, a portal member
    private = b.add_folder(db, "Private", internal="none")
    c.expect[f"d{_doc(db, private, 'dave_owns', u['dave'])}"] = {"dave"}
    portal = _doc(db, private, "portal_view")
    _share(db, portal, u["paula"])
    c.expect[f"d{portal}"] = {"paula"}
    roleless = _doc(db, private, "roleless_link_view")
    env.write("documents.document", [roleless], {"access_via_link": "view", "access_ids": [
        (0, 0, {"partner_id": _pid(db, u["bob"]), "role": False})]})  # fmt: skip
    c.expect[f"d{roleless}"] = {"bob"}
    roleless_none = _doc(db, private, "roleless_no_link")
    env.write("documents.document", [roleless_none], {"access_ids": [
        (0, 0, {"partner_id": _pid(db, u["bob"]), "role": False})]})  # fmt: skip
    c.expect[f"d{roleless_none}"] = set()
    expired = _doc(db, private, "expired")
    env.write("documents.document", [expired], {"access_ids": [
        (0, 0, {"partner_id": _pid(db, u["alice"]), "role": "view", "expiration_date": "2020-01-01 00:00:00"}),
        (0, 0, {"partner_id": _pid(db, u["carol"]), "role": "view", "expiration_date": "2999-01-01 00:00:00"}),
    ]})  # fmt: skip
    c.expect[f"d{expired}"] = {"carol"}
    # a Documents manager sees what an employee sees (only group_documents_system sees everything)
    c.expect[f"d{_doc(db, private, 'nobody')}"] = set()


def _knowledge(c: Corpus) -> None:
    db, u = c.db, c.users
    env = db.env(SUPERUSER_ID)
    staff = STAFF
    p = {login: _pid(db, uid) for login, uid in u.items()}
    k1 = b.add_article(db, "Open", "<p>x</p>", internal="read")
    k2 = b.add_article(db, "Not for bob", "<p>x</p>", internal="read", members=[(p["bob"], "none")])
    k2a = b.add_article(db, "Not for bob either", "<p>x</p>", internal=False, parent=k2)  # type: ignore[arg-type]
    k3 = b.add_article(db, "Alice's", "<p>x</p>", internal="none", members=[(p["alice"], "write")])
    k3a = b.add_article(db, "Alice's child", "<p>x</p>", internal=False, parent=k3)  # type: ignore[arg-type]
    k3b = b.add_article(db, "Published child", "<p>x</p>", internal="read", parent=k3)
    env.write("knowledge.article", [k3b], {"is_desynchronized": True})
    k4 = b.add_article(db, "With a portal reader", "<p>x</p>", internal="write", members=[(p["paula"], "read")])
    k5 = b.add_article(db, "Carol none", "<p>x</p>", internal="read", members=[(p["carol"], "none")])
    k5a = b.add_article(db, "Carol again", "<p>x</p>", internal=False, parent=k5, members=[(p["carol"], "read")])  # type: ignore[arg-type]
    c.expect |= {
        f"k{k1}": staff,
        f"k{k2}": staff - {"bob"},
        f"k{k2a}": staff - {"bob"},
        f"k{k3}": {"alice"},
        f"k{k3a}": {"alice"},
        f"k{k3b}": staff,
        f"k{k4}": staff | {"paula"},
        f"k{k5}": staff - {"carol"},
        f"k{k5a}": staff,
    }


def follow(db: Database, model: str, rid: int, *logins_uids: int) -> None:
    pids = [_pid(db, uid) for uid in logins_uids]
    db.env(SUPERUSER_ID).write(model, [rid], {"message_partner_ids": [(4, p) for p in pids]})


def _maintenance(c: Corpus) -> None:
    db, u = c.db, c.users
    managers = {"mona"}  # and admin, an Equipment Manager in Odoo's data
    # followed by dave, who owns one request and repairs the other
    a = b.add_equipment(db, "Pump A")
    follow(db, "maintenance.equipment", a, u["dave"])
    b.add_maintenance(db, a, "A1", owner_user_id=u["dave"])
    b.add_maintenance(db, a, "A2", user_id=u["dave"])
    c.expect[f"m{a}"] = managers | {"dave"}
    # dave and bob follow it; bob owns one request but does not see the one only dave follows
    bb = b.add_equipment(db, "Pump B")
    follow(db, "maintenance.equipment", bb, u["dave"], u["bob"])
    b.add_maintenance(db, bb, "B1", owner_user_id=u["bob"])
    r = b.add_maintenance(db, bb, "B2")
    follow(db, "maintenance.request", r, u["dave"])
    c.expect[f"m{bb}"] = managers  # dave cannot read B1 (bob's), bob cannot read B2 (followed by dave)
    # the owner follows the equipment (Odoo's create subscribes him); his request names him technician
    cc = b.add_equipment(db, "Monitor C", owner_user_id=u["bob"])
    b.add_maintenance(db, cc, "C1", user_id=u["bob"])
    c.expect[f"m{cc}"] = managers | {"bob"}
    # alice owns the request but does not follow the equipment
    d = b.add_equipment(db, "Monitor D")
    b.add_maintenance(db, d, "D1", owner_user_id=u["alice"])
    c.expect[f"m{d}"] = managers
    # a portal follower and owner: portal users have no maintenance rights at all
    e = b.add_equipment(db, "Printer E")
    follow(db, "maintenance.equipment", e, u["paula"], u["carol"])
    r = b.add_maintenance(db, e, "E1", owner_user_id=u["paula"])
    follow(db, "maintenance.request", r, u["carol"])
    c.expect[f"m{e}"] = managers | {"carol"}
    # a later owner is subscribed by the write
    f = b.add_equipment(db, "Scanner F")
    r = b.add_maintenance(db, f, "F1")
    db.env(SUPERUSER_ID).write("maintenance.equipment", [f], {"owner_user_id": u["erin"]})
    db.env(SUPERUSER_ID).write("maintenance.request", [r], {"user_id": u["erin"]})
    c.expect[f"m{f}"] = managers | {"erin"}


@dataclass
class Served:
    corpus: Corpus
    client: OdooClient
    refs: dict[str, frozenset[str]]


@pytest.fixture(scope="module", params=VERSIONS)
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    corpus = build(request.param)
    with OdooDouble(corpus.db) as double:
        cfg = OdooConfig(url=double.url, db=corpus.db.name, login="admin", api_key="key-admin",
                         transport="json2" if corpus.db.major >= 19 else "jsonrpc")  # type: ignore[arg-type]
        client = OdooClient(cfg).connect()
        refs = {
            r.doc_id: frozenset(r.acl_groups)
            for r in OdooSource(client, readers=("documents", "knowledge", "maintenance")).list_documents()
        }
        yield Served(corpus, client, refs)


def _key(doc_id: str) -> str:
    _, kind, rid = doc_id.split(":")
    return f"{kind[0]}{rid}"  # d(ocuments), k(nowledge), m(aintenance)


def maintenance_logs(db: Database, uid: int) -> set[str]:
    """The logs Odoo lets ``uid`` open: the equipment and every request on it (the requests the sync lists)."""
    env = db.env(uid)
    if not env.check_access("maintenance.equipment", "read", raise_exception=False):
        return set()
    su = db.env(SUPERUSER_ID)
    visible = set(env.search("maintenance.request", []))
    out = set()
    for eid in env.search("maintenance.equipment", []):
        reqs = set(su.search("maintenance.request", [("equipment_id", "=", eid)]))
        if reqs and reqs <= visible:
            out.add(f"m{eid}")
    return out


def matrix(s: Served, login: str) -> tuple[set[str], set[str], set[str]]:
    """(what Odoo lets the user open, over-granted by Copilot, under-granted by Copilot)."""
    db, uid = s.corpus.db, s.corpus.users.get(login, 2)
    env = db.env(uid)
    odoo: set[str] = set()
    if env.check_access("documents.document", "read", raise_exception=False):
        odoo |= {f"d{i}" for i in env.search("documents.document", [("type", "=", "binary")])}
    odoo |= {f"k{i}" for i in env.search("knowledge.article", [])}
    odoo |= maintenance_logs(db, uid)
    groups = set(resolve_user_groups(s.client, uid))
    copilot = {_key(d) for d, acl in s.refs.items() if acl & groups}
    return odoo, copilot - odoo, odoo - copilot


@pytest.mark.parametrize("login", [*USERS, "admin"])
def test_copilot_grants_exactly_what_odoo_grants(served: Served, login: str) -> None:
    odoo, over, under = matrix(served, login)
    assert (over, under) == (set(), set()), f"{served.corpus.db.version} {login}"
    if login != "admin":  # and Odoo grants what its rule definitions say (the corpus' expectations)
        assert odoo == {k for k, who in served.corpus.expect.items() if login in who}


def test_the_sync_account_lists_every_record(served: Served) -> None:
    assert {_key(d) for d in served.refs} == set(served.corpus.expect)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_follower_added_after_a_sync_sees_the_log_after_the_next_sync(version: str) -> None:
    db = Database(version=version)
    dave = db.add_user("dave", "dave-pw", groups=["base.group_user"])
    db.add_api_key(2, "key-admin")
    eid = b.add_equipment(db, "Pump")
    rid = b.add_maintenance(db, eid, "Alarm")
    db.commit()
    with OdooDouble(db) as double:
        cfg = OdooConfig(url=double.url, db=db.name, login="admin", api_key="key-admin",
                         transport="json2" if db.major >= 19 else "jsonrpc")  # type: ignore[arg-type]
        client = OdooClient(cfg).connect()
        groups = set(resolve_user_groups(client, dave))

        def log_acl() -> set[str]:
            (ref,) = OdooSource(client, readers=("maintenance",)).list_documents()
            return set(ref.acl_groups)

        assert not log_acl() & groups and not db.env(dave).search("maintenance.equipment", [])
        follow(db, "maintenance.equipment", eid, dave)
        assert not log_acl() & groups  # he reads the equipment, not its request
        follow(db, "maintenance.request", rid, dave)
        assert log_acl() & groups and maintenance_logs(db, dave) == {f"m{eid}"}

"""The double's ORM: domain semantics, read shapes, read_group, access rights and record rules (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from copilot.odoo_double import SUPERUSER_ID, Database
from copilot.odoo_double import builders as b
from copilot.odoo_double.errors import (
    AccessError,
    MissingError,
    OdooServerError,
    ServerValueError,
    UserError,
    ValidationError,
)
from copilot.odoo_double.sample import seed_sample

pytestmark = pytest.mark.unit


def _requests_db(version: str) -> Database:
    """Five maintenance requests on two pieces of equipment, one with an unset description and duration."""
    db = Database(version=version)
    pump = b.add_equipment(db, "Pump A", serial_no="P-1", model="North")  # `model`: both versions have it
    xray = b.add_equipment(db, "X-ray B", serial_no="X-1", model="South")
    b.add_maintenance(
        db,
        pump,
        "PM pump",
        maintenance_type="preventive",
        duration=1.5,
        request_date="2026-01-05",
        description="<p>ok</p>",
    )
    b.add_maintenance(
        db,
        pump,
        "Alarm pump",
        maintenance_type="corrective",
        duration=3.0,
        request_date="2026-01-20",
        description="",
    )
    b.add_maintenance(
        db, xray, "PM x-ray", maintenance_type="preventive", duration=0.0, request_date="2026-02-01"
    )
    b.add_maintenance(
        db,
        xray,
        "Tube x-ray",
        maintenance_type="corrective",
        request_date="2026-03-15",
        description="<p>tube</p>",
    )
    b.add_maintenance(
        db, pump, "pm_pump_2", maintenance_type="preventive", duration=2.0, request_date="2026-03-20"
    )
    return db


def _names(db: Database, domain: list[Any], model: str = "maintenance.request") -> list[str]:
    env = db.env(SUPERUSER_ID)
    return sorted(r["name"] for r in env.search_read(model, domain, ["name"]))


ALL = ["Alarm pump", "PM pump", "PM x-ray", "Tube x-ray", "pm_pump_2"]

DOMAIN_CASES = [
    ([], ALL),
    ([("name", "=", "PM pump")], ["PM pump"]),
    ([("name", "!=", "PM pump")], ["Alarm pump", "PM x-ray", "Tube x-ray", "pm_pump_2"]),
    ([("name", "like", "pump")], ["Alarm pump", "PM pump", "pm_pump_2"]),
    ([("name", "like", "PM")], ["PM pump", "PM x-ray"]),
    ([("name", "ilike", "PUMP")], ["Alarm pump", "PM pump", "pm_pump_2"]),
    ([("name", "not ilike", "pump")], ["PM x-ray", "Tube x-ray"]),
    ([("name", "=like", "PM%")], ["PM pump", "PM x-ray"]),
    ([("name", "=ilike", "pm%")], ["PM pump", "PM x-ray", "pm_pump_2"]),
    ([("name", "=like", "pm_pump_2")], ["pm_pump_2"]),
    ([("name", "like", "")], ALL),
    ([("duration", ">", 1.5)], ["Alarm pump", "pm_pump_2"]),
    ([("duration", ">=", 1.5)], ["Alarm pump", "PM pump", "pm_pump_2"]),
    ([("duration", "<", 1.5)], ["PM x-ray"]),  # NULL never compares
    ([("duration", "<=", 0)], ["PM x-ray"]),
    ([("request_date", ">=", "2026-02-01"), ("request_date", "<", "2026-03-16")], ["PM x-ray", "Tube x-ray"]),
    ([("maintenance_type", "in", ["corrective"])], ["Alarm pump", "Tube x-ray"]),
    ([("maintenance_type", "not in", ["corrective"])], ["PM pump", "PM x-ray", "pm_pump_2"]),
    ([("name", "in", [])], []),
    ([("name", "not in", [])], ALL),
    ([("description", "=", False)], ["PM x-ray", "pm_pump_2"]),  # NULL; '' is a value before 19
    ([("description", "!=", False)], ["Alarm pump", "PM pump", "Tube x-ray"]),
    ([("description", "in", [False, "<p>ok</p>"])], ["PM pump", "PM x-ray", "pm_pump_2"]),
    ([("description", "not like", "tube")], ["Alarm pump", "PM pump", "PM x-ray", "pm_pump_2"]),  # NULL too
    ([("duration", "=?", False)], ALL),
    ([("duration", "=?", 3.0)], ["Alarm pump"]),
    (["|", ("name", "=", "PM pump"), ("name", "=", "PM x-ray")], ["PM pump", "PM x-ray"]),
    (["!", ("maintenance_type", "=", "preventive")], ["Alarm pump", "Tube x-ray"]),
    (
        [
            "&",
            ("maintenance_type", "=", "preventive"),
            "|",
            ("duration", ">", 1.9),
            ("name", "like", "x-ray"),
        ],
        ["PM x-ray", "pm_pump_2"],
    ),
    ([("equipment_id.model", "=", "South")], ["PM x-ray", "Tube x-ray"]),
    ([("equipment_id.serial_no", "ilike", "p-")], ["Alarm pump", "PM pump", "pm_pump_2"]),
    ([("equipment_id", "=", "X-ray B")], ["PM x-ray", "Tube x-ray"]),  # a name on a many2one searches by name
    ([("equipment_id", "child_of", [2])], ["PM x-ray", "Tube x-ray"]),
    ([("equipment_id", "any", [("name", "ilike", "pump")])], ["Alarm pump", "PM pump", "pm_pump_2"]),
    ([(1, "=", 1)], ALL),
]


@pytest.mark.parametrize(("domain", "expected"), DOMAIN_CASES)
def test_domain_semantics_17(domain: list[Any], expected: list[str]) -> None:
    assert _names(_requests_db("17.0"), domain) == expected


FALSY_19 = [
    # 19 treats '' as falsy on char/text/html and 0 as falsy on numbers (ODOO.md §4)
    ([("description", "=", False)], ["Alarm pump", "PM x-ray", "pm_pump_2"]),
    ([("duration", "=", False)], ["PM x-ray", "Tube x-ray"]),
]


@pytest.mark.parametrize(("domain", "expected"), FALSY_19)
def test_falsy_values_differ_in_19(domain: list[Any], expected: list[str]) -> None:
    assert _names(_requests_db("19.0"), domain) == expected
    assert _names(_requests_db("17.0"), domain) != expected


def test_child_of_walks_the_parent_field() -> None:
    db = Database(version="17.0")
    top = b.add_folder(db, "Top")
    mid = b.add_folder(db, "Mid", parent=top)
    b.add_folder(db, "Leaf", parent=mid)
    b.add_folder(db, "Other")
    assert _names(db, [("id", "child_of", top)], "documents.folder") == ["Leaf", "Mid", "Top"]
    assert _names(db, [("id", "parent_of", mid)], "documents.folder") == ["Mid", "Top"]


def test_invalid_domain_and_field_are_rejected() -> None:
    db = _requests_db("17.0")
    # a malformed domain is a plain ValueError in Odoo (recorded: g3.err.bad_operator, missing_operand)
    with pytest.raises(ServerValueError):
        _names(db, [("name", "~", "x")])
    with pytest.raises(ServerValueError):
        _names(db, ["|", ("name", "=", "x")])
    with pytest.raises(Exception, match="Invalid field"):
        _names(db, [("nope", "=", 1)])


def test_archived_records_are_hidden_unless_asked() -> None:
    db = _requests_db("17.0")
    env = db.env(SUPERUSER_ID)
    env.write("maintenance.equipment", [1], {"active": False})
    assert _names(db, [], "maintenance.equipment") == ["X-ray B"]
    assert _names(db, [("active", "in", [True, False])], "maintenance.equipment") == ["Pump A", "X-ray B"]
    ctx = db.env(SUPERUSER_ID, {"active_test": False})
    assert len(ctx.search("maintenance.equipment", [])) == 2


def test_read_shapes_many2one_load_and_falsy_values() -> None:
    db = _requests_db("17.0")
    env = db.env(SUPERUSER_ID)
    row = env.read("maintenance.request", [3], ["equipment_id", "description", "duration", "close_date"])[0]
    assert row == {
        "id": 3,
        "equipment_id": [2, "X-ray B"],
        "description": False,
        "duration": 0.0,
        "close_date": False,
    }
    bare = env.read("maintenance.request", [3], ["equipment_id"], load="_classic_write")[0]
    assert bare["equipment_id"] == 2
    # a one2many lists its ids in the comodel's `_order` (requests: newest first; recorded: 19 g4.read.m2o_classic)
    assert env.read("maintenance.equipment", [1], ["maintenance_ids"])[0]["maintenance_ids"] == [5, 2, 1]
    assert [r["id"] for r in env.read("maintenance.request", [1, 999])] == [1]  # missing ids are dropped


def test_search_order_limit_offset() -> None:
    env = _requests_db("17.0").env(SUPERUSER_ID)
    rows = env.search_read("maintenance.request", [], ["name"], order="request_date desc", limit=2, offset=1)
    assert [r["name"] for r in rows] == ["Tube x-ray", "PM x-ray"]
    rows = env.search_read("maintenance.request", [], ["name"], order="equipment_id desc, name")
    assert [r["name"] for r in rows][:2] == ["PM x-ray", "Tube x-ray"]
    assert env.search_count("maintenance.request", [("maintenance_type", "=", "preventive")]) == 3


def test_read_group_lazy_counts_domains_and_date_ranges() -> None:
    env = _requests_db("17.0").env(SUPERUSER_ID)
    rows = env.read_group("maintenance.request", [], ["duration:sum"], ["equipment_id", "maintenance_type"])
    assert [(r["equipment_id"], r["equipment_id_count"], r["duration"]) for r in rows] == [
        ([1, "Pump A"], 3, 6.5),
        ([2, "X-ray B"], 2, 0.0),
    ]
    assert rows[0]["__domain"] == [["equipment_id", "=", 1]]
    assert rows[0]["__context"] == {"group_by": ["maintenance_type"]}
    months = env.read_group("maintenance.request", [], ["duration"], ["request_date:month"])
    assert [(r["request_date:month"], r["request_date_count"]) for r in months] == [
        ("January 2026", 2),
        ("February 2026", 1),
        ("March 2026", 2),
    ]
    assert months[0]["__range"] == {"request_date:month": {"from": "2026-01-01", "to": "2026-02-01"}}
    flat = env.read_group("maintenance.request", [], ["duration:max"], ["maintenance_type"], lazy=False)
    assert {r["maintenance_type"]: (r["__count"], r["duration"]) for r in flat} == {
        "corrective": (2, 3.0),
        "preventive": (3, 2.0),
    }


@pytest.mark.parametrize(
    ("version", "week", "domain"),
    [
        # 19 flattens the conjunction, 17 nests the date condition (recorded: g5.read_group.mreq.schedule_day)
        ("19.0", "W4 2026", ["&", "&", ["duration", ">", 0], ["request_date", ">=", "2026-01-18"],
                             ["request_date", "<", "2026-01-25"]]),
        ("17.0", "W4 2026", ["&", ["duration", ">", 0], "&", ["request_date", ">=", "2026-01-18"],
                             ["request_date", "<", "2026-01-25"]]),
    ],
)
def test_read_group_weeks_domains_and_null_sums_as_recorded(version: str, week: str, domain: list[Any]) -> None:
    """en_US weeks start on Sunday with the US week number ("W42 2026" from 2026-10-11, recorded:
    g5.read_group.mreq.request_week); a sum over only NULLs is false; an unknown granularity is a ValueError."""
    env = _requests_db(version).env(SUPERUSER_ID)
    rows = env.read_group("maintenance.request", [["duration", ">", 0]], [], ["request_date:week"], lazy=False)
    alarm = next(r for r in rows if r["__range"]["request_date:week"]["from"] == "2026-01-18")
    assert (alarm["request_date:week"], alarm["__count"], alarm["__domain"]) == (week, 1, domain)
    tube = env.read_group("maintenance.request", [("name", "=", "Tube x-ray")], ["duration:sum"], [], lazy=False)
    assert tube[0]["duration"] is False
    with pytest.raises(ServerValueError, match="Granularity specification"):
        env.read_group("maintenance.request", [], [], ["request_date:fortnight"])


@pytest.mark.parametrize(
    ("version", "groups_field", "agg_key", "folder_model"),
    [("17.0", "groups_id", "group_operator", "documents.folder"), ("19.0", "group_ids", "aggregator", None)],
)
def test_fields_get_follows_the_version(
    version: str, groups_field: str, agg_key: str, folder_model: str | None
) -> None:
    db = Database(version=version)
    env = db.env(2)
    users = env.fields_get("res.users", attributes=["type", "relation"])
    assert users[groups_field] == {"type": "many2many", "relation": "res.groups"}
    # listed and readable, but empty (recorded: both versions' fields_get, 19 g6.jsonrpc.access_field_groups)
    assert users["password"] == {"type": "char"}
    assert env.read("res.users", [2], ["password"]) == [{"id": 2, "password": ""}]
    assert agg_key in env.fields_get("maintenance.request")["duration"]
    docs = env.fields_get("documents.document")
    assert docs["folder_id"]["relation"] == (folder_model or "documents.document")
    assert ("access_internal" in docs) == (folder_model is None)


@pytest.mark.parametrize("version", ["17.0", "19.0"])
def test_fields_get_without_attributes_describes_like_odoo(version: str) -> None:
    """Every description attribute whose value is not None (``Field.get_description``; recorded: 17/19
    ``g2.fields_get.odoorpc_style``): no empty ``help``/``groups``, ``context``/``domain`` only on relations
    (and 19's ``allow_hierachy_operators``), ``trim``/``translate`` on chars, no aggregate on ``id``."""
    env = Database(version=version).env(2)
    desc = env.fields_get("maintenance.stage")
    assert desc["name"]["trim"] is True and desc["name"]["translate"] is False
    assert {"help", "groups", "context", "domain"}.isdisjoint(desc["name"])
    assert desc["display_name"]["depends"] == ["name"]
    assert desc["display_name"]["searchable"] is (version == "19.0")
    assert "aggregator" not in desc["id"] and "group_operator" not in desc["id"]
    assert (desc["create_uid"]["context"], desc["create_uid"]["domain"]) == ({}, [])
    assert ("allow_hierachy_operators" in desc["create_uid"]) is (version == "19.0")
    assert {"exportable", "manual", "depends", "change_default", "company_dependent"} <= set(desc["sequence"])


@pytest.mark.parametrize("version", ["17.0", "19.0"])
def test_record_rules_hide_restricted_folders(version: str) -> None:
    db = Database(version=version)
    s = seed_sample(db)
    bob = db.env(s.users["bob"])
    alice = db.env(s.users["alice"])
    contract = s.documents["supply"]
    assert contract in alice.search("documents.document", [])
    assert contract not in bob.search("documents.document", [])
    with pytest.raises(AccessError):
        bob.read("documents.document", [contract], ["name"])
    with pytest.raises(AccessError):
        bob.write("documents.document", [contract], {"name": "x"})
    with pytest.raises(MissingError):
        alice.write("documents.document", [9999], {"name": "x"})
    b.set_folder_access(db, s.folders["contracts"], read_groups=["hospital.group_clinical"])
    assert contract in bob.search("documents.document", [])
    assert contract not in alice.search("documents.document", [])


def test_model_access_is_per_group() -> None:
    """17's Documents rights go to every employee (``base.group_user`` reads documents.document; the record rules
    do the rest), not only to Documents users; a portal user has no right on the model at all."""
    db = Database(version="17.0")
    s = seed_sample(db)
    portal = db.add_user("paula", "paula-pw", groups=["base.group_portal"])
    with pytest.raises(AccessError, match=r"\(documents.document\)"):
        db.env(portal).search("documents.document", [])
    plain = db.add_user("dave", "dave-pw", groups=["base.group_user"])
    assert set(db.env(plain).search("documents.document", [])) == {s.documents["pm"], s.documents["hand"]}
    assert db.env(s.users["bob"]).check_access("ir.rule", "read", raise_exception=False) is False


@pytest.mark.parametrize("version", ["17.0", "19.0"])
def test_fields_get_needs_no_read_right(version: str) -> None:
    """Any user describes any model: a plain employee who may not read ``ir.model.data`` and a portal user who
    may not read maintenance requests still get their fields (recorded: odoorpc's ``fields_get`` of
    ir.model.data as demo, 17/19 ``g10.odoorpc.16``/``.18``; 17 ``g2.fields_get.demo.purchase.order`` without a
    purchase right)."""
    db = Database(version=version)
    plain = db.env(db.add_user("dave", "dave-pw", groups=["base.group_user"]))
    portal = db.env(db.add_user("paula", "paula-pw", groups=["base.group_portal"]))
    with pytest.raises(AccessError):
        plain.search("ir.model.data", [])
    assert plain.fields_get("ir.model.data", attributes=["type"])["module"] == {"type": "char"}
    with pytest.raises(AccessError):
        portal.search("maintenance.request", [])
    assert "name" in portal.fields_get("maintenance.request", attributes=["type"])


def test_user_create_makes_its_partner_and_a_taken_login_uses_up_both_ids() -> None:
    """``res.users`` inherits ``res.partner``: the partner is created first, so a create refused by the unique
    login still used a partner id and a user id (recorded on 19: two ``g6.*.unique_login``, then
    ``g8.demo_create_partner`` gets 48, not 46)."""
    env = Database(version="19.0").env(2)
    before = env.create("res.partner", {"name": "before"})
    with pytest.raises(ValidationError, match="two users with the same login"):
        env.create("res.users", {"name": "Dup", "login": "admin"})
    nina = env.create("res.users", {"name": "Nina", "login": "nina"})
    partner = env.read("res.users", [nina], ["partner_id"], load=None)[0]["partner_id"]
    assert partner == before + 2
    assert env.read("res.partner", [partner], ["name"])[0]["name"] == "Nina"
    assert env.search("res.users", [("login", "=", "admin")]) == [2]


@pytest.mark.parametrize("version", ["17.0", "19.0"])
def test_a_string_for_a_many2one(version: str) -> None:
    """19 browses the string (``Expected singleton: maintenance.stage('a', 'b', 'c')``, a ValueError); 17's
    ``Many2one.convert_to_cache`` makes it None, so the write succeeds and empties the field (recorded:
    ``g6.jsonrpc.wrong_type_m2o`` on both; 17's later ``g10.odoorpc.18`` groups that request under no stage)."""
    db = _requests_db(version)
    env = db.env(SUPERUSER_ID)
    rid = env.search("maintenance.request", [("equipment_id", "!=", False)], limit=1)[0]
    if version == "19.0":
        with pytest.raises(ServerValueError, match=r"Expected singleton: maintenance.equipment\('a', 'b', 'c'\)"):
            env.write("maintenance.request", [rid], {"equipment_id": "abc"})
    else:
        assert env.write("maintenance.request", [rid], {"equipment_id": "abc"}) is True
        assert env.read("maintenance.request", [rid], ["equipment_id"])[0]["equipment_id"] is False


def test_create_checks_required_fields_and_selection() -> None:
    env = Database(version="17.0").env(2)
    with pytest.raises(ValidationError, match="mandatory"):
        env.create("maintenance.request", {"description": "x"})
    with pytest.raises(ServerValueError, match="Wrong value"):  # ValueError in Odoo (g6.jsonrpc.wrong_type_selection)
        env.create("maintenance.request", {"name": "x", "maintenance_type": "nonsense"})
    ids = env.create("maintenance.request", [{"name": "a"}, {"name": "b"}])
    assert isinstance(ids, list)
    assert len(ids) == 2


def test_database_persists_to_sqlite(tmp_path: Any) -> None:
    path = str(tmp_path / "odoo.sqlite")
    db = Database(version="19.0", path=path)
    seed_sample(db)
    again = Database(version="19.0", path=path)
    assert len(again.env(2).search("documents.document", [("type", "=", "binary")])) == 4
    assert again.authenticate("alice", "key-alice") is not None


def test_formatted_read_group_19_shapes() -> None:
    """19's grouping API as recorded (g5.formatted_read_group.*); 17 does not serve it."""
    db = _requests_db("19.0")
    env = db.env(SUPERUSER_ID)
    rows = env.formatted_read_group("maintenance.request", [], ["maintenance_type"], ["__count", "duration:sum"])
    assert rows == [
        {"maintenance_type": "corrective", "__extra_domain": [["maintenance_type", "=", "corrective"]],
         "__count": 2, "duration:sum": 3.0},
        {"maintenance_type": "preventive", "__extra_domain": [["maintenance_type", "=", "preventive"]],
         "__count": 3, "duration:sum": 3.5},
    ]
    months = env.formatted_read_group("maintenance.request", [], ["request_date:month"], ["__count"], limit=1)
    assert months == [{"request_date:month": ["2026-01-01", "January 2026"], "__count": 2,
                       "__extra_domain": ["&", ["request_date", ">=", "2026-01-01"],
                                          ["request_date", "<", "2026-02-01"]]}]
    assert env.formatted_read_group("maintenance.request", [], [], ["__count"]) == [
        {"__extra_domain": [[1, "=", 1]], "__count": 5}
    ]
    busy = env.formatted_read_group("maintenance.request", [], ["equipment_id"], ["__count"],
                                    having=[["__count", ">", 2]])
    assert [r["equipment_id"][1] for r in busy] == ["Pump A"]
    with pytest.raises(Exception, match="Aggregate method is mandatory"):
        env.formatted_read_group("maintenance.request", [], ["stage_id"], ["duration"])


@pytest.mark.parametrize(("version", "domain_key"), [("17.0", []), ("19.0", [[1, "=", 1]])])
def test_read_group_without_groupby_is_one_row(version: str, domain_key: list[Any]) -> None:
    """Lazy read_group with an empty groupby once crashed the double; Odoo answers one row over everything
    (recorded: g5.read_group.mreq.no_groupby in 17 and 19)."""
    env = _requests_db(version).env(SUPERUSER_ID)
    assert env.read_group("maintenance.request", [], ["duration:sum"], []) == [
        {"__count": 5, "duration": 6.5, "__domain": domain_key}
    ]


def test_a_parent_cannot_become_its_own_descendant() -> None:
    """``Recursion Detected.`` (UserError) when a hierarchy would loop (recorded: g6.*.recursion)."""
    db = Database(version="19.0")
    env = db.env(SUPERUSER_ID)
    top = env.create("res.partner", {"name": "Top"})
    child = env.create("res.partner", {"name": "Child", "parent_id": top})
    with pytest.raises(UserError, match="Recursion Detected"):
        env.write("res.partner", [top], {"parent_id": child})
    with pytest.raises(UserError, match="Recursion Detected"):
        env.write("res.partner", [top], {"parent_id": top})
    assert env.write("res.partner", [child], {"parent_id": False})


@pytest.mark.parametrize(
    ("version", "domain", "error"),
    [  # recorded: 17 g3.edge.upper_operator, g3.edge.in_scalar, g6.jsonrpc.ids_on_model_method, g3.err.domain_not_list
        ("17.0", [("name", "ILIKE", "pump")], "builtins.ValueError"),
        ("17.0", [("id", "in", 1)], "builtins.ValueError"),
        ("17.0", [9], "builtins.TypeError"),
        ("17.0", "name = x", "builtins.AssertionError"),
        ("19.0", "name = x", "builtins.TypeError"),
        ("19.0", [("name", "ILIKE", "pump")], None),  # 19 accepts both
        ("19.0", [("id", "in", 1)], None),
    ],
)
def test_caller_domains_are_checked_per_version(version: str, domain: Any, error: str | None) -> None:
    env = _requests_db(version).env(SUPERUSER_ID)
    if error is None:
        env.search("maintenance.request", domain)
        return
    with pytest.raises(OdooServerError) as exc:
        env.search("maintenance.request", domain)
    assert exc.value.name == error

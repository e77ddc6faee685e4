"""Replay of real-Odoo recordings against the double: the comparison rules and a ratchet on the pass count."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.odoo_double.replay import compare, run

pytestmark = pytest.mark.unit


def _ex(body: object, status: int = 200, transport: str = "jsonrpc") -> dict:
    return {"transport": transport, "response": {"status": status, "body": body}}


def test_placeholders_match_anything_and_refs_compare_field_names() -> None:
    fields = {"res.partner": {"name": {}, "email": {}}}
    rec = _ex({"jsonrpc": "2.0", "id": 1, "result": [{"id": 3, "write_date": "<DATETIME>",
                                                       "f": {"$ref": "fields_get.json", "key": "res.partner"}}]})
    ok = {"jsonrpc": "2.0", "id": 1, "result": [{"id": 3, "write_date": "2026-12-05 10:00:00",
                                                 "f": {"name": {}, "email": {}}}]}
    assert compare(rec, 200, ok, fields) == ""
    bad = {"jsonrpc": "2.0", "id": 1, "result": [{"id": 4, "write_date": "x", "f": {"name": {}}}]}
    assert compare(rec, 200, bad, fields) == "result differs"


def test_errors_compare_code_and_name_and_status() -> None:
    rec = _ex({"jsonrpc": "2.0", "id": 1, "error": {"code": 0, "data": {"name": "odoo.exceptions.AccessError"}}})
    same = {"jsonrpc": "2.0", "id": 1, "error": {"code": 0, "data": {"name": "odoo.exceptions.AccessError"}}}
    assert compare(rec, 200, same, {}) == ""
    assert "code 200" in compare(rec, 200, {**same, "error": {**same["error"], "code": 200}}, {})
    assert compare(rec, 500, same, {}) == "status 500, recorded 200"
    json2 = _ex({"name": "builtins.ValueError", "message": "Invalid field"}, 500, "json2")
    assert compare(json2, 500, {"name": "builtins.ValueError", "message": "other words"}, {}) == ""


@pytest.mark.parametrize(("version", "floor"), [("odoo19", 797), ("odoo17", 414)])
def test_replay_never_passes_fewer_exchanges_than_measured(version: str, floor: int, odoo_recordings: Path) -> None:
    """A ratchet: the measured pass count of this change. Raise it as the double gets closer to Odoo."""
    folder = odoo_recordings / version
    report = run(folder)
    assert report["passed"] >= floor, report["top_reasons"]
    assert report["total"] == sum(g["total"] for g in report["groups"].values())


def test_replay_access_group_floor(odoo_recordings: Path) -> None:
    """``8_access`` (19 only): the demo and portal users' model rights and record rules, from the Community
    modules' security files (``odoo_double/community_security.py``). A ratchet like the one above."""
    report = run(odoo_recordings / "odoo19")
    assert report["groups"]["8_access"]["passed"] >= 199, report["top_reasons"]
    failed = {f["id"] for f in report["failures"]}
    # maintenance's record rules (community_security.MAINTENANCE_RULES): demo reads the equipment he follows and
    # the requests he owns or repairs, and may not write admin's
    assert not failed & {"g8.search_read.demo.maintenance.equipment", "g8.search_read.demo.maintenance.request",
                         "g8.demo_write_other_request"}


def test_model_code_the_recordings_show(odoo_recordings: Path) -> None:
    """What Odoo's model code adds around create/write/unlink (business.py), on the recorded 19 models: the
    purchase sequence is taken even by a refused create, a confirmed order cannot be deleted, a maintenance
    request gets today's date, its creator and the equipment's technician (recorded: g9.po.*, g9.mreq.*)."""
    from copilot.odoo_double import business
    from copilot.odoo_double.errors import UserError, ValidationError
    from copilot.odoo_double.replay import load, seed

    db = seed(*load(odoo_recordings / "odoo19"))
    env = db.env(2)
    with pytest.raises(ValidationError, match="Vendor"):
        env.create("purchase.order", {"order_line": []})
    po = env.create("purchase.order", {"partner_id": 10, "order_line": [
        [0, 0, {"product_id": 27, "product_qty": 5, "price_unit": 120.5}]]})
    order = env.read("purchase.order", [po], ["name", "state", "amount_total"])[0]
    assert (order["name"], order["state"], order["amount_total"]) == ("P00014", "draft", 602.5)  # P00013 taken
    assert business.button_confirm(env, "purchase.order", [po]) is True
    with pytest.raises(UserError, match="cancel it first"):
        env.unlink("purchase.order", [po])
    rid = env.create("maintenance.request", {"name": "x", "equipment_id": 3})
    got = env.read("maintenance.request", [rid], ["request_date", "owner_user_id", "user_id"], load=None)[0]
    assert (got["request_date"], got["owner_user_id"], got["user_id"]) == ("2026-12-05", 2, 5)


def test_maintenance_rules_and_the_creator_as_owner(odoo_recordings: Path) -> None:
    """A non-manager creates a request: Odoo makes him its owner (``owner_user_id`` default) and a follower, so
    the employee rule lets him read it; another user's request stays hidden; the Equipment Manager (admin, as
    in Odoo's data) reads everything (recorded: g9.mreq.create.demo / read.demo, g8.demo_write_other_request)."""
    from copilot.odoo_double.errors import AccessError
    from copilot.odoo_double.replay import load, seed

    db = seed(*load(odoo_recordings / "odoo19"))
    demo = db.env(5)
    rid = demo.create("maintenance.request", {"name": "x", "equipment_id": 3})
    got = demo.read("maintenance.request", [rid], ["owner_user_id", "message_partner_ids"], load=None)[0]
    assert got["owner_user_id"] == 5 and db.table("res.users")[5]["partner_id"] in got["message_partner_ids"]
    assert 2 not in demo.search("maintenance.request", [])
    assert set(demo.search("maintenance.equipment", [])) == {3, 4, 7}
    with pytest.raises(AccessError):
        demo.write("maintenance.request", [2], {"kanban_state": "normal"})
    assert 2 in db.env(2).search("maintenance.request", [])


@pytest.mark.parametrize(("version", "portal", "partner"), [("odoo19", 6, 7), ("odoo17", 7, 8)])
def test_portal_reads_its_commercial_partner_only(
    version: str, portal: int, partner: int, odoo_recordings: Path
) -> None:
    """base's ``res_partner_portal_public_rule``: a portal user reads the partners under its commercial partner
    (``child_of``), here only its own (recorded: ``g6.*.portal_read_partner``, 19 ``g7.portal_partner``); under a
    company it reads the company and its contacts (O19 ``base/security/base_security.xml``)."""
    from copilot.odoo_double.replay import load, seed

    db = seed(*load(odoo_recordings / version))
    assert db.env(portal).search("res.partner", []) == [partner]
    company = db.env(2).create("res.partner", {"name": "Portal's employer", "is_company": True})
    colleague = db.env(2).create("res.partner", {"name": "Colleague", "parent_id": company})
    db.env(2).write("res.partner", [partner], {"parent_id": company})
    assert set(db.env(portal).search("res.partner", [])) == {company, colleague, partner}


def test_project_todo_lets_employees_manage_their_own_loose_tags(odoo_recordings: Path) -> None:
    """project_todo (installed with project) gives every employee full rights on tags, narrowed by its rule
    "Full access to own tags only": the tags they created and no project uses (recorded: 19
    ``g8.has_access.demo.project.tags.*`` all true, ``g9.task.create_tags_link`` creates one as demo;
    the rule from ``project_todo/security/project_todo_security.xml``)."""
    from copilot.odoo_double.errors import AccessError
    from copilot.odoo_double.replay import load, seed

    db = seed(*load(odoo_recordings / "odoo19"))
    demo = db.env(5)
    mine = demo.create("project.tags", {"name": "Biomed"})
    assert demo.write("project.tags", [mine], {"name": "Biomedical"}) is True
    with pytest.raises(AccessError):  # OdooBot's demo tag
        demo.write("project.tags", [1], {"name": "x"})
    db.env(2).write("project.project", [6], {"tag_ids": [[4, mine]]})
    assert db.env(2).read("project.tags", [mine], ["project_ids"]) == [{"id": mine, "project_ids": [6]}]
    with pytest.raises(AccessError):  # now a project's tag
        demo.write("project.tags", [mine], {"name": "y"})


def test_portal_reads_the_purchase_orders_of_its_commercial_partner(odoo_recordings: Path) -> None:
    """purchase gives portal users read access to orders (recorded: 19 ``g8.has_access.portal.purchase.order.read``)
    and its "Portal Purchase Orders" rule narrows it to the orders of their commercial partner
    (``purchase/security/purchase_security.xml``)."""
    from copilot.odoo_double.replay import load, seed

    db = seed(*load(odoo_recordings / "odoo19"))
    portal = db.env(6)
    assert portal.search("purchase.order", []) == []
    db.env(2).write("res.partner", [7], {"parent_id": 11})  # Joel Willis joins Ready Mat, a vendor
    ready_mat = db.env(2).search("purchase.order", [("partner_id", "=", 11)])
    assert ready_mat and sorted(portal.search("purchase.order", [])) == sorted(ready_mat)


def test_a_quant_is_named_by_its_location_and_lot(odoo_recordings: Path) -> None:
    """stock.quant's ``_compute_display_name``: the location's display name, then the lot (recorded: 19
    ``g8.search_read.demo.stock.quant`` reads "WH/Stock"; the " - " join from O19 ``stock_quant.py``)."""
    from copilot.odoo_double.replay import load, seed

    env = seed(*load(odoo_recordings / "odoo19")).env(2)
    assert env.read("stock.quant", [1], ["display_name"])[0]["display_name"] == "WH/Stock"
    assert env.read("stock.quant", [13], ["display_name"])[0]["display_name"] == "WH/Stock - 0000000000029"


@pytest.mark.parametrize(("version", "product", "on_hand"), [("odoo19", 8, 235.0), ("odoo17", 8, 60.0)])
def test_quantity_on_hand_sums_the_internal_quants(
    version: str, product: int, on_hand: float, odoo_recordings: Path
) -> None:
    """``qty_available`` without a location in the context: the product's quants in internal locations (recorded:
    ``g3.product.qty_available``; stock's ``_compute_quantities``), searchable like any computed value."""
    from copilot.odoo_double.replay import load, seed

    db = seed(*load(odoo_recordings / version))
    env = db.env(2)
    assert env.read("product.product", [product], ["qty_available"])[0]["qty_available"] == on_hand
    internal = env.search("stock.quant", [("product_id", "=", product), ("location_id.usage", "=", "internal")])
    elsewhere = env.search("stock.quant", [("product_id", "=", product), ("location_id.usage", "!=", "internal")])
    assert internal and product in env.search("product.product", [("qty_available", "=", on_hand)])
    quant = db.table("stock.quant")[internal[0]]
    quant["quantity"] = float(quant["quantity"]) + 1
    assert env.read("product.product", [product], ["qty_available"])[0]["qty_available"] == on_hand + 1
    for qid in elsewhere:  # supplier, inventory-loss and other locations do not count
        db.table("stock.quant")[qid]["quantity"] = 1000.0
    assert env.read("product.product", [product], ["qty_available"])[0]["qty_available"] == on_hand + 1


def test_17_company_dependent_numbers_read_false_as_zero(odoo_recordings: Path) -> None:
    """17 keeps ``standard_price`` (company-dependent) in ``ir.property``, which has no row for 0, so ``= False``
    is ``= 0`` there (recorded: 17 ``g3.product.cost_false`` and ``cost_zero`` find the same two chairs;
    ``ir_property.py`` ``search_multi``), while a plain float's 0 is not False on 17 (``g3.partner.rank_false``)."""
    from copilot.odoo_double.replay import load, seed

    env = seed(*load(odoo_recordings / "odoo17")).env(2)
    zero = env.search("product.product", [("standard_price", "=", 0)], order="id")
    assert zero == [23, 24] == env.search("product.product", [("standard_price", "=", False)], order="id")
    assert not set(zero) & set(env.search("product.product", [("standard_price", "!=", False)]))


def test_19_request_duration_follows_its_schedule(odoo_recordings: Path) -> None:
    """19 computes ``schedule_end`` (start + 1 h unless given) and ``duration`` from them, over a given duration
    (recorded: setup's request 7, created with duration 7 and a start only, reads 1.0; request 6, ending 2.5 h
    after its start, 2.5; ``g10.odoorpc.20``; O19 ``maintenance.py`` ``_compute_duration``)."""
    from copilot.odoo_double.replay import load, seed

    env = seed(*load(odoo_recordings / "odoo19")).env(2)
    fields = ["schedule_end", "duration"]
    rid = env.create("maintenance.request", {"name": "x", "schedule_date": "2026-12-12 08:00:00", "duration": 7.0})
    assert env.read("maintenance.request", [rid], fields)[0] == {
        "id": rid, "schedule_end": "2026-12-12 09:00:00", "duration": 1.0}
    env.write("maintenance.request", [rid], {"schedule_end": "2026-12-12 10:30:00"})
    assert env.read("maintenance.request", [rid], ["duration"])[0]["duration"] == 2.5
    env.write("maintenance.request", [rid], {"schedule_date": False})
    assert env.read("maintenance.request", [rid], fields)[0] == {"id": rid, "schedule_end": False, "duration": 0.0}


def test_partner_tags_have_their_color(odoo_recordings: Path) -> None:
    """``res.partner.category`` is outside the recorded ``fields_get``; its ``color`` comes from Odoo's source
    (``PartnerCategory.color``), so a tag's colour can be written and read back (recorded: 19 ``g7.write``)."""
    from copilot.odoo_double.replay import load, seed

    env = seed(*load(odoo_recordings / "odoo19")).env(2)
    tag = env.create("res.partner.category", {"name": "Biomed"})
    assert env.write("res.partner.category", [tag], {"color": 3}) is True
    assert env.read("res.partner.category", [tag], ["color"]) == [{"id": tag, "color": 3}]


@pytest.mark.parametrize(("version", "demo", "may_create"), [("odoo17", 6, True), ("odoo19", 5, False)])
def test_demo_holds_its_recorded_groups(version: str, demo: int, may_create: bool, odoo_recordings: Path) -> None:
    """On 17 the snapshot's ``groups_id`` is named through res.users' reified group fields of the recorded
    ``fields_get`` (``sel_groups_56_57`` "Purchase": 56 "User"): 17's demo is a Purchase user and creates orders,
    19's is not (recorded: ``g6.jsonrpc.access_create_po`` on both)."""
    from copilot.odoo_double.errors import AccessError
    from copilot.odoo_double.replay import load, seed

    exchanges, fields = load(odoo_recordings / version)
    db = seed(exchanges, fields)
    env = db.env(demo)
    if may_create:
        assert env.create("purchase.order", {"partner_id": 11}) > 0
    else:
        with pytest.raises(AccessError):
            env.create("purchase.order", {"partner_id": 11})


def test_seeded_orders_get_the_currency_odoo_computed(odoo_recordings: Path) -> None:
    """The snapshot did not read ``purchase.order.currency_id``, a stored compute (the vendor's purchase currency,
    else the company's): seeded orders get their company's (recorded: 19 ``g4.read.monetary_o2m`` reads USD)."""
    from copilot.odoo_double.replay import load, seed

    env = seed(*load(odoo_recordings / "odoo19")).env(2)
    rows = env.search_read("purchase.order", [], ["company_id", "currency_id"], load=None)
    companies = {c["id"]: c["currency_id"] for c in env.search_read("res.company", [], ["currency_id"], load=None)}
    assert rows and all(r["currency_id"] == companies[r["company_id"]] for r in rows)


def test_fields_get_says_which_fields_are_searchable(odoo_recordings: Path) -> None:
    """A non-stored field without a search method is described ``searchable: false``, as the recorded 19
    ``fields_get`` shows (``message_attachment_count`` of maintenance.request)."""
    from copilot.odoo_double.replay import load, seed

    env = seed(*load(odoo_recordings / "odoo19")).env(2)
    desc = env.fields_get("maintenance.request", attributes=["searchable"])
    assert desc["message_attachment_count"] == {"searchable": False}
    assert desc["name"] == {"searchable": True}


def test_api_keys_the_recorder_made_and_base_rules(odoo_recordings: Path) -> None:
    """The six keys the recordings' README describes (ids in its keys file's order: demo's is 2,
    "recorder-demo"); base's rules let a user read only their own keys and Settings read all; an expired or
    ``other``-scoped key does not authenticate (O19 ``base_security.xml``, ``_check_credentials``)."""
    from copilot.odoo_double.replay import lend_recorded_key, load, seed

    db = seed(*load(odoo_recordings / "odoo19"))
    assert db.env(5).search_read("res.users.apikeys", [], ["name"]) == [{"id": 2, "name": "recorder-demo"}]
    assert len(db.env(2).search("res.users.apikeys", [])) == 6
    keys = {r["name"]: r["key"] for r in db.table("res.users.apikeys").values()}
    assert db.user_for_key(keys["recorder-admin_global"]) == 2
    assert db.user_for_key(keys["recorder-admin_expired"]) is None
    assert db.user_for_key(keys["recorder-admin_otherscope"]) is None
    lend_recorded_key(db, 5)
    assert db.user_for_key("<KEY>") == 5
    lend_recorded_key(db, 2)
    assert db.user_for_key("<KEY>") == 2



def test_the_key_an_exchange_note_names_is_the_one_lent(odoo_recordings: Path) -> None:
    """The recorder wrote every key as `<KEY>`; where an exchange's note names admin's expired, `other`-scoped
    or global key, that key is the one the placeholder stands for, and the double refuses the first two."""
    from copilot.odoo_double.replay import lend_recorded_key, load, recorded_key_name, seed

    db = seed(*load(odoo_recordings / "odoo19"))
    assert recorded_key_name({"note": "Expired API key (expiration_date in the past)."}) == "admin_expired"
    assert recorded_key_name({"note": "Key with scope 'other' (not rpc)."}) == "admin_otherscope"
    assert recorded_key_name({"note": "Key with scope NULL (global) works too."}) == "admin_global"
    assert recorded_key_name({"note": "API key (scope rpc) used as password for common.login."}) is None
    for name, uid in (("admin_expired", None), ("admin_otherscope", None), ("admin_global", 2), (None, 2)):
        lend_recorded_key(db, 2, name)
        assert db.user_for_key("<KEY>") == uid, name
        assert sum(1 for r in db.table("res.users.apikeys").values() if r["key"] == "<KEY>") == 1


@pytest.mark.parametrize("version", ["odoo19", "odoo17"])
def test_groups_carry_the_recorded_ids(version: str, odoo_recordings: Path) -> None:
    """The double's groups are renumbered to the recorded server's ids (19: admin's ``get_external_id`` answer
    and ``base_groups.xml``'s order; 17: res.users' reified group fields) and every reference follows: a portal
    user still holds the portal group and reads no employee-only model, demo keeps his project rights."""
    from copilot.odoo_double.errors import AccessError
    from copilot.odoo_double.replay import load, seed

    db = seed(*load(odoo_recordings / version))
    portal, demo = (6, 5) if version == "odoo19" else (7, 6)
    assert db.group_id("base.group_portal") == 10 and db.group_id("base.group_user") == 1
    # 17 gave the groups a group implies to its users explicitly (snapshot groups_id [44, 10, 38])
    want = {10} if version == "odoo19" else {10, 38, 44}
    assert set(db.table("res.users")[portal][db.users_groups_field]) == want
    with pytest.raises(AccessError):
        db.env(portal).search("maintenance.request", [])
    assert db.env(demo).search("project.task", [], limit=1)
    if version == "odoo19":
        assert (db.group_id("base.group_erp_manager"), db.group_id("base.group_sanitize_override")) == (2, 3)
        got = db.env(demo).read("res.groups", [8], ["name", "full_name", "user_ids"])[0]
        assert (got["name"], got["full_name"], got["user_ids"]) == ("Allowed", "Export / Allowed", [demo])
        assert db.env(portal).read("res.users", [portal], ["all_group_ids"])[0]["all_group_ids"] == [10, 38, 44]


def test_demo_data_the_snapshot_did_not_read(odoo_recordings: Path) -> None:
    """Values Odoo's data files set that the snapshot did not read: 19's archived units (``uom_data.xml``) and
    the maintenance demo request's colour (``maintenance_demo.xml``)."""
    from copilot.odoo_double.replay import load, seed

    env = seed(*load(odoo_recordings / "odoo19")).env(5)
    assert env.search("uom.uom", [], limit=3, order="id") == [1, 2, 4]
    assert env.read("maintenance.request", [1], ["color"])[0]["color"] == 7
    assert env.search("product.template", [], limit=3, order="id") == [1, 2, 3]


def test_a_user_reads_their_self_readable_fields_as_superuser(odoo_recordings: Path) -> None:
    """res.users.read: a user reading only ``SELF_READABLE_FIELDS`` of their own record reads as superuser;
    otherwise a stored x2many searches its comodel with their rights, and portal may not read res.groups
    (recorded: 19 ``g8.users.portal_own_group_ids`` works, ``portal_own_groups`` fails on ``group_ids``)."""
    from copilot.odoo_double.errors import AccessError
    from copilot.odoo_double.replay import load, seed

    portal = seed(*load(odoo_recordings / "odoo19")).env(6)
    assert portal.read("res.users", [6], ["group_ids"])[0]["group_ids"] == [10]
    assert portal.read("res.users", [6], ["all_group_ids"])[0]["all_group_ids"] == [10, 38, 44]
    with pytest.raises(AccessError, match=r"Failed to read field res\.users\.group_ids"):
        portal.read("res.users", [6], ["login", "share", "group_ids", "all_group_ids"])

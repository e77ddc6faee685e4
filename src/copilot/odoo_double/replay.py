"""Replay exchanges recorded from a real Odoo server against the protocol double: ``copilot odoo replay DIR``.

``DIR`` is a recordings folder (``../shared/odoo_recordings/odoo19``): ``exchanges.jsonl`` (one request and the
real server's answer per line, in execution order) and ``fields_get.json``. The double is seeded from the
recordings themselves — the models and fields of ``fields_get.json`` (added to the double's own declarations),
the records of the ``0_snapshot`` group with their real ids, the recorded users with their recorded uids and
passwords (the demo credentials: password = login) — then every exchange is sent, in order, over HTTP to the
double and its answer compared with the recorded one:

- the HTTP status;
- JSON-RPC: an error's ``code`` and ``data.name``, or the ``result`` (placeholders the recorder wrote for values
  that change between runs — ``<DATETIME>``, ``<NOW>``, ``<KEY>``... — match anything; a ``fields_get`` result
  the recorder replaced by a ``$ref`` is compared by its field names);
- JSON-2: the body (an error's ``name``, or the result as above);
- other bodies (HTML, plain text, XML-RPC): the status alone.

Usage::

    copilot odoo replay ../shared/odoo_recordings/odoo19 --json
    # {"passed": ..., "total": ..., "groups": {"1_basics": {"passed": ..., "total": ...}, ...}, "failures": [...]}

This is the measure of the double's fidelity; what it does not yet reproduce is listed in the report's
``failures`` (id, group and why), never hidden.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from copilot.odoo_double import business, community_security

PLACEHOLDER = re.compile(r"^<[A-Z_]+(?:[ ,].*)?>$")
AUDIT_FIELDS = ("create_date", "write_date", "create_uid", "write_uid")
# the demo users' external ids in Odoo's base data (O17/O19 base/data/res_users_data.xml, res_users_demo.xml;
# recorded: g4.check_object_reference -> ["res.users", 5], odoorpc's env.ref in g10)
USER_XMLIDS = {"__system__": "base.user_root", "admin": "base.user_admin", "demo": "base.user_demo",
               "portal": "base.demo_user0", "public": "base.public_user",
               "portaltemplate": "base.template_portal_user_id"}
# the recording day (README of the recordings: both databases initialised on 2026-12-05 about 19:31 / 19:45 UTC
# and recorded right after; times the server set are normalised to <NOW>/<DATETIME>, dates are kept)
RECORDED_CLOCK = "2026-12-05 19:50:00"
RECORDED_TZ = "Europe/Brussels"  # the recorded users' time zone (README of the recordings; every context_get)


def load(folder: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    ex_path, fg_path = folder / "exchanges.jsonl", folder / "fields_get.json"
    if not ex_path.exists() or not fg_path.exists():
        raise FileNotFoundError(f"{folder}: exchanges.jsonl and fields_get.json expected")
    exchanges = [json.loads(x) for x in ex_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return exchanges, json.loads(fg_path.read_text(encoding="utf-8"))


def recorded_version(exchanges: list[dict[str, Any]]) -> str:
    for e in exchanges:
        body = e["response"].get("body")
        if isinstance(body, dict):
            info = (body.get("result") or {}) if "result" in body else body
            if isinstance(info, dict) and isinstance(info.get("server_version_info"), list):
                return f"{info['server_version_info'][0]}.0"
            if isinstance(info, dict) and isinstance(info.get("version_info"), list):
                return f"{info['version_info'][0]}.0"
    raise ValueError("no version exchange in the recordings")


def recorded_server_version(exchanges: list[dict[str, Any]]) -> str | None:
    for e in exchanges:
        body = e["response"].get("body")
        info = body.get("result") if isinstance(body, dict) else None
        if isinstance(info, dict) and isinstance(info.get("server_version"), str):
            return str(info["server_version"])
    return None


def recorded_db(exchanges: list[dict[str, Any]]) -> str:
    for e in exchanges:
        if e["transport"] == "json2" and (db := (e["request"].get("headers") or {}).get("X-Odoo-Database")):
            return str(db)
        args = _rpc_args(e)
        body = e["request"].get("body")
        if args and isinstance(body, dict) and body.get("params", {}).get("service") == "object":
            return str(args[0])
    return "odoo"


def _rpc_args(e: dict[str, Any]) -> list[Any]:
    body = e["request"].get("body")
    if isinstance(body, dict) and isinstance(body.get("params"), dict):
        return list(body["params"].get("args") or [])
    return []


def seed(exchanges: list[dict[str, Any]], fields: dict[str, Any]) -> Any:
    """A double's database holding the recorded server's models, fields, users and snapshot records."""
    from copilot.odoo_double import Database
    from copilot.odoo_double.schema import (
        ODOO_NAME_SEARCH,
        ODOO_ORDER,
        ODOO_ORDER_17,
        ODOO_ORDER_18,
        ODOO_PARENT,
        ODOO_REC_NAME,
        Field,
        ModelSpec,
    )

    db = Database(version=recorded_version(exchanges), name=recorded_db(exchanges))
    db.clock = lambda: RECORDED_CLOCK  # "today" as the recorded server saw it (request dates, close dates)
    for key, spec_fields in fields.items():
        if "@" in key or ":" in key or not isinstance(spec_fields, dict):
            continue
        spec = db.models.get(key)
        if spec is None:
            spec = ModelSpec(key, key, {})
            db.models[key] = spec
            db._insert("ir.model", {"model": key, "name": key})
        for name, f in spec_fields.items():
            if not isinstance(f, dict):
                continue
            # read_group's default aggregate, as the server declares it ("" when it has none)
            aggregator = str(f.get("aggregator") or f.get("group_operator") or "")
            if name in spec.fields:
                spec.fields[name] = dataclasses.replace(spec.fields[name], aggregator=aggregator,
                                                        translate=bool(f.get("translate")))
            if name in spec.fields or name in ("id", "display_name", *AUDIT_FIELDS):
                continue
            sel = f.get("selection")
            spec.fields[name] = Field(
                str(f.get("type") or "char"),
                str(f.get("string") or name),
                relation=f.get("relation"),
                relation_field=f.get("relation_field"),
                selection=tuple(tuple(x) for x in sel) if isinstance(sel, list) else (),
                aggregator=aggregator,
                # not stored: computed by the server; the double serves what the snapshot read, if anything
                compute=None if f.get("store", True) or f.get("type") == "one2many" else _snapshot_value(name),
                searchable=bool(f.get("searchable", True)),
                company_dependent=bool(f.get("company_dependent")),
                translate=bool(f.get("translate")),
                # not enforced: Odoo fills most required fields from defaults the double does not know
                # (company_id, currency_id, ...); the double's own declarations keep theirs
                required=False,
            )
    apply_snapshot(db, exchanges)
    _apply_demo_values(db, _snapshot_fields(exchanges))
    business.add_computed(db)  # what Odoo computes from the snapshot's records (a product's quantity on hand)
    business.fill_unread(db, _snapshot_fields(exchanges))  # stored values Odoo computed that it did not read
    _derive_followers(db)
    recorded = set(fields) | _snapshot_models(exchanges)
    for model, spec in db.models.items():
        if model in recorded:  # the recorded server's `_order` / `_rec_name`, not the double's own
            order = (ODOO_ORDER_18 if db.major >= 18 else ODOO_ORDER_17).get(model) or ODOO_ORDER.get(model, spec.order)
            spec.order = ", ".join(
                t for t in order.split(", ") if t.split()[0] in spec.fields or t.split()[0] == "id"
            )
            spec.rec_name = ODOO_REC_NAME.get(model, spec.rec_name)
            spec.parent_name = ODOO_PARENT.get(model, spec.parent_name)
            spec.name_search_fields = tuple(f for f in ODOO_NAME_SEARCH.get(model, ()) if f in spec.fields)
    # The snapshot was taken after the setup group ran: take out what setup created (it is replayed) and let
    # the double hand out the same ids again.
    first_new: dict[str, int] = {}
    for e in exchanges:
        args = _rpc_args(e)
        if e["group"] != "0_setup" or len(args) < 5 or args[4] != "create":
            continue
        created = (e["response"].get("body") or {}).get("result")
        new_ids = [created] if isinstance(created, int) else [i for i in created or [] if isinstance(i, int)]
        if not new_ids:
            continue
        model = args[3]
        for rid in new_ids:
            if db.table(model).pop(rid, None) is not None:
                db._persist(model, rid)
        first_new[model] = min([*new_ids, first_new.get(model, min(new_ids))])
    db._next.update(first_new)
    # the recorded admin is a Settings user: full rights on every model of the server
    for key in fields:
        if "@" not in key and ":" not in key and key in db.models:
            db.grant(key, "base.group_system", read=True, write=True, create=True, unlink=True)
    # the Community modules' own model rights for the recorded users' groups (community_security.py)
    community_security.seed(db)
    # the recorded users log in with password = login (the public demo credentials of the recordings); admin is
    # a Settings user, demo an internal user, portal a share user (README of the recordings); on 19 demo's
    # groups are the recorded ones (snapshot group_ids, named by g8.groups.xmlids)
    roles: dict[str, list[str]] = {"demo": ["base.group_user"], "portal": ["base.group_portal"]}
    if db.major <= 17:  # 17 names every group in res.users' reified fields: demo's snapshot groups_id, named
        roles["demo"] = sorted(set(roles["demo"]) | set(_reified_groups(exchanges, fields).get("demo", ())))
    if db.major >= 19:
        roles["demo"] += [
            "base.group_partner_manager",
            "base.group_allow_export",
            "base.group_multi_company",
            "project.group_project_user",
            "stock.group_stock_user",
        ]
    held = _field_groups(db, fields)
    for rid, rec in db.table("res.users").items():
        login = str(rec.get("login"))
        if login in USER_XMLIDS and not db.xmlid_to_res_id(USER_XMLIDS[login]):
            module, _, name = USER_XMLIDS[login].partition(".")
            db._insert("ir.model.data", {"module": module, "name": name, "model": "res.users", "res_id": rid})
        if login in ("admin", *roles):
            rec["password"] = login
            rec["tz"] = RECORDED_TZ if login != "portal" else None  # portal has none (g7.context_get.portal)
            mine = {db.group_id(g) for g in held.get(login, ())}
            if login in roles:
                rec[db.users_groups_field] = sorted({db.group_id(g) for g in roles[login]} | mine)
            else:  # the apps' security data make the admin user their administrator (e.g. project's
                # group_project_manager lists base.user_admin)
                managers = [db.group_id(g) for g in ("project.group_project_manager", "stock.group_stock_manager",
                                                     community_security.MAINTENANCE_MANAGER)]
                rec[db.users_groups_field] = sorted({*(rec.get(db.users_groups_field) or []), *managers} | mine)
            db._persist("res.users", rid)
    _seed_api_keys(db)
    real, others = _recorded_group_ids(exchanges, fields)
    seen = {g for explicit, closure in _snapshot_closures(exchanges) for g in explicit + closure}
    renumber_groups(db, real, others, seen=seen | {g for gids in _snapshot_groups(exchanges).values() for g in gids})
    _name_groups(db, fields)
    # Explicit group memberships follow the snapshot for every group whose recorded id the double knows (now
    # its own id too): the logged-in users keep the double's other groups (rights the recordings show but
    # whose ids they do not name), the users nobody logs in as hold the snapshot's groups where the
    # recordings name every one of them (17's portal template user: g4.read.old_groups_field)
    recorded_ids = set(real.values()) | set(others)
    groups = db.table("res.groups")
    # 19's snapshot also reads `all_group_ids`, the groups with the ones they imply: a user holding one group
    # shows what that group implies (the portal users: Role / Portal implies 38 and 44, groups the recordings
    # do not name)
    for explicit, closure in _snapshot_closures(exchanges):
        if len(explicit) == 1 and explicit[0] in groups:
            gid = explicit[0]
            implied = groups[gid].get("implied_ids") or []
            groups[gid]["implied_ids"] = implied + [g for g in closure if g != gid and g not in implied]
            db._persist("res.groups", gid)
    for login, gids in _snapshot_groups(exchanges).items():
        uid = next((r for r, u in db.table("res.users").items() if u.get("login") == login), None)
        if uid is None:
            continue
        rec = db.table("res.users")[uid]
        if login in ("admin", *roles):
            rec[db.users_groups_field] = sorted(
                {g for g in rec.get(db.users_groups_field) or [] if g not in recorded_ids}
                | {g for g in gids if g in groups and g in recorded_ids})
        elif set(gids) <= set(groups):
            rec[db.users_groups_field] = gids
        db._persist("res.users", uid)
    db.commit()
    return db


def _recorded_group_ids(
    exchanges: list[dict[str, Any]], fields: dict[str, Any]
) -> tuple[dict[str, int], dict[int, str]]:
    """The recorded server's group ids: by xml id where the recordings name it — an admin's
    ``res.groups.get_external_id`` answer (19), 17's reified group fields of res.users (``in_group_<id>``,
    ``sel_groups_<ids>``, named through ``REIFIED_GROUPS``) — and, by name, the other groups those fields show."""
    by_xmlid: dict[str, int] = {}
    others: dict[int, str] = {}
    for e in exchanges:
        args = _rpc_args(e)
        result = (e["response"].get("body") or {}).get("result") if isinstance(e["response"].get("body"), dict) \
            else None
        if len(args) > 4 and args[3] == "res.groups" and args[4] == "get_external_id" and isinstance(result, dict):
            by_xmlid.update({str(x): int(g) for g, x in result.items() if x and str(g).isdigit()})
    if by_xmlid:
        _fill_declared(by_xmlid, community_security.DECLARED_19)
    for gid, (category, label) in _reified_names(fields).items():
        xmlid = REIFIED_GROUPS.get((category, label))
        if xmlid:
            by_xmlid.setdefault(xmlid, gid)
        else:
            others[gid] = label
    return by_xmlid, {g: n for g, n in others.items() if g not in by_xmlid.values()}


def _fill_declared(by_xmlid: dict[str, int], declared: tuple[str, ...]) -> None:
    """Groups one data file declares get consecutive ids: where the recorded ids of two declared groups are as
    far apart as their places in the file, the groups declared between them take the ids between (19: the
    employees' group, made before the file is loaded, is 1 and Settings 4, so Access Rights and Bypass HTML Field
    Sanitize, declared just before Settings, are 2 and 3)."""
    known = [(i, by_xmlid[x]) for i, x in enumerate(declared) if x in by_xmlid]
    for (i, a), (j, b) in itertools.pairwise(known):
        if b - a == j - i:
            for k in range(i + 1, j):
                by_xmlid.setdefault(declared[k], a + (k - i))


def renumber_groups(
    db: Any, real: dict[str, int], others: dict[int, str], *, seen: Iterable[int] = ()
) -> None:
    """Give the double's groups the recorded server's ids (``real``: xml id -> id) and add the groups it
    showed without an xml id the double knows (``others``: id -> name) or by id alone (``seen``, nameless);
    the double's remaining groups move above every recorded id. Every reference to a group follows: implied
    groups, external ids, model rights, record rules, users' groups and any other field whose comodel is
    res.groups."""
    groups = db.table("res.groups")
    xmlids = {int(r["res_id"]): f"{r['module']}.{r['name']}" for r in db.table("ir.model.data").values()
              if r.get("model") == "res.groups"}
    taken = set(real.values()) | set(others) | set(seen)
    if not taken:
        return
    free = max(taken) + 1
    new_id: dict[int, int] = {}
    for gid in sorted(groups):
        target = real.get(xmlids.get(gid, ""))
        if target is None:
            target, free = free, free + 1
        new_id[gid] = target

    def remap(v: Any) -> Any:
        return new_id.get(v, v) if isinstance(v, int) else v

    old = dict(groups)
    for gid in old:
        groups.pop(gid)
        db._persist("res.groups", gid)
    for gid, rec in old.items():
        groups[new_id[gid]] = {**rec, "id": new_id[gid]}
    for gid, name in others.items():
        groups[gid] = {"id": gid, "name": name, "implied_ids": [], "create_uid": 1, "write_uid": 1}
    for gid in set(seen) - set(groups):  # groups the snapshot shows by id alone: their names are not recorded
        groups[gid] = {"id": gid, "name": None, "implied_ids": [], "create_uid": 1, "write_uid": 1}
    for rec in db.table("ir.model.data").values():
        if rec.get("model") == "res.groups":
            rec["res_id"] = remap(rec["res_id"])
            db._persist("ir.model.data", int(rec["id"]))
    for model, spec in db.models.items():
        linked = [n for n, f in spec.fields.items() if f.relation == "res.groups" and f.compute is None
                  and f.type in ("many2one", "many2many")]
        for rid, rec in db.table(model).items() if linked else ():
            for name in linked:
                value = rec.get(name)
                if isinstance(value, list):
                    rec[name] = [remap(v) for v in value]
                elif value:
                    rec[name] = remap(value)
            db._persist(model, rid)
    for gid in groups:
        db._persist("res.groups", gid)
    db._next["res.groups"] = max(groups) + 1


def _name_groups(db: Any, fields: dict[str, Any]) -> None:
    """The recorded server's group names: 19's from its source (``community_security.NAMES_19``), ≤17's as
    res.users' reified group fields show them (a selection's label under its category: "Project / User")."""
    groups = db.table("res.groups")
    if db.major >= 19:
        named = {gid: community_security.NAMES_19.get(x) for x, gid in
                 ((f"{r['module']}.{r['name']}", int(r["res_id"])) for r in db.table("ir.model.data").values()
                  if r.get("model") == "res.groups")}
    else:
        named = {gid: (category if category else "", label) for gid, (category, label) in
                 _reified_names(fields).items()}
    for gid, name in named.items():
        if name is not None and gid in groups:
            groups[gid]["privilege"], groups[gid]["name"] = name
            db._persist("res.groups", gid)


def _snapshot_closures(exchanges: list[dict[str, Any]]) -> list[tuple[list[int], list[int]]]:
    """Each snapshot user's explicit groups and their closure (19's ``group_ids`` and ``all_group_ids``)."""
    out: list[tuple[list[int], list[int]]] = []
    for e in exchanges:
        args = _rpc_args(e)
        if e["group"] != "0_snapshot" or len(args) < 4 or args[3] != "res.users":
            continue
        for row in (e["response"].get("body") or {}).get("result") or []:
            if isinstance(row.get("group_ids"), list) and isinstance(row.get("all_group_ids"), list):
                out.append(([int(g) for g in row["group_ids"]], [int(g) for g in row["all_group_ids"]]))
    return out


def _snapshot_users(exchanges: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The res.users rows the snapshot read."""
    for e in exchanges:
        args = _rpc_args(e)
        if e["group"] != "0_snapshot" or len(args) < 4 or args[3] != "res.users":
            continue
        yield from (e["response"].get("body") or {}).get("result") or []


def _snapshot_groups(exchanges: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Each user's groups as the snapshot read them (the recorded server's ids)."""
    held: dict[str, list[int]] = {}
    for row in _snapshot_users(exchanges):
        ids = row.get("group_ids", row.get("groups_id"))
        if isinstance(ids, list):
            held[str(row.get("login"))] = [int(g) for g in ids]
    return held


# The API keys the recorder made before the scenario ran (README of the recordings, "Normalisation"), in its
# keys file's order: rpc-scoped keys expiring after 20 h for admin, demo and portal, then admin's global
# (scope NULL), already expired and `other`-scoped keys. Their ids follow that order and their names are
# "recorder-<name>" (recorded: demo's key is id 2, "recorder-demo", in 17 and 19); the secrets are unknown
# (the recorder wrote `<KEY>`), so each key gets its own stand-in, and the replay lends `<KEY>` to the
# exchange user's rpc key.
RECORDER_KEYS: tuple[tuple[str, str, str | None, int], ...] = (
    ("admin", "admin", "rpc", 20), ("demo", "demo", "rpc", 20), ("portal", "portal", "rpc", 20),
    ("admin_global", "admin", None, 20), ("admin_expired", "admin", "rpc", -1),
    ("admin_otherscope", "admin", "other", 20),
)  # fmt: skip


def _seed_api_keys(db: Any) -> None:
    from datetime import datetime, timedelta

    uids = {str(rec.get("login")): int(rid) for rid, rec in db.table("res.users").items()}
    start = datetime.strptime(RECORDED_CLOCK, "%Y-%m-%d %H:%M:%S")
    for name, login, scope, hours in RECORDER_KEYS:
        if login in uids:
            expiry = (start + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")
            db.add_api_key(uids[login], f"<recorder {name} key>", scope=scope, name=f"recorder-{name}",
                           expiration=expiry)


# Which of admin's other keys an exchange used, as its recorded note says ("Expired API key (expiration_date in
# the past).", "Key with scope 'other' (not rpc).", "Key with scope NULL (global) works too."): the key itself
# was written as `<KEY>`, the note is the only record of it.
_NOTED_KEYS = (
    (re.compile(r"(?i)\bexpired\s+api\s+key"), "admin_expired"),
    (re.compile(r"(?i)\bscope\s+'other'"), "admin_otherscope"),
    (re.compile(r"(?i)\bscope\s+null\b"), "admin_global"),
)


def recorded_key_name(exchange: dict[str, Any]) -> str | None:
    """The recorder key an exchange's note names (``admin_expired``...), or None: the user's own rpc key."""
    note = str(exchange.get("note") or "")
    return next((name for rx, name in _NOTED_KEYS if rx.search(note)), None)


def lend_recorded_key(db: Any, uid: int, key_name: str | None = None) -> None:
    """The recorder wrote every real key as `<KEY>`: make it stand for ``uid``'s own rpc key (the one the
    recorder used for that user's requests), or for the recorder key ``key_name`` where the exchange's note
    names one, and no other key."""
    own = {f"recorder-{n}" for n, *_ in RECORDER_KEYS[:3]}
    for rec in db.table("res.users.apikeys").values():
        name = rec.get("name")
        mine = name == f"recorder-{key_name}" if key_name else (rec.get("user_id") == uid and name in own)
        if mine or rec.get("key") == "<KEY>":
            rec["key"] = "<KEY>" if mine else f"<recorder key {rec['id']}>"
            db._persist("res.users.apikeys", int(rec["id"]))


# Odoo's group records (xml id) by their category and name, as 17's res.users ``fields_get`` shows them in its
# reified group fields (``in_group_<id>``: the name; ``sel_groups_<ids>``: the category and each id's name): the
# groups whose rights the double models (base/security/base_groups.xml, project, stock, purchase, maintenance)
REIFIED_GROUPS: dict[tuple[str, str], str] = {
    ("User types", "Internal User"): "base.group_user",
    ("User types", "Portal"): "base.group_portal",
    ("User types", "Public"): "base.group_public",
    ("", "Contact Creation"): "base.group_partner_manager",
    ("", "Access to export feature"): "base.group_allow_export",
    ("", "Multi Companies"): "base.group_multi_company",
    ("Administration", "Access Rights"): "base.group_erp_manager",
    ("Administration", "Settings"): "base.group_system",
    ("Project", "User"): "project.group_project_user",
    ("Project", "Administrator"): "project.group_project_manager",
    ("Inventory", "User"): "stock.group_stock_user",
    ("Inventory", "Administrator"): "stock.group_stock_manager",
    ("Purchase", "User"): "purchase.group_purchase_user",
    ("Purchase", "Administrator"): "purchase.group_purchase_manager",
    ("Maintenance", "Equipment Manager"): "maintenance.group_equipment_manager",
}


def _reified_groups(exchanges: list[dict[str, Any]], fields: dict[str, Any]) -> dict[str, list[str]]:
    """≤17: each recorded user's groups as xml ids — the snapshot's ``groups_id`` (real group ids), named through
    the recorded ``fields_get`` of res.users, whose ``in_group_<id>`` / ``sel_groups_<ids>`` fields carry the
    groups' names (recorded 17: demo holds Purchase / User, so it may create orders: g6.jsonrpc.access_create_po)."""
    names = _reified_names(fields)
    held: dict[str, list[str]] = {}
    for row in _snapshot_users(exchanges):
        ids = row.get("groups_id") or []
        held[str(row.get("login"))] = sorted(
            {REIFIED_GROUPS[names[g]] for g in ids if g in names and names[g] in REIFIED_GROUPS})
    return held


def _reified_names(fields: dict[str, Any]) -> dict[int, tuple[str, str]]:
    """≤17: the groups res.users' reified fields name, by id: (category, name)."""
    names: dict[int, tuple[str, str]] = {}
    for fname, f in (fields.get("res.users") or {}).items():
        if not isinstance(f, dict):
            continue
        if fname.startswith("in_group_") and fname[9:].isdigit():
            names[int(fname[9:])] = ("", str(f.get("string") or ""))
        elif fname.startswith("sel_groups_"):
            for gid, label in f.get("selection") or []:
                if gid:
                    names[int(gid)] = (str(f.get("string") or ""), str(label))
    return names


def _derive_followers(db: Any) -> None:
    """The snapshot reads no followers; Odoo's create code subscribed the equipment's owner and the request's
    owner and technician (maintenance/models/maintenance.py ``create`` / ``_add_followers``; the demo data's
    creator, OdooBot, is left out: nobody logs in as it). Recorded: demo reads exactly the equipment it owns
    (g8.search_read.demo.maintenance.equipment)."""
    for model, users in (("maintenance.equipment", ("owner_user_id",)),
                         ("maintenance.request", ("owner_user_id", "user_id"))):
        if model not in db.models:
            continue
        env = db.env(1)
        for rid, rec in db.table(model).items():
            business.subscribe(env, model, rec, [rec.get(u) for u in users])
            db._persist(model, rid)


def _snapshot_value(name: str) -> Any:
    return lambda db, rec: rec.get(name)


def _field_groups(db: Any, fields: dict[str, Any]) -> dict[str, set[str]]:
    """Fields restricted with ``groups=``, as the recorded server declares them in ``fields_get``, and the groups
    each recorded user is taken to hold: admin every one (his ``fields_get`` shows every field), demo and portal
    those naming a field their own recorded ``fields_get`` (``<model>@demo``, ``res.partner@portal``) shows."""
    named: set[str] = set()
    for model, spec_fields in fields.items():
        if "@" in model or ":" in model or model not in db.models or not isinstance(spec_fields, dict):
            continue
        spec = db.models[model]
        for name, f in spec_fields.items():
            if isinstance(f, dict) and f.get("groups") and name in spec.fields:
                spec.fields[name] = dataclasses.replace(spec.fields[name], groups=str(f["groups"]))
                named.update(g.strip() for g in str(f["groups"]).split(","))
    for xmlid in sorted(named):
        db.add_group(xmlid, xmlid)
    held: dict[str, set[str]] = {"admin": set(named), "demo": set(), "portal": set()}
    for key, spec_fields in fields.items():
        model, _, who = key.partition("@")
        who = who.split(":")[0]
        if who not in held or not isinstance(fields.get(model), dict):
            continue
        for name in spec_fields:
            groups = (fields[model].get(name) or {}).get("groups")
            if groups:
                held[who].update(g.strip() for g in str(groups).split(","))
    return held


def _snapshot_fields(exchanges: list[dict[str, Any]]) -> dict[str, set[str]]:
    read: dict[str, set[str]] = {}
    for e in exchanges:
        args = _rpc_args(e)
        rows = (e["response"].get("body") or {}).get("result") if e["group"] == "0_snapshot" else None
        if len(args) > 3 and isinstance(rows, list):
            read.setdefault(str(args[3]), set()).update(k for row in rows for k in row)
    return read


def _snapshot_models(exchanges: list[dict[str, Any]]) -> set[str]:
    return {str(_rpc_args(e)[3]) for e in exchanges if e["group"] == "0_snapshot" and len(_rpc_args(e)) > 3}


def apply_snapshot(db: Any, exchanges: list[dict[str, Any]]) -> None:
    """Write the ``0_snapshot`` records into ``db`` with their real ids and values. Seeding calls it before the
    replay; the replay calls it again where the snapshot was recorded, so that values the real server computed
    while the earlier groups ran (a request's ``duration`` from its schedule, sequences) are the recorded ones.
    Display names come from the snapshot as the server rendered them: a record's ``display_name`` and every
    many2one ``[id, name]`` pair (a record a pair names but the snapshot does not hold, e.g. a currency, is
    added with that name alone); creation audit fields default to OdooBot (uid 1), who loads demo data."""
    displays: dict[str, dict[int, str]] = {}
    for e in exchanges:
        if e["group"] != "0_snapshot":
            continue
        args = _rpc_args(e)
        rows = (e["response"].get("body") or {}).get("result")
        if len(args) < 4 or not isinstance(rows, list):
            continue
        model = args[3]
        spec = db.models.get(model) or _spec_from_rows(db, model, rows)
        table = db.table(model)
        for row in rows:
            rec = dict(table.get(row["id"], {}))
            for name, value in row.items():
                if name in ("group_ids", "groups_id", "all_group_ids"):
                    continue  # group ids of the real server mean nothing here: groups are set by login below
                if name == "display_name":
                    displays.setdefault(model, {})[row["id"]] = str(value)
                    continue
                f = spec.fields.get(name) if spec else None
                if f is not None and f.type == "many2one" and isinstance(value, list):
                    if len(value) == 2 and f.relation:
                        displays.setdefault(f.relation, {})[int(value[0])] = str(value[1])
                    value = value[0] if value else False
                if value is False and (f is None or f.type not in ("boolean", "many2many", "one2many")):
                    value = None  # Odoo reads NULL back as false: store it as the double's NULL
                if value == 0 and f is not None and f.type == "float" and f.stored and db.major < 19:
                    # 17 reads an unset float as 0.0, so the snapshot cannot tell NULL from 0: seeded as NULL,
                    # which its demo data leaves them (recorded: 17 g3.mreq.duration_false, g5 sums false)
                    value = None
                rec[name] = value
            rec.setdefault("create_date", db.clock())
            rec.setdefault("write_date", db.clock())
            rec.setdefault("create_uid", 1)
            rec.setdefault("write_uid", 1)
            if spec is not None and "active" in spec.fields and rec.get("active") is None:
                # not asked for by the snapshot (active_test=False): as the module's data file left it, else
                # Odoo's default
                rec["active"] = str(row.get("name")) not in SOURCE_ARCHIVED.get((model, db.major), ())
            table[row["id"]] = rec
            db._persist(model, row["id"])
        db._next[model] = max([db._next.get(model, 1), *(r + 1 for r in table)])
    for model, names in displays.items():
        if model not in db.models:
            spec = _spec_from_rows(db, model, [{"name": n} for n in names.values()])
        spec = db.models[model]
        table = db.table(model)
        for rid, name in names.items():
            rec = table.get(rid)
            if rec is None:
                rec = table[rid] = {"id": rid, spec.rec_name if spec.rec_name in spec.fields else "name": name,
                                    "create_uid": 1, "write_uid": 1}
                if "active" in spec.fields:
                    rec["active"] = True  # a record some snapshot row names is in use: Odoo's default
                db._next[model] = max(db._next.get(model, 1), rid + 1)
            rec["__display"] = name
            if "complete_name" in spec.fields and not rec.get("complete_name"):
                rec["complete_name"] = name  # res.partner orders by it
            db._persist(model, rid)


# Records a module's data file creates archived (``<field name="active" eval="False"/>``), by name, where the
# snapshot did not read ``active``: O19 ``uom/data/uom_data.xml`` (jnvdx6/skymedic-odoo@85dffc0; the snapshot's
# uom ids follow that file's order). Recorded: 19 ``g8.search_read.demo.uom.uom`` skips "Dozens" (id 3).
SOURCE_ARCHIVED: dict[tuple[str, int], frozenset[str]] = {
    ("uom.uom", 19): frozenset({
        "Dozens", "cm", "km", "m³", "oz", "lb", "in", "ft", "yd", "mi", "ft²", "fl oz (US)", "qt (US)",
        "gal (US)", "in³", "ft³",
    }),
}  # fmt: skip

# Stored values Odoo's demo data sets that the snapshot did not read, for the demo record with that key:
# ``maintenance/data/maintenance_demo.xml`` (the same records and colours in every version the code search holds,
# odoo/odoo and later forks; recorded: 17/19 g4.read.selection_dates reads request 1's colour 7)
DEMO_VALUES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("maintenance.request", "name", "Resolution is bad", {"color": 7}),
    ("maintenance.equipment", "serial_no", "MT/127/18291018", {"color": 3}),
    ("maintenance.equipment.category", "name", "Monitors", {"color": 3}),
)


def _apply_demo_values(db: Any, read: dict[str, set[str]]) -> None:
    for model, key, value, values in DEMO_VALUES:
        spec = db.models.get(model)
        if spec is None:
            continue
        for rid, rec in db.table(model).items():
            if rec.get(key) == value:
                for name, v in values.items():
                    if name in spec.fields and name not in read.get(model, ()):
                        rec[name] = v
                db._persist(model, rid)


# Fields of models outside ``fields_get.json`` that the snapshot did not read but later exchanges use, as Odoo's
# source declares them: O17/O19 ``base/models/res_partner.py`` ``PartnerCategory.color`` (an Integer whose
# default is random, left unset here; recorded: 19 ``g7.write`` / ``g7.read_after_write`` set and read it)
SOURCE_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "res.partner.category": {"color": ("integer", "Color")},
}


def _spec_from_rows(db: Any, model: str, rows: list[dict[str, Any]]) -> Any:
    """A model the snapshot holds but ``fields_get.json`` does not (``res.country``, ``res.partner.category``):
    its scalar fields typed from the values and those of ``SOURCE_FIELDS``; ``parent_id`` is the model's own
    hierarchy; other relations are left out (their comodel is not recorded)."""
    from copilot.odoo_double.schema import Field, ModelSpec

    kinds = {bool: "boolean", int: "integer", float: "float", str: "char"}
    fields: dict[str, Any] = {name: Field(kind, label) for name, (kind, label) in SOURCE_FIELDS.get(model, {}).items()}
    for row in rows:
        for name, value in row.items():
            if name in fields or name in ("id", "display_name"):
                continue
            if name == "parent_id":
                fields[name] = Field("many2one", "Parent", relation=model)
            elif type(value) in kinds and value is not False:
                fields[name] = Field(kinds[type(value)], name)
    spec = ModelSpec(model, model, fields)
    db.models[model] = spec
    db._insert("ir.model", {"model": model, "name": model})
    db.grant(model, "base.group_user", read=True)
    db.grant(model, "base.group_system", read=True, write=True, create=True, unlink=True)
    return spec


def _same(recorded: Any, got: Any, fields: dict[str, Any]) -> bool:
    if isinstance(recorded, str) and PLACEHOLDER.match(recorded):
        return True
    if isinstance(recorded, dict) and "$ref" in recorded and "key" in recorded:
        ref = fields.get(recorded["key"])
        return isinstance(got, dict) and isinstance(ref, dict) and set(got) == set(ref)
    if isinstance(recorded, dict):
        return isinstance(got, dict) and set(recorded) == set(got) and all(
            _same(v, got[k], fields) for k, v in recorded.items()
        )
    if isinstance(recorded, list):
        return isinstance(got, list) and len(recorded) == len(got) and all(
            _same(a, b, fields) for a, b in zip(recorded, got, strict=True)
        )
    if isinstance(recorded, float) and isinstance(got, (int, float)):
        return abs(recorded - got) < 1e-6
    return bool(recorded == got)


def _compare_xmlrpc(decoded: dict[str, Any], body: Any, fields: dict[str, Any]) -> str:
    """An XML-RPC answer: the fault code, or the returned value (the recorder's ``decoded`` form of the XML)."""
    import xmlrpc.client

    try:
        params, _ = xmlrpc.client.loads(body if isinstance(body, str) else "")
    except xmlrpc.client.Fault as fault:
        want = (decoded.get("fault") or {}).get("faultCode")
        if "fault" not in decoded:
            return f"fault {fault.faultCode}, recorded a result"
        return "" if fault.faultCode == want else f"fault {fault.faultCode}, recorded {want}"
    except Exception:  # not XML-RPC at all
        return "not XML-RPC"
    if "fault" in decoded:
        return f"no fault, recorded {decoded['fault'].get('faultCode')}"
    return "" if _same(decoded.get("params"), list(params), fields) else "result differs"


def compare(e: dict[str, Any], status: int, body: Any, fields: dict[str, Any]) -> str:
    """Empty when the double answered like the recorded server; else why not."""
    rec = e["response"]
    if rec.get("status") != status:
        return f"status {status}, recorded {rec.get('status')}"
    want = rec.get("body")
    if e["transport"] == "xmlrpc" and isinstance(rec.get("decoded"), dict):
        return _compare_xmlrpc(rec["decoded"], body, fields)
    if not isinstance(want, (dict, list)) or e["transport"] == "xmlrpc":
        return ""
    if not isinstance(body, (dict, list)):
        return "not JSON"
    if e["transport"] == "jsonrpc" and isinstance(want, dict) and "jsonrpc" in want:
        if "error" in want:
            if not isinstance(body, dict) or "error" not in body:
                return "no error, recorded " + str(want["error"].get("data", {}).get("name"))
            w, g = want["error"], body["error"]
            if w.get("code") != g.get("code"):
                return f"error code {g.get('code')}, recorded {w.get('code')}"
            wn, gn = (w.get("data") or {}).get("name"), (g.get("data") or {}).get("name")
            return "" if wn == gn else f"error {gn}, recorded {wn}"
        if isinstance(body, dict) and "error" in body:
            return "error " + str((body["error"].get("data") or {}).get("name")) + ", recorded a result"
        return "" if _same(want.get("result"), body.get("result") if isinstance(body, dict) else None, fields) \
            else "result differs"
    if isinstance(want, dict) and "name" in want and "message" in want:
        return "" if isinstance(body, dict) and body.get("name") == want["name"] else \
            f"error {body.get('name') if isinstance(body, dict) else body!r:.60}, recorded {want['name']}"
    return "" if _same(want, body, fields) else "result differs"


def run(folder: Path, *, max_failures: int = 60, detail: bool = False) -> dict[str, Any]:
    """Replay ``folder``; ``detail`` adds the recorded and the double's answers (truncated) to each failure."""
    import httpx

    from copilot.odoo_double import OdooDouble

    exchanges, fields = load(folder)
    db = seed(exchanges, fields)
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    why: Counter[str] = Counter()
    failures: list[dict[str, str]] = []
    # the recorded servers ran with list_db = False; 17's version string carries its build date
    with OdooDouble(db, list_db=False, server_version=recorded_server_version(exchanges)) as double, \
            httpx.Client(timeout=30) as http:
        key_user: dict[str, int] = {}
        for rec in db.table("res.users").values():
            key_user[str(rec.get("login"))] = int(rec["id"])
        applied = False
        session: str | None = None
        for e in exchanges:
            if e["group"] == "0_snapshot":
                if not applied:
                    with db.lock:
                        apply_snapshot(db, exchanges)
                        db.commit()
                    applied = True
                continue
            req = e["request"]
            headers = {k: v for k, v in (req.get("headers") or {}).items() if k.lower() != "cookie"}
            if any(k.lower() == "cookie" for k in req.get("headers") or {}):
                # the recorded request carried the session cookie: send the one the double gave (if any)
                headers["Cookie"] = f"session_id={session or 'none'}"
            if "<KEY>" in json.dumps(req) and e.get("user") in key_user:
                # the recorder hid real keys: give the placeholder to the exchange's user for this request
                with db.lock:
                    lend_recorded_key(db, key_user[e["user"]], recorded_key_name(e))
                    db.commit()
            body = req.get("body")
            kwargs: dict[str, Any] = {"headers": headers}
            if isinstance(body, (dict, list)) or (body is None and req.get("method") == "POST"):
                kwargs["content"] = json.dumps(body).encode() if body is not None else b""
            elif isinstance(body, str):
                kwargs["content"] = body.encode()
            try:
                resp = http.request(req.get("method", "POST"), f"{double.url}{req['path']}", **kwargs)
                session = resp.cookies.get("session_id") or session
                http.cookies.clear()  # cookies go only where the recording sent one (above)
                try:
                    got: Any = resp.json()
                except ValueError:
                    got = resp.text
                reason = compare(e, resp.status_code, got, fields)
            except httpx.HTTPError as exc:
                reason = f"transport error {type(exc).__name__}"
            total[e["group"]] += 1
            if reason:
                why[reason.split(",")[0][:40]] += 1
                if len(failures) < max_failures:
                    failures.append({"id": e["id"], "group": e["group"], "why": reason})
                    if detail:
                        failures[-1] |= {"recorded": json.dumps(e["response"].get("body"))[:400],
                                         "double": json.dumps(got)[:400] if "got" in locals() else ""}
            else:
                passed[e["group"]] += 1
    return {
        "recordings": str(folder),
        "version": db.version,
        "passed": sum(passed.values()),
        "total": sum(total.values()),
        "groups": {g: {"passed": passed[g], "total": total[g]} for g in total},
        "top_reasons": dict(why.most_common(12)),
        "failures": failures,
    }

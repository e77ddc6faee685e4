"""What Odoo's own model code does around ``create``/``write``/``unlink`` for the Community models the recordings
exercise, and their button methods. Each rule names the Odoo code it mirrors and the recorded exchange that
shows it (``9_writes``, ``7_json2``, ``6_errors`` of ``../shared/odoo_recordings``).

A rule only touches the fields the model has in the double, so the demo network's own declarations of the same
models keep working; models without a rule here are plain records.

- ``maintenance.equipment`` / ``maintenance.request`` followers (``message_partner_ids``, which the record rules
  read): the creator (mail.thread ``create``), the equipment's owner, the request's owner and technician, at
  create and when a write sets them (O17/O19 maintenance/models/maintenance.py ``create``/``write``/
  ``_add_followers``; not recorded: the recordings read no followers).
- ``maintenance.request`` (O17/O19 maintenance/models/maintenance.py): ``request_date`` today, ``owner_user_id``
  the creator, ``company_id`` the creator's company, ``maintenance_team_id`` the first team, ``user_id`` the
  equipment's technician; a stage change resets ``kanban_state`` and a done stage sets ``close_date`` to today;
  ``archive_equipment_request`` archives and returns None (recorded: g9.mreq.*).
- ``purchase.order`` (purchase/models/purchase_order.py): ``name`` from the ``P00001`` sequence, taken at every
  create attempt, even one refused later (failed creates leave gaps: recorded g9.po.create.admin reads back
  P00017, the JSON-2 one P00019); ``partner_id`` required; ``state`` draft, ``date_order`` now, ``user_id`` the
  creator, ``company_id`` and its ``currency_id``; amounts summed from the lines; ``button_confirm`` (needs write
  access: "not allowed to modify") moves draft/sent to purchase with ``date_approve``; ``button_cancel`` returns
  None; a confirmed order cannot be unlinked (recorded: g9.po.*, g7.button_empty_ids).
- ``purchase.order.line``: ``name`` the product's display name, ``product_uom_id`` the product's unit,
  ``price_subtotal`` quantity × price (recorded: g9.po.lines.admin).
- ``project.task`` (project/models/project_task.py): the project's first stage, ``state`` 01_in_progress,
  ``priority`` 0, the creator as assignee when none is given (recorded: g9.task.read).
- ``res.users``: its partner created first (``_inherits``); a taken login fails after both ids were used
  (recorded: g6.*.unique_login, g8.demo_create_partner).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from copilot.odoo_double.errors import AccessError, UserError

if TYPE_CHECKING:
    from copilot.odoo_double.store import Env


def _has(env: Env, model: str, *names: str) -> bool:
    spec = env.db.models.get(model)
    return spec is not None and all(n in spec.fields for n in names)


def _today(env: Env) -> str:
    return env.db.clock()[:10]


def _user(env: Env) -> dict[str, Any]:
    return env.db.table("res.users").get(env.uid) or {}


def _first(env: Env, model: str, domain: list[Any]) -> int | None:
    ids = env.sudo()._order(model, env.sudo()._search_ids(model, domain), None) if model in env.db.models else []
    return ids[0] if ids else None


def _setdefault(data: dict[str, Any], env: Env, model: str, name: str, value: Any) -> None:
    if _has(env, model, name) and data.get(name) in (None, False) and value not in (None, False):
        data[name] = value


# ---------------------------------------------------------------------- followers
FOLLOWERS = "message_partner_ids"


def _partner(env: Env, uid: Any) -> int | None:
    user = env.db.table("res.users").get(int(uid)) if uid else None
    return int(user["partner_id"]) if user and user.get("partner_id") else None


def subscribe(env: Env, model: str, data: dict[str, Any], uids: list[Any]) -> None:
    """``message_subscribe`` of the users' partners, where the model stores its followers (the double's own
    maintenance models; a model learnt from a recorded ``fields_get`` has no stored followers)."""
    spec = env.db.models.get(model)
    f = spec.fields.get(FOLLOWERS) if spec else None
    if f is None or not f.stored:
        return
    have = list(data.get(FOLLOWERS) or [])
    for pid in (_partner(env, u) for u in uids):
        if pid and pid not in have:
            have.append(pid)
    data[FOLLOWERS] = have


def _creator(env: Env) -> list[Any]:
    """mail.thread ``create`` subscribes the creating user unless ``mail_create_nosubscribe`` (O17/O19
    mail/models/mail_thread.py)."""
    return [] if env.context.get("mail_create_nosubscribe") else [env.real_uid]


# ---------------------------------------------------------------------- before insert
def _maintenance_equipment(env: Env, data: dict[str, Any]) -> None:
    """``MaintenanceEquipment.create``: the creator and the owner follow the equipment."""
    subscribe(env, "maintenance.equipment", data, [*_creator(env), data.get("owner_user_id")])


def _maintenance_request(env: Env, data: dict[str, Any]) -> None:
    m = "maintenance.request"
    _setdefault(data, env, m, "stage_id", _first(env, "maintenance.stage", []))  # `_default_stage`
    _setdefault(data, env, m, "request_date", _today(env))
    _setdefault(data, env, m, "owner_user_id", env.uid)
    _setdefault(data, env, m, "company_id", _user(env).get("company_id"))
    _setdefault(data, env, m, "maintenance_team_id", _first(env, "maintenance.team", []))
    equipment = env.db.table("maintenance.equipment").get(data.get("equipment_id") or 0)
    if equipment:
        _setdefault(data, env, m, "user_id", equipment.get("technician_user_id"))
    # ``create``: the creator (mail.thread), then ``_add_followers``: the owner's and the technician's partners
    subscribe(env, m, data, [*_creator(env), data.get("owner_user_id"), data.get("user_id")])


def _purchase_order(env: Env, data: dict[str, Any]) -> None:
    m = "purchase.order"
    if _has(env, m, "partner_id") and not data.get("partner_id"):
        raise _missing(env, m, "partner_id", "Vendor")
    _setdefault(data, env, m, "state", "draft")
    _setdefault(data, env, m, "date_order", env.db.clock())
    _setdefault(data, env, m, "user_id", env.uid)
    company = _user(env).get("company_id")
    _setdefault(data, env, m, "company_id", company)
    _setdefault(data, env, m, "currency_id", (env.db.table("res.company").get(company or 0) or {}).get("currency_id"))


def _purchase_order_line(env: Env, data: dict[str, Any]) -> None:
    m = "purchase.order.line"
    product = env.db.table("product.product").get(data.get("product_id") or 0)
    if product:
        _setdefault(data, env, m, "name", env.display_name("product.product", product))
        _setdefault(data, env, m, "product_uom_id", product.get("uom_id"))
        _setdefault(data, env, m, "product_uom", product.get("uom_id"))  # 17's name
    if _has(env, m, "price_subtotal"):
        data["price_subtotal"] = float(data.get("product_qty") or 0) * float(data.get("price_unit") or 0)


def _project_task(env: Env, data: dict[str, Any]) -> None:
    m = "project.task"
    project = data.get("project_id")
    if project and _has(env, "project.task.type", "project_ids"):
        _setdefault(data, env, m, "stage_id", _first(env, "project.task.type", [("project_ids", "=", project)]))
    _setdefault(data, env, m, "state", "01_in_progress")
    _setdefault(data, env, m, "priority", "0")
    if _has(env, m, "user_ids") and "user_ids" not in data:
        data["user_ids"] = [env.uid]


def _res_users(env: Env, data: dict[str, Any]) -> None:
    """``res.users`` ``_inherits`` ``res.partner``: ``create`` makes the partner first, then INSERTs the user,
    where PostgreSQL's unique ``login`` constraint fails — after both sequences moved, which the rollback does
    not give back (O17/O19 ``odoo/models.py`` ``create`` of ``_inherits`` parents, ``res_users.py``
    ``res_users_login_key``; recorded on 19: two refused ``g6.*.unique_login``, then demo's new partner in
    ``g8.demo_create_partner`` is 48, not 46)."""
    from copilot.odoo_double.errors import ValidationError

    m = "res.users"
    if not _has(env, m, "partner_id", "login") or data.get("partner_id"):
        return
    if any(u.get("login") == data.get("login") for u in env.db.table(m).values()):
        for model in ("res.partner", m):
            env.db._next[model] = env.db._next.get(model, 1) + 1
        raise ValidationError("The operation cannot be completed: You can not have two users with the same login!")
    if data.get("name") or data.get("login"):
        data["partner_id"] = env.sudo().create("res.partner", {"name": data.get("name") or data["login"]})


def _missing(env: Env, model: str, field: str, label: str) -> Exception:
    from copilot.odoo_double.errors import ValidationError

    env.db._next[model] = env.db._next.get(model, 1) + 1  # NOT NULL after the id was taken (see Env.create)
    desc = env.spec(model).description
    return ValidationError(
        f"The operation cannot be completed: Missing required value for the field '{label}' ({field}).\n"
        f"Model: '{desc}' ({model})\n- create/update: a mandatory field is not set\n"
        "- delete: another model requires the record being deleted, you can archive it instead\n"
    )


BEFORE_CREATE: dict[str, Callable[[Env, dict[str, Any]], None]] = {
    "maintenance.equipment": _maintenance_equipment,
    "maintenance.request": _maintenance_request,
    "purchase.order": _purchase_order,
    "purchase.order.line": _purchase_order_line,
    "project.task": _project_task,
    "res.users": _res_users,
}


def create_attempt(env: Env, model: str, vals: dict[str, Any]) -> dict[str, Any]:
    """Before access checks: what Odoo's ``create`` override takes even when the create then fails (a purchase
    order's sequence number)."""
    if model == "purchase.order" and _has(env, model, "name") and not vals.get("name"):
        taken = [int(n.group(1)) for r in env.db.table(model).values()
                 if (n := re.fullmatch(r"P(\d+)", str(r.get("name") or "")))]
        counter = env.db.counters.get("purchase.order", max(taken, default=0)) + 1
        env.db.counters["purchase.order"] = counter
        return {**vals, "name": f"P{counter:05d}"}
    return vals


def defaults(env: Env, model: str, data: dict[str, Any]) -> dict[str, Any]:
    """``default_get``'s share of the rules above: the defaults alone, no checks (recorded: g4.default_get,
    g7.default_get)."""
    rule = BEFORE_CREATE.get(model)
    if rule is not None and model not in ("purchase.order", "res.users"):
        given = FOLLOWERS in data
        rule(env, data)
        if not given:
            data.pop(FOLLOWERS, None)  # subscribing happens at create, it is no default
    return data


def before_create(env: Env, model: str, data: dict[str, Any]) -> None:
    rule = BEFORE_CREATE.get(model)
    if rule is not None:
        rule(env, data)


# ---------------------------------------------------------------------- display names
def _stock_quant_name(env: Env, rec: dict[str, Any]) -> str:
    """O17/O19 stock/models/stock_quant.py ``_compute_display_name``: the location, then the lot, the package and
    the owner when set, joined by " - " (recorded: 19 g8.search_read.demo.stock.quant reads "WH/Stock")."""
    parts = []
    for fname, comodel, attr in (("location_id", "stock.location", ""), ("lot_id", "stock.lot", "name"),
                                 ("package_id", "stock.package", ""), ("owner_id", "res.partner", "name")):
        linked = env.db.table(comodel).get(rec.get(fname) or 0) if _has(env, "stock.quant", fname) else None
        if linked is not None:
            parts.append(str(linked.get(attr) or "") if attr else env.display_name(comodel, linked))
    return " - ".join(parts)


DISPLAY_NAMES: dict[str, Callable[[Env, dict[str, Any]], str]] = {
    "stock.quant": _stock_quant_name,
}


def display_name(env: Env, model: str, rec: dict[str, Any]) -> str | None:
    """The model's own ``_compute_display_name``, where it is not its ``_rec_name``; None elsewhere."""
    rule = DISPLAY_NAMES.get(model)
    return rule(env, rec) if rule is not None else None


# ---------------------------------------------------------------------- computed fields
def _qty_available(db: Any, rec: dict[str, Any]) -> float:
    """O17/O19 stock/models/product.py ``_compute_quantities``: without a location or warehouse in the context,
    the quantity of the product's quants "in any Stock Location with 'internal' type" (the field's help; recorded:
    17/19 g3.product.qty_available, ``> 40`` finds exactly these sums of the snapshot's quants)."""
    locations = db.table("stock.location")
    internal = {lid for lid, loc in locations.items() if loc.get("usage") == "internal"}
    return float(sum(float(q.get("quantity") or 0) for q in db.table("stock.quant").values()
                     if q.get("product_id") == rec["id"] and q.get("location_id") in internal))


# (model, field) -> compute(db, record), and the fields of other models it reads
COMPUTED: dict[tuple[str, str], tuple[Callable[[Any, dict[str, Any]], Any], tuple[str, ...]]] = {
    ("product.product", "qty_available"): (_qty_available, ("stock.quant.quantity", "stock.quant.location_id",
                                                            "stock.location.usage")),
}


def fill_unread(db: Any, read: dict[str, set[str]]) -> None:
    """Stored computed values a seeding snapshot did not read, computed as Odoo computed them at create: an
    order's ``currency_id`` is its vendor's purchase currency or else its company's (O19 purchase_order.py
    ``_compute_currency_id``; the vendors' purchase currency is not in the snapshot: taken as unset, as
    ``create`` above assumes too). ``read``: the fields the snapshot read, per model. Recorded: 19
    ``g4.read.monetary_o2m`` reads USD, the company's currency."""
    m = "purchase.order"
    if m not in db.models or not {"currency_id", "company_id"} <= set(db.models[m].fields) \
            or "currency_id" in read.get(m, ()):
        return
    companies = db.table("res.company")
    for rid, rec in db.table(m).items():
        if rec.get("currency_id") is None:
            currency = (companies.get(rec.get("company_id") or 0) or {}).get("currency_id")
            if currency:
                rec["currency_id"] = currency
                db._persist(m, rid)


def add_computed(db: Any) -> None:
    """Give the fields above Odoo's computation where the database declares them (a replay learns them from a
    recorded ``fields_get`` as not stored) and holds what they read."""
    import dataclasses

    for (model, fname), (compute, reads) in COMPUTED.items():
        spec = db.models.get(model)
        if spec is None or fname not in spec.fields or spec.fields[fname].stored:
            continue
        if all(r.rsplit(".", 1)[0] in db.models and r.rsplit(".", 1)[1] in db.models[r.rsplit(".", 1)[0]].fields
               for r in reads):
            spec.fields[fname] = dataclasses.replace(spec.fields[fname], compute=compute, env_compute=False)


# ---------------------------------------------------------------------- after writes
def after_change(env: Env, model: str, rid: int, vals: dict[str, Any]) -> None:
    """Stored values Odoo recomputes or its ``write`` override sets."""
    table = env.db.table(model)
    rec = table.get(rid)
    if rec is None:
        return
    # ``write``: a new owner follows the equipment; a new owner or technician follows the request
    # (``MaintenanceEquipment.write``, ``MaintenanceRequest.write`` → ``_add_followers``)
    if model == "maintenance.equipment" and vals.get("owner_user_id"):
        subscribe(env, model, rec, [rec.get("owner_user_id")])
    if model == "maintenance.request" and (vals.get("owner_user_id") or vals.get("user_id")):
        subscribe(env, model, rec, [rec.get("owner_user_id"), rec.get("user_id")])
    if model == "maintenance.request" and "stage_id" in vals:
        if _has(env, model, "kanban_state") and "kanban_state" not in vals:
            rec["kanban_state"] = "normal"
        stage = env.db.table("maintenance.stage").get(rec.get("stage_id") or 0) or {}
        if stage.get("done") and _has(env, model, "close_date") and not vals.get("close_date"):
            rec["close_date"] = _today(env)
    if model == "maintenance.request" and {"schedule_date", "schedule_end"} & set(vals) \
            and _has(env, model, "schedule_date", "schedule_end", "duration"):
        _schedule(rec, reset_end="schedule_end" not in vals)
    if model == "purchase.order.line":
        if _has(env, model, "price_subtotal"):
            rec["price_subtotal"] = float(rec.get("product_qty") or 0) * float(rec.get("price_unit") or 0)
        _order_totals(env, rec.get("order_id"))
    if model == "purchase.order":
        _order_totals(env, rid)
    env.db._persist(model, rid)


def _schedule(rec: dict[str, Any], *, reset_end: bool) -> None:
    """19's ``_compute_schedule_end`` (the start plus one hour, unless an end is given) and ``_compute_duration``
    (the hours between them, rounded to 2 places; 0 without both), which overrides a given duration (O19
    maintenance/models/maintenance.py; recorded: setup's request 7, created with a duration of 7 and no end,
    reads 1.0 in the snapshot, request 6 with an end 2.5 h later 2.5; demo's ``read_group`` in
    ``g10.odoorpc.20`` sums 1.0 for each of the two requests group 9 created with a start only)."""
    from datetime import datetime, timedelta

    fmt = "%Y-%m-%d %H:%M:%S"
    start = datetime.fromisoformat(str(rec["schedule_date"])) if rec.get("schedule_date") else None
    if reset_end:
        rec["schedule_end"] = (start + timedelta(hours=1)).strftime(fmt) if start else None
    end = datetime.fromisoformat(str(rec["schedule_end"])) if rec.get("schedule_end") else None
    rec["duration"] = round((end - start).total_seconds() / 3600, 2) if start and end else 0.0


def _order_totals(env: Env, order_id: Any) -> None:
    order = env.db.table("purchase.order").get(order_id or 0)
    if order is None or not _has(env, "purchase.order", "amount_untaxed"):
        return
    lines = [r for r in env.db.table("purchase.order.line").values() if r.get("order_id") == order_id]
    total = sum(float(r.get("price_subtotal") or 0) for r in lines)
    order["amount_untaxed"] = total
    if _has(env, "purchase.order", "amount_total"):
        order["amount_total"] = total + sum(float(r.get("price_tax") or 0) for r in lines)
    planned = [str(r["date_planned"]) for r in lines if r.get("date_planned")]
    if planned and _has(env, "purchase.order", "date_planned"):
        order["date_planned"] = min(planned)  # `_compute_date_planned`: the earliest line
    env.db._persist("purchase.order", int(order_id))


def before_unlink(env: Env, model: str, ids: list[int]) -> None:
    if model == "purchase.order":
        for rid in ids:
            if (env.db.table(model).get(rid) or {}).get("state") not in ("draft", "cancel", None):
                raise UserError("In order to delete a purchase order, you must cancel it first.")


# ---------------------------------------------------------------------- button methods
def _writable(env: Env, model: str, ids: list[int]) -> None:
    if not env.check_access(model, "write", raise_exception=False):
        env.check_access(model, "write")  # the "not allowed to modify" error with its groups
    if not env.su and set(ids) - set(env._search_ids(model, [("id", "in", ids)], active_test=False, op="write")):
        raise AccessError(f"You are not allowed to modify '{env.spec(model).description}' ({model}) records.")


def button_confirm(env: Env, model: str, ids: Any) -> Any:
    ids = [int(i) for i in (ids if isinstance(ids, list) else [ids])]
    _writable(env, model, ids)
    for rid in ids:
        rec = env.db.table(model).get(rid)
        if rec is not None and rec.get("state") in ("draft", "sent"):
            env.sudo().write(model, [rid], {"state": "purchase", "date_approve": env.db.clock()}
                             if _has(env, model, "date_approve") else {"state": "purchase"})
    return True


def button_cancel(env: Env, model: str, ids: Any) -> Any:
    ids = [int(i) for i in (ids if isinstance(ids, list) else [ids])]
    _writable(env, model, ids)
    env.sudo().write(model, ids, {"state": "cancel"})
    return None


def archive_equipment_request(env: Env, model: str, ids: Any) -> Any:
    ids = [int(i) for i in (ids if isinstance(ids, list) else [ids])]
    env.write(model, ids, {"archive": True})
    return None


BUTTONS: dict[str, tuple[str, Callable[..., Any]]] = {
    "button_confirm": ("purchase.order", button_confirm),
    "button_cancel": ("purchase.order", button_cancel),
    "archive_equipment_request": ("maintenance.request", archive_equipment_request),
}

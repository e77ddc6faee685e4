"""Community model rights of the modules the recordings' server ran (base, product, stock, purchase_stock,
project), for the replay of ``8_access``.

The rows are the ``security/ir.model.access.csv`` lines of the models the double serves, for the groups the
recorded users hold (read with the code search; reference only):

- ``odoo/addons/base``, ``addons/stock``, ``addons/project``: jnvdx6/skymedic-odoo@85dffc0, the 19.0 tree the
  recordings were made from;
- ``addons/product``, ``addons/purchase_stock``: odoo/odoo (``product.*`` and ``uom.uom`` read by employees;
  purchase orders and lines read by Inventory users).

Group names are the ones the recorded server showed (19 ``g8.groups.demo_read``, ``g8.search_read.demo.res.groups``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copilot.odoo_double.store import Database

GROUPS: dict[str, str] = {
    "base.group_partner_manager": "Contact / Creation",
    "base.group_allow_export": "Export / Allowed",
    "base.group_multi_company": "Multi Companies",
    "base.group_public": "Public",
    "project.group_project_user": "Project / User",
    "project.group_project_manager": "Project / Administrator",
    "stock.group_stock_user": "Inventory / User",
    "stock.group_stock_manager": "Inventory / Administrator",
    "purchase.group_purchase_user": "Purchase / User",
    "purchase.group_purchase_manager": "Purchase / Administrator",
}
# 19's group names and privileges (``full_name`` is "<privilege> / <name>"): odoo/addons/base/security/
# base_groups.xml of the 19.0 tree above (``group_user`` is "Role / User", ``group_allow_export`` "Allowed" under
# the "Export" privilege, ...); the apps' groups as the recorded server named them ("Project / User",
# "Inventory / User": 19 g8.groups.demo_read)
NAMES_19: dict[str, tuple[str, str]] = {
    "base.group_user": ("", "Role / User"),
    "base.group_system": ("", "Role / Administrator"),
    "base.group_erp_manager": ("", "Access Rights"),
    "base.group_sanitize_override": ("", "Bypass HTML Field Sanitize"),
    "base.group_multi_currency": ("", "Multi Currencies"),
    "base.group_no_one": ("", "Technical Features"),
    "base.group_portal": ("", "Role / Portal"),
    "base.group_public": ("", "Role / Public"),
    "base.group_multi_company": ("", "Multi Companies"),
    "base.group_allow_export": ("Export", "Allowed"),
    "base.group_partner_manager": ("Contact", "Creation"),
    "project.group_project_user": ("Project", "User"),
    "project.group_project_manager": ("Project", "Administrator"),
    "stock.group_stock_user": ("Inventory", "User"),
    "stock.group_stock_manager": ("Inventory", "Administrator"),
    "purchase.group_purchase_user": ("Purchase", "User"),
    "purchase.group_purchase_manager": ("Purchase", "Administrator"),
}
# base_groups.xml's groups in their declaration order (the order the install gives them ids in), after the
# employees' group, which exists before the file is loaded (its ``group_erp_manager`` refers to it first)
DECLARED_19: tuple[str, ...] = (
    "base.group_user", "base.group_erp_manager", "base.group_sanitize_override", "base.group_system",
    "base.group_multi_company", "base.group_multi_currency", "base.group_no_one", "base.group_allow_export",
    "base.group_partner_manager", "base.group_portal", "base.group_public",
)
IMPLIED: dict[str, list[str]] = {
    "project.group_project_manager": ["project.group_project_user"],
    "stock.group_stock_manager": ["stock.group_stock_user"],
    "purchase.group_purchase_user": ["base.group_user"],
    "purchase.group_purchase_manager": ["purchase.group_purchase_user"],
}

# model, group, read/write/create/unlink as the CSV columns read
RIGHTS: tuple[tuple[str, str, str], ...] = (
    # base
    ("res.partner", "base.group_public", "1000"),
    ("res.partner", "base.group_portal", "1000"),
    ("res.partner", "base.group_partner_manager", "1111"),
    ("res.partner", "base.group_user", "1000"),
    ("res.partner.category", "base.group_user", "1000"),
    ("res.partner.category", "base.group_partner_manager", "1111"),
    ("res.company", "base.group_erp_manager", "1111"),
    ("res.company", "base.group_public", "1000"),
    ("res.company", "base.group_portal", "1000"),
    ("res.company", "base.group_user", "1000"),
    ("res.users", "base.group_public", "1000"),
    ("res.users", "base.group_portal", "1000"),
    ("res.users", "base.group_user", "1000"),
    ("res.users", "base.group_erp_manager", "1111"),
    ("res.groups", "base.group_erp_manager", "1111"),
    ("res.groups", "base.group_user", "1000"),
    ("res.users.apikeys", "base.group_user", "1000"),
    ("res.users.apikeys", "base.group_portal", "1000"),
    # product (uom.uom: employees read it)
    ("product.product", "base.group_user", "1000"),
    ("product.template", "base.group_user", "1000"),
    ("product.category", "base.group_user", "1000"),
    ("uom.uom", "base.group_user", "1000"),
    # stock
    ("stock.warehouse", "stock.group_stock_manager", "1111"),
    ("stock.warehouse", "base.group_user", "1000"),
    ("stock.location", "base.group_partner_manager", "1000"),
    ("stock.location", "stock.group_stock_manager", "1111"),
    ("stock.location", "base.group_user", "1000"),
    ("stock.picking", "stock.group_stock_user", "1111"),
    ("stock.picking", "stock.group_stock_manager", "1111"),
    ("stock.picking.type", "base.group_user", "1000"),
    ("stock.picking.type", "stock.group_stock_user", "1000"),
    ("stock.picking.type", "stock.group_stock_manager", "1111"),
    ("stock.lot", "stock.group_stock_user", "1111"),
    ("stock.move", "stock.group_stock_manager", "1111"),
    ("stock.move", "stock.group_stock_user", "1110"),
    ("product.product", "stock.group_stock_user", "1000"),
    ("product.template", "stock.group_stock_user", "1000"),
    ("stock.quant", "stock.group_stock_user", "1110"),
    ("stock.quant", "base.group_user", "1000"),
    ("stock.move.line", "stock.group_stock_manager", "1111"),
    ("stock.move.line", "stock.group_stock_user", "1111"),
    ("stock.move.line", "base.group_user", "1111"),
    # purchase: its users handle orders (purchase/security/ir.model.access.csv); portal vendors read their
    # orders (the rule below narrows them)
    ("purchase.order", "purchase.group_purchase_user", "1111"),
    ("purchase.order.line", "purchase.group_purchase_user", "1111"),
    ("purchase.order", "base.group_portal", "1000"),
    ("purchase.order.line", "base.group_portal", "1000"),
    # purchase_stock
    ("purchase.order", "stock.group_stock_user", "1000"),
    ("purchase.order.line", "stock.group_stock_user", "1000"),
    # project
    ("project.project", "project.group_project_user", "1000"),
    ("project.project", "project.group_project_manager", "1111"),
    ("project.project", "base.group_user", "1000"),
    ("project.project", "base.group_portal", "1000"),
    ("project.task.type", "base.group_user", "1000"),
    ("project.task.type", "project.group_project_user", "1111"),
    ("project.task.type", "project.group_project_manager", "1111"),
    ("project.task.type", "base.group_portal", "1000"),
    ("project.task", "project.group_project_user", "1111"),
    ("project.task", "base.group_user", "1000"),
    ("project.task", "base.group_portal", "1000"),
    ("res.partner", "project.group_project_user", "1000"),
    ("project.tags", "base.group_user", "1000"),
    ("project.tags", "project.group_project_manager", "1111"),
    ("project.tags", "base.group_portal", "1000"),
    # project_todo (auto-installed with project): every employee manages to-dos, their stages and tags,
    # narrowed by its rules below (recorded: 19 g8.has_access.demo.project.tags.* all true)
    ("project.task.type", "base.group_user", "1111"),
    ("project.task", "base.group_user", "1111"),
    ("project.tags", "base.group_user", "1111"),
)


_P: list[Any] = [{"$user": "partner_id"}]
_U: dict[str, str] = {"$user": "id"}
# ``[('company_id', 'in', company_ids + [False])]``: the companies of the call, here the user's company
_MULTI_COMPANY: list[Any] = ["|", ("company_id", "=", False), ("company_id", "in", {"$user": "company_ids"})]
_TASK_VISIBLE: list[Any] = [
    "|",
    "&", ("project_id", "!=", False),
    "|", ("project_id.privacy_visibility", "in", ["employees", "portal"]), ("project_id.message_partner_ids", "in", _P),
    "|", ("message_partner_ids", "in", _P), ("user_ids", "in", _U),
]  # fmt: skip
# ``odoo/addons/base/security/base_security.xml`` and ``addons/project/security/project_security.xml`` of the
# same 19.0 tree (base's rule is the same in 17): who reads which partner, who reads and writes which task
RULES: tuple[tuple[str, str, list[Any], tuple[str, ...], tuple[str, ...]], ...] = (
    ("res.partner", "res_partner: portal/public: read access on my commercial partner",
     [("id", "child_of", {"$user": "commercial_partner_id"})], ("base.group_portal", "base.group_public"), ("read",)),
    ("project.task", "Project/Task: employees: follow required for follower-only projects",
     _TASK_VISIBLE, ("base.group_user",), ("read",)),
    ("project.task", "Project/Task: project users: follow required for follower-only projects",
     _TASK_VISIBLE, ("project.group_project_user",), ("write", "create", "unlink")),
    ("project.task", "Project: See private tasks",
     ["&", ("project_id.privacy_visibility", "in", ["employees", "portal"]),
      "|", "|", ("project_id", "!=", False), ("parent_id", "!=", False), ("user_ids", "in", _U)],
     ("project.group_project_user",), ("read", "write", "create", "unlink")),
    ("project.task", "Project/Task: project manager: see all tasks linked to a project or its own tasks",
     ["|", ("project_id", "!=", False), ("user_ids", "in", _U)],
     ("project.group_project_manager",), ("read", "write", "create", "unlink")),
    ("project.project", "Project: multi-company", _MULTI_COMPANY, (), ("read", "write", "create", "unlink")),
    ("project.project", "Project: project manager: see all", [],
     ("project.group_project_manager",), ("read", "write", "create", "unlink")),
    ("project.project", "Project: employees: following required for follower-only projects",
     ["|", ("privacy_visibility", "in", ["employees", "portal"]), ("message_partner_ids", "in", _P)],
     ("base.group_user",), ("read", "write", "create", "unlink")),
    ("project.task", "Project/Task: multi-company", _MULTI_COMPANY, (), ("read", "write", "create", "unlink")),
    ("project.task.type", "Project/Task Type: see own or unowned stages",
     [("user_id", "in", [False, _U])], (), ("read", "write", "create", "unlink")),
    ("project.task.type", "Project/Task Type: write own stages",
     [("user_id", "=", _U)], ("project.group_project_user",), ("write", "create", "unlink")),
    ("project.task.type", "Project/Task Type: manager sees all", [],
     ("project.group_project_manager",), ("read", "write", "create", "unlink")),
    # addons/purchase/security/purchase_security.xml (same 19.0 tree): a portal user's orders are those of its
    # commercial partner; the orders' multi-company rule (the lines' one is left out: their stored related
    # ``company_id`` is not in the snapshot)
    ("purchase.order", "Portal Purchase Orders",
     [("partner_id", "child_of", [{"$user": "commercial_partner_id"}])], ("base.group_portal",),
     ("read", "write", "unlink")),
    ("purchase.order.line", "Portal Purchase Order Lines",
     [("order_id.partner_id", "child_of", [{"$user": "commercial_partner_id"}])], ("base.group_portal",),
     ("read", "write", "create", "unlink")),
    ("purchase.order", "Purchase Order multi-company", [("company_id", "in", {"$user": "company_ids"})], (),
     ("read", "write", "create", "unlink")),
    # addons/project_todo/security/project_todo_security.xml (odoo/odoo; the module is in the recorded server)
    ("project.task", "Project/Task: employees: Full access to own private task only",
     [("project_id", "=", False), ("user_ids", "in", _U), ("parent_id", "=", False)],
     ("base.group_user",), ("read", "write", "create", "unlink")),
    ("project.task.type", "Project/Task Type: write own stages (to-do)",
     [("user_id", "=", _U)], ("base.group_user",), ("write", "create", "unlink")),
    ("project.tags", "Project/tags employees: Full access to own tags only",
     [("create_uid", "=", _U), ("project_ids", "=", False)], ("base.group_user",), ("write", "create", "unlink")),
    # odoo/addons/base/security/base_security.xml (19.0 tree above; the same rules in 17): users read and delete
    # their own API keys, Settings administrators see every key to revoke it (public users, who cannot log in
    # over RPC, see none: left out)
    ("res.users.apikeys", "Users can read and delete their own keys", [("user_id", "=", _U)],
     ("base.group_portal", "base.group_user"), ("read", "write", "create", "unlink")),
    ("res.users.apikeys", "Administrators can view user keys to revoke them", [],
     ("base.group_system",), ("read", "write", "create", "unlink")),
)  # fmt: skip


# ``addons/maintenance/security/maintenance.xml`` (the same in 17, 18 and 19; O17 Clyde1030/odoo17, O19
# jnvdx6/skymedic-odoo): employees see the equipment they follow and the requests they own, follow or are the
# technician of; Equipment Managers see all; the multi-company rules apply where the records carry a company
MAINTENANCE_MANAGER = "maintenance.group_equipment_manager"
MAINTENANCE_RULES: tuple[tuple[str, str, list[Any], tuple[str, ...]], ...] = (
    ("maintenance.request", "Users are allowed to access their own maintenance requests",
     ["|", "|", ("owner_user_id", "=", _U), ("message_partner_ids", "in", _P), ("user_id", "=", _U)],
     ("base.group_user",)),
    ("maintenance.equipment", "Users are allowed to access equipment they follow",
     [("message_partner_ids", "in", _P)], ("base.group_user",)),
    ("maintenance.request", "Administrator of maintenance requests", [], (MAINTENANCE_MANAGER,)),
    ("maintenance.equipment", "Equipment administrator", [], (MAINTENANCE_MANAGER,)),
    ("maintenance.request", "Maintenance Request Multi-company rule",
     [("company_id", "in", {"$user": "company_ids"})], ()),
    ("maintenance.equipment", "Maintenance Equipment Multi-company rule", _MULTI_COMPANY, ()),
)  # fmt: skip
# ``addons/maintenance/security/ir.model.access.csv``: employees read, and handle requests; managers do all
MAINTENANCE_RIGHTS: tuple[tuple[str, str, str], ...] = (
    ("maintenance.equipment", "base.group_user", "1000"),
    ("maintenance.equipment.category", "base.group_user", "1000"),
    ("maintenance.request", "base.group_user", "1111"),
    ("maintenance.stage", "base.group_user", "1000"),
    ("maintenance.team", "base.group_user", "1000"),
    *((m, MAINTENANCE_MANAGER, "1111") for m in (
        "maintenance.equipment", "maintenance.equipment.category", "maintenance.request", "maintenance.stage",
        "maintenance.team")),
)  # fmt: skip


def seed_maintenance(db: Database) -> None:
    """The Equipment Manager group (it implies employees; ``base.user_admin`` holds it), the manager rights and
    the record rules above, for the models and fields ``db`` serves (idempotent: the replay calls it again once
    the recorded ``company_id`` fields are declared). Employees' rights come with the database."""
    fresh = db.xmlid_to_res_id(MAINTENANCE_MANAGER) is None or not _has_rule(db, MAINTENANCE_RULES[0][1])
    db.add_group(MAINTENANCE_MANAGER, "Equipment Manager")
    db.set_implied(MAINTENANCE_MANAGER, ["base.group_user"])
    for model, group, perms in MAINTENANCE_RIGHTS:
        if fresh and model in db.models and group == MAINTENANCE_MANAGER:
            flags = dict(zip(("read", "write", "create", "unlink"), (c == "1" for c in perms), strict=True))
            db.grant(model, group, **flags)
    for model, name, domain, groups in MAINTENANCE_RULES:
        spec = db.models.get(model)
        if spec is not None and _fields_of(domain) <= set(spec.fields) and not _has_rule(db, name):
            db.add_rule(model, domain, name=name, groups=groups)


def _has_rule(db: Database, name: str) -> bool:
    return any(r.get("name") == name for r in db.table("ir.rule").values())


def _fields_of(domain: list[Any]) -> set[str]:
    named = {str(t[0]).split(".")[0] for t in domain if isinstance(t, tuple) and isinstance(t[0], str)}
    return named - {"id", "create_uid", "write_uid", "create_date", "write_date"}  # on every model


def _tag_projects(db: Database, rec: dict[str, Any]) -> list[int]:
    return sorted(pid for pid, p in db.table("project.project").items() if rec["id"] in (p.get("tag_ids") or []))


def add_tag_projects(db: Database) -> None:
    """``project.tags.project_ids``: the other side of ``project.project.tag_ids`` (one relation table in Odoo,
    ``project_project_project_tags_rel``), where the double knows only the projects' side (the snapshot reads
    tags without it). project_todo's tag rule needs it."""
    from copilot.odoo_double.schema import Field

    tags, projects = db.models.get("project.tags"), db.models.get("project.project")
    if tags is None or projects is None or "tag_ids" not in projects.fields or "project_ids" in tags.fields:
        return
    tags.fields["project_ids"] = Field("many2many", "Projects", relation="project.project", compute=_tag_projects)


# 19's base_groups.xml (same tree): Settings implies Access Rights, export and contact creation
# (``implied_by_ids`` on the latter two); Access Rights implies employees
IMPLIED_19: dict[str, list[str]] = {
    "base.group_system": ["base.group_erp_manager", "base.group_user", "base.group_allow_export",
                          "base.group_partner_manager"],
    "base.group_erp_manager": ["base.group_user"],
}


def seed(db: Database) -> None:
    """Add the groups, the model rights and the record rules above (for the models and fields ``db`` serves)."""
    add_tag_projects(db)
    for xmlid, name in GROUPS.items():
        db.add_group(xmlid, name)
    for xmlid, implied in IMPLIED.items():
        db.set_implied(xmlid, implied)
    if db.major >= 19:
        for xmlid in DECLARED_19[1:]:
            db.add_group(xmlid, NAMES_19[xmlid][1])
        for xmlid, implied in IMPLIED_19.items():
            db.set_implied(xmlid, implied)
    for model, group, perms in RIGHTS:
        if model in db.models:
            flags = dict(zip(("read", "write", "create", "unlink"), (c == "1" for c in perms), strict=True))
            db.grant(model, group, **flags)
    for model, name, domain, groups, ops in RULES:
        spec = db.models.get(model)
        if spec is not None and _fields_of(domain) <= set(spec.fields):
            db.add_rule(model, domain, name=name, groups=groups, perms=ops)
    seed_maintenance(db)  # the multi-company rules, now that the recorded company fields are declared

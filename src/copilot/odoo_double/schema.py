"""Model declarations the double serves, per Odoo major version.

Fields are declared with Odoo's type, label and relation so ``fields_get`` answers what a real database would
(ODOO.md §3, §5, §6). Version differences the readers must cope with are encoded here: ``groups_id`` (≤18) vs
``group_ids``/``all_group_ids`` (19) on ``res.users``; ``documents.folder`` (≤17) vs folder documents with
``access_internal``/``access_ids`` (18+).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from copilot.odoo_double import chatter, rules

RELATIONAL = frozenset({"many2one", "one2many", "many2many"})
NUMERIC = frozenset({"integer", "float", "monetary"})


@dataclass(frozen=True)
class Field:
    """One field. ``related`` is a dotted path through relations; ``compute`` is a non-stored function."""

    type: str
    string: str = ""
    relation: str | None = None
    relation_field: str | None = None  # inverse many2one of a one2many
    selection: tuple[tuple[str, str], ...] = ()
    required: bool = False
    related: str | None = None
    compute: Callable[[Any, dict[str, Any]], Any] | None = None
    ondelete: str = "set null"
    default: Any = None  # a value, or a callable (db, values being created) -> value, e.g. a sequence
    private: bool = False  # never exposed over RPC (passwords)
    groups: str = ""  # Odoo's field ``groups=``: comma-separated group xml ids; others may not read or search it
    # ``compute`` takes the calling ``Env`` instead of the database: a value that depends on who asks
    # (Documents' ``user_permission``, Knowledge's ``user_has_access``)
    env_compute: bool = False
    # Odoo's ``search=`` method: ``(env, operator, value) -> domain``, evaluated without record rules for the
    # user who searches (how Odoo's record rules on ``user_permission != 'none'`` work)
    search: Callable[[Any, str, Any], list[Any]] | None = None
    searchable: bool = True  # False: a non-stored field without a search method (fields_get's `searchable`)
    aggregator: str | None = None  # read_group's default aggregate (``group_operator`` ≤17); None: sum if numeric
    # Odoo's ``company_dependent=True``: ≤17 keeps the value in ``ir.property``, which has no row for a number 0,
    # so searching ``= False`` there means ``= 0`` (O17 ``ir_property.py`` ``search_multi``)
    company_dependent: bool = False
    translate: bool = False  # a text field translated per language (``fields_get``'s ``translate``)

    @property
    def group_operator(self) -> str:
        """The aggregate a bare field name gets in ``read_group`` ("" for none)."""
        return self.aggregator if self.aggregator is not None else ("sum" if self.type in NUMERIC else "")

    @property
    def stored(self) -> bool:
        return self.compute is None and self.related is None and self.type != "one2many"


@dataclass
class ModelSpec:
    name: str
    description: str
    fields: dict[str, Field]
    rec_name: str = "name"
    parent_name: str = "parent_id"
    order: str = "id"
    model_methods: frozenset[str] = field(default_factory=frozenset)
    name_search_fields: tuple[str, ...] = ()  # Odoo's `_rec_names_search` (default: the rec_name alone)


# Models' ``_order`` and ``_rec_name`` where Odoo's differ from the ORM defaults ("id", "name"), for the models the
# recordings query (O17/O19 ``_order`` declarations of base, product, stock, purchase, project, maintenance, uom;
# checked against the recorded default orders: g3.partner.default_order, g7.search, g5.read_group.* group order).
# The replay seeding applies them to the recorded server's models; the double's own declarations keep theirs.
ODOO_ORDER: dict[str, str] = {
    "res.partner": "complete_name ASC, id DESC",
    "res.users": "name, login",
    "res.company": "sequence, name",
    "res.country": "name",
    "res.partner.category": "name",
    "product.product": "priority desc, default_code, name, id",
    "product.template": "priority desc, name, id",
    "product.category": "complete_name",
    "purchase.order": "priority desc, id desc",
    "purchase.order.line": "order_id, sequence, id",
    "stock.location": "complete_name, id",
    "stock.lot": "name, id",
    "stock.warehouse": "sequence, id",
    "project.project": "sequence, name, id",
    "project.task": "priority desc, sequence, id desc",
    "project.task.type": "sequence, id",
    "project.tags": "name",
    "maintenance.stage": "sequence, id",
    "maintenance.request": "id desc",
    "maintenance.team": "id",
    "ir.attachment": "id desc",
}
ODOO_ORDER_18: dict[str, str] = {  # 18+ renamed the product's `priority` to `is_favorite`
    "product.product": "is_favorite desc, default_code, name, id",
    "product.template": "is_favorite desc, name, id",
}
# ≤17 only: 18+ orders groups by privilege first (O19 res_groups.py `_order = 'privilege_id, sequence, name, id'`),
# which the double does not model (O17 res_users.py `Groups._order = 'name'`; recorded: 17 g4.read.old_groups_field)
ODOO_ORDER_17: dict[str, str] = {"res.groups": "name"}
# `_rec_names_search`: what name_search matches (O17/O19 base/models/res_partner.py; recorded: g4.name_search*)
ODOO_NAME_SEARCH: dict[str, tuple[str, ...]] = {
    "res.partner": ("complete_name", "email", "ref", "vat", "company_registry"),
}
ODOO_PARENT: dict[str, str] = {"stock.location": "location_id"}  # `_parent_name` where it is not parent_id
ODOO_REC_NAME: dict[str, str] = {
    "stock.location": "complete_name",
    "product.category": "complete_name",
}


def _f(type_: str, string: str = "", **kw: Any) -> Field:
    return Field(type_, string, **kw)


def _m2o(rel: str, string: str = "", **kw: Any) -> Field:
    return Field("many2one", string, relation=rel, **kw)


def _sel(string: str, *keys: str, **kw: Any) -> Field:
    return Field("selection", string, selection=tuple((k, k.replace("_", " ").title()) for k in keys), **kw)


def _followers() -> Field:
    """mail.thread's ``message_partner_ids`` (computed from ``mail.followers`` in Odoo, with an inverse and a
    search; employees only: ``groups='base.group_user'``, recorded 17/19 ``fields_get``). The double stores the
    follower partners on the record; ``business.py`` subscribes who Odoo's create/write code subscribes."""
    return Field("many2many", "Followers (Partners)", relation="res.partner", groups="base.group_user")


def build_models(major: int) -> dict[str, ModelSpec]:
    """The model registry of one database of Odoo ``major`` with Documents, Knowledge and Maintenance."""
    users_groups = "group_ids" if major >= 19 else "groups_id"
    groups_users = "user_ids" if major >= 19 else "users"
    specs: list[ModelSpec] = [
        ModelSpec(
            "ir.model", "Models", {"model": _f("char", "Model", required=True), "name": _f("char", "Name")}
        ),
        ModelSpec(
            "ir.model.data",
            "Model Data",
            {
                "module": _f("char", "Module"),
                "name": _f("char", "External Identifier", required=True),
                "model": _f("char", "Model Name"),
                "res_id": _f("integer", "Record ID"),
                "complete_name": _f(
                    "char", "Complete ID", compute=lambda db, r: f"{r['module']}.{r['name']}"
                ),
            },
            rec_name="complete_name",
        ),
        ModelSpec(
            "res.groups",
            "Access Groups",
            {
                "name": _f("char", "Name", required=True),
                # Odoo's `_compute_full_name`: "<privilege (19) or category (≤17)> / <name>", or the name alone
                "full_name": _f("char", "Group Name", compute=lambda db, r: (
                    f"{r['privilege']} / {r.get('name')}" if r.get("privilege") else r.get("name"))),
                "implied_ids": Field("many2many", "Inherits", relation="res.groups"),
                # the explicit members: the other side of the users' groups (one relation table in Odoo)
                groups_users: Field("many2many", "Users", relation="res.users", compute=lambda db, r: sorted(
                    uid for uid, u in db.table("res.users").items()
                    if r["id"] in (u.get(users_groups) or []) and u.get("active", True))),
            },
        ),
        ModelSpec(
            "res.partner",
            "Contact",
            {
                "name": _f("char", "Name"),
                "email": _f("char", "Email"),
                "is_company": _f("boolean", "Is a Company"),
                "parent_id": _m2o("res.partner", "Related Company"),
                "active": _f("boolean", "Active", default=True),
            },
        ),
        ModelSpec(
            "res.users",
            "User",
            {
                "name": _f("char", "Name", related="partner_id.name"),
                "login": _f("char", "Login", required=True),
                # reads back "" (Odoo's `_compute_password`); the secret is kept under the same key in the record
                # (recorded: g6.*.access_field_groups, and `password` is in both versions' fields_get)
                "password": _f("char", "Password", compute=lambda db, r: ""),
                "partner_id": _m2o("res.partner", "Related Partner", required=True),
                users_groups: Field("many2many", "Groups", relation="res.groups"),
                "lang": _f("char", "Language", default="en_US"),
                "tz": _f("char", "Timezone", default="UTC"),
                "active": _f("boolean", "Active", default=True),
                "share": _f("boolean", "Share User", compute=lambda db, r: rules.is_share(db, r["id"])),
            }
            | (
                {
                    "all_group_ids": Field(
                        "many2many",
                        "Groups and implied groups",
                        relation="res.groups",
                        compute=lambda db, r: sorted(db.user_group_ids(r["id"])),
                    )
                }
                if major >= 19
                else {}
            ),
            rec_name="name",
            model_methods=frozenset({"context_get"}),
        ),
        ModelSpec(
            "res.users.apikeys",
            "Users API Keys",
            {
                "name": _f("char", "Description"),
                "user_id": _m2o("res.users", "User", ondelete="cascade"),
                "key": _f("char", "Key", private=True),
                "scope": _f("char", "Scope"),
                "expiration_date": _f("datetime", "Expiration Date"),
            },
        ),
        ModelSpec(
            "ir.model.access",
            "Model Access",
            {
                "name": _f("char", "Name"),
                "model_id": _m2o("ir.model", "Model", required=True),
                "group_id": _m2o("res.groups", "Group"),
                "perm_read": _f("boolean", "Read Access"),
                "perm_write": _f("boolean", "Write Access"),
                "perm_create": _f("boolean", "Create Access"),
                "perm_unlink": _f("boolean", "Delete Access"),
            },
        ),
        ModelSpec(
            "ir.rule",
            "Record Rule",
            {
                "name": _f("char", "Name"),
                "model_id": _m2o("ir.model", "Model", required=True),
                "groups": Field("many2many", "Groups", relation="res.groups"),
                "domain_force": _f("text", "Domain"),
                "perm_read": _f("boolean", "Apply for Read", default=True),
                "perm_write": _f("boolean", "Apply for Write", default=True),
                "perm_create": _f("boolean", "Apply for Create", default=True),
                "perm_unlink": _f("boolean", "Apply for Delete", default=True),
                "global": _f("boolean", "Global", compute=lambda db, r: not r.get("groups")),
            },
        ),
        ModelSpec(
            "ir.attachment",
            "Attachment",
            {
                "name": _f("char", "Name", required=True),
                "description": _f("text", "Description"),
                "res_model": _f("char", "Resource Model"),
                "res_id": _f("integer", "Resource ID"),
                "type": _sel("Type", "binary", "url", default="binary"),
                "mimetype": _f("char", "Mime Type"),
                "file_size": _f("integer", "File Size"),
                "checksum": _f("char", "Checksum/SHA1"),
                "datas": _f("binary", "File Content (base64)"),
                "public": _f("boolean", "Is public document"),
            },
        ),
        ModelSpec(
            "maintenance.equipment.category",
            "Maintenance Equipment Category",
            {"name": _f("char", "Category Name", required=True)},
        ),
        ModelSpec(
            "maintenance.team",
            "Maintenance Teams",
            {"name": _f("char", "Team Name", required=True), "active": _f("boolean", "Active", default=True)},
        ),
        ModelSpec(
            "maintenance.stage",
            "Maintenance Stage",
            {
                "name": _f("char", "Name", required=True),
                "sequence": _f("integer", "Sequence"),
                "fold": _f("boolean", "Folded in Maintenance Pipe"),
                "done": _f("boolean", "Request Done"),
            },
        ),
        ModelSpec(
            "maintenance.equipment",
            "Maintenance Equipment",
            {
                "name": _f("char", "Equipment Name", required=True),
                "active": _f("boolean", "Active", default=True),
                "category_id": _m2o("maintenance.equipment.category", "Equipment Category"),
                "serial_no": _f("char", "Serial Number"),
                "model": _f("char", "Model"),
                # 19 removed the free-text location (recordings: odoo19 fields_get of maintenance.equipment has
                # no `location`; 17 has it); stock_maintenance adds `location_id` where stock is installed
                **({} if major >= 19 else {"location": _f("char", "Location")}),
                "cost": _f("float", "Cost"),
                "note": _f("html", "Note"),  # recordings: html on 17 and 19
                "effective_date": _f("date", "Effective Date"),
                "maintenance_team_id": _m2o("maintenance.team", "Maintenance Team"),
                "owner_user_id": _m2o("res.users", "Owner"),
                "technician_user_id": _m2o("res.users", "Technician"),
                "message_partner_ids": _followers(),
                "maintenance_ids": Field(
                    "one2many",
                    "Maintenance Requests",
                    relation="maintenance.request",
                    relation_field="equipment_id",
                ),
            },
        ),
        ModelSpec(
            "maintenance.request",
            "Maintenance Request",
            {
                "name": _f("char", "Subjects", required=True),
                "description": _f("html", "Description"),
                "request_date": _f("date", "Request Date"),
                "schedule_date": _f("datetime", "Scheduled Date"),
                "close_date": _f("date", "Close Date"),
                "equipment_id": _m2o("maintenance.equipment", "Equipment", ondelete="cascade"),
                "category_id": _m2o(
                    "maintenance.equipment.category", "Category", related="equipment_id.category_id"
                ),
                "maintenance_team_id": _m2o("maintenance.team", "Team"),
                "stage_id": _m2o("maintenance.stage", "Stage"),
                "maintenance_type": _sel(
                    "Maintenance Type", "corrective", "preventive", default="corrective"
                ),
                "priority": Field(
                    "selection",
                    "Priority",
                    selection=(("0", "Very Low"), ("1", "Low"), ("2", "Normal"), ("3", "High")),
                ),
                "kanban_state": _sel("Kanban State", "normal", "blocked", "done", default="normal"),
                "duration": _f("float", "Duration"),
                "archive": _f("boolean", "Archive"),
                # the request rule's fields (maintenance/security/maintenance.xml equipment_request_rule_user)
                "owner_user_id": _m2o("res.users", "Created by User"),
                "user_id": _m2o("res.users", "Technician"),
                "message_partner_ids": _followers(),
            },
            order="id desc",  # maintenance's `_order` (recorded: g3.mreq.default_order, newest first)
        ),
        ModelSpec(
            "knowledge.article",
            "Knowledge Article",
            {
                "name": _f("char", "Title"),
                "body": _f("html", "Body"),
                "icon": _f("char", "Emoji"),
                "parent_id": _m2o("knowledge.article", "Parent Article", ondelete="cascade"),
                "internal_permission": _sel("Internal Permission", "write", "read", "none"),
                "is_desynchronized": _f("boolean", "Desynchronized with parents"),
                # stored in Odoo (computed up the parent chain); computed on read here
                "inherited_permission": _sel(
                    "Inherited Permission", "write", "read", "none", compute=rules.inherited_permission
                ),
                "user_has_access": _f(
                    "boolean",
                    "Has Access",
                    compute=rules.compute_user_has_access,
                    env_compute=True,
                    search=rules.search_user_has_access,
                ),
                "user_has_write_access": _f(
                    "boolean",
                    "Has Write Access",
                    compute=rules.compute_user_has_write_access,
                    env_compute=True,
                    search=rules.search_user_has_write_access,
                ),
                "article_member_ids": Field(
                    "one2many",
                    "Members Information",
                    relation="knowledge.article.member",
                    relation_field="article_id",
                ),
                "active": _f("boolean", "Active", default=True),
            },
        ),
        ModelSpec(
            "knowledge.article.member",
            "Article Member",
            {
                "article_id": _m2o("knowledge.article", "Article", required=True, ondelete="cascade"),
                "partner_id": _m2o("res.partner", "Partner", required=True),
                "permission": _sel("Permission", "write", "read", "none", default="read"),
            },
            rec_name="permission",
        ),
    ]
    doc_fields: dict[str, Field] = {
        "name": _f("char", "Name"),
        "active": _f("boolean", "Active", default=True),
        "attachment_id": _m2o("ir.attachment", "Attachment"),
        "mimetype": _f("char", "Type", related="attachment_id.mimetype"),
        "file_size": _f("integer", "File Size", related="attachment_id.file_size"),
        "checksum": _f("char", "Checksum/SHA1", related="attachment_id.checksum"),
        "owner_id": _m2o("res.users", "Owner"),
        "partner_id": _m2o("res.partner", "Contact"),
        "description": _f("text", "Attachment Description"),
        "tag_ids": Field("many2many", "Tags", relation="documents.tag"),
    }
    specs.append(ModelSpec("documents.tag", "Tag", {"name": _f("char", "Tag Name", required=True)}))
    if major >= 18:
        doc_fields |= {
            "type": _sel("Type", "binary", "url", "folder", default="binary"),
            "folder_id": _m2o("documents.document", "Folder", ondelete="cascade"),
            "children_ids": Field(
                "one2many", "Children", relation="documents.document", relation_field="folder_id"
            ),
            "access_internal": _sel("Internal Access", "view", "edit", "none", default="none"),
            "access_via_link": _sel("Link Access", "view", "edit", "none", default="none"),
            "is_access_via_link_hidden": _f("boolean", "Link Access Hidden"),
            "user_permission": _sel(
                "User permission",
                "edit",
                "view",
                "none",
                compute=rules.compute_user_permission,
                env_compute=True,
                search=rules.search_user_permission,
            ),
            "access_ids": Field(
                "one2many", "Access", relation="documents.access", relation_field="document_id"
            ),
        }
        specs.append(ModelSpec("documents.document", "Document", doc_fields, parent_name="folder_id"))
        specs.append(
            ModelSpec(
                "documents.access",
                "Document / Partner",
                {
                    "document_id": _m2o("documents.document", "Document", required=True, ondelete="cascade"),
                    "partner_id": _m2o("res.partner", "Partner", required=True),
                    "role": _sel("Role", "view", "edit"),
                    "expiration_date": _f("datetime", "Expiration"),
                },
                rec_name="role",
            )
        )
    else:
        doc_fields |= {
            "type": _sel("Type", "empty", "binary", "url", default="binary"),
            "folder_id": _m2o("documents.folder", "Workspace", required=True, ondelete="cascade"),
        }
        specs.append(ModelSpec("documents.document", "Document", doc_fields))
        specs.append(
            ModelSpec(
                "documents.folder",
                "Documents Workspace",
                {
                    "name": _f("char", "Name", required=True),
                    "description": _f("html", "Description"),
                    "parent_folder_id": _m2o("documents.folder", "Parent Workspace", ondelete="cascade"),
                    "children_folder_ids": Field(
                        "one2many",
                        "Sub workspaces",
                        relation="documents.folder",
                        relation_field="parent_folder_id",
                    ),
                    "document_ids": Field(
                        "one2many", "Documents", relation="documents.document", relation_field="folder_id"
                    ),
                    "group_ids": Field("many2many", "Write Groups", relation="res.groups"),
                    "read_group_ids": Field("many2many", "Read Groups", relation="res.groups"),
                    "user_specific": _f("boolean", "Own Documents Only"),
                    "user_specific_write": _f("boolean", "Own Documents Only (Write)"),
                },
                parent_name="parent_folder_id",
            )
        )
    specs += mail_models()
    return {s.name: chatter.add_thread_fields(s, major) for s in specs}


def mail_models() -> list[ModelSpec]:
    """``mail.message`` and what it points to, as the ``mail`` module declares them (O17/O19
    ``addons/mail/models/mail_message.py``: ``_rec_name = 'subject'``, ``_order = 'id desc'``). The fields are
    those the recordings read (19 ``g9.mreq.message_read.*``, ``g9.mreq.messages.*``) plus the ones
    ``message_post`` fills; ``tracking_value_ids`` is restricted to Settings users (recorded:
    ``g9.mreq.tracking.demo``)."""
    message_types = (
        ("email", "Incoming Email"),
        ("comment", "Comment"),
        ("email_outgoing", "Outgoing Email"),
        ("notification", "System notification"),
        ("auto_comment", "Automated Targeted Notification"),
        ("user_notification", "User Specific Notification"),
    )
    return [
        ModelSpec(
            "mail.message",
            "Message",
            {
                "subject": _f("char", "Subject"),
                "date": _f("datetime", "Date"),
                "body": _f("html", "Contents", default=""),
                "model": _f("char", "Related Document Model"),
                "res_id": _f("many2one_reference", "Related Document ID"),
                "record_name": _f("char", "Message Record Name"),
                "message_type": Field(
                    "selection", "Type", selection=message_types, required=True, default="comment"
                ),
                "subtype_id": _m2o("mail.message.subtype", "Subtype"),
                "is_internal": _f("boolean", "Employee Only"),
                "email_from": _f("char", "From"),
                "author_id": _m2o("res.partner", "Author"),
                "partner_ids": Field("many2many", "Recipients (To)", relation="res.partner"),
                "parent_id": _m2o("mail.message", "Parent Message"),
                "child_ids": Field("one2many", "Child Messages", relation="mail.message", relation_field="parent_id"),
                "attachment_ids": Field("many2many", "Attachments", relation="ir.attachment"),
                "tracking_value_ids": Field(
                    "one2many",
                    "Tracking values",
                    relation="mail.tracking.value",
                    relation_field="mail_message_id",
                    groups="base.group_system",
                ),
            },
            rec_name="subject",
            order="id desc",
        ),
        ModelSpec(
            "mail.message.subtype",
            "Message subtypes",
            {
                "name": _f("char", "Message Type", required=True),
                "description": _f("text", "Description"),
                "internal": _f("boolean", "Internal Only"),
                "default": _f("boolean", "Default", default=True),
                "res_model": _f("char", "Model"),
                "sequence": _f("integer", "Sequence", default=1),
            },
            order="sequence, id",
        ),
        ModelSpec(
            "mail.tracking.value",
            "Mail Tracking Value",
            {
                "old_value_char": _f("char", "Old Value Char"),
                "new_value_char": _f("char", "New Value Char"),
                "mail_message_id": _m2o("mail.message", "Message ID", required=True, ondelete="cascade"),
            },
            rec_name="new_value_char",
        ),
    ]

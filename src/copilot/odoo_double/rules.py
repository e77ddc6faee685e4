"""Documents and Knowledge access, as Odoo Enterprise defines it (not recorded: the recordings are Community).

Each version gets the model rights of the module's ``security/ir.model.access.csv`` and the record rules of its
``security/*.xml``, with the rules' per-user fields (``user_permission``, ``user_has_access``) searched the way
the modules' ``_search_*`` methods do. Sources, read with the code search over public copies of Odoo
Enterprise (reference only, nothing copied):

- Documents 17: ``documents/security/security.xml`` and ``ir.model.access.csv`` of a 17.0 tree
  (Usman-Shaikhnag/lerm_civil_products@29a98a8): ``documents_document_readonly_rule`` (read groups; "own
  documents only" = ``user_specific``), ``documents_document_write_rule`` (write groups, ``user_specific_write``;
  a folder with no group at all is open), ``documents_document_manager_rule``; the rules apply to
  ``base.group_user``, so every employee, not only Documents users.
- Documents 18/19: ``documents_document_global_rule`` ``[('user_permission', '!=', 'none')]`` (19:
  zenphamgeek/odoo19-enterprise ``documents/security/security.xml``) and
  ``DocumentsDocument._search_user_permission`` (18: jdsjordan/odoo18e, 19: zenphamgeek/odoo19-enterprise,
  ``documents/models/documents_document.py``): owner, a ``documents.access`` member (a role, or no role when the
  link gives access), ``access_internal`` for employees, and the parent folder's link one level up unless the
  link is hidden; ``documents.group_documents_system`` sees everything.
- Knowledge: ``knowledge/security/ir_rule.xml`` (``user_has_access`` / ``user_has_write_access``, Settings
  sees all) and ``ir.model.access.csv`` (Raniani-lab/enterpriise), ``KnowledgeArticle._search_user_has_access``
  with ``_get_internal_permission`` / ``_get_partner_member_permissions`` (17: muhamed-abd-elzaher/odoo17e; 19:
  zenphamgeek/odoo19-enterprise ``knowledge/models/knowledge_article.py``): both permissions are inherited from
  the parent articles until one is set or an article is desynchronized; a member ``none`` removes the internal
  permission for that person.

Multi-company rules and Documents shortcuts are not modelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from copilot.odoo_double.errors import ServerValueError

if TYPE_CHECKING:
    from copilot.odoo_double.store import Database, Env

SUPERUSER_ID = 1
TRUE: list[Any] = []
FALSE: list[Any] = [(0, "=", 1)]
EDIT_OR_VIEW = ["view", "edit"]


class _Who:
    """The user a per-user field is computed or searched for (``env.user`` in Odoo, kept through sudo)."""

    def __init__(self, env: Env) -> None:
        self.db: Database = env.db
        self.uid = env.real_uid
        user = self.db.table("res.users").get(self.uid) or {}
        self.partner_id = user.get("partner_id")
        self.groups = self.db.user_group_ids(self.uid)
        self.su = self.uid == SUPERUSER_ID

    def has(self, xmlid: str) -> bool:
        gid = self.db.xmlid_to_res_id(xmlid)
        return self.su or (gid is not None and gid in self.groups)

    @property
    def share(self) -> bool:
        return not self.has("base.group_user")


def is_share(db: Database, uid: int) -> bool:
    """``res.users.share``: not an employee (portal, public)."""
    gid = db.xmlid_to_res_id("base.group_user")
    return gid is None or gid not in db.user_group_ids(uid)


# ---------------------------------------------------------------------------------------------- Documents 18+
def _roles(op: str, value: Any) -> set[str]:
    values = set(value) if isinstance(value, (list, tuple, set)) else {value}
    roles = {"view", "edit", "none"}
    if op in ("=", "in"):
        roles &= values
    elif op in ("!=", "not in"):
        roles -= values
    else:
        raise ServerValueError(f"Unsupported operator {op!r} on documents.document.user_permission")
    roles.discard("none")  # searching 'none' is not supported (Odoo returns no record)
    return roles


def search_user_permission(env: Env, op: str, value: Any) -> list[Any]:
    """``DocumentsDocument._search_user_permission`` (18/19) without companies and shortcuts."""
    roles = _roles(op, value)
    who = _Who(env)
    if not roles:
        return FALSE
    if who.has("documents.group_documents_system"):
        return FALSE if roles == {"view"} else TRUE  # system administrators edit everything
    if roles == {"view"}:
        level: list[Any] = [
            "|",
            "&", ("role", "=", "view"), ("document_id.access_via_link", "in", ["none", "view"]),
            "&", ("role", "=", False), ("document_id.access_via_link", "=", "view"),
        ]  # fmt: skip
    elif roles == {"edit"}:
        level = ["|", ("role", "=", "edit"), ("document_id.access_via_link", "=", "edit")]
    else:
        level = ["|", ("role", "in", EDIT_OR_VIEW), ("document_id.access_via_link", "!=", "none")]
    member = [
        "&", "&", *level, ("partner_id", "=", who.partner_id or 0),
        "|", ("expiration_date", "=", False), ("expiration_date", ">", who.db.clock()),
    ]  # fmt: skip
    direct: list[Any] = [("access_ids", "any", member)]
    if "edit" in roles:
        direct = ["|", *direct, ("owner_id", "=", who.uid)]
    if who.has("documents.group_documents_manager"):
        if roles == {"view"}:
            direct = ["&", *direct, ("access_internal", "=", "none")]
        else:
            direct = ["|", *direct, ("access_internal", "in", EDIT_OR_VIEW)]
    elif not who.share:
        if roles == {"view"}:
            internal: list[Any] = ["&", ("access_internal", "=", "view"), ("access_via_link", "in", ["none", "view"])]
        elif roles == {"edit"}:
            internal = [
                "|", ("access_internal", "=", "edit"),
                "&", ("access_internal", "=", "view"), ("access_via_link", "=", "edit"),
            ]  # fmt: skip
        else:
            internal = [("access_internal", "in", EDIT_OR_VIEW)]
        direct = ["|", *direct, *internal]
    # "If the user can access the parent, they have the link" -- one level up only, unless the link is hidden
    via_parent = [
        "&", "&", ("access_via_link", "in", sorted(roles)), ("is_access_via_link_hidden", "=", False),
        ("folder_id", "any", direct),
    ]  # fmt: skip
    return ["|", *direct, *via_parent]


def compute_user_permission(env: Env, rec: dict[str, Any]) -> str:
    """``user_permission`` read back: the highest role the search grants."""
    for role in ("edit", "view"):
        ids = env.sudo()._search_ids(
            "documents.document", ["&", ("id", "=", rec["id"]), *search_user_permission(env, "=", role)],
            active_test=False,
        )
        if ids:
            return role
    return "none"


# ---------------------------------------------------------------------------------------------- Knowledge
def _walk(db: Database, article_id: int, own: Any) -> Any:
    """Up the parent chain until ``own(article)`` is set or the article is desynchronized (the SQL of
    ``_get_internal_permission`` / ``_get_partner_member_permissions``); None when nothing is set."""
    table = db.table("knowledge.article")
    seen: set[int] = set()
    cur = table.get(article_id)
    while cur is not None and cur["id"] not in seen:
        seen.add(cur["id"])
        found = own(cur)
        if found or cur.get("is_desynchronized"):
            return found or None
        cur = table.get(cur.get("parent_id") or 0)
    return None


def inherited_permission(db: Database, rec: dict[str, Any]) -> Any:
    """``knowledge.article.inherited_permission`` (stored in Odoo): the first internal permission up the tree."""
    return _walk(db, rec["id"], lambda a: a.get("internal_permission")) or False


def member_permission(db: Database, article_id: int, partner_id: int | None) -> str | None:
    """The permission of ``partner_id`` on the article: its own membership or the nearest ancestor's."""
    if not partner_id:
        return None
    members = db.table("knowledge.article.member").values()

    def own(article: dict[str, Any]) -> Any:
        return next(
            (m.get("permission") for m in members if m.get("article_id") == article["id"]
             and m.get("partner_id") == partner_id),
            None,
        )

    return _walk(db, article_id, own)


def _article_ids(env: Env, write: bool) -> list[int]:
    who = _Who(env)
    out = []
    for rid in who.db.table("knowledge.article"):
        member = member_permission(who.db, rid, who.partner_id)
        internal = None if who.share else (_walk(who.db, rid, lambda a: a.get("internal_permission")))
        if write:
            ok = member == "write" or (internal == "write" and member is None)
        else:
            ok = member in ("read", "write") or (internal in ("read", "write") and member != "none")
        if ok:
            out.append(rid)
    return out


def _bool_search(op: str, value: Any) -> bool:
    if op not in ("=", "!=") or not isinstance(value, bool):
        raise ServerValueError("Unsupported search operator")
    return (op == "=") == value


def search_user_has_access(env: Env, op: str, value: Any) -> list[Any]:
    """``KnowledgeArticle._search_user_has_access``: members read/write; employees also through the
    (inherited) internal permission unless they are a member with ``none``."""
    return [("id", "in" if _bool_search(op, value) else "not in", _article_ids(env, write=False))]


def search_user_has_write_access(env: Env, op: str, value: Any) -> list[Any]:
    if _Who(env).share:
        return FALSE if _bool_search(op, value) else TRUE
    return [("id", "in" if _bool_search(op, value) else "not in", _article_ids(env, write=True))]


def compute_user_has_access(env: Env, rec: dict[str, Any]) -> bool:
    return rec["id"] in _article_ids(env, write=False)


def compute_user_has_write_access(env: Env, rec: dict[str, Any]) -> bool:
    return not _Who(env).share and rec["id"] in _article_ids(env, write=True)


# ---------------------------------------------------------------------------------------------- seeding
def seed(db: Database) -> None:
    """Model rights and record rules of Documents (per version) and Knowledge."""
    _seed_knowledge(db)
    if db.major >= 18:
        _seed_documents_18(db)
    else:
        _seed_documents_17(db)


def _grant(db: Database, model: str, group: str, perms: str) -> None:
    """``perms`` as the CSV columns read: ``"1110"`` = read, write, create, no unlink."""
    flags = dict(zip(("read", "write", "create", "unlink"), (c == "1" for c in perms), strict=True))
    db.grant(model, group, **flags)


def _seed_knowledge(db: Database) -> None:
    for group, article, member in (
        ("base.group_portal", "1110", "1000"),
        ("base.group_user", "1110", "1000"),
        ("base.group_system", "1111", "1111"),
    ):
        _grant(db, "knowledge.article", group, article)
        _grant(db, "knowledge.article.member", group, member)
    db.add_rule("knowledge.article", [], name="Articles: System = CRUD on all articles", groups=["base.group_system"])
    db.add_rule(
        "knowledge.article",
        [("user_has_access", "=", True)],
        name="Articles: users/portal: read based on access",
        groups=["base.group_user", "base.group_portal"],
        perms=("read",),
    )
    db.add_rule(
        "knowledge.article",
        [("user_has_write_access", "=", True)],
        name="Articles: users/portal: write based on flag",
        groups=["base.group_user"],
        perms=("write", "create", "unlink"),
    )
    db.add_rule(
        "knowledge.article.member",
        [("article_id.user_has_access", "=", True)],
        name="Article members: users: read article members",
        groups=["base.group_user"],
        perms=("read",),
    )
    db.add_rule(
        "knowledge.article.member",
        ["&", ("partner_id", "=", {"$user": "partner_id"}), ("article_id.user_has_access", "=", True)],
        name="Article members: portal: read own article members",
        groups=["base.group_portal"],
        perms=("read",),
    )
    db.add_rule("knowledge.article.member", [], name="Article members: System CRUD all", groups=["base.group_system"])


def _seed_documents_17(db: Database) -> None:
    for model, rights in (
        ("documents.document", ("1100", "1110", "1111")),
        ("documents.folder", ("1000", "1000", "1111")),
        ("documents.tag", ("1000", "1000", "1111")),
    ):
        for group, perms in zip(
            ("base.group_user", "documents.group_documents_user", "documents.group_documents_manager"),
            rights,
            strict=True,
        ):
            _grant(db, model, group, perms)
    groups = {"$user": "groups"}
    employee, manager = ["base.group_user"], ["documents.group_documents_manager"]
    db.add_rule(
        "documents.folder",
        [
            "|", "|",
            "&", ("read_group_ids", "=", False), ("group_ids", "=", False),
            ("group_ids", "in", groups),
            ("read_group_ids", "in", groups),
        ],
        name="Documents.folder: groups",
        groups=employee,
    )  # fmt: skip
    db.add_rule("documents.folder", [], name="Documents.folder: manager rule", groups=manager)
    db.add_rule(
        "documents.document",
        [
            "&", ("folder_id.read_group_ids", "in", groups),
            "|", ("folder_id.user_specific", "=", False), ("owner_id", "=", {"$user": "id"}),
        ],
        name="Documents.document: readonly rule",
        groups=employee,
        perms=("read",),
    )  # fmt: skip
    db.add_rule(
        "documents.document",
        [
            "|",
            "&", ("folder_id.group_ids", "in", groups),
            "|", ("folder_id.user_specific_write", "=", False), ("owner_id", "=", {"$user": "id"}),
            "&", ("folder_id.read_group_ids", "=", False), ("folder_id.group_ids", "=", False),
        ],
        name="Documents.document: folder write groups",
        groups=employee,
        perms=("read", "write", "create"),
    )  # fmt: skip
    db.add_rule("documents.document", [], name="Documents.document: manager rule", groups=manager)


def _seed_documents_18(db: Database) -> None:
    for model, group, perms in (
        ("documents.access", "base.group_portal", "1000"),
        ("documents.access", "base.group_user", "1111"),
        ("documents.document", "base.group_portal", "1111"),
        ("documents.document", "base.group_user", "1111"),
        ("documents.tag", "base.group_portal", "1000"),
        ("documents.tag", "base.group_user", "1000"),
        ("documents.access", "documents.group_documents_manager", "1111"),
        ("documents.document", "documents.group_documents_manager", "1111"),
        ("documents.tag", "documents.group_documents_manager", "1111"),
    ):
        _grant(db, model, group, perms)
    db.add_rule(
        "documents.document",
        [("user_permission", "!=", "none")],
        name="Documents.document: global read rule",
        perms=("read",),
    )
    db.add_rule(
        "documents.document",
        ["|", ("folder_id.user_permission", "=", "edit"), ("folder_id", "=", False)],
        name="Documents.document: global create rule",
        perms=("create",),
    )
    db.add_rule(
        "documents.document",
        [("user_permission", "=", "edit")],
        name="Documents.document: global write rule",
        perms=("write",),
    )
    db.add_rule(
        "documents.document",
        [
            "&", ("user_permission", "=", "edit"),
            "|", ("type", "!=", "folder"), "|", ("owner_id", "!=", False), ("folder_id", "!=", False),
        ],
        name="Documents.document: write+unlink base rule",
        groups=["base.group_portal", "base.group_user"],
        perms=("write", "unlink"),
    )  # fmt: skip
    db.add_rule(
        "documents.document",
        [("user_permission", "=", "edit")],
        name="Documents.document: write+unlink manager rule",
        groups=["documents.group_documents_manager"],
        perms=("write", "unlink"),
    )
    db.add_rule(
        "documents.access",
        [("document_id.user_permission", "!=", "none")],
        name="Documents.access: global read rule",
        perms=("read",),
    )
    db.add_rule(
        "documents.access",
        [("document_id.user_permission", "=", "edit")],
        name="Documents.access: global write rule",
        perms=("write", "create", "unlink"),
    )

"""Readers: turn Odoo records into :class:`~copilot.types.DocumentRef` s and bytes, one per record kind.

Each reader lists metadata in keyset pages (``id > last``, ``limit=page_size``), so a listing costs a few
requests per page of metadata, never one per document. Checksums come from Odoo's attachment ``checksum``
(sha1 of the content) or, for rendered records (Knowledge, maintenance logs), a sha256 of the rendered bytes.
ACLs come from Odoo's permissions only, so a permission change alters ``acl_groups`` but not ``checksum``.

ACL group names (the decision, see docs/odoo-double.md):

- an Odoo group is named by its XML id (``hospital.group_procurement``), through :class:`GroupMap` which may
  rename it to a Copilot group; groups with no XML id become ``odoo_group_<id>``;
- per-person grants (Documents 18+ ``access_ids``, Knowledge members) become ``odoo_partner_<partner id>``,
  and a document owner ``odoo_user_<uid>``, as does an employee whom Maintenance's rules let read a whole
  maintenance log; :func:`resolve_user_groups` gives each user the same tokens.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from copilot.errors import SourceError
from copilot.odoo.client import OdooClient
from copilot.odoo.errors import OdooMissingError
from copilot.types import DocumentRef

EVERYONE = "base.group_user"
EQUIPMENT_MANAGER = "maintenance.group_equipment_manager"
FOLLOWERS = "message_partner_ids"
FACETS = frozenset({"doc_type", "site", "department"})


@dataclass(frozen=True)
class GroupMap:
    """Odoo group XML id → Copilot ACL group; unmapped ids pass through unchanged."""

    mapping: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, xmlid: str) -> str:
        return self.mapping.get(xmlid, xmlid)


def partner_token(partner_id: int) -> str:
    return f"odoo_partner_{partner_id}"


def user_token(uid: int) -> str:
    return f"odoo_user_{uid}"


def parse_odoo_datetime(value: Any) -> datetime:
    if not value:
        return datetime(1970, 1, 1, tzinfo=UTC)
    text = str(value)
    fmt = "%Y-%m-%d %H:%M:%S" if len(text) > 10 else "%Y-%m-%d"
    return datetime.strptime(text[:19], fmt).replace(tzinfo=UTC)


def m2o_id(value: Any) -> int | None:
    if isinstance(value, list) and value:
        return int(value[0])
    return int(value) if isinstance(value, int) and value else None


def m2o_name(value: Any) -> str:
    return str(value[1]) if isinstance(value, list) and len(value) > 1 else ""


class Context:
    """What one listing shares between readers: the client, the base URL, group names and installed models."""

    def __init__(self, client: OdooClient, base_url: str, groups: GroupMap, page_size: int) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.groups = groups
        self.page_size = page_size
        self.installed: set[str] = set()
        self._xmlids: dict[int, str] = {}
        self._fields: dict[str, dict[str, dict[str, Any]]] = {}

    def probe(self, models: Sequence[str]) -> None:
        """Installed models, by asking each for its fields: ``ir.model`` is readable only by Access Rights
        administrators, ``fields_get`` by anyone; an unknown model answers "Object X doesn't exist"."""
        self.installed = set()
        for model in models:
            fields = self.client.fields_of(model)
            if fields is not None:
                self._fields[model] = fields
                self.installed.add(model)

    def fields(self, model: str) -> dict[str, dict[str, Any]]:
        if model not in self._fields:
            self._fields[model] = self.client.fields_get(model, attributes=["type", "relation"])
        return self._fields[model]

    def pages(
        self, model: str, domain: Sequence[Any], fields: Sequence[str]
    ) -> Iterator[list[dict[str, Any]]]:
        """Keyset paging by id: stable when records are added or deleted during the listing."""
        last = 0
        while True:
            rows = self.client.search_read(
                model, [*domain, ("id", ">", last)], list(fields), order="id", limit=self.page_size
            )
            if rows:
                yield rows
            if len(rows) < self.page_size:
                return
            last = int(rows[-1]["id"])

    def group_names(self, group_ids: Sequence[int]) -> list[str]:
        """XML ids of groups (one ``get_external_id`` request for the ids not seen yet), mapped by GroupMap.
        ``res.groups.get_external_id`` reads ``ir.model.data`` as superuser, so a least-privilege account
        that may not read ``ir.model.data`` itself still resolves them."""
        missing = sorted({int(g) for g in group_ids} - set(self._xmlids))
        if missing:
            for gid, xmlid in self.client.external_ids("res.groups", missing).items():
                if xmlid:
                    self._xmlids[gid] = xmlid
            for g in missing:
                self._xmlids.setdefault(g, f"odoo_group_{g}")
        return [self.groups(self._xmlids[int(g)]) for g in group_ids]

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def user_group_ids(self, uids: Sequence[int]) -> dict[int, set[int]]:
        """Each user's group ids with the implied ones (``all_group_ids`` on 19, else ``groups_id`` closed over
        ``implied_ids``): what record rules test with ``user.groups_id``."""
        have = self.fields("res.users")
        gfield = next(f for f in ("all_group_ids", "groups_id", "group_ids") if f in have)
        rows = self.client.read("res.users", list(uids), [gfield])
        if gfield == "all_group_ids":
            return {int(r["id"]): set(r[gfield]) for r in rows}
        return {int(r["id"]): implied_closure(self.client, r[gfield]) for r in rows}

    def internal_users(self) -> dict[int, int]:
        """Active employees (``share = False``): uid → partner id."""
        found: dict[int, int] = {}
        for page in self.pages("res.users", [("share", "=", False)], ["partner_id"]):
            found |= {int(u["id"]): p for u in page if (p := m2o_id(u["partner_id"]))}
        return found

    def internal_partners(self) -> set[int]:
        """Partners of the active employees (``share = False``)."""
        found: set[int] = set()
        for page in self.pages("res.users", [("share", "=", False)], ["partner_id"]):
            found |= {p for p in (m2o_id(u["partner_id"]) for u in page) if p}
        return found


def implied_closure(client: OdooClient, group_ids: Sequence[int]) -> set[int]:
    """``group_ids`` and every group they imply (``res.groups.implied_ids``), one read per level."""
    gids = {int(g) for g in group_ids}
    todo = sorted(gids)
    while todo:
        implied = {int(g) for r in client.read("res.groups", todo, ["implied_ids"]) for g in r["implied_ids"]}
        todo = sorted(implied - gids)
        gids |= implied
    return gids


class Reader(Protocol):
    """One kind of Odoo record the source can list and read."""

    kind: str
    requires: ClassVar[tuple[str, ...]]

    def list_refs(self, ctx: Context) -> Iterator[DocumentRef]: ...

    def read(self, ctx: Context, ref: DocumentRef) -> bytes: ...


def read_attachment(ctx: Context, attachment_id: int) -> bytes:
    rows = ctx.client.read("ir.attachment", [attachment_id], ["datas"])
    if not rows:
        raise OdooMissingError(
            f"attachment {attachment_id} is gone", odoo_name="odoo.exceptions.MissingError"
        )
    datas = rows[0].get("datas") or ""
    try:
        return base64.b64decode(datas)
    except ValueError as exc:
        raise SourceError(f"attachment {attachment_id} holds no valid base64") from exc


@dataclass(frozen=True)
class _Folder17:
    """A 17 ``documents.folder``'s access: group ids (raw) and the "own documents only" flags."""

    writers: frozenset[int]
    readers: frozenset[int]
    user_specific: bool
    user_specific_write: bool


class DocumentsReader:
    """Documents app: 17 folders (``documents.folder`` groups) or 18+ folder documents (``access_*``).

    The ACL is the set of tokens that Odoo's record rules let read the document (docs/odoo-double.md "Access
    control" names the rule definitions): on 17 the folder's groups (``user_specific`` /
    ``user_specific_write`` narrow a group to the documents its members own) and Documents managers; on 18+ the
    owner, the members, every employee when ``access_internal`` allows, the parent folder's readers when the
    document's link gives access and is not hidden, and Documents system administrators."""

    kind = "documents"
    requires: ClassVar[tuple[str, ...]] = ("documents.document",)
    FIELDS = ("name", "folder_id", "attachment_id", "mimetype", "file_size", "write_date")
    MANAGER_17 = "documents.group_documents_manager"
    SYSTEM_18 = "documents.group_documents_system"
    ACCESS_18 = ("access_internal", "access_via_link", "is_access_via_link_hidden", "access_ids", "owner_id")

    def __init__(self, open_group_17: str = EVERYONE) -> None:
        self.open_group_17 = open_group_17  # 17's write rule opens a folder without groups to every employee
        self._tags: dict[int, str] = {}

    def list_refs(self, ctx: Context) -> Iterator[DocumentRef]:
        fields = ctx.fields("documents.document")
        legacy = fields.get("folder_id", {}).get("relation") == "documents.folder"
        with_checksum = "checksum" in fields
        names = [
            *self.FIELDS,
            *(["checksum"] if with_checksum else []),
            *(["tag_ids"] if "tag_ids" in fields else []),
        ]
        folders17: dict[int, _Folder17] = {}
        folders18: dict[int, list[str]] = {}
        if legacy:
            names.append("owner_id")
            folder_fields = ["group_ids", "read_group_ids"]
            have = ctx.fields("documents.folder")
            folder_fields += [f for f in ("user_specific", "user_specific_write") if f in have]
            for page in ctx.pages("documents.folder", [], folder_fields):
                for f in page:
                    folders17[f["id"]] = _Folder17(
                        frozenset(f["group_ids"]),
                        frozenset(f["read_group_ids"]),
                        bool(f.get("user_specific")),
                        bool(f.get("user_specific_write")),
                    )
        else:
            names += [f for f in self.ACCESS_18 if f in fields]
            for page in ctx.pages("documents.document", [("type", "=", "folder")], list(self.ACCESS_18)):
                access = self._access(ctx, page)
                folders18 |= {f["id"]: self._direct_18(ctx, f, access) for f in page}
        for page in ctx.pages("documents.document", [("type", "=", "binary")], names):
            attachments = {} if with_checksum else self._attachments(ctx, page)
            access = {} if legacy else self._access(ctx, page)
            owners = self._owner_groups(ctx, page, folders17) if legacy else {}
            self._load_tags(ctx, page)
            for doc in page:
                att = m2o_id(doc["attachment_id"])
                if att is None:
                    continue
                meta = attachments.get(att, doc)
                if legacy:
                    folder = folders17.get(m2o_id(doc["folder_id"]) or 0)
                    acl: Sequence[str] = self._acl_17(ctx, doc, folder, owners)
                else:
                    acl = self._acl_18(ctx, doc, access, folders18)
                yield DocumentRef(
                    doc_id=f"odoo:documents:{doc['id']}",
                    title=str(doc["name"] or f"document {doc['id']}"),
                    uri=f"odoo://documents.document/{doc['id']}",
                    source_url=ctx.url(f"/odoo/documents/{doc['id']}"),
                    mime_type=str(meta.get("mimetype") or "application/octet-stream"),
                    checksum=str(meta.get("checksum") or ""),
                    size=int(meta.get("file_size") or 0),
                    modified=parse_odoo_datetime(doc["write_date"]),
                    acl_groups=tuple(sorted(set(acl))),
                    extra={
                        "attachment_id": att,
                        "folder": m2o_name(doc["folder_id"]),
                        "model": "documents.document",
                        "res_id": doc["id"],
                    },
                    **self._facets(doc),
                )

    @staticmethod
    def _owner_groups(
        ctx: Context, page: list[dict[str, Any]], folders: dict[int, _Folder17]
    ) -> dict[int, set[int]]:
        """Groups of the owners whose rights depend on ownership ("own documents only" folders)."""
        owners = {
            uid
            for d in page
            if (folder := folders.get(m2o_id(d["folder_id"]) or 0)) is not None
            and (folder.user_specific or folder.user_specific_write)
            and (uid := m2o_id(d.get("owner_id")))
        }
        return ctx.user_group_ids(sorted(owners)) if owners else {}

    def _acl_17(
        self,
        ctx: Context,
        doc: dict[str, Any],
        folder: _Folder17 | None,
        owner_groups: dict[int, set[int]],
    ) -> list[str]:
        """17's rules: the read groups (``documents_document_readonly_rule``; with ``user_specific`` only for the
        documents a member owns), the write groups (``documents_document_write_rule``; likewise with
        ``user_specific_write``), every employee when the folder has no group, and Documents managers."""
        acl = [ctx.groups(self.MANAGER_17)]
        if folder is None:
            return acl
        if not folder.writers and not folder.readers:
            return [*acl, ctx.groups(self.open_group_17)]
        if not folder.user_specific:
            acl += ctx.group_names(sorted(folder.readers))
        if not folder.user_specific_write:
            acl += ctx.group_names(sorted(folder.writers))
        owner = m2o_id(doc.get("owner_id"))
        if owner:
            mine = owner_groups.get(owner, set())
            if (folder.user_specific and mine & folder.readers) or (
                folder.user_specific_write and mine & folder.writers
            ):
                acl.append(user_token(owner))  # a group member who owns the document
        return acl

    def _load_tags(self, ctx: Context, page: list[dict[str, Any]]) -> None:
        unseen = sorted({t for d in page for t in d.get("tag_ids") or []} - set(self._tags))
        if unseen:
            self._tags |= {
                r["id"]: str(r["name"]) for r in ctx.client.read("documents.tag", unseen, ["name"])
            }

    def _facets(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Copilot's tag convention: ``doc_type:sop``, ``site:north_campus``, ``department:pharmacy``."""
        out: dict[str, Any] = {}
        for tid in doc.get("tag_ids") or []:
            key, sep, value = self._tags.get(tid, "").partition(":")
            if sep and key in FACETS and value:
                out[key] = value.strip()
        return out

    def _attachments(self, ctx: Context, page: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        ids = [a for a in (m2o_id(d["attachment_id"]) for d in page) if a]
        rows = ctx.client.read("ir.attachment", ids, ["checksum", "mimetype", "file_size"])
        return {r["id"]: r for r in rows}

    def _access(self, ctx: Context, page: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        ids = [a for d in page for a in d.get("access_ids") or []]
        if not ids:
            return {}
        rows = ctx.client.read("documents.access", ids, ["partner_id", "role", "expiration_date"])
        return {r["id"]: r for r in rows}

    def _direct_18(self, ctx: Context, doc: dict[str, Any], access: dict[int, dict[str, Any]]) -> list[str]:
        """Who reads the record itself (``_search_user_permission``'s direct domain): its owner, its members (a
        member without a role reads when the link gives access), every employee when ``access_internal``
        allows, and Documents system administrators."""
        acl = [ctx.groups(self.SYSTEM_18)]
        if doc.get("access_internal") in ("view", "edit"):
            acl.append(ctx.groups(EVERYONE))
        link = doc.get("access_via_link") or "none"
        now = datetime.now(UTC)
        for aid in doc.get("access_ids") or []:
            row = access.get(aid)
            if not row or (row.get("role") not in ("view", "edit") and link == "none"):
                continue
            if row.get("expiration_date") and parse_odoo_datetime(row["expiration_date"]) <= now:
                continue
            pid = m2o_id(row["partner_id"])
            if pid:
                acl.append(partner_token(pid))
        owner = m2o_id(doc.get("owner_id"))
        if owner:
            acl.append(user_token(owner))
        return acl

    def _acl_18(
        self,
        ctx: Context,
        doc: dict[str, Any],
        access: dict[int, dict[str, Any]],
        folders: dict[int, list[str]],
    ) -> list[str]:
        """The document's own readers, plus its folder's when the link gives access and is not hidden: "if the
        user can access the parent, they have the link" (one level up only)."""
        acl = self._direct_18(ctx, doc, access)
        folder = m2o_id(doc.get("folder_id"))
        if (
            folder
            and (doc.get("access_via_link") or "none") != "none"
            and not doc.get("is_access_via_link_hidden")
        ):
            acl += folders.get(folder, [])
        return acl

    def read(self, ctx: Context, ref: DocumentRef) -> bytes:
        return read_attachment(ctx, int(ref.extra["attachment_id"]))


class KnowledgeReader:
    """Knowledge articles (HTML body), with the ACL of Odoo's ``user_has_access`` rule (docs/odoo-double.md
    "Access control"): Settings users; members with ``read``/``write``; every employee when the internal
    permission allows, except members with ``none``. An article inherits both the internal permission
    (``inherited_permission``) and the members of its parents, up to a desynchronized article."""

    kind = "knowledge"
    requires: ClassVar[tuple[str, ...]] = ("knowledge.article",)
    SETTINGS = "base.group_system"

    def __init__(self) -> None:
        self._bodies: dict[str, bytes] = {}

    @staticmethod
    def render(name: str, body: str) -> bytes:
        return f"<html><head><title>{html.escape(name)}</title></head><body>{body}</body></html>".encode()

    def list_refs(self, ctx: Context) -> Iterator[DocumentRef]:
        rows: list[dict[str, Any]] = []
        have = ctx.fields("knowledge.article")
        fields = ["name", "body", "internal_permission", "article_member_ids", "parent_id", "write_date"]
        fields += [f for f in ("inherited_permission", "is_desynchronized") if f in have]
        for page in ctx.pages("knowledge.article", [], fields):
            rows += page
        member_ids = [m for r in rows for m in r.get("article_member_ids") or []]
        members: dict[int, dict[str, Any]] = {}
        for start in range(0, len(member_ids), ctx.page_size):
            chunk = member_ids[start : start + ctx.page_size]
            members |= {
                m["id"]: m
                for m in ctx.client.read("knowledge.article.member", chunk, ["partner_id", "permission"])
            }
        by_id = {r["id"]: r for r in rows}
        employees: set[int] | None = None
        self._bodies.clear()
        for art in rows:
            acl: list[str] = [ctx.groups(self.SETTINGS)]
            perms = self._members(art, by_id, members)
            acl += [partner_token(p) for p, perm in perms.items() if perm in ("read", "write")]
            if self._internal(art, by_id) in ("read", "write"):
                excluded = {p for p, perm in perms.items() if perm == "none"}
                if not excluded:
                    acl.append(ctx.groups(EVERYONE))
                else:  # every employee but the members with "none": no "all but" token, so name them
                    if employees is None:
                        employees = ctx.internal_partners()
                    acl += [partner_token(p) for p in sorted(employees - excluded)]
            data = self.render(str(art["name"] or ""), str(art["body"] or ""))
            doc_id = f"odoo:knowledge:{art['id']}"
            self._bodies[doc_id] = data
            yield DocumentRef(
                doc_id=doc_id,
                title=str(art["name"] or f"article {art['id']}"),
                uri=f"odoo://knowledge.article/{art['id']}",
                source_url=ctx.url(f"/odoo/knowledge/{art['id']}"),
                mime_type="text/html",
                checksum=hashlib.sha256(data).hexdigest(),
                size=len(data),
                modified=parse_odoo_datetime(art["write_date"]),
                doc_type="article",
                acl_groups=tuple(sorted(set(acl))),
                extra={"model": "knowledge.article", "res_id": art["id"]},
            )

    @staticmethod
    def _chain(art: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The article, then its parents, ending at the first desynchronized one (it holds its own rights)."""
        seen: set[int] = set()
        cur: dict[str, Any] | None = art
        while cur is not None and cur["id"] not in seen:
            seen.add(cur["id"])
            yield cur
            if cur.get("is_desynchronized"):
                return
            cur = by_id.get(m2o_id(cur.get("parent_id")) or 0)

    @classmethod
    def _members(
        cls, art: dict[str, Any], by_id: dict[int, dict[str, Any]], members: dict[int, dict[str, Any]]
    ) -> dict[int, str]:
        """Each partner's permission: the nearest membership up the chain (``_get_partner_member_permissions``)."""
        out: dict[int, str] = {}
        for cur in cls._chain(art, by_id):
            for mid in cur.get("article_member_ids") or []:
                m = members.get(mid)
                pid = m2o_id(m["partner_id"]) if m else None
                if m and pid and m.get("permission"):
                    out.setdefault(pid, str(m["permission"]))
        return out

    @classmethod
    def _internal(cls, art: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> str:
        """``inherited_permission`` where the server has it, else the same walk up the parents."""
        if "inherited_permission" in art:
            return str(art["inherited_permission"] or "none")
        for cur in cls._chain(art, by_id):
            if cur.get("internal_permission"):
                return str(cur["internal_permission"])
        return "none"

    def read(self, ctx: Context, ref: DocumentRef) -> bytes:
        if ref.doc_id in self._bodies:
            return self._bodies[ref.doc_id]
        rows = ctx.client.read("knowledge.article", [int(ref.extra["res_id"])], ["name", "body"])
        if not rows:
            raise OdooMissingError(f"article {ref.extra['res_id']} is gone")
        return self.render(str(rows[0]["name"] or ""), str(rows[0]["body"] or ""))


class AttachmentReader:
    """``ir.attachment`` on business records, for Community databases without Documents. Attachments follow
    their record's access, so the ACL comes from a per-model table of groups (configurable), plus, on models
    whose record rule lets employees read what they follow (:data:`FOLLOWED`: equipment, for Maintenance's
    ``equipment_rule_user``), the user tokens of the employees following the record."""

    kind = "attachments"
    requires: ClassVar[tuple[str, ...]] = ("ir.attachment",)
    FOLLOWED: ClassVar[frozenset[str]] = frozenset({"maintenance.equipment"})
    DEFAULT_GROUPS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "maintenance.equipment": (EQUIPMENT_MANAGER,),
        "purchase.order": ("purchase.group_purchase_user",),
        "res.partner": (EVERYONE,),
    }

    def __init__(self, model_groups: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.model_groups = dict(model_groups or self.DEFAULT_GROUPS)

    def list_refs(self, ctx: Context) -> Iterator[DocumentRef]:
        domain = [("res_model", "in", sorted(self.model_groups)), ("type", "=", "binary")]
        fields = ["name", "mimetype", "checksum", "file_size", "res_model", "res_id", "write_date"]
        users: dict[int, int] | None = None
        for page in ctx.pages("ir.attachment", domain, fields):
            followed: dict[tuple[str, int], set[int]] = {}
            for model in sorted(self.FOLLOWED & set(self.model_groups)):
                ids = sorted({int(a["res_id"]) for a in page if a["res_model"] == model and a["res_id"]})
                if ids and FOLLOWERS in ctx.fields(model):
                    if users is None:
                        users = ctx.internal_users()
                    for rec in ctx.client.read(model, ids, [FOLLOWERS]):
                        pids = set(rec.get(FOLLOWERS) or [])
                        followed[(model, int(rec["id"]))] = {uid for uid, pid in users.items() if pid in pids}
            for att in page:
                groups = self.model_groups.get(str(att["res_model"]), ())
                people = followed.get((str(att["res_model"]), int(att["res_id"] or 0)), set())
                yield DocumentRef(
                    doc_id=f"odoo:attachment:{att['id']}",
                    title=str(att["name"]),
                    uri=f"odoo://ir.attachment/{att['id']}",
                    source_url=ctx.url(f"/web/content/{att['id']}"),
                    mime_type=str(att["mimetype"] or "application/octet-stream"),
                    checksum=str(att["checksum"] or ""),
                    size=int(att["file_size"] or 0),
                    modified=parse_odoo_datetime(att["write_date"]),
                    acl_groups=tuple(sorted({ctx.groups(g) for g in groups} | {user_token(u) for u in people})),
                    extra={"attachment_id": att["id"], "model": att["res_model"], "res_id": att["res_id"]},
                )

    def read(self, ctx: Context, ref: DocumentRef) -> bytes:
        return read_attachment(ctx, int(ref.extra["attachment_id"]))


class MaintenanceReader:
    """Maintenance logs: one markdown document per equipment, its requests newest first.

    A log shows the equipment and every request on it, so it is open to whom Odoo opens all of them
    (``maintenance/security/maintenance.xml``, docs/odoo-double.md "Access control"): Equipment Managers
    (``equipment_rule_admin_user`` / ``equipment_request_rule_admin_user``), and an employee who follows the
    equipment (``equipment_rule_user``) and, for every request, owns it, follows it or is its technician
    (``equipment_request_rule_user``); those employees are named by their user token. Followers are read at
    every listing, so a follower added in Odoo sees the log after the next sync. A server without followers
    (``message_partner_ids``) leaves the log to Equipment Managers."""

    kind = "maintenance"
    requires: ClassVar[tuple[str, ...]] = ("maintenance.equipment", "maintenance.request")
    REQUEST_FIELDS = (
        "name",
        "description",
        "equipment_id",
        "maintenance_type",
        "stage_id",
        "request_date",
        "schedule_date",
        "close_date",
        "duration",
        "priority",
    )

    MANAGER = EQUIPMENT_MANAGER
    RULE_FIELDS = ("owner_user_id", "user_id", FOLLOWERS)

    def __init__(self) -> None:
        self._rendered: dict[str, bytes] = {}

    # Asked only where the server has them: 19 removed the free-text `location` (asking for it is "Invalid
    # field" and ends the sync); stock_maintenance's `location_id` takes its place where stock is installed.
    EQUIPMENT_FIELDS = ("name", "serial_no", "model", "location", "location_id", "category_id", "write_date")

    @classmethod
    def equipment_fields(cls, ctx: Context) -> list[str]:
        have = ctx.fields("maintenance.equipment")
        return [f for f in cls.EQUIPMENT_FIELDS if f in have]

    def list_refs(self, ctx: Context) -> Iterator[DocumentRef]:
        equipment: dict[int, dict[str, Any]] = {}
        eq_have = ctx.fields("maintenance.equipment")
        req_have = ctx.fields("maintenance.request")
        followers = FOLLOWERS in eq_have and all(f in req_have for f in self.RULE_FIELDS)
        eq_fields = [*self.equipment_fields(ctx), *([FOLLOWERS] if followers else [])]
        req_fields = [*self.REQUEST_FIELDS, *(self.RULE_FIELDS if followers else ())]
        for page in ctx.pages("maintenance.equipment", [], eq_fields):
            equipment |= {e["id"]: e for e in page}
        requests: dict[int, list[dict[str, Any]]] = {}
        for page in ctx.pages("maintenance.request", [("equipment_id", "!=", False)], req_fields):
            for r in page:
                eid = m2o_id(r["equipment_id"])
                if eid in equipment:
                    requests.setdefault(eid, []).append(r)
        self._rendered.clear()
        users = ctx.internal_users() if followers and requests else {}
        for eid, reqs in sorted(requests.items()):
            eq = equipment[eid]
            acl = [ctx.groups(self.MANAGER)]
            if followers:
                acl += [user_token(uid) for uid in self.readers(eq, reqs, users)]
            data = self.render(eq, reqs).encode()
            doc_id = f"odoo:maintenance:{eid}"
            self._rendered[doc_id] = data
            yield DocumentRef(
                doc_id=doc_id,
                title=f"Maintenance log: {eq['name']}",
                uri=f"odoo://maintenance.equipment/{eid}",
                source_url=ctx.url(f"/odoo/maintenance.equipment/{eid}"),
                mime_type="text/markdown",
                checksum=hashlib.sha256(data).hexdigest(),
                size=len(data),
                modified=parse_odoo_datetime(eq["write_date"]),
                doc_type="maintenance_log",
                acl_groups=tuple(sorted(set(acl))),
                extra={"model": "maintenance.equipment", "res_id": eid},
            )

    @classmethod
    def readers(cls, eq: dict[str, Any], reqs: list[dict[str, Any]], users: Mapping[int, int]) -> list[int]:
        """The employees (uid → partner) whom the employee rules let read the equipment and every request."""
        eq_followers = set(eq.get(FOLLOWERS) or [])
        return sorted(
            uid
            for uid, pid in users.items()
            if pid in eq_followers
            and all(
                m2o_id(r.get("owner_user_id")) == uid
                or m2o_id(r.get("user_id")) == uid
                or pid in (r.get(FOLLOWERS) or [])
                for r in reqs
            )
        )

    @staticmethod
    def render(eq: dict[str, Any], reqs: list[dict[str, Any]]) -> str:
        from bs4 import BeautifulSoup  # html descriptions to text; local import keeps the module light

        lines = [f"# Maintenance log: {eq['name']}", ""]
        for label, key in (("Serial number", "serial_no"), ("Model", "model"), ("Location", "location")):
            if eq.get(key):
                lines.append(f"- {label}: {eq[key]}")
        if eq.get("location_id"):
            lines.append(f"- Location: {m2o_name(eq['location_id'])}")
        if eq.get("category_id"):
            lines.append(f"- Category: {m2o_name(eq['category_id'])}")
        reqs = sorted(reqs, key=lambda r: (str(r.get("request_date") or ""), r["id"]), reverse=True)
        for r in reqs:
            lines += ["", f"## {r.get('request_date') or 'undated'} {r['name']}", ""]
            lines.append(f"- Type: {r.get('maintenance_type') or 'unknown'}")
            if r.get("stage_id"):
                lines.append(f"- Stage: {m2o_name(r['stage_id'])}")
            for label, key in (("Scheduled", "schedule_date"), ("Closed", "close_date")):
                if r.get(key):
                    lines.append(f"- {label}: {r[key]}")
            if r.get("duration"):
                lines.append(f"- Duration: {r['duration']} h")
            text = BeautifulSoup(str(r.get("description") or ""), "html.parser").get_text(" ", strip=True)
            if text:
                lines += ["", text]
        return "\n".join(lines) + "\n"

    def read(self, ctx: Context, ref: DocumentRef) -> bytes:
        if ref.doc_id in self._rendered:
            return self._rendered[ref.doc_id]
        eid = int(ref.extra["res_id"])
        eq = ctx.client.read("maintenance.equipment", [eid], self.equipment_fields(ctx))
        if not eq:
            raise OdooMissingError(f"equipment {eid} is gone")
        reqs = ctx.client.search_read(
            "maintenance.request", [("equipment_id", "=", eid)], list(self.REQUEST_FIELDS)
        )
        return self.render(eq[0], reqs).encode()

"""Admin helpers that put documents, folders, articles and maintenance logs into a double, version-aware.

They write as the superuser, the way a data import would. Odoo 17 stores folder permissions as groups on
``documents.folder``; 18+ stores them on folder documents (``access_internal``, ``access_ids`` per partner),
and new documents take their folder's access, which :func:`add_document` copies (ODOO.md §5).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

from copilot.odoo_double.store import SUPERUSER_ID, Database


def _su(db: Database) -> Any:
    return db.env(SUPERUSER_ID)


def create(db: Database, model: str, vals: dict[str, Any]) -> int:
    """Create one record as the superuser and return its id."""
    rid = _su(db).create(model, vals)
    return int(rid[0] if isinstance(rid, list) else rid)


def add_attachment(
    db: Database,
    name: str,
    content: bytes,
    mimetype: str,
    *,
    res_model: str | None = None,
    res_id: int | None = None,
) -> int:
    """Odoo stores ``checksum`` as the sha1 of the content and ``datas`` as base64."""
    return int(
        _su(db).create(
            "ir.attachment",
            {
                "name": name,
                "mimetype": mimetype,
                "res_model": res_model or False,
                "res_id": res_id or 0,
                "datas": base64.b64encode(content).decode(),
                "file_size": len(content),
                "checksum": hashlib.sha1(content).hexdigest(),
                "type": "binary",
            },
        )
    )


def set_attachment_content(db: Database, attachment_id: int, content: bytes) -> None:
    _su(db).write(
        "ir.attachment",
        [attachment_id],
        {
            "datas": base64.b64encode(content).decode(),
            "file_size": len(content),
            "checksum": hashlib.sha1(content).hexdigest(),
        },
    )


def partners_of_groups(db: Database, groups: Sequence[str]) -> list[int]:
    """Partners of the users holding any of ``groups`` (implied groups included)."""
    gids = {db.group_id(g) for g in groups}
    return sorted(
        u["partner_id"]
        for u in db.table("res.users").values()
        if u["id"] != SUPERUSER_ID and db.user_group_ids(u["id"]) & gids
    )


def add_folder(
    db: Database,
    name: str,
    *,
    read_groups: Sequence[str] = (),
    write_groups: Sequence[str] = (),
    parent: int | None = None,
    internal: str | None = None,
) -> int:
    """A folder readable by ``read_groups`` (and writable by ``write_groups``); no groups = every employee.

    On 18+ groups become per-partner ``documents.access`` rows (the model has no group field) and "no groups"
    becomes ``access_internal='view'``. ``internal`` overrides ``access_internal`` on 18+.
    """
    env = _su(db)
    if db.major < 18:
        return int(
            env.create(
                "documents.folder",
                {
                    "name": name,
                    "parent_folder_id": parent or False,
                    "read_group_ids": [db.group_id(g) for g in read_groups],
                    "group_ids": [db.group_id(g) for g in write_groups],
                },
            )
        )
    vals = _access_vals(db, read_groups, write_groups, internal)
    return int(
        env.create(
            "documents.document", {"name": name, "type": "folder", "folder_id": parent or False, **vals}
        )
    )


def _access_vals(
    db: Database, read_groups: Sequence[str], write_groups: Sequence[str], internal: str | None
) -> dict[str, Any]:
    if internal is None:
        internal = "none" if (read_groups or write_groups) else "view"
    roles: dict[int, str] = {p: "view" for p in partners_of_groups(db, read_groups)}
    roles |= {p: "edit" for p in partners_of_groups(db, write_groups)}
    return {
        "access_internal": internal,
        "access_ids": [(0, 0, {"partner_id": p, "role": r}) for p, r in sorted(roles.items())],
    }


def set_folder_access(
    db: Database,
    folder: int,
    *,
    read_groups: Sequence[str] = (),
    write_groups: Sequence[str] = (),
    internal: str | None = None,
) -> None:
    """Change who may read a folder. On 18+ the change is applied to the folder and its documents, as the
    share dialog does when asked to; on 17 the documents follow their folder's groups by record rule."""
    env = _su(db)
    if db.major < 18:
        env.write(
            "documents.folder",
            [folder],
            {
                "read_group_ids": [db.group_id(g) for g in read_groups],
                "group_ids": [db.group_id(g) for g in write_groups],
            },
        )
        return
    vals = _access_vals(db, read_groups, write_groups, internal)
    targets = [
        folder,
        *env._search_ids(
            "documents.document", [("folder_id", "child_of", folder), ("id", "!=", folder)], active_test=False
        ),
    ]
    for doc in targets:
        old = env.value("documents.document", db.table("documents.document")[doc], "access_ids")
        env.write(
            "documents.document",
            [doc],
            {
                "access_internal": vals["access_internal"],
                "access_ids": [(2, a) for a in old] + vals["access_ids"],
            },
        )


def add_document(
    db: Database,
    folder: int,
    name: str,
    content: bytes,
    mimetype: str = "text/markdown",
    *,
    owner: int | None = None,
) -> int:
    env = _su(db)
    att = add_attachment(db, name, content, mimetype, res_model="documents.document")
    vals: dict[str, Any] = {
        "name": name,
        "folder_id": folder,
        "attachment_id": att,
        "type": "binary",
        "owner_id": owner or False,
    }
    if db.major >= 18:
        frec = db.table("documents.document")[folder]
        members = [
            db.table("documents.access")[a] for a in env.value("documents.document", frec, "access_ids")
        ]
        vals["access_internal"] = frec.get("access_internal") or "none"
        vals["access_ids"] = [(0, 0, {"partner_id": m["partner_id"], "role": m["role"]}) for m in members]
    doc = int(env.create("documents.document", vals))
    env.write("ir.attachment", [att], {"res_id": doc})
    return doc


def set_document_content(db: Database, doc: int, content: bytes) -> None:
    att = db.table("documents.document")[doc]["attachment_id"]
    set_attachment_content(db, att, content)
    _su(db).write("documents.document", [doc], {"name": db.table("documents.document")[doc]["name"]})


def add_article(
    db: Database,
    name: str,
    body_html: str,
    *,
    internal: str = "read",
    members: Sequence[tuple[int, str]] = (),
    parent: int | None = None,
) -> int:
    """A Knowledge article; ``members`` are ``(partner_id, permission)`` pairs."""
    return int(
        _su(db).create(
            "knowledge.article",
            {
                "name": name,
                "body": body_html,
                "internal_permission": internal,
                "parent_id": parent or False,
                "article_member_ids": [(0, 0, {"partner_id": p, "permission": perm}) for p, perm in members],
            },
        )
    )


def add_equipment(db: Database, name: str, **vals: Any) -> int:
    return int(_su(db).create("maintenance.equipment", {"name": name, **vals}))


def add_maintenance(db: Database, equipment: int, name: str, **vals: Any) -> int:
    return int(_su(db).create("maintenance.request", {"name": name, "equipment_id": equipment, **vals}))

"""Chatter: ``message_post`` on the models that inherit ``mail.thread``, and who may see ``mail.message``.

What the recordings show (19, group ``9_writes``; 17 has no chatter recording) is reproduced as recorded; the
rest follows Odoo's source (O17 and O18+/19 ``addons/mail/models/mail_thread.py`` ``message_post``,
``addons/mail/models/mail_message.py`` access rules). ``docs/odoo-double.md`` ("Chatter") says which is which.

Usage (what ``execute_kw(model, "message_post", [[id]], {...})`` and ``/json/2/<model>/message_post`` run)::

    message_post(db.env(uid), "maintenance.request", [13], body="Replaced fuse.", subtype_xmlid="mail.mt_note")
    # 19: [658]   17: 658
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from copilot.odoo_double.errors import (
    AccessError,
    MissingError,
    ServerValueError,
    UserError,
    named,
)

if TYPE_CHECKING:
    from copilot.odoo_double.schema import ModelSpec
    from copilot.odoo_double.store import Database, Env

# Models that inherit mail.thread in Odoo (their source declares ``_inherit = [... 'mail.thread' ...]``), with the
# first major where they do: maintenance.team and product.category have no ``message_ids`` in the recorded 17
# ``fields_get`` and have one in 19 (18 is not recorded and follows 17).
THREAD_MODELS: dict[str, int] = {
    "res.partner": 0, "res.company": 0,
    "maintenance.equipment": 0, "maintenance.request": 0, "maintenance.team": 19,
    "project.project": 0, "project.task": 0,
    "purchase.order": 0, "product.template": 0, "product.product": 0, "product.category": 19,
    "stock.picking": 0, "stock.lot": 0,
    "helpdesk.ticket": 0, "hr.department": 0, "hr.employee": 0,
    "documents.document": 0, "knowledge.article": 0,
}  # fmt: skip

# ``_mail_post_access``: the document right needed to post on it, ``write`` unless the model says otherwise
# (project.task: O19 ``addons/project/models/project_task.py``; helpdesk.ticket: Enterprise, per public copies)
POST_ACCESS = {"project.task": "read", "helpdesk.ticket": "read"}

SUBTYPES = (  # (xml id, name, internal, default, sequence): mail's data file; ids 1-3 as recorded on 19
    ("mail.mt_comment", "Discussions", False, True, 0),
    ("mail.mt_note", "Note", True, False, 100),
    ("mail.mt_activities", "Activities", True, False, 90),
)

_FORBIDDEN_KWARGS = frozenset({"model", "res_id", "subtype"})


def is_thread(spec: ModelSpec) -> bool:
    """A mail.thread model is one with the stored ``message_ids`` mail.thread adds: the double's own models get it
    from :func:`add_thread_fields`, a model learnt from a recorded ``fields_get`` brings it (the recorded res.users
    only has a related one and is not a thread here)."""
    f = spec.fields.get("message_ids")
    return f is not None and f.type == "one2many" and f.relation == "mail.message" and f.related is None


def add_thread_fields(spec: ModelSpec, major: int) -> ModelSpec:
    """Give a mail.thread model of this major the ``message_ids`` mail.thread declares: a (model, res_id)
    one2many, the messages posted on the record, newest first."""
    from copilot.odoo_double.schema import Field

    since = THREAD_MODELS.get(spec.name)
    if since is not None and major >= since and "message_ids" not in spec.fields:
        spec.fields["message_ids"] = Field("one2many", "Messages", relation="mail.message", relation_field="res_id")
    return spec


def seed_mail(db: Database) -> None:
    """The three subtypes ``mail`` installs (with their xml ids) and ``mail.message`` rights: everyone reads and
    creates (the record check below decides), employees also write and delete (Odoo's
    ``ir.model.access.csv``: portal and public read/create; recorded 19 ``g8.has_access.*.mail.message.*``).
    Idempotent: a database file saved before the double had chatter gets them when reopened."""
    if db.xmlid_to_res_id("mail.mt_note") is not None:
        return
    for name in ("mail.message", "mail.message.subtype", "mail.tracking.value"):
        if not db._find("ir.model", "model", name):
            db._insert("ir.model", {"model": name, "name": db.models[name].description})
    for xmlid, name, internal, default, sequence in SUBTYPES:
        sid = db._insert(
            "mail.message.subtype", {"name": name, "internal": internal, "default": default, "sequence": sequence}
        )
        module, _, ident = xmlid.partition(".")
        db._insert("ir.model.data", {"module": module, "name": ident, "model": "mail.message.subtype", "res_id": sid})
    db.grant("mail.message", None, read=True, create=True)
    db.grant("mail.message", "base.group_user", read=True, write=True, create=True, unlink=True)
    db.grant("mail.message.subtype", None, read=True)
    db.grant("mail.message.subtype", "base.group_system", read=True, write=True, create=True, unlink=True)
    db.grant("mail.tracking.value", "base.group_system", read=True, write=True, create=True, unlink=True)


def html_body(body: Any, *, as_html: bool) -> str:
    """What ``mail.message.body`` stores for a posted ``body``.

    Odoo escapes a ``str`` body (``escape(body)``; only ``Markup`` stays HTML, and JSON carries no Markup) unless
    ``body_is_html=True`` comes from an internal user; the HTML field's sanitizer then parses the fragment with
    ``lxml.html.fromstring``, which wraps bare text in ``<p>`` (recorded: "Technician visited, replaced fuse." →
    ``<p>Technician visited, replaced fuse.</p>``, 19 ``g9.mreq.message_read.*``). Quotes come back unescaped
    (lxml serialises text nodes escaping only ``& < >``); an empty body stays empty. HTML passed with
    ``body_is_html`` is kept as given (the double does not sanitize it), wrapped in ``<p>`` when it starts with
    text."""
    text = "" if body is None or body is False else str(body)
    if not text.strip():
        return ""
    if as_html:
        return text if text.lstrip().startswith("<") else f"<p>{text}</p>"
    return f"<p>{html.escape(text, quote=False)}</p>"


def _expected_singleton(model: str, ids: tuple[int, ...]) -> ServerValueError:
    return ServerValueError(f"Expected singleton: {model}{ids!r}")  # recordset repr: "project.task(71, 72)"


def _record_ids(ids: Any) -> tuple[int, ...]:
    if ids is None or ids is False:
        return ()
    return tuple(int(i) for i in (ids if isinstance(ids, (list, tuple)) else [ids]))


def message_post(env: Env, model: str, ids: Any, *args: Any, **kwargs: Any) -> Any:
    """``MailThread.message_post(self, *, body='', subject=None, message_type='notification', ...)``.

    Checks in Odoo's order: keyword-only parameters (a positional body is a TypeError, recorded
    ``g9.task.message_post.positional``), ``ensure_one`` (recorded ``json2_multi``, ``g7.message_post_empty_ids``),
    the record must exist, the author needs an email, then the message is created — its id is taken even when
    the access check that follows refuses it (recorded: ``Records: 680`` in ``g9.equipment.message_post.demo``,
    and the next message is 681). Returns the new id: ``[id]`` on 18+ (a recordset), the bare id on 17, where
    ``message_post`` is ``@api.returns('mail.message', lambda value: value.id)`` (O17 source)."""
    if args:
        raise named(
            "builtins.TypeError",
            f"MailThread.message_post() takes 1 positional argument but {len(args) + 1} were given",
        )
    rec_ids = _record_ids(ids)
    if len(rec_ids) != 1:
        raise _expected_singleton(model, rec_ids)
    (rid,) = rec_ids
    return _post(env, model, rid, **kwargs)


def _post(
    env: Env,
    model: str,
    rid: int,
    *,
    body: Any = "",
    subject: Any = None,
    message_type: Any = "notification",
    email_from: Any = None,
    author_id: Any = None,
    parent_id: Any = False,
    subtype_xmlid: Any = None,
    subtype_id: Any = False,
    partner_ids: Any = None,
    attachments: Any = None,
    attachment_ids: Any = None,
    body_is_html: Any = False,
    **kwargs: Any,
) -> Any:
    db = env.db
    if bad := sorted(_FORBIDDEN_KWARGS & set(kwargs)):
        raise ServerValueError(
            f"Those values are not supported as options when posting or notifying: {', '.join(bad)}"
        )
    if message_type == "user_notification":
        raise ServerValueError("Use message_notify to send a notification to an user.")
    if partner_ids and not (isinstance(partner_ids, list) and all(isinstance(p, int) for p in partner_ids)):
        raise ServerValueError(f"Posting a message should receive partners as a list of IDs (received {partner_ids!r})")
    if rid not in db.table(model):
        raise MissingError(f"Record does not exist or has been deleted.\n(Record: {model}({rid},), User: {env.uid})")
    user = db.table("res.users").get(env.uid) or {}
    if author_id is None:
        author_id = user.get("partner_id")
    author = db.table("res.partner").get(author_id) if author_id else None
    if email_from is None and author is not None and author.get("email"):
        email_from = f'"{author.get("name") or ""}" <{author["email"]}>'
    if not email_from and not env.su:
        raise UserError("Unable to send message, please configure the sender's email address.")
    if subtype_xmlid:
        subtype_id = db.xmlid_to_res_id(str(subtype_xmlid)) or False
    if not subtype_id:
        subtype_id = db.xmlid_to_res_id("mail.mt_note") or False
    internal_user = env.su or _is_internal(env)
    env.check_access("mail.message", "create")
    types = {k for k, _ in env.spec("mail.message").fields["message_type"].selection}
    if message_type not in types:  # the selection field refuses it as the message is created (recorded: bad_type)
        raise ServerValueError(f"Wrong value for mail.message.message_type: {message_type!r}")
    values = {
        "subject": subject or None,
        "date": db.clock(),
        "body": html_body(body, as_html=bool(body_is_html) and internal_user),
        "model": model,
        "res_id": rid,
        "record_name": env.display_name(model, db.table(model)[rid]),
        "message_type": message_type,
        "subtype_id": int(subtype_id) if subtype_id else None,
        "is_internal": False,
        "email_from": email_from,
        "author_id": int(author_id) if author_id else None,
        "partner_ids": list(partner_ids or []),
        "parent_id": parent_id or _first_message(env, model, rid),
        "attachment_ids": [],
    }
    mid = db._insert("mail.message", values, uid=env.uid)
    if not env.su and mid not in visible_messages(env, [mid], "create"):
        db.table("mail.message").pop(mid)
        db._persist("mail.message", mid)  # the id stays used, as a PostgreSQL sequence would
        raise AccessError(_denied(env, "create", [mid]))
    db.commit()
    return [mid] if db.major >= 18 else mid


def _first_message(env: Env, model: str, rid: int) -> int | None:
    """``_mail_flat_thread``: a post answers the document's first message."""
    for mid, m in sorted(env.db.table("mail.message").items()):
        if m.get("model") == model and m.get("res_id") == rid and m.get("message_type") != "user_notification":
            return mid
    return None


def _denied(env: Env, operation: str, ids: list[int]) -> str:
    """``mail.message._make_access_error_message`` (recorded on 19; the 17 layout is O17's ``check_access_rule``)."""
    head = (
        "The requested operation cannot be completed due to security restrictions. "
        "Please contact your system administrator.\n\n"
        f"(Document type: Message, Operation: {operation})"
    )
    if env.db.major >= 18:
        return f"{head}\n\nRecords: {', '.join(map(str, ids[:6]))}, User: {env.uid}"
    return f"{head} - (Records: {ids[:6]}, User: {env.uid})"


def _is_internal(env: Env) -> bool:
    gid = env.db.xmlid_to_res_id("base.group_user")
    return gid is not None and gid in env.group_ids


def visible_messages(env: Env, ids: list[int], op: str) -> list[int]:
    """The messages among ``ids`` this user may ``op``, beyond ``ir.model.access`` (O19
    ``mail.message._filter_accessible_from_query``): read — author, creator, recipient or read access on the
    document; write — author, recipient or write access; create — no document, or the document right
    ``_mail_post_access`` (write by default); unlink — write access on the document. Users outside
    ``base.group_user`` never read internal messages (``is_internal`` or an internal subtype such as Note)."""
    db = env.db
    table = db.table("mail.message")
    user = db.table("res.users").get(env.uid) or {}
    pid = user.get("partner_id")
    internal_user = _is_internal(env)
    subtypes = db.table("mail.message.subtype")
    pending: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    allowed: list[int] = []
    for mid in ids:
        m = table.get(mid)
        if m is None:
            continue
        internal = m.get("is_internal") or (subtypes.get(m.get("subtype_id") or 0) or {}).get("internal")
        if op == "read" and internal and not internal_user:
            continue
        doc_model, res_id, mtype = m.get("model"), m.get("res_id"), m.get("message_type")
        if (
            (op == "read" and (m.get("author_id") == pid or m.get("create_uid") == env.uid))
            or (op == "write" and m.get("author_id") == pid)
            or (op in ("read", "write") and pid in (m.get("partner_ids") or []))
            or (op == "create" and (not doc_model or not res_id or mtype == "user_notification"))
        ):
            allowed.append(mid)
        elif doc_model and res_id and mtype != "user_notification":
            pending[str(doc_model)][int(res_id)].append(mid)
    for doc_model, by_doc in pending.items():
        if doc_model not in db.models:
            continue
        doc_op = "read" if op == "read" else (POST_ACCESS.get(doc_model, "write") if op == "create" else "write")
        if not env.check_access(doc_model, doc_op, raise_exception=False):
            continue
        ok = env._search_ids(doc_model, [("id", "in", list(by_doc))], active_test=False, op=doc_op)
        for doc_id in ok:
            allowed.extend(by_doc[doc_id])
    keep = set(allowed)
    return [mid for mid in ids if mid in keep]


# Record visibility that ``ir.rule`` domains cannot say, per model (consulted by ``Env._search_ids``)
ACCESS_FILTERS: dict[str, Callable[[Env, list[int], str], list[int]]] = {"mail.message": visible_messages}

__all__ = [
    "ACCESS_FILTERS", "THREAD_MODELS", "add_thread_fields", "html_body", "is_thread", "message_post", "seed_mail",
]

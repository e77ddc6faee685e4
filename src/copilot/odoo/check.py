"""What the configured Odoo account can and cannot read, per Copilot source: ``copilot odoo check``.

For every source Copilot syncs or queries (Documents, Knowledge, Maintenance, Helpdesk, Stock, Purchase and the
attachment fallback), each model is probed the way a least-privilege account can: ``fields_get`` says whether the
module is installed ("Object X doesn't exist" otherwise), one ``search_read`` of one id says whether the account
may read it. A refusal names the groups that would allow it — taken from Odoo's own AccessError ("This operation
is allowed for the following groups: ..."), not from a table of ours. On Documents 18+ the account must also be
a Documents system administrator to see documents shared with named members only (17: a Documents
administrator, for folders restricted to other groups), only Equipment Managers see every device and maintenance
request, and only Settings users see every Knowledge article
(docs/odoo-double.md "Access control" has the rule definitions); the check says so.

No record content is read (one id per model) and no secret is printed.

Usage::

    copilot odoo check --json            # the account of COPILOT_ODOO_*
    copilot odoo check --demo --json     # the demo network: its sync bot and a least-privilege account
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from copilot.odoo.client import OdooClient
from copilot.odoo.errors import OdooAccessError

SOURCES: dict[str, tuple[str, ...]] = {
    "documents": ("documents.document", "documents.folder", "documents.access"),
    "knowledge": ("knowledge.article", "knowledge.article.member"),
    "maintenance": ("maintenance.equipment", "maintenance.request"),
    "helpdesk": ("helpdesk.ticket", "helpdesk.team"),
    "stock": ("stock.quant", "stock.lot", "stock.move", "stock.location", "stock.warehouse.orderpoint"),
    "purchase": ("purchase.order", "purchase.order.line"),
    "attachments": ("ir.attachment",),
}
DOCUMENTS_SYSTEM = "documents.group_documents_system"
DOCUMENTS_MANAGER = "documents.group_documents_manager"  # 17: documents_document_manager_rule sees every document
EQUIPMENT_MANAGER = "maintenance.group_equipment_manager"  # maintenance.xml: the only rule that sees all
SETTINGS = "base.group_system"  # Knowledge: rule_knowledge_article_system, the only rule that sees every article
_ALLOWED = re.compile(r"^\t- (.+)$", re.M)

# What a source's readable models still hide from an account outside the one group whose record rule sees every
# record: (source, versions it applies to, report key, that group, the gap reported without it).
_SEES_ALL: tuple[tuple[str, Callable[[int], bool], str, str, str], ...] = (
    ("documents", lambda major: major >= 18, "sees_member_only_documents", DOCUMENTS_SYSTEM,
     "documents: documents shared with named members only stay invisible (Odoo 18+); needs "
     f"Documents / System Administrator ({DOCUMENTS_SYSTEM})"),
    ("documents", lambda major: major < 18, "sees_restricted_folders", DOCUMENTS_MANAGER,
     "documents: folders restricted to other groups, and other people's documents in \"own documents "
     f"only\" folders, stay invisible (Odoo 17); needs Documents / Administrator ({DOCUMENTS_MANAGER})"),
    ("knowledge", lambda major: True, "sees_member_only_articles", SETTINGS,
     "knowledge: private articles and articles shared with named members only stay invisible; "
     f"needs Settings ({SETTINGS}): Knowledge has no narrower group that sees every article"),
    ("maintenance", lambda major: True, "sees_all_equipment", EQUIPMENT_MANAGER,
     "maintenance: equipment the account does not follow, and requests it neither owns, follows nor "
     f"repairs, stay invisible; needs Equipment Manager ({EQUIPMENT_MANAGER})"),
)


def _allowed_groups(message: str) -> list[str]:
    return [g.strip() for g in _ALLOWED.findall(message or "")]


def check(client: OdooClient) -> dict[str, Any]:
    from copilot.odoo.source import resolve_user_groups

    if client.uid is None:
        client.connect()
    assert client.uid is not None
    groups = set(resolve_user_groups(client, client.uid))
    report: dict[str, Any] = {
        "server_version": client.version,
        "transport": client.transport_name,
        "login": client.config.login,
        "uid": client.uid,
        "sources": {},
        "gaps": [],
    }
    for source, models in SOURCES.items():
        entry: dict[str, Any] = {"installed": False, "models": {}}
        for model in models:
            if client.fields_of(model) is None:
                continue
            entry["installed"] = True
            try:
                client.search_read(model, [], ["id"], limit=1)
                entry["models"][model] = {"read": True}
            except OdooAccessError as exc:
                needs = _allowed_groups(exc.odoo_message)
                entry["models"][model] = {"read": False, "allowed_for": needs}
                fix = f"one of: {', '.join(needs)}" if needs else "a record rule or access right (Odoo named none)"
                report["gaps"].append(f"{source}: cannot read {model}; needs {fix}")
        if entry["installed"]:
            entry["readable"] = all(m["read"] for m in entry["models"].values())
        for src, applies, key, group, gap in _SEES_ALL:
            if source == src and entry["installed"] and applies(client.major):
                entry[key] = group in groups
                if group not in groups:
                    report["gaps"].append(gap)
        report["sources"][source] = entry
    report["least_privilege_ok"] = not report["gaps"]
    return report

"""Demo users (one per role, groups matching the demo corpus ACLs) and a demo approvals queue.

Demo users sign in with the password ``demo``; :class:`~copilot.api.settings.ServiceSettings` refuses password
sign-in outside ``environment=development``. The demo governance runs the product's own tools — among them the
real ``purchase_request_create`` against the demo Odoo (the protocol double) — so the approvals queue holds a
real draft purchase order waiting to be written, with its Odoo facts and links.

Usage::

    ensure_demo_users(UserStore(cp.engine))
    install_demo_governance(cp)          # before build_app
    seed_pending_purchase(cp)            # one request waiting for an executive or admin
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from copilot.api.users import UserStore
from copilot.errors import ConflictError
from copilot.governance.principal import Principal

if TYPE_CHECKING:
    from copilot.app import Copilot

DEMO_PASSWORD = "demo"

# id, name, role, ACL groups (see demo/corpus/copilot-meta.yaml), what to try
DEMO_USERS: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    ("nina.nurse", "Nina Okafor", "staff", ("all_staff", "nursing"), "Staff nurse: ask in the widget"),
    ("paul.procurement", "Paul Lindqvist", "staff", ("all_staff", "procurement"),
     "Procurement officer: sees supplier contracts"),
    ("quinn.quality", "Quinn Harlow", "compliance", ("all_staff", "quality"),
     "Compliance officer: audit search, verification, export"),
    ("erin.exec", "Erin Castellano", "executive", ("all_staff", "executive", "finance"),
     "Executive: approves purchase requests"),
    ("ivan.it", "Ivan Petrov", "helpdesk_agent", ("all_staff", "it", "helpdesk"), "Helpdesk agent"),
    ("ben.biomed", "Ben Adeyemi", "biomed_engineer", ("all_staff", "biomed"), "Biomedical engineer"),
    ("ada.admin", "Ada Admin", "admin", (), "Administrator: sees every document, decides any approval"),
)


DEMO_SITES: dict[str, tuple[str, ...]] = {
    "erin.exec": ("*",), "ada.admin": ("*",),  # the network's leaders see every site
    "ben.biomed": ("*",),  # Biomedical Engineering serves every site's equipment
    "nina.nurse": ("north_campus",), "paul.procurement": ("central_warehouse",),  # staff: their own site
}
"""The Odoo sites each demo user may look up and act on (keys of the demo network's sites)."""


def ensure_demo_users(store: UserStore) -> list[str]:
    """Create the demo users that are missing; returns the ids created (their API keys are not kept)."""
    made = []
    for uid, name, role, groups, _ in DEMO_USERS:
        try:
            sites = DEMO_SITES.get(uid, ())
            store.add(name, role=role, groups=groups, sites=sites, user_id=uid, password=DEMO_PASSWORD)
            made.append(uid)
        except ConflictError:
            pass
    return made


def sync_groups_from_odoo(store: UserStore, cp: Copilot) -> dict[str, tuple[str, ...]]:
    """Give each demo user the ACL groups its Odoo user of the same login has (group mapping plus the
    per-person partner/user tokens Odoo documents are shared with), so the widget shows what Odoo would."""
    from copilot.odoo.client import OdooClient
    from copilot.odoo.source import resolve_user_groups

    out: dict[str, tuple[str, ...]] = {}
    with OdooClient(cp.settings.odoo_config()).connect() as client:
        for uid, _, _, groups, _ in DEMO_USERS:
            found = client.search("res.users", [("login", "=", uid)], limit=1)
            if not found:
                continue
            resolved = tuple(sorted({*groups, *resolve_user_groups(client, found[0], cp.settings.odoo_group_map)}))
            store.set_groups(uid, resolved)
            out[uid] = resolved
    return out


@dataclass
class DemoServices:
    """What the demo's tools reach: the copilot's own services (triage, kpis, ops, audit, feedback, ingestion...),
    the same the product's tools use."""

    copilot: Copilot

    def __getattr__(self, name: str) -> Any:
        return getattr(self.copilot, name)


def install_demo_governance(cp: Copilot) -> DemoServices:
    """Replace the copilot's governance with the product's tools over the demo services."""
    from copilot.governance.factory import build_governance
    from copilot.tools import default_registry

    registry = default_registry()
    services = DemoServices(copilot=cp)
    cp.__dict__["governance"] = build_governance(
        cp.engine, registry, policy=cp.settings.policy_path, redactor=cp.audit_redactor, services=services,
        checkpoint_every=cp.settings.audit_checkpoint_every)
    return services


SEED_PURCHASE: dict[str, Any] = {
    "site": "Central Warehouse",
    "supplier": "Meridian Pharma Distribution",
    "lines": [{"product": "INS-RAP", "quantity": 300}, {"product": "VAC-FLU", "quantity": 200}],
    "note": "Quarterly insulin and influenza vaccine top-up for the network",
}
"""Priced by Odoo at 18.00 and 9.50: 7,300 — above the 5,000 line, so it waits for an executive or admin."""


def seed_pending_purchase(cp: Copilot) -> str | None:
    """One real purchase request above the approval threshold, requested by the demo executive: its facts
    (supplier, lines at Odoo prices, the receipt type, with links) wait in the queue; Odoo is untouched until
    someone else approves. None when one is already there or Odoo cannot price it (the refusal is audited)."""
    if cp.approvals.find(tool="purchase_request_create", limit=1):
        return None
    erin = Principal(id="erin.exec", name="Erin Castellano", role="executive",
                     groups=("all_staff", "executive", "finance"), sites=("*",))
    res = cp.executor.execute(erin, "purchase_request_create", SEED_PURCHASE)
    return res.approval_id

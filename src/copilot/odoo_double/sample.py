"""A small, fixed database for tests and examples: three departments' users and a permissioned corpus.

Groups (xml ids): ``hospital.group_procurement``, ``hospital.group_finance``, ``hospital.group_clinical``.
Users: alice (procurement), carol (finance), bob (clinical), each with password ``<login>-pw`` and API key
``key-<login>``. Folders: "Contracts" readable by procurement + finance, "SOPs" open to every employee.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from copilot.odoo_double import builders
from copilot.odoo_double.store import Database

GROUPS = {
    "hospital.group_procurement": "Procurement",
    "hospital.group_finance": "Finance",
    "hospital.group_clinical": "Clinical Staff",
}
USERS = {
    "alice": "hospital.group_procurement",
    "carol": "hospital.group_finance",
    "bob": "hospital.group_clinical",
}


@dataclass
class Sample:
    db: Database
    users: dict[str, int] = field(default_factory=dict)
    folders: dict[str, int] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    articles: dict[str, int] = field(default_factory=dict)
    equipment: dict[str, int] = field(default_factory=dict)


def seed_sample(db: Database) -> Sample:
    s = Sample(db)
    for xmlid, label in GROUPS.items():
        db.add_group(xmlid, label)
    for login, group in USERS.items():
        uid = db.add_user(
            login, f"{login}-pw", groups=["base.group_user", "documents.group_documents_user", group]
        )
        db.add_api_key(uid, f"key-{login}")
        s.users[login] = uid
    db.add_api_key(2, "key-admin")
    s.folders["contracts"] = builders.add_folder(
        db, "Contracts", read_groups=["hospital.group_procurement", "hospital.group_finance"]
    )
    s.folders["sops"] = builders.add_folder(db, "SOPs")
    s.documents["supply"] = builders.add_document(
        db,
        s.folders["contracts"],
        "Supply agreement MedSupply.md",
        b"# Supply agreement\n\nMedSupply delivers infusion sets within 5 business days.\n",
    )
    s.documents["service"] = builders.add_document(
        db,
        s.folders["contracts"],
        "Service contract BioServ.md",
        b"# Service contract\n\nBioServ performs preventive maintenance twice a year.\n",
    )
    s.documents["pm"] = builders.add_document(
        db,
        s.folders["sops"],
        "Infusion pump PM.md",
        b"# Infusion pump preventive maintenance\n\nInspect pumps every 6 months.\n",
    )
    s.documents["hand"] = builders.add_document(
        db,
        s.folders["sops"],
        "Hand hygiene.html",
        b"<h1>Hand hygiene</h1><p>Use alcohol rub before and after patient contact.</p>",
        "text/html",
    )
    alice_partner = db.table("res.users")[s.users["alice"]]["partner_id"]
    s.articles["onboarding"] = builders.add_article(
        db, "Onboarding", "<h1>Welcome</h1><p>Badge office is on level 1.</p>", internal="read"
    )
    s.articles["negotiation"] = builders.add_article(
        db,
        "Negotiation playbook",
        "<p>Never accept the first price.</p>",
        internal="none",
        members=[(alice_partner, "write")],
    )
    where = {"location": "North ICU"} if "location" in db.models["maintenance.equipment"].fields else {}
    pump = builders.add_equipment(db, "Infusion pump IP-7", serial_no="IP7-001", **where)  # 19: no location
    s.equipment["pump"] = pump
    builders.add_maintenance(
        db,
        pump,
        "6-month PM",
        maintenance_type="preventive",
        request_date="2026-01-10",
        close_date="2026-01-11",
        duration=1.5,
        description="<p>Replaced filter.</p>",
    )
    builders.add_maintenance(
        db,
        pump,
        "Occlusion alarm",
        maintenance_type="corrective",
        request_date="2026-03-02",
        duration=3.0,
        description="<p>False alarms.</p>",
    )
    builders.add_attachment(
        db,
        "pump-manual.txt",
        b"Pump manual: prime the line before use.",
        "text/plain",
        res_model="maintenance.equipment",
        res_id=pump,
    )
    db.commit()
    return s

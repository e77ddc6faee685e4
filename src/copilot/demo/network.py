"""The demo hospital network (Riverside Health Network), generated deterministically into an Odoo double.

3 hospitals, 8 clinics, a central warehouse, a diagnostic lab and biomedical engineering. This module fills
the double with users per department, the demo corpus in Documents folders whose permissions follow the
corpus sidecar (``copilot-meta.yaml``), a few Knowledge articles, and the biomedical/facility equipment fleet
with 12 months of preventive and corrective maintenance. Operational data (stock, purchases, budgets, tickets)
is added by :mod:`copilot.demo.ops`. Known exceptions are returned as ground truth.

Odoo groups are ``riverside.group_<name>``; :data:`GROUP_MAP` turns them (and ``base.group_user``) into the
Copilot ACL groups the corpus uses (``procurement``, ``all_staff``...).

Usage::

    db = Database(version="19.0")
    network = build_demo_network(db)
    with OdooDouble(db) as odoo: ...  # log in as network.bot_login with network.bot_key
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from copilot.demo.world import DOCUMENTED_EQUIPMENT, GENERATED_TAG_SERIALS
from copilot.odoo_double import builders as b
from copilot.odoo_double.store import SUPERUSER_ID, Database

SEED = 20260101
TODAY = date(2026, 4, 30)  # the network's "now": data covers the 12 months before it

HOSPITALS = {
    "north_campus": "North Campus Hospital",
    "south_campus": "South Campus Hospital",
    "lakeside": "Lakeside Hospital",
}
CLINICS = {
    "harbor_view_clinic": "Harbor View Clinic",
    "riverbend_clinic": "Riverbend Clinic",
    "oakridge_clinic": "Oakridge Clinic",
    "maple_street_clinic": "Maple Street Clinic",
    "westfield_clinic": "Westfield Clinic",
    "hillcrest_clinic": "Hillcrest Clinic",
    "pinegrove_clinic": "Pine Grove Clinic",
    "eastgate_clinic": "Eastgate Clinic",
}
SUPPORT = {
    "central_warehouse": "Central Warehouse",
    "diagnostic_lab": "Diagnostic Laboratory",
    "biomedical_engineering": "Biomedical Engineering",
}
SITES = {**HOSPITALS, **CLINICS, **SUPPORT}
# What the demo configures as COPILOT_SITE_NAMES (serve --demo, the evals over the demo corpus).
SITE_NAMES: tuple[str, ...] = tuple(SITES.values())

DEPARTMENT_GROUPS = (
    "procurement",
    "finance",
    "biomed",
    "quality",
    "executive",
    "facilities",
    "nursing",
    "lab",
    "pharmacy",
    "warehouse",
    "it",
    "helpdesk",
)
GROUP_MAP: dict[str, str] = {f"riverside.group_{g}": g for g in DEPARTMENT_GROUPS} | {
    "base.group_user": "all_staff",
    "documents.group_documents_user": "all_staff",
}

USERS: dict[str, tuple[str, tuple[str, ...]]] = {  # login -> (name, Copilot groups)
    "nina.nurse": ("Nina Okafor", ("nursing",)),
    "paul.procurement": ("Paul Lindqvist", ("procurement",)),
    "fiona.finance": ("Fiona Marsh", ("finance",)),
    "ben.biomed": ("Ben Adeyemi", ("biomed",)),
    "quinn.quality": ("Quinn Harlow", ("quality",)),
    "erin.exec": ("Erin Castellano", ("executive", "finance")),
    "fred.facilities": ("Fred Kowalski", ("facilities",)),
    "lara.lab": ("Lara Chen", ("lab",)),
    "phil.pharmacy": ("Phil Osei", ("pharmacy",)),
    "wanda.warehouse": ("Wanda Ruiz", ("warehouse",)),
    "ivan.it": ("Ivan Petrov", ("it", "helpdesk")),
    "sam.staff": ("Sam Patel", ()),
}
# Odoo groups beyond the department ones: who manages the equipment fleet. Maintenance's record rules show an
# employee only the equipment they follow and the requests they own, follow or repair; Equipment Managers see
# every device and request, and so every maintenance log (biomedical engineering runs the fleet, facilities
# the generators)
ODOO_GROUPS: dict[str, tuple[str, ...]] = {
    "ben.biomed": ("maintenance.group_equipment_manager",),
    "fred.facilities": ("maintenance.group_equipment_manager",),
}
BOT_LOGIN = "copilot-bot"
BOT_KEY = "demo-key-copilot-bot"  # the demo sync account's API key (demo data, not a secret)

FOLDER_TITLES = {
    "sops": "SOPs",
    "policies": "Policies",
    "contracts": "Contracts",
    "maintenance": "Maintenance",
    "incidents": "Incidents",
}


@dataclass
class DemoNetwork:
    """What was generated: ids to reach it and the injected exceptions (ground truth for evals)."""

    db: Database
    users: dict[str, int] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)
    folders: dict[str, int] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)  # corpus relative path -> documents.document id
    articles: dict[str, int] = field(default_factory=dict)
    equipment: dict[str, int] = field(default_factory=dict)
    equipment_site: dict[str, str] = field(default_factory=dict)  # asset tag -> site key (19 has no `location`)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    ticket_truth: dict[int, dict[str, Any]] = field(default_factory=dict)
    bot_login: str = BOT_LOGIN

    @property
    def bot_key(self) -> str:
        return self.api_keys[BOT_LOGIN]


def default_corpus_dir() -> Path:
    import copilot.demo

    return Path(copilot.demo.__file__).resolve().parent / "corpus"


def build_demo_network(
    db: Database,
    *,
    seed: int = SEED,
    corpus_dir: Path | None = None,
    operations: bool = True,
    tickets: int = 1500,
) -> DemoNetwork:
    """Fill ``db`` (a fresh double of any version) with the network. Same seed, same data."""
    rng = random.Random(seed)
    net = DemoNetwork(db)
    _users(net)
    _documents(net, corpus_dir or default_corpus_dir())
    _knowledge(net)
    _maintenance(net, rng)
    if operations:
        from copilot.demo.ops import build_operations

        build_operations(net, rng, tickets=tickets)
    _equipment_locations(net)
    db.commit()
    return net


def _equipment_locations(net: DemoNetwork) -> None:
    """Where ``stock_maintenance`` gives equipment a ``location_id`` (the 19 recordings show it; 19 dropped the
    free-text ``location``), each device points at an internal location of its site, ``<Site>/Equipment`` — so a
    site's equipment is findable on 19 as on 17. No random draws."""
    db = net.db
    if "location_id" not in db.models["maintenance.equipment"].fields:
        return
    where: dict[str, int] = {}
    for tag, eid in net.equipment.items():
        site = net.equipment_site[tag]
        if site not in where:
            where[site] = b.create(db, "stock.location", {"name": f"{SITES[site]}/Equipment", "usage": "internal"})
        db.table("maintenance.equipment")[eid]["location_id"] = where[site]
        db._persist("maintenance.equipment", eid)


def _users(net: DemoNetwork) -> None:
    db = net.db
    for g in DEPARTMENT_GROUPS:
        db.add_group(f"riverside.group_{g}", g.replace("_", " ").title())
    base = ["base.group_user", "documents.group_documents_user"]
    for login, (name, groups) in USERS.items():
        uid = db.add_user(
            login,
            f"{login}-pw",
            groups=[*base, *(f"riverside.group_{g}" for g in groups), *ODOO_GROUPS.get(login, ())],
            name=name,
        )
        net.users[login] = uid
        net.api_keys[login] = f"demo-key-{login}"
        db.add_api_key(uid, net.api_keys[login])
    bot = db.add_user(
        BOT_LOGIN,
        "copilot-bot-pw",
        # 18+: only a Documents *system* administrator sees member-only documents (a manager does not)
        # and an Equipment Manager, or it would list only the equipment and requests it follows
        groups=[*base, "documents.group_documents_system" if db.major >= 18 else "documents.group_documents_manager",
                "maintenance.group_equipment_manager", "base.group_system"],
        name="Copilot Sync",
    )
    net.users[BOT_LOGIN] = bot
    net.api_keys[BOT_LOGIN] = BOT_KEY
    db.add_api_key(bot, net.api_keys[BOT_LOGIN])
    net.api_keys["admin"] = "demo-key-admin"
    db.add_api_key(2, net.api_keys["admin"])


def _odoo_groups(acl: tuple[str, ...]) -> list[str]:
    return [f"riverside.group_{g}" for g in acl if g in DEPARTMENT_GROUPS]


def _documents(net: DemoNetwork, corpus_dir: Path) -> None:
    """One top folder per corpus folder, a sub-folder per distinct restricted ACL inside it."""
    from copilot.ingest.sources import FolderSource

    db = net.db
    source = FolderSource(corpus_dir, name="corpus")
    refs = sorted(source.list_documents(), key=lambda r: r.uri)
    tags: dict[str, int] = {}

    def tag(name: str) -> int:
        if name not in tags:
            tags[name] = b.create(db, "documents.tag", {"name": name})
        return tags[name]

    by_folder: dict[tuple[str, tuple[str, ...]], list[Any]] = defaultdict(list)
    for ref in refs:
        rel = Path(ref.uri).resolve().relative_to(corpus_dir.resolve()).as_posix()
        top = rel.split("/")[0] if "/" in rel else "general"
        acl = ("all_staff",) if "all_staff" in ref.acl_groups else tuple(sorted(ref.acl_groups))
        by_folder[(top, acl)].append((rel, ref))
    for top in sorted({t for t, _ in by_folder}):
        acls = sorted(acl for t, acl in by_folder if t == top)
        main_acl = max(acls, key=lambda a: len(by_folder[(top, a)]))
        net.folders[top] = _folder(db, FOLDER_TITLES.get(top, top.title()), main_acl)
        for acl in acls:
            folder = net.folders[top]
            if acl != main_acl:
                label = f"{FOLDER_TITLES.get(top, top.title())} - restricted to {', '.join(acl)}"
                folder = _folder(db, label, acl, parent=net.folders[top])
                net.folders[f"{top}/{'+'.join(acl)}"] = folder
            for rel, ref in by_folder[(top, acl)]:
                doc = b.add_document(db, folder, ref.title, source.read(ref), ref.mime_type)
                facets = (
                    [f"doc_type:{ref.doc_type}"]
                    + [f"site:{ref.site}"] * bool(ref.site)
                    + [f"department:{ref.department}"] * bool(ref.department)
                )
                db.env(SUPERUSER_ID).write("documents.document", [doc], {"tag_ids": [tag(f) for f in facets]})
                net.documents[rel] = doc


def _folder(db: Database, name: str, acl: tuple[str, ...], parent: int | None = None) -> int:
    if "all_staff" in acl or not acl:
        return b.add_folder(db, name, parent=parent)
    return b.add_folder(db, name, read_groups=_odoo_groups(acl), parent=parent)


def _knowledge(net: DemoNetwork) -> None:
    db = net.db
    net.articles["welcome"] = b.add_article(
        db,
        "Welcome to Riverside Health Network",
        "<h1>Welcome</h1><p>Riverside runs three hospitals (North Campus, South Campus, Lakeside), eight "
        "clinics, a central warehouse, a diagnostic laboratory and a biomedical engineering service.</p>"
        "<h2>Where to get help</h2><p>Raise a helpdesk ticket for IT, facilities and biomedical requests. "
        "Urgent equipment faults in clinical areas: call biomedical engineering on extension 4410.</p>",
        internal="read",
    )
    exec_partner = db.table("res.users")[net.users["erin.exec"]]["partner_id"]
    fin_partner = db.table("res.users")[net.users["fiona.finance"]]["partner_id"]
    net.articles["board"] = b.add_article(
        db,
        "Board briefing notes - Q1 2026",
        "<h1>Board briefing</h1><p>Lakeside overtime exceeded budget by 18% in March; recruitment of four "
        "nurses is approved. The Crestline supply contract renewal is under negotiation.</p>",
        internal="none",
        members=[(exec_partner, "write"), (fin_partner, "read")],
    )
    net.articles["helpdesk"] = b.add_article(
        db,
        "How to write a good helpdesk ticket",
        "<h1>Writing a ticket</h1><p>Say where (site, ward, room), what (device, asset tag, system), since "
        "when, and who is affected. One problem per ticket.</p>",
        internal="read",
    )


EQUIPMENT_KINDS = [  # (prefix, name, category, per hospital, per clinic, PM interval months)
    ("BME-INF", "Infusion pump", "Infusion pumps", 24, 3, 6),
    ("BME-VEN", "Ventilator", "Ventilators", 6, 0, 6),
    ("BME-DEF", "Defibrillator", "Defibrillators", 8, 1, 12),
    ("BME-AUT", "Autoclave", "Sterilisers", 2, 1, 6),
    ("BME-FRG", "Vaccine refrigerator", "Cold chain", 3, 1, 12),
    ("FAC-GEN", "Emergency generator", "Facilities", 1, 0, 1),
]
FAULTS = {
    "BME-INF": [
        "Occlusion alarm not triggering",
        "Door latch broken",
        "Battery not holding charge",
        "Air-in-line false alarms",
        "Keypad unresponsive",
    ],
    "BME-VEN": ["Flow sensor drift", "Exhalation valve leak", "Fan noise"],
    "BME-DEF": ["Battery replacement due", "Self-test failure", "Pads cable damaged"],
    "BME-AUT": ["Vacuum pump failure", "Door seal leak", "Cycle aborts at drying phase"],
    "BME-FRG": ["Temperature excursion above 8 C", "Compressor failure", "Door alarm faulty"],
    "FAC-GEN": ["Failed to start on load test", "Coolant leak", "Transfer switch fault"],
}


def _maintenance(net: DemoNetwork, rng: random.Random) -> None:
    db = net.db
    cats = {c: b.create(db, "maintenance.equipment.category", {"name": c}) for _, _, c, *_ in EQUIPMENT_KINDS}
    team = b.create(db, "maintenance.team", {"name": "Biomedical Engineering"})
    stages = {
        n: b.create(db, "maintenance.stage", {"name": n, "sequence": i, "done": n == "Repaired"})
        for i, n in enumerate(("New Request", "In Progress", "Repaired"))
    }
    start = TODAY - timedelta(days=365)
    missing_pm_site = "lakeside"
    equipment_fields = db.models["maintenance.equipment"].fields  # 19 has no free-text `location`
    for prefix, label, cat, per_hosp, per_clinic, interval in EQUIPMENT_KINDS:
        serial = 0
        for site, site_name in {**HOSPITALS, **CLINICS}.items():
            count = per_hosp if site in HOSPITALS else per_clinic
            for _ in range(count):
                serial += 1
                tag = f"{prefix}-{GENERATED_TAG_SERIALS.get(prefix, {}).get(site, serial):04d}"
                eid = b.add_equipment(
                    db,
                    f"{label} {tag}",
                    serial_no=tag,
                    model=f"{label} model {rng.choice('ABC')}",
                    **({"location": site_name} if "location" in equipment_fields else {}),
                    category_id=cats[cat],
                    maintenance_team_id=team,
                    effective_date=str(start - timedelta(days=rng.randint(200, 2000))),
                )
                net.equipment[tag] = eid
                net.equipment_site[tag] = site
                skip_pm = prefix == "BME-INF" and site == missing_pm_site
                day = start + timedelta(days=rng.randint(0, 30 * interval - 1))
                while day <= TODAY and not skip_pm:
                    done = day + timedelta(days=rng.randint(0, 3))
                    b.add_maintenance(
                        db,
                        eid,
                        f"Preventive maintenance {tag}",
                        maintenance_type="preventive",
                        request_date=str(day),
                        close_date=str(done) if done <= TODAY else False,
                        stage_id=stages["Repaired" if done <= TODAY else "New Request"],
                        duration=round(rng.uniform(0.5, 2.0), 1),
                        maintenance_team_id=team,
                        description=f"<p>Scheduled {interval}-month PM: inspection, electrical "
                        f"safety test and performance check. Passed.</p>",
                    )
                    day += timedelta(days=30 * interval + rng.randint(-7, 7))
                for _ in range(rng.choices([0, 1, 2, 3], weights=[5, 3, 1, 1])[0]):
                    day = start + timedelta(days=rng.randint(0, 364))
                    # a repair takes one to five days (the same draw as before, so the rest of the network stays)
                    down = 1 + (rng.randint(1, 12) - 1) * 5 // 12
                    closed = day + timedelta(days=down)
                    fault = rng.choice(FAULTS[prefix])
                    b.add_maintenance(
                        db,
                        eid,
                        f"{fault} - {tag}",
                        maintenance_type="corrective",
                        request_date=str(day),
                        close_date=str(closed) if closed <= TODAY else False,
                        stage_id=stages["Repaired" if closed <= TODAY else "In Progress"],
                        duration=round(down * 24 * rng.uniform(0.2, 0.6), 1),
                        priority=rng.choice(["1", "2", "3"]),
                        maintenance_team_id=team,
                        description=f"<p>{fault} reported by ward staff at {site_name}. "
                        f"Device tagged out of service; downtime {down} days.</p>",
                    )
    net.exceptions.append(
        {
            "kind": "missing_pm",
            "site": missing_pm_site,
            "equipment_category": "Infusion pumps",
            "detail": "No preventive maintenance recorded in the last 12 months for Lakeside infusion pumps",
            "equipment": sorted(
                t
                for t, _ in net.equipment.items()
                if t.startswith("BME-INF") and net.equipment_site[t] == missing_pm_site
            ),
        }
    )
    _documented_equipment(net, cats, team, stages, "location" in equipment_fields)


def _documented_equipment(net: DemoNetwork, cats: dict[str, int], team: int, stages: dict[str, int],
                          has_location: bool) -> None:
    """The devices the documents name (:mod:`copilot.demo.world`), with the model, place, PMs and repairs the
    documents give. A generated device with a documented tag takes the documented attributes; the rest are added.
    No random draws, so the generated fleet is unchanged."""
    db = net.db
    for doc in DOCUMENTED_EQUIPMENT.values():
        if doc.category not in cats:
            cats[doc.category] = b.create(db, "maintenance.equipment.category", {"name": doc.category})
        note = f"<p>{doc.where}. Manufacturer serial {doc.serial or 'not recorded'}. Source: {doc.source}.</p>"
        eid = net.equipment.get(doc.tag)
        if eid is not None:
            if net.equipment_site[doc.tag] != doc.site:
                raise ValueError(f"{doc.tag} is generated at {net.equipment_site[doc.tag]}, documented at {doc.site}")
            db.table("maintenance.equipment")[eid].update(model=doc.model, note=note)
            db._persist("maintenance.equipment", eid)
        else:
            eid = b.add_equipment(
                db, f"{doc.label} {doc.tag}", serial_no=doc.tag, model=doc.model, note=note,
                **({"location": SITES[doc.site]} if has_location else {}),
                category_id=cats[doc.category], maintenance_team_id=team, effective_date="2019-01-01")
            net.equipment[doc.tag] = eid
            net.equipment_site[doc.tag] = doc.site
            pm_days = list(doc.pm_dates)
            if not pm_days and doc.pm_interval_months:
                first = TODAY - timedelta(days=365) + timedelta(days=7 + sum(map(ord, doc.tag)) % 21)
                step = 30 * doc.pm_interval_months
                pm_days = [str(first + timedelta(days=step * i)) for i in range(365 // step + 1)
                           if first + timedelta(days=step * i) <= TODAY]
            for day in pm_days:
                b.add_maintenance(db, eid, f"Preventive maintenance {doc.tag}", maintenance_type="preventive",
                                  request_date=day, close_date=day, stage_id=stages["Repaired"],
                                  duration=1.0, maintenance_team_id=team,
                                  description="<p>Scheduled PM: inspection, electrical safety test and performance "
                                              "check. Passed.</p>")
        for r in doc.repairs:
            b.add_maintenance(db, eid, f"{r.fault} - {doc.tag}", maintenance_type="corrective",
                              request_date=r.start[:10], close_date=r.end[:10] if r.end else False,
                              stage_id=stages["Repaired" if r.end else "In Progress"], priority="3",
                              maintenance_team_id=team,
                              description=f"<p>{r.fault}. Work order {r.work_order}. See the service report "
                                          f"({doc.source}).</p>")

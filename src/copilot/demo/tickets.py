"""Helpdesk tickets for the demo network: varied wording, length and tone, labelled team/category/priority.

Categories share vocabulary on purpose ("screen", "alarm", "fridge", "login", "printer", "not working" appear
in several), a share of tickets mention two problems, and about 5% carry a plausible wrong label, as real
queues do, so a classifier's score means something. ``net.ticket_truth`` records, per ticket id, the
category the text was generated from, the label stored in Odoo, and whether it was ambiguous or mislabelled.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from copilot.odoo_double import builders as b

if TYPE_CHECKING:
    from copilot.demo.network import DemoNetwork

TEAMS = {
    "it": "IT Service Desk",
    "biomed": "Biomedical Engineering",
    "facilities": "Facilities",
    "supply": "Supply Chain",
}
CATEGORIES = {  # category -> team
    "Access & accounts": "it",
    "Computers & printers": "it",
    "Network & phones": "it",
    "Clinical applications": "it",
    "Medical equipment": "biomed",
    "Building & utilities": "facilities",
    "Cleaning & waste": "facilities",
    "Supplies & stock": "supply",
}
CONFUSABLE = {
    "Access & accounts": ["Clinical applications"],
    "Computers & printers": ["Medical equipment", "Network & phones"],
    "Network & phones": ["Computers & printers"],
    "Clinical applications": ["Access & accounts", "Computers & printers"],
    "Medical equipment": ["Computers & printers", "Building & utilities"],
    "Building & utilities": ["Medical equipment", "Cleaning & waste"],
    "Cleaning & waste": ["Building & utilities"],
    "Supplies & stock": ["Medical equipment", "Cleaning & waste"],
}
PROBLEMS: dict[str, list[str]] = {
    "Access & accounts": [
        "I can't log in to my account since this morning, it says my password has expired",
        "my account is locked after too many attempts and I can't get into the shared drive",
        "new starter {name} needs a login and email before Monday",
        "the badge reader accepts my card but my Windows login keeps failing",
        "need access to the finance folder on the shared drive, my manager approved it",
        "two-factor code never arrives on my phone so I can't sign in remotely",
        "please remove access for {name} who left the team last Friday",
    ],
    "Computers & printers": [
        "the printer on {ward} keeps jamming and now shows a blank screen",
        "workstation {pc} is very slow and freezes when I open more than two windows",
        "the label printer at the nurses' station prints blank labels",
        "my monitor screen flickers and then goes black",
        "the keyboard on the admission desk PC is not working, several keys stuck",
        "scanner next to reception is not working since the update",
        "laptop won't charge, battery icon shows 0% even when plugged in",
    ],
    "Network & phones": [
        "wifi keeps dropping on {ward}, tablets lose connection every few minutes",
        "the desk phone at {ward} has no dial tone",
        "network is very slow in the whole building, pages time out",
        "can't connect to the VPN from home, error 809",
        "the pager system is not sending alerts to the on-call phone",
        "network socket in room {room} is dead, no link light",
    ],
    "Clinical applications": [
        "the electronic record is freezing when we try to save medication charts",
        "lab results are not showing in the patient record for {ward}",
        "the prescribing screen throws an error when I select a dose",
        "cannot log in to the radiology viewer, it says licence unavailable",
        "the bed management screen shows patients who were discharged yesterday",
        "order sets are missing from the theatre booking application",
    ],
    "Medical equipment": [
        "infusion pump {tag} alarm is going off for occlusion even with the line clear",
        "the defibrillator failed its daily self-test on {ward}",
        "ventilator {tag} flow sensor reading drifts, please check",
        "vaccine fridge alarm: temperature showed 9.4 C overnight",
        "the screen on infusion pump {tag} is cracked and not responding to touch",
        "blood pressure monitor gives error E3 and won't take readings",
        "autoclave aborted the cycle twice with a vacuum error",
        "patient monitor battery not holding charge, dies after 20 minutes",
    ],
    "Building & utilities": [
        "the heating is not working in {ward}, it's freezing",
        "water leaking from the ceiling above room {room}",
        "fire alarm panel shows a fault on level 2",
        "the lift at the main entrance is stuck between floors again",
        "lights flickering in the corridor outside {ward}",
        "staff room fridge is not cooling, food is spoiling",
        "door to the medication room won't lock properly",
        "power socket behind bed {room} sparked when we plugged in a monitor",
    ],
    "Cleaning & waste": [
        "sharps bins on {ward} are full and haven't been collected",
        "spill in the corridor near room {room} needs cleaning urgently",
        "clinical waste bags piling up in the sluice room",
        "the toilet in the waiting area is blocked and overflowing",
        "isolation room {room} needs a deep clean after discharge",
        "pest sighting in the kitchen store, please arrange pest control",
    ],
    "Supplies & stock": [
        "we are out of medium nitrile gloves on {ward}",
        "the order for IV sets has not arrived, we only have stock for one day",
        "received the wrong size syringes in today's delivery",
        "the vaccine delivery arrived warm, cold box indicator is red",
        "need an urgent top-up of saline bags for the weekend",
        "expired paracetamol found on the shelf in the clinic store",
        "printer paper and toner for the ward office, we ran out",
    ],
}
OPENERS = [
    "",
    "",
    "Hi, ",
    "Hello team, ",
    "Good morning, ",
    "URGENT: ",
    "Hi all - ",
    "Dear helpdesk, ",
    "Again!! ",
    "Quick one: ",
]
CONTEXT = [
    "",
    "",
    "",
    "This started around {time}. ",
    "Second time this week. ",
    "It was fine yesterday. ",
    "We already restarted it. ",
    "Affecting the whole shift. ",
    "Patients are waiting. ",
    "Not urgent but annoying. ",
]
CLOSERS = [
    "",
    "",
    "Thanks",
    "Thanks in advance!",
    "Please call {ext}.",
    "Cheers",
    "Can someone come up asap?",
    "Regards, {name}",
    "- {name}",
]
URGENT_WORDS = (
    "urgent",
    "asap",
    "patients are waiting",
    "sparked",
    "leaking",
    "alarm",
    "out of",
    "overflowing",
    "stuck between floors",
    "warm",
)
WARDS = [
    "Ward 4B",
    "ICU",
    "the ED",
    "Maternity",
    "Ward 2A",
    "Oncology day unit",
    "the clinic front desk",
    "Theatre 3",
    "Paediatrics",
    "Radiology",
]
NAMES = ["Maria Gomez", "Tom Reilly", "Aisha Khan", "Jonas Berg", "Lucy Tran", "Omar Haddad", "Grace Liu"]


def _fill(rng: random.Random, text: str) -> str:
    ward = rng.choice(WARDS)
    n = rng.randint(1, 160)  # same draws in the same order as before: the network stays reproducible
    return text.format(
        ward=ward,
        tag=f"BME-INF-{n:04d}",
        pc=f"WS-{n:04d}",  # a workstation's asset tag; BME-INF- is the infusion pumps' prefix
        room=rng.randint(101, 450),
        name=rng.choice(NAMES),
        time=f"{rng.randint(6, 22)}:00",
        ext=f"ext {rng.randint(4000, 4999)}",
    )


def _text(rng: random.Random, category: str, site: str) -> tuple[str, str, bool]:
    problem = _fill(rng, rng.choice(PROBLEMS[category]))
    ambiguous = rng.random() < 0.07
    if ambiguous:  # a second, different problem in the same ticket
        other = rng.choice(CONFUSABLE[category])
        problem += f". Also {_fill(rng, rng.choice(PROBLEMS[other]))}"
    tone = rng.random()
    if tone < 0.2:
        problem = problem.split(",")[0]  # terse
    opener = rng.choice(OPENERS)
    body = f"{opener}{problem[0].upper() if not opener else problem[0]}{problem[1:]} at {site}. "
    for ctx in rng.sample(CONTEXT, 2 if rng.random() < 0.3 else 1):
        body += _fill(rng, ctx)
    body += _fill(rng, rng.choice(CLOSERS))
    if tone > 0.9:
        body = body.upper() if rng.random() < 0.3 else body.replace(". ", "!! ", 1)
    subject = problem.split(",")[0].split(". Also")[0]
    subject = subject[:70] + ("..." if len(subject) > 70 else "")
    return subject[0].upper() + subject[1:], body.strip(), ambiguous


def _priority(rng: random.Random, category: str, body: str) -> str:
    score = 1 + sum(w in body.lower() for w in URGENT_WORDS)
    if category in ("Medical equipment", "Clinical applications"):
        score += 1
    score = max(0, min(3, score - 1 + rng.choice([-1, 0, 0, 0, 1])))
    return str(score)


def build_tickets(net: DemoNetwork, rng: random.Random, *, count: int, today: date) -> None:
    from copilot.demo.network import SITES, USERS

    db = net.db
    teams = {k: b.create(db, "helpdesk.team", {"name": v}) for k, v in TEAMS.items()}
    types = {c: b.create(db, "helpdesk.ticket.type", {"name": c}) for c in CATEGORIES}
    stages = {
        n: b.create(db, "helpdesk.stage", {"name": n, "fold": n in ("Solved", "Cancelled")})
        for n in ("New", "In Progress", "On Hold", "Solved", "Cancelled")
    }
    requesters = [db.table("res.users")[u]["partner_id"] for u in net.users.values()]
    department_of = {  # requester partner -> the department (Copilot group) the bias section reports by
        db.table("res.users")[uid]["partner_id"]: (USERS.get(login, ("", ("staff",)))[1] or ("staff",))[0]
        for login, uid in net.users.items()
    }
    weights = [18, 16, 10, 10, 16, 14, 6, 10]
    truth: dict[int, dict[str, Any]] = {}
    site_names = list(SITES.values())
    for _ in range(count):
        category = rng.choices(list(CATEGORIES), weights=weights)[0]
        site = rng.choice(site_names)
        subject, body, ambiguous = _text(rng, category, site)
        label = category
        mislabelled = rng.random() < 0.05
        if mislabelled:
            label = rng.choice(CONFUSABLE[category])
        team = CATEGORIES[label]
        created = today - timedelta(days=rng.randint(0, 364), hours=rng.randint(0, 23))
        age = (today - created).days
        stage = "Solved" if age > 10 or rng.random() < 0.6 else rng.choice(["New", "In Progress", "On Hold"])
        took_h = rng.randint(1, 24 * 6) if stage == "Solved" else None  # hours to close (same draws as before)
        tid = b.create(
            db,
            "helpdesk.ticket",
            {
                "name": subject,
                "description": f"<p>{body}</p>",
                "team_id": teams[team],
                "ticket_type_id": types[label],
                "stage_id": stages[stage],
                "partner_id": (requester := rng.choice(requesters)),
                "priority": _priority(rng, category, body),
                "close_date": False,
            },
        )
        rec = db.table("helpdesk.ticket")[tid]
        opened = datetime(created.year, created.month, created.day, rng.randint(7, 20), rng.randint(0, 59))
        rec["create_date"] = f"{opened:%Y-%m-%d %H:%M:%S}"
        if took_h is not None:  # closed after it was opened (a date plus hours used to drop the hours)
            rec["close_date"] = f"{opened + timedelta(hours=took_h):%Y-%m-%d %H:%M:%S}"
        db._persist("helpdesk.ticket", tid)
        truth[tid] = {
            "generated_category": category,
            "labelled_category": label,
            "team": TEAMS[team],
            "mislabelled": mislabelled,
            "ambiguous": ambiguous,
            "site": site,
            "department": department_of.get(requester, "staff"),
        }
    net.ticket_truth = truth

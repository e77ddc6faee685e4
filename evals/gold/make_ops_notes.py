"""Generate ``ops_notes.jsonl``: hospital-operations lines with planted PHI, for ``copilot eval redaction``.

Why: presidio-synth is Faker sentences from one set of templates, so rules can end up fitted to its wording. This
set is written the way US hospital operations text looks (helpdesk tickets, biomed service reports, upper-case
nursing handoffs, incident reports, procurement e-mails, maintenance logs, transport requests, complaints) and
mixes names from many Faker locales in Title, UPPER and lower case and in full / "Last, First" / initial forms.
Operational values (asset tags, PO/WO/ticket numbers, lots, suppliers, models, rooms, units, drugs) go into
``keep``: redacting them is an error too.

Deterministic: a fixed seed drives one ``random.Random`` and Faker instances seeded from it, so the same Faker
version gives the same file. Run ``python evals/gold/make_ops_notes.py [OUT]`` (default: next to this file).

Each line: ``{"frame", "text", "phi": [{"value", "entity_type"}], "keep": [...]}`` (see ``load_value_gold``).
Every PHI value's first occurrence in its line is the planted one and no keep value's first occurrence touches a
PHI value, so the value-based loader scores exactly what was planted.
"""

from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faker import Faker

SEED = 20261129
PER_FRAME = 10
OUT = Path(__file__).with_name("ops_notes.jsonl")

# Faker locales whose names are in Latin script; ja_JP uses its romanised name lists.
LOCALES = (
    "en_US", "en_US", "en_US", "es_MX", "pl_PL", "hu_HU", "vi_VN", "en_IN", "de_DE", "sv_SE",
    "fr_FR", "it_IT", "pt_BR", "tr_TR", "ja_JP", "nl_NL", "cs_CZ",
)  # fmt: skip

SUPPLIER_MODELS = (
    ("Baxter", "Sigma Spectrum"),
    ("Zoll", "R Series"),
    ("Philips", "IntelliVue MX450"),
    ("Stryker", "LIFEPAK 15"),
    ("Becton Dickinson", "Alaris 8015"),
    ("Masimo", "Radical-7"),
    ("GE HealthCare", "Carescape B450"),
    ("Medtronic", "Puritan Bennett 980"),
    ("Mindray", "BeneView T5"),
    ("Draeger", "Evita V500"),
    ("Hillrom", "Centrella bed"),
    ("Steris", "V-PRO maX"),
)
SUPPLIER_ITEMS = (
    ("Medline", "nitrile exam gloves"),
    ("Cardinal Health", "IV start kits"),
    ("Owens & Minor", "isolation gowns"),
    ("Becton Dickinson", "SafetyGlide syringes"),
    ("Baxter", "Clearlink IV sets"),
    ("Stryker", "Neptune manifolds"),
    ("Medline", "Foley catheter trays"),
    ("Cardinal Health", "sharps containers"),
    ("Owens & Minor", "Halyard N95 masks"),
    ("Philips", "SpO2 sensors"),
)
ELEVATOR_VENDORS = ("Otis", "Schindler", "KONE", "TK Elevator")
DRUGS = (
    "heparin", "vancomycin", "Zosyn", "insulin glargine", "propofol", "cefazolin", "ondansetron", "metoprolol",
    "enoxaparin", "potassium chloride", "norepinephrine", "morphine", "acetaminophen", "ceftriaxone",
)  # fmt: skip
UNITS = ("4 West", "5 North", "MICU", "SICU", "3 East Tele", "PACU", "Cath Lab", "Labor and Delivery", "6 South")
ROLES = ("Nurse", "RN", "CNA", "Unit Secretary", "Charge Nurse", "Pharmacist", "Resp Therapist")
PROCS = ("CT ABD", "MRI BRAIN", "EGD", "CABG", "TEE", "PICC PLACEMENT", "LAP CHOLE")
DX = ("CHF EXAC", "PNA", "SEPSIS", "COPD EXAC", "S/P FALL", "AKI", "DKA", "CELLULITIS L LE")
AREA_CODES = ("312", "617", "206", "713", "404", "503")

# (frame name, template). Slots: {pN:form:case} a person (same N = same person in the line), {email:pN} that
# person's e-mail, PHI kinds {phone} {mrn} {dob} {age} {address}, keep kinds {asset} {po} {wo} {ticket} {lot}
# {supplier} {model} {item} {elev} {room} {unit} {drug} {drug2} ({drug:upper}: upper-cased), fillers {role}
# {proc} {dx} {n}.
FRAMES: tuple[tuple[str, str], ...] = (
    ("badge_ticket", "{ticket}: Badge for {role} {p1:full:title} on {unit} stopped working at the med room reader."),
    ("pw_reset_lower", "pls reset epic pw for {p1:full:lower}, locked out after 3 tries. {ticket}"),
    ("printer_ticket", "{ticket} label printer on {unit} jammed again per {p1:first:title}, asked for a new one."),
    (
        "access_request",
        "Request: grant Pyxis access to {p1:full:title} (new grad RN on {unit}). Approver: "
        "{p2:init_last:title}. {ticket}",
    ),
    ("vocera_callback", "Caller {p1:full:title} reports Vocera badge {asset} not registering; callback {phone}."),
    (
        "biomed_signature",
        "PM complete on {asset} ({supplier} {model}), passed electrical safety.\n"
        "Serviced by: {p1:init_last:upper} / {supplier}",
    ),
    (
        "biomed_workorder",
        "{wo} {supplier} {model} ({asset}) failed its performance check; tech {p1:full:title} replaced "
        "the door assembly, lot {lot}.",
    ),
    (
        "biomed_field_service",
        "{supplier} field service engineer {p1:full:title} on site for the {model} upgrade; cell {phone}.",
    ),
    (
        "biomed_recall",
        "Recall from {supplier} for lot {lot}: units on {unit} pulled by {p1:last:upper}, {asset} tagged out.",
    ),
    ("biomed_return", "{asset} returned to service after battery swap, checked by {p1:first_init:title}"),
    ("handoff_pt_line", "PT {p1:last_first:upper} {age}YO {room} {dx}, {drug:upper} GTT INFUSING."),
    ("handoff_mrn", "{room} {p1:last_init:upper} MRN {mrn} NPO AFTER MN FOR {proc}."),
    ("handoff_family", "PT {p1:full:upper} RESTING, DAUGHTER {p2:first:upper} AT BEDSIDE, CALL {phone} W/ UPDATES."),
    (
        "handoff_dob",
        "{p1:last_first:upper} DOB {dob} ALLERGIC TO {drug:upper}. HOLD {drug2:upper} PER DR {p2:last:upper}.",
    ),
    ("handoff_lower", "pt {p1:full:lower} c/o pain 6/10, gave {drug} @ 1400, rn {p2:first:lower} aware."),
    (
        "incident_fall",
        "{ticket} patient {p1:full:title} (MRN {mrn}) found on floor in {room}; witnessed by {role} {p2:full:title}.",
    ),
    (
        "incident_med_error",
        "Med event: {drug} given to {p1:last_first:title} instead of {p2:last_first:title} on "
        "{unit}. Reported by {p3:init_last:title}.",
    ),
    (
        "incident_equipment",
        "{supplier} {model} alarm failure during transport of {p1:full:title}; device {asset} sequestered.",
    ),
    (
        "incident_visitor",
        "Visitor {p1:full:title}, {age} y/o, slipped near the garage entrance; security officer "
        "{p2:last:title} responded.",
    ),
    ("incident_sharps", "Needlestick reported by {p1:full:title}, {role}, with {supplier} {item} lot {lot}."),
    ("procure_contact", "Re {po} for {supplier} {item}. Contact: {p1:full:title}, {phone}"),
    (
        "procure_email",
        "From: {email:p1}\nSubject: {po} backorder\n{supplier} says the {item} ship next week. "
        "Thanks, {p1:first:title}",
    ),
    (
        "procure_quote",
        "Quote attached from {supplier} for {item}; rep {p1:full:title} ({email:p1}) can hold "
        "pricing to quarter end. {po}",
    ),
    ("procure_signature", "Regards,\n{p1:full:title}\nAccount Manager, {supplier}\nDirect: {phone}"),
    (
        "procure_approval",
        "{po} ({supplier}, $4,180.00) approved by {p1:init_last:title}; routed to {p2:full:title} in AP.",
    ),
    ("maint_ahu", "0630 {wo} AHU-{n} filter change above {unit}. Tech: {p1:last:upper}"),
    ("maint_elevator", "Elevator E-{n} out of service; {elev} tech {p1:full:title} ETA 2 hrs. {wo}"),
    ("maint_generator", "Generator monthly load test passed, 41 min at 80%.\nSigned: {p1:full:upper}, Facilities"),
    ("maint_leak", "Leak under sink in {room}, reported by {p1:first:title} on {unit}. {wo}"),
    (
        "transport_request",
        "Transport: {p1:last_first:upper} from {unit} {room} to {proc}, wheelchair, O2 2L. "
        "Requested by {p2:first:title}.",
    ),
    ("transport_discharge", "D/C ride for {p1:full:title}, {age} y/o, pickup at {address}; family phone {phone}."),
    ("transport_bed", "Bed request: {p1:full:title} MRN {mrn} to {unit} tele bed, contact isolation."),
    ("transport_lower", "transport for {p1:full:lower} {room} to dialysis @ 1300, escort {p2:first:lower}"),
    (
        "complaint_call_light",
        "Complaint {ticket}: {p1:full:title} (patient's son) says the call light went "
        "unanswered 40 min on {unit}; reply to {email:p1}.",
    ),
    (
        "complaint_billing",
        "Patient {p1:full:title}, DOB {dob}, disputes a charge for {supplier} {item}; mail to {address}.",
    ),
    (
        "complaint_meals",
        "Mrs. {p1:last:title} in {room} complained about cold meals; dietary lead {p2:full:title} followed up.",
    ),
    (
        "complaint_staff",
        "Family member {p1:full:title} says {role} {p2:first:title} was rude at the desk; manager "
        "{p3:init_last:title} to call back {phone}.",
    ),
    (
        "pharmacy_shortage",
        "{drug} shortage: {supplier} cut our allocation; pharmacist {p1:full:title} will substitute {drug2}.",
    ),
    (
        "lab_specimen",
        "Specimen for {p1:last_first:title} (MRN {mrn}) hemolyzed, redraw requested by {p2:init_last:title}.",
    ),
    ("schedule_swap", "Shift swap approved: {p1:full:title} and {p2:full:title}, {unit} nights."),
    ("oncall_roster", "BME on call: {p1:full:title} {phone}; backup {p2:init_last:upper}."),
    ("chaplain_referral", "CHAPLAIN CONSULT: PT {p1:full:upper} {age}YO {room}, WIFE {p2:first:upper} REQUESTS VISIT."),
)

_SLOT = re.compile(r"\{(\w+)(?::(\w+))?(?::(\w+))?\}")


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower().replace(" ", "")


class _Row:
    """One generated line: a locale's Faker instances and the people and values sampled so far."""

    def __init__(self, rng: random.Random, fakers: dict[str, Faker], template: str) -> None:
        self.rng = rng
        self.fakers = fakers
        self.people: dict[str, tuple[str, str]] = {}
        self.pair = rng.choice(SUPPLIER_ITEMS if "{item}" in template else SUPPLIER_MODELS)
        self.drugs = rng.sample(DRUGS, 2)

    def person(self, pid: str) -> tuple[str, str]:
        if pid not in self.people:
            loc = self.rng.choice(LOCALES)
            fk = self.fakers[loc]
            female = self.rng.random() < 0.5
            if loc == "ja_JP":
                first = fk.first_romanized_name_female() if female else fk.first_romanized_name_male()
                last = fk.last_romanized_name()
            else:
                first = fk.first_name_female() if female else fk.first_name_male()
                last = fk.last_name()
                while "," in last:  # nl_NL lists some as "Bourgondië, van"; notes write "van Bourgondië"
                    last = fk.last_name()
            self.people[pid] = (first.split()[0], last)
        return self.people[pid]

    def name(self, pid: str, form: str, case: str) -> str:
        first, last = self.person(pid)
        value = {
            "full": f"{first} {last}",
            "first": first,
            "last": last,
            "last_first": f"{last}, {first}",
            "init_last": f"{first[0]}. {last}",
            "first_init": f"{first} {last[0]}.",
            "last_init": f"{last} {first[0]}.",
        }[form]
        return value.upper() if case == "upper" else value.lower() if case == "lower" else value

    def slot(self, kind: str, a: str | None, b: str | None) -> tuple[str, str | None]:
        """(value, label): label is a PHI entity type, "KEEP" for an operational value, None for filler."""
        r = self.rng
        if kind.startswith("p") and kind[1:].isdigit():
            return self.name(kind, a or "full", b or "title"), "PERSON"
        if kind == "email":
            first, last = self.person(a or "p1")
            local = r.choice([f"{_ascii(first)}.{_ascii(last)}", f"{_ascii(first)[0]}{_ascii(last)}"])
            return f"{local}@{r.choice(['example.com', 'example.org', 'example.net'])}", "EMAIL_ADDRESS"
        gen: dict[str, Callable[[], tuple[str, str | None]]] = {
            "phone": lambda: (self._phone(), "PHONE_NUMBER"),
            "mrn": lambda: (str(r.randint(10**6, 10**8 - 1)).zfill(r.choice([7, 8])), "MRN"),
            "dob": lambda: (self._dob(), "DATE_TIME"),
            "age": lambda: (str(r.choice([r.randint(19, 89), r.randint(19, 89), r.randint(90, 103)])), "AGE"),
            "address": lambda: (self._address(), "STREET_ADDRESS"),
            "asset": lambda: (f"BME-{r.choice(['INF', 'DEF', 'MON', 'VEN', 'BED'])}-{r.randint(1, 9999):04d}", "KEEP"),
            "po": lambda: (f"PO-2026-{r.randint(1000, 99999):05d}", "KEEP"),
            "wo": lambda: (f"WO-{r.randint(100000, 999999)}", "KEEP"),
            "ticket": lambda: (f"{r.choice(['INC', 'RITM', 'IR-'])}{r.randint(100000, 9999999):07d}", "KEEP"),
            "lot": lambda: (f"{r.randint(20, 26)}{r.choice('ABCDKM')}{r.randint(100, 9999)}", "KEEP"),
            "supplier": lambda: (self.pair[0], "KEEP"),
            "model": lambda: (self.pair[1], "KEEP"),
            "item": lambda: (self.pair[1], "KEEP"),
            "elev": lambda: (r.choice(ELEVATOR_VENDORS), "KEEP"),
            "room": lambda: (f"RM {r.randint(1, 9)}{r.randint(1, 40):02d}", "KEEP"),
            "unit": lambda: (r.choice(UNITS), "KEEP"),
            "drug": lambda: (self.drugs[0], "KEEP"),
            "drug2": lambda: (self.drugs[1], "KEEP"),
            "role": lambda: (r.choice(ROLES), None),
            "proc": lambda: (r.choice(PROCS), None),
            "dx": lambda: (r.choice(DX), None),
            "n": lambda: (str(r.randint(1, 12)), None),
        }
        value, label = gen[kind]()
        return (value.upper() if a == "upper" else value), label

    def _phone(self) -> str:
        r = self.rng
        area, line = r.choice(AREA_CODES), f"01{r.randint(0, 99):02d}"
        return r.choice([f"({area}) 555-{line}", f"{area}-555-{line}", f"{area}.555.{line}", f"555-{line}"])

    def _dob(self) -> str:
        r = self.rng
        y, m, d = r.randint(1928, 2008), r.randint(1, 12), r.randint(1, 28)
        return r.choice([f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y % 100:02d}", f"{y}-{m:02d}-{d:02d}"])

    def _address(self) -> str:
        fk = self.fakers["en_US"]
        return f"{fk.street_address()}, {fk.city()}, {fk.state_abbr()} {fk.zipcode()}"


def _render(template: str, row: _Row) -> tuple[str, list[dict[str, str]], list[str], list[tuple[int, int]]]:
    parts: list[str] = []
    phi: list[dict[str, str]] = []
    keep: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    length = 0
    for m in _SLOT.finditer(template):
        parts.append(template[pos : m.start()])
        length += m.start() - pos
        value, label = row.slot(m.group(1), m.group(2), m.group(3))
        if label == "KEEP":
            if value not in keep:
                keep.append(value)
        elif label is not None:
            phi.append({"value": value, "entity_type": label})
            spans.append((length, length + len(value)))
        parts.append(value)
        length += len(value)
        pos = m.end()
    parts.append(template[pos:])
    return "".join(parts), phi, keep, spans


def _valid(text: str, phi: list[dict[str, str]], keep: list[str], spans: list[tuple[int, int]]) -> bool:
    """The value-based loader finds what was planted: first occurrences line up, keeps never touch PHI."""
    seen: set[str] = set()
    for item, (start, _end) in zip(phi, spans, strict=True):
        if item["value"] in seen:
            continue  # a repeated value (same person twice) is scored once, at its first mention
        seen.add(item["value"])
        if text.find(item["value"]) != start:
            return False
    for value in keep:
        k = text.find(value)
        if any(k < e and s < k + len(value) for s, e in spans):
            return False
    return True


def generate(seed: int = SEED, per_frame: int = PER_FRAME) -> list[dict[str, Any]]:
    """All lines, frame by frame; the same seed (and Faker version) gives the same list."""
    rng = random.Random(seed)
    fakers: dict[str, Faker] = {}
    for loc in sorted(set(LOCALES)):
        fakers[loc] = Faker(loc)
        fakers[loc].seed_instance(rng.randrange(2**32))
    rows: list[dict[str, Any]] = []
    for frame, template in FRAMES:
        made = 0
        while made < per_frame:
            text, phi, keep, spans = _render(template, _Row(rng, fakers, template))
            if not _valid(text, phi, keep, spans):
                continue
            uniq = list({p["value"]: p for p in phi}.values())
            rows.append({"frame": frame, "text": text, "phi": uniq, "keep": keep})
            made += 1
    return rows


def write(path: Path = OUT, seed: int = SEED) -> Path:
    rows = generate(seed)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


if __name__ == "__main__":
    out = write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(f"wrote {out}")

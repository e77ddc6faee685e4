"""Deterministic synthetic benchmark corpus: SOP-like PDFs with planted, checkable facts and a question set.

Why synthetic: the ingest benchmark needs >= 500 PDF pages whose answers we know exactly, so retrieval quality
of Copilot and of the LangChain baseline can be scored on the same ground truth. Every planted fact hangs on a
unique identifier (an analyser model, a supplier, a cost centre...) that appears in exactly one document, and
each question is phrased differently from the sentence that holds the fact. About a third of the pages carry a
fake incident note with a person's name, a 555 phone number and an e-mail address, so the redactor has work.

The corpus is written to a cache dir (default ``.copilot/bench-corpus/seed<S>-p<P>``) and reused when its
``corpus.json`` matches the parameters.

Usage::

    python bench/corpus_gen.py --pages 500            # prints the corpus dir and its stats as JSON
    from corpus_gen import ensure_corpus
    corpus = ensure_corpus(pages=500)                 # Corpus(root=..., questions=[...], pages=..., docs=...)
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 3
DEFAULT_CACHE = Path(".copilot/bench-corpus")

# -- vocabulary ----------------------------------------------------------------------------------------------

_SITES = [
    "North Campus Hospital",
    "Riverside General",
    "St. Elm Hospital",
    "Harbor Clinic",
    "Lakeside Clinic",
    "Hillview Clinic",
    "Central Warehouse",
    "Diagnostic Lab",
    "Biomedical Engineering",
]
_THEMES: dict[str, list[str]] = {
    "sop": [
        "Cold-Chain Storage",
        "Expired Stock Disposal",
        "Infusion Pump Preventive Maintenance",
        "Controlled Substances Handling",
        "Incident Reporting",
        "Sterile Processing",
        "Laboratory Analyser Calibration",
        "Purchase Approval",
        "Hazardous Waste",
        "Patient Transport Equipment",
        "Medical Gas Supply",
        "Defibrillator Readiness",
    ],
    "contract": [
        "Supply Agreement",
        "Service Level Agreement",
        "Maintenance Contract",
        "Framework Agreement",
    ],
    "maintenance_log": ["Service Report", "Maintenance Log", "Inspection Report"],
}
_ACTORS = [
    "the charge nurse",
    "the ward pharmacist",
    "the biomedical technician",
    "the warehouse lead",
    "the laboratory supervisor",
    "the duty manager",
    "the infection control officer",
    "the procurement officer",
    "the quality coordinator",
    "the on-call engineer",
]
_VERBS = [
    "inspect",
    "verify",
    "document",
    "review",
    "label",
    "segregate",
    "sign off",
    "reconcile",
    "clean",
    "test",
    "escalate",
    "archive",
]
_OBJECTS = [
    "the storage unit",
    "each delivery",
    "the device log",
    "the temperature chart",
    "the stock card",
    "the service history",
    "the incident form",
    "the disposal record",
    "the purchase requisition",
    "the calibration certificate",
    "the cabinet inventory",
    "the sterilisation cycle record",
]
_TIMING = [
    "at the start of every shift",
    "before release to the ward",
    "within one working day",
    "after every repair",
    "at handover",
    "before the device returns to service",
    "during the weekly round",
    "whenever an alarm is acknowledged",
    "as part of the monthly audit",
]
_RECORDS = [
    "maintenance management system",
    "quality register",
    "department logbook",
    "asset register",
    "stock management module",
    "incident database",
]
_SECTION_TITLES = [
    "Purpose",
    "Scope",
    "Responsibilities",
    "Definitions",
    "Equipment",
    "Procedure",
    "Storage Requirements",
    "Documentation",
    "Escalation",
    "Training",
    "Quality Checks",
    "Exceptions",
    "Audit",
    "Safety Precautions",
    "Records Retention",
    "Supplier Obligations",
    "Service Levels",
    "Acceptance Criteria",
    "Reporting",
    "Review and Approval",
]
_SUBTITLES = [
    "Preparation",
    "Daily Checks",
    "Weekly Checks",
    "Handling Deviations",
    "Sign-off",
    "Cleaning",
    "Labelling",
    "Transport",
    "Contacts",
    "Tools Required",
]
_FIRST = [
    "Maria",
    "John",
    "Aisha",
    "Peter",
    "Lena",
    "Carlos",
    "Ingrid",
    "Tomasz",
    "Fatima",
    "Henrik",
    "Grace",
    "Omar",
    "Sofia",
    "Daniel",
    "Yuki",
    "Noah",
    "Elena",
    "Samuel",
    "Priya",
    "Lucas",
]
_LAST = [
    "Jensen",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Kowalski",
    "Haddad",
    "Fernandes",
    "Novak",
    "Brennan",
    "Castillo",
    "Nakamura",
    "Schmidt",
    "Ivanova",
    "Whitfield",
    "Adeyemi",
    "Marsh",
    "Bauer",
    "Reyes",
]
_SUPPLIER_A = [
    "Corvane",
    "Meditrax",
    "Halden",
    "Aurelis",
    "Norvex",
    "Pellion",
    "Quantara",
    "Sylvar",
    "Trevia",
    "Brightwell",
    "Castora",
    "Delmont",
    "Everwell",
    "Fenmore",
    "Glenrow",
    "Irisca",
]
_SUPPLIER_B = [
    "Diagnostics",
    "Medical Supplies",
    "Healthcare Logistics",
    "Biotech",
    "Surgical",
    "Laboratory Systems",
    "Pharma Distribution",
    "Clinical Services",
]
_ROLES = [
    "Chief Financial Officer",
    "Director of Nursing",
    "Head of Procurement",
    "Medical Director",
    "Regional Operations Manager",
    "Chief Pharmacist",
]


# -- planted facts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactTemplate:
    """One kind of planted fact: how to name its unique subject, state it, and ask about it differently."""

    kind: str
    doc_types: tuple[str, ...]
    subject: Callable[[random.Random], str]
    value: Callable[[random.Random], str]
    sentence: str
    questions: tuple[str, ...]


def _code(prefix_letters: int, digits: int) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTVWXZ") for _ in range(prefix_letters))
        return f"{letters}-{rng.randint(10 ** (digits - 1), 10**digits - 1)}"

    return make


def _supplier(rng: random.Random) -> str:
    return f"{rng.choice(_SUPPLIER_A)} {rng.choice(_SUPPLIER_B)}"


def _pick(values: list[Any], fmt: str) -> Callable[[random.Random], str]:
    return lambda rng: fmt.format(rng.choice(values))


FACTS: tuple[FactTemplate, ...] = (
    FactTemplate(
        "calibration",
        ("sop", "maintenance_log"),
        _code(2, 3),
        _pick([30, 45, 60, 90, 120, 180], "{} days"),
        "The calibration interval for analyser model {s} is {v}.",
        (
            "How often does the {s} analyser have to be recalibrated?",
            "What is the recalibration frequency for the {s} analyzer?",
        ),
    ),
    FactTemplate(
        "pm",
        ("sop", "maintenance_log"),
        _code(2, 3),
        _pick([3, 4, 6, 9, 12, 18], "{} months"),
        "Preventive maintenance on infusion pump model {s} is due every {v}.",
        (
            "What is the servicing schedule for {s} infusion pumps?",
            "How frequently do {s} pumps need a PM visit?",
        ),
    ),
    FactTemplate(
        "delivery",
        ("contract",),
        _supplier,
        _pick([4, 6, 12, 24, 36, 48, 72], "{} hours"),
        "{s} shall deliver every order within {v} of the order confirmation.",
        (
            "How quickly must {s} deliver once we confirm an order?",
            "What delivery window did we agree with {s}?",
        ),
    ),
    FactTemplate(
        "penalty",
        ("contract",),
        _supplier,
        _pick([2, 3, 5, 7, 8, 10, 12, 15], "{} percent"),
        "For each late or incomplete delivery {s} grants a service credit of {v} of the monthly fee.",
        (
            "What penalty does {s} pay when a delivery is late?",
            "How big is the service credit if {s} misses a delivery?",
        ),
    ),
    FactTemplate(
        "threshold",
        ("sop",),
        _code(2, 4),
        _pick([2500, 5000, 7500, 10000, 15000, 25000, 50000], "{:,} EUR"),
        "Purchase requisitions charged to cost centre {s} above {v} require a second approval.",
        (
            "Above what amount do purchases on cost centre {s} need extra sign-off?",
            "What is the approval limit for spending on cost centre {s}?",
        ),
    ),
    FactTemplate(
        "approver",
        ("sop",),
        _code(3, 3),
        _pick(_ROLES, "{}"),
        "Capital requests for budget line {s} are approved by the {v}.",
        (
            "Who signs off capital requests on budget line {s}?",
            "Which executive approves spending from budget line {s}?",
        ),
    ),
    FactTemplate(
        "storage",
        ("sop",),
        _code(2, 3),
        lambda rng: (
            rng.choice(["2 and 8", "15 and 25", "-25 and -15", "2 and 25", "-80 and -60"])
            + " degrees Celsius"
        ),
        "Reagent kit {s} must be stored between {v} at all times.",
        (
            "At what temperature range should the {s} reagent kit be kept?",
            "What are the storage conditions for kit {s}?",
        ),
    ),
    FactTemplate(
        "battery",
        ("sop", "maintenance_log"),
        _code(1, 4),
        _pick([100, 150, 200, 250, 300, 400], "{} discharge cycles"),
        "The battery pack of defibrillator {s} is replaced after {v}.",
        (
            "When does the battery in the {s} defibrillator have to be swapped?",
            "After how much use is the {s} defib battery changed?",
        ),
    ),
    FactTemplate(
        "hepa",
        ("maintenance_log",),
        _code(2, 2),
        _pick([1000, 2000, 2500, 4000, 6000, 8000], "{:,} operating hours"),
        "The HEPA filter of isolation room unit {s} is changed after {v}.",
        (
            "How long can the HEPA filter in isolation unit {s} run before replacement?",
            "What is the filter change interval for isolation room unit {s}?",
        ),
    ),
    FactTemplate(
        "reorder",
        ("sop",),
        _code(3, 4),
        _pick([40, 60, 80, 120, 150, 200, 250, 400], "{} units"),
        "The reorder point for stock item {s} is set at {v}.",
        (
            "At what stock level do we reorder item {s}?",
            "When should a replenishment order be raised for article {s}?",
        ),
    ),
    FactTemplate(
        "pressure",
        ("maintenance_log",),
        _code(2, 3),
        _pick([180, 200, 220, 250, 300], "{} kPa"),
        "The outlet pressure of medical gas manifold {s} must read at least {v}.",
        (
            "What minimum pressure should gas manifold {s} show?",
            "Which outlet pressure is acceptable for manifold {s}?",
        ),
    ),
    FactTemplate(
        "response",
        ("contract", "maintenance_log"),
        _code(2, 3),
        _pick([15, 30, 45, 60, 90], "{} minutes"),
        "A critical fault on ventilator fleet {s} must be answered by an engineer within {v}.",
        (
            "How fast must an engineer react to a critical fault on ventilator fleet {s}?",
            "What is the response time for urgent faults on the {s} ventilators?",
        ),
    ),
)


# -- corpus model --------------------------------------------------------------------------------------------


@dataclass
class Question:
    question: str
    doc: str
    fact: str
    page: int
    kind: str


@dataclass
class Corpus:
    root: Path
    pages: int
    docs: int
    seed: int
    questions: list[Question] = field(default_factory=list)
    pii_pages: int = 0
    chars: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "pages": self.pages,
            "docs": self.docs,
            "seed": self.seed,
            "questions": len(self.questions),
            "pii_pages": self.pii_pages,
            "chars": self.chars,
        }


# -- text generation -----------------------------------------------------------------------------------------


def _sentence(rng: random.Random) -> str:
    forms = [
        "{A} must {v} {o} {t} and record the result in the {r}.",
        "{A_cap} is responsible to {v} {o} {t}.",
        "Deviations found when staff {v} {o} are reported to {a} {t}.",
        "If {o} cannot be verified, {a} escalates the issue {t}.",
        "Only trained staff may {v} {o}; {a} keeps the training list current in the {r}.",
        "The {r} is the single source of truth for {o}, and {a} reviews it {t}.",
        "Staff {v} {o} {t}, using the checklist attached to this procedure.",
        "Any entry in the {r} must name the person who did the work and the date it was done.",
    ]
    a = rng.choice(_ACTORS)
    return rng.choice(forms).format(
        A=a.capitalize(),
        A_cap=a.capitalize(),
        a=a,
        v=rng.choice(_VERBS),
        o=rng.choice(_OBJECTS),
        t=rng.choice(_TIMING),
        r=rng.choice(_RECORDS),
    )


def _paragraph(rng: random.Random, n: int) -> str:
    return " ".join(_sentence(rng) for _ in range(n))


def _pii_note(rng: random.Random, day: int) -> str:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    other = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    phone = f"(555) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    email = f"{first.lower()}.{last.lower()}@example-health.org"
    return (
        f"Incident note: on {day} March the issue was reported by {first} {last} (phone {phone}, "
        f"{email}). The follow-up call was handled by {other}, who confirmed the corrective action."
    )


class _Pdf:
    """A thin fpdf2 wrapper with the three text styles the loader distinguishes (H1, H2, body)."""

    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_creation_date(datetime(2024, 1, 1, tzinfo=UTC))  # byte-for-byte deterministic
        self.pdf.set_title(title)
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_margins(18, 15, 18)
        self.chars = 0

    def page(self) -> None:
        self.pdf.add_page()

    def heading(self, text: str, level: int) -> None:
        self.pdf.set_font("Helvetica", "B", 15 if level == 1 else 12.5)
        self.pdf.multi_cell(0, 8 if level == 1 else 7, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.5)
        self.chars += len(text)

    def para(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "", 10)
        self.pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(3)
        self.chars += len(text)

    def bullets(self, items: list[str], numbered: bool) -> None:
        self.pdf.set_font("Helvetica", "", 10)
        for i, item in enumerate(items, start=1):
            marker = f"{i}." if numbered else "-"
            self.pdf.multi_cell(0, 5, f"{marker} {item}", new_x="LMARGIN", new_y="NEXT")
            self.chars += len(item)
        self.pdf.ln(3)

    def table(self, rows: list[list[str]]) -> None:
        self.pdf.set_font("Helvetica", "", 9)
        with self.pdf.table(col_widths=(40, 60, 50), text_align="LEFT", line_height=5) as table:
            for row in rows:
                r = table.row()
                for cell in row:
                    r.cell(cell)
                    self.chars += len(cell)
        self.pdf.ln(3)

    @property
    def page_count(self) -> int:
        return int(self.pdf.page_no())

    def save(self, path: Path) -> None:
        self.pdf.output(str(path))


def _table_rows(rng: random.Random) -> list[list[str]]:
    header = ["Item", "Check", "Frequency"]
    rows = [header]
    for _ in range(rng.randint(3, 4)):
        rows.append(
            [
                rng.choice(_OBJECTS).replace("the ", "").capitalize(),
                rng.choice(_VERBS).capitalize(),
                rng.choice(["Daily", "Weekly", "Monthly", "Quarterly", "Per shift", "Per delivery"]),
            ]
        )
    return rows


def _generate_doc(
    rng: random.Random,
    index: int,
    doc_type: str,
    n_pages: int,
    facts: list[tuple[FactTemplate, str, str]],
    out: Path,
) -> tuple[str, int, int, list[Question], int]:
    """Write one PDF; returns (filename, pages, chars, questions, pii pages)."""
    theme = rng.choice(_THEMES[doc_type])
    site = rng.choice(_SITES)
    slug = theme.lower().replace(" ", "_").replace("-", "_")
    filename = f"{doc_type}_{index:03d}_{slug}.pdf"
    title = f"{theme} - {site}"
    pdf = _Pdf(title)
    fact_pages = dict(zip(rng.sample(range(n_pages), len(facts)), facts, strict=True))  # one fact per page
    questions: list[Question] = []
    pii_pages = 0
    sections = rng.sample(_SECTION_TITLES, k=min(n_pages, len(_SECTION_TITLES)))
    for p in range(n_pages):
        pdf.page()
        if p == 0:
            pdf.heading(f"{title} ({doc_type.replace('_', ' ').upper()} {index:03d})", 1)
        section = sections[p % len(sections)]
        pdf.heading(f"{p + 1}. {section}", 1)
        body = [_paragraph(rng, rng.randint(4, 6))]
        fact = fact_pages.get(p)
        if fact is not None:
            tmpl, subject, value = fact
            sentence = tmpl.sentence.format(s=subject, v=value)
            # the fact sits in the middle of an ordinary paragraph, as in a real SOP
            words = body[0].split(". ")
            cut = rng.randint(1, max(1, len(words) - 1))
            body[0] = ". ".join([*words[:cut], sentence.rstrip("."), *words[cut:]])
            questions.append(
                Question(rng.choice(tmpl.questions).format(s=subject), filename, value, p + 1, tmpl.kind)
            )
        pdf.para(body[0])
        pdf.bullets([_sentence(rng) for _ in range(rng.randint(3, 5))], numbered=rng.random() < 0.5)
        pdf.heading(f"{p + 1}.1 {rng.choice(_SUBTITLES)}", 2)
        pdf.para(_paragraph(rng, rng.randint(3, 5)))
        if rng.random() < 0.25:
            pdf.table(_table_rows(rng))
        if rng.random() < 0.33:
            pdf.para(_pii_note(rng, rng.randint(1, 28)))
            pii_pages += 1
    pdf.save(out / filename)
    return filename, pdf.page_count, pdf.chars, questions, pii_pages


# -- entry points --------------------------------------------------------------------------------------------


def _plan(rng: random.Random, pages: int) -> list[int]:
    counts: list[int] = []
    while sum(counts) < pages:
        counts.append(rng.randint(5, 15))
    overflow = sum(counts) - pages
    if overflow and counts[-1] - overflow >= 3:
        counts[-1] -= overflow
    return counts


def generate(root: Path, *, pages: int = 500, seed: int = 7, questions_per_page: float = 0.2) -> Corpus:
    """Write the corpus into ``root`` (emptied first) and return its description."""
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    docs_dir = root / "docs"
    docs_dir.mkdir(parents=True)
    plan = _plan(rng, pages)
    target_q = max(len(plan), round(pages * questions_per_page))
    used_subjects: set[str] = set()
    corpus = Corpus(root=docs_dir, pages=0, docs=len(plan), seed=seed)
    per_doc = [target_q // len(plan) + (1 if i < target_q % len(plan) else 0) for i in range(len(plan))]
    for i, n_pages in enumerate(plan):
        doc_type = rng.choice(list(_THEMES))
        candidates = [t for t in FACTS if doc_type in t.doc_types]
        facts: list[tuple[FactTemplate, str, str]] = []
        for _ in range(min(per_doc[i], n_pages)):
            tmpl = rng.choice(candidates)
            subject = tmpl.subject(rng)
            while subject in used_subjects:
                subject = tmpl.subject(rng)
            used_subjects.add(subject)
            facts.append((tmpl, subject, tmpl.value(rng)))
        _, n, chars, qs, pii = _generate_doc(rng, i + 1, doc_type, n_pages, facts, docs_dir)
        corpus.pages += n
        corpus.chars += chars
        corpus.questions.extend(qs)
        corpus.pii_pages += pii
    meta = {
        "version": GENERATOR_VERSION,
        "seed": seed,
        "requested_pages": pages,
        **corpus.as_dict(),
        "question_set": [asdict(q) for q in corpus.questions],
    }
    (root / "corpus.json").write_text(json.dumps(meta, indent=1))
    return corpus


def ensure_corpus(*, pages: int = 500, seed: int = 7, cache: Path = DEFAULT_CACHE) -> Corpus:
    """The corpus for these parameters, generated on first use and reused from the cache afterwards."""
    root = cache / f"seed{seed}-p{pages}"
    meta_path = root / "corpus.json"
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("version") == GENERATOR_VERSION and meta.get("requested_pages") == pages:
            docs = root / "docs"
            if len(list(docs.glob("*.pdf"))) == meta["docs"]:
                return Corpus(
                    root=docs,
                    pages=meta["pages"],
                    docs=meta["docs"],
                    seed=seed,
                    questions=[Question(**q) for q in meta["question_set"]],
                    pii_pages=meta["pii_pages"],
                    chars=meta["chars"],
                )
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return generate(root, pages=pages, seed=seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--force", action="store_true", help="regenerate even when the cache matches")
    args = ap.parse_args(argv)
    if args.force:
        corpus = generate(args.cache / f"seed{args.seed}-p{args.pages}", pages=args.pages, seed=args.seed)
    else:
        corpus = ensure_corpus(pages=args.pages, seed=args.seed, cache=args.cache)
    json.dump(corpus.as_dict(), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

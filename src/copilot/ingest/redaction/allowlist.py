"""Operational allow-list: identifiers staff need that are not PHI stay readable.

Asset tags (``BME-INF-0231``), lot/batch numbers, PO / work-order / ticket numbers, product codes, equipment
serials (not implant serials, which tie to a patient), supplier and drug names. A detected span that lies
inside
an allow-listed region is dropped; detected identifier *labels* ("SSN", "MRN") are dropped too (stock spaCy
calls "SSN" an ORGANIZATION).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import regex

from copilot.ingest.redaction.recognizers.base import REGEX_TIMEOUT_S, all_matches

# Prefixes that make a dashed code an identifier of a person, never an asset tag.
PHI_PREFIXES = frozenset(
    {
        "MRN",
        "MR",
        "PT",
        "PAT",
        "ENC",
        "ACCT",
        "FIN",
        "CSN",
        "DOB",
        "SSN",
        "MBI",
        "MEM",
        "CLM",
        "PA",
        "AUTH",
        "NPI",
        "DEA",
    }
)

OPERATIONAL_PATTERNS: tuple[str, ...] = (
    # Asset tags / dashed codes: BME-INF-0231, WO-2026-0113, PO-2026-00418, TKT-88812
    r"\b(?P<prefix>[A-Z]{2,6})(?:-[A-Z0-9]{1,6}){0,3}-\d{2,8}\b",
    r"\b(?:LOT|Lot|lot|BATCH|Batch|batch)\s?(?:No\.?|#|:|number)?\s?[A-Z0-9][A-Z0-9-]{2,19}\b",
    r"\b(?:PO|P\.O\.|WO|Work\sOrder|Ticket|TKT|INC|REQ|RMA|CHG|SO)\s?(?:No\.?|#|:)?\s?\d[\d-]{2,15}\b",
    r"\b(?:S/N|SN|Serial(?:\sNo\.?|\sNumber)?)[:#\s]{0,3}[A-Z0-9][A-Z0-9-]{3,23}\b",
    r"\b(?:REF|Ref\.|Cat\.?\sNo\.?|Catalog(?:ue)?\s(?:No\.?|#)|Part\s(?:No\.?|#)|P/N|SKU|Item\s(?:No\.?|#)|NDC|GTIN|UDI-DI)"
    r"[:#\s]{0,3}[A-Z0-9][A-Z0-9-]{2,23}\b",
    # The network's own sites and buildings: "North Campus", "the Central Warehouse", "East Wing"
    r"\b[A-Z][a-z]+\s(?:Campus|Warehouse|Wing|Tower|Pavilion|Annex)\b",
    # Rooms, beds and nursing units: "RM 336", "Room 12B", "Bed 4", "4 West", "5 North"
    r"\b(?:RM|Rm\.?|Room|ROOM|Bed|BED|Bay|BAY)\s?#?\d{1,4}[A-Z]?\b",
    r"\b\d{1,2}\s(?:West|East|North|South|WEST|EAST|NORTH|SOUTH)\b(?!\s(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Dr|Lane|Ln)\b)",
    # IT service-desk records: ServiceNow-style "RITM3123894", "INC0012345", "SCTASK0042"
    r"\b(?:RITM|INC|REQ|CHG|TASK|SCTASK|PRB)\d{5,10}\b",
)

DEFAULT_TERMS: tuple[str, ...] = (
    # Suppliers and manufacturers common in US hospital supply chains.
    "Baxter",
    "B. Braun",
    "Braun",
    "Medline",
    "Cardinal Health",
    "McKesson",
    "Owens & Minor",
    "Becton Dickinson",
    "BD",
    "Philips",
    "GE Healthcare",
    "Siemens Healthineers",
    "Stryker",
    "Medtronic",
    "Hill-Rom",
    "Hillrom",
    "Zoll",
    "Masimo",
    "Mindray",
    "Draeger",
    "Dräger",
    "Smiths Medical",
    "ICU Medical",
    "Alaris",
    "Sigma Spectrum",
    "Henry Schein",
    "Fisher & Paykel",
    "Olympus",
    "Steris",
    "Getinge",
    "Welch Allyn",
    "Nihon Kohden",
    "Abbott",
    "Johnson & Johnson",
    "Cook Medical",
    "Teleflex",
    "Hamilton Medical",
    "ResMed",
    "Pfizer",
    "Fresenius Kabi",
    # Drug names that small NER models mistake for people or places.
    "heparin",
    "insulin",
    "morphine",
    "fentanyl",
    "vancomycin",
    "cefazolin",
    "ceftriaxone",
    "propofol",
    "midazolam",
    "lorazepam",
    "ondansetron",
    "acetaminophen",
    "ibuprofen",
    "ketorolac",
    "enoxaparin",
    "warfarin",
    "metoprolol",
    "lisinopril",
    "furosemide",
    "potassium chloride",
    "dextrose",
    "saline",
    "norepinephrine",
    "epinephrine",
    "dopamine",
    "dobutamine",
    "amiodarone",
    "oxytocin",
    "magnesium sulfate",
    "piperacillin",
    "tazobactam",
    "meropenem",
    "gentamicin",
    "hydromorphone",
    "oxycodone",
    "naloxone",
    "albuterol",
    "pantoprazole",
    "Zosyn",
    # Hospital units that small NER models call places or people.
    "PACU",
    "Cath Lab",
    "NICU",
    "PICU",
    "Med-Surg",
)

IDENTIFIER_LABELS = frozenset(
    {
        "SSN",
        "MRN",
        "DOB",
        "NPI",
        "DEA",
        "FAX",
        "PT",
        "RN",
        "MD",
        "LPN",
        "NP",
        "PO",
        "WO",
        "ID",
        "MBI",
        "FIN",
        "CSN",
        "EHR",
        "EMR",
        "HIPAA",
        "PHI",
        "PII",
        "ICU",
        "ED",
        "ER",
        "OR",
        "BME",
        "IV",
        "PRN",
        "BID",
        "TID",
        "QID",
        "NPO",
        "DNR",
        "SOP",
        "PM",
        "CMMS",
        "ERP",
        "ODOO",
        "IT",
    }
)

# Keeps an implant's serial redactable: it ties the device to one patient.
_IMPLANT = regex.compile(r"implant|pacemaker|icd\b|stent|prosthe|explant", regex.IGNORECASE)


class OperationalAllowList:
    """Finds allow-listed regions in a text. ``terms`` extends the supplier/drug list per network."""

    def __init__(self, patterns: Sequence[str] = OPERATIONAL_PATTERNS, terms: Iterable[str] = DEFAULT_TERMS) -> None:
        self._patterns = [regex.compile(p) for p in patterns]
        words = sorted({t for t in terms if t}, key=len, reverse=True)
        self._terms = (
            regex.compile(r"(?<![\w])(?:" + "|".join(regex.escape(t) for t in words) + r")(?![\w])", regex.IGNORECASE)
            if words
            else None
        )

    def regions(self, text: str) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        try:
            for rx in self._patterns:
                for m in all_matches(rx, text):
                    prefix = m.groupdict().get("prefix")
                    if prefix and prefix.upper() in PHI_PREFIXES:
                        continue
                    if _IMPLANT.search(text, max(0, m.start() - 60), m.start()):
                        continue
                    out.append(m.span())
            if self._terms is not None:
                out.extend(m.span() for m in self._terms.finditer(text, timeout=REGEX_TIMEOUT_S))
        except TimeoutError:
            pass  # fail closed: fewer allow-listed regions means more redaction, never less
        return out

    @staticmethod
    def is_identifier_label(value: str) -> bool:
        return value.strip(" .:#").upper() in IDENTIFIER_LABELS


# Words that say what kind of site a name is, not which one: "Harbor View Clinic" is also written "Harbor View".
_SITE_KIND_WORDS = frozenset(
    """
    hospital hospitals clinic clinics campus center centre medical health healthcare laboratory lab labs
    warehouse pharmacy infirmary
    """.split()
)
_SITE_WORD = regex.compile(r"[\p{L}][\p{L}'’.-]*")


class SiteNames:
    """The organisation's own sites ("Harbor View Clinic", "Lakeside Hospital") and their short forms ("Harbor
    View", "Lakeside"): readable in operational text, places in clinical narrative (see ``PresidioRedactor``).

    A short form is the name without one or more of its trailing kind words; a one-word short form that is a
    common English word ("Central" of "Central Warehouse") is not used alone. Matching ignores case."""

    def __init__(self, names: Iterable[str]) -> None:
        from copilot.ingest.redaction.names import zipf_en

        forms: set[str] = set()
        for name in names:
            words = _SITE_WORD.findall(name)
            if not words:
                continue
            forms.add(" ".join(words))
            head = list(words)
            while len(head) > 1 and head[-1].lower() in _SITE_KIND_WORDS:
                head.pop()  # "North Campus Hospital" -> "North Campus" -> ("North": too common alone)
                if len(head) > 1 or (len(head[0]) >= 4 and zipf_en(head[0]) < 4.0):
                    forms.add(" ".join(head))
        ordered = sorted(forms, key=len, reverse=True)
        self._rx = (
            regex.compile(
                r"(?<![\p{L}\d])(?:" + "|".join(r"\s+".join(regex.escape(w) for w in f.split()) for f in ordered)
                + r")(?![\p{L}\d])",
                regex.IGNORECASE,
            )
            if ordered
            else None
        )

    def __bool__(self) -> bool:
        return self._rx is not None

    def regions(self, text: str) -> list[tuple[int, int]]:
        if self._rx is None:
            return []
        try:
            return [m.span() for m in self._rx.finditer(text, timeout=REGEX_TIMEOUT_S)]
        except TimeoutError:
            return []

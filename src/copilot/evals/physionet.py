"""The PhysioNet deid nursing notes (even patient ids) as a redaction eval set, split by patient.

``../shared/datasets/phi_physionet_deid_dev``: 984 real ICU nursing notes from MIMIC-II whose PHI was replaced by
realistic surrogates, 780 gold spans with character offsets. Most notes carry no PHI at all and measure
over-redaction.

The split was fixed before anyone looked at the notes, by a keyed hash of the patient id (so no patient's notes
sit on both sides): ``dev`` is the part rules may be shaped on, ``holdout`` is only ever scored. The other half of
the corpus (odd patient ids) is not here at all; it is scored independently.

After sixteen aggregate scores of the holdout had shown that its misses take forms ``dev`` does not hold, the
holdout was split once more, by a second keyed hash of the patient id, before any of its notes or per-note results
were read (2026-12-06, issue 10, sixth round): ``dev-b`` (about half of its gold spans) was opened for development,
and the rest stays ``holdout``, only scored. The second salt was picked among ten candidates by counts alone: the
one whose ``dev-b`` share of gold spans is closest to half (182 of 394) with every PHI type on both sides.

Usage::

    from copilot.evals.physionet import load_notes
    notes = load_notes(part="holdout")          # [Note(patient, note, text, gold), ...]
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "phi_physionet_deid_dev"
SPLIT_SALT = "copilot-physionet-split-v1"
RESPLIT_SALT = "copilot-physionet-resplit-v9"
PARTS = ("dev", "dev-b", "holdout")  # shaped on, shaped on from the sixth round, only scored

# Gold type -> scoring category. None: labelled in the corpus but not a Safe Harbor identifier (a year alone);
# a prediction that only touches such a span counts neither way.
GOLD_CATEGORY: dict[str, str | None] = {
    "HCPName": "HCP_NAME",
    "PTName": "PATIENT_NAME",
    "RelativeProxyName": "RELATIVE_NAME",
    "Date": "DATE",
    "DateYear": None,
    "Location": "LOCATION",
    "Phone": "PHONE",
    "Other": "OTHER",
}


@dataclass(frozen=True)
class PhiSpan:
    start: int
    end: int
    label: str  # the corpus' own type (HCPName, Date, ...)

    @property
    def category(self) -> str | None:
        return GOLD_CATEGORY.get(self.label, "OTHER")


@dataclass(frozen=True)
class Note:
    patient: int
    note: int
    text: str
    gold: tuple[PhiSpan, ...]


def part_of(patient: int) -> str:
    """``dev``, ``dev-b`` or ``holdout`` for a patient id, fixed by two salted hashes: the first halves the patients
    into ``dev`` and the original holdout, the second halves that holdout into ``dev-b`` and ``holdout``."""
    if not hashlib.sha256(f"{SPLIT_SALT}:{patient}".encode()).digest()[0] & 1:
        return "dev"
    return "dev-b" if hashlib.sha256(f"{RESPLIT_SALT}:{patient}".encode()).digest()[0] & 1 else "holdout"


def _records(text: str) -> list[tuple[int, int, str]]:
    """``START_OF_RECORD=p||||n||||\\n body ||||END_OF_RECORD`` blocks -> (patient, note, body)."""
    out: list[tuple[int, int, str]] = []
    pos = 0
    while True:
        start = text.find("START_OF_RECORD=", pos)
        if start < 0:
            return out
        head_end = text.index("\n", start)
        head = text[start + len("START_OF_RECORD=") : head_end]
        patient, note = (int(x) for x in head.split("||||")[:2])
        end = text.index("||||END_OF_RECORD", head_end)
        out.append((patient, note, text[head_end + 1 : end]))
        pos = end


def load_notes(part: str | None = None, data_dir: Path = DATA_DIR) -> list[Note]:
    """Every note of the corpus (``part=None``) or of one part, with its gold spans (checked against the text)."""
    if part is not None and part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    text_path, phi_path = data_dir / "id.text", data_dir / "id-phi.phrase"
    if not text_path.exists() or not phi_path.exists():
        raise FileNotFoundError(f"PhysioNet deid files not found under {data_dir}")
    gold: dict[tuple[int, int], list[PhiSpan]] = {}
    for line in phi_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        p, n, s, e, label = line.split(" ", 5)[:5]
        gold.setdefault((int(p), int(n)), []).append(PhiSpan(int(s), int(e), label))
    notes = []
    for patient, note, body in _records(text_path.read_text(encoding="utf-8")):
        if part is not None and part_of(patient) != part:
            continue
        spans = tuple(sorted(gold.get((patient, note), ()), key=lambda g: g.start))
        for g in spans:
            if not (0 <= g.start < g.end <= len(body)):
                raise ValueError(f"gold span out of range in note {patient}/{note}")
        notes.append(Note(patient, note, body, spans))
    return notes

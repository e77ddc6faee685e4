"""The PhysioNet dev split: three parts by patient, the first cut unchanged by the second."""

from __future__ import annotations

import hashlib

import pytest

from copilot.evals.physionet import PARTS, SPLIT_SALT, load_notes, part_of

pytestmark = pytest.mark.unit


def test_the_second_cut_only_divides_the_earlier_holdout() -> None:
    for patient in range(0, 20_000, 2):
        first = "holdout" if hashlib.sha256(f"{SPLIT_SALT}:{patient}".encode()).digest()[0] & 1 else "dev"
        assert (part_of(patient) == "dev") == (first == "dev")
    seen = {part_of(p) for p in range(0, 2_000, 2)}
    assert seen == set(PARTS)


def test_every_note_is_in_one_part_and_no_patient_in_two() -> None:
    every = load_notes()
    parts = {p: load_notes(p) for p in PARTS}
    assert sum(len(n) for n in parts.values()) == len(every) == 984
    patients = [{n.patient for n in notes} for notes in parts.values()]
    assert all(not (a & b) for i, a in enumerate(patients) for b in patients[i + 1 :])
    assert sum(len(n.gold) for n in parts["dev-b"]) == 182  # the count the second salt was chosen by


def test_an_unknown_part_is_refused() -> None:
    with pytest.raises(ValueError, match="part must be one of"):
        load_notes("test")

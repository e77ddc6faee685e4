"""The committed ground truth in evals/gold matches what the seeded demo network generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.demo.write_truth import write_truth

pytestmark = pytest.mark.unit

GOLD = Path(__file__).resolve().parents[2] / "evals" / "gold"


def test_committed_truth_is_what_the_generator_writes(tmp_path: Path) -> None:
    exc, tickets = write_truth(tmp_path)
    assert exc.read_text() == (GOLD / exc.name).read_text()
    assert tickets.read_text() == (GOLD / tickets.name).read_text()
    assert len(tickets.read_text().splitlines()) >= 1500

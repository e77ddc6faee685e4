"""Calibrated abstention: fitting, the threshold rule, persistence, and the shipped file."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from copilot.retrieval.calibration import FEATURES, Calibration, default_calibration

pytestmark = pytest.mark.unit


def _rows(n: int = 200, seed: int = 7) -> list[tuple[dict[str, float], bool]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        answerable = i % 5 != 0
        base = 0.65 if answerable else 0.45
        rows.append((
            {"cosine": rng.gauss(base, 0.08), "lexical": rng.random(), "coverage": rng.gauss(base, 0.1),
             "missing_specific": rng.gauss(0.3 if answerable else 0.7, 0.15), "numeric_match": 0.5,
             "score": rng.gauss(base, 0.08)},
            answerable,
        ))
    return rows


def test_fit_orders_and_meets_the_abstention_bar() -> None:
    rows = _rows()
    cal = Calibration.fit(rows, min_abstention=0.85)
    assert cal.features == FEATURES
    probs = [(cal.probability(s), a) for s, a in rows]
    unanswerable = [p for p, a in probs if not a]
    assert sum(p < cal.threshold for p in unanswerable) / len(unanswerable) >= 0.85
    # the lowest such threshold: one step lower would miss the bar
    lower = [p for p, _ in probs if p < cal.threshold]
    if lower:
        t = max(lower)
        assert sum(p < t for p in unanswerable) / len(unanswerable) < 0.85
    hi = dict.fromkeys(FEATURES, 0.9) | {"missing_specific": 0.0}
    lo = dict.fromkeys(FEATURES, 0.2) | {"missing_specific": 1.0}
    assert cal.probability(hi) > cal.probability(lo)


def test_fit_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="answerable and unanswerable"):
        Calibration.fit([(dict.fromkeys(FEATURES, 0.5), True)] * 10)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    cal = Calibration.fit(_rows(), meta={"data": "synthetic"})
    cal.save(tmp_path / "c.json")
    again = Calibration.load(tmp_path / "c.json")
    assert again == cal and again.meta["data"] == "synthetic"


def test_shipped_calibration_names_its_training_data() -> None:
    cal = default_calibration()
    assert cal is not None and 0.0 < cal.threshold < 1.0
    assert "test never read" in cal.meta["data"]

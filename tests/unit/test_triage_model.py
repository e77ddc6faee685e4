"""The triage model alone: calibration maths, thresholds, training refusals, persistence without pickle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from copilot.retrieval.embedder import HashingEmbedder
from copilot.triage.calibration import (
    class_thresholds,
    coverage_at_precision,
    expected_calibration_error,
    fit_temperature,
    reliability_table,
    softmax,
)
from copilot.triage.model import TrainConfig, TriageDataError, TriageModel, TriageModelError, train_model
from copilot.triage.rules import TriageRules
from copilot.triage.text import html_to_text, is_other_language, ticket_text

pytestmark = pytest.mark.unit

TOPICS = {
    "network": ["wifi keeps dropping on the ward", "no dial tone on the desk phone", "vpn error 809 from home",
                "network socket dead in room {n}", "pager alerts not reaching the on-call phone"],
    "printing": ["printer jams and shows a blank screen", "label printer prints blank labels",
                 "toner low on the ward office printer", "scanner not working since update", "printer offline {n}"],
    "cleaning": ["sharps bins full on ward {n}", "spill in corridor near room {n}", "clinical waste bags piling up",
                 "blocked toilet overflowing in waiting area", "isolation room {n} needs deep clean"],
}


def _data(n_per: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, templates in TOPICS.items():
        for _ in range(n_per):
            t = templates[int(rng.integers(len(templates)))].format(n=int(rng.integers(100, 400)))
            texts.append(f"{t}, please help {['asap', 'thanks', '', 'cheers'][int(rng.integers(4))]}")
            labels.append(label)
    return texts, labels


def test_softmax_rows_sum_to_one_and_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 2000)
    logits = rng.normal(0, 1, (2000, 3))
    logits[np.arange(2000), y] += 1.0
    sharp = logits * 4  # an over-confident model: same ranking, logits four times too large
    t = fit_temperature(sharp, y)
    assert 3.0 < t < 5.5
    p_sharp, p_fixed = softmax(sharp), softmax(sharp / t)
    assert np.allclose(p_fixed.sum(1), 1.0)
    correct = p_sharp.argmax(1) == y
    assert expected_calibration_error(p_fixed.max(1), correct) < expected_calibration_error(p_sharp.max(1), correct)


@pytest.mark.parametrize(
    ("conf", "correct", "ece"),
    [
        ([0.9, 0.9, 0.9, 0.9], [1, 1, 1, 0], 0.15),
        ([0.55, 0.55], [1, 0], 0.05),
        ([1.0, 1.0], [1, 1], 0.0),
        ([], [], 0.0),
    ],
)
def test_expected_calibration_error_table(conf: list[float], correct: list[int], ece: float) -> None:
    assert expected_calibration_error(np.array(conf), np.array(correct, dtype=bool)) == pytest.approx(ece)


def test_reliability_table_counts_every_prediction() -> None:
    conf = np.array([0.15, 0.35, 0.36, 0.95])
    rows = reliability_table(conf, np.array([False, True, False, True]))
    assert sum(r["n"] for r in rows) == 4
    assert {"bin", "n", "confidence", "accuracy"} <= set(rows[0])


def test_class_threshold_is_the_deepest_cut_reaching_the_target_precision() -> None:
    # class 0 predicted 20 times: the 15 most confident are right, then 5 wrong
    conf = np.r_[np.linspace(0.99, 0.80, 15), np.linspace(0.79, 0.60, 5)]
    probs = np.stack([conf, 1 - conf], axis=1)
    y = np.r_[np.zeros(15, int), np.ones(5, int)]
    t0 = class_thresholds(probs, y, ["a", "b"], target_precision=0.9, min_support=10)[0]
    assert t0.threshold is not None and 0.78 <= t0.threshold <= 0.80
    assert t0.precision is not None and t0.precision >= 0.9
    # too few predictions: never auto-applied
    few = class_thresholds(probs[:5], y[:5], ["a", "b"], min_support=10)[0]
    assert few.threshold is None


def test_coverage_at_precision_is_a_property_of_the_ranking() -> None:
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])
    assert coverage_at_precision(probs, np.array([0, 0, 1, 0]), target=0.9) == 0.5
    assert coverage_at_precision(probs, np.array([1, 1, 1, 1]), target=0.9) == 0.0


def test_trained_model_predicts_saves_and_loads_the_same(tmp_path: Path) -> None:
    texts, labels = _data(40)
    emb = HashingEmbedder()
    model = train_model(texts, emb.embed_documents(texts), {"category": labels}, embedder_id="hashing",
                        config=TrainConfig(folds=3))
    probe = ["the wifi drops every few minutes on ward 5", "printer jammed again"]
    vec = emb.embed_documents(probe)
    before = model.predict(probe, vec)
    assert [p["category"].label for p in before] == ["network", "printing"]
    assert all(len(p["category"].alternatives) == 2 for p in before)
    model.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl"))
    again = TriageModel.load(tmp_path / "m")
    after = again.predict(probe, vec)
    assert [a["category"].confidence for a in after] == pytest.approx([b["category"].confidence for b in before])
    assert again.targets["category"].metrics["ece_after"] <= 0.2


def test_training_refuses_too_little_data_with_a_clear_message() -> None:
    texts, labels = _data(5)
    emb = HashingEmbedder()
    with pytest.raises(TriageDataError, match="usable tickets, at least 50"):
        train_model(texts, emb.embed_documents(texts), {"category": labels}, embedder_id="h")
    with pytest.raises(TriageDataError, match="at least 2 are needed"):
        train_model(texts * 10, emb.embed_documents(texts * 10), {"category": ["one"] * 150}, embedder_id="h")


def test_an_old_or_missing_model_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(TriageModelError) as missing:
        TriageModel.load(tmp_path / "none")
    assert missing.value.code == "triage_no_model"
    texts, labels = _data(30)
    emb = HashingEmbedder()
    model = train_model(texts, emb.embed_documents(texts), {"category": labels}, embedder_id="h",
                        config=TrainConfig(folds=3))
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta["format_version"] = 0
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(TriageModelError) as old:
        TriageModel.load(tmp_path / "m")
    assert old.value.code == "triage_model_outdated"


def test_a_model_refuses_vectors_of_another_embedder() -> None:
    texts, labels = _data(30)
    emb = HashingEmbedder()
    model = train_model(texts, emb.embed_documents(texts), {"category": labels}, embedder_id="h",
                        config=TrainConfig(folds=3))
    with pytest.raises(TriageModelError, match="retrain"):
        model.predict(["x"], np.zeros((1, 17), dtype=np.float32))


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Vent BME-VEN-0047 alarming on ICU", ["BME-VEN-0047"]),
        ("the defibrillator failed its daily self-test", ["defibrillator"]),
        ("Infusion-pumps need a check", ["Infusion-pumps"]),
        ("air vent in the kitchen is noisy", []),
        ("ventilation in the store room", []),
        ("the printer is broken", []),
    ],
)
def test_critical_equipment_rule(text: str, terms: list[str]) -> None:
    assert TriageRules.load().critical_terms(text) == terms


@pytest.mark.parametrize(
    ("subject", "body", "text"),
    [
        ("Printer jams", "<p>The printer &amp; scanner</p><p>jam</p>", "Printer jams. The printer & scanner jam"),
        ("Login fails", "<p>Login fails since Monday</p>", "Login fails since Monday"),
        (False, False, ""),
        ("", "<br/>", ""),
    ],
)
def test_ticket_text(subject: str | bool, body: str | bool, text: str) -> None:
    assert ticket_text(subject, body) == text


def test_html_and_language() -> None:
    assert html_to_text("<div>a<br>b</div>") == "a b"
    assert is_other_language("Hola, la impresora de la sala 4 no funciona desde ayer, por favor ayuda")
    assert not is_other_language("printer jammed again on ward 4b pls fix asap")
    assert not is_other_language("vent alarm")  # too short to tell

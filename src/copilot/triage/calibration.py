"""Confidence that means what it says: temperature scaling, expected calibration error, reliability tables,
and the per-class thresholds that reach a target precision.

Temperature scaling (Guo et al., 2017, "On Calibration of Modern Neural Networks") divides the logits by one
scalar fitted on held-out predictions; it keeps the ranking (so accuracy) and fixes over- or under-confidence.
ECE is the bin-weighted gap between confidence and accuracy over 15 equal-width bins, the paper's definition.

Usage::

    t = fit_temperature(oof_logits, y_idx)           # out-of-fold logits of the training data
    probs = softmax(test_logits / t)
    expected_calibration_error(probs.max(1), probs.argmax(1) == y_test)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ECE_BINS = 15


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def _nll(logits: np.ndarray, y: np.ndarray, t: float) -> float:
    z = logits / t
    z = z - z.max(axis=1, keepdims=True)
    logsum = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(logsum - z[np.arange(len(y)), y]))


def fit_temperature(logits: np.ndarray, y: np.ndarray, *, lo: float = 0.05, hi: float = 20.0) -> float:
    """The temperature minimising the negative log-likelihood of held-out ``logits`` (golden-section search in
    log space: the NLL is unimodal in ``t``)."""
    if len(y) == 0:
        return 1.0
    a, b = np.log(lo), np.log(hi)
    g = (np.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = _nll(logits, y, float(np.exp(c))), _nll(logits, y, float(np.exp(d)))
    for _ in range(60):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = _nll(logits, y, float(np.exp(c)))
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = _nll(logits, y, float(np.exp(d)))
    return float(np.exp((a + b) / 2))


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, *, bins: int = ECE_BINS) -> float:
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(float(correct[m].mean()) - float(confidence[m].mean()))
    return float(ece)


def reliability_table(confidence: np.ndarray, correct: np.ndarray, *, bins: int = 10) -> list[dict[str, Any]]:
    """Per confidence bin: how many predictions, their mean confidence and their accuracy (empty bins omitted)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        if m.any():
            rows.append(
                {
                    "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                    "n": int(m.sum()),
                    "confidence": round(float(confidence[m].mean()), 4),
                    "accuracy": round(float(correct[m].mean()), 4),
                }
            )
    return rows


@dataclass(frozen=True)
class ClassThreshold:
    """The lowest confidence at which predictions of one class reached the target precision on held-out data.

    ``threshold`` is ``None`` when no confidence level reached it with at least ``min_support`` predictions: the
    class is then never applied automatically (suggestions only)."""

    label: str
    threshold: float | None
    precision: float | None
    coverage: float
    support: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "threshold": None if self.threshold is None else round(self.threshold, 4),
            "precision": None if self.precision is None else round(self.precision, 4),
            "coverage": round(self.coverage, 4),
            "support": self.support,
        }


def class_thresholds(
    probs: np.ndarray,
    y: np.ndarray,
    labels: list[str],
    *,
    target_precision: float = 0.9,
    min_support: int = 10,
) -> list[ClassThreshold]:
    """Per class, the smallest confidence ``t`` such that the predictions of that class with confidence >= ``t``
    reach ``target_precision`` on held-out ``probs``, counted over at least ``min_support`` predictions (the
    deepest cut of the ranking whose cumulative precision meets the target, the way ServiceNow's per-class
    precision/coverage tuning reads a precision-coverage curve). Ties in confidence are never split."""
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    out = []
    for k, label in enumerate(labels):
        m = pred == k
        support = int((y == k).sum())
        if not m.any():
            out.append(ClassThreshold(label, None, None, 0.0, support))
            continue
        order = np.argsort(-conf[m], kind="stable")
        c, ok = conf[m][order], (y[m] == k)[order]
        prec = np.cumsum(ok) / np.arange(1, len(ok) + 1)
        best = -1
        for i in range(min_support - 1, len(c)):
            if prec[i] >= target_precision and (i + 1 == len(c) or c[i + 1] < c[i]):
                best = i
        if best < 0:
            out.append(ClassThreshold(label, None, None, 0.0, support))
            continue
        covered = int(ok[: best + 1].sum())
        out.append(
            ClassThreshold(
                label,
                float(c[best]),
                float(prec[best]),
                covered / support if support else 0.0,
                support,
            )
        )
    return out


def coverage_at_precision(probs: np.ndarray, y: np.ndarray, *, target: float = 0.9) -> float:
    """The largest share of tickets that can be answered, most confident first, with precision >= ``target``
    (one global confidence cut, chosen on the scored set itself: a property of the ranking, used to compare
    models; the per-class thresholds chosen on training data are reported separately as ``auto_apply``)."""
    if len(y) == 0:
        return 0.0
    conf = probs.max(axis=1)
    ok = probs.argmax(axis=1) == y
    order = np.argsort(-conf, kind="stable")
    prec = np.cumsum(ok[order]) / np.arange(1, len(y) + 1)
    good = np.nonzero(prec >= target)[0]
    return float((good.max() + 1) / len(y)) if len(good) else 0.0

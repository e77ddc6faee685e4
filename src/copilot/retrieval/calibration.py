"""Calibrated abstention: the probability that the passages answer the question, from signals that transfer.

The extractive answerer measures a handful of signals per question (:data:`FEATURES`): the best sentence's
similarity and word overlap, how many of the question's words the top passages hold at all, whether a
specific word of the question (rare in general English: "enteral", "thaw", "vial") is missing from them, and
whether a question that asks for a number got a sentence with one. A logistic regression (scikit-learn) turns
them into P(answerable); the answerer abstains below a threshold chosen on the same training data: the lowest
that still abstains on 85% of the unanswerable questions (the product's bar), so that as few answerable
questions as possible are refused.

Fitted only on training data — the ``train`` split of ``evals/gold/demo_staff.jsonl`` and
``evals/gold/demo_qa.jsonl`` — never on the ``test`` split; ``copilot eval answers --calibrate`` refits it and
writes :data:`DEFAULT_PATH` with what it was fitted on.

Usage::

    cal = Calibration.load()
    p = cal.probability({"cosine": 0.61, "lexical": 0.5, ...})
    abstain = p < cal.threshold
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).with_name("calibration.json")
FEATURES = ("score", "coverage", "missing_specific", "numeric_match", "agree")


@dataclass(frozen=True)
class Calibration:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)

    def probability(self, signals: Mapping[str, float]) -> float:
        z = self.intercept
        for name, m, s, w in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            z += w * (float(signals.get(name, 0.0)) - m) / (s or 1.0)
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    # -- persistence

    def save(self, path: Path = DEFAULT_PATH) -> None:
        data = asdict(self)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> Calibration:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            features=tuple(data["features"]),
            mean=tuple(data["mean"]),
            scale=tuple(data["scale"]),
            coef=tuple(data["coef"]),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            meta=dict(data.get("meta") or {}),
        )

    # -- fitting

    @classmethod
    def fit(
        cls,
        rows: Sequence[tuple[Mapping[str, float], bool]],
        *,
        min_abstention: float = 0.85,
        meta: Mapping[str, Any] | None = None,
    ) -> Calibration:
        """Logistic regression on (signals, answerable) rows; the lowest threshold that abstains on at least
        ``min_abstention`` of the unanswerable rows."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        if len({y for _, y in rows}) < 2:
            raise ValueError("calibration needs answerable and unanswerable questions")
        x = np.array([[float(s.get(f, 0.0)) for f in FEATURES] for s, _ in rows], dtype=np.float64)
        y = np.array([1 if a else 0 for _, a in rows])
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        # balanced classes: unanswerable questions are the minority, and abstaining on them matters as much
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit((x - mean) / scale, y)
        cal = cls(
            features=FEATURES,
            mean=tuple(float(v) for v in mean),
            scale=tuple(float(v) for v in scale),
            coef=tuple(float(v) for v in model.coef_[0]),
            intercept=float(model.intercept_[0]),
            threshold=0.5,
        )
        probs = [cal.probability(s) for s, _ in rows]
        # The lowest threshold (fewest refusals of answerable questions) that still abstains on at least
        # ``min_abstention`` of the unanswerable ones — the product's bar, not a value fitted to the data.
        best_t, best_j = 0.5, -1.0
        for t in sorted(set(round(p, 3) for p in probs)):
            tpr = sum(1 for p, (_, a) in zip(probs, rows, strict=True) if a and p >= t) / max(1, int(y.sum()))
            tnr = sum(1 for p, (_, a) in zip(probs, rows, strict=True) if not a and p < t) / max(1, int((1 - y).sum()))
            if tnr >= min_abstention:
                best_t, best_j = t, tpr + tnr
                break
        info = {
            "fitted": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": len(rows),
            "answerable": int(y.sum()),
            "balanced_accuracy_train": round(best_j / 2, 4),
            "min_abstention": min_abstention,
            **dict(meta or {}),
        }
        return cls(cal.features, cal.mean, cal.scale, cal.coef, cal.intercept, best_t, info)


@lru_cache(maxsize=1)
def default_calibration() -> Calibration | None:
    """The shipped calibration, or None when the file is missing (the answerer then uses its fixed weights)."""
    try:
        return Calibration.load(DEFAULT_PATH)
    except (OSError, ValueError, KeyError) as exc:
        logging.getLogger(__name__).warning(
            "answer calibration %s unreadable (%s): abstaining on the fixed weights", DEFAULT_PATH, type(exc).__name__
        )
        return None

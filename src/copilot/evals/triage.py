"""Triage evaluation: Copilot's calibrated classifier beside a TF-IDF + logistic-regression baseline trained on
the same file, per target, on tickets neither saw in training.

- ``--dataset endava`` — ``../shared/datasets/tickets_endava/tickets_train.csv`` (real helpdesk tickets of
  Endava, anonymised, integer-coded labels). Split once, before anyone looked at it, by a salted hash of the
  ticket text (:func:`endava_split`): ``dev`` (80%) is what the model and its defaults were developed on with
  cross-validation, ``test`` (20%) is only scored. The default run trains on ``dev`` and scores ``test``.
- ``--train A.csv --test B.csv`` — any CSV with ``title``, ``body`` and label columns (the Endava layout).
- ``--dataset demo`` — the demo network's helpdesk history (see :mod:`copilot.evals.triage_demo`).

Per target: ``macro_f1``, ``accuracy``, ``ece`` (top-label, 15 bins), ``coverage_at_precision_0.9`` (the share
of tickets answerable, most confident first, at precision >= 0.9) for both; Copilot also reports ``auto_apply``:
the share of test tickets its per-class thresholds (chosen on training data only) would apply, and the precision
of those.

Usage::

    copilot eval triage --dataset endava --json
    copilot eval triage --train a.csv --test b.csv --targets category,urgency --json
"""

from __future__ import annotations

import csv
import hashlib
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from copilot.triage.calibration import coverage_at_precision, expected_calibration_error
from copilot.triage.model import TrainConfig, TriageModel, train_model
from copilot.triage.text import TicketEncoder

SHARED = Path(__file__).resolve().parents[4] / "shared" / "datasets"
ENDAVA = SHARED / "tickets_endava" / "tickets_train.csv"
ENDAVA_TARGETS = ("category", "urgency", "impact", "ticket_type", "business_service")
ENDAVA_SALT = "copilot-endava-split-v1"
ENDAVA_TEST_BYTES = 51  # a ticket is in the test part when its hash's first byte is below this: 51/256, 20%


def endava_split(row: dict[str, str]) -> str:
    h = hashlib.sha256(f"{ENDAVA_SALT}|{row.get('title', '')}\x1f{row.get('body', '')}".encode()).digest()
    return "test" if h[0] < ENDAVA_TEST_BYTES else "dev"


def read_csv(path: Path) -> list[dict[str, str]]:
    from copilot.errors import ValidationError

    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError(f"{path}: unreadable CSV ({type(exc).__name__})") from exc
    if rows and not {"title", "body"} <= set(rows[0]):
        raise ValidationError(f"{path}: a 'title' and a 'body' column are required")
    return rows


def _baseline(
    train_texts: Sequence[str], y_train: Sequence[str], test_texts: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """The issue's baseline, as a user would write it: TF-IDF 1-2-grams + logistic regression, library defaults."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2))
    x = vec.fit_transform(train_texts)
    clf = LogisticRegression(max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(x, list(y_train))
    return clf.predict_proba(vec.transform(test_texts)), [str(c) for c in clf.classes_]


def _scores(probs: np.ndarray, labels: list[str], y_test: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score

    index = {lab: i for i, lab in enumerate(labels)}
    pred = [labels[i] for i in probs.argmax(1)]
    y_idx = np.array([index.get(y, -1) for y in y_test])
    correct = probs.argmax(1) == y_idx
    return {
        "macro_f1": round(float(f1_score(list(y_test), pred, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(list(y_test), pred)), 4),
        "ece": round(expected_calibration_error(probs.max(1), correct), 4),
        "coverage_at_precision_0.9": round(coverage_at_precision(probs, y_idx, target=0.9), 4),
    }


def score_model(
    model: TriageModel,
    target: str,
    texts: Sequence[str],
    vectors: np.ndarray,
    y_test: Sequence[str],
) -> dict[str, Any]:
    tm = model.targets[target]
    probs = tm.proba(texts, vectors)
    out = _scores(probs, tm.labels, y_test)
    conf, pred = probs.max(1), probs.argmax(1)
    thr = np.array([tm.threshold_of(lab) if tm.threshold_of(lab) is not None else np.inf for lab in tm.labels])
    auto = conf >= thr[pred]
    ok = np.array([tm.labels[p] == y for p, y in zip(pred, y_test, strict=True)])
    out["auto_apply"] = {
        "coverage": round(float(auto.mean()), 4) if len(auto) else 0.0,
        "precision": round(float(ok[auto].mean()), 4) if auto.any() else None,
        "classes_enabled": sum(t.threshold is not None for t in tm.thresholds),
        "classes": len(tm.labels),
    }
    out["variant"] = tm.variant
    unseen = sorted({y for y in y_test} - set(tm.labels))
    if unseen:
        out["unseen_test_labels"] = len([y for y in y_test if y in set(unseen)])
    return out


def run_csv(
    train_rows: list[dict[str, str]],
    test_rows: list[dict[str, str]],
    targets: Sequence[str],
    encoder: TicketEncoder,
    *,
    embedder_id: str,
    config: TrainConfig | None = None,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    enc_train = encoder.encode([(r.get("title", ""), r.get("body", "")) for r in train_rows])
    enc_test = encoder.encode([(r.get("title", ""), r.get("body", "")) for r in test_rows])
    t_encode = time.perf_counter() - t0
    keep_tr = [i for i in range(len(train_rows)) if i not in enc_train.skipped]
    keep_te = [i for i in range(len(test_rows)) if i not in enc_test.skipped]
    tr_texts = [enc_train.texts[i] for i in keep_tr]
    te_texts = [enc_test.texts[i] for i in keep_te]
    t0 = time.perf_counter()
    model = train_model(
        tr_texts,
        enc_train.vectors[keep_tr],
        {t: [train_rows[i].get(t) for i in keep_tr] for t in targets},
        embedder_id=embedder_id,
        config=config,
    )
    t_train = time.perf_counter() - t0
    out: dict[str, Any] = {
        "train": len(train_rows),
        "test": len(test_rows),
        "not_judged": {
            "train": _reasons(enc_train.skipped),
            "test": _reasons(enc_test.skipped),
        },
        "seconds": {"encode": round(t_encode, 1), "train": round(t_train, 1)},
        "targets": {},
    }
    for t in targets:
        y_test = [test_rows[i].get(t, "") for i in keep_te]
        probs, labels = _baseline(tr_texts, [train_rows[i].get(t, "") for i in keep_tr], te_texts)
        cop = score_model(model, t, te_texts, enc_test.vectors[keep_te], y_test)
        # a ticket Copilot refused to judge counts as wrong for it (the baseline judged everything)
        out["targets"][t] = {
            "copilot": cop,
            "baseline": _scores(probs, labels, y_test),
            "cv_on_train": model.targets[t].metrics.get("cv"),
        }
    return out


def _reasons(skipped: dict[int, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in skipped.values():
        out[r] = out.get(r, 0) + 1
    return out


def run(
    settings: Any,
    *,
    dataset: str = "endava",
    train: str | None = None,
    test: str | None = None,
    targets: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    from copilot.errors import ValidationError
    from copilot.ingest.redaction import build_redactor
    from copilot.retrieval.embedder import build_embedder

    if dataset == "demo" and not train:
        from copilot.evals.triage_demo import run_demo

        return run_demo(settings)
    embedder = build_embedder(settings)
    redactor = build_redactor(settings)
    redactor.warm_up()
    encoder = TicketEncoder(redactor, embedder)
    if train or test:
        if not (train and test):
            raise ValidationError("--train and --test go together")
        train_rows, test_rows = read_csv(Path(train)), read_csv(Path(test))
        source = {"train": train, "test": test}
        default_targets = [c for c in ENDAVA_TARGETS if train_rows and c in train_rows[0]]
    elif dataset == "endava":
        rows = read_csv(ENDAVA)
        train_rows = [r for r in rows if endava_split(r) == "dev"]
        test_rows = [r for r in rows if endava_split(r) == "test"]
        source = {"file": str(ENDAVA), "split": f"salted hash '{ENDAVA_SALT}', train = dev (80%), test = test (20%)"}
        default_targets = list(ENDAVA_TARGETS)
    else:
        raise ValidationError(f"unknown triage dataset {dataset!r} (endava, demo, or --train/--test)")
    if limit:
        train_rows, test_rows = train_rows[:limit], test_rows[: max(1, limit // 4)]
    chosen = [t.strip() for t in targets.split(",")] if targets else default_targets
    missing = [t for t in chosen if train_rows and t not in train_rows[0]]
    if missing:
        raise ValidationError(f"label column(s) not in the training file: {', '.join(missing)}")
    out = run_csv(train_rows, test_rows, chosen, encoder, embedder_id=getattr(embedder, "name", "embedder"))
    out["source"] = source
    out["redaction"] = settings.redaction
    return out

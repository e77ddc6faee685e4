"""The triage model: per target (category, team, priority, ...) a calibrated linear classifier over the ticket's
redacted text — TF-IDF word 1-2-grams, the project's sentence embeddings, or both side by side — chosen per target
by cross-validation on the training history, with per-class confidence thresholds for automatic application.

Why this shape: a linear model over frozen embeddings and n-grams trains in seconds on a CPU, predicts in
microseconds, and its out-of-fold predictions give honest data for calibration (temperature scaling) and for the
thresholds that decide what may be applied without a person. Lexical features carry a helpdesk's own jargon (asset
tags, application names); embeddings carry paraphrase. Which wins depends on the history, so it is measured.

The model is pure: callers pass the redacted texts and their embedding vectors. It is saved as ``model.json``
(vocabularies, labels, thresholds) plus ``model.npz`` (weights) — no pickle, so loading a model file never runs code.

Usage::

    model = train_model(examples, targets=["category", "priority"], vectors=emb.embed_documents(texts))
    preds = model.predict(["printer on ward 4b jams"], emb.embed_documents(["printer on ward 4b jams"]))
    preds[0]["category"].label, preds[0]["category"].confidence, preds[0]["category"].auto
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from copilot.errors import ModelError, ValidationError
from copilot.triage.calibration import (
    ClassThreshold,
    class_thresholds,
    expected_calibration_error,
    fit_temperature,
    reliability_table,
    softmax,
)

FORMAT_VERSION = 1
"""Bump when the saved layout changes; an older file is refused with a clear message (retrain)."""

VARIANTS = ("combined", "lexical", "dense")
_NEG = -1e9


class TriageDataError(ValidationError):
    """Too little or unusable training data: the message says what is missing."""

    code = "triage_data"


class TriageModelError(ModelError):
    code = "triage_model"


@dataclass(frozen=True)
class TrainConfig:
    variants: tuple[str, ...] = ("combined", "lexical")
    """Candidates compared by cross-validated macro-F1 per target (dense alone rarely wins and costs a fit)."""
    folds: int = 4
    c: float = 10.0
    class_weight: str | None = "balanced"
    target_precision: float = 0.9
    min_support: int = 10
    min_examples: int = 50
    min_class_examples: int = 3
    min_classes: int = 2
    seed: int = 0


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]
    """The next most likely labels with their probabilities (top 3 after the prediction)."""
    threshold: float | None
    """This label's auto-apply threshold, ``None`` when the class never reached the target precision."""

    @property
    def auto(self) -> bool:
        return self.threshold is not None and self.confidence >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "auto": self.auto,
            "threshold": None if self.threshold is None else round(self.threshold, 4),
            "alternatives": [{"label": lab, "confidence": round(p, 4)} for lab, p in self.alternatives],
        }


@dataclass
class TargetModel:
    name: str
    labels: list[str]
    variant: str
    temperature: float
    weights: np.ndarray  # (n_labels, n_features)
    bias: np.ndarray  # (n_labels,)
    vocabulary: dict[str, int]
    idf: np.ndarray
    thresholds: list[ClassThreshold]
    metrics: dict[str, Any] = field(default_factory=dict)
    oof_labels: list[str | None] = field(default_factory=list, repr=False)
    """Training only, not saved: the out-of-fold prediction per training ticket (None where not learned)."""
    _vectorizer: Any = field(default=None, repr=False)

    def _lexical(self, texts: Sequence[str]) -> Any:
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vec = TfidfVectorizer(**_TFIDF, vocabulary=self.vocabulary)
            vec.idf_ = self.idf
            self._vectorizer = vec
        return self._vectorizer.transform(texts)

    def logits(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        parts = []
        if self.variant in ("combined", "lexical"):
            x = self._lexical(texts)
            n_lex = len(self.vocabulary)
            parts.append(np.asarray(x @ self.weights[:, :n_lex].T))
        if self.variant in ("combined", "dense"):
            parts.append(vectors @ self.weights[:, -vectors.shape[1] :].T)
        out: np.ndarray = sum(parts) + self.bias
        return out

    def proba(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        return softmax(self.logits(texts, vectors) / self.temperature)

    def threshold_of(self, label: str) -> float | None:
        for t in self.thresholds:
            if t.label == label:
                return t.threshold
        return None


_TFIDF: dict[str, Any] = {"ngram_range": (1, 2), "sublinear_tf": True, "lowercase": True}


def _fit_linear(x: Any, y: np.ndarray, cfg: TrainConfig) -> Any:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=3000, C=cfg.c, class_weight=cfg.class_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on tiny folds; the CV score says what matters
        clf.fit(x, y)
    return clf


def _full_logits(clf: Any, x: Any, n_labels: int) -> np.ndarray:
    """Decision scores in the full label space (a fold may lack a class: its score is -inf-like)."""
    scores = clf.decision_function(x)
    if scores.ndim == 1:  # binary: sklearn returns the positive class's margin
        scores = np.stack([-scores / 2, scores / 2], axis=1)
    out = np.full((x.shape[0], n_labels), _NEG)
    out[:, clf.classes_] = scores
    return out


def _features(variant: str, lex: Any, dense: np.ndarray) -> Any:
    from scipy.sparse import csr_matrix, hstack

    if variant == "lexical":
        return lex
    if variant == "dense":
        return dense
    return hstack([lex, csr_matrix(dense)]).tocsr()


def _macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, pred, average="macro", zero_division=0))


def _folds(y: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(y.tolist())
    strata = np.array([v if counts[v] >= k else -1 for v in y.tolist()])
    k = max(2, min(k, max(Counter(strata.tolist()).values())))
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "least populated class has fewer members than n_splits"
        return list(skf.split(np.zeros(len(y)), strata))


def train_target(
    name: str, texts: Sequence[str], vectors: np.ndarray, raw_labels: Sequence[str], cfg: TrainConfig
) -> TargetModel:
    from sklearn.feature_extraction.text import TfidfVectorizer

    counts = Counter(raw_labels)
    keep_labels = sorted(lab for lab, n in counts.items() if n >= cfg.min_class_examples)
    if len(keep_labels) < cfg.min_classes:
        raise TriageDataError(
            f"target {name!r}: {len(keep_labels)} label(s) have at least {cfg.min_class_examples} tickets; "
            f"at least {cfg.min_classes} are needed to learn anything"
        )
    keep = np.array([lab in set(keep_labels) for lab in raw_labels])
    if keep.sum() < cfg.min_examples:
        raise TriageDataError(
            f"target {name!r}: {int(keep.sum())} usable tickets, at least {cfg.min_examples} are needed"
        )
    index = {lab: i for i, lab in enumerate(keep_labels)}
    t_texts = [t for t, k in zip(texts, keep, strict=True) if k]
    dense = vectors[keep]
    y = np.array([index[lab] for lab, k in zip(raw_labels, keep, strict=True) if k])
    n = len(keep_labels)

    folds = _folds(y, cfg.folds, cfg.seed)
    oof = {v: np.zeros((len(y), n)) for v in cfg.variants}
    for tr, te in folds:
        vec = TfidfVectorizer(**_TFIDF, min_df=2 if len(tr) >= 200 else 1)
        lex_tr = vec.fit_transform([t_texts[i] for i in tr])
        lex_te = vec.transform([t_texts[i] for i in te])
        for v in cfg.variants:
            clf = _fit_linear(_features(v, lex_tr, dense[tr]), y[tr], cfg)
            oof[v][te] = _full_logits(clf, _features(v, lex_te, dense[te]), n)
    scores = {v: (_macro_f1(y, oof[v].argmax(1)), float((oof[v].argmax(1) == y).mean())) for v in cfg.variants}
    variant = max(cfg.variants, key=lambda v: scores[v])
    temperature = fit_temperature(oof[variant], y)
    probs = softmax(oof[variant] / temperature)
    thresholds = class_thresholds(
        probs, y, keep_labels, target_precision=cfg.target_precision, min_support=cfg.min_support
    )

    vec = TfidfVectorizer(**_TFIDF, min_df=2 if len(y) >= 200 else 1)
    lex = vec.fit_transform(t_texts)
    clf = _fit_linear(_features(variant, lex, dense), y, cfg)
    width = (lex.shape[1] if variant != "dense" else 0) + (dense.shape[1] if variant != "lexical" else 0)
    weights = np.zeros((n, width))
    bias = np.full(n, _NEG)
    coef = clf.coef_ if len(clf.classes_) > 2 else np.vstack([-clf.coef_[0] / 2, clf.coef_[0] / 2])
    inter = clf.intercept_ if len(clf.classes_) > 2 else np.array([-clf.intercept_[0] / 2, clf.intercept_[0] / 2])
    weights[clf.classes_] = coef
    bias[clf.classes_] = inter
    vocabulary = {str(k): int(v) for k, v in vec.vocabulary_.items()} if variant != "dense" else {}
    idf = np.asarray(vec.idf_) if variant != "dense" else np.zeros(0)
    conf, correct = probs.max(1), probs.argmax(1) == y
    metrics = {
        "examples": len(y),
        "cv_folds": len(folds),
        "cv": {v: {"macro_f1": round(s[0], 4), "accuracy": round(s[1], 4)} for v, s in scores.items()},
        "chosen": variant,
        "ece_before": round(expected_calibration_error(softmax(oof[variant]).max(1), correct), 4),
        "ece_after": round(expected_calibration_error(conf, correct), 4),
        "reliability": reliability_table(conf, correct),
        "per_class": _per_class(y, probs.argmax(1), keep_labels),
        "dropped_labels": {lab: c for lab, c in sorted(counts.items()) if lab not in index},
    }
    oof_pred = iter(probs.argmax(1).tolist())
    oof_labels = [keep_labels[next(oof_pred)] if k else None for k in keep]
    return TargetModel(
        name, keep_labels, variant, temperature, weights, bias, vocabulary, idf, thresholds, metrics,
        oof_labels,
    )


def _per_class(y: np.ndarray, pred: np.ndarray, labels: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for k, lab in enumerate(labels):
        tp = int(((pred == k) & (y == k)).sum())
        p, s = int((pred == k).sum()), int((y == k).sum())
        out[lab] = {
            "support": s,
            "precision": round(tp / p, 4) if p else None,
            "recall": round(tp / s, 4) if s else None,
        }
    return out


@dataclass
class TriageModel:
    targets: dict[str, TargetModel]
    embedder_id: str
    dimension: int
    card: dict[str, Any] = field(default_factory=dict)

    def predict(self, texts: Sequence[str], vectors: np.ndarray) -> list[dict[str, Prediction]]:
        out: list[dict[str, Prediction]] = [{} for _ in texts]
        if not len(texts):
            return out
        if vectors.shape[1] != self.dimension:
            raise TriageModelError(
                f"the triage model was trained on {self.dimension}-d embeddings ({self.embedder_id}); "
                f"the embedder gives {vectors.shape[1]}-d: retrain with `copilot triage train`",
                code="triage_model_mismatch",
            )
        for name, tm in self.targets.items():
            probs = tm.proba(texts, vectors)
            for i, row in enumerate(probs):
                order = np.argsort(-row)
                best = tm.labels[order[0]]
                out[i][name] = Prediction(
                    best,
                    float(row[order[0]]),
                    tuple((tm.labels[j], float(row[j])) for j in order[1:4]),
                    tm.threshold_of(best),
                )
        return out

    def proba(self, target: str, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        return self.targets[target].proba(texts, vectors)

    # -- persistence -----------------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "embedder_id": self.embedder_id,
            "dimension": self.dimension,
            "targets": {},
        }
        for i, (name, tm) in enumerate(self.targets.items()):
            arrays[f"w{i}"], arrays[f"b{i}"], arrays[f"idf{i}"] = tm.weights, tm.bias, tm.idf
            meta["targets"][name] = {
                "slot": i,
                "labels": tm.labels,
                "variant": tm.variant,
                "temperature": tm.temperature,
                "vocabulary": sorted(tm.vocabulary, key=tm.vocabulary.__getitem__),
                "thresholds": [t.to_dict() for t in tm.thresholds],
                "metrics": tm.metrics,
            }
        np.savez_compressed(directory / "model.npz", **arrays)  # type: ignore[arg-type]
        (directory / "model.json").write_text(json.dumps(meta), encoding="utf-8")
        (directory / "card.json").write_text(json.dumps(self.card, indent=2, default=str), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> TriageModel:
        try:
            meta = json.loads((directory / "model.json").read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise TriageModelError(
                f"no triage model in {directory}: train one with `copilot triage train`", code="triage_no_model"
            ) from exc
        except (OSError, ValueError) as exc:
            raise TriageModelError(f"triage model file unreadable: {type(exc).__name__}") from exc
        version = meta.get("format_version")
        if version != FORMAT_VERSION:
            raise TriageModelError(
                f"triage model format {version} is not the current {FORMAT_VERSION}: retrain with "
                "`copilot triage train`",
                code="triage_model_outdated",
            )
        try:
            with np.load(directory / "model.npz") as z:
                arrays = {k: z[k] for k in z.files}
            targets = {}
            for name, t in meta["targets"].items():
                s = t["slot"]
                targets[name] = TargetModel(
                    name,
                    list(t["labels"]),
                    t["variant"],
                    float(t["temperature"]),
                    arrays[f"w{s}"],
                    arrays[f"b{s}"],
                    {term: i for i, term in enumerate(t["vocabulary"])},
                    arrays[f"idf{s}"],
                    [ClassThreshold(**th) for th in t["thresholds"]],
                    t.get("metrics", {}),
                )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise TriageModelError(f"triage model file damaged: {type(exc).__name__}") from exc
        card = {}
        card_path = directory / "card.json"
        if card_path.exists():
            card = json.loads(card_path.read_text(encoding="utf-8"))
        return cls(targets, meta["embedder_id"], int(meta["dimension"]), card)


def train_model(
    texts: Sequence[str],
    vectors: np.ndarray,
    labels: Mapping[str, Sequence[str | None]],
    *,
    embedder_id: str,
    config: TrainConfig | None = None,
) -> TriageModel:
    """Train one :class:`TargetModel` per key of ``labels`` (tickets whose label is ``None``/empty are left
    out of that target). Raises :class:`TriageDataError` when a target has too little data."""
    cfg = config or TrainConfig()
    if len(texts) != len(vectors):
        raise ValueError("texts and vectors differ in length")
    targets = {}
    for name, raw in labels.items():
        idx = [i for i, lab in enumerate(raw) if lab not in (None, "")]
        tm = train_target(name, [texts[i] for i in idx], vectors[idx], [str(raw[i]) for i in idx], cfg)
        full: list[str | None] = [None] * len(texts)
        for j, i in enumerate(idx):
            full[i] = tm.oof_labels[j]
        tm.oof_labels = full
        targets[name] = tm
    return TriageModel(targets, embedder_id, int(vectors.shape[1]) if len(vectors) else 0)

"""Intent classification for the router: sentence embeddings plus word and character n-grams of the *masked*
message, a logistic regression fitted on the labelled examples in ``prompts/router/intents.yaml``.

Intents map 1:1 to governed tools (``knowledge_search``, ``equipment_status``, ... ``dashboard_summary``), plus
``unknown`` (out of scope: answered without a tool) and ``clarify`` (a message that only names things —
``lakeside``, ``pumps`` — and gets a question back). The embedding carries meaning across phrasings; the n-grams
carry the words (and typos of them) that separate look-ups from actions.

The examples are masked like a live message (entities become ``xsite``, ``xtag``, ...), so an example teaches a
way of asking. Fitting takes one batch embedding of the examples (about a second with the ONNX model).

Usage::

    clf = IntentClassifier.load(embedder)
    clf.warm_up()
    clf.predict("is xtag back in service")   # Prediction(intent='equipment_status', p=0.93, ...)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from copilot.agent.slots import ROUTER_PROMPTS

REPO_ROOT = ROUTER_PROMPTS.parents[1]

CLARIFY = "clarify"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class IntentSpec:
    name: str
    tool: str | None
    write: bool
    examples: tuple[str, ...]
    """Hand-written, entities written as placeholders (``xsite``): they also teach the slot extractor which
    words are ordinary request words."""
    labelled: tuple[str, ...] = ()
    """Lines of retired utterance sets, entities written out: classifier training data only."""

    @property
    def training(self) -> tuple[str, ...]:
        return self.examples + self.labelled


@dataclass(frozen=True)
class Prediction:
    intent: str
    p: float
    ranked: tuple[tuple[str, float], ...]
    """Every intent with its probability, best first."""

    @property
    def margin(self) -> float:
        return self.ranked[0][1] - self.ranked[1][1] if len(self.ranked) > 1 else self.ranked[0][1]


def label_of(row: dict[str, Any]) -> str:
    """The classifier class of a labelled utterance: an out-of-scope message that gets a question back is
    ``clarify`` (it only names things); any other keeps its intent (a missing slot is the plan's question)."""
    intent = str(row["intent"])
    return CLARIFY if intent == UNKNOWN and row.get("clarify") else intent


def labelled_examples(files: list[Path]) -> dict[str, list[str]]:
    """Examples per class from utterance files (``{"text", "intent", "slots", "clarify"}`` a line)."""
    out: dict[str, list[str]] = {}
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.setdefault(label_of(row), []).append(str(row["text"]))
    return out


def load_intents(path: Path | None = None) -> dict[str, IntentSpec]:
    """The intents of ``intents.yaml`` with their hand-written examples, plus every line of the retired
    utterance sets it names under ``labelled`` (paths relative to the repository root)."""
    path = path or ROUTER_PROMPTS / "intents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    extra = labelled_examples([REPO_ROOT / f for f in data.get("labelled") or ()])
    unknown = set(extra) - set(data["intents"])
    if unknown:
        raise ValueError(f"{path}: labelled utterances name unknown intents {sorted(unknown)}")
    return {
        name: IntentSpec(name, spec.get("tool"), bool(spec.get("write")), tuple(spec.get("examples") or ()),
                         tuple(extra.get(name, ())))
        for name, spec in data["intents"].items()
    }


class IntentClassifier:
    """Embedding + n-gram logistic regression over the example set. ``predict`` takes a masked message."""

    def __init__(self, embedder: Any, intents: dict[str, IntentSpec], *, mask: Any = None) -> None:
        self.embedder = embedder
        self.intents = intents
        self._mask = mask
        self._lock = threading.Lock()
        self._model: Any = None
        self._words: Any = None
        self._chars: Any = None

    @classmethod
    def load(cls, embedder: Any, path: Path | None = None, *, mask: Any = None) -> IntentClassifier:
        return cls(embedder, load_intents(path), mask=mask)

    def without(self, texts: set[str]) -> IntentClassifier:
        """A new, unfitted classifier over the same examples minus the retired lines in ``texts`` — for
        leave-one-set-out scoring (``copilot eval agent --file X --leave-out``)."""
        intents = {n: replace(spec, labelled=tuple(t for t in spec.labelled if t not in texts))
                   for n, spec in self.intents.items()}
        return IntentClassifier(self.embedder, intents, mask=self._mask)

    def use_mask(self, mask: Any) -> None:
        """Mask the training texts with ``mask`` — the router's slot extractor, the same masking a live message
        gets (``lakeside overtime`` is trained on as ``xsite xkpi``, the way it will be asked) — unless a mask was
        given at construction or the model is already fitted."""
        if self._mask is None and self._model is None:
            self._mask = mask

    def _features(self, texts: list[str], vectors: np.ndarray) -> Any:
        from scipy.sparse import csr_matrix, hstack

        return hstack([csr_matrix(vectors * 2.0), self._words.transform(texts), self._chars.transform(texts)]).tocsr()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from sklearn.feature_extraction.text import TfidfVectorizer
            from sklearn.linear_model import LogisticRegression

            mask = self._mask or (lambda s: s.lower())
            texts, labels = [], []
            for spec in self.intents.values():
                for ex in spec.training:
                    texts.append(mask(ex))
                    labels.append(spec.name)
            self._words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
            self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
            self._words.fit(texts)
            self._chars.fit(texts)
            vectors = np.asarray(self.embedder.embed_documents(texts), dtype=np.float32)
            model = LogisticRegression(C=20.0, max_iter=2000, class_weight="balanced")
            model.fit(self._features(texts, vectors), labels)
            self._model = model

    def predict(self, masked: str, vector: np.ndarray | None = None) -> Prediction:
        self.warm_up()
        vec = self.embedder.embed_query(masked) if vector is None else vector
        probs = self._model.predict_proba(self._features([masked], np.asarray(vec, dtype=np.float32)[None, :]))[0]
        ranked = tuple(sorted(zip(self._model.classes_, (float(p) for p in probs), strict=True),
                              key=lambda kv: kv[1], reverse=True))
        return Prediction(str(ranked[0][0]), ranked[0][1], tuple((str(i), p) for i, p in ranked))

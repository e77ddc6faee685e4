"""Grounded generation's evals: the verifier's similarity threshold, measured; and two prompt versions compared.

``copilot eval grounding`` measures the threshold the :class:`~copilot.retrieval.grounded.Verifier` applies
(cosine between a generated sentence and the closest sentence of the passage it cites). The demo corpus is
indexed with the real embedder; for each answerable gold question the passage among the top five that holds
every answer fact is the evidence. A *supported* claim restates the question with its facts ("How often do the
volumetric infusion pumps need preventive maintenance: 12 months.") and cites that passage; an *unsupported*
claim cites the best-ranked passage that lacks the facts (same topic, wrong evidence), or is another question's
claim citing this passage (topic drift). The threshold is the one that best separates the two (Youden's J) on
the training questions — demo_qa and the ``train`` split of demo_staff — and is written to
``retrieval/grounding.json``; the ``test`` split of demo_staff is only scored, never fitted on.

``copilot eval answers --prompt-version v1 --compare v2`` (a model configured) answers the same gold questions
with the grounded answerer under each version of ``prompts/answer`` and reports them side by side: facts kept,
sentences dropped by the verifier, fallbacks to the extractive answer, latency.

Usage::

    copilot eval grounding --json
    COPILOT_LLM_URL=http://127.0.0.1:8080/v1 copilot eval answers --dataset demo --prompt-version v1 --compare v2
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from copilot.config import Settings
from copilot.errors import ValidationError
from copilot.evals.runner import (
    DEMO_CORPUS,
    GOLD_DIR,
    STAFF_SPLIT_SALT,
    EvalQuestion,
    _build,
    _demo_questions,
    _norm,
    answer_metrics,
    load_demo_gold,
    load_gold_file,
    staff_split,
)
from copilot.retrieval.answerer import split_sentences
from copilot.retrieval.grounded import GROUNDING_PATH
from copilot.types import AccessScope, Hit


def _claim(q: EvalQuestion) -> str:
    return f"{q.question.strip().rstrip('?').strip()}: {' and '.join(q.facts)}."


def _pairs(cp: Any, questions: list[EvalQuestion]) -> list[tuple[str, str, bool]]:
    """(claim, evidence passage, supported) for every question whose evidence is retrieved."""
    rows: list[tuple[str, str, bool]] = []
    found: list[tuple[EvalQuestion, Hit]] = []
    for q in questions:
        hits = cp.search(q.question, AccessScope(groups=q.groups))[:5]
        gold = next((h for h in hits if all(_norm(f) in _norm(h.chunk.text) for f in q.facts)), None)
        if gold is None:
            continue
        found.append((q, gold))
        rows.append((_claim(q), gold.chunk.text, True))
        other = next((h for h in hits if h.chunk.doc_id != gold.chunk.doc_id
                      and not any(_norm(f) in _norm(h.chunk.text) for f in q.facts)), None)
        if other is not None:
            rows.append((_claim(q), other.chunk.text, False))
    for i, (q1, gold) in enumerate(found):  # another question's claim citing this passage
        q2 = found[(i + 1) % len(found)][0]
        if q2.gold_docs.isdisjoint(q1.gold_docs):
            rows.append((_claim(q2), gold.chunk.text, False))
    return rows


def _similarities(embedder: Any, rows: list[tuple[str, str, bool]]) -> np.ndarray:
    out = []
    for claim, passage, _ in rows:
        units = split_sentences(passage) or [passage]
        vecs = embedder.embed_documents([claim, *units])
        out.append(float(np.max(vecs[1:] @ vecs[0])))
    return np.asarray(out)


def _rates(sims: np.ndarray, labels: np.ndarray, t: float) -> dict[str, float]:
    pos, neg = sims[labels], sims[~labels]
    return {"supported_kept": round(float(np.mean(pos >= t)), 4) if len(pos) else 0.0,
            "unsupported_dropped": round(float(np.mean(neg < t)), 4) if len(neg) else 0.0}


def measure_threshold(settings: Settings, *, write: bool = True) -> dict[str, Any]:
    from copilot.ingest.sources import FolderSource
    from copilot.retrieval.grounded import Verifier

    staff = load_gold_file(GOLD_DIR / "demo_staff.jsonl")
    demo = load_demo_gold()
    with tempfile.TemporaryDirectory(prefix="copilot-grounding-") as tmp:
        cp = _build(settings, Path(tmp), "none")
        with cp:
            cp.ingest(FolderSource(DEMO_CORPUS))
            qs = [q for q in _demo_questions(cp, demo + staff) if q.answerable and q.facts]
            train_q = [q for q in qs if not q.qid.startswith("sa") or staff_split(q.qid) == "train"]
            test_q = [q for q in qs if q.qid.startswith("sa") and staff_split(q.qid) == "test"]
            train, test = _pairs(cp, train_q), _pairs(cp, test_q)
            s_train, s_test = _similarities(cp.embedder, train), _similarities(cp.embedder, test)
            y_train = np.array([r[2] for r in train])
            y_test = np.array([r[2] for r in test])
            grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
            j = []
            for t in grid:
                r = _rates(s_train, y_train, float(t))
                j.append(r["supported_kept"] + r["unsupported_dropped"] - 1)
            threshold = float(grid[int(np.argmax(j))])
            verifier = Verifier(cp.embedder, threshold=threshold)
            full = [not verifier.check(c, [1], {1: p}).supported for c, p, ok in test if not ok]
            kept = [verifier.check(c, [1], {1: p}, question=c).supported for c, p, ok in test if ok]
            report = {
                "eval": "grounding-threshold",
                "threshold": threshold,
                "rule": "argmax Youden J (supported kept + unsupported dropped - 1) on train; test only scored",
                "embedder": getattr(cp.embedder, "name", type(cp.embedder).__name__),
                "split_salt": STAFF_SPLIT_SALT,
                "train": {"pairs": len(train), "supported": int(y_train.sum()), **_rates(s_train, y_train, threshold)},
                "test": {"pairs": len(test), "supported": int(y_test.sum()), **_rates(s_test, y_test, threshold),
                         "verifier_unsupported_dropped": round(sum(full) / max(len(full), 1), 4),
                         "verifier_supported_kept": round(sum(kept) / max(len(kept), 1), 4)},
                "similarity_means": {
                    "train_supported": round(float(s_train[y_train].mean()), 4),
                    "train_unsupported": round(float(s_train[~y_train].mean()), 4),
                },
            }
    if write:
        GROUNDING_PATH.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        from copilot.retrieval.grounded import measured_threshold

        measured_threshold.cache_clear()
    return report


class _Recorder:
    """A generator that keeps its last output (the compare report shows what the verifier judged)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.last: str | None = None

    def generate(self, prompt: str, *, json_schema: Any = None) -> str:
        self.last = self.inner.generate(prompt, json_schema=json_schema)
        return self.last


def compare_prompts(
    settings: Settings, versions: list[str], *, dataset: str = "demo", limit: int | None = None, sample: int = 5
) -> dict[str, Any]:
    """The grounded answerer under each ``prompts/answer`` version, on the same questions and index."""
    from copilot.agent.models import LangChainGenerator, build_chat_model, model_label
    from copilot.ingest.sources import FolderSource
    from copilot.prompts import load_prompt
    from copilot.retrieval.answerer import ExtractiveAnswerer
    from copilot.retrieval.grounded import GroundedAnswerer, Verifier

    chat = build_chat_model(settings)
    if chat is None:
        raise ValidationError("comparing prompt versions needs a model: set COPILOT_LLM_URL", code="llm_config")
    gold = load_demo_gold() if dataset == "demo" else load_gold_file(GOLD_DIR / "demo_staff.jsonl")
    if dataset == "demo-staff":
        gold = [g for g in gold if staff_split(g["id"]) == "test"]
    gold = gold[:limit] if limit else gold
    generator = LangChainGenerator(chat, name=model_label(settings))
    report: dict[str, Any] = {"eval": "answers-prompt-compare", "dataset": dataset, "model": generator.name,
                              "versions": {}}
    with tempfile.TemporaryDirectory(prefix="copilot-prompts-") as tmp:
        cp = _build(settings, Path(tmp), "none")
        with cp:
            cp.ingest(FolderSource(DEMO_CORPUS))
            qs = _demo_questions(cp, gold)
            extractive = ExtractiveAnswerer(cp.embedder, abstain_threshold=settings.abstain_threshold)
            verifier = Verifier(cp.embedder)
            base = []
            for q in qs:
                hits = cp.search(q.question, AccessScope(groups=q.groups))
                base.append((q, extractive.answer(q.question, hits)))
            m0 = answer_metrics(base)
            report["extractive"] = {"questions": len(qs), **{k: m0[k] for k in (
                "fact_recall", "all_facts_accuracy", "citation_correct", "abstention_rate_unanswerable",
                "false_abstention_rate")}}
            for version in versions:
                recorder = _Recorder(generator)
                answerer = GroundedAnswerer(recorder, extractive, verifier, prompt=load_prompt("answer", version))
                answers, lat, dropped, sentences, fallbacks = [], [], 0, 0, 0
                samples: list[dict[str, Any]] = []
                for q in qs:
                    scope = AccessScope(groups=q.groups)
                    vec = cp.embedder.embed_query(q.question)
                    hits = cp.search(q.question, scope, query_vector=vec)
                    recorder.last = None
                    t0 = time.perf_counter()
                    a = answerer.answer(q.question, hits, query_vector=vec)
                    lat.append(time.perf_counter() - t0)
                    answers.append((q, a))
                    if recorder.last is not None and len(samples) < sample:
                        top = list(enumerate(hits[: answerer.top_passages], start=1))
                        passages = {i: h.chunk.text[: answerer.max_passage_chars] for i, h in top}
                        headers = {i: f"{h.chunk.title} — {h.chunk.section}" for i, h in top}
                        checks = verifier.verify(recorder.last, passages, q.question, headers)
                        samples.append({"id": q.qid, "generated": recorder.last[:400],
                                        "kept": a.answerer != "extractive",
                                        "problems": [list(c.reasons) for c in checks]})
                    dropped += int(a.signals.get("grounded_dropped", 0))
                    sentences += int(a.signals.get("grounded_sentences", 0))
                    fallbacks += int(a.signals.get("grounded_fallback", 0) > 0)
                lat.sort()
                m = answer_metrics(answers)
                report["versions"][f"answer/{version}"] = {
                    "questions": len(qs),
                    **{k: m[k] for k in ("fact_recall", "all_facts_accuracy", "citation_correct",
                                         "abstention_rate_unanswerable", "false_abstention_rate")},
                    "generated": sum(1 for _, a in answers if a.answerer.startswith("grounded")),
                    "fallbacks": fallbacks,
                    "sentences_generated": sentences,
                    "sentences_dropped": dropped,
                    "latency_s_p50": round(lat[len(lat) // 2], 2) if lat else None,
                    "latency_s_max": round(lat[-1], 2) if lat else None,
                    "samples": samples,
                }
    return report

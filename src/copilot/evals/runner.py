"""Evaluation runners behind ``copilot eval``: retrieval and answers (redaction lives in ``evals.redaction``).

Retrieval is scored on the passage that holds the gold evidence: Recall@5, MRR@10 and nDCG@10 for dense-only,
sparse-only and hybrid search, all three over the same index in one run. Datasets:

* ``demo`` — the demo corpus through the real pipeline (redaction included) and ``evals/gold/demo_qa.jsonl``;
  each question is asked with the groups of a user allowed to see its source;
* ``policyqa`` — ../shared/datasets/qa_policyqa/dev.json, one passage per policy segment;
* ``covidqa`` — ../shared/datasets/qa_covidqa, long articles chunked by our chunker; gold = chunks of the right
  article that contain the answer text (found by string search: ~234 offsets in the file are off by one);
* ``--file PATH`` — any SQuAD-format file, like policyqa.

Public datasets are indexed without redaction (they hold no PHI and we measure retrieval, not redaction).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

from copilot.config import Settings
from copilot.errors import ValidationError
from copilot.types import AccessScope, DocumentRef, Hit, SearchMode, SearchRequest

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(__file__).resolve().parents[4] / "shared" / "datasets"
GOLD_DIR = REPO_ROOT / "evals" / "gold"
DEMO_CORPUS = Path(__file__).resolve().parents[1] / "demo" / "corpus"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class EvalQuestion:
    qid: str
    question: str
    gold_docs: set[str] = field(default_factory=set)  # doc ids that hold the answer
    answer: str = ""  # answer text: when set, the hit's chunk must also contain it
    groups: tuple[str, ...] = ()
    answerable: bool = True
    facts: tuple[str, ...] = ()  # answerable: what a correct answer contains; restricted: what it must not
    kinds: tuple[str, ...] = ()
    restricted_docs: set[str] = field(default_factory=set)  # the documents a restricted question must not reach


class TextSource:
    """An in-memory :class:`~copilot.protocols.Source` of plain-text documents (eval and test corpora)."""

    def __init__(self, name: str, docs: Sequence[tuple[str, str, str]], acl: tuple[str, ...] = ("eval",)) -> None:
        self.name = name
        self._docs = {doc_id: (title, text) for doc_id, title, text in docs}
        self._acl = acl

    def list_documents(self) -> Iterator[DocumentRef]:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        for doc_id, (title, text) in self._docs.items():
            data = text.encode()
            yield DocumentRef(
                doc_id=doc_id,
                title=title,
                uri=f"mem://{doc_id}",
                source_url=f"mem://{doc_id}",
                mime_type="text/plain",
                checksum=sha256(data).hexdigest(),
                size=len(data),
                modified=now,
                doc_type="eval",
                acl_groups=self._acl,
            )

    def read(self, ref: DocumentRef) -> bytes:
        return self._docs[ref.doc_id][1].encode()


# -- datasets ---------------------------------------------------------------------------------------------------


def load_squad(path: Path, limit: int | None) -> tuple[list[tuple[str, str, str]], list[EvalQuestion]]:
    data = json.loads(path.read_text())["data"]
    docs: list[tuple[str, str, str]] = []
    questions: list[EvalQuestion] = []
    for a, article in enumerate(data):
        for p, para in enumerate(article["paragraphs"]):
            doc_id = f"sq-{a}-{p}"
            docs.append((doc_id, str(article.get("title", doc_id)), para["context"]))
            for qa in para["qas"]:
                answers = qa.get("answers") or []
                questions.append(
                    EvalQuestion(
                        qid=str(qa["id"]),
                        question=qa["question"],
                        gold_docs={doc_id},
                        answer=answers[0]["text"] if answers else "",
                    )
                )
    return docs, questions[:limit] if limit else questions


def load_covidqa(path: Path, limit: int | None) -> tuple[list[tuple[str, str, str]], list[EvalQuestion]]:
    data = json.loads(path.read_text())["data"]
    docs: list[tuple[str, str, str]] = []
    questions: list[EvalQuestion] = []
    for a, article in enumerate(data):
        for para in article["paragraphs"]:
            doc_id = f"covid-{a}"
            docs.append((doc_id, str(article.get("title") or doc_id), para["context"]))
            for qa in para["qas"]:
                answers = qa.get("answers") or []
                if answers and answers[0]["text"].strip():
                    questions.append(
                        EvalQuestion(
                            qid=str(qa["id"]),
                            question=qa["question"],
                            gold_docs={doc_id},
                            answer=answers[0]["text"],
                        )
                    )
    return docs, questions[:limit] if limit else questions


def load_demo_gold(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or GOLD_DIR / "demo_qa.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- metrics ----------------------------------------------------------------------------------------------------


def relevance(hits: Sequence[Hit], q: EvalQuestion) -> list[bool]:
    """Which hits hold the gold evidence: right document and, when known, a chunk containing the answer."""
    answer = _norm(q.answer)[:200]
    out = []
    for h in hits:
        ok = h.chunk.doc_id in q.gold_docs
        if ok and answer and len(answer) >= 3:
            # chunk boundaries may cut a long answer: accept a chunk that holds its first 60 characters
            ok = answer[:60] in _norm(h.chunk.text)
        out.append(ok)
    return out


def score_ranking(rel: Sequence[bool], n_relevant: int) -> dict[str, float]:
    recall5 = 1.0 if any(rel[:5]) else 0.0
    mrr = next((1.0 / (i + 1) for i, r in enumerate(rel[:10]) if r), 0.0)
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(rel[:10]) if r)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(max(n_relevant, 1), 10)))
    return {"recall@5": recall5, "mrr@10": mrr, "ndcg@10": dcg / ideal if ideal else 0.0}


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in rows[0]}


# -- runners ----------------------------------------------------------------------------------------------------


def _eval_settings(base: Settings, tmp: Path, *, redaction: str) -> Settings:
    update = {
        "data_dir": tmp,
        "database_url": None,
        "qdrant_url": None,
        "redaction": redaction,
        "model_cache_dir": base.resolved_model_cache_dir.resolve(),  # reuse the exported ONNX model
    }
    return base.model_copy(update=update)


def _count_relevant(chunks_by_doc: dict[str, list[str]], q: EvalQuestion) -> int:
    """How many indexed chunks hold the evidence (for the nDCG ideal)."""
    answer = _norm(q.answer)[:60]
    n = 0
    for doc_id in q.gold_docs:
        chunks = chunks_by_doc.get(doc_id, [])
        n += sum(1 for text in chunks if not answer or answer in _norm(text))
    return n


def retrieval_eval(cp: Any, questions: Sequence[EvalQuestion], *, k: int = 10) -> dict[str, Any]:
    """Run every question in all three modes over one index and average the metrics."""
    chunks_by_doc: dict[str, list[str]] = {}
    for chunk in cp.index.iter_chunks():
        chunks_by_doc.setdefault(chunk.doc_id, []).append(chunk.text)
    per_mode: dict[str, list[dict[str, float]]] = {m.value: [] for m in SearchMode}
    latency: list[float] = []
    skipped = 0
    for q in questions:
        n_rel = _count_relevant(chunks_by_doc, q)
        if n_rel == 0:
            skipped += 1  # the evidence was cut across chunks or lost in parsing: not a retrieval question
            continue
        t0 = time.perf_counter()
        dense = cp.embedder.embed_query(q.question).tolist()
        sparse = cp.sparse.embed_query(q.question)
        latency.append(time.perf_counter() - t0)
        scope = AccessScope(groups=q.groups) if q.groups else AccessScope.admin()
        for mode in SearchMode:
            req = SearchRequest(
                scope=scope,
                dense=dense,
                sparse=sparse,
                mode=mode,
                limit=k,
                prefetch_limit=cp.settings.prefetch_limit,
            )
            hits = cp.index.search(req)
            per_mode[mode.value].append(score_ranking(relevance(hits, q), n_rel))
    return {
        "questions": len(questions) - skipped,
        "skipped_no_evidence": skipped,
        "chunks": sum(len(v) for v in chunks_by_doc.values()),
        **{mode: _mean(rows) for mode, rows in per_mode.items()},
    }


def _demo_questions(cp: Any, gold: list[dict[str, Any]], root: Path = DEMO_CORPUS) -> list[EvalQuestion]:
    by_path = {}
    for entry in cp.manifest.all().values():
        by_path[entry.uri] = entry.doc_id

    def doc_ids(rel: str | None) -> set[str]:
        if not rel:
            return set()
        target = str((root / rel).resolve())
        return {d for uri, d in by_path.items() if uri == target or uri.endswith("/" + rel)}

    out = []
    for g in gold:
        docs = doc_ids(g.get("doc"))
        kinds = g.get("kind") or ()
        out.append(
            EvalQuestion(
                qid=g["id"],
                question=g["question"],
                gold_docs=docs,
                # the evidence chunk is the one holding the most specific answer fact
                answer=max(g.get("answer_facts") or [""], key=len),
                groups=tuple(g.get("groups") or ("all_staff",)),
                answerable=bool(g.get("answerable", True)),
                facts=tuple(g.get("answer_facts") or ()),
                kinds=tuple([kinds] if isinstance(kinds, str) else kinds),
                restricted_docs=doc_ids(g.get("restricted_doc")),
            )
        )
    return out


def _demo_sites(settings: Settings, root: Path = DEMO_CORPUS) -> Settings:
    """The demo corpus is the demo network's: its redactor knows the network's sites, as ``serve --demo``'s does."""
    if root != DEMO_CORPUS or settings.site_names:
        return settings
    from copilot.demo.network import SITE_NAMES

    return settings.model_copy(update={"site_names": SITE_NAMES})


def _build(settings: Settings, tmp: Path, redaction: str) -> Any:
    from copilot.app import build_copilot

    return build_copilot(_eval_settings(settings, tmp, redaction=redaction))


def run_retrieval(
    dataset: str, settings: Settings, *, file: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    from copilot.ingest.sources import FolderSource

    with tempfile.TemporaryDirectory(prefix="copilot-eval-") as tmp:
        t0 = time.perf_counter()
        if dataset == "demo" and not file:
            cp = _build(_demo_sites(settings), Path(tmp), settings.redaction)
            with cp:
                report = cp.ingest(FolderSource(DEMO_CORPUS))
                qs = [q for q in _demo_questions(cp, load_demo_gold()) if q.answerable and q.gold_docs]
                qs = qs[:limit] if limit else qs
                ingest_s = time.perf_counter() - t0
                result = retrieval_eval(cp, qs)
        else:
            if file:
                docs, qs = load_squad(Path(file), limit)
            elif dataset == "policyqa":
                docs, qs = load_squad(SHARED / "qa_policyqa" / "dev.json", limit)
            elif dataset == "covidqa":
                docs, qs = load_covidqa(SHARED / "qa_covidqa" / "200423_covidQA.json", limit)
            else:
                raise ValueError(f"unknown dataset {dataset!r}")
            cp = _build(settings, Path(tmp), "none")
            with cp:
                report = cp.ingest(TextSource(dataset, docs, acl=("eval",)))
                ingest_s = time.perf_counter() - t0
                result = retrieval_eval(cp, [EvalQuestion(**{**q.__dict__, "groups": ("eval",)}) for q in qs])
    return {
        "eval": "retrieval",
        "dataset": file or dataset,
        "embedding_backend": settings.embedding_backend,
        "documents": report.indexed,
        "ingest_seconds": round(ingest_s, 1),
        **result,
    }


STAFF_SPLIT_SALT = "copilot-demo-staff-split-v1"
GOLD_FIELDS = ("id", "question", "answer_facts", "answerable")


def staff_split(qid: str) -> str:
    """``test`` for a third of the questions, ``train`` for the rest: fixed by a salted hash of the id before
    anyone looked at an answer. Nothing (threshold, weight, rule, list entry) may be fitted on ``test``."""
    return "test" if sha256(f"{STAFF_SPLIT_SALT}:{qid}".encode()).digest()[0] % 3 == 0 else "train"


STAFF2_SPLIT_SALT = "copilot-demo-staff2-split-v1"


def staff2_split(qid: str) -> str:
    """``test`` or ``dev`` for a question of ``demo_staff2.jsonl``, half each by a salted hash of the id. The file
    was only ever scored whole, as aggregates, until its cut (2026-12-06, issue 11, seventh round): from then on
    ``dev`` is read and developed on, ``test`` only scored."""
    return "test" if sha256(f"{STAFF2_SPLIT_SALT}:{qid}".encode()).digest()[0] & 1 else "dev"


class GoldFileError(ValidationError):
    """A gold file line that cannot be scored (names the line, never quotes document text)."""

    code = "gold_file"


def load_gold_file(path: Path) -> list[dict[str, Any]]:
    """Gold lines in the ``demo_qa.jsonl`` format (id, question, answer_facts, doc, groups, answerable; optional
    ``kind`` list and ``restricted_doc``). A malformed line is a :class:`GoldFileError` naming it."""
    if not path.exists():
        raise GoldFileError(f"gold file not found: {path}")
    out, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldFileError(f"{path.name} line {n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise GoldFileError(f"{path.name} line {n}: not a JSON object")
        if missing := [f for f in GOLD_FIELDS if f not in row]:
            raise GoldFileError(f"{path.name} line {n}: missing field(s) {', '.join(missing)}")
        if row["id"] in seen:
            raise GoldFileError(f"{path.name} line {n}: duplicate id {row['id']!r}")
        if row["answerable"] and not row.get("doc"):
            raise GoldFileError(f"{path.name} line {n}: an answerable question needs its 'doc'")
        seen.add(row["id"])
        out.append(row)
    return out


def _abstained(a: Any, threshold: float | None) -> bool:
    return bool(a.abstained) if threshold is None else a.confidence < threshold or not a.citations


def _has_all_facts(q: EvalQuestion, a: Any) -> bool:
    text = _norm(a.text)
    return all(_norm(f) in text for f in q.facts)


def _leaked(q: EvalQuestion, a: Any) -> bool:
    """A restricted question's answer names a fact of, or cites, the document the asker may not open."""
    if not q.restricted_docs or a.abstained:
        return False
    text = _norm(a.text)
    return any(_norm(f) in text for f in q.facts) or any(c.doc_id in q.restricted_docs for c in a.citations)


def answer_metrics(answers: list[tuple[EvalQuestion, Any]], threshold: float | None = None) -> dict[str, Any]:
    answerable = [(q, a) for q, a in answers if q.answerable]
    unanswerable = [(q, a) for q, a in answers if not q.answerable]

    fact_scores, all_facts, cited_ok = [], [], []
    for q, a in answerable:
        if _abstained(a, threshold):
            fact_scores.append(0.0)
            all_facts.append(0.0)
            cited_ok.append(0.0)
            continue
        text = _norm(a.text)
        hits = [_norm(f) in text for f in q.facts] or [True]
        fact_scores.append(sum(hits) / len(hits))
        all_facts.append(1.0 if all(hits) else 0.0)
        cited_ok.append(1.0 if any(c.doc_id in q.gold_docs for c in a.citations) else 0.0)
    false_abstain = sum(1 for _, a in answerable if _abstained(a, threshold))
    correct_abstain = sum(1 for _, a in unanswerable if _abstained(a, threshold))
    n = max(len(answerable), 1)
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "fact_recall": round(sum(fact_scores) / n, 4),
        "all_facts_accuracy": round(sum(all_facts) / n, 4),
        "citation_correct": round(sum(cited_ok) / n, 4),
        "abstained_on_unanswerable": correct_abstain,
        "abstention_rate_unanswerable": round(correct_abstain / max(len(unanswerable), 1), 4),
        "false_abstention_rate": round(false_abstain / n, 4),
        "restricted": sum(1 for q, _ in answers if q.restricted_docs),
        "restricted_leaks": sum(1 for q, a in answers if _leaked(q, a)),
    }


def per_kind(answers: list[tuple[EvalQuestion, Any]]) -> dict[str, dict[str, Any]]:
    """One row per question kind (table, typo, shorthand, synonym, multi_part, unanswerable, restricted...)."""
    kinds = sorted({k for q, _ in answers for k in q.kinds})
    rows: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        sub = [(q, a) for q, a in answers if kind in q.kinds]
        ok = [(q, a) for q, a in sub if q.answerable]
        row: dict[str, Any] = {"questions": len(sub)}
        if ok:
            row["all_facts"] = sum(1 for q, a in ok if not a.abstained and _has_all_facts(q, a))
            row["all_facts_accuracy"] = round(row["all_facts"] / len(ok), 4)
            row["false_abstention_rate"] = round(sum(1 for _, a in ok if a.abstained) / len(ok), 4)
        if len(ok) < len(sub):
            row["abstained_on_unanswerable"] = sum(1 for q, a in sub if not q.answerable and a.abstained)
            row["restricted_leaks"] = sum(1 for q, a in sub if _leaked(q, a))
        rows[kind] = row
    return rows


def _failures(answers: list[tuple[EvalQuestion, Any]], limit: int = 60) -> list[dict[str, Any]]:
    return [
        {
            "id": q.qid,
            "answerable": q.answerable,
            "abstained": a.abstained,
            "confidence": round(a.confidence, 3),
            "answer": a.text[:160],
        }
        for q, a in answers
        if (q.answerable and (a.abstained or not _has_all_facts(q, a))) or (not q.answerable and not a.abstained)
    ][:limit]


def _part_report(answers: list[tuple[EvalQuestion, Any]], *, failures: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"questions": len(answers), **answer_metrics(answers), "per_kind": per_kind(answers)}
    if failures:
        out["failures"] = _failures(answers)
    return out


def _ask_all(
    settings: Settings, root: Path, gold: list[dict[str, Any]]
) -> tuple[list[tuple[EvalQuestion, Any]], list[float], float]:
    """Ingest ``root`` into a fresh index and ask every gold question as its asker; sorted latencies."""
    from copilot.ingest.sources import FolderSource

    with tempfile.TemporaryDirectory(prefix="copilot-eval-") as tmp:
        cp = _build(_demo_sites(settings, root), Path(tmp), settings.redaction)
        with cp:
            cp.ingest(FolderSource(root))
            qs = _demo_questions(cp, gold, root)
            answers, lat = [], []
            for q in qs:
                t0 = time.perf_counter()
                answers.append((q, cp.ask(q.question, AccessScope(groups=q.groups))))
                lat.append(time.perf_counter() - t0)
            threshold = float(getattr(cp.answerer, "threshold", settings.abstain_threshold or 0.0))
    lat.sort()
    return answers, lat, threshold


def calibrate_answers(settings: Settings) -> dict[str, Any]:
    """Refit the answerer's abstention calibration on training data only — the ``train`` split of demo-staff
    and the whole demo set — and write it where the answerer loads it. The ``test`` split is never read."""
    from copilot.retrieval.calibration import DEFAULT_PATH, Calibration

    staff = [g for g in load_gold_file(GOLD_DIR / "demo_staff.jsonl") if staff_split(g["id"]) == "train"]
    demo = load_demo_gold()
    answers, _, _ = _ask_all(settings, DEMO_CORPUS, staff + demo)
    rows = [(a.signals, q.answerable) for q, a in answers]
    cal = Calibration.fit(rows, meta={
        "data": f"demo-staff train split ({len(staff)}) + demo_qa ({len(demo)}); demo-staff test never read",
        "split_salt": STAFF_SPLIT_SALT,
    })
    cal.save(DEFAULT_PATH)
    return {"eval": "answers-calibration", "path": str(DEFAULT_PATH), "features": list(cal.features),
            "coef": [round(c, 4) for c in cal.coef], "intercept": round(cal.intercept, 4),
            "threshold": cal.threshold, **cal.meta}


def run_answers(
    dataset: str,
    settings: Settings,
    *,
    file: str | None = None,
    corpus: str | None = None,
    limit: int | None = None,
    split: str | None = None,
) -> dict[str, Any]:
    """Answer quality on a gold set, through the real pipeline (ingest with redaction, retrieval, answerer).

    ``dataset``: ``demo`` (evals/gold/demo_qa.jsonl: the set the answerer's first weights were tuned on),
    ``demo-staff`` (evals/gold/demo_staff.jsonl, written in staff voice without looking at the answers; split
    by :func:`staff_split` into ``test`` — reported first, never fitted on — and ``train``). ``file``: any gold
    file in the same format, over ``corpus`` (a folder; the demo corpus by default). ``split`` (demo-staff only):
    ask only that part's questions — development runs ``train`` and never scores ``test`` by accident.
    """
    if file:
        gold, name, root = load_gold_file(Path(file)), Path(file).name, Path(corpus) if corpus else DEMO_CORPUS
    elif dataset == "demo":
        gold, name, root = load_demo_gold(), "demo", DEMO_CORPUS
    elif dataset == "demo-staff":
        gold, name, root = load_gold_file(GOLD_DIR / "demo_staff.jsonl"), "demo-staff", DEMO_CORPUS
    elif dataset == "demo-staff2":
        gold, name, root = load_gold_file(GOLD_DIR / "demo_staff2.jsonl"), "demo-staff2", DEMO_CORPUS
    else:
        raise ValueError(f"unknown answers dataset {dataset!r}: demo, demo-staff, demo-staff2 or --file X.jsonl")
    splitter = {"demo-staff": staff_split, "demo-staff2": staff2_split}.get(name)
    parts = {"demo-staff": ("test", "train"), "demo-staff2": ("test", "dev")}.get(name, ())
    if split is not None:
        if splitter is None or split not in parts:
            raise ValueError("--split train|test applies to --dataset demo-staff, dev|test to demo-staff2")
        gold = [g for g in gold if splitter(g["id"]) == split]
    gold = gold[:limit] if limit else gold
    answers, lat, threshold = _ask_all(settings, root, gold)
    report: dict[str, Any] = {
        "eval": "answers",
        "dataset": name,
        "threshold": threshold,
        "latency_ms_p50": round(1000 * lat[len(lat) // 2], 1) if lat else None,
    }
    if splitter is not None:
        report["split"] = (
            "salted hash of the id (a third test): nothing is fitted on 'test'"
            if name == "demo-staff"
            else "salted hash of the id (half test), cut after the file had been scored whole: 'dev' is read, "
            "'test' only scored"
        )
        for part in parts if split is None else (split,):
            sub = [(q, a) for q, a in answers if splitter(q.qid) == part]
            report[part] = _part_report(sub, failures=part != "test")
        report["all"] = answer_metrics(answers)
        return report
    report.update(_part_report(answers, failures=True))
    # calibration: the same answers under other abstention thresholds (confidence is recorded per answer)
    sweep = {f"{t:.2f}": answer_metrics(answers, t) for t in (0.40, 0.45, 0.48, 0.50, 0.52, 0.54, 0.56, 0.60)}
    report["threshold_sweep"] = {
        t: {k: m[k] for k in ("all_facts_accuracy", "abstention_rate_unanswerable", "false_abstention_rate")}
        for t, m in sweep.items()
    }
    return report


def run(kind: str, args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    if kind == "retrieval":
        return run_retrieval(args.dataset, settings, file=args.file, limit=args.limit)
    if kind == "answers" and getattr(args, "calibrate", False):
        return calibrate_answers(settings)
    if kind == "answers" and (getattr(args, "prompt_version", None) or getattr(args, "compare", None)):
        from copilot.evals import grounding

        versions = [v for v in (args.prompt_version or "v1", args.compare) if v]
        return grounding.compare_prompts(settings, versions, dataset=args.dataset, limit=args.limit)
    if kind == "grounding":
        from copilot.evals import grounding

        return grounding.measure_threshold(settings)
    if kind == "answers":
        return run_answers(
            args.dataset, settings, file=args.file, corpus=getattr(args, "corpus", None), limit=args.limit,
            split=getattr(args, "split", None),
        )
    if kind == "fusion":
        from copilot.evals import fusion

        return fusion.run(settings, limit=args.limit)
    if kind == "parts":
        from copilot.evals import parts

        return parts.run(split=getattr(args, "split", None))
    if kind == "tables":
        from copilot.evals import tables

        return tables.run()
    if kind == "redaction":
        from copilot.evals import redaction

        return redaction.run(dataset=args.dataset, limit=args.limit, spacy_model=settings.spacy_model,
                             part=getattr(args, "split", None))
    if kind == "summaries":
        from copilot.evals import summaries

        return summaries.run(seed=getattr(args, "seed", None), dev=getattr(args, "dev", False))
    if kind == "agent":
        from copilot.evals import agent

        return agent.run(settings, file=args.file, limit=args.limit, leave_out=bool(getattr(args, "leave_out", False)))
    if kind == "triage":
        from copilot.evals import triage

        return triage.run(
            settings,
            dataset=args.dataset,
            train=getattr(args, "train", None),
            test=getattr(args, "test", None),
            targets=getattr(args, "targets", None),
            limit=args.limit,
        )
    raise ValueError(kind)

"""Triage speed on the 2-core machine: one ticket at a time, a batch of 1,000, training on 5,000, peak memory.

    .venv/bin/python bench/triage.py --json            # ~6 min
    .venv/bin/python bench/triage.py --json --runs 5

The full product path (``TriageService.suggest``): HTML to text, Presidio redaction, the ONNX int8 embedder,
every target's calibrated classifier, the critical-equipment rule and the similar-ticket search over the
training history. No cache sits on that path (the embedder's ``embed_documents`` and the redactor keep none),
and no ticket repeats within a configuration: the single-ticket figures use distinct Endava tickets (real text,
varied length; the split's ``test`` part), the batch another 1,000 distinct tickets.

* ``single``: median over runs of each run's p50 / p95 latency, one ticket per call, redaction and embedding
  included; ``stages`` splits one pass into redaction, embedding and the model;
* ``baseline_tfidf_single``: the issue's TF-IDF + logistic-regression baseline predicting the same tickets one
  at a time without redaction or embeddings (what a lexical-only model costs), beside it;
* ``batch``: 1,000 tickets in one call (batched redaction and embedding), tickets per second;
* ``train_5000``: ``TriageService.train`` on 5,000 demo-network tickets (category and priority targets, the
  default 4-fold selection and calibration), seconds for encoding and for fitting.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, latency_summary, log, machine, peak_rss_mb
from copilot.config import get_settings
from copilot.db import make_engine, migrate
from copilot.evals.triage import ENDAVA, endava_split, read_csv
from copilot.ingest.redaction import build_redactor
from copilot.retrieval.embedder import build_embedder
from copilot.triage.model import TrainConfig
from copilot.triage.service import ModelRegistry, TriageService
from copilot.triage.store import TriageStore
from copilot.triage.text import TicketEncoder, ticket_text


def _demo_tickets(n: int) -> tuple[list[tuple[str, str]], dict[str, list[str | None]]]:
    from copilot.demo.network import build_demo_network
    from copilot.odoo_double import Database

    net = build_demo_network(Database(version="19.0"), tickets=n)
    db = net.db
    types = db.table("helpdesk.ticket.type")
    teams = db.table("helpdesk.team")
    rows = list(db.table("helpdesk.ticket").values())
    pairs = [(r["name"], r["description"]) for r in rows]
    labels: dict[str, list[str | None]] = {
        "category": [types[r["ticket_type_id"]]["name"] for r in rows],
        "priority": [r["priority"] for r in rows],
        "team": [teams[r["team_id"]]["name"] for r in rows],
    }
    return pairs, labels


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--single", type=int, default=200, help="distinct tickets per single-ticket run")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    settings = get_settings()
    embedder, redactor = build_embedder(settings), build_redactor(settings)
    embedder.warm_up()
    redactor.warm_up()
    encoder = TicketEncoder(redactor, embedder)
    rows = read_csv(ENDAVA)
    test = [(r["title"], r["body"]) for r in rows if endava_split(r) == "test"]
    dev = [(r["title"], r["body"]) for r in rows if endava_split(r) == "dev"]
    out: dict[str, Any] = {"machine": machine(), "settings": {"redaction": settings.redaction,
                                                             "embedding_backend": settings.embedding_backend}}
    with tempfile.TemporaryDirectory(prefix="copilot-bench-triage-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/c.db")
        migrate(engine)
        svc = TriageService(TriageStore(engine), encoder, ModelRegistry(Path(tmp) / "triage"),
                            config=TrainConfig())
        log("building 5,000 demo tickets")
        pairs, labels = _demo_tickets(5000)
        t0 = time.perf_counter()
        card = svc.train(pairs, labels, source="bench", window="demo")
        train_total = time.perf_counter() - t0
        out["train_5000"] = {"tickets": len(pairs), "seconds_total": round(train_total, 1),
                             "seconds_reported_by_card": card["seconds"], "peak_rss_mb": peak_rss_mb()}
        log(f"trained on 5,000 in {train_total:.1f}s")

        # the model used for timing: the demo one just trained (two targets + derived team + similar search)
        singles: dict[str, list[dict[str, float]]] = {"copilot": [], "baseline_tfidf": []}
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vec = TfidfVectorizer(ngram_range=(1, 2))  # the baseline recipe of copilot.evals.triage
        x = vec.fit_transform([ticket_text(s, b) for s, b in pairs])
        base = LogisticRegression(max_iter=1000).fit(x, labels["category"])
        for run in range(args.runs):
            chunk = test[run * args.single : (run + 1) * args.single] or test[: args.single]
            lat = []
            for s, b in chunk:
                t = time.perf_counter()
                svc.suggest([(s, b)])
                lat.append(time.perf_counter() - t)
            singles["copilot"].append(latency_summary(lat))
            lat = []
            for s, b in chunk:
                t = time.perf_counter()
                base.predict_proba(vec.transform([ticket_text(s, b)]))
                lat.append(time.perf_counter() - t)
            singles["baseline_tfidf"].append(latency_summary(lat))
            log(f"run {run + 1}: p95 {singles['copilot'][-1]['p95_ms']} ms")
        out["single"] = {k: {"p50_ms": statistics.median(r["p50_ms"] for r in v),
                             "p95_ms": statistics.median(r["p95_ms"] for r in v),
                             "runs": len(v), "tickets_per_run": v[0]["n"]} for k, v in singles.items()}
        out["single"]["ratio_p95_copilot_to_baseline"] = round(
            out["single"]["copilot"]["p95_ms"] / out["single"]["baseline_tfidf"]["p95_ms"], 1)
        stages: dict[str, list[float]] = {"redact": [], "embed": [], "model": []}
        _, model, _ = svc.models.load()
        for s, b in test[-100:]:
            text = ticket_text(s, b)
            t = time.perf_counter()
            red = redactor.redact_batch([text])[0].text
            stages["redact"].append(time.perf_counter() - t)
            t = time.perf_counter()
            v = embedder.embed_documents([red])
            stages["embed"].append(time.perf_counter() - t)
            t = time.perf_counter()
            model.predict([red], v)
            stages["model"].append(time.perf_counter() - t)
        out["single"]["stages_p50_ms"] = {k: round(statistics.median(v) * 1000, 2) for k, v in stages.items()}

        batch = dev[:1000]
        rates = []
        for _ in range(args.runs):
            t = time.perf_counter()
            svc.suggest(batch)
            rates.append(len(batch) / (time.perf_counter() - t))
        out["batch"] = {"tickets": len(batch), "tickets_per_s": round(statistics.median(rates), 1),
                        "runs": len(rates), "note": "the same 1,000 tickets each run; no cache on the path"}
        out["peak_rss_mb"] = peak_rss_mb()
    emit(out, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

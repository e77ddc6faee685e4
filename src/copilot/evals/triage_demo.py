"""Triage on the demo network's helpdesk history: 1,500 tickets read from the Odoo protocol double through the
real client and :class:`~copilot.odoo.helpdesk.HelpdeskReader`, with the generator's ground truth
(``evals/gold/demo_tickets_truth.jsonl``: the category each ticket was written as, the label stored in Odoo, and
whether it was deliberately mislabelled (~5%) or mentions two problems (~7%)).

Every ticket is predicted by a model that never saw it (5-fold cross-fitting by a hash of the ticket id, each
fold's model trained with its own inner cross-validation exactly as ``copilot triage train`` does). Reported:

- ``clean_accuracy``: on tickets neither mislabelled nor ambiguous, the predicted category against the category
  the text was written as;
- ``mislabelled``: how many of the known mislabelled tickets the model flags as disagreeing with their stored label
  (confident learning, Northcutt et al. 2021: flagged when another class's probability reaches that class's
  average self-confidence), and how many clean tickets it flags wrongly;
- per site and per requester department (the bias section of the model card), ECE, auto-apply coverage and
  precision, and the priority target.

Usage::

    copilot eval triage --dataset demo --json
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from copilot.triage.calibration import expected_calibration_error
from copilot.triage.model import TrainConfig, train_model
from copilot.triage.text import TicketEncoder

GOLD = Path(__file__).resolve().parents[3] / "evals" / "gold" / "demo_tickets_truth.jsonl"
TARGETS = {"category": "ticket_type_id", "priority": "priority"}
FOLDS = 5


def fold_of(ticket_id: int) -> int:
    return hashlib.sha256(f"copilot-demo-triage-v1|{ticket_id}".encode()).digest()[0] % FOLDS


def confident_learning_flags(probs: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Tickets whose stored label is doubtful: some other class ``j`` has ``p_j >= t_j``, where ``t_j`` is the
    mean probability of ``j`` over tickets labelled ``j`` (the per-class self-confidence threshold)."""
    n_classes = probs.shape[1]
    t = np.array([probs[given == j, j].mean() if (given == j).any() else 1.0 for j in range(n_classes)])
    above = probs >= t[None, :]
    above[np.arange(len(given)), given] = False
    return np.asarray(above.any(axis=1))


def _rate(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def run_demo(settings: Any, *, tickets: int = 1500) -> dict[str, Any]:
    from copilot.demo.network import BOT_KEY, BOT_LOGIN, build_demo_network
    from copilot.ingest.redaction import build_redactor
    from copilot.odoo.client import OdooClient, OdooConfig
    from copilot.odoo.helpdesk import HelpdeskReader
    from copilot.odoo_double import Database, OdooDouble
    from copilot.retrieval.embedder import build_embedder

    truth = {int(r["ticket_id"]): r for r in map(json.loads, GOLD.read_text().splitlines())}
    db = Database(version="19.0")
    build_demo_network(db, tickets=tickets)
    with OdooDouble(db) as double:
        cfg = OdooConfig(url=double.url, db=db.name, login=BOT_LOGIN, api_key=BOT_KEY, transport="auto")
        client = OdooClient(cfg).connect()
        rows = list(HelpdeskReader(client).tickets())
    embedder = build_embedder(settings)
    redactor = build_redactor(settings)
    redactor.warm_up()
    t0 = time.perf_counter()
    enc = TicketEncoder(redactor, embedder).encode([(t.subject, t.body) for t in rows])
    t_encode = time.perf_counter() - t0
    n = len(rows)
    folds = np.array([fold_of(t.id) for t in rows])
    labels = {name: [t.labels.get(field) for t in rows] for name, field in TARGETS.items()}
    all_labels = {name: sorted({v for v in vals if v}) for name, vals in labels.items()}
    probs = {name: np.zeros((n, len(all_labels[name]))) for name in TARGETS}
    auto = {name: np.zeros(n, dtype=bool) for name in TARGETS}
    t0 = time.perf_counter()
    for k in range(FOLDS):
        tr, te = np.nonzero(folds != k)[0], np.nonzero(folds == k)[0]
        model = train_model(
            [enc.texts[i] for i in tr],
            enc.vectors[tr],
            {name: [labels[name][i] for i in tr] for name in TARGETS},
            embedder_id=getattr(embedder, "name", "embedder"),
            config=TrainConfig(),
        )
        for name in TARGETS:
            tm = model.targets[name]
            p = tm.proba([enc.texts[i] for i in te], enc.vectors[te])
            cols = np.array([all_labels[name].index(lab) for lab in tm.labels], dtype=np.int64)
            probs[name][np.ix_(te, cols)] = p
            thr = np.array([tm.threshold_of(lab) if tm.threshold_of(lab) is not None else np.inf for lab in tm.labels])
            auto[name][te] = p.max(1) >= thr[p.argmax(1)]
    t_train = time.perf_counter() - t0

    cat_labels = all_labels["category"]
    pred_cat = [cat_labels[i] for i in probs["category"].argmax(1)]
    given = np.array([cat_labels.index(v) if v in cat_labels else -1 for v in labels["category"]])
    flags = confident_learning_flags(probs["category"], given)
    clean, mislabelled, rows_truth = [], [], []
    by_site: dict[str, list[bool]] = defaultdict(list)
    by_dept: dict[str, list[bool]] = defaultdict(list)
    for i, t in enumerate(rows):
        tr_ = truth.get(t.id)
        if tr_ is None:
            continue
        rows_truth.append(i)
        ok = pred_cat[i] == tr_["generated_category"]
        if tr_["mislabelled"]:
            mislabelled.append(bool(flags[i]))
        elif not tr_["ambiguous"]:
            clean.append(i)
            by_site[tr_["site"]].append(ok)
            by_dept[tr_["department"]].append(ok)
    clean_ok = [pred_cat[i] == truth[rows[i].id]["generated_category"] for i in clean]
    cat_conf = probs["category"].max(1)
    cat_correct_given = probs["category"].argmax(1) == given
    pr_labels = all_labels["priority"]
    pr_given = np.array([pr_labels.index(v) if v in pr_labels else -1 for v in labels["priority"]])
    pr_correct = probs["priority"].argmax(1) == pr_given
    a_cat = auto["category"]
    return {
        "tickets": n,
        "targets": {"category": TARGETS["category"], "priority": TARGETS["priority"]},
        "method": f"{FOLDS}-fold cross-fitting by ticket id; each ticket predicted by a model that never saw it",
        "seconds": {"encode": round(t_encode, 1), "train_all_folds": round(t_train, 1)},
        "category": {
            "clean_tickets": len(clean),
            "clean_accuracy": _rate(clean_ok),
            "accuracy_vs_stored_label": round(float(cat_correct_given.mean()), 4),
            "ece_vs_stored_label": round(expected_calibration_error(cat_conf, cat_correct_given), 4),
            "auto_apply": {
                "coverage": round(float(a_cat.mean()), 4),
                "precision_vs_truth": _rate(
                    [pred_cat[i] == truth[rows[i].id]["generated_category"] for i in np.nonzero(a_cat)[0]
                     if rows[i].id in truth]
                ),
            },
            "mislabelled": {
                "known": len(mislabelled),
                "flagged": int(sum(mislabelled)),
                "flagged_share": _rate(mislabelled),
                "clean_flagged": int(sum(bool(flags[i]) for i in clean)),
                "clean_flag_rate": _rate([bool(flags[i]) for i in clean]),
            },
            "by_site": {k: {"n": len(v), "accuracy": _rate(v)} for k, v in sorted(by_site.items())},
            "by_department": {k: {"n": len(v), "accuracy": _rate(v)} for k, v in sorted(by_dept.items())},
        },
        "priority": {
            "accuracy_vs_stored_label": round(float(pr_correct.mean()), 4),
            "ece": round(expected_calibration_error(probs["priority"].max(1), pr_correct), 4),
            "auto_apply_coverage": round(float(auto["priority"].mean()), 4),
        },
        "redaction": settings.redaction,
    }

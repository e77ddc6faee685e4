"""Triage as a service: train from Odoo history (or a CSV), version the model with its card, suggest for new
tickets with calibrated confidence, rules and similar resolved tickets, and keep the agents' queue.

Writing to Odoo is not here: it is the governed tool ``ticket_triage_apply`` (``copilot.tools``), which this
service's :meth:`TriageService.apply` implements and only the executor calls. :func:`copilot.triage.sync.run_sync`
ties the two: new and changed tickets → suggestions → executor (auto-apply, or an approval for an agent).

Usage::

    svc = TriageService(TriageStore(engine), TicketEncoder(redactor, embedder), ModelRegistry(data_dir / "triage"),
                        reader=lambda: HelpdeskReader(client))
    card = svc.train_from_odoo(since="2026-01-01")
    svc.suggest([("Vent alarm", "BME-VEN-0047 alarming on ICU")])[0]["urgent"]   # True (critical equipment)
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from copilot.errors import ConflictError, NotFoundError
from copilot.triage.model import TrainConfig, TriageDataError, TriageModel, TriageModelError, train_model
from copilot.triage.rules import TriageRules
from copilot.triage.store import TriageItem, TriageStore
from copilot.triage.text import TicketEncoder

log = logging.getLogger(__name__)

DEFAULT_TARGETS = {"category": "ticket_type_id", "priority": "priority"}
"""Model target -> Odoo field it is learned from and written to. The team follows the category when the history
says so (see :data:`TEAM_PURITY`), else it is a target of its own."""
TEAM_FIELD = "team_id"
TEAM_PURITY = 0.95
"""If at least this share of the history's tickets of each category sits with one team, the team is derived from
the predicted category (one model decision, consistent team) instead of predicted separately."""
SIMILAR_K = 3


@dataclass(frozen=True)
class ModelInfo:
    version: str
    path: Path


class ModelRegistry:
    """Versioned models under ``<root>/models/<version>/`` with ``CURRENT`` naming the one in use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._loaded: tuple[str, TriageModel, dict[str, Any]] | None = None

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    def current_version(self) -> str | None:
        try:
            return (self.models_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def save(self, model: TriageModel, history: dict[str, Any]) -> str:
        version = datetime.now(UTC).strftime("v%Y%m%dT%H%M%S%fZ")
        path = self.models_dir / version
        model.card["version"] = version
        model.save(path)
        np.savez_compressed(path / "history.npz", **history)
        tmp = self.models_dir / "CURRENT.tmp"
        tmp.write_text(version, encoding="utf-8")
        tmp.replace(self.models_dir / "CURRENT")
        (path / "card.md").write_text(render_card(model.card), encoding="utf-8")
        return version

    def load(self) -> tuple[str, TriageModel, dict[str, Any]]:
        """The current model (cached until ``CURRENT`` changes). Raises :class:`TriageModelError`."""
        version = self.current_version()
        if version is None:
            raise TriageModelError(
                "no triage model yet: train one with `copilot triage train`", code="triage_no_model"
            )
        with self._lock:
            if self._loaded is None or self._loaded[0] != version:
                path = self.models_dir / version
                model = TriageModel.load(path)
                history: dict[str, Any] = {}
                hp = path / "history.npz"
                if hp.exists():
                    with np.load(hp, allow_pickle=False) as z:
                        history = {k: z[k] for k in z.files}
                self._loaded = (version, model, history)
            return self._loaded

    def versions(self) -> list[str]:
        if not self.models_dir.exists():
            return []
        return sorted(p.name for p in self.models_dir.iterdir() if p.is_dir())


def render_card(card: dict[str, Any]) -> str:
    """The model card as Markdown: data window, classes, per-class precision/recall, calibration, thresholds."""
    lines = [f"# Triage model {card.get('version', '')}", ""]
    lines += [f"- trained: {card.get('trained_at')}", f"- source: {card.get('source')}"]
    lines += [f"- data window: {card.get('window')}", f"- tickets: {card.get('tickets')}"]
    lines += [f"- embedder: {card.get('embedder')}"]
    lines += [f"- target precision for auto-apply: {card.get('target_precision')}"]
    for name, t in card.get("targets", {}).items():
        lines += ["", f"## {name} (Odoo field `{t.get('field')}`)", ""]
        lines += [f"- model: {t['chosen']} features; cross-validated macro-F1 / accuracy: {t['cv']}"]
        lines += [
            f"- calibration: temperature {t['temperature']:.3f}; "
            f"ECE before {t['ece_before']}, after {t['ece_after']} (out-of-fold)"
        ]
        lines += ["", "| class | support | precision | recall | auto-apply threshold | precision there |",
                  "| --- | --- | --- | --- | --- | --- |"]
        thr = {x["label"]: x for x in t["thresholds"]}
        for lab, m in t["per_class"].items():
            th = thr.get(lab, {})
            lines.append(
                f"| {lab} | {m['support']} | {m['precision']} | {m['recall']} | "
                f"{th.get('threshold') if th.get('threshold') is not None else 'suggest only'} | "
                f"{th.get('precision')} |"
            )
        if t.get("dropped_labels"):
            lines += ["", f"Too rare to learn (suggest never): {t['dropped_labels']}"]
    if card.get("derived"):
        lines += ["", "## Derived fields", "", json.dumps(card["derived"], indent=2)]
    if card.get("bias"):
        lines += ["", "## By group (out-of-fold accuracy)", "", json.dumps(card["bias"], indent=2)]
    return "\n".join(lines) + "\n"


class TriageService:
    def __init__(
        self,
        store: TriageStore,
        encoder: TicketEncoder,
        models: ModelRegistry,
        *,
        reader: Callable[[], Any] | None = None,
        rules: TriageRules | None = None,
        targets: dict[str, str] | None = None,
        config: TrainConfig | None = None,
        odoo_url: str | None = None,
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.models = models
        self._reader_factory = reader
        self._reader: Any = None
        self.rules = rules or TriageRules.load()
        self.targets = dict(targets or DEFAULT_TARGETS)
        self.config = config or TrainConfig()
        self.odoo_url = odoo_url
        self._options: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    # -- Odoo ------------------------------------------------------------------------------------------------

    @property
    def reader(self) -> Any:
        with self._lock:
            if self._reader is None:
                if self._reader_factory is None:
                    raise ConflictError(
                        "no Odoo helpdesk is configured (COPILOT_ODOO_URL)", code="odoo_unconfigured"
                    )
                self._reader = self._reader_factory()
            return self._reader

    def ticket_link(self, model: str, ticket_id: int) -> str | None:
        if not self.odoo_url:
            return None
        return f"{self.odoo_url.rstrip('/')}/odoo/{model}/{ticket_id}"

    # -- training --------------------------------------------------------------------------------------------

    def train(
        self,
        subjects_bodies: Sequence[tuple[str, str]],
        labels: Mapping[str, Sequence[str | None]],
        *,
        source: str,
        window: str,
        groups: dict[str, Sequence[str]] | None = None,
        ids: Sequence[int] | None = None,
        fields: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Train and version a model. ``labels``: target -> label per ticket (``team`` may be included and is
        derived from ``category`` when pure enough). Raises :class:`TriageDataError` on too little data."""
        if len(subjects_bodies) < self.config.min_examples:
            raise TriageDataError(
                f"{len(subjects_bodies)} tickets is too little history to train on; at least "
                f"{self.config.min_examples} labelled tickets are needed (more than 20 per class is better)"
            )
        t0 = time.perf_counter()
        enc = self.encoder.encode(subjects_bodies)
        keep = [i for i in range(len(subjects_bodies)) if i not in enc.skipped]
        texts = [enc.texts[i] for i in keep]
        vectors = enc.vectors[keep]
        kept = {t: [labels[t][i] for i in keep] for t in labels}
        derived: dict[str, Any] = {}
        if "team" in kept and "category" in kept:
            mapping, purity = _majority_map(kept["category"], kept["team"])
            if purity >= TEAM_PURITY:
                derived["team"] = {"from": "category", "purity": round(purity, 4), "map": mapping}
                del kept["team"]
        model = train_model(texts, vectors, kept, embedder_id=self._embedder_id(), config=self.config)
        fields = fields or {**self.targets, "team": TEAM_FIELD}
        card: dict[str, Any] = {
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": source,
            "window": window,
            "tickets": len(subjects_bodies),
            "not_judged": dict(Counter(enc.skipped.values())),
            "embedder": self._embedder_id(),
            "target_precision": self.config.target_precision,
            "seconds": round(time.perf_counter() - t0, 1),
            "derived": derived,
            "targets": {
                name: {
                    "field": fields.get(name, name),
                    "classes": tm.labels,
                    "chosen": tm.variant,
                    "temperature": tm.temperature,
                    "thresholds": [t.to_dict() for t in tm.thresholds],
                    **{k: v for k, v in tm.metrics.items()},
                }
                for name, tm in model.targets.items()
            },
        }
        if groups:
            card["bias"] = self._bias(model, kept, {g: [v[i] for i in keep] for g, v in groups.items()})
        model.card = card
        history = {
            "ids": np.array([ids[i] if ids is not None else i for i in keep], dtype=np.int64),
            "vectors": vectors.astype(np.float32),
            "subjects": np.array([_subject(enc.texts[i]) for i in keep], dtype=str),
            "category": np.array([str(c or "") for c in kept.get("category", [""] * len(keep))], dtype=str),
        }
        self.models.save(model, history)  # sets card["version"] and writes card.json / card.md beside the model
        return card

    def _bias(self, model: TriageModel, labels: dict[str, list[Any]], groups: dict[str, list[str]]) -> dict[str, Any]:
        """Per group value (site, department): out-of-fold accuracy of each target (predictions of the cross-
        validation folds, by models that did not see the ticket)."""
        out: dict[str, Any] = {"note": "out-of-fold accuracy per group"}
        for name, tm in model.targets.items():
            per: dict[str, Any] = {}
            for g, values in groups.items():
                acc: dict[str, list[bool]] = defaultdict(list)
                for i, v in enumerate(values):
                    if tm.oof_labels and tm.oof_labels[i] is not None and labels[name][i]:
                        acc[str(v)].append(tm.oof_labels[i] == labels[name][i])
                per[g] = {k: {"n": len(x), "accuracy": round(sum(x) / len(x), 4)} for k, x in sorted(acc.items())}
            out[name] = per
        return out

    def train_from_odoo(self, *, since: str | None = None, until: str | None = None) -> dict[str, Any]:
        """Closed tickets created in [since, until) — agents' queue decisions override Odoo's labels."""
        reader = self.reader
        tickets = list(reader.tickets(closed=True, created_after=since, until=until))
        feedback = self.store.feedback()
        pairs: list[tuple[str, str]] = []
        labels: dict[str, list[str | None]] = {name: [] for name in [*self.targets, "team"]}
        for t in tickets:
            fb, decided_at = feedback.get((t.model, t.id), ({}, ""))
            # Odoo's value wins when the ticket changed after the agent's decision (write_date is UTC, seconds)
            if decided_at and t.write_date and t.write_date > decided_at.replace("T", " ")[:19]:
                fb = {}
            pairs.append((t.subject, t.body))
            for name, field in {**self.targets, "team": TEAM_FIELD}.items():
                value = fb.get(field)
                labels[name].append(value if value not in (None, "") else t.labels.get(field))
        window = f"created {since or 'any'} .. {until or 'now'}, closed (folded stage)"
        groups: dict[str, Sequence[str]] | None = None
        if any(t.company for t in tickets):
            groups = {"company": [str(t.company) for t in tickets]}
        return self.train(pairs, labels, source=f"odoo {reader.model}", window=window,
                          ids=[t.id for t in tickets], groups=groups)

    def train_from_csv(self, path: Path, label_columns: dict[str, str]) -> dict[str, Any]:
        from copilot.evals.triage import read_csv

        rows = read_csv(path)
        missing = [c for c in label_columns.values() if rows and c not in rows[0]]
        if missing:
            raise TriageDataError(f"{path}: no column(s) {', '.join(missing)}")
        labels = {name: [r.get(col) or None for r in rows] for name, col in label_columns.items()}
        return self.train(
            [(r.get("title", ""), r.get("body", "")) for r in rows],
            labels,
            source=f"csv {path.name}",
            window="whole file",
            fields=dict(label_columns),
        )

    def _embedder_id(self) -> str:
        return str(getattr(self.encoder.embedder, "name", "embedder"))

    # -- suggesting ------------------------------------------------------------------------------------------

    def suggest(self, pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """A suggestion per (subject, body). Never raises for one bad ticket: it gets ``reason`` instead."""
        try:
            version, model, history = self.models.load()
        except TriageModelError as exc:
            return [{"labels": {}, "auto": False, "reason": exc.code, "message": exc.message} for _ in pairs]
        enc = self.encoder.encode(pairs)
        judged = [i for i in range(len(pairs)) if i not in enc.skipped]
        preds = model.predict([enc.texts[i] for i in judged], enc.vectors[judged]) if judged else []
        out: list[dict[str, Any]] = []
        by_index = dict(zip(judged, preds, strict=True))
        derived = model.card.get("derived", {})
        for i in range(len(pairs)):
            if i in enc.skipped:
                out.append({"labels": {}, "auto": False, "reason": enc.skipped[i], "text": enc.texts[i],
                            "model_version": version})
                continue
            labels = {name: p.to_dict() for name, p in by_index[i].items()}
            for name, d in derived.items():
                src = labels.get(d["from"])
                if src is not None and src["label"] in d["map"]:
                    labels[name] = {"label": d["map"][src["label"]], "derived_from": d["from"],
                                    "confidence": src["confidence"], "auto": src["auto"]}
            critical = self.rules.critical_terms(enc.texts[i])
            if critical and "priority" in labels:
                labels["priority"] = {**labels["priority"], "label": self.rules.urgent_priority,
                                      "rule": "critical_equipment", "auto": False}
            urgent = labels.get("priority", {}).get("label") == self.rules.urgent_priority
            auto = all(v.get("auto") for v in labels.values()) and not critical and not urgent
            out.append(
                {
                    "labels": labels,
                    "auto": auto,
                    "urgent": urgent,
                    "critical_terms": critical,
                    "confidence": round(min((v["confidence"] for v in labels.values()), default=0.0), 4),
                    "similar": self._similar(enc.vectors[i], history),
                    "reason": None,
                    "text": enc.texts[i],
                    "model_version": version,
                    "truncated": i in enc.truncated,
                }
            )
        return out

    def _similar(self, vector: np.ndarray, history: dict[str, Any], k: int = SIMILAR_K) -> list[dict[str, Any]]:
        vecs = history.get("vectors")
        if vecs is None or not len(vecs):
            return []
        sims = vecs @ vector
        top = np.argsort(-sims)[:k]
        return [
            {
                "ticket_id": int(history["ids"][j]),
                "subject": str(history["subjects"][j]),
                "category": str(history["category"][j]),
                "similarity": round(float(sims[j]), 3),
            }
            for j in top
        ]

    # -- the governed write (called by the ticket_triage_apply tool only) ------------------------------------

    def _option(self, field: str, label: str) -> Any:
        """The value to write for a label: a many2one id, a selection key, or for ``tag_ids`` (a ``|``-joined
        tag set, one class per set) the command replacing the ticket's tags: ``[(6, 0, ids)]``."""
        opts = self._options.get(field)
        if opts is None:
            opts = self._options[field] = self.reader.options(field)
        if field == "tag_ids":
            names = [n for n in label.split("|") if n]
            missing = [n for n in names if n not in opts]
            if not missing:
                return [[6, 0, [opts[n] for n in names]]]
            raise NotFoundError(f"{field}: {missing!r} are not tags this Odoo knows", code="triage_unknown_label")
        if label in opts:
            return opts[label]
        raise NotFoundError(f"{field}: {label!r} is not a value this Odoo knows", code="triage_unknown_label")

    def check_labels(self, labels: dict[str, str]) -> None:
        """Raise :class:`ValidationError` naming any label Odoo does not know, before anything is decided."""
        from copilot.errors import ValidationError

        bad = []
        for field, label in labels.items():
            try:
                self._option(field, label)
            except NotFoundError:
                bad.append(f"{field}={label!r}")
        if bad:
            raise ValidationError(f"not values this Odoo knows: {', '.join(bad)}", code="triage_unknown_label")

    def apply(
        self,
        *,
        ticket_id: int,
        item_id: str | None,
        labels: dict[str, str],
        expected_write_date: str | None,
        note: str,
        actor: str,
    ) -> dict[str, Any]:
        """Write ``labels`` (Odoo field -> display label or selection key) to the ticket, post ``note`` to its
        chatter, record the previous values on the queue item. Idempotent per item: an item already applied is
        not written again."""
        item: TriageItem | None = None
        if item_id:
            item = self.store.get(item_id)
            if item.status == "applied":
                return {"ticket_id": ticket_id, "applied": False, "reason": "already_applied", "item_id": item_id}
            if not self.store.update(item_id, expect=("suggested", "failed", "no_suggestion"), status="applying"):
                raise ConflictError("this suggestion is being applied or was decided", code="triage_busy")
        try:
            vals = {f: self._option(f, v) for f, v in labels.items()}
            res = self.reader.apply(ticket_id, vals, expected_write_date=expected_write_date, note_html=note)
        except Exception:
            if item_id:
                self.store.update(item_id, expect=("applying",), status="failed")
            raise
        if item_id:
            self.store.update(
                item_id,
                expect=("applying",),
                status="applied",
                previous=res["previous"],
                final=labels,
                decided_by=actor,
                decided_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        return {"ticket_id": ticket_id, "applied": True, "previous": res["previous"],
                "message_id": res["message_id"], "item_id": item_id}


    def rejected_final(self, item: TriageItem) -> dict[str, Any]:
        """What a rejection settles: every field the suggestion proposed keeps the ticket's value, empty
        included (``None``), so the next sync does not propose it again."""
        fields = {**self.targets, "team": "team_id"}
        proposed = {fields[n]: item.current.get(fields[n]) for n in item.suggestion.get("labels", {}) if n in fields}
        return {**proposed, **item.current}

    def reconcile(self, approval_status: Callable[[str], tuple[str, str | None, str | None]]) -> int:
        """Items whose approval was decided elsewhere (the approvals routes, expiry): a rejection is the agent's
        feedback that the ticket's current labels stand. ``approval_status(id)`` -> (status, decided_by, at)."""
        n = 0
        for item in self.store.queue(status="suggested", limit=1000):
            if not item.approval_id:
                continue
            status, by, at = approval_status(item.approval_id)
            if status == "rejected":
                n += self.store.update(item.id, expect=("suggested",), status="rejected",
                                       final=self.rejected_final(item), decided_by=by, decided_at=at)
            elif status == "expired":
                n += self.store.update(item.id, expect=("suggested",), status="expired")
        return n


def approval_lookup(approvals: Any) -> Callable[[str], tuple[str, str | None, str | None]]:
    """``reconcile``'s view of an :class:`~copilot.governance.approvals.ApprovalStore`."""

    def status(approval_id: str) -> tuple[str, str | None, str | None]:
        req = approvals.get(approval_id)
        return req.status.value, req.decided_by, req.decided_at

    return status


_SUBJECT_END = re.compile(r"(?<=\w)[.!?](\s|$)")


def _subject(text: str) -> str:
    m = _SUBJECT_END.search(text)
    return (text[: m.start() + 1] if m else text)[:120]


def _majority_map(keys: Sequence[Any], values: Sequence[Any]) -> tuple[dict[str, str], float]:
    pairs: dict[str, Counter[str]] = defaultdict(Counter)
    for k, v in zip(keys, values, strict=True):
        if k and v:
            pairs[str(k)][str(v)] += 1
    if not pairs:
        return {}, 0.0
    mapping = {k: c.most_common(1)[0][0] for k, c in pairs.items()}
    purity = min(c.most_common(1)[0][1] / sum(c.values()) for c in pairs.values())
    return mapping, purity

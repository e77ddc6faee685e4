"""One triage pass: new and changed open tickets → suggestions in the queue → the governed executor, which applies
confident ones and parks the rest as approvals for helpdesk agents.

Incremental: the cursor is the largest ``write_date`` seen (``triage_state``), and a ticket version already in the
queue is skipped, so a re-run costs one search and nothing else. A failure on one ticket (Odoo refusing the write,
a concurrent edit) marks that item ``failed`` with the reason and the pass goes on.

Usage::

    report = run_sync(copilot.triage, copilot.executor, TRIAGE_PRINCIPAL)
    report["applied"], report["pending_approval"], report["no_suggestion"]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from copilot.governance.principal import Principal
from copilot.triage.service import TriageService

TRIAGE_PRINCIPAL = Principal(id="svc-triage", name="Copilot triage", role="triage_service")
BATCH = 64


def apply_args(
    item_id: str,
    ticket: Any,
    suggestion: dict[str, Any],
    fields: dict[str, str],
    settled: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The ``ticket_triage_apply`` arguments for the labels that differ from the ticket's; None when the model
    agrees with what the ticket already says. A field still holding the value of the ticket's last decision
    (``settled``: an agent's change or rejection, or an earlier application) is not proposed again."""
    labels: dict[str, str] = {}
    settled = settled or {}
    for name, pred in suggestion["labels"].items():
        field = fields.get(name)
        if not field or not pred.get("label") or ticket.labels.get(field) == pred["label"]:
            continue
        if field in settled and ticket.labels.get(field) == settled[field]:
            continue
        labels[field] = pred["label"]
    if not labels:
        return None
    alts = []
    first: dict[str, Any] = next(iter(suggestion["labels"].values()), {})
    for alt in first.get("alternatives", [])[:3]:
        alts.append(f"{alt['label']} {alt['confidence']:.2f}")
    return {
        "ticket_id": ticket.id,
        "item_id": item_id,
        "labels": labels,
        "confidence": suggestion.get("confidence", 0.0),
        "auto": bool(suggestion.get("auto")),
        "urgent": bool(suggestion.get("urgent")),
        "critical_equipment": bool(suggestion.get("critical_terms")),
        "source": "model",
        "expected_write_date": ticket.write_date or None,
        "alternatives": alts,
        "model_version": suggestion.get("model_version"),
    }


def run_sync(
    service: TriageService,
    executor: Any,
    principal: Principal = TRIAGE_PRINCIPAL,
    *,
    ticket_ids: Sequence[int] | None = None,
    backlog: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    reader = service.reader
    model = reader.model
    cursor_key = f"cursor:{model}"
    cursor = service.store.get_state(cursor_key)
    if ticket_ids:
        tickets = reader.read(list(ticket_ids))
    else:  # open tickets changed since the cursor; the whole open backlog on request
        tickets = list(reader.tickets(closed=False, since=None if backlog else cursor))
    fields = {**service.targets, "team": "team_id"}
    report: dict[str, Any] = {"tickets": len(tickets), "new": 0, "unchanged": 0, "applied": 0,
                              "pending_approval": 0, "agrees": 0, "no_suggestion": 0, "failed": 0, "errors": {}}
    done = 0
    newest = cursor or ""
    for start in range(0, len(tickets), BATCH):
        batch = tickets[start : start + BATCH]
        fresh = [t for t in batch if service.store.find(model, t.id, t.write_date or "") is None]
        report["unchanged"] += len(batch) - len(fresh)
        suggestions = service.suggest([(t.subject, t.body) for t in fresh]) if fresh else []
        for t, s in zip(fresh, suggestions, strict=True):
            newest = max(newest, t.write_date or "")
            status = "no_suggestion" if s.get("reason") else "suggested"
            item, created = service.store.add(
                odoo_model=model,
                ticket_id=t.id,
                write_date=t.write_date or "",
                subject=_subject_of(s),
                text=s.get("text", ""),
                current=t.labels,
                suggestion={k: v for k, v in s.items() if k != "text"},
                model_version=s.get("model_version"),
                status=status,
                reason=s.get("reason"),
            )
            if not created:
                report["unchanged"] += 1
                continue
            report["new"] += 1
            if status == "no_suggestion":
                report["no_suggestion"] += 1
                continue
            args = apply_args(item.id, t, s, fields, service.store.settled(model, t.id))
            if args is None:
                service.store.update(item.id, expect=("suggested",), status="agrees", final=t.labels)
                report["agrees"] += 1
                continue
            res = executor.execute(principal, "ticket_triage_apply", args)
            if res.status == "pending_approval":
                service.store.update(item.id, approval_id=res.approval_id, audit_id=res.audit_id)
                report["pending_approval"] += 1
            elif res.status == "ok" and res.result and res.result.get("applied"):
                report["applied"] += 1
            else:
                service.store.update(item.id, expect=("suggested", "applying"), status="failed",
                                     reason=res.error_code or "not_applied")
                report["failed"] += 1
                code = res.error_code or "not_applied"
                report["errors"][code] = report["errors"].get(code, 0) + 1
        done += len(batch)
        if progress:
            progress(done, len(tickets))
    if newest and not ticket_ids and newest > (cursor or ""):
        service.store.set_state(cursor_key, newest)
    return report


def _subject_of(s: dict[str, Any]) -> str:
    from copilot.triage.service import _subject

    return _subject(s.get("text", ""))

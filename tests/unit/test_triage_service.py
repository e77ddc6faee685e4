"""Triage end to end against the Odoo protocol double through the real client (17 over JSON-RPC, 19 over
JSON-2): training from the demo helpdesk history, the sync, the governed write-back with its chatter note,
approvals, idempotence, concurrent edits, feedback, bad input. Hashing embedder, no redaction (the models are
measured in evals/, not here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from copilot.db import make_engine, migrate
from copilot.demo.network import BOT_KEY, BOT_LOGIN, build_demo_network
from copilot.errors import ConflictError, CopilotError
from copilot.governance.factory import build_governance
from copilot.governance.principal import Principal
from copilot.ingest.redaction import PassThroughRedactor
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo.helpdesk import HelpdeskReader
from copilot.odoo_double import Database, OdooDouble
from copilot.odoo_double import builders as b
from copilot.retrieval.embedder import HashingEmbedder
from copilot.tools import default_registry
from copilot.triage.model import TrainConfig, TriageDataError
from copilot.triage.service import ModelRegistry, TriageService
from copilot.triage.store import TriageStore
from copilot.triage.sync import run_sync
from copilot.triage.text import TicketEncoder

pytestmark = pytest.mark.unit

AGENT = Principal(id="ivan.it", name="Ivan", role="helpdesk_agent")
STAFF = Principal(id="nina.nurse", name="Nina", role="staff")
NEW_TICKETS = {  # subject -> body; no type, team or priority yet, as a ticket arrives
    "wifi": ("Wifi keeps dropping on Ward 4B", "tablets lose connection every few minutes at Lakeside Hospital"),
    "login": ("Cannot log in, password expired", "my account is locked after too many attempts at Eastgate Clinic"),
    "vent": ("Ventilator flow sensor", "ventilator BME-VEN-0047 flow sensor reading drifts on ICU, please check"),
    "sharps": ("Sharps bins full", "sharps bins on Ward 2A are full and haven't been collected"),
    "empty": (".", ""),
    "spanish": ("Impresora", "Hola, la impresora de la sala 4 no funciona desde ayer, por favor ayuda urgente"),
}


class World:
    def __init__(self, version: str, tmp: Path) -> None:
        self.db = Database(version=version)
        build_demo_network(self.db, tickets=400)
        new = b.create(self.db, "helpdesk.stage", {"name": "Inbox", "fold": False})
        self.ids = {k: b.create(self.db, "helpdesk.ticket", {"name": s, "description": f"<p>{body}</p>",
                                                               "stage_id": new})
                    for k, (s, body) in NEW_TICKETS.items()}
        self.db.commit()
        self.double = OdooDouble(self.db).start()
        cfg = OdooConfig(url=self.double.url, db=self.db.name, login=BOT_LOGIN, api_key=BOT_KEY, transport="auto",
                         retries=1, backoff=0.0)
        self.client = OdooClient(cfg, sleep=lambda s: None).connect()
        self.engine = make_engine(f"sqlite:///{tmp / 'copilot.db'}")
        migrate(self.engine)
        self.svc = TriageService(
            TriageStore(self.engine), TicketEncoder(PassThroughRedactor(), HashingEmbedder()),
            ModelRegistry(tmp / "triage"), reader=lambda: HelpdeskReader(self.client),
            config=TrainConfig(folds=3), odoo_url="https://odoo.example.org")
        self.gov = build_governance(self.engine, default_registry(), services=SimpleNamespace(triage=self.svc))
        self.card = self.svc.train_from_odoo()
        self.report = run_sync(self.svc, self.gov.executor)

    def item(self, key: str) -> Any:
        items = [i for i in self.svc.store.queue(status="all", limit=500) if i.ticket_id == self.ids[key]]
        return max(items, key=lambda i: i.created_at)

    def ticket(self, key: str) -> dict[str, Any]:
        return dict(self.db.table("helpdesk.ticket")[self.ids[key]])

    def changed_pending(self, key: str) -> int:
        return sum(1 for i in self.svc.store.queue(status="suggested", limit=500) if i.ticket_id == self.ids[key])

    def notes(self, key: str) -> list[str]:
        return [m["body"] for m in self.db.table("mail.message").values()
                if m.get("model") == "helpdesk.ticket" and m.get("res_id") == self.ids[key]]


@pytest.fixture(scope="module", params=["17.0", "19.0"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(request.param, tmp_path_factory.mktemp(f"triage-{request.param}"))
    yield w
    w.double.stop()


def test_training_reads_closed_history_and_versions_a_model_with_its_card(world: World) -> None:
    card = world.card
    assert card["source"] == "odoo helpdesk.ticket" and card["tickets"] >= 390
    assert set(card["targets"]) == {"category", "priority"}
    assert card["derived"]["team"]["purity"] == 1.0  # in the demo each type belongs to one team
    cat = card["targets"]["category"]
    assert len(cat["classes"]) == 8 and cat["ece_after"] <= 0.1
    version = world.svc.models.current_version()
    assert version == card["version"]
    assert version is not None
    text = (world.svc.models.models_dir / version / "card.md").read_text()
    assert "auto-apply threshold" in text and "Medical equipment" in text


def test_sync_suggests_for_every_new_ticket_and_nothing_is_lost(world: World) -> None:
    r = world.report
    assert r["new"] == r["tickets"] >= len(NEW_TICKETS)
    assert r["applied"] + r["pending_approval"] + r["agrees"] + r["no_suggestion"] + r["failed"] == r["new"]
    wifi = world.item("wifi")
    assert wifi.suggestion["labels"]["category"]["label"] == "Network & phones"
    assert wifi.suggestion["labels"]["team"]["label"] == "IT Service Desk"
    assert len(wifi.suggestion["labels"]["category"]["alternatives"]) == 3
    assert len(wifi.suggestion["similar"]) == 3


def test_empty_and_foreign_tickets_get_no_suggestion_with_the_reason(world: World) -> None:
    assert (world.item("empty").status, world.item("empty").reason) == ("no_suggestion", "empty")
    assert (world.item("spanish").status, world.item("spanish").reason) == ("no_suggestion", "unsupported_language")
    assert world.ticket("spanish").get("ticket_type_id") in (None, False)


def test_critical_equipment_is_urgent_and_waits_for_an_agent(world: World) -> None:
    vent = world.item("vent")
    assert vent.suggestion["critical_terms"] == ["Ventilator", "BME-VEN-0047"]
    assert vent.suggestion["labels"]["priority"]["label"] == "3"
    assert vent.status == "suggested" and vent.approval_id
    assert world.ticket("vent").get("priority") in (None, False, "0")  # nothing written yet
    req = world.gov.approvals.get(vent.approval_id)
    assert req.rule_id == "triage-needs-review" and "helpdesk_agent" in req.approving_roles


def test_an_agent_accepts_once_and_odoo_gets_the_values_and_a_chatter_note(world: World) -> None:
    vent = world.item("vent")
    res = world.gov.executor.approve(AGENT, vent.approval_id, reason="checked")
    assert res.status == "ok", res.error
    t = world.ticket("vent")
    assert t["priority"] == "3" and t["ticket_type_id"]
    notes = world.notes("vent")
    assert len(notes) == 1 and "Copilot triage" in notes[0] and "ivan.it" in notes[0]
    done = world.svc.store.get(vent.id)
    assert done.status == "applied" and done.previous is not None and "priority" in done.previous
    with pytest.raises(ConflictError):
        world.gov.executor.approve(AGENT, vent.approval_id)  # a replay cannot write twice
    again = world.gov.executor.execute(AGENT, "ticket_triage_apply", {
        "ticket_id": vent.ticket_id, "item_id": vent.id, "labels": {"priority": "3"}, "confidence": 1.0,
        "source": "agent"})
    assert again.status == "ok" and again.result["applied"] is False and len(world.notes("vent")) == 1


def test_a_ticket_edited_in_odoo_after_the_suggestion_is_not_overwritten(world: World) -> None:
    sharps = world.item("sharps")
    assert sharps.status == "suggested" and sharps.approval_id  # its priority is not confident: it waits
    clock = world.db.clock
    world.db.clock = lambda: "2099-01-01 00:00:00"
    try:
        world.client.write("helpdesk.ticket", [sharps.ticket_id], {"priority": "1"})
    finally:
        world.db.clock = clock
    res = world.gov.executor.approve(AGENT, sharps.approval_id)
    assert (res.status, res.error_code) == ("error", "ticket_changed")
    assert world.ticket("sharps")["priority"] == "1"
    assert world.svc.store.get(sharps.id).status == "failed"


def test_staff_may_not_triage_and_the_service_may_not_pose_as_an_agent(world: World) -> None:
    denied = world.gov.executor.execute(STAFF, "ticket_triage", {"subject": "printer", "body": "jammed"})
    assert (denied.status, denied.error_code) == ("denied", "forbidden")
    bot = Principal(id="svc-triage", name="bot", role="triage_service")
    posing = world.gov.executor.execute(bot, "ticket_triage_apply", {
        "ticket_id": world.ids["wifi"], "labels": {"priority": "0"}, "confidence": 1.0, "source": "agent"})
    assert (posing.status, posing.rule_id) == ("denied", "triage-agent-decisions")


def test_the_read_tool_masks_ticket_text_in_the_audit_trail(world: World) -> None:
    res = world.gov.executor.execute(AGENT, "ticket_triage", {"subject": "Printer jam", "body": "call Maria 4411"})
    assert res.ok and res.result["suggestions"][0]["labels"]["category"]["label"]
    assert res.audit_id is not None
    rec = world.gov.audit.get(res.audit_id)
    assert "Maria" not in rec.to_dict()["args_json"]


def test_resync_picks_up_only_changed_tickets_then_nothing(world: World) -> None:
    changed = run_sync(world.svc, world.gov.executor)  # the tickets written above have a new write_date
    assert changed["new"] <= 2
    # Copilot's own write is not re-proposed (a new version agrees; within the same second there is none)
    assert world.item("vent").status in ("agrees", "applied")
    assert world.changed_pending("vent") == 0
    again = run_sync(world.svc, world.gov.executor)
    assert again["new"] == 0 and again["unchanged"] == again["tickets"] <= 2 * len(NEW_TICKETS)


def test_feedback_overrides_odoo_labels_in_the_next_training(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = next(world.svc.reader.tickets(closed=True))
    world.svc.store.add(odoo_model="helpdesk.ticket", ticket_id=closed.id, write_date=closed.write_date,
                        subject="s", text="t", current=closed.labels, suggestion={}, model_version=None,
                        status="rejected")
    item = world.svc.store.find("helpdesk.ticket", closed.id, closed.write_date)
    assert item is not None
    world.svc.store.update(item.id, final={"ticket_type_id": "Cleaning & waste"}, decided_at="2099-12-01T00:00:00")
    seen: dict[str, Any] = {}
    monkeypatch.setattr(world.svc, "train", lambda pairs, labels, **kw: seen.update(labels=labels) or {})
    world.svc.train_from_odoo()
    assert seen["labels"]["category"][0] == "Cleaning & waste"
    # a decision older than the ticket's last change in Odoo gives way to Odoo's value
    world.svc.store.update(item.id, decided_at="2000-01-01T00:00:00")
    world.svc.train_from_odoo()
    assert seen["labels"]["category"][0] == closed.labels["ticket_type_id"]


def test_too_little_history_is_refused_with_a_clear_message(world: World) -> None:
    with pytest.raises(TriageDataError, match="too little history"):
        world.svc.train([("a", "b")] * 5, {"category": ["x"] * 5}, source="t", window="w")


def test_odoo_down_is_a_typed_error_and_loses_nothing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(engine)
    cfg = OdooConfig(url="http://127.0.0.1:9", db="x", login="bot", api_key="k", retries=1, backoff=0.0)
    svc = TriageService(TriageStore(engine), TicketEncoder(PassThroughRedactor(), HashingEmbedder()),
                        ModelRegistry(tmp_path / "t"), reader=lambda: HelpdeskReader(OdooClient(cfg).connect()))
    gov = build_governance(engine, default_registry(), services=SimpleNamespace(triage=svc))
    with pytest.raises(CopilotError):
        run_sync(svc, gov.executor)
    assert svc.store.queue(status="all") == []
    no_model = svc.suggest([("printer", "jammed")])[0]
    assert no_model["reason"] == "triage_no_model" and no_model["labels"] == {}


def test_community_fallback_reads_tasks_of_the_helpdesk_project(odoo_recordings: Path) -> None:
    from copilot.odoo_double import replay

    db = replay.seed(*replay.load(odoo_recordings / "odoo19"))
    db.add_api_key(2, "k-admin")
    with OdooDouble(db) as double:
        cfg = OdooConfig(url=double.url, db=db.name, login="admin", api_key="k-admin", transport="auto")
        client = OdooClient(cfg).connect()
        with pytest.raises(CopilotError, match="COPILOT_TRIAGE_PROJECT"):
            _ = HelpdeskReader(client).model
        desk = HelpdeskReader(client, project="Office Design")
        tasks = list(desk.tickets())
    assert desk.model == "project.task" and len(tasks) == 22
    assert all(t.model == "project.task" and t.subject for t in tasks)
    assert {"priority"} <= set(tasks[0].labels)


def test_odoo_refusing_the_write_marks_the_item_failed_and_keeps_it(world: World, tmp_path: Path) -> None:
    """A sync account that may read but not write tickets (a plain internal user in the demo)."""
    cfg = OdooConfig(url=world.double.url, db=world.db.name, login="nina.nurse", api_key="demo-key-nina.nurse",
                     transport="auto", retries=1, backoff=0.0)
    client = OdooClient(cfg, sleep=lambda s: None).connect()
    engine = make_engine(f"sqlite:///{tmp_path / 'ro.db'}")
    migrate(engine)
    svc = TriageService(TriageStore(engine), world.svc.encoder, world.svc.models,
                        reader=lambda: HelpdeskReader(client), config=TrainConfig(folds=3))
    gov = build_governance(engine, default_registry(), services=SimpleNamespace(triage=svc))
    report = run_sync(svc, gov.executor, ticket_ids=[world.ids["login"]])
    item = svc.store.queue(status="all")[0]
    if report["pending_approval"]:
        res = gov.executor.approve(AGENT, item.approval_id or "")
        assert res.status == "error"
        item = svc.store.get(item.id)
    else:
        assert report["failed"] == 1
    assert item.status == "failed" and item.suggestion["labels"]
    assert world.notes("login") == [] or all("Copilot" not in n for n in world.notes("login"))


def test_a_label_odoo_does_not_know_is_a_clear_error_and_nothing_is_written(world: World) -> None:
    wifi = world.item("wifi")
    before = world.ticket("wifi")
    res = world.gov.executor.execute(AGENT, "ticket_triage_apply", {
        "ticket_id": wifi.ticket_id, "labels": {"ticket_type_id": "Teleportation"}, "confidence": 1.0,
        "source": "agent"})
    assert (res.status, res.error_code) == ("error", "triage_unknown_label")
    assert world.ticket("wifi").get("ticket_type_id") == before.get("ticket_type_id")


def test_a_rejected_suggestion_is_not_proposed_again_after_an_unrelated_edit(world: World) -> None:
    pending = [i for i in world.svc.store.queue(status="suggested", limit=500) if i.approval_id]
    assert pending, "the demo's new tickets include suggestions waiting for an agent"
    item = pending[0]
    world.gov.executor.reject(AGENT, item.approval_id or "", reason="labels are right")
    from copilot.triage.service import approval_lookup

    world.svc.reconcile(approval_lookup(world.gov.approvals))
    assert world.svc.store.get(item.id).status == "rejected"
    clock = world.db.clock
    world.db.clock = lambda: "2099-06-01 00:00:00"
    try:  # a person edits something else on the ticket
        world.client.write("helpdesk.ticket", [item.ticket_id], {"name": "updated subject"})
    finally:
        world.db.clock = clock
    report = run_sync(world.svc, world.gov.executor, ticket_ids=[item.ticket_id])
    assert report["new"] == 1 and report["pending_approval"] == 0 and report["applied"] == 0


def test_tags_are_written_as_a_set_and_the_previous_set_is_kept(world: World) -> None:
    for name in ("Patient safety", "Cold chain"):
        if not any(t["name"] == name for t in world.db.table("helpdesk.tag").values()):
            b.create(world.db, "helpdesk.tag", {"name": name})
    world.svc._options.pop("tag_ids", None)
    tid = world.ids["spanish"]
    res = world.gov.executor.execute(AGENT, "ticket_triage_apply", {
        "ticket_id": tid, "labels": {"tag_ids": "Cold chain|Patient safety"}, "confidence": 1.0,
        "source": "agent"}).raise_for_status()
    assert res.result["previous"] == {"tag_ids": []}
    ticket = world.svc.reader.read([tid])[0]
    assert ticket.labels["tag_ids"] == "Cold chain|Patient safety"


def test_a_one_megabyte_body_is_cut_not_refused(world: World) -> None:
    body = "<p>" + ("the label printer at the nurses station prints blank labels again. " * 16000)[:1_000_000] + "</p>"
    s = world.svc.suggest([("Label printer", body)])[0]
    assert s["truncated"] is True and s["reason"] is None
    assert s["labels"]["category"]["label"] == "Computers & printers"

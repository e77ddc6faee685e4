"""The triage routes: who may call them, validation, one-ticket suggestions, the queue, the model card, and a
batch without Odoo failing as a typed job error (the flows against Odoo are in test_triage_service.py and the
browser test)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from copilot.api.app import build_app
from copilot.api.settings import ServiceSettings
from copilot.api.users import UserStore
from copilot.app import build_copilot
from copilot.config import Settings

pytestmark = pytest.mark.unit

TEXTS = {
    "Network & phones": "wifi keeps dropping on the ward, tablets lose connection",
    "Computers & printers": "the printer jams and shows a blank screen",
    "Cleaning & waste": "sharps bins are full and have not been collected",
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("api-triage")
    settings = Settings(data_dir=tmp / "data", embedding_backend="hashing", redaction="none")
    cp = build_copilot(settings)
    pairs = [(t.split(",")[0], f"{t} on ward {i}") for t in TEXTS.values() for i in range(30)]
    labels = {"category": [c for c in TEXTS for _ in range(30)], "priority": ["1", "2"] * 45}
    cp.triage.train(pairs, labels, source="test", window="all")
    app = build_app(cp, service=ServiceSettings.from_settings(settings, rate_limit_per_minute=100_000,
                                                               rate_limit_burst=10_000))
    users = UserStore(cp.engine)
    keys = {}
    for uid, role in (("ivan.it", "helpdesk_agent"), ("nina.nurse", "staff"), ("ada.admin", "admin")):
        _, keys[uid] = users.add(uid, role=role, groups=("all_staff",), user_id=uid)
    with TestClient(app) as client:
        yield client, {u: {"Authorization": f"Bearer {k}"} for u, k in keys.items()}
    cp.close()


def test_one_ticket_gets_a_suggestion_with_confidence_and_alternatives(api: Any) -> None:
    client, h = api
    r = client.post("/v1/triage", json={"subject": "Wifi down", "body": "wifi keeps dropping on ward 7"},
                    headers=h["ivan.it"])
    assert r.status_code == 200, r.text
    s = r.json()["suggestions"][0]
    assert s["labels"]["category"]["label"] == "Network & phones"
    assert 0 < s["labels"]["category"]["confidence"] <= 1 and len(s["labels"]["category"]["alternatives"]) == 2


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("post", "/v1/triage", {"subject": "x"}), ("get", "/v1/triage/queue", None), ("get", "/v1/triage/model", None),
     ("get", "/v1/triage/jobs", None), ("post", "/v1/triage/items/abc/decision", {"action": "accept"})],
)
def test_staff_are_refused_and_anonymous_callers_unauthenticated(api: Any, method: str, path: str,
                                                                  body: Any) -> None:
    client, h = api
    kw = {"json": body} if body is not None else {}
    assert getattr(client, method)(path, headers=h["nina.nurse"], **kw).status_code == 403
    assert getattr(client, method)(path, **kw).status_code == 401


@pytest.mark.parametrize(
    "body",
    [{}, {"subject": "   "}, {"ticket_ids": "x"}, {"subject": "a" * 1001}, {"ticket_ids": list(range(6000))}],
)
def test_malformed_requests_are_422(api: Any, body: dict[str, Any]) -> None:
    client, h = api
    assert client.post("/v1/triage", json=body, headers=h["ivan.it"]).status_code == 422


def test_queue_card_and_unknown_item(api: Any) -> None:
    client, h = api
    q = client.get("/v1/triage/queue", headers=h["ivan.it"]).json()
    assert q["items"] == [] and q["model_version"]
    card = client.get("/v1/triage/model", headers=h["ivan.it"]).json()
    assert set(card["targets"]) == {"category", "priority"} and card["tickets"] == 90
    r = client.post("/v1/triage/items/nope/decision", json={"action": "accept"}, headers=h["ivan.it"])
    assert r.status_code == 404 and r.json()["error"] == "triage_item_missing"


def test_a_batch_without_odoo_fails_as_a_typed_job_error(api: Any) -> None:
    client, h = api
    r = client.post("/v1/triage", json={"backlog": True}, headers=h["ivan.it"])
    assert r.status_code == 202
    deadline = time.monotonic() + 30
    while (state := client.get("/v1/triage/jobs", headers=h["ivan.it"]).json())["state"] in ("running", "started"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert state["state"] == "failed" and state["code"] == "odoo_unconfigured"


def test_no_raw_text_in_the_audit_trail(api: Any) -> None:
    client, h = api
    client.post("/v1/triage", json={"subject": "Call Maria Gomez", "body": "printer jams"}, headers=h["ivan.it"])
    recs = client.get("/v1/audit/records", params={"tool": "ticket_triage"}, headers=h["ada.admin"]).json()
    assert recs and all("Maria" not in str(r) for r in recs)



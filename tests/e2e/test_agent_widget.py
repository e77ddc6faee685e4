"""The widget as the agent's front end (issue 15), in a real browser against ``copilot serve --demo``: a look-up, a
triage and an action that waits for approval, each through ``POST /v1/chat`` and the governed executor; the steps
show as they run, results render as cards, and a pending approval updates when a person decides."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def _token(server: str, user: str) -> str:
    r = httpx.post(f"{server}/v1/auth/login", json={"username": user, "password": "demo"}, timeout=10)
    r.raise_for_status()
    return str(r.json()["token"])


def say(page: Any, message: str) -> Any:
    """Type one turn into the widget and wait for Copilot's reply bubble."""
    if page.locator("#cpw-panel").is_hidden():
        page.locator("#cpw-launcher").click()
    page.locator("#cpw-input").fill(message)
    page.locator("#cpw-send").click()
    reply = page.locator(".cpw-bot").last
    expect(reply).to_have_attribute("aria-busy", "false", timeout=90_000)  # the first turn builds the agent
    return reply


def test_a_biomed_engineer_looks_equipment_up(page_factory: Any, artifacts: Path) -> None:
    page = page_factory(viewport={"width": 1280, "height": 860})
    sign_in(page, "ben.biomed", expect="/odoo")
    reply = say(page, "is BME-DEF-0112 back in service?")
    expect(reply.locator(".cpw-steps")).to_contain_text("Looking up equipment — done")
    card = reply.locator(".cpw-card-equipment")
    expect(card).to_contain_text("BME-DEF-0112")
    expect(card).to_contain_text("Lakeside Hospital")
    expect(card).to_contain_text("in service")
    page.screenshot(path=str(artifacts / "30-widget-equipment-lookup.png"))


def test_a_helpdesk_agent_triages_a_ticket_in_the_widget(page_factory: Any, artifacts: Path, server: str) -> None:
    admin = _token(server, "ada.admin")
    deadline = time.monotonic() + 180
    while httpx.get(f"{server}/v1/triage/jobs", headers={"Authorization": f"Bearer {admin}"},
                    timeout=10).json().get("state") != "done":
        assert time.monotonic() < deadline, "the demo triage pass did not finish"
        time.sleep(0.5)
    queue = httpx.get(f"{server}/v1/triage/queue?status=suggested&limit=50",
                      headers={"Authorization": f"Bearer {admin}"}, timeout=10).json()["items"]
    ticket = queue[0]["ticket_id"]
    page = page_factory(viewport={"width": 1280, "height": 860})
    sign_in(page, "ivan.it", expect="/triage")
    page.goto("/odoo")
    reply = say(page, f"triage ticket {ticket}")
    expect(reply.locator(".cpw-steps")).to_contain_text("Triaging the ticket — done")
    expect(reply.locator(".cpw-card-triage")).to_contain_text("%")
    page.screenshot(path=str(artifacts / "31-widget-ticket-triage.png"))


def test_an_order_waits_for_approval_and_the_widget_shows_the_decision(page_factory: Any, artifacts: Path,
                                                                        server: str) -> None:
    page = page_factory(viewport={"width": 1280, "height": 860})
    sign_in(page, "erin.exec", expect="/executive")
    page.goto("/odoo")
    reply = say(page, "order 12 volumetric pumps for Lakeside")
    expect(reply.locator(".cpw-steps")).to_contain_text("Creating a purchase request — waiting for approval")
    pending = reply.locator(".cpw-approval")
    expect(pending).to_contain_text("Waiting for approval")
    page.screenshot(path=str(artifacts / "32-widget-order-waits-for-approval.png"))
    admin = _token(server, "ada.admin")
    queue = httpx.get(f"{server}/v1/approvals", headers={"Authorization": f"Bearer {admin}"}, timeout=10).json()
    shown = pending.inner_text().split("(request ")[1].split(")")[0]  # the widget names its request
    (mine,) = [a for a in queue if a["id"].startswith(shown) and a["requester_id"] == "erin.exec"]
    assert mine["tool"] == "purchase_request_create" and mine["facts"]["amount"] == 22200.0  # priced by Odoo
    decided = httpx.post(f"{server}/v1/approvals/{mine['id']}/approve", json={"reason": "budgeted"},
                         headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    assert decided.status_code == 200 and decided.json()["status"] == "ok"
    expect(pending).to_contain_text("Approved by ada.admin", timeout=30_000)
    page.screenshot(path=str(artifacts / "33-widget-order-approved.png"))

"""The helpdesk triage queue at ``/triage`` against ``copilot serve --demo`` in Debian's chromium.

On start the demo server trains a triage model on the demo helpdesk history and queues the open tickets in the
background; these tests wait for that pass, then, as the demo helpdesk agent:

* the queue lists suggestions with a confidence level, a bar, alternatives and similar resolved tickets;
* Accept writes the suggestion to the Odoo ticket with a chatter note; Change writes the agent's labels;
  Reject leaves the ticket's labels as they are;
* a staff user sees the API's refusal (403) on the page;
* the backlog button shows the batch's progress until it is done, then reloads the queue (run last: the pass
  re-reads every open ticket).

What the page claims is checked through the API (as the admin) and in the Odoo double's chatter.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

AGENT = "ivan.it"
ODOO_DB = "odoo"  # the demo Odoo double's database name
PRIORITY_WORDS = {"0": "Low", "1": "Medium", "2": "High", "3": "Urgent"}


def _token(server: str, user: str) -> str:
    r = httpx.post(f"{server}/v1/auth/login", json={"username": user, "password": "demo"}, timeout=10)
    r.raise_for_status()
    return str(r.json()["token"])


def _get(server: str, token: str, path: str) -> Any:
    r = httpx.get(f"{server}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    r.raise_for_status()
    return r.json()


@pytest.fixture(scope="module")
def admin(server: str) -> str:
    """An admin session token, once the demo's first triage pass (train, then queue the open tickets) is done."""
    token = _token(server, "ada.admin")
    deadline = time.monotonic() + 180
    while True:
        job = _get(server, token, "/v1/triage/jobs")
        if job.get("state") == "done":
            break
        if job.get("state") == "failed":
            pytest.fail(f"the demo triage pass failed: {job}")
        if time.monotonic() > deadline:
            pytest.fail(f"the demo triage pass did not finish: {job}")
        time.sleep(0.5)
    queue = _get(server, token, "/v1/triage/queue?status=suggested&limit=500")
    assert len(queue["items"]) >= 3, f"the demo should leave tickets for an agent: {queue['counts']}"
    return token


def _item(server: str, token: str, item_id: str) -> dict[str, Any]:
    items = _get(server, token, "/v1/triage/queue?status=all&limit=500")["items"]
    return next(it for it in items if it["id"] == item_id)


def _odoo(link: str) -> Any:
    """The Odoo double that ``link`` points into, as the demo sync account."""
    from copilot.demo.network import BOT_KEY, BOT_LOGIN
    from copilot.odoo.client import OdooClient, OdooConfig

    base = link.split("/odoo/", 1)[0]
    return OdooClient(OdooConfig(url=base, db=ODOO_DB, login=BOT_LOGIN, api_key=BOT_KEY, retries=0)).connect()


def _chatter(link: str, ticket_id: int) -> list[str]:
    rows = _odoo(link).search_read("mail.message", [("model", "=", "helpdesk.ticket"), ("res_id", "=", ticket_id)],
                                   fields=["body"])
    return [str(r["body"]) for r in rows]


def _labels(link: str, ticket_id: int) -> dict[str, str]:
    """The ticket's labels in Odoo now, as the queue names them (many2one display names, priority keys)."""
    row = _odoo(link).search_read("helpdesk.ticket", [("id", "=", ticket_id)],
                                  fields=["ticket_type_id", "team_id", "priority"])[0]
    return {k: (v[1] if isinstance(v, list) else str(v)) for k, v in row.items() if k != "id"}


def _agent_page(page_factory: Any) -> Any:
    page = page_factory(viewport={"width": 1400, "height": 1000})
    sign_in(page, AGENT, expect="/triage")  # helpdesk agents land on their queue
    expect(page.locator("#queue-rows tr").first).to_be_visible()
    return page


def _open_row(page: Any) -> tuple[Any, str]:
    """The first row still waiting for a decision, located by its item (its status changes once decided)."""
    first = page.locator('#queue-rows tr[data-status="suggested"]').first
    expect(first).to_be_visible()
    item_id = str(first.get_attribute("data-item"))
    return page.locator(f'#queue-rows tr[data-item="{item_id}"]'), item_id


def test_queue_lists_suggestions_with_confidence_and_alternatives(
    page_factory: Any, server: str, admin: str, artifacts: Path
) -> None:
    queue = _get(server, admin, "/v1/triage/queue?status=suggested&limit=500")
    page = _agent_page(page_factory)
    expect(page.locator('#topbar nav a[href="/triage"]')).to_have_attribute("aria-current", "page")
    expect(page.locator("#tab-suggested")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#count-suggested")).to_have_text(f"({queue['counts']['suggested']})")
    expect(page.locator("#queue-rows tr")).to_have_count(len(queue["items"]))
    expect(page.locator("#queue-table thead th")).to_have_count(6)

    first = queue["items"][0]
    row = page.locator(f'#queue-rows tr[data-item="{first["id"]}"]')
    labels = first["suggestion"]["labels"]
    expect(row.locator('dd[data-target="category"] .label-value')).to_have_text(labels["category"]["label"])
    expect(row.locator('dd[data-target="team"] .label-value')).to_have_text(labels["team"]["label"])
    expect(row.locator('dd[data-target="priority"] .label-value')).to_have_text(
        PRIORITY_WORDS[labels["priority"]["label"]])
    conf = first["suggestion"]["confidence"]
    expect(row.locator(".conf-text")).to_have_text(re.compile(rf"^(High|Medium|Low) {conf:.2f}$"))
    expect(row.locator(".conf-bar")).to_have_attribute("aria-label", f"Confidence {round(conf * 100)}%")
    expect(row.locator('ol.alts[data-target="category"] li')).to_have_count(3)
    alt = labels["category"]["alternatives"][0]["label"]
    expect(row.locator('ol.alts[data-target="category"] li').first).to_contain_text(alt)
    similar = row.locator("td.similar a")
    expect(similar).to_have_count(len(first["suggestion"]["similar"]))
    assert f"/odoo/helpdesk.ticket/{first['suggestion']['similar'][0]['ticket_id']}" in str(
        similar.first.get_attribute("href"))
    assert row.locator("a.ticket-link").get_attribute("href") == first["link"]

    text = row.locator("details.ticket-text p")
    expect(text).to_be_hidden()
    row.locator("details.ticket-text summary").click()
    expect(text).to_have_text(first["text"])

    critical = [it for it in queue["items"] if it["suggestion"].get("critical_terms")]
    assert critical, "the demo backlog names critical equipment in some tickets"
    badge = page.locator(f'#queue-rows tr[data-item="{critical[0]["id"]}"] .badge-critical')
    expect(badge).to_contain_text(critical[0]["suggestion"]["critical_terms"][0])
    for it in queue["items"]:
        if it["suggestion"].get("urgent"):
            expect(page.locator(f'#queue-rows tr[data-item="{it["id"]}"] .badge-urgent')).to_have_text("Urgent")
    page.screenshot(path=str(artifacts / "10-triage-queue.png"))


def test_accept_applies_the_suggestion_with_a_chatter_note(page_factory: Any, server: str, admin: str) -> None:
    page = _agent_page(page_factory)
    applied_before = _get(server, admin, "/v1/triage/queue?status=all&limit=1")["counts"].get("applied", 0)
    row, item_id = _open_row(page)
    before = _item(server, admin, item_id)
    row.get_by_role("button", name=f"Accept the suggestion for ticket {before['ticket_id']}").click()
    expect(row.locator(".decision-status")).to_have_text(
        f"Accepted: ticket #{before['ticket_id']} updated — note posted in the Odoo chatter.")
    expect(row).to_have_attribute("data-status", "applied")
    expect(page.locator("#count-applied")).to_have_text(f"({applied_before + 1})")
    expect(page.locator("#triage-error")).to_have_text("")

    after = _item(server, admin, item_id)
    labels = before["suggestion"]["labels"]
    assert after["status"] == "applied"
    assert after["decided_by"] == AGENT
    wanted = {"ticket_type_id": labels["category"]["label"], "team_id": labels["team"]["label"],
              "priority": labels["priority"]["label"]}
    assert after["final"] and after["final"].items() <= wanted.items()  # the labels that differed were written
    assert after["previous"]
    assert _labels(before["link"], before["ticket_id"]) == wanted
    notes = _chatter(before["link"], before["ticket_id"])
    assert any("Copilot triage:" in n and f"accepted by {AGENT}" in n for n in notes), notes


def test_change_applies_the_agents_labels(page_factory: Any, server: str, admin: str, artifacts: Path) -> None:
    card = _get(server, admin, "/v1/triage/model")
    team_of = card["derived"]["team"]["map"]
    page = _agent_page(page_factory)
    row, item_id = _open_row(page)
    before = _item(server, admin, item_id)
    suggested = before["suggestion"]["labels"]["category"]["label"]
    category = next(c for c in card["targets"]["category"]["classes"]
                    if c not in (suggested, before["current"].get("ticket_type_id")))

    change = row.get_by_role("button", name=f"Change the labels for ticket {before['ticket_id']}")
    change.click()
    expect(change).to_have_attribute("aria-expanded", "true")
    form = row.locator("form.change-form")
    expect(form.get_by_label("Category")).to_be_focused()
    expect(form.get_by_label("Category")).to_have_value(suggested)
    form.get_by_label("Category").select_option(category)
    expect(form.get_by_label("Team")).to_have_value(team_of[category])  # the team follows the category
    form.get_by_label("Priority").select_option(label="Low")
    form.get_by_label("Reason (optional)").fill("Wrong queue")
    page.screenshot(path=str(artifacts / "11-triage-change.png"))
    form.get_by_role("button", name=f"Save the labels for ticket {before['ticket_id']}").click()
    expect(row.locator(".decision-status")).to_have_text(
        f"Changed: ticket #{before['ticket_id']} updated — note posted in the Odoo chatter.")
    expect(form).to_be_hidden()

    after = _item(server, admin, item_id)
    assert after["status"] == "applied"
    assert after["decided_by"] == AGENT
    wanted = {"ticket_type_id": category, "team_id": team_of[category], "priority": "0"}
    assert after["final"] == wanted
    assert _labels(before["link"], before["ticket_id"]) == wanted
    notes = _chatter(before["link"], before["ticket_id"])
    assert any(f"ticket_type_id = {category}" in n.replace("&amp;", "&") and f"decided by {AGENT}" in n
               for n in notes), notes


def test_reject_keeps_the_tickets_labels(page_factory: Any, server: str, admin: str) -> None:
    page = _agent_page(page_factory)
    row, item_id = _open_row(page)
    before = _item(server, admin, item_id)
    notes_before = _chatter(before["link"], before["ticket_id"])
    row.get_by_role("button", name=f"Reject the suggestion for ticket {before['ticket_id']}").click()
    expect(row.locator(".decision-status")).to_have_text("Rejected: the ticket's labels stay as they are.")
    expect(row).to_have_attribute("data-status", "rejected")
    for name in ("Accept", "Change", "Reject"):
        expect(row.get_by_role("button", name=re.compile(f"^{name}"))).to_be_disabled()

    after = _item(server, admin, item_id)
    assert after["status"] == "rejected"
    assert after["decided_by"] == AGENT
    assert after["final"] == before["current"]
    assert _labels(before["link"], before["ticket_id"]) == {
        k: before["current"][k] for k in ("ticket_type_id", "team_id", "priority")}
    assert _chatter(before["link"], before["ticket_id"]) == notes_before  # nothing written to the ticket

    page.locator("#tab-rejected").click()
    expect(page.locator(f'#queue-rows tr[data-item="{item_id}"]')).to_contain_text(f"rejected by {AGENT}")


def test_staff_sees_the_refusal(page_factory: Any, admin: str) -> None:
    page = page_factory(viewport={"width": 1280, "height": 860})
    sign_in(page, "nina.nurse", expect="/odoo")
    page.goto("/triage")
    expect(page.locator("#triage-error")).to_have_text(
        "Not allowed (forbidden: role 'staff' may not use ticket_triage).")
    expect(page.locator("#queue-count")).to_have_text("The queue could not be loaded.")
    expect(page.locator("#queue-rows tr")).to_have_count(0)


def test_backlog_button_shows_progress_and_reloads(page_factory: Any, server: str, admin: str,
                                                   artifacts: Path) -> None:
    page = _agent_page(page_factory)
    start = page.get_by_role("button", name="Triage backlog")
    with page.expect_response(lambda r: "/v1/triage/queue?status=suggested" in r.url, timeout=120_000):
        with page.expect_response(lambda r: r.url.endswith("/v1/triage") and r.request.method == "POST") as post:
            start.click()
        assert post.value.status == 202
        expect(page.locator("#backlog-progress")).to_be_visible()
        expect(page.locator("#backlog-progress")).to_have_attribute("data-state", "done", timeout=120_000)
    expect(start).to_be_enabled()
    bar = page.locator("#backlog-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max")
    job = _get(server, admin, "/v1/triage/jobs")
    assert job["state"] == "done"
    expect(page.locator("#backlog-status")).to_have_text(re.compile(
        rf"^Done: {job['report']['tickets']} open ticket\(s\) looked at — {job['report']['new']} new, "))
    expect(page.locator("#triage-error")).to_have_text("")
    expect(page.locator("#queue-rows tr").first).to_be_visible()
    page.screenshot(path=str(artifacts / "12-triage-backlog-progress.png"))

"""The issue's browser scenarios against ``copilot serve --demo`` in Debian's chromium:

* a staff nurse asks in the widget on the Odoo-like page and sees a cited answer (and leaves feedback);
* the nurse cannot see a passage of a procurement-only contract that the procurement officer does see;
* a compliance officer finds that question in the audit log, opens it, verifies the chain and exports it;
* an approver approves a pending purchase request (the requester cannot);
* the widget works by keyboard on a narrow screen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

QUESTION = "What are the ColdLink courier pickup windows?"
CONTRACT_ONLY = "A pickup is on time if the driver arrives no more than 15 minutes"
CONTRACT_TITLE = "Specimen and Cold-Chain Courier Agreement"
HYGIENE = "How often are hand hygiene compliance audits done?"


def ask_in_widget(page: Any, question: str) -> Any:
    page.locator("#cpw-launcher").click()
    page.locator("#cpw-input").fill(question)
    page.locator("#cpw-send").click()
    answer = page.locator(".cpw-bot").last
    # the first turn of a server builds the agent (its intent classifier embeds the labelled examples)
    expect(answer).to_have_attribute("aria-busy", "false", timeout=90_000)
    expect(answer.locator(".cpw-feedback")).to_be_visible()
    return answer


def test_staff_asks_in_the_widget_and_sees_a_cited_answer(page_factory: Any, artifacts: Path) -> None:
    page = page_factory(viewport={"width": 1280, "height": 860})
    sign_in(page, "nina.nurse", expect="/odoo")
    expect(page.locator("#who")).to_contain_text("Nina Okafor")
    answer = ask_in_widget(page, HYGIENE)
    expect(answer.locator(".cpw-notfound-label")).to_have_count(0)
    expect(answer.locator(".cpw-answer-text")).to_contain_text("[1]")
    expect(answer.locator(".cpw-sources")).to_contain_text("Hand Hygiene Compliance Audits")
    first = answer.locator(".cpw-cite-link").first
    expect(first).to_contain_text("[1]")
    assert "/odoo/documents/" in (first.get_attribute("href") or "")
    assert first.get_attribute("target") == "_blank"
    answer.locator(".cpw-thumb-up").click()
    expect(answer.locator(".cpw-feedback-status")).to_have_text("Thanks — feedback recorded.")
    page.screenshot(path=str(artifacts / "01-widget-staff-cited-answer.png"))


def test_staff_cannot_see_a_procurement_only_contract(page_factory: Any, artifacts: Path) -> None:
    nurse = page_factory(viewport={"width": 1280, "height": 860})
    sign_in(nurse, "nina.nurse", expect="/odoo")
    answer = ask_in_widget(nurse, QUESTION)
    assert CONTRACT_ONLY not in answer.inner_text()
    assert CONTRACT_TITLE not in answer.inner_text()
    nurse.screenshot(path=str(artifacts / "02-widget-staff-no-contract.png"))

    buyer = page_factory(viewport={"width": 1280, "height": 860})
    sign_in(buyer, "paul.procurement", expect="/odoo")
    answer = ask_in_widget(buyer, QUESTION)
    expect(answer.locator(".cpw-sources")).to_contain_text(CONTRACT_TITLE)
    buyer.screenshot(path=str(artifacts / "03-widget-procurement-sees-contract.png"))


def test_not_found_is_shown_honestly(page_factory: Any, artifacts: Path) -> None:
    page = page_factory(viewport={"width": 1280, "height": 860})
    sign_in(page, "nina.nurse", expect="/odoo")
    # (the router sends "what is the rebate percentage in the Helix agreement" to the KPIs: a known miss, see
    # evals/README.md; this test is about the widget showing an abstention)
    answer = ask_in_widget(page, "What is the policy on bringing pets to work?")
    expect(answer.locator(".cpw-notfound-label")).to_have_text("Not found in the documents you can access.")
    expect(answer.locator(".cpw-sources")).to_have_count(0)
    page.screenshot(path=str(artifacts / "04-widget-not-found.png"))


def test_compliance_finds_the_question_verifies_and_exports(page_factory: Any, artifacts: Path) -> None:
    staff = page_factory()
    sign_in(staff, "nina.nurse", expect="/odoo")
    ask_in_widget(staff, QUESTION)

    page = page_factory(viewport={"width": 1280, "height": 900})
    sign_in(page, "quinn.quality", expect="/review")
    page.locator("#f-text").fill("ColdLink")
    page.locator("#f-principal").fill("nina.nurse")
    page.locator("#f-tool").fill("knowledge_search")
    page.locator("#audit-search").click()
    rows = page.locator("#audit-rows tr")
    expect(rows.first).to_contain_text("nina.nurse")
    page.screenshot(path=str(artifacts / "05-audit-search.png"))
    rows.first.locator(".record-open").click()
    expect(page.locator("#record-json")).to_contain_text(QUESTION)
    expect(page.locator("#record-json")).to_contain_text('"hash"')
    page.screenshot(path=str(artifacts / "06-audit-record-detail.png"))
    page.locator("#verify-chain").click()
    expect(page.locator("#verify-status")).to_contain_text("Chain intact")
    page.screenshot(path=str(artifacts / "07-audit-chain-verified.png"))
    with page.expect_download() as dl:
        page.locator("#export-jsonl").click()
    path = dl.value.path()
    records = [json.loads(line) for line in Path(path).read_text().splitlines()]
    assert dl.value.suggested_filename == "copilot-audit.jsonl"
    assert any(QUESTION in r["args_json"] for r in records)
    assert all(r["principal_id"] == "nina.nurse" for r in records)


def test_approver_approves_a_pending_request(page_factory: Any, artifacts: Path) -> None:
    requester = page_factory(viewport={"width": 1280, "height": 900})
    sign_in(requester, "erin.exec", expect="/executive")  # executives land on their dashboard
    requester.goto("/review")
    card = requester.locator("article.approval").first
    expect(card).to_contain_text("purchase_request_create")
    card.locator("button.approve").click()
    expect(card.locator(".decision-status")).to_contain_text("Refused")  # segregation of duties

    page = page_factory(viewport={"width": 1280, "height": 900})
    sign_in(page, "ada.admin", expect="/review")
    page.locator("#tab-approvals").click()
    card = page.locator("article.approval").first
    expect(card).to_contain_text("requested by erin.exec")
    page.screenshot(path=str(artifacts / "08-approvals-queue.png"))
    card.locator("input").fill("Budgeted in Q3 capital plan")
    card.locator("button.approve").click()
    expect(card.locator(".decision-status")).to_contain_text("Approved")
    page.screenshot(path=str(artifacts / "09-approval-approved.png"))


def test_widget_is_keyboard_accessible_on_a_narrow_screen(page_factory: Any, artifacts: Path) -> None:
    page = page_factory(viewport={"width": 375, "height": 740}, is_mobile=True)
    sign_in(page, "nina.nurse", expect="/odoo")
    page.locator("#cpw-launcher").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#cpw-panel")).to_be_visible()
    expect(page.locator("#cpw-input")).to_be_focused()
    box = page.locator("#cpw-panel").bounding_box()
    assert box is not None and box["width"] >= 370  # full width on a phone
    page.keyboard.type(HYGIENE)
    page.keyboard.press("Enter")
    expect(page.locator(".cpw-bot").last).to_have_attribute("aria-busy", "false")
    page.screenshot(path=str(artifacts / "10-widget-narrow-screen.png"))
    page.keyboard.press("Escape")
    expect(page.locator("#cpw-panel")).to_be_hidden()
    expect(page.locator("#cpw-launcher")).to_be_focused()
    expect(page.locator("#cpw-launcher")).to_have_attribute("aria-expanded", "false")


def test_sign_in_page(page_factory: Any, artifacts: Path) -> None:
    page = page_factory(viewport={"width": 1000, "height": 900})
    page.goto("/signin")
    expect(page.locator("#demo-user-list li")).to_have_count(7)
    page.screenshot(path=str(artifacts / "00-sign-in.png"))
    page.locator("#username").fill("nina.nurse")
    page.locator("#password").fill("wrong")
    page.locator("#signin-button").click()
    expect(page.locator("#signin-error")).to_contain_text("Sign-in failed")

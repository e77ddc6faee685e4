"""The executive dashboard at ``/executive`` against ``copilot serve --demo`` in Debian's chromium, as the demo
executive (KPIs as of 2026-04-30):

* the network view: a card per KPI with its value and level and a 12-month trend chart (server-drawn SVG), the
  reason instead of a number where a KPI is not measured, the ranked exceptions, a breakdown, the verified
  summary with its check and snapshot hash;
* an exception opens to its owner, suggested action and the Odoo records behind it;
* choosing a site reloads every part for that site; the PDF review pack downloads as a PDF;
* a staff user sees the API's refusal on the page.

What the page claims is checked against the API as the same user.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

EXEC = "erin.exec"
SITE = "Lakeside Hospital"
PERIOD = "2026-04"
LOADED = '#kpi-cards[aria-busy="false"]'
FIRST_LOAD_MS = 120_000  # the first read computes the KPI pack from the demo Odoo while the demo's triage trains


def _api(server: str, path: str) -> Any:
    token = httpx.post(f"{server}/v1/auth/login", json={"username": EXEC, "password": "demo"}, timeout=10).json()
    r = httpx.get(f"{server}{path}", headers={"Authorization": f"Bearer {token['token']}"}, timeout=120)
    r.raise_for_status()
    return r.json()


def _open(page_factory: Any) -> Any:
    page = page_factory(viewport={"width": 1400, "height": 1000})
    sign_in(page, EXEC, expect="/executive")
    page.wait_for_selector(LOADED, timeout=FIRST_LOAD_MS)
    return page


def test_network_cards_trends_exceptions_and_summary(page_factory: Any, server: str,
                                                     artifacts: Path) -> None:
    page = _open(page_factory)
    summary = _api(server, f"/v1/summaries/pack?period={PERIOD}&format=json")
    pack = _api(server, "/v1/kpis")["kpis"]
    expect(page.locator("#exec-status")).to_have_text("Showing the network, April 2026.")
    expect(page.locator("#exec-error")).to_have_text("")
    expect(page.locator("#period")).to_have_value(PERIOD)
    cards = page.locator("article.kpi-card")
    expect(cards).to_have_count(len(pack))
    for f in summary["figures"]:  # the verified figure, its level and its trend chart
        card = page.locator(f'article.kpi-card[data-kpi="{f["kpi"]}"]')
        expect(card.locator(".value")).to_have_text(f["text"])
        expect(card.locator(".badge")).to_have_text(f["level"])
        img = card.locator(".kpi-trend img")
        expect(img).to_have_attribute("src", re.compile(r"^data:image/svg\+xml;base64,"))
        assert page.evaluate("(i) => i.complete && i.naturalWidth > 0", img.element_handle())
    measured = {f["kpi"] for f in summary["figures"]}
    for k in pack:
        if k["id"] in measured:
            continue
        card = page.locator(f'article.kpi-card[data-kpi="{k["id"]}"]')
        expect(card.locator(".kpi-reason")).not_to_be_empty()
        expect(card.locator(".value")).to_have_count(0)  # a reason, never a number
        expect(card.locator("img")).to_have_count(0)
    expect(page.locator('article.kpi-card[data-kpi="overtime_percentage"] .kpi-reason')).to_contain_text(
        "contracted hours")

    rows = page.locator("#exception-rows tr.exception")
    expect(rows).to_have_count(len(summary["exceptions"]))
    assert summary["exceptions"], "the demo network has exceptions in April 2026"
    first = summary["exceptions"][0]
    expect(rows.first).to_contain_text(first["name"])
    expect(page.locator("#breakdown-kpi")).to_have_value(first["kpi"])
    expect(page.locator("#breakdown-chart img")).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))

    expect(page.locator("#summary-text")).to_have_text(summary["text"])
    expect(page.locator("#summary-check")).to_contain_text("Verified")
    expect(page.locator("#summary-hash")).to_have_text(summary["snapshot_sha256"])
    page.screenshot(path=str(artifacts / "20-executive-network.png"), full_page=True)

    # drill-down: the records behind the top exception, its owner and suggested action
    toggle = rows.first.locator("button.exception-toggle")
    detail = page.locator("#exception-detail-0")
    expect(detail).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text(first["owner"])
    expect(detail).to_contain_text(first["action"])
    links = detail.locator("a.record-link")
    expect(links).to_have_count(len(first["records"]))
    href = links.first.get_attribute("href") or ""
    assert re.search(rf"/odoo/{re.escape(first['records'][0]['model'])}/{first['records'][0]['id']}$", href)
    assert links.first.get_attribute("target") == "_blank"
    page.locator("#exceptions-title").evaluate("(h) => h.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(artifacts / "22-executive-exception-drilldown.png"))
    toggle.click()
    expect(detail).to_be_hidden()


def test_choosing_a_site_reloads_and_the_pdf_pack_downloads(page_factory: Any, server: str,
                                                            artifacts: Path) -> None:
    page = _open(page_factory)
    page.locator("#site").select_option(SITE)
    expect(page.locator("#exec-status")).to_have_text(f"Showing {SITE}, April 2026.", timeout=60_000)
    expect(page.locator("#exec-error")).to_have_text("")
    assert "site=Lakeside+Hospital" in page.url
    summary = _api(server, f"/v1/summaries/pack?period={PERIOD}&site=Lakeside%20Hospital&format=json")
    assert summary["scope"] == SITE
    expect(page.locator("#summary-text")).to_have_text(summary["text"])
    expect(page.locator("#summary-hash")).to_have_text(summary["snapshot_sha256"])
    for f in summary["figures"]:
        card = page.locator(f'article.kpi-card[data-kpi="{f["kpi"]}"]')
        expect(card.locator(".value")).to_have_text(f["text"])
        expect(card.locator(".kpi-trend img")).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    expect(page.locator('article.kpi-card[data-kpi="supplier_on_time"] .kpi-reason')).to_contain_text(
        "not per site")
    expect(page.locator('article.kpi-card[data-kpi="days_to_close"] .kpi-reason')).to_contain_text(
        "account.move is not installed")  # not measured anywhere: the reason, not "network only"
    expect(page.locator("#exception-rows tr.exception")).to_have_count(len(summary["exceptions"]))
    page.screenshot(path=str(artifacts / "21-executive-site.png"), full_page=True)

    with page.expect_download() as dl:
        page.locator("#pack-pdf").click()
    assert dl.value.suggested_filename == f"kpi-review-lakeside-hospital-{PERIOD}.pdf"
    assert Path(dl.value.path()).read_bytes().startswith(b"%PDF")
    expect(page.locator("#pack-pdf")).to_be_enabled()

    page.locator("#period").select_option("2026-02")  # another month reloads too
    expect(page.locator("#exec-status")).to_have_text(f"Showing {SITE}, February 2026.", timeout=60_000)


def test_staff_see_the_refusal(page_factory: Any) -> None:
    page = page_factory(viewport={"width": 1000, "height": 800})
    sign_in(page, "nina.nurse", expect="/odoo")
    page.goto("/executive")
    expect(page.locator("#exec-error")).to_contain_text("Not allowed", timeout=30_000)
    expect(page.locator("#exec-status")).to_have_text("The dashboard could not be loaded.")
    expect(page.locator("article.kpi-card")).to_have_count(0)

"""KPI charts (matplotlib SVG) and the review pack (HTML, PDF) from the demo network, and the dashboard routes:
who may call them, what they return, the typed errors. The demo network is served by the Odoo double in
process; the service is built by ``build_copilot`` with a KPI service bound to it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from copilot.api.app import build_app
from copilot.api.settings import ServiceSettings
from copilot.api.users import UserStore
from copilot.app import build_copilot
from copilot.config import Settings
from copilot.demo.network import BOT_KEY, BOT_LOGIN, SITES, TODAY, build_demo_network
from copilot.governance.principal import Principal
from copilot.kpi import charts
from copilot.kpi.pack import KpiDef, KpiPack
from copilot.kpi.service import KpiService
from copilot.kpi.summary import build_table, summarise
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo_double import Database, OdooDouble

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"
PERIOD = "2026-04"
PACK = KpiPack.load()


class Demo:
    def __init__(self) -> None:
        self.db = Database(version="19.0")
        build_demo_network(self.db, tickets=300)
        self.double = OdooDouble(self.db).start()
        cfg = OdooConfig(url=self.double.url, db=self.db.name, login=BOT_LOGIN, api_key=BOT_KEY, transport="auto")
        self.kpis = KpiService(lambda: OdooClient(cfg).connect(), site_aliases=SITES, today=lambda: TODAY)

    def values(self, kpi: str, site: str | None = None) -> dict[str, Any]:
        return self.kpis.query(kpi, site=site)


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    d = Demo()
    yield d
    d.double.stop()


@pytest.fixture(scope="module")
def api(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("api-dashboard")
    settings = Settings(data_dir=tmp / "data", embedding_backend="hashing", redaction="none",
                        odoo_url=demo.double.url, odoo_db=demo.db.name)
    cp = build_copilot(settings)
    cp.__dict__["kpis"] = demo.kpis
    # a network executive (every site) and a site executive, as fixed tokens: the user store keeps sites as
    # lowercase identifiers, while KPI sites are the network's site names
    tokens = {"tok-boss": Principal(id="boss", name="Boss", role="executive", sites=("*",)),
              "tok-lena": Principal(id="lena", name="Lena", role="executive", sites=("Riverbend Clinic",))}
    app = build_app(cp, tokens=tokens, service=ServiceSettings.from_settings(
        settings, rate_limit_per_minute=100_000, rate_limit_burst=10_000))
    users = UserStore(cp.engine)
    h = {u: {"Authorization": f"Bearer {t}"} for u, t in (("boss", "tok-boss"), ("lena", "tok-lena"))}
    for uid, role, sites in (("erin.exec", "executive", ("*",)), ("nina.nurse", "staff", ())):
        _, key = users.add(uid, role=role, groups=("all_staff",), sites=sites, user_id=uid)
        h[uid] = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:
        yield client, h
    cp.close()


def _svg(text: str) -> ET.Element:
    return ET.fromstring(text)  # well-formed, or this raises


def _group(root: ET.Element, gid: str) -> ET.Element | None:
    return next((g for g in root.iter(f"{SVG}g") if g.get("id") == gid), None)


def _ids(root: ET.Element, prefix: str) -> list[str]:
    return [str(e.get("id")) for e in root.iter() if str(e.get("id") or "").startswith(prefix)]


# -- charts ---------------------------------------------------------------------------------------------------


def test_trend_is_svg_with_both_thresholds_and_one_point_per_month(demo: Demo) -> None:
    res = demo.values("stockout_rate")
    root = _svg(charts.trend_svg(res["values"], KpiDef.model_validate(res["kpi"]), periods=res["periods"]))
    assert root.tag == f"{SVG}svg"
    assert _group(root, "threshold-warn") is not None and _group(root, "threshold-breach") is not None
    line = _group(root, "trend-0")
    assert line is not None and len(line.findall(f".//{SVG}use")) == len(res["periods"]) == 12
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))  # svg.fonttype none: text stays text
    assert "warn 2.0%" in text and "breach 5.0%" in text and "Stockout rate" in text


def test_a_median_kpi_draws_one_line_per_team_and_a_site_one_line(demo: Demo) -> None:
    res = demo.values("ticket_resolution_time")
    root = _svg(charts.trend_svg(res["values"], PACK["ticket_resolution_time"]))
    assert len(_ids(root, "trend-")) == len({v["group"] for v in res["values"]}) == 4
    site = demo.values("stockout_rate", "Riverbend Clinic")
    root = _svg(charts.trend_svg(site["values"], PACK["stockout_rate"], scope="Riverbend Clinic"))
    assert _ids(root, "trend-") == ["trend-0"]
    assert any("Riverbend Clinic" in (t.text or "") for t in root.iter(f"{SVG}text"))


@pytest.mark.parametrize("kpi", PACK.ids())
def test_every_kpi_draws_valid_svg_and_a_reason_instead_of_a_number(demo: Demo, kpi: str) -> None:
    res = demo.values(kpi)
    measured = any(v["status"] == "ok" for v in res["values"])
    for svg in (charts.trend_svg(res["values"], PACK[kpi], periods=res["periods"]),
                charts.breakdown_svg(res["values"], PACK[kpi], PERIOD)):
        root = _svg(svg)
        if not measured:
            assert _ids(root, "not-measured") and not _ids(root, "trend-") and not _ids(root, "bar-")
            words = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
            assert "Not measured" in words


def test_breakdown_has_a_bar_per_supplier_coloured_by_level(demo: Demo) -> None:
    res = demo.values("supplier_on_time")
    cells = [v for v in res["values"] if v["period"] == PERIOD and v["status"] == "ok"]
    root = _svg(charts.breakdown_svg(res["values"], PACK["supplier_on_time"], PERIOD))
    bars = [g for g in root.iter(f"{SVG}g") if str(g.get("id") or "").startswith("bar-")]
    assert len(bars) == len(cells) == 3
    fills = {b.find(f"{SVG}path").get("style", "").split("fill: ")[1][:7] for b in bars}  # type: ignore[union-attr]
    expected = {charts.LEVEL_COLOURS[PACK["supplier_on_time"].status_of(c["value"])] for c in cells}
    assert fills == expected
    names = {t.text for t in root.iter(f"{SVG}text")}
    assert {c["group"] for c in cells} <= names


def test_breakdown_by_site_sums_money(demo: Demo) -> None:
    res = demo.values("expired_inventory_value")
    root = _svg(charts.breakdown_svg(res["values"], PACK["expired_inventory_value"], PERIOD))
    sites = {v["site"] for v in res["values"] if v["period"] == PERIOD and v["status"] == "ok"}
    assert len(_ids(root, "bar-")) == len(sites) >= 10


@pytest.mark.parametrize(
    ("unit", "agg", "rows", "expected"),
    [
        ("ratio", "ratio", [{"value": 0.5, "numerator": 1, "denominator": 2}], 0.5),
        ("ratio", "ratio", [{"value": 0.5, "numerator": 1, "denominator": 2},
                            {"value": 0.0, "numerator": 0, "denominator": 8}], 0.1),
        ("currency", "sum", [{"value": 300.0, "numerator": 300, "denominator": 1},
                             {"value": 200.0, "numerator": 200, "denominator": 1}], 500.0),
        ("hours", "median", [{"value": 3.0, "numerator": 3, "denominator": 1},
                             {"value": 9.0, "numerator": 9, "denominator": 1}], None),
        ("hours", "median", [{"value": 7.5, "numerator": 7.5, "denominator": 1}], 7.5),
        ("ratio", "ratio", [], None),
    ],
)
def test_cells_combine_like_the_summary_network_figure(unit: str, agg: str, rows: list[dict[str, Any]],
                                                      expected: float | None) -> None:
    kpi = PACK["stockout_rate"].model_copy(update={"unit": unit, "agg": agg})
    assert charts.combine(rows, kpi) == (pytest.approx(expected) if expected is not None else None)


# -- the review pack ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack(demo: Demo) -> charts.ReviewPack:
    summary = summarise(build_table(demo.kpis.engine(), period=PERIOD))
    return charts.review_pack(summary, lambda kpi, site: demo.values(kpi, site), odoo_url="http://odoo.test")


def test_pack_html_holds_every_figure_exception_and_chart(pack: charts.ReviewPack) -> None:
    page = charts.pack_html(pack)
    s = pack.summary
    assert page.startswith("<!doctype html>") and "<script" not in page
    for f in s["figures"]:
        assert f["text"] in page and f["query"].replace("&", "&amp;") in page
    for e in s["exceptions"]:
        assert e["why"].replace("'", "&#x27;") in page and e["owner"] in page
    assert 'href="http://odoo.test/odoo/purchase.order/' in page
    assert s["snapshot_sha256"] in page
    assert page.count("<svg") == len(pack.charts) == len(s["figures"]) + len({e["kpi"] for e in s["exceptions"]})
    for chunk in page.split("<svg")[1:]:  # each inline chart is well-formed SVG on its own
        _svg("<svg" + chunk.split("</svg>")[0] + "</svg>")


def test_pack_pdf_is_a_pdf_with_the_text_then_the_charts(pack: charts.ReviewPack) -> None:
    import io

    from pypdf import PdfReader

    pdf = charts.pack_pdf(pack)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1 + (len(pack.charts) + 5) // 6
    first = reader.pages[0].extract_text()
    assert "KPI review pack" in first and pack.summary["snapshot_sha256"] in first


# -- routes ---------------------------------------------------------------------------------------------------

ROUTES = ["/v1/kpis/stockout_rate/trend.svg", f"/v1/kpis/stockout_rate/breakdown.svg?period={PERIOD}",
          f"/v1/summaries/pack?period={PERIOD}", f"/v1/summaries/pack?period={PERIOD}&format=pdf"]


@pytest.mark.parametrize("path", ROUTES)
def test_routes_need_a_token_and_refuse_staff(api: Any, path: str) -> None:
    client, h = api
    assert client.get(path).status_code == 401
    r = client.get(path, headers=h["nina.nurse"])
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


@pytest.mark.parametrize(
    ("path", "media"),
    [("/v1/kpis/stockout_rate/trend.svg", "image/svg+xml"),
     ("/v1/kpis/supplier_on_time/breakdown.svg?period=2026-03", "image/svg+xml"),
     (f"/v1/summaries/pack?period={PERIOD}", "text/html; charset=utf-8"),
     (f"/v1/summaries/pack?period={PERIOD}&format=pdf", "application/pdf"),
     (f"/v1/summaries/pack?period={PERIOD}&format=json", "application/json")],
)
def test_an_executive_gets_each_format(api: Any, path: str, media: str) -> None:
    client, h = api
    r = client.get(path, headers=h["erin.exec"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == media
    if media == "image/svg+xml":
        _svg(r.text)
    if media == "application/pdf":
        assert r.content.startswith(b"%PDF")
        assert r.headers["content-disposition"] == f'attachment; filename="kpi-review-network-{PERIOD}.pdf"'


def test_every_read_is_an_audited_kpi_query(api: Any) -> None:
    client, h = api
    audit = client.app.state.copilot.audit  # type: ignore[attr-defined]
    before = len(audit.search(principal="boss", tool="kpi_query", limit=None))
    assert client.get("/v1/kpis/equipment_uptime/trend.svg", headers=h["boss"]).status_code == 200
    assert client.get(f"/v1/summaries/pack?period={PERIOD}&format=pdf", headers=h["boss"]).status_code == 200
    reads = audit.search(principal="boss", tool="kpi_query", limit=None)
    assert len(reads) > before + 1 and all(r.outcome == "ok" for r in reads)
    assert audit.search(principal="boss", tool="dashboard_summary", limit=None)


def test_the_json_pack_carries_record_links_and_the_site_pack_only_that_site(api: Any) -> None:
    client, h = api
    out = client.get(f"/v1/summaries/pack?period={PERIOD}&format=json", headers=h["erin.exec"]).json()
    links = [r["link"] for e in out["exceptions"] for r in e["records"]]
    assert links and all(str(link).startswith(client.app.state.copilot.settings.odoo_url) for link in links)  # type: ignore[attr-defined]
    site = client.get("/v1/summaries/pack", params={"period": "2026-02", "site": "Riverbend Clinic",
                                                   "format": "json"}, headers=h["lena"]).json()
    assert site["scope"] == "Riverbend Clinic" and all(e["site"] == "Riverbend Clinic" for e in site["exceptions"])
    page = client.get("/v1/summaries/pack", params={"period": "2026-02", "site": "Riverbend Clinic"},
                      headers=h["lena"])
    assert page.status_code == 200 and "Riverbend Clinic" in page.text


@pytest.mark.parametrize(
    ("who", "path", "status", "code"),
    [
        ("erin.exec", "/v1/kpis/happiness/trend.svg", 404, "unknown_kpi"),
        ("erin.exec", "/v1/kpis/happiness/breakdown.svg?period=2026-03", 404, "unknown_kpi"),
        ("erin.exec", "/v1/kpis/stockout_rate/breakdown.svg?period=2026-3", 422, "validation"),
        ("erin.exec", "/v1/kpis/stockout_rate/breakdown.svg?period=2019-01", 422, "period_out_of_range"),
        ("erin.exec", "/v1/kpis/stockout_rate/breakdown.svg", 422, "validation"),
        ("erin.exec", "/v1/summaries/pack?period=2031-01", 422, "period_out_of_range"),
        ("erin.exec", "/v1/summaries/pack?period=March", 422, "validation"),
        ("erin.exec", f"/v1/summaries/pack?period={PERIOD}&format=docx", 422, "validation"),
        ("boss", "/v1/kpis/supplier_on_time/trend.svg?site=Lakeside%20Hospital", 422, "kpi_not_per_site"),
        ("lena", "/v1/kpis/stockout_rate/trend.svg?site=Lakeside%20Hospital", 403, "site_forbidden"),
        ("lena", f"/v1/summaries/pack?period={PERIOD}", 403, "site_forbidden"),
    ],
)
def test_typed_errors(api: Any, who: str, path: str, status: int, code: str) -> None:
    client, h = api
    r = client.get(path, headers=h[who])
    assert r.status_code == status, r.text
    assert r.json()["error"] == code


def test_a_site_executive_gets_the_site_trend(api: Any) -> None:
    client, h = api
    r = client.get("/v1/kpis/stockout_rate/trend.svg", params={"site": "Riverbend Clinic"}, headers=h["lena"])
    assert r.status_code == 200
    root = _svg(r.text)
    assert _ids(root, "trend-") == ["trend-0"]
    assert any("Riverbend Clinic" in (t.text or "") for t in root.iter(f"{SVG}text"))

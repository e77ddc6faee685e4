"""KPI charts drawn by matplotlib (server-side, Agg, SVG with live text) and the monthly review pack built from a
verified summary: a self-contained HTML page (inline SVG) or a PDF (matplotlib's ``PdfPages``).

The values are the ``kpi_query`` tool's rows (dicts); nothing here reads Odoo or knows HTTP. A network line is
the ratio of the summed numerators and denominators (or the sum, for money), like the summary's network figure;
medians do not add up, so a median KPI with several teams gets one line per team. A KPI with no number for the
period gets its reason drawn instead of a number.

Usage::

    svg = trend_svg(result["values"], KpiDef.model_validate(result["kpi"]))          # 12 months, thresholds
    svg = breakdown_svg(result["values"], kpi, "2026-03")                           # bars by site or supplier
    pack = review_pack(summary, fetch=lambda kpi, site: kpi_query(...), site=None, odoo_url=url)
    pack_html(pack), pack_pdf(pack)
"""

from __future__ import annotations

import html
import io
import math
import textwrap
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from copilot.kpi.engine import combine as engine_combine
from copilot.kpi.exceptions import format_value
from copilot.kpi.pack import KpiDef
from copilot.kpi.summary import MONTHS, month_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LEVEL_COLOURS = {"ok": "#276749", "warn": "#b7791f", "breach": "#c53030", "unknown": "#718096"}
LINE_COLOURS = ["#2b6cb0", "#805ad5", "#dd6b20", "#319795", "#d53f8c", "#4a5568"]
TREND_SIZE = (4.2, 2.4)
"""Inches: small enough for a dashboard card, legible when the SVG scales to the card's width."""
NETWORK = "the network"

_setup_lock = threading.Lock()
_ready = False


def _setup() -> None:
    """Agg (no display), text kept as text in SVG (no embedded glyphs, no font files). Once per process."""
    global _ready
    with _setup_lock:
        if not _ready:
            import matplotlib

            matplotlib.use("Agg")
            matplotlib.rcParams["svg.fonttype"] = "none"
            matplotlib.rcParams["font.family"] = "sans-serif"
            _ready = True


def _figure(size: tuple[float, float]) -> Figure:
    _setup()
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained")  # no pyplot: thread-safe per figure


def to_svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


# -- values -> series -----------------------------------------------------------------------------------------


def _ok(values: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in values if v.get("status") == "ok" and v.get("value") is not None]


def combine(rows: Sequence[dict[str, Any]], kpi: KpiDef) -> float | None:
    """One value from several cells of a period (see :func:`copilot.kpi.engine.combine`)."""
    value = engine_combine([(r.get("value"), r.get("numerator"), r.get("denominator")) for r in rows], kpi)
    return None if value is None else float(value)


def series(values: Sequence[dict[str, Any]], kpi: KpiDef) -> dict[str, dict[str, float]]:
    """Line label -> period -> value: one line for the scope, or one per team where a median cannot combine."""
    by_period: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in _ok(values):
        by_period[v["period"]].append(v)
    if kpi.agg == "median" and any(len(rows) > 1 for rows in by_period.values()):
        lines: dict[str, dict[str, float]] = defaultdict(dict)
        for period, rows in by_period.items():
            for r in rows:
                lines[str(r.get("group") or r.get("site") or NETWORK)][period] = float(r["value"])
        return dict(sorted(lines.items()))
    out = {p: combine(rows, kpi) for p, rows in by_period.items()}
    return {kpi.name: {p: v for p, v in out.items() if v is not None}}


def _not_measured(values: Sequence[dict[str, Any]]) -> str | None:
    """The reason a KPI has no number at all (unavailable on this server, or no records), else None."""
    if _ok(values):
        return None
    reasons = [str(v.get("reason")) for v in values if v.get("reason")]
    return reasons[0] if reasons else "no values"


def _month_label(period: str) -> str:
    return f"{MONTHS[int(period[5:7]) - 1][:3]} {period[2:4]}"


# -- drawing --------------------------------------------------------------------------------------------------


def _axis_format(ax: Axes, kpi: KpiDef, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    if kpi.unit == "ratio":
        target.set_major_formatter(PercentFormatter(xmax=1, decimals=None))
    elif kpi.unit == "currency":
        target.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
    else:
        target.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    target.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))


def _thresholds(ax: Axes, kpi: KpiDef, *, vertical: bool = False) -> None:
    for level in ("warn", "breach"):
        t = getattr(kpi.thresholds, level)
        style: dict[str, Any] = {
            "color": LEVEL_COLOURS[level], "linestyle": "--" if level == "warn" else "-.", "linewidth": 1,
            "label": f"{level} {format_value(kpi.unit, t)}", "gid": f"threshold-{level}",
        }
        (ax.axvline if vertical else ax.axhline)(t, **style)


def _message(ax: Axes, title: str, text: str) -> None:
    ax.set_axis_off()
    ax.set_title(title, fontsize=9, loc="left", parse_math=False)
    ax.text(0.0, 0.8, "\n".join(textwrap.wrap(text, 60)), fontsize=8, va="top", ha="left", color="#4a5568",
            transform=ax.transAxes, parse_math=False, gid="not-measured")


def draw_trend(ax: Axes, values: Sequence[dict[str, Any]], kpi: KpiDef, *, periods: Sequence[str] | None = None,
               scope: str | None = None) -> None:
    """The KPI per month for one scope, with its warn and breach lines; a month without a value is a gap."""
    where = scope or NETWORK
    title = f"{kpi.name} · {where}"
    reason = _not_measured(values)
    if reason is not None:
        _message(ax, title, f"Not measured: {reason}")
        return
    months = sorted(set(periods or ()) | {str(v["period"]) for v in values})
    xs = list(range(len(months)))
    lines = series(values, kpi)
    for i, (label, points) in enumerate(lines.items()):
        ys = [points.get(p, math.nan) for p in months]
        ax.plot(xs, ys, marker="o", markersize=3.5, linewidth=1.6, color=LINE_COLOURS[i % len(LINE_COLOURS)],
                label=label if len(lines) > 1 else None, gid=f"trend-{i}")
    _thresholds(ax, kpi)
    shown = [y for pts in lines.values() for y in pts.values()] + [kpi.thresholds.warn, kpi.thresholds.breach]
    low, high = min(shown), max(shown)
    pad = (high - low) * 0.12 or abs(high) * 0.1 or 1.0
    ax.set_ylim(max(0.0, low - pad) if low >= 0 else low - pad, high + pad)
    step = 1 if len(months) <= 6 else 2
    ax.set_xticks(xs[::step], [_month_label(m) for m in months][::step])
    ax.set_xlim(-0.4, len(months) - 0.6)
    _axis_format(ax, kpi)
    ax.tick_params(labelsize=7)
    ax.grid(axis="y", color="#e2e8f0", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=9, loc="left", parse_math=False)
    if len(lines) > 1:  # one line per team: the key goes under the plot, not over the lines
        legend = ax.legend(fontsize=6.5, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=3)
    else:
        legend = ax.legend(fontsize=6.5, frameon=False, loc="best")
    for t in legend.get_texts():
        t.set_parse_math(False)


def draw_breakdown(ax: Axes, values: Sequence[dict[str, Any]], kpi: KpiDef, period: str) -> None:
    """One bar per site (or supplier, team, department for a site-less KPI) in ``period``, coloured by level."""
    title = f"{kpi.name} · {month_name(period)}"
    rows = [v for v in values if v.get("period") == period]
    reason = _not_measured(rows)
    if reason is not None:
        _message(ax, title, f"Not measured: {reason}")
        return
    cells: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _ok(rows):
        key = row.get("site") if kpi.site != "none" else row.get("group")
        cells[str(key or row.get("group") or NETWORK)].append(row)
    bars: list[tuple[str, float | None]] = [(name, combine(rs, kpi)) for name, rs in cells.items()]
    if kpi.agg == "median":  # per cell the engine's own value: medians of several groups are shown apart
        bars = [(f"{name} · {r.get('group')}" if len(rs) > 1 and r.get("group") else name, float(r["value"]))
                for name, rs in cells.items() for r in rs]
    known = [(n, x) for n, x in bars if x is not None]
    known.sort(key=lambda b: b[1], reverse=kpi.good == "lower")  # worst first, at the top
    names = [n for n, _ in known][::-1]
    vals = [v for _, v in known][::-1]
    colours = [LEVEL_COLOURS.get(kpi.status_of(v), LEVEL_COLOURS["unknown"]) for v in vals]
    container = ax.barh(range(len(vals)), vals, color=colours, height=0.65)
    for i, patch in enumerate(container.patches):
        patch.set_gid(f"bar-{i}")
    ax.set_yticks(range(len(vals)), names)
    for t in ax.get_yticklabels():
        t.set_parse_math(False)
    top = max([*vals, kpi.thresholds.warn, kpi.thresholds.breach, 0.0])
    for i, v in enumerate(vals):  # the level in words too: a zero-length bar has no colour to see
        level = kpi.status_of(v)
        ax.text(v if v > 0 else 0.0, i, f" {format_value(kpi.unit, v)} ({level})", va="center", fontsize=6.5,
                color=LEVEL_COLOURS.get(level, "#1f2933"), parse_math=False)
    _thresholds(ax, kpi, vertical=True)
    ax.set_xlim(min(0.0, *vals), top * 1.3 or 1.0)
    _axis_format(ax, kpi, "x")
    if kpi.unit == "ratio" and top <= 1.0:  # room for the labels, but no tick past 100%
        ax.set_xticks([t / 5 for t in range(6)])
    ax.tick_params(labelsize=7)
    ax.grid(axis="x", color="#e2e8f0", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=9, loc="left", parse_math=False)
    ax.legend(fontsize=6.5, frameon=False, loc="lower right")


def trend_svg(values: Sequence[dict[str, Any]], kpi_def: KpiDef, *, periods: Sequence[str] | None = None,
              scope: str | None = None) -> str:
    """A KPI's months for one site (``scope``) or the network, with the warn/breach lines, as SVG."""
    fig = _figure(TREND_SIZE)
    draw_trend(fig.subplots(), values, kpi_def, periods=periods, scope=scope)
    return to_svg(fig)


def breakdown_svg(values: Sequence[dict[str, Any]], kpi_def: KpiDef, period: str) -> str:
    """Bars by site (or supplier, team, department) for one month, coloured by level, as SVG."""
    n = len({(v.get("site"), v.get("group")) for v in _ok(values) if v.get("period") == period})
    fig = _figure((5.6, max(1.9, 0.9 + 0.28 * n)))
    draw_breakdown(fig.subplots(), values, kpi_def, period)
    return to_svg(fig)


# -- the review pack ------------------------------------------------------------------------------------------


@dataclass
class Chart:
    kind: str  # trend | breakdown
    kpi: KpiDef
    values: list[dict[str, Any]]
    period: str
    periods: list[str] = field(default_factory=list)
    scope: str | None = None

    @property
    def caption(self) -> str:
        if self.kind == "trend":
            return f"{self.kpi.name}: 12 months, {self.scope or NETWORK}"
        cells = [v for v in _ok(self.values) if v.get("period") == self.period]
        if all(v.get("site") is None and v.get("group") is None for v in cells):
            return f"{self.kpi.name}: {month_name(self.period)}, network total"
        return f"{self.kpi.name}: {month_name(self.period)} by {'site' if self.kpi.site != 'none' else self.kpi.by}"

    def draw(self, ax: Axes) -> None:
        if self.kind == "trend":
            draw_trend(ax, self.values, self.kpi, periods=self.periods, scope=self.scope)
        else:
            draw_breakdown(ax, self.values, self.kpi, self.period)

    def svg(self) -> str:
        if self.kind == "trend":
            return trend_svg(self.values, self.kpi, periods=self.periods, scope=self.scope)
        return breakdown_svg(self.values, self.kpi, self.period)


@dataclass
class ReviewPack:
    summary: dict[str, Any]
    """The ``dashboard_summary`` result, its exception records carrying an Odoo ``link`` where one is known."""
    site: str | None
    charts: list[Chart]

    @property
    def title(self) -> str:
        return f"KPI review pack · {self.summary['scope']} · {month_name(self.summary['period'])}"

    @property
    def filename(self) -> str:
        scope = "".join(c if c.isascii() and c.isalnum() else "-" for c in (self.site or "network").lower()).strip("-")
        return f"kpi-review-{scope}-{self.summary['period']}"


def record_link(odoo_url: str | None, model: str | None, rid: Any) -> str | None:
    """The Odoo backend URL of a record (``/odoo/<model>/<id>``, Odoo 17+), None without a configured Odoo."""
    if not odoo_url or not model or rid is None:
        return None
    return f"{odoo_url.rstrip('/')}/odoo/{model}/{int(rid)}"


def with_links(summary: dict[str, Any], odoo_url: str | None) -> dict[str, Any]:
    out = dict(summary)
    out["exceptions"] = [
        {**e, "records": [{**r, "link": record_link(odoo_url, r.get("model"), r.get("id"))}
                          for r in e.get("records", [])]}
        for e in summary.get("exceptions", [])
    ]
    return out


def review_pack(
    summary: dict[str, Any],
    fetch: Callable[[str, str | None], dict[str, Any]],
    *,
    site: str | None = None,
    odoo_url: str | None = None,
) -> ReviewPack:
    """The pack of one month and scope: the summary (with record links), a trend per KPI with a figure, and for
    the network a breakdown per KPI with an exception. ``fetch(kpi, site)`` returns a ``kpi_query`` result
    (12 months) — the caller routes it through the governed executor."""
    period = summary["period"]
    charts: list[Chart] = []
    fetched: dict[tuple[str, str | None], dict[str, Any]] = {}

    def get(kpi: str, where: str | None) -> dict[str, Any]:
        if (kpi, where) not in fetched:
            fetched[(kpi, where)] = fetch(kpi, where)
        return fetched[(kpi, where)]

    for fig in summary.get("figures", []):
        res = get(fig["kpi"], site)
        charts.append(Chart("trend", KpiDef.model_validate(res["kpi"]), res["values"], period,
                            list(res.get("periods") or []), site))
    if site is None:
        for kpi in dict.fromkeys(e["kpi"] for e in summary.get("exceptions", [])):
            res = get(kpi, None)
            charts.append(Chart("breakdown", KpiDef.model_validate(res["kpi"]), res["values"], period))
    return ReviewPack(with_links(summary, odoo_url), site, charts)


def _where(e: dict[str, Any]) -> str:
    return str(e.get("site") or e.get("group") or NETWORK)


def _check_line(summary: dict[str, Any]) -> str:
    check = summary.get("check") or {}
    problems = check.get("problems") or []
    verdict = "passed" if not problems else f"{len(problems)} problem(s): " + "; ".join(problems)
    return (f"Checked {check.get('checked', 0)} numbers, months, places and directions against the KPI table: "
            f"{verdict} (written by {summary.get('by', 'template')}).")


_CSS = """
body { font: 14px/1.5 system-ui, sans-serif; color: #1f2933; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e2e8f0; vertical-align: top; }
code { font-size: 12px; word-break: break-all; }
.level { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; color: #fff; }
.level-ok { background: #276749; } .level-warn { background: #b7791f; } .level-breach { background: #c53030; }
.level-unknown { background: #718096; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 16px; }
figure { margin: 0; border: 1px solid #e2e8f0; border-radius: 6px; padding: 8px; }
figure svg { width: 100%; height: auto; } figcaption { font-size: 12px; color: #4a5568; }
.muted { color: #4a5568; }
"""


def _svg_markup(svg: str) -> str:
    """matplotlib's SVG document without its XML prolog, to sit inline in HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def pack_html(pack: ReviewPack) -> str:
    """One self-contained page: summary, check, figures with their queries, ranked exceptions with owners,
    actions and record links, inline SVG charts, the snapshot hash. Every text from data is escaped."""
    s = pack.summary
    esc = html.escape
    out = [
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{esc(pack.title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>{esc(pack.title)}</h1>",
        f'<p class="muted">KPI snapshot SHA-256 <code id="snapshot">{esc(s["snapshot_sha256"])}</code></p>',
        '<h2>Summary</h2>', f'<p id="summary">{esc(s["text"])}</p>', f'<p id="check">{esc(_check_line(s))}</p>',
        "<h2>Figures</h2>",
        "<table id=\"figures\"><thead><tr><th>KPI</th><th>Value</th><th>Level</th><th>Query</th></tr></thead><tbody>",
    ]
    for f in s.get("figures", []):
        out.append(f"<tr><td>{esc(f['name'])}</td><td>{esc(f['text'])}</td>"
                   f'<td><span class="level level-{esc(f["level"])}">{esc(f["level"])}</span></td>'
                   f"<td><code>{esc(f['query'])}</code></td></tr>")
    out += ["</tbody></table>", "<h2>Exceptions, ranked by impact</h2>"]
    if not s.get("exceptions"):
        out.append("<p>No exceptions this month.</p>")
    else:
        out.append('<table id="exceptions"><thead><tr><th>#</th><th>KPI</th><th>Where</th><th>Value</th>'
                   "<th>Why</th><th>Owner</th><th>Suggested action</th><th>Records</th></tr></thead><tbody>")
        for i, e in enumerate(s["exceptions"], 1):
            recs = []
            for r in e.get("records", []):
                label = esc(f"{r.get('model')} #{r.get('id')}")
                recs.append(f'<a href="{esc(r["link"])}">{label}</a>' if r.get("link") else label)
            out.append(f"<tr><td>{i}</td><td>{esc(e['name'])}</td><td>{esc(_where(e))}</td>"
                       f"<td>{esc(format_value(e['unit'], e['value']))}</td><td>{esc(e['why'])}</td>"
                       f"<td>{esc(e['owner'])}</td><td>{esc(e['action'])}</td><td>{', '.join(recs) or '—'}</td></tr>")
        out.append("</tbody></table>")
    out += ["<h2>Charts</h2>", '<div class="charts">']
    for c in pack.charts:
        out.append(f'<figure class="chart-{c.kind}">{_svg_markup(c.svg())}<figcaption>{esc(c.caption)}</figcaption>'
                   "</figure>")
    out += ["</div>", "</body>", "</html>", ""]
    return "\n".join(out)


A4 = (8.27, 11.69)
_LINES_PER_PAGE = 62


def _text_lines(pack: ReviewPack) -> list[tuple[str, str]]:
    """(style, line) for the text pages: heading, body, mono."""
    s = pack.summary
    wrap = lambda text, width=110: textwrap.wrap(text, width) or [""]  # noqa: E731
    lines: list[tuple[str, str]] = [("title", pack.title), ("mono", f"KPI snapshot SHA-256 {s['snapshot_sha256']}"),
                                    ("body", ""), ("head", "Summary")]
    lines += [("body", ln) for ln in wrap(s["text"])]
    lines += [("body", ln) for ln in wrap(_check_line(s))]
    lines += [("body", ""), ("head", "Figures")]
    for f in s.get("figures", []):
        lines.append(("body", f"{f['name']}: {f['text']} ({f['level']})"))
        lines.append(("mono", f"    {f['query']}"))
    lines += [("body", ""), ("head", "Exceptions, ranked by impact")]
    if not s.get("exceptions"):
        lines.append(("body", "No exceptions this month."))
    for i, e in enumerate(s.get("exceptions", []), 1):
        lines += [("body", ln) for ln in wrap(f"{i}. {e['why']}.")]
        lines += [("body", "    " + ln) for ln in wrap(f"Owner: {e['owner']}. Suggested: {e['action']}.", 104)]
        recs = ", ".join(r.get("link") or f"{r.get('model')} #{r.get('id')}" for r in e.get("records", [])[:6])
        if recs:
            lines += [("mono", "    " + ln) for ln in wrap("Records: " + recs, 104)]
    return lines


def pack_pdf(pack: ReviewPack) -> bytes:
    """Text page(s) with the summary, the figures and the exceptions, then the charts, six to an A4 page."""
    _setup()
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    style: dict[str, dict[str, Any]] = {
        "title": {"fontsize": 13, "weight": "bold"}, "head": {"fontsize": 10.5, "weight": "bold"},
        "body": {"fontsize": 8}, "mono": {"fontsize": 7, "family": "monospace", "color": "#4a5568"},
    }
    with PdfPages(buf, metadata={"Title": pack.title, "Creator": "Copilot", "CreationDate": None}) as pdf:
        lines = _text_lines(pack)
        for start in range(0, len(lines), _LINES_PER_PAGE):
            fig = _figure(A4)
            for i, (kind, text) in enumerate(lines[start:start + _LINES_PER_PAGE]):
                fig.text(0.07, 0.95 - i * 0.0145, text, va="top", parse_math=False, **style[kind])
            pdf.savefig(fig)
        for start in range(0, len(pack.charts), 6):
            fig = _figure(A4)
            axes = fig.subplots(3, 2).flatten()
            chunk = pack.charts[start:start + 6]
            for ax, chart in zip(axes, chunk, strict=False):
                chart.draw(ax)
            for ax in axes[len(chunk):]:
                ax.set_axis_off()
            pdf.savefig(fig)
    return buf.getvalue()

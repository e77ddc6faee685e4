"""Dashboard summary latency and Odoo requests on the demo network (Odoo 17 double on loopback, real client).

    .venv/bin/python bench/summaries.py --json          # ~2 min

* ``site_month``: one site's verified summary for one month — ``cold`` with a new engine each time (every model
  read from Odoo), ``cached`` on a warm engine (the per-refresh record cache of ``KpiService``; the figures then
  measure the computation and the checker, not Odoo); distinct (site, month) pairs in every run;
* ``network_year``: the network summary for each of the 12 months — cold (one new engine) and cached;
* Odoo requests for each, peak RSS.

Medians over ``--runs``; p95 over the pooled samples. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, latency_summary, log, machine, peak_rss_mb
from copilot.demo.network import BOT_KEY, BOT_LOGIN, SITES, TODAY, build_demo_network
from copilot.kpi.engine import KpiEngine
from copilot.kpi.summary import build_table, summarise
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo_double import Database, OdooDouble


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    db = Database(version="17.0")
    build_demo_network(db)
    out: dict[str, Any] = {"machine": machine()}
    with OdooDouble(db) as double:
        cfg = OdooConfig(url=double.url, db=db.name, login=BOT_LOGIN, api_key=BOT_KEY, transport="auto")

        def engine() -> KpiEngine:
            return KpiEngine(OdooClient(cfg).connect(), today=TODAY, site_aliases=SITES)

        warm = engine()
        sites = sorted({s for k in warm.pack.ids() for s in warm.sites(k)})
        pairs = [(s, p) for p in warm.periods for s in sites]
        cold, cached, cold_req = [], [], []
        for run in range(args.runs):
            for site, period in pairs[run * 4 : run * 4 + 4]:
                e = engine()
                t = time.perf_counter()
                summarise(build_table(e, period=period, site=site))
                cold.append(time.perf_counter() - t)
                cold_req.append(e.requests)
            for site, period in pairs[run * 20 : run * 20 + 20]:
                t = time.perf_counter()
                summarise(build_table(warm, period=period, site=site))
                cached.append(time.perf_counter() - t)
            log(f"run {run + 1}: cold p50 {statistics.median(cold) * 1000:.0f} ms")
        out["site_month"] = {"cold": latency_summary(cold), "cached": latency_summary(cached),
                             "odoo_requests_cold": {"max": max(cold_req), "median": statistics.median(cold_req)}}
        net_cold, net_cached, reqs = [], [], []
        for _ in range(args.runs):
            e = engine()
            t = time.perf_counter()
            for p in e.periods:
                summarise(build_table(e, period=p))
            net_cold.append(time.perf_counter() - t)
            reqs.append(e.requests)
            t = time.perf_counter()
            for p in e.periods:
                summarise(build_table(e, period=p))
            net_cached.append(time.perf_counter() - t)
        out["network_year"] = {"cold_s": round(statistics.median(net_cold), 2),
                               "cached_s": round(statistics.median(net_cached), 2),
                               "odoo_requests": max(reqs), "months": 12}
    out["peak_rss_mb"] = peak_rss_mb()
    emit(out, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

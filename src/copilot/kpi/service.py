"""KPIs as a service: one engine per Odoo snapshot, reused for ``ttl_s`` seconds (the per-period cache: a
month's records are read once per refresh, whatever the number of questions), site-scoped answers.

Usage::

    kpis = KpiService(connect=lambda: OdooClient(cfg).connect(), site_aliases={"lakeside": "Lakeside Hospital"})
    kpis.query("stockout_rate", periods=["2026-03"], sites=("Riverbend Clinic",))
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from copilot.errors import ConflictError, PermissionDeniedError, ValidationError
from copilot.kpi.engine import KpiEngine
from copilot.kpi.pack import KpiPack


class KpiService:
    def __init__(
        self,
        connect: Callable[[], Any] | None,
        *,
        pack: KpiPack | None = None,
        site_aliases: dict[str, str] | None = None,
        today: Callable[[], date] | None = None,
        ttl_s: float = 300.0,
    ) -> None:
        self._connect = connect
        self.pack = pack or KpiPack.load()
        self.site_aliases = dict(site_aliases or {})
        self._today = today
        self.ttl_s = ttl_s
        self._engine: KpiEngine | None = None
        self._built = 0.0
        self._lock = threading.Lock()

    def engine(self) -> KpiEngine:
        with self._lock:
            if self._engine is None or time.monotonic() - self._built > self.ttl_s:
                if self._connect is None:
                    raise ConflictError("no Odoo is configured (COPILOT_ODOO_URL)", code="odoo_unconfigured")
                self._engine = KpiEngine(self._connect(), self.pack, site_aliases=self.site_aliases,
                                         today=self._today() if self._today else None)
                self._built = time.monotonic()
            return self._engine

    def query(
        self,
        kpi_id: str,
        *,
        periods: Sequence[str] | None = None,
        site: str | None = None,
        allowed_sites: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Values of one KPI. ``allowed_sites`` (None = all) limits what a caller sees: asking for another
        site is refused, and a network-level answer is given only to callers who may see every site."""
        engine = self.engine()
        kpi = self.pack[kpi_id]
        bad = [p for p in periods or () if len(p) != 7 or p[4] != "-" or not (p[:4] + p[5:]).isdigit()]
        if bad:
            raise ValidationError(f"periods are YYYY-MM: {bad[:3]}")
        future = [p for p in periods or () if p > engine.periods[-1]]
        if future:
            raise ValidationError(f"no data for future periods: {future[:3]}", code="future_period")
        if allowed_sites is not None:  # principals hold site keys ("lakeside"); KPI values carry site names
            allowed_sites = [self.site_aliases.get(s, s) for s in allowed_sites]
        site = self.site_aliases.get(site, site) if site is not None else None
        if site is not None and allowed_sites is not None and site not in allowed_sites:
            raise PermissionDeniedError("site outside the caller's scope", code="site_forbidden")
        before = engine.requests
        rows = engine.compute(kpi_id, periods=periods, site=site)
        if allowed_sites is not None:
            rows = [r for r in rows if r.site in allowed_sites or (r.site is None and kpi.site == "none")]
        return {
            "kpi": kpi.model_dump(),
            "values": [r.to_dict() for r in rows],
            "odoo_requests": engine.requests - before,
            "periods": list(periods or engine.periods),
        }

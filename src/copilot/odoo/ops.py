"""Odoo operations for the agent's look-up and action tools: equipment, lots, stock, purchase orders.

:class:`OpsReader` answers look-ups and computes the *facts* the governance policy decides on (an order's amount
at Odoo prices, a product's category path, an equipment's category); :class:`OpsWriter` performs the few writes
the action tools make. Both wrap one connected :class:`~copilot.odoo.client.OdooClient` and use only models and
fields real Odoo 17 and 19 Community have (``../shared/ODOO.md`` §6, the recorded ``fields_get``); a field a
server lacks is probed with ``fields_of`` and answered as *unavailable*, never invented.

**Sites** are derived the way :class:`~copilot.kpi.engine.KpiEngine` does: an internal stock location's site is
its full name before the first ``/``; an equipment's site is its ``location_id``'s site where ``stock_maintenance``
adds that field (19; recorded), else its free-text ``location`` (≤18). Site keys (``lakeside``) map to names
(``Lakeside Hospital``) through ``settings.kpi_site_aliases``.

**Equipment status.** Community ``maintenance.equipment`` has no status field. A device is *out of service* while
it has an open corrective ``maintenance.request`` (not archived, stage not ``done``) — the same definition the KPI
pack's uptime counts down-days with. Taking a device out of service opens such a request (``kanban_state``
``blocked``); returning it closes its open corrective requests into the first ``done`` stage.

Usage::

    ops = OpsService(connect=lambda: OdooClient(cfg).connect(), site_aliases={"lakeside": "Lakeside Hospital"})
    with ops.reader() as r:
        r.equipment_status(query="BME-DEF-0112", allowed=None)
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from copilot.errors import (
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)

OPEN_PO_STATES = ("draft", "sent", "to approve", "purchase")
MAX_ROWS = 200


class AmbiguousError(ValidationError):
    """A name matched several Odoo records; the caller must choose (the candidates are in the message)."""

    code = "ambiguous"


def link(base_url: str | None, major: int, model: str, rid: int) -> str | None:
    """The Odoo backend URL of a record: ``/odoo/<model>/<id>`` on 18+, ``/web#id=..&model=..`` before."""
    if not base_url:
        return None
    root = base_url.rstrip("/")
    if major >= 18:
        return f"{root}/odoo/{model}/{int(rid)}"
    return f"{root}/web#id={int(rid)}&model={model}&view_type=form"


def _m2o(value: Any) -> tuple[int | None, str | None]:
    if isinstance(value, list | tuple) and value:
        return int(value[0]), str(value[1]) if len(value) > 1 else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    return None, None


@dataclass
class OpsService:
    """What tools reach as ``ctx.services.ops``: opens a reader or writer over a fresh connection per call."""

    connect: Callable[[], Any] | None
    site_aliases: dict[str, str] = field(default_factory=dict)
    odoo_url: str | None = None
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())

    def _client(self) -> Any:
        if self.connect is None:
            raise UnavailableError("no Odoo is configured (COPILOT_ODOO_URL / COPILOT_ODOO_DB)", code="unavailable")
        return self.connect()

    @contextmanager
    def reader(self) -> Iterator[OpsReader]:
        client = self._client()
        try:
            yield OpsReader(client, self.site_aliases, self.odoo_url, self.today())
        finally:
            close = getattr(client, "close", None)
            if close:
                close()

    @contextmanager
    def writer(self) -> Iterator[OpsWriter]:
        client = self._client()
        try:
            yield OpsWriter(client, self.site_aliases, self.odoo_url, self.today())
        finally:
            close = getattr(client, "close", None)
            if close:
                close()


class OpsReader:
    """Read-only look-ups over one connected client (a few requests each; nothing cached across calls)."""

    def __init__(self, client: Any, site_aliases: dict[str, str], odoo_url: str | None, today: date) -> None:
        self.client = client
        self.aliases = dict(site_aliases)
        self.odoo_url = odoo_url
        self.today = today
        self._fields: dict[str, dict[str, Any] | None] = {}
        self._stock_sites: dict[int, tuple[str | None, str]] | None = None

    # -- plumbing -------------------------------------------------------------------------------------------

    @property
    def major(self) -> int:
        return int(getattr(self.client, "major", 17))

    def fields(self, model: str) -> dict[str, Any]:
        """The model's fields; UnavailableError when the server has no such model (module not installed)."""
        if model not in self._fields:
            self._fields[model] = self.client.fields_of(model)
        have = self._fields[model]
        if have is None:
            raise UnavailableError(f"model {model} is not installed on this Odoo", code="unavailable")
        return have

    def has(self, model: str, fname: str) -> bool:
        try:
            return fname in self.fields(model)
        except UnavailableError:
            return False

    def need(self, model: str, *fnames: str) -> None:
        missing = [f for f in fnames if f not in self.fields(model)]
        if missing:
            raise UnavailableError(f"{model} has no field(s) {', '.join(missing)} on this Odoo", code="unavailable")

    def ref(self, model: str, rid: int | None, label: str | None) -> dict[str, Any] | None:
        if rid is None:
            return None
        return {"model": model, "id": int(rid), "name": label or "", "url": link(self.odoo_url, self.major, model, rid)}

    # -- sites ----------------------------------------------------------------------------------------------

    def site_name(self, value: str | None) -> str | None:
        """A site key or name as the canonical site name (case-insensitive); unknown names pass through."""
        if not value:
            return None
        value = value.strip()
        if value in self.aliases:
            return self.aliases[value]
        low = value.lower()
        for key, name in self.aliases.items():
            if low in (key.lower(), name.lower()):
                return name
        return value

    def allowed_sites(self, principal_sites: Sequence[str]) -> set[str] | None:
        """The caller's sites as names; None means every site ("*")."""
        if "*" in principal_sites:
            return None
        return {n for n in (self.site_name(s) for s in principal_sites) if n}

    def stock_sites(self) -> dict[int, tuple[str | None, str]]:
        """Location id -> (site, usage): an internal location's site is its full name before the first "/"."""
        if self._stock_sites is None:
            rows = self.client.search_read(
                "stock.location", [], ["complete_name", "name", "usage"], context={"active_test": False}
            )
            out: dict[int, tuple[str | None, str]] = {}
            for r in rows:
                name = str(r.get("complete_name") or r.get("name") or "")
                internal = r.get("usage") == "internal"
                site = self.site_name(name.split("/")[0].strip()) if internal and "/" in name else None
                out[int(r["id"])] = (site, str(r.get("usage") or ""))
            self._stock_sites = out
        return self._stock_sites

    def known_sites(self) -> set[str]:
        return set(self.aliases.values()) | {s for s, _ in self.stock_sites().values() if s}

    def check_site(self, site: str | None, allowed: set[str] | None) -> str | None:
        """The canonical name of a requested site; NotFoundError if Odoo knows no such site, PermissionDenied
        outside the caller's sites (the executor refused a raw mismatch already; this catches key/name aliases)."""
        name = self.site_name(site)
        if name is None:
            return None
        if name not in self.known_sites():
            raise NotFoundError(f"unknown site {site!r}", code="unknown_site")
        if allowed is not None and name not in allowed:
            raise PermissionDeniedError("site outside the caller's scope", code="site_forbidden")
        return name

    def internal_locations(self, site: str | None, allowed: set[str] | None) -> dict[int, str]:
        """Internal location id -> site, narrowed to ``site`` and the caller's sites."""
        return {
            lid: s
            for lid, (s, usage) in self.stock_sites().items()
            if usage == "internal" and s and (site is None or s == site) and (allowed is None or s in allowed)
        }

    def equipment_site_field(self) -> str | None:
        have = self.fields("maintenance.equipment")
        if "location_id" in have:
            return "location_id"
        if "location" in have:
            return "location"
        return None

    def equipment_site(self, row: dict[str, Any]) -> str | None:
        if "location_id" in row:
            lid, _ = _m2o(row.get("location_id"))
            return self.stock_sites().get(lid or -1, (None, ""))[0]
        if row.get("location"):
            return self.site_name(str(row["location"]))
        return None

    # -- resolution -----------------------------------------------------------------------------------------

    def find_equipment(self, query: str | None, category: str | None = None) -> list[dict[str, Any]]:
        fnames = ["name", "serial_no", "category_id", "model", "active"]
        site_field = self.equipment_site_field()
        if site_field:
            fnames.append(site_field)
        domain: list[Any] = []
        if category:
            domain.append(("category_id.name", "ilike", category))
        if query:
            exact = self.client.search_read(
                "maintenance.equipment", [*domain, ("serial_no", "=ilike", query)], fnames, order="id", limit=MAX_ROWS
            )
            if exact:
                return exact
            domain += ["|", ("name", "ilike", query), ("serial_no", "ilike", query)]
        return list(
            self.client.search_read("maintenance.equipment", domain, fnames, order="name, id", limit=MAX_ROWS)
        )

    def resolve_equipment(self, query: str) -> dict[str, Any]:
        rows = self.find_equipment(query)
        if not rows:
            raise NotFoundError(f"no equipment matches {query!r} (asset tag or name)", code="unknown_equipment")
        exact = [r for r in rows if str(r.get("name") or "").lower() == query.lower()]
        rows = exact or rows
        if len(rows) > 1:
            raise AmbiguousError(
                f"{len(rows)} equipment match {query!r}: "
                + "; ".join(f"{r.get('serial_no') or '-'} {r.get('name')}" for r in rows[:10])
            )
        return rows[0]

    def find_products(self, query: str) -> list[dict[str, Any]]:
        fnames = ["name", "default_code", "standard_price"]
        exact = self.client.search_read("product.product", [("default_code", "=ilike", query)], fnames, limit=20)
        if exact:
            return exact
        named = self.client.search_read("product.product", [("name", "=ilike", query)], fnames, limit=20)
        if named:
            return named
        return list(
            self.client.search_read(
                "product.product",
                ["|", ("name", "ilike", query), ("default_code", "ilike", query)],
                fnames,
                order="default_code, id",
                limit=MAX_ROWS,
            )
        )

    def resolve_product(self, query: str) -> dict[str, Any]:
        rows = self.find_products(query)
        if not rows:
            raise NotFoundError(f"no product matches {query!r} (name or internal reference)", code="unknown_product")
        if len(rows) > 1:
            raise AmbiguousError(
                f"{len(rows)} products match {query!r}: "
                + "; ".join(f"[{r.get('default_code') or '-'}] {r.get('name')}" for r in rows[:10])
            )
        return rows[0]

    def resolve_partner(self, query: str) -> dict[str, Any]:
        rows = self.client.search_read("res.partner", [("name", "=ilike", query)], ["name"], limit=20)
        if not rows:
            rows = self.client.search_read("res.partner", [("name", "ilike", query)], ["name"], limit=20)
        if not rows:
            raise NotFoundError(f"no supplier matches {query!r}", code="unknown_supplier")
        if len(rows) > 1:
            raise AmbiguousError(f"{len(rows)} suppliers match {query!r}: " + "; ".join(str(r["name"]) for r in rows))
        return rows[0]

    def product_categories(self, product_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Product id -> {"category": ref, "path": [segments of complete_name], "tags": [names]}.

        ``categ_id`` is required on every real product (recorded 17; 19 from source), so a server without it
        cannot say whether a product is a controlled substance: unavailable, never "not controlled"."""
        self.need("product.product", "categ_id")
        tag_field = "product_tag_ids" if self.has("product.product", "product_tag_ids") else None
        rows = self.client.read("product.product", list(product_ids), ["categ_id", *([tag_field] if tag_field else [])])
        cat_ids = {c for r in rows if (c := _m2o(r.get("categ_id"))[0])}
        cats = {
            int(c["id"]): str(c.get("complete_name") or c.get("name") or "")
            for c in self.client.read("product.category", sorted(cat_ids), ["complete_name", "name"])
        }
        tag_ids = sorted({t for r in rows for t in (r.get(tag_field) or [])}) if tag_field else []
        tags = {int(t["id"]): str(t["name"]) for t in self.client.read("product.tag", tag_ids, ["name"])}
        out: dict[int, dict[str, Any]] = {}
        for r in rows:
            cid, _ = _m2o(r.get("categ_id"))
            full = cats.get(cid or -1, "")
            out[int(r["id"])] = {
                "category": self.ref("product.category", cid, full),
                "path": [p.strip() for p in full.split("/") if p.strip()],
                "tags": [tags[t] for t in (r.get(tag_field) or []) if t in tags] if tag_field else [],
            }
        return out

    def open_requests(self, equipment_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """Equipment id -> its open requests (not archived, stage not done), oldest first."""
        if not equipment_ids:
            return {}
        rows = self.client.search_read(
            "maintenance.request",
            [("equipment_id", "in", list(equipment_ids)), ("archive", "=", False), ("stage_id.done", "=", False)],
            ["name", "equipment_id", "request_date", "schedule_date", "maintenance_type", "priority", "stage_id",
             "kanban_state"],
            order="request_date, id",
        )
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            eid, _ = _m2o(r.get("equipment_id"))
            _, sname = _m2o(r.get("stage_id"))
            out[eid or -1].append({
                **self.ref("maintenance.request", int(r["id"]), str(r.get("name") or "")),  # type: ignore[dict-item]
                "request_date": r.get("request_date") or None,
                "schedule_date": r.get("schedule_date") or None,
                "type": r.get("maintenance_type") or None,
                "priority": r.get("priority") or "0",
                "stage": sname,
                "kanban_state": r.get("kanban_state") or None,
            })
        return out

    @staticmethod
    def out_of_service(requests: Sequence[dict[str, Any]]) -> bool:
        return any(r["type"] == "corrective" for r in requests)

    def equipment_card(self, row: dict[str, Any], requests: Sequence[dict[str, Any]]) -> dict[str, Any]:
        _, cname = _m2o(row.get("category_id"))
        return {
            **self.ref("maintenance.equipment", int(row["id"]), str(row.get("name") or "")),  # type: ignore[dict-item]
            "asset_tag": row.get("serial_no") or None,
            "model_name": row.get("model") or None,
            "category": cname,
            "site": self.equipment_site(row),
            "status": "out_of_service" if self.out_of_service(requests) else "in_service",
            "open_requests": list(requests),
        }

    # -- look-ups -------------------------------------------------------------------------------------------

    def equipment_status(
        self, *, query: str | None, site: str | None, category: str | None, allowed: set[str] | None
    ) -> dict[str, Any]:
        site = self.check_site(site, allowed)
        rows = self.find_equipment(query, category)
        rows = [r for r in rows if (s := self.equipment_site(r)) and (site is None or s == site)
                and (allowed is None or s in allowed)] if (site or allowed is not None) else rows
        reqs = self.open_requests([int(r["id"]) for r in rows])
        cards = [self.equipment_card(r, reqs.get(int(r["id"]), [])) for r in rows]
        out: dict[str, Any] = {"equipment": cards, "count": len(cards)}
        if site is not None and self.equipment_site_field() is None:
            out["site_unavailable"] = "maintenance.equipment has no location on this Odoo: no site to filter on"
        return out

    def lots_expiring(
        self, *, site: str | None, days: int, product: str | None, allowed: set[str] | None
    ) -> dict[str, Any]:
        self.need("stock.lot", "expiration_date")  # product_expiry (ODOO.md §6); not in the recordings' modules
        site = self.check_site(site, allowed)
        locs = self.internal_locations(site, allowed)
        horizon = self.today + timedelta(days=days)
        domain: list[Any] = [("expiration_date", "!=", False), ("expiration_date", "<=", f"{horizon} 23:59:59")]
        if product:
            domain += ["|", ("product_id.name", "ilike", product), ("product_id.default_code", "ilike", product)]
        lots = {int(r["id"]): r for r in self.client.search_read(
            "stock.lot", domain, ["name", "product_id", "expiration_date"], order="expiration_date, id")}
        if not lots or not locs:
            return {"lots": [], "count": 0, "horizon": str(horizon)}
        quants = self.client.search_read(
            "stock.quant",
            [("lot_id", "in", sorted(lots)), ("location_id", "in", sorted(locs)), ("quantity", ">", 0)],
            ["lot_id", "location_id", "product_id", "quantity"],
        )
        pids = sorted({p for q in quants if (p := _m2o(q.get("product_id"))[0])})
        cost = {int(p["id"]): float(p.get("standard_price") or 0)
                for p in self.client.read("product.product", pids, ["standard_price", "default_code"])} if pids else {}
        per: dict[tuple[int, str], float] = defaultdict(float)
        for q in quants:
            lid, _ = _m2o(q.get("lot_id"))
            loc, _ = _m2o(q.get("location_id"))
            per[(lid or -1, locs[loc or -1])] += float(q.get("quantity") or 0)
        out = []
        for (lid, s), qty in per.items():
            lot = lots[lid]
            pid, pname = _m2o(lot.get("product_id"))
            exp = date.fromisoformat(str(lot["expiration_date"])[:10])
            out.append({
                **self.ref("stock.lot", lid, str(lot.get("name") or "")),  # type: ignore[dict-item]
                "product": self.ref("product.product", pid, pname),
                "site": s,
                "expiration_date": str(exp),
                "days_left": (exp - self.today).days,
                "quantity": qty,
                "value": round(qty * cost.get(pid or -1, 0.0), 2),
            })
        out.sort(key=lambda r: (r["expiration_date"], r["site"], r["id"]))
        return {"lots": out, "count": len(out), "horizon": str(horizon),
                "total_value": round(sum(r["value"] for r in out), 2)}

    def stock_on_hand(self, *, product: str, site: str | None, allowed: set[str] | None) -> dict[str, Any]:
        site = self.check_site(site, allowed)
        products = self.find_products(product)
        if not products:
            raise NotFoundError(f"no product matches {product!r} (name or internal reference)", code="unknown_product")
        cands = [self.ref("product.product", int(p["id"]), f"[{p.get('default_code') or '-'}] {p.get('name')}")
                 for p in products]
        if len(products) > 1:
            return {"status": "ambiguous", "candidates": cands,
                    "message": f"{len(products)} products match {product!r}; which one?"}
        locs = self.internal_locations(site, allowed)
        per: dict[str, float] = defaultdict(float)
        if locs:
            for q in self.client.search_read(
                "stock.quant", [("product_id", "=", int(products[0]["id"])), ("location_id", "in", sorted(locs))],
                ["location_id", "quantity", "reserved_quantity"],
            ):
                loc, _ = _m2o(q.get("location_id"))
                per[locs[loc or -1]] += float(q.get("quantity") or 0)
        sites = [{"site": s, "quantity": per.get(s, 0.0)} for s in sorted(set(locs.values()))]
        return {"status": "ok", "product": cands[0], "sites": sites, "total": sum(per.values())}

    def purchase_orders_open(
        self, *, site: str | None, supplier: str | None, product: str | None, allowed: set[str] | None
    ) -> dict[str, Any]:
        site = self.check_site(site, allowed)
        domain: list[Any] = [("state", "in", list(OPEN_PO_STATES))]
        if self.has("purchase.order", "receipt_status"):  # purchase_stock
            domain += ["|", ("receipt_status", "!=", "full"), ("state", "!=", "purchase")]
        if supplier:
            domain.append(("partner_id.name", "ilike", supplier))
        if product:
            domain += ["|", ("order_line.product_id.name", "ilike", product),
                       ("order_line.product_id.default_code", "ilike", product)]
        fnames = ["name", "partner_id", "state", "date_order", "date_planned", "amount_total", "picking_type_id",
                  *(f for f in ("receipt_status", "picking_ids") if self.has("purchase.order", f))]
        orders = self.client.search_read("purchase.order", domain, fnames, order="date_order, id", limit=MAX_ROWS)
        types = {int(t["id"]): t for t in self.client.search_read(
            "stock.picking.type", [], ["default_location_dest_id", "warehouse_id"])} if orders else {}
        sites = self.stock_sites()

        def order_site(o: dict[str, Any]) -> str | None:
            tid, _ = _m2o(o.get("picking_type_id"))
            dest, _ = _m2o(types.get(tid or -1, {}).get("default_location_dest_id"))
            return sites.get(dest or -1, (None, ""))[0]

        orders = [o for o in orders if (site is None or order_site(o) == site)
                  and (allowed is None or order_site(o) in allowed)]
        lines = self.client.search_read(
            "purchase.order.line", [("order_id", "in", [int(o["id"]) for o in orders])],
            ["order_id", "product_id", "product_qty", "qty_received", "price_unit", "date_planned"],
        ) if orders else []
        by_order: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for ln in lines:
            oid, _ = _m2o(ln.get("order_id"))
            pid, pname = _m2o(ln.get("product_id"))
            by_order[oid or -1].append({
                "product": self.ref("product.product", pid, pname), "quantity": ln.get("product_qty") or 0.0,
                "received": ln.get("qty_received") or 0.0, "price_unit": ln.get("price_unit") or 0.0,
                "date_planned": ln.get("date_planned") or None,
            })
        picks: dict[int, list[dict[str, Any]]] = defaultdict(list)
        pick_ids = sorted({p for o in orders for p in (o.get("picking_ids") or [])})
        if pick_ids or (orders and "picking_ids" not in fnames):
            pdomain = [("id", "in", pick_ids)] if pick_ids else [("origin", "in", [o["name"] for o in orders])]
            names = {str(o["name"]): int(o["id"]) for o in orders}
            owner = {p: int(o["id"]) for o in orders for p in (o.get("picking_ids") or [])}
            for p in self.client.search_read("stock.picking", pdomain, ["name", "state", "scheduled_date", "origin"]):
                oid = owner.get(int(p["id"])) or names.get(str(p.get("origin") or ""))
                if oid is not None:
                    picks[oid].append({**self.ref("stock.picking", int(p["id"]), str(p.get("name") or "")),  # type: ignore[dict-item]
                                       "state": p.get("state"), "scheduled_date": p.get("scheduled_date") or None})
        out = []
        for o in orders:
            pid, pname = _m2o(o.get("partner_id"))
            out.append({
                **self.ref("purchase.order", int(o["id"]), str(o.get("name") or "")),  # type: ignore[dict-item]
                "supplier": self.ref("res.partner", pid, pname), "state": o.get("state"),
                "receipt_status": o.get("receipt_status") or None, "site": order_site(o),
                "date_order": o.get("date_order") or None, "date_planned": o.get("date_planned") or None,
                "amount_total": o.get("amount_total") or 0.0,
                "pickings": picks.get(int(o["id"]), []), "lines": by_order.get(int(o["id"]), []),
            })
        return {"orders": out, "count": len(out)}

    # -- facts for the write tools --------------------------------------------------------------------------

    def equipment_facts(self, query: str, allowed: set[str] | None) -> dict[str, Any]:
        row = self.resolve_equipment(query)
        card = self.equipment_card(row, self.open_requests([int(row["id"])]).get(int(row["id"]), []))
        if allowed is not None and card["site"] not in allowed:
            raise PermissionDeniedError("equipment outside the caller's sites", code="site_forbidden")
        return card

    def receipt_type(self, site: str) -> dict[str, Any]:
        """The site's incoming operation type (its default destination is one of the site's internal
        locations): where a purchase order for the site is delivered."""
        locs = self.internal_locations(site, None)
        rows = self.client.search_read(
            "stock.picking.type", [("code", "=", "incoming"), ("default_location_dest_id", "in", sorted(locs))],
            ["name", "default_location_dest_id"], order="id", limit=1,
        ) if locs else []
        if not rows:
            raise NotFoundError(f"{site} has no receipt operation type in Odoo (Inventory > Configuration > "
                                "Operation Types)", code="no_receipt_type")
        return rows[0]

    def supplier_prices(self, product_ids: Sequence[int]) -> list[dict[str, Any]]:
        """``product.supplierinfo`` rows of the products (variant-specific or of their template)."""
        if not product_ids or not self.has("product.supplierinfo", "partner_id"):
            return []
        by_template = self.has("product.product", "product_tmpl_id") and self.has(
            "product.supplierinfo", "product_tmpl_id")
        tmpl = {int(r["id"]): _m2o(r.get("product_tmpl_id"))[0]
                for r in self.client.read("product.product", list(product_ids), ["product_tmpl_id"])} \
            if by_template else {}
        domain: list[Any] = [("product_id", "in", list(product_ids))]
        tmpl_ids = sorted({t for t in tmpl.values() if t})
        if tmpl_ids:
            domain = ["|", ("product_id", "in", list(product_ids)), "&", ("product_id", "=", False),
                      ("product_tmpl_id", "in", tmpl_ids)]
        rows = self.client.search_read(
            "product.supplierinfo", domain,
            ["partner_id", "product_id", "min_qty", "price", "sequence", *(["product_tmpl_id"] if by_template else [])],
            order="sequence, id",
        )
        by_tmpl = defaultdict(list)
        for p, t in tmpl.items():
            by_tmpl[t].append(p)
        out = []
        for r in rows:
            pid, _ = _m2o(r.get("product_id"))
            targets = [pid] if pid else by_tmpl.get(_m2o(r.get("product_tmpl_id"))[0], [])
            out += [{**r, "for_product": p} for p in targets]
        return out

    def purchase_facts(
        self, *, site: str, lines: Sequence[tuple[str, float]], supplier: str | None, allowed: set[str] | None
    ) -> dict[str, Any]:
        """What a draft purchase order would hold: the site's receipt type, the supplier, each line at the
        supplier's price (``product.supplierinfo``, the lowest sequence whose ``min_qty`` the quantity meets) or
        the product's ``standard_price``, the total, and each product's category path and tags."""
        name = self.check_site(site, allowed)
        assert name is not None
        rtype = self.receipt_type(name)
        products = [(self.resolve_product(q), qty) for q, qty in lines]
        pids = [int(p["id"]) for p, _ in products]
        cats = self.product_categories(pids)
        infos = self.supplier_prices(pids)
        vendor = self.resolve_partner(supplier) if supplier else None
        if vendor is None:
            firsts = {next((_m2o(i["partner_id"]) for i in infos if i["for_product"] == p), (None, None)) for p in pids}
            if len(firsts) != 1 or next(iter(firsts))[0] is None:
                raise ValidationError("no single supplier is set for these products in Odoo; name the supplier",
                                      code="supplier_required")
            vid, vname = next(iter(firsts))
            vendor = {"id": vid, "name": vname}
        out_lines = []
        for p, qty in products:
            pid = int(p["id"])
            # Odoo's _select_seller order: sequence, then the largest min_qty the quantity reaches, then price
            offers = sorted(
                (i for i in infos if i["for_product"] == pid and _m2o(i["partner_id"])[0] == int(vendor["id"])
                 and float(i.get("min_qty") or 0) <= qty),
                key=lambda i: (int(i.get("sequence") or 0), -float(i.get("min_qty") or 0), float(i.get("price") or 0),
                               int(i["id"])),
            )
            price, source = (float(offers[0]["price"]), "supplier_pricelist") if offers else (
                float(p.get("standard_price") or 0), "standard_price")
            out_lines.append({
                "product": self.ref("product.product", pid, f"[{p.get('default_code') or '-'}] {p.get('name')}"),
                "quantity": qty, "price_unit": price, "price_source": source, "subtotal": round(qty * price, 2),
                "category": cats[pid]["category"], "category_path": cats[pid]["path"], "tags": cats[pid]["tags"],
            })
        return {
            "site": name,
            "deliver_to": self.ref("stock.picking.type", int(rtype["id"]), str(rtype.get("name") or "")),
            "supplier": self.ref("res.partner", int(vendor["id"]), str(vendor.get("name") or "")),
            "lines": out_lines,
            "amount": round(sum(ln["subtotal"] for ln in out_lines), 2),
            "product_categories": sorted({c for ln in out_lines for c in ln["category_path"]}),
            "product_tags": sorted({t for ln in out_lines for t in ln["tags"]}),
        }


class OpsWriter(OpsReader):
    """The action tools' writes. Each is one ``create`` or ``write`` call (Odoo runs each in one transaction),
    so a failure leaves nothing half-written; none is retried once it may have reached Odoo."""

    def first_stage(self, *, done: bool) -> int:
        rows = self.client.search_read("maintenance.stage", [("done", "=", done)], ["name"], order="sequence, id",
                                       limit=1)
        if not rows:
            raise UnavailableError(f"Odoo has no maintenance stage with done={done}", code="unavailable")
        return int(rows[0]["id"])

    def create_maintenance_request(
        self, *, equipment_id: int, name: str, kind: str, description: str, priority: str,
        schedule_date: str | None, kanban_state: str | None = None,
    ) -> dict[str, Any]:
        vals: dict[str, Any] = {
            "name": name[:200],
            "equipment_id": equipment_id,
            "maintenance_type": kind,
            "priority": priority,
            "description": f"<p>{html.escape(description)}</p>",
            "request_date": str(self.today),
            "stage_id": self.first_stage(done=False),
        }
        if schedule_date:
            vals["schedule_date"] = schedule_date
        if kanban_state:
            vals["kanban_state"] = kanban_state
        rid = self.client.create("maintenance.request", vals)
        return self.ref("maintenance.request", rid, vals["name"]) or {}

    def close_requests(self, ids: Sequence[int]) -> None:
        self.client.write("maintenance.request", list(ids), {"stage_id": self.first_stage(done=True),
                                                             "close_date": str(self.today)})

    def create_purchase_order(self, facts: dict[str, Any], *, origin: str, note: str | None) -> dict[str, Any]:
        """A draft ``purchase.order`` with its lines, as recorded (``g9.po.create.*``: partner and
        ``order_line`` commands; the name comes from Odoo's sequence). ``origin`` marks the Copilot request so
        a repeated run finds the order instead of creating a second one."""
        found = self.client.search_read("purchase.order", [("origin", "=", origin)], ["name", "state"], limit=1)
        if found:
            return {**(self.ref("purchase.order", int(found[0]["id"]), str(found[0]["name"])) or {}),
                    "state": found[0].get("state"), "created": False}
        planned = f"{self.today + timedelta(days=7)} 12:00:00"
        vals: dict[str, Any] = {
            "partner_id": facts["supplier"]["id"],
            "picking_type_id": facts["deliver_to"]["id"],
            "origin": origin,
            "order_line": [
                [0, 0, {"product_id": ln["product"]["id"], "product_qty": ln["quantity"],
                        "price_unit": ln["price_unit"], "date_planned": planned}]
                for ln in facts["lines"]
            ],
        }
        note_field = next((f for f in ("note", "notes") if self.has("purchase.order", f)), None)
        if note and note_field:
            vals[note_field] = f"<p>{html.escape(note)}</p>"
        rid = self.client.create("purchase.order", vals)
        row = self.client.read("purchase.order", [rid], ["name", "state"])
        name = str(row[0]["name"]) if row else ""
        return {**(self.ref("purchase.order", rid, name) or {}), "state": row[0].get("state") if row else "draft",
                "created": True}

"""Odoo sync benchmark: first sync and no-change re-sync of the demo network (served by the double); JSON.

    python bench/sync.py --json                                   # Odoo 19 over JSON-2, hashing embedder
    python bench/sync.py --json --version 17.0                    # Odoo 17 over JSON-RPC (odoorpc)
    python bench/sync.py --json --embedder torch --redaction presidio   # the real models (slow)

Reports, per sync: documents listed/indexed, documents/s, Odoo requests (and per-method calls), bytes sent and
received on the wire (counted by the double), and the pipeline's stage times. A no-change re-sync must cost
requests proportional to pages of metadata, not to documents, and must embed nothing; the result says whether
it did (``resync_ok``). The listing is also timed alone at two page sizes to show the per-page cost.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, log, machine
from copilot.app import build_copilot
from copilot.config import Settings
from copilot.demo.network import GROUP_MAP, build_demo_network
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo.source import OdooSource
from copilot.odoo_double import Database, OdooDouble


def _sync(cp: Any, source: OdooSource, double: OdooDouble) -> dict[str, Any]:
    double.stats.reset()
    t0 = time.perf_counter()
    report = cp.ingest(source)
    wall = time.perf_counter() - t0
    stats = double.stats.snapshot()
    return {
        "listed": report.listed,
        "indexed": report.indexed,
        "unchanged": report.unchanged,
        "acl_updated": report.acl_updated,
        "failed": report.failed,
        "chunks_embedded": report.chunks,
        "wall_s": round(wall, 3),
        "documents_per_s": round(report.listed / wall, 1) if wall else None,
        "odoo_requests": stats["requests"],
        "bytes_to_odoo": stats["bytes_in"],
        "bytes_from_odoo": stats["bytes_out"],
        "odoo_calls": stats["calls"],
        "stage_seconds": report.as_dict()["stage_seconds"],
    }


def _listing(client: OdooClient, double: OdooDouble, page_size: int) -> dict[str, Any]:
    source = OdooSource(client, group_map=GROUP_MAP, page_size=page_size)
    double.stats.reset()
    t0 = time.perf_counter()
    refs = list(source.list_documents())
    return {
        "page_size": page_size,
        "documents": len(refs),
        "odoo_requests": double.stats.requests,
        "bytes_from_odoo": double.stats.bytes_out,
        "wall_s": round(time.perf_counter() - t0, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--version", default="19.0", help="Odoo version the double serves (17.0 or 19.0)")
    ap.add_argument("--transport", default="auto", choices=["auto", "jsonrpc", "json2"])
    ap.add_argument("--embedder", default="hashing", choices=["hashing", "torch", "onnx-int8"])
    ap.add_argument("--redaction", default="none", choices=["none", "presidio"])
    ap.add_argument("--page-size", type=int, default=200)
    args = ap.parse_args()

    log(f"building the demo network as Odoo {args.version}")
    t0 = time.perf_counter()
    db = Database(version=args.version)
    net = build_demo_network(db, operations=False)
    build_s = time.perf_counter() - t0
    with OdooDouble(db) as double, tempfile.TemporaryDirectory() as tmp:
        cfg = OdooConfig(
            url=double.url,
            db=db.name,
            login=net.bot_login,
            password="copilot-bot-pw",
            api_key=net.bot_key,
            transport=args.transport,
        )
        client = OdooClient(cfg).connect()
        settings = Settings(
            data_dir=Path(tmp),
            embedding_backend=args.embedder,
            redaction=args.redaction,
            environment="development",
        )
        cp = build_copilot(settings)
        try:
            source = OdooSource(client, group_map=GROUP_MAP, page_size=args.page_size)
            log("first sync")
            first = _sync(cp, source, double)
            log("no-change re-sync")
            again = _sync(cp, OdooSource(client, group_map=GROUP_MAP, page_size=args.page_size), double)
        finally:
            cp.close()
        listing = [_listing(client, double, n) for n in (50, 200)]
    resync_ok = (
        again["chunks_embedded"] == 0
        and again["indexed"] == 0
        and "ir.attachment.read" not in again["odoo_calls"]
    )
    emit(
        {
            "benchmark": "odoo_sync",
            "odoo_version": args.version,
            "transport": client.transport_name,
            "embedder": args.embedder,
            "redaction": args.redaction,
            "demo_network_build_s": round(build_s, 2),
            "first_sync": first,
            "no_change_resync": again,
            "listing_only": listing,
            "resync_ok": resync_ok,
            "machine": machine(),
            "note": "double on loopback in this process; shared, loaded machine: timings are provisional",
        },
        as_json=args.json,
    )


if __name__ == "__main__":
    main()

"""Serve the Odoo double on loopback, optionally filled with the demo network.

    python -m copilot.odoo_double --version 19.0 --port 8069 --demo
    python -m copilot.odoo_double --version 17.0 --db-file .copilot/odoo17.sqlite --sample
    python -m copilot.odoo_double --version 17.0 --demo --seed 7 --truth truth.json   # 27 injected exceptions

Prints one JSON line with the URL, database name and the sync account's credentials, then serves until
interrupted. A ``--db-file`` that already holds data is served as is (no re-seeding).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
from pathlib import Path

from copilot.odoo_double import Database, OdooDouble


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m copilot.odoo_double", description=__doc__.splitlines()[0])
    ap.add_argument("--version", default="19.0")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8069)
    ap.add_argument("--db-file", default=":memory:")
    fill = ap.add_mutually_exclusive_group()
    fill.add_argument("--demo", action="store_true", help="the Riverside demo network (with operations data)")
    fill.add_argument("--sample", action="store_true", help="the small test sample")
    ap.add_argument("--seed", type=int, default=None,
                    help="with --demo: inject the seeded exceptions (copilot.demo.inject, 27 of 9 kinds)")
    ap.add_argument("--truth", default=None, help="with --seed: write the ground truth (JSON) to this file")
    args = ap.parse_args(argv)
    if (args.seed is not None and not args.demo) or (args.truth and args.seed is None):
        ap.error("--seed needs --demo, and --truth needs --seed")

    db = Database(version=args.version, path=args.db_file)
    fresh = len(db.table("res.users")) <= 2
    info: dict[str, object] = {"login": "admin", "password": "admin"}
    if fresh and args.demo:
        from copilot.demo.network import build_demo_network

        net = build_demo_network(db)
        info = {"login": net.bot_login, "api_key": net.bot_key, "exceptions": net.exceptions}
        if args.seed is not None:
            from copilot.demo.inject import base_truth, inject_exceptions

            truth = base_truth(net) + inject_exceptions(net, seed=args.seed)
            info["injected"] = {"seed": args.seed, "exceptions": len(truth) - len(net.exceptions)}
            if args.truth:
                Path(args.truth).write_text(json.dumps(truth, indent=1), encoding="utf-8")
    elif fresh and args.sample:
        from copilot.odoo_double.sample import seed_sample

        seed_sample(db)
        info = {"login": "admin", "password": "admin", "api_key": "key-admin"}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with OdooDouble(db, host=args.host, port=args.port) as odoo:
        print(json.dumps({"url": odoo.url, "db": db.name, "version": db.version, **info}), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()

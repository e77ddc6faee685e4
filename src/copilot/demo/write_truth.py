"""Write the demo network's ground truth for the dashboard and triage evals.

    python -m copilot.demo.write_truth evals/gold

Writes ``demo_network_exceptions.json`` (the injected operational exceptions a dashboard summary must surface) and
``demo_tickets_truth.jsonl`` (per helpdesk ticket: the category it was generated as, the label stored in Odoo,
the team, and whether it was deliberately mislabelled or ambiguous). Deterministic: the generator is seeded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from copilot.demo.network import build_demo_network
from copilot.odoo_double import Database


def write_truth(out_dir: Path, *, version: str = "19.0") -> tuple[Path, Path]:
    net = build_demo_network(Database(version=version))
    out_dir.mkdir(parents=True, exist_ok=True)
    exc = out_dir / "demo_network_exceptions.json"
    exc.write_text(json.dumps(net.exceptions, indent=2, default=str) + "\n")
    tickets = out_dir / "demo_tickets_truth.jsonl"
    with tickets.open("w") as fh:
        for ticket_id, truth in sorted(net.ticket_truth.items()):
            fh.write(json.dumps({"ticket_id": ticket_id, **truth}, sort_keys=True) + "\n")
    return exc, tickets


if __name__ == "__main__":
    for path in write_truth(Path(sys.argv[1] if len(sys.argv) > 1 else "evals/gold")):
        print(path)

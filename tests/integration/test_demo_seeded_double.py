"""``python -m copilot.odoo_double --demo --seed N`` serves a demo network with the seed's injected exceptions and
writes their ground truth: the same injection the summaries eval scores, available to anyone with a browser."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from copilot.odoo.client import OdooClient, OdooConfig


def _serve(*args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen([sys.executable, "-m", "copilot.odoo_double", "--version", "17.0", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(proc.stderr.read() if proc.stderr else "no output")
    return proc, json.loads(line)


def test_a_seed_injects_its_exceptions_and_writes_the_truth(tmp_path: Path) -> None:
    truth_file = tmp_path / "truth.json"
    proc, info = _serve("--demo", "--seed", "7", "--truth", str(truth_file))
    try:
        truth = json.loads(truth_file.read_text())
        kinds = {t["kind"] for t in truth}
        assert info["injected"] == {"seed": 7, "exceptions": 27} and len(kinds) >= 9
        assert all(t["kpi"] and t["where"] and t["periods"] for t in truth)
        cfg = OdooConfig(url=info["url"], db=info["db"], login=info["login"], api_key=info["api_key"])
        client = OdooClient(cfg).connect()
        assert client.search_count("stock.move", []) > 1000  # the network is served, injected moves among them
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_seed_without_demo_is_refused() -> None:
    out = subprocess.run([sys.executable, "-m", "copilot.odoo_double", "--seed", "7"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "--seed needs --demo" in out.stderr

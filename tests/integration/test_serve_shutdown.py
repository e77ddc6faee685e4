"""``copilot serve`` stopped by SIGTERM (systemd, Kubernetes, the load bench) shuts down cleanly: the index is
closed, the server lease is cleared and the process exits 0 — not killed by the re-raised signal halfway."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sigterm_closes_the_index_and_clears_the_lease(tmp_path: Path) -> None:
    env = {**os.environ, "COPILOT_DATA_DIR": str(tmp_path), "COPILOT_EMBEDDING_BACKEND": "hashing",
           "COPILOT_REDACTION": "none", "COPILOT_ENVIRONMENT": "development", "HF_HUB_OFFLINE": "1"}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "copilot.cli", "serve", "--port", str(_free_port())],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    lease = tmp_path / "server.json"
    try:
        deadline = time.monotonic() + 120
        while not lease.exists():
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "copilot serve did not start"
            time.sleep(0.2)
        assert json.loads(lease.read_text())["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, (tmp_path / "serve.log").read_text()
        assert not lease.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()

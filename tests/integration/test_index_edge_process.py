"""An Edge shard belongs to one process: a second process gets a clear IndexLockedError, and the lock dies
with its owner (a ``kill -9``'d ingest leaves no stale lock behind)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from copilot.retrieval.index_edge import EdgeIndex

pytestmark = pytest.mark.integration

DIM = 4

# The child tries to open the shard and reports what happened as one JSON line.
OPEN_IN_CHILD = textwrap.dedent(
    """
    import json, sys
    from copilot.errors import CopilotError
    from copilot.retrieval.index_edge import EdgeIndex
    idx = EdgeIndex(sys.argv[1], int(sys.argv[2]))
    try:
        idx.open()
    except CopilotError as exc:
        print(json.dumps({"error": type(exc).__name__, "code": exc.code, "message": exc.message}))
    else:
        print(json.dumps({"opened": True, "count": idx.count()}))
        idx.close()
    """
)

# The child opens the shard, says so, and waits to be killed.
HOLD_IN_CHILD = textwrap.dedent(
    """
    import sys, time
    from copilot.retrieval.index_edge import EdgeIndex
    idx = EdgeIndex(sys.argv[1], int(sys.argv[2]))
    idx.open()
    print("open", flush=True)
    time.sleep(120)
    """
)


def run_child(path: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", OPEN_IN_CHILD, str(path), str(DIM)], capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_process_gets_index_locked_error(tmp_path: Path) -> None:
    path = tmp_path / "qdrant"
    with EdgeIndex(path, DIM):
        result = run_child(path)
    assert result["error"] == "IndexLockedError"
    assert result["code"] == "index_locked"
    message = str(result["message"])
    assert str(path) in message
    assert f"process {os.getpid()}" in message  # names the holder, from the owner file
    assert "server" in message

    # once the owner closes, the other process may take it
    assert run_child(path) == {"opened": True, "count": 0}


def test_lock_dies_with_a_killed_owner(tmp_path: Path) -> None:
    path = tmp_path / "qdrant"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_IN_CHILD, str(path), str(DIM)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        assert run_child(path)["code"] == "index_locked"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    deadline = time.monotonic() + 10
    while True:  # the kernel drops the file lock when the process is gone
        result = run_child(path)
        if result.get("opened") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert result == {"opened": True, "count": 0}

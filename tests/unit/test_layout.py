"""The layout says what talks to a real server: nothing in ``copilot.odoo`` imports the double or the demo."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ODOO = Path(__file__).resolve().parents[2] / "src" / "copilot" / "odoo"


def test_the_odoo_client_never_imports_the_double_or_the_demo() -> None:
    offenders = []
    for path in sorted(ODOO.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(("copilot.odoo_double", "copilot.demo"))]
    assert offenders == []

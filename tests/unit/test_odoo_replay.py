"""Replay of real-Odoo recordings against the double: the comparison rules and a ratchet on the pass count."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.odoo_double.replay import compare, run

pytestmark = pytest.mark.unit


def _ex(body: object, status: int = 200, transport: str = "jsonrpc") -> dict:
    return {"transport": transport, "response": {"status": status, "body": body}}


def test_placeholders_match_anything_and_refs_compare_field_names() -> None:
    fields = {"res.partner": {"name": {}, "email": {}}}
    rec = _ex({"jsonrpc": "2.0", "id": 1, "result": [{"id": 3, "write_date": "<DATETIME>",
                                                       "f": {"$ref": "fields_get.json", "key": "res.partner"}}]})
    ok = {"jsonrpc": "2.0", "id": 1, "result": [{"id": 3, "write_date": "2026-12-05 10:00:00",
                                                 "f": {"name": {}, "email": {}}}]}
    assert compare(rec, 200, ok, fields) == ""
    bad = {"jsonrpc": "2.0", "id": 1, "result": [{"id": 4, "write_date": "x", "f": {"name": {}}}]}
    assert compare(rec, 200, bad, fields) == "result differs"


def test_errors_compare_code_and_name_and_status() -> None:
    rec = _ex({"jsonrpc": "2.0", "id": 1, "error": {"code": 0, "data": {"name": "odoo.exceptions.AccessError"}}})
    same = {"jsonrpc": "2.0", "id": 1, "error": {"code": 0, "data": {"name": "odoo.exceptions.AccessError"}}}
    assert compare(rec, 200, same, {}) == ""
    assert "code 200" in compare(rec, 200, {**same, "error": {**same["error"], "code": 200}}, {})
    assert compare(rec, 500, same, {}) == "status 500, recorded 200"
    json2 = _ex({"name": "builtins.ValueError", "message": "Invalid field"}, 500, "json2")
    assert compare(json2, 500, {"name": "builtins.ValueError", "message": "other words"}, {}) == ""


@pytest.mark.parametrize(("version", "floor"), [("odoo19", 735), ("odoo17", 398)])
def test_replay_never_passes_fewer_exchanges_than_measured(version: str, floor: int, odoo_recordings: Path) -> None:
    """A ratchet: the measured pass count of this change. Raise it as the double gets closer to Odoo."""
    folder = odoo_recordings / version
    report = run(folder)
    assert report["passed"] >= floor, report["top_reasons"]
    assert report["total"] == sum(g["total"] for g in report["groups"].values())


def test_replay_access_group_floor(odoo_recordings: Path) -> None:
    """``8_access`` (19 only): the demo and portal users' model rights and record rules, from the Community
    modules' security files (``odoo_double/community_security.py``). A ratchet like the one above."""
    report = run(odoo_recordings / "odoo19")
    assert report["groups"]["8_access"]["passed"] >= 180, report["top_reasons"]

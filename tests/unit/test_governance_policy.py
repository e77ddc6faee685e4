"""Policy: the default rules as a table, the condition language, validation, scopes and reload-on-change."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from copilot.errors import ConfigError
from copilot.governance.policy import (
    DEFAULT_POLICY_PATH,
    Effect,
    Policy,
    PolicyEvaluationError,
    PolicyStore,
    compile_condition,
)
from copilot.types import ADMIN_GROUP

pytestmark = pytest.mark.unit

DEFAULT = Policy.load(DEFAULT_POLICY_PATH)


@pytest.mark.parametrize(
    ("tool", "stage", "ctx", "effect", "rule"),
    [
        (
            "ticket_triage_apply",
            "pre",
            {"args": {"source": "model", "auto": True, "urgent": False, "critical_equipment": False}},
            "allow",
            "triage-auto-apply",
        ),
        (
            "ticket_triage_apply",
            "pre",
            {"args": {"source": "model", "auto": False, "urgent": False, "critical_equipment": False}},
            "require_approval",
            "triage-needs-review",
        ),
        (
            "ticket_triage_apply",
            "pre",
            {"args": {"source": "model", "auto": True, "urgent": True, "critical_equipment": False}},
            "require_approval",
            "triage-needs-review",
        ),
        (
            "ticket_triage_apply",
            "pre",
            {"args": {"source": "model", "auto": True, "urgent": False, "critical_equipment": True}},
            "require_approval",
            "triage-needs-review",
        ),
        (
            "ticket_triage_apply",
            "pre",
            {"args": {"source": "agent"}, "principal": {"role": "triage_service"}},
            "deny",
            "triage-agent-decisions",
        ),
        (
            "ticket_triage_apply",
            "pre",
            {"args": {"source": "agent"}, "principal": {"role": "helpdesk_agent"}},
            "allow",
            None,
        ),
        ("purchase_request_create", "pre", {"facts": {"amount": 5000}}, "allow", None),
        # a caller's claimed amount is not a fact: only facts.amount (read from Odoo) counts
        ("purchase_request_create", "pre", {"args": {"amount": 1}, "facts": {"amount": 5000.01}}, "require_approval",
         "purchase-over-5000"),
        ("purchase_request_create", "pre", {"args": {"amount": 9000}, "facts": {"amount": 10}}, "allow", None),
        (
            "purchase_request_create",
            "pre",
            {"facts": {"amount": 5000.01}},
            "require_approval",
            "purchase-over-5000",
        ),
        (
            "purchase_request_create",
            "pre",
            {"facts": {"amount": 10, "product_categories": ["All", "Pharmaceuticals", "Controlled Substances"]}},
            "require_approval",
            "controlled-substances",
        ),
        (
            "purchase_request_create",
            "pre",
            {"args": {"description": "Fentanyl patches"}, "facts": {"amount": 10}},
            "require_approval",
            "controlled-substances",
        ),
        (
            "purchase_request_create",
            "pre",
            {"facts": {"amount": 10, "product_categories": ["narcotics"]}},
            "require_approval",
            "controlled-substances",
        ),
        (
            "some_future_tool",
            "pre",
            {"facts": {"product_tags": ["DEA Schedule II"]}},
            "require_approval",
            "controlled-substances",
        ),
        ("some_future_tool", "pre", {"args": {"controlled_substance": True, "dea_schedule": "II"}}, "allow", None),
        ("some_future_tool", "pre", {"facts": {"product_categories": ["All", "Medical supplies"]}}, "allow", None),
        (
            "maintenance_equipment_status_set",
            "pre",
            {"facts": {"equipment_category": "Ventilators"}},
            "require_approval",
            "life-support-status-change",
        ),
        (
            "maintenance_request_create",
            "pre",
            {"facts": {"equipment_category": "Defibrillators"}},
            "require_approval",
            "life-support-maintenance-request",
        ),
        ("maintenance_request_create", "pre", {"facts": {"equipment_category": "Infusion pumps"}}, "allow", None),
        (
            "maintenance_equipment_status_set",
            "pre",
            {"args": {"equipment_category": "Infusion pumps"}, "facts": {"equipment_category": "ventilator"}},
            "require_approval",
            "life-support-status-change",
        ),
        ("maintenance_equipment_status_set", "pre", {"args": {"criticality": "life_support"}}, "allow", None),
        (
            "knowledge_search",
            "post",
            {"result": {"confidence": 0.3, "abstained": False}},
            "flag_for_review",
            "low-confidence-answer",
        ),
        (
            "knowledge_search",
            "post",
            {"result": {"confidence": 0.9, "abstained": True}},
            "flag_for_review",
            "low-confidence-answer",
        ),
        ("knowledge_search", "post", {"result": {"confidence": 0.9, "abstained": False}}, "allow", None),
        ("knowledge_search", "pre", {"args": {"question": "x"}}, "allow", None),
    ],
)
def test_default_rules(tool: str, stage: str, ctx: dict[str, Any], effect: str, rule: str | None) -> None:
    d = DEFAULT.evaluate(tool, stage, ctx)
    assert (d.effect.value, d.rule_id) == (effect, rule)


def test_controlled_substance_purchase_over_5000_names_the_first_matching_rule_of_top_severity() -> None:
    d = DEFAULT.evaluate(
        "purchase_request_create", "pre", {"facts": {"amount": 9000, "product_categories": ["Controlled Substances"]}}
    )
    assert d.effect is Effect.REQUIRE_APPROVAL and d.rule_id == "purchase-over-5000"
    assert d.approving_roles == ("executive", "admin")


@pytest.mark.parametrize(
    ("cond", "ctx", "expected"),
    [
        ({"field": "args.a", "op": "==", "value": "X"}, {"args": {"a": "x"}}, True),
        ({"field": "args.a", "op": "!=", "value": 1}, {"args": {"a": 2}}, True),
        ({"field": "args.a", "op": ">", "value": 1}, {"args": {"a": 2}}, True),
        ({"field": "args.a", "op": ">=", "value": 2}, {"args": {"a": 2}}, True),
        ({"field": "args.a", "op": "<", "value": 2}, {"args": {"a": 2}}, False),
        ({"field": "args.a", "op": "<=", "value": 2}, {"args": {"a": 2.0}}, True),
        ({"field": "args.a", "op": "in", "value": ["x", "y"]}, {"args": {"a": "Y"}}, True),
        ({"field": "args.a", "op": "not_in", "value": ["x"]}, {"args": {"a": "z"}}, True),
        ({"field": "args.a", "op": "contains", "value": "morph"}, {"args": {"a": "Morphine 10mg"}}, True),
        ({"field": "args.a", "op": "contains", "value": "b"}, {"args": {"a": ["a", "B"]}}, True),
        ({"field": "args.a", "op": "contains_any", "value": ["q", "z"]}, {"args": {"a": "xyz"}}, True),
        ({"field": "args.a", "op": "exists"}, {"args": {}}, False),
        ({"field": "args.a.b", "op": "==", "value": 1}, {"args": {"a": {"b": 1}}}, True),
        ({"field": "args.missing", "op": ">", "value": 1}, {"args": {}}, False),
        ({"field": "principal.role", "op": "==", "value": "staff"}, {"principal": {"role": "staff"}}, True),
        (
            {
                "all": [
                    {"field": "args.a", "op": ">", "value": 1},
                    {"field": "args.b", "op": "==", "value": 1},
                ]
            },
            {"args": {"a": 2, "b": 2}},
            False,
        ),
        (
            {
                "any": [
                    {"field": "args.a", "op": ">", "value": 1},
                    {"field": "args.b", "op": "==", "value": 1},
                ]
            },
            {"args": {"a": 0, "b": 1}},
            True,
        ),
        ({"not": {"field": "args.a", "op": "==", "value": 1}}, {"args": {"a": 1}}, False),
    ],
)
def test_condition_language(cond: dict[str, Any], ctx: dict[str, Any], expected: bool) -> None:
    policy = Policy.from_mapping({"roles": {"r": {}}, "rules": [{"id": "t", "when": cond, "effect": "deny"}]})
    rule = policy.doc.rules[0]
    assert compile_condition(rule.when, "t")(ctx) is expected


@pytest.mark.parametrize(
    ("ctx",),
    [({"args": {"a": "5000"}},), ({"args": {"a": True}},), ({"args": {"a": [1]}},)],
)
def test_incomparable_types_raise_rather_than_silently_pass(ctx: dict[str, Any]) -> None:
    policy = Policy.from_mapping(
        {
            "roles": {"r": {}},
            "rules": [
                {
                    "id": "big",
                    "when": {"field": "args.a", "op": ">", "value": 5},
                    "effect": "require_approval",
                    "approving_roles": ["r"],
                }
            ],
        }
    )
    with pytest.raises(PolicyEvaluationError) as err:
        policy.evaluate("any", "pre", ctx)
    assert err.value.rule_id == "big"


def _rules(*rules: dict[str, Any], roles: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"roles": roles or {"r": {}}, "rules": list(rules)}


@pytest.mark.parametrize(
    "doc",
    [
        _rules({"id": "x", "when": {"field": "args.a", "op": "~=", "value": 1}, "effect": "deny"}),
        _rules({"id": "x", "when": {"field": "os.environ", "op": "exists"}, "effect": "deny"}),
        _rules({"id": "x", "when": {"field": "args..a", "op": "exists"}, "effect": "deny"}),
        _rules({"id": "x", "when": {"field": "args.a", "op": "in", "value": "abc"}, "effect": "deny"}),
        _rules({"id": "x", "effect": "explode"}),
        _rules({"id": "x", "effect": "deny"}, {"id": "x", "effect": "allow"}),
        _rules({"id": "x", "stage": "post", "effect": "require_approval", "approving_roles": ["r"]}),
        _rules({"id": "x", "when": {"field": "result.confidence", "op": "<", "value": 1}, "effect": "deny"}),
        _rules({"id": "x", "effect": "require_approval", "approving_roles": ["ghost"]}),
        _rules({"id": "x", "effect": "deny", "unexpected": 1}),
        {"roles": {"r": {"tools": ["a"], "bogus": True}}},
        {"version": 2, "roles": {}},
        {"rules": []},
        ["not", "a", "mapping"],
    ],
)
def test_invalid_policies_are_refused(doc: Any) -> None:
    with pytest.raises(ConfigError) as err:
        Policy.from_mapping(doc)
    assert err.value.code == "invalid_policy"


def test_invalid_yaml_is_refused() -> None:
    with pytest.raises(ConfigError):
        Policy.from_yaml("roles: [unclosed")


def test_roles_tools_sites_and_acl_scope() -> None:
    p = Policy.from_mapping(
        {
            "roles": {
                "staff": {
                    "tools": ["knowledge_search"],
                    "sites": ["north", "south"],
                    "acl_groups": ["staff"],
                },
                "exec": {"tools": ["*"], "sites": ["*"], "acl_groups": ["*"]},
                "admin": {"tools": ["*"], "acl_groups": [ADMIN_GROUP]},
            }
        }
    )
    assert p.may_use("staff", "knowledge_search") and not p.may_use("staff", "purchase_request_create")
    assert p.may_use("exec", "anything") and not p.may_use("ghost", "knowledge_search")
    assert p.allowed_sites("staff", ("north", "east")) == ("north",)
    assert p.allowed_sites("staff", ("*",)) == ("north", "south")
    assert p.allowed_sites("exec", ("east",)) == ("east",)
    assert p.allowed_sites("exec", ("*",)) is None
    assert p.allowed_sites("ghost", ("*",)) == ()
    assert p.access_scope("staff", ("staff", "pharmacy", ADMIN_GROUP)).groups == ("staff",)
    assert p.access_scope("exec", ("b", "a", ADMIN_GROUP)).groups == ("a", "b")  # never admin by group alone
    assert p.access_scope("admin", ()).is_admin
    assert p.access_scope("ghost", ("staff",)).groups == ()


def test_unknown_tools_are_reported() -> None:
    assert DEFAULT.unknown_tools({"knowledge_search"}) == sorted(
        {
            "ticket_triage",
            "ticket_triage_apply",
            "helpdesk_ticket_read",
            "equipment_status",
            "lots_expiring",
            "stock_on_hand",
            "purchase_orders_open",
            "maintenance_request_create",
            "maintenance_equipment_status_set",
            "dashboard_summary",
            "kpi_query",
            "purchase_request_create",
            "audit_search",
            "audit_record",
            "audit_export",
            "audit_verify",
            "answer_feedback",
        }
    )


def _write(path: Path, text: str, bump: int) -> None:
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump * 1_000_000_000))


def test_store_reloads_on_change_and_keeps_last_good_on_a_bad_edit(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    _write(path, "roles: {staff: {tools: [knowledge_search]}}\n", 0)
    store = PolicyStore(path)
    first = store.current()
    assert store.current() is first  # unchanged file: no reload
    assert not first.may_use("staff", "echo")
    _write(path, "roles: {staff: {tools: [knowledge_search, echo]}}\n", 5)
    second = store.current()
    assert second is not first and second.may_use("staff", "echo")
    _write(path, "roles: {staff: {tools: [echo]}, }}}\n", 10)
    assert store.current() is second and store.last_error
    path.unlink()
    assert store.current() is second


def test_store_refuses_a_missing_or_invalid_policy_at_startup(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        PolicyStore(tmp_path / "missing.yaml").current()
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: 3\n")
    with pytest.raises(ConfigError):
        PolicyStore(bad).current()

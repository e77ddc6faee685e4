"""API tests for every route: auth missing / wrong / expired / wrong role, validation, SSE framing, the
review routes, approvals, limits and browser security headers.

Small parts: the hashing embedder, no redaction, a three-document corpus, SQLite in a temp dir, and the small
operations network on the Odoo protocol double (the purchase tool writes real draft orders there). The app is
built once per module (``build_service``); the other ``test_api_*`` modules reuse it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from copilot.api.app import build_app
from copilot.api.demo import install_demo_governance
from copilot.api.settings import ServiceSettings
from copilot.api.users import UserStore
from copilot.app import Copilot, build_copilot
from copilot.config import Settings
from copilot.ingest.sources import FolderSource
from copilot.odoo_double import Database, OdooDouble
from copilot.odoo_double.ops_sample import seed_ops_sample

pytestmark = pytest.mark.unit

CORPUS = {
    "copilot-meta.yaml": "defaults: {doc_type: policy, acl_groups: [all_staff]}\nfolders:\n"
                         "  sops: {doc_type: sop, acl_groups: [all_staff]}\n"
                         "  contracts: {doc_type: contract, acl_groups: [procurement, finance]}\n",
    "sops/infusion-pump-pm.md": "# Infusion Pump Preventive Maintenance\n\n## Interval\n\nInfusion pumps receive "
                                "preventive maintenance every six months. Biomedical engineering records each "
                                "check in the maintenance log.\n",
    "sops/hand-hygiene.md": "# Hand Hygiene Audits\n\n## Frequency\n\nWard managers audit hand hygiene "
                            "compliance monthly using the WHO five moments form.\n",
    "contracts/helix.md": "# Helix Reagents Agreement\n\n## Pricing\n\nThe Helix reagent rebate is 7.5 percent "
                          "of annual spend, paid quarterly to Riverside Health.\n",
}
ORIGIN = "https://intranet.riverside.example"
USERS = {  # id -> (role, groups)
    "nina.nurse": ("staff", ("all_staff", "nursing")),
    "paul.procurement": ("staff", ("all_staff", "procurement")),
    "quinn.quality": ("compliance", ("all_staff", "quality")),
    "erin.exec": ("executive", ("all_staff", "executive", "finance")),
    "ada.admin": ("admin", ()),
}


@dataclass
class Service:
    app: Any
    client: TestClient
    cp: Copilot
    keys: dict[str, str]
    users: UserStore
    odoo: Any = None

    def h(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[user]}"}


def write_corpus(root: Path) -> Path:
    for rel, text in CORPUS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def build_service(tmp: Path, **svc: Any) -> Service:
    db = Database(version="19.0")
    sample = seed_ops_sample(db)
    odoo = OdooDouble(db).start()
    settings = Settings(data_dir=tmp / "data", embedding_backend="hashing", redaction="none",
                        odoo_url=odoo.url, odoo_db=db.name, odoo_login=sample.login, odoo_api_key=sample.key,
                        kpi_site_aliases=sample.sites, kpi_as_of=sample.today)
    cp = build_copilot(settings)
    cp.ingest(FolderSource(write_corpus(tmp / "corpus")))
    install_demo_governance(cp)
    service = ServiceSettings.from_settings(settings, **{
        "password_login": True, "cors_origins": [ORIGIN], "frame_ancestors": [ORIGIN],
        "rate_limit_per_minute": 100_000, "rate_limit_burst": 10_000,
        # these tests send bad tokens on purpose, all from one test client: lock-outs are tested in
        # test_api_hardening.py
        "auth_max_failures_per_address": 100_000, "auth_max_failures_per_user": 100_000, **svc})
    app = build_app(cp, service=service)
    users = UserStore(cp.engine)
    keys = {uid: users.add(uid, role=role, groups=groups, user_id=uid, password="pw-" + uid,
                           sites=("*",) if role in ("executive", "admin") else ())[1]
            for uid, (role, groups) in USERS.items()}
    return Service(app, TestClient(app), cp, keys, users, odoo)


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Any:
    s = build_service(tmp_path_factory.mktemp("api"))
    yield s
    s.cp.close()
    s.odoo.stop()


def sse_events(text: str) -> list[tuple[str, Any]]:
    """Parse an SSE body strictly: every frame is ``event:`` + one ``data:`` line, frames end in a blank line."""
    assert text.endswith("\n\n")
    out = []
    for frame in text[:-2].split("\n\n"):
        lines = frame.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), frame
        out.append((lines[0][7:], json.loads(lines[1][6:])))
    return out


# --- auth: missing / wrong / expired / wrong role ----------------------------------------------------------

PROTECTED = [
    ("POST", "/v1/ask", {"question": "hello"}),
    ("POST", "/v1/feedback", {"request_id": "abcdefgh12", "rating": "up"}),
    ("GET", "/v1/audit/records", None),
    ("GET", "/v1/audit/records/x", None),
    ("GET", "/v1/audit/verify", None),
    ("GET", "/v1/audit/export", None),
    ("GET", "/v1/approvals", None),
    ("POST", "/v1/approvals/x/approve", {}),
    ("POST", "/v1/approvals/x/reject", {}),
    ("POST", "/v1/ingest", {"path": "/tmp"}),
    ("GET", "/v1/ingest", None),
    ("GET", "/v1/status", None),
    ("GET", "/v1/me", None),
    ("POST", "/v1/auth/session", None),
    ("POST", "/v1/tools/knowledge_search", {"question": "x"}),
    ("POST", "/v1/triage", {"subject": "printer"}),
    ("GET", "/v1/triage/queue", None),
    ("GET", "/v1/triage/jobs", None),
    ("GET", "/v1/triage/model", None),
    ("POST", "/v1/triage/items/x/decision", {"action": "accept"}),
    ("GET", "/v1/kpis", None),
    ("POST", "/v1/summaries", {"period": "2026-03"}),
    ("GET", "/metrics", None),
]


FORGED_KEY = "not-the-secret-but-long-enough-for-hs256!"


def expired_session(svc: Service) -> str:
    claims = {"iss": "copilot-session", "typ": "session", "sub": "nina.nurse", "role": "staff",
              "exp": int(time.time()) - 60}
    return jwt.encode(claims, svc.app.state.ctx.auth._secret, algorithm="HS256")


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
@pytest.mark.parametrize("cred", ["missing", "wrong", "expired", "forged", "revoked"])
def test_every_protected_route_refuses_bad_credentials(svc: Service, method: str, path: str, body: Any,
                                                       cred: str) -> None:
    if cred == "revoked" and "revoked" not in svc.keys:
        _, svc.keys["revoked"] = svc.users.add("Rex", role="admin", user_id="rex.revoked")
        svc.users.revoke("rex.revoked")
    token = {
        "missing": None,
        "wrong": "cpk_0000000000000000_nope",
        "expired": expired_session(svc),
        "forged": jwt.encode({"iss": "copilot-session", "typ": "session", "sub": "x", "role": "admin",
                              "exp": int(time.time()) + 60}, FORGED_KEY, algorithm="HS256"),
        "revoked": svc.keys.get("revoked"),
    }[cred]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = svc.client.request(method, path, json=body, headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"
    if cred == "expired":
        assert r.json()["error"] == "token_expired"


@pytest.mark.parametrize(("user", "method", "path", "body"), [
    ("nina.nurse", "GET", "/v1/audit/records", None),
    ("nina.nurse", "GET", "/v1/audit/verify", None),
    ("nina.nurse", "GET", "/v1/audit/export", None),
    ("erin.exec", "GET", "/v1/audit/records", None),
    ("nina.nurse", "POST", "/v1/ingest", {"path": "/tmp"}),
    ("quinn.quality", "GET", "/v1/status", None),
    ("quinn.quality", "GET", "/v1/ingest", None),
    ("nina.nurse", "POST", "/v1/tools/purchase_request_create",
     {"site": "Lakeside Hospital", "lines": [{"product": "PMP-VOL", "quantity": 1}]}),
])
def test_wrong_role_is_forbidden(svc: Service, user: str, method: str, path: str, body: Any) -> None:
    r = svc.client.request(method, path, json=body, headers=svc.h(user))
    assert r.status_code == 403, r.text


# --- validation ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/ask", {"question": ""}),
    ("POST", "/v1/ask", {"question": "x" * 2001}),
    ("POST", "/v1/ask", {}),
    ("POST", "/v1/ask", {"question": "x", "filters": {"acl_groups": "procurement"}}),
    ("POST", "/v1/ask", {"question": "x", "groups": "nursing"}),
    ("POST", "/v1/feedback", {"request_id": "abcdefgh12", "rating": "meh"}),
    ("POST", "/v1/feedback", {"request_id": "../../etc", "rating": "up"}),
    ("GET", "/v1/audit/records?limit=0", None),
    ("GET", "/v1/audit/records?since=yesterday", None),
    ("GET", "/v1/audit/export?format=xml", None),
    ("GET", "/v1/approvals?status=maybe", None),
    ("POST", "/v1/ingest", {"path": "/definitely/not/here"}),
    ("POST", "/v1/tools/purchase_request_create",
     {"site": "Lakeside Hospital", "lines": [{"product": "PMP-VOL", "quantity": -1}]}),
])
def test_validation_errors_are_422_without_echoing_values(svc: Service, method: str, path: str,
                                                          body: Any) -> None:
    r = svc.client.request(method, path, json=body, headers=svc.h("ada.admin"))
    assert r.status_code == 422, r.text
    assert "x" * 50 not in r.text and "/etc" not in r.text


def test_malformed_json_is_422(svc: Service) -> None:
    r = svc.client.post("/v1/ask", content=b"{not json", headers={**svc.h("nina.nurse"),
                                                                   "Content-Type": "application/json"})
    assert r.status_code == 422


# --- ask: JSON, ACL, SSE ---------------------------------------------------------------------------------

def test_ask_returns_a_cited_answer_and_a_request_id(svc: Service) -> None:
    r = svc.client.post("/v1/ask", json={"question": "How often do infusion pumps receive preventive maintenance?"},
                        headers=svc.h("nina.nurse"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert not out["abstained"] and "six months" in out["answer"]
    assert out["citations"][0]["n"] == 1 and out["citations"][0]["title"]
    assert len(out["request_id"]) == 32


@pytest.mark.parametrize(("user", "sees_contract"), [
    ("nina.nurse", False), ("paul.procurement", True), ("erin.exec", True), ("ada.admin", True),
])
def test_ask_applies_the_callers_document_groups(svc: Service, user: str, sees_contract: bool) -> None:
    r = svc.client.post("/v1/ask", json={"question": "What is the Helix reagent rebate?"}, headers=svc.h(user))
    out = r.json()
    assert ("7.5 percent" in out["answer"]) is sees_contract
    assert any(p["title"].lower().startswith("helix") for p in out["passages"]) is sees_contract


def test_groups_only_narrow_for_non_admins(svc: Service) -> None:
    r = svc.client.post("/v1/ask", json={"question": "What is the Helix reagent rebate?",
                                         "groups": ["procurement"]}, headers=svc.h("nina.nurse"))
    assert r.json()["abstained"] is True


def test_ask_streams_sentences_then_citations_then_done(svc: Service) -> None:
    r = svc.client.post("/v1/ask", json={"question": "How often do infusion pumps receive preventive maintenance?"},
                        headers={**svc.h("nina.nurse"), "Accept": "text/event-stream"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    names = [e for e, _ in events]
    assert names[-2:] == ["citations", "done"] and set(names[:-2]) == {"sentence"} and len(names) >= 3
    cites = events[-2][1]
    assert cites["citations"] and cites["abstained"] is False and cites["request_id"]
    assert "six months" in " ".join(d["text"] for e, d in events if e == "sentence")


def test_stream_of_an_abstention_says_so(svc: Service) -> None:
    r = svc.client.post("/v1/ask", json={"question": "What is the Helix reagent rebate?"},
                        headers={**svc.h("nina.nurse"), "Accept": "text/event-stream"})
    events = dict(sse_events(r.text))
    assert events["citations"]["abstained"] is True and events["citations"]["citations"] == []


# --- feedback ----------------------------------------------------------------------------------------------

def test_feedback_is_stored_for_the_askers_own_answer_only(svc: Service) -> None:
    rid = svc.client.post("/v1/ask", json={"question": "hand hygiene audit frequency?"},
                          headers=svc.h("nina.nurse")).json()["request_id"]
    r = svc.client.post("/v1/feedback", json={"request_id": rid, "rating": "down", "comment": "too short"},
                        headers=svc.h("nina.nurse"))
    assert r.status_code == 201
    stored = svc.users.feedback()[0]
    assert (stored["request_id"], stored["rating"], stored["principal_id"]) == (rid, -1, "nina.nurse")
    other = svc.client.post("/v1/feedback", json={"request_id": rid, "rating": "up"}, headers=svc.h("paul.procurement"))
    assert other.status_code == 404


# --- audit review ------------------------------------------------------------------------------------------

def test_compliance_finds_a_question_reads_the_record_verifies_and_exports(svc: Service) -> None:
    svc.client.post("/v1/ask", json={"question": "defibrillator zebra check?"}, headers=svc.h("nina.nurse"))
    h = svc.h("quinn.quality")
    recs = svc.client.get("/v1/audit/records", params={"text": "zebra", "principal": "nina.nurse",
                                                       "tool": "knowledge_search"}, headers=h).json()
    assert len(recs) == 1 and recs[0]["role"] == "staff" and recs[0]["decision"] in ("allow", "flag_for_review")
    detail = svc.client.get(f"/v1/audit/records/{recs[0]['record_id']}", headers=h).json()
    assert json.loads(detail["args_json"])["question"] == "defibrillator zebra check?"
    assert svc.client.get("/v1/audit/records/nope", headers=h).status_code == 404
    v = svc.client.get("/v1/audit/verify", headers=h).json()
    assert v["ok"] is True and v["checked"] >= 1 and v["first_bad_seq"] is None
    ex = svc.client.get("/v1/audit/export", params={"principal": "nina.nurse"}, headers=h)
    assert ex.headers["content-disposition"] == 'attachment; filename="copilot-audit.jsonl"'
    lines = [json.loads(x) for x in ex.text.splitlines()]
    assert lines and all(x["principal_id"] == "nina.nurse" for x in lines)
    assert int(ex.headers["x-record-count"]) == len(lines)
    csv = svc.client.get("/v1/audit/export", params={"format": "csv"}, headers=h)
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("seq,record_id")


def test_compliance_reads_leave_audit_records(svc: Service) -> None:
    h = svc.h("quinn.quality")
    before = svc.cp.audit.search(principal="quinn.quality", limit=None)
    svc.client.get("/v1/audit/records", params={"tool": "knowledge_search"}, headers=h)
    svc.client.get("/v1/audit/verify", headers=h)
    svc.client.get("/v1/audit/export", params={"format": "csv"}, headers=h)
    first = svc.cp.audit.search(limit=1)[0]
    svc.client.get(f"/v1/audit/records/{first.record_id}", headers=h)
    after = svc.cp.audit.search(principal="quinn.quality", limit=None)
    new = [r.tool for r in after[len(before):]]
    assert new == ["audit_search", "audit_verify", "audit_export", "audit_record"]
    nurse = svc.client.get("/v1/audit/verify", headers=svc.h("nina.nurse"))
    assert nurse.status_code == 403 and svc.cp.audit.search(principal="nina.nurse", tool="audit_verify")


def test_audit_filters_by_decision_and_time(svc: Service) -> None:
    h = svc.h("ada.admin")
    denied = svc.client.get("/v1/audit/records", params={"decision": "deny"}, headers=h).json()
    assert all(r["decision"] == "deny" for r in denied)
    future = svc.client.get("/v1/audit/records", params={"since": "2999-01-01T00:00:00Z"}, headers=h).json()
    assert future == []


# --- approvals --------------------------------------------------------------------------------------------

def test_approvals_queue_enforces_segregation_of_duties(svc: Service) -> None:
    r = svc.client.post("/v1/tools/purchase_request_create", headers=svc.h("erin.exec"),
                        json={"site": "Lakeside Hospital", "lines": [{"product": "PMP-VOL", "quantity": 10}]})
    assert r.status_code == 200 and r.json()["status"] == "pending_approval"
    aid = r.json()["approval_id"]
    queue = svc.client.get("/v1/approvals", headers=svc.h("erin.exec")).json()
    (mine,) = [q for q in queue if q["id"] == aid]
    assert mine["facts"]["amount"] == 21000.0 and mine["facts"]["supplier"]["url"]  # priced by Odoo, with links
    orders = len(svc.odoo.db.table("purchase.order"))
    assert svc.client.get("/v1/approvals", headers=svc.h("nina.nurse")).json() == []
    assert svc.client.post(f"/v1/approvals/{aid}/approve", json={}, headers=svc.h("erin.exec")).status_code == 403
    assert svc.client.post(f"/v1/approvals/{aid}/approve", json={}, headers=svc.h("nina.nurse")).status_code == 403
    ok = svc.client.post(f"/v1/approvals/{aid}/approve", json={"reason": "budgeted"}, headers=svc.h("ada.admin"))
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    assert len(svc.odoo.db.table("purchase.order")) == orders + 1
    again = svc.client.post(f"/v1/approvals/{aid}/approve", json={}, headers=svc.h("ada.admin"))
    assert again.status_code == 409
    assert svc.client.post("/v1/approvals/no-such-id/reject", json={}, headers=svc.h("ada.admin")).status_code == 404


def test_the_requester_can_wait_on_their_own_approval(svc: Service) -> None:
    r = svc.client.post("/v1/tools/purchase_request_create", headers=svc.h("erin.exec"),
                        json={"site": "Lakeside Hospital", "lines": [{"product": "PMP-VOL", "quantity": 10}]})
    aid = r.json()["approval_id"]
    mine = svc.client.get(f"/v1/approvals/{aid}", headers=svc.h("erin.exec"))
    assert mine.status_code == 200 and mine.json()["status"] == "pending"
    assert svc.client.get(f"/v1/approvals/{aid}", headers=svc.h("nina.nurse")).status_code == 404  # not hers
    assert svc.client.post(f"/v1/approvals/{aid}/approve", json={}, headers=svc.h("ada.admin")).status_code == 200
    done = svc.client.get(f"/v1/approvals/{aid}", headers=svc.h("erin.exec")).json()
    assert done["status"] == "approved" and done["decided_by"] == "ada.admin" and done["outcome"] == "ok"


def test_reject_moves_a_request_out_of_the_queue(svc: Service) -> None:
    aid = svc.client.post("/v1/tools/purchase_request_create", headers=svc.h("erin.exec"),
                          json={"site": "Lakeside Hospital", "lines": [{"product": "PMP-VOL", "quantity": 5}]},
                          ).json()["approval_id"]
    r = svc.client.post(f"/v1/approvals/{aid}/reject", json={"reason": "not budgeted"}, headers=svc.h("ada.admin"))
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    pending = svc.client.get("/v1/approvals", headers=svc.h("ada.admin")).json()
    assert aid not in [q["id"] for q in pending]


# --- sign-in and sessions ----------------------------------------------------------------------------------

def test_password_sign_in_mints_a_short_lived_session(svc: Service) -> None:
    r = svc.client.post("/v1/auth/login", json={"username": "nina.nurse", "password": "pw-nina.nurse"})
    assert r.status_code == 200
    body = r.json()
    assert body["principal"]["groups"] == ["all_staff", "nursing"]
    assert 0 < body["expires_at"] - time.time() <= 900
    me = svc.client.get("/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).json()
    assert me["id"] == "nina.nurse" and me["role"] == "staff"
    bad = svc.client.post("/v1/auth/login", json={"username": "nina.nurse", "password": "wrong"})
    assert bad.status_code == 401


def test_an_api_key_exchanges_for_a_session(svc: Service) -> None:
    r = svc.client.post("/v1/auth/session", headers=svc.h("paul.procurement"))
    token = r.json()["token"]
    assert not token.startswith("cpk_")
    assert svc.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["id"] == "paul.procurement"


def test_demo_users_list_only_with_password_sign_in(svc: Service, tmp_path: Path) -> None:
    assert [u["role"] for u in svc.client.get("/v1/auth/demo-users").json()].count("admin") == 1
    settings = Settings(data_dir=tmp_path, embedding_backend="hashing", redaction="none")
    app = build_app(build_copilot(settings), service=ServiceSettings.from_settings(settings))
    client = TestClient(app)
    assert client.get("/v1/auth/demo-users").status_code == 404
    r = client.post("/v1/auth/login", json={"username": "a", "password": "b"})
    assert r.status_code == 403 and r.json()["error"] == "password_login_disabled"


# --- ops -------------------------------------------------------------------------------------------------

def test_health_readiness_and_metrics(svc: Service) -> None:
    assert svc.client.get("/healthz").json() == {"status": "ok"}
    ready = svc.client.get("/readyz").json()
    assert ready["status"] == "ok" and ready["checks"] == {"index": "ok", "database": "ok", "odoo": "ok"}
    m = svc.client.get("/metrics", headers=svc.h("ada.admin"))
    assert m.status_code == 200 and "copilot_http_requests_total" in m.text
    assert 'route="/v1/ask"' in m.text


def test_readiness_reports_an_unreachable_odoo(svc: Service, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, embedding_backend="hashing", redaction="none",
                        odoo_url="http://127.0.0.1:9", odoo_db="x")
    client = TestClient(build_app(build_copilot(settings)))
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["odoo"].startswith("error")


def test_admin_ingest_and_status(svc: Service, tmp_path: Path) -> None:
    (tmp_path / "copilot-meta.yaml").write_text("defaults: {acl_groups: [all_staff]}\n")
    (tmp_path / "badge.md").write_text("# Badges\n\nBadges are worn above the waist at all times.\n")
    h = svc.h("ada.admin")
    assert svc.client.post("/v1/ingest", json={"path": str(tmp_path)}, headers=h).status_code == 202
    for _ in range(100):
        state = svc.client.get("/v1/ingest", headers=h).json()
        if state["state"] not in ("running", "started"):
            break
        time.sleep(0.05)
    assert state["state"] == "done" and state["report"]["indexed"] == 1
    assert svc.client.get("/v1/status", headers=h).json()["documents"]
    run = svc.cp.audit.search(tool="ingest_run", principal="ada.admin", limit=None)[-1]  # a governed side effect
    assert run.outcome == "ok" and str(tmp_path) in run.args_json
    refused = svc.client.post("/v1/ingest", json={"path": str(tmp_path)}, headers=svc.h("nina.nurse"))
    assert refused.status_code == 403 and svc.cp.audit.search(tool="ingest_run", principal="nina.nurse")


# --- limits and browser security ---------------------------------------------------------------------------

def test_security_headers_on_every_response(svc: Service) -> None:
    for path in ("/healthz", "/signin", "/static/widget.js", "/v1/me"):
        r = svc.client.get(path)
        csp = r.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp
        assert f"frame-ancestors 'self' {ORIGIN}" in csp
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(("origin", "allowed"), [(ORIGIN, True), ("https://evil.example", False)])
def test_cors_allows_only_configured_host_pages(svc: Service, origin: str, allowed: bool) -> None:
    r = svc.client.options("/v1/ask", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "authorization,content-type"})
    assert (r.headers.get("access-control-allow-origin") == origin) is allowed


def test_request_body_limit(svc: Service) -> None:
    r = svc.client.post("/v1/ask", content=b"{" + b" " * 70_000 + b"}", headers={
        **svc.h("nina.nurse"), "Content-Type": "application/json"})
    assert r.status_code == 413


def test_rate_limit_is_per_principal(tmp_path: Path) -> None:
    s = build_service(tmp_path, rate_limit_burst=3, rate_limit_per_minute=1)
    codes = [s.client.get("/v1/me", headers=s.h("nina.nurse")).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert s.client.get("/v1/me", headers=s.h("paul.procurement")).status_code == 200
    s.cp.close()


def test_pages_and_widget_are_served_without_inline_script(svc: Service) -> None:
    for page in ("/signin", "/odoo", "/review", "/triage"):
        html = svc.client.get(page).text
        assert "<script>" not in html and " style=" not in html and "onclick" not in html
    assert 'src="/static/widget.js"' in svc.client.get("/odoo").text
    assert svc.client.get("/", follow_redirects=False).headers["location"] == "/signin"


def test_openapi_documents_every_v1_route(svc: Service) -> None:
    paths = svc.client.get("/openapi.json").json()["paths"]
    for _, path, _ in PROTECTED:
        template = path.replace("/records/x", "/records/{record_id}")
        template = template.replace("/approvals/x", "/approvals/{approval_id}")
        template = template.replace("/tools/knowledge_search", "/tools/{name}")
        template = template.replace("/items/x/", "/items/{item_id}/")
        assert template in paths, template
    assert "text/event-stream" in paths["/v1/ask"]["post"]["responses"]["200"]["content"]

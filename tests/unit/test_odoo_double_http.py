"""The double on the wire: the real ``odoorpc`` client over JSON-RPC, and raw JSON-2 requests via httpx.

The double is an in-process loopback server (started in milliseconds on an ephemeral port), so these stay unit
tests. Shapes asserted here are the ones ODOO.md §1–2 sources from Odoo's code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import odoorpc
import pytest

from copilot.odoo_double import Database, OdooDouble
from copilot.odoo_double.sample import Sample, seed_sample

pytestmark = pytest.mark.unit


@pytest.fixture(params=["17.0", "19.0"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[OdooDouble, Sample]]:
    db = Database(version=request.param)
    sample = seed_sample(db)
    with OdooDouble(db) as double:
        yield double, sample


@pytest.fixture
def served19() -> Iterator[tuple[OdooDouble, Sample]]:
    db = Database(version="19.0")
    sample = seed_sample(db)
    with OdooDouble(db) as double:
        yield double, sample


def _odoo(double: OdooDouble, login: str, password: str) -> Any:
    odoo = odoorpc.ODOO("127.0.0.1", port=double.port)
    odoo.login(double.db.name, login, password)
    return odoo


def test_odoorpc_connects_logs_in_and_reads(served: tuple[OdooDouble, Sample]) -> None:
    double, sample = served
    odoo = _odoo(double, "alice", "alice-pw")
    assert odoo.version == double.version
    assert odoo.env.uid == sample.users["alice"]
    assert odoo.env.context["lang"] == "en_US"
    rows = odoo.env["documents.document"].search_read(
        [("type", "=", "binary")], ["name", "folder_id"], order="name", limit=2
    )
    assert [r["name"] for r in rows] == ["Hand hygiene.html", "Infusion pump PM.md"]
    assert rows[0]["folder_id"][1] == "SOPs"
    doc = odoo.env["documents.document"].browse(sample.documents["pm"])
    assert doc.name == "Infusion pump PM.md"
    assert doc.folder_id.name == "SOPs"  # many2one read lazily with load=_classic_write, then browsed
    # odoorpc's `"model" in env` searches ir.model, which only Access Rights administrators may read: a plain
    # user gets AccessError on a real server (recorded: 17 g10.odoorpc.12, 19 g10.odoorpc.14)
    with pytest.raises(odoorpc.error.RPCError, match="not allowed to access 'Models'"):
        _ = "knowledge.article" in odoo.env
    assert odoo.env.user.login == "alice"


def test_odoorpc_api_key_works_as_password(served: tuple[OdooDouble, Sample]) -> None:
    double, sample = served
    odoo = _odoo(double, "bob", "key-bob")
    assert odoo.env.uid == sample.users["bob"]


def test_odoorpc_wrong_password_is_refused(served: tuple[OdooDouble, Sample]) -> None:
    double, _ = served
    with pytest.raises(odoorpc.error.RPCError, match="Wrong login"):
        _odoo(double, "alice", "nope")


def test_jsonrpc_error_envelope_per_version(served: tuple[OdooDouble, Sample]) -> None:
    double, sample = served
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 7,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": [
                double.db.name,
                sample.users["bob"],
                "bob-pw",
                "documents.document",
                "read",
                [[sample.documents["supply"]]],
                {"fields": ["name"]},
            ],
        },
    }
    reply = httpx.post(f"{double.url}/jsonrpc", json=body).json()
    assert reply["id"] == 7
    assert "result" not in reply
    err = reply["error"]
    assert err["code"] == (0 if double.major >= 19 else 200)
    assert err["message"] == "Odoo Server Error"
    assert err["data"]["name"] == "odoo.exceptions.AccessError"
    body["params"]["args"][2] = "wrong"
    denied = httpx.post(f"{double.url}/jsonrpc", json=body).json()["error"]["data"]
    assert denied["name"] == "odoo.exceptions.AccessDenied"
    assert denied["message"] == "Access Denied"


def test_jsonrpc_login_with_bad_password_returns_false(served: tuple[OdooDouble, Sample]) -> None:
    double, _ = served
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {"service": "common", "method": "login", "args": [double.db.name, "alice", "x"]},
    }
    assert httpx.post(f"{double.url}/jsonrpc", json=body).json()["result"] is False


def test_json2_is_absent_before_19() -> None:
    with OdooDouble(version="17.0") as double:
        resp = httpx.post(
            f"{double.url}/json/2/res.partner/search",
            json={"domain": []},
            headers={"Authorization": "bearer x"},
        )
        assert resp.status_code == 404


def _j2(
    double: OdooDouble,
    path: str,
    body: Any = None,
    *,
    key: str | None = "key-alice",
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    hdrs = {"X-Odoo-Database": double.db.name, **(headers or {})}
    if key:
        hdrs["Authorization"] = f"bearer {key}"
    if content is not None:
        return httpx.post(f"{double.url}/json/2/{path}", content=content, headers=hdrs)
    return httpx.post(f"{double.url}/json/2/{path}", json=body if body is not None else {}, headers=hdrs)


def test_json2_named_params_and_ids(served19: tuple[OdooDouble, Sample]) -> None:
    double, sample = served19
    resp = _j2(
        double,
        "documents.document/search_read",
        {"domain": [["type", "=", "binary"]], "fields": ["name"], "order": "name desc", "limit": 1},
    )
    assert resp.status_code == 200
    assert resp.json() == [{"id": sample.documents["supply"], "name": "Supply agreement MedSupply.md"}]
    rows = _j2(double, "documents.document/read", {"ids": [sample.documents["pm"]], "fields": ["folder_id"]})
    assert rows.json()[0]["folder_id"] == [sample.folders["sops"], "SOPs"]
    me = _j2(double, "res.users/context_get").json()
    assert me["uid"] == sample.users["alice"]
    created = _j2(double, "res.partner/create", {"vals_list": [{"name": "ACME"}]}, key="key-admin")
    assert isinstance(created.json(), list)


JSON2_ERRORS = [
    # (path, body, key, extra headers, raw content, status, error name)
    ("res.partner/search", {"domain": []}, None, None, None, 401, "werkzeug.exceptions.Unauthorized"),
    ("res.partner/search", {"domain": []}, "bad-key", None, None, 401, "werkzeug.exceptions.Unauthorized"),
    (
        "res.partner/search",
        None,
        "key-alice",
        {"Content-Type": "text/plain"},
        b"{}",
        415,
        "werkzeug.exceptions.UnsupportedMediaType",
    ),
    (
        "res.partner/search",
        None,
        "key-alice",
        {"Content-Type": "application/json"},
        b"{nope",
        400,
        "werkzeug.exceptions.BadRequest",
    ),
    ("no.such.model/search", {"domain": []}, "key-alice", None, None, 404, "werkzeug.exceptions.NotFound"),
    ("res.partner/no_such_method", {}, "key-alice", None, None, 404, "werkzeug.exceptions.NotFound"),
    # parameters that do not fit: 422 UnprocessableEntity (recorded: g6.json2.ids_on_model_method, unexpected_kwarg)
    ("res.partner/search", {"ids": [1], "domain": []}, "key-alice", None, None, 422,
     "werkzeug.exceptions.UnprocessableEntity"),
    ("res.partner/search", {"domian": []}, "key-alice", None, None, 422, "werkzeug.exceptions.UnprocessableEntity"),
    ("res.partner/_private", {}, "key-alice", None, None, 403, "odoo.exceptions.AccessError"),
    ("ir.rule/search", {"domain": []}, "key-bob", None, None, 403, "odoo.exceptions.AccessError"),
    (
        "res.partner/write",
        {"ids": [999], "vals": {"name": "x"}},
        "key-admin",
        None,
        None,
        404,
        "odoo.exceptions.MissingError",
    ),
    (
        "maintenance.request/create",
        {"vals_list": [{"description": "x"}]},
        "key-admin",
        None,
        None,
        422,
        "odoo.exceptions.ValidationError",
    ),
]


@pytest.mark.parametrize(("path", "body", "key", "headers", "content", "status", "name"), JSON2_ERRORS)
def test_json2_error_statuses(
    served19: tuple[OdooDouble, Sample],
    path: str,
    body: Any,
    key: str | None,
    headers: dict[str, str] | None,
    content: bytes | None,
    status: int,
    name: str,
) -> None:
    double, _ = served19
    resp = _j2(double, path, body, key=key, headers=headers, content=content)
    assert resp.status_code == status
    payload = resp.json()
    assert payload["name"] == name
    assert set(payload) == {"name", "message", "arguments", "context", "debug"}


def test_json2_hidden_record_is_403(served19: tuple[OdooDouble, Sample]) -> None:
    double, sample = served19
    resp = _j2(double, "documents.document/read", {"ids": [sample.documents["supply"]]}, key="key-bob")
    assert resp.status_code == 403
    assert resp.json()["name"] == "odoo.exceptions.AccessError"


def test_json2_wrong_verb_is_404(served19: tuple[OdooDouble, Sample]) -> None:
    double, _ = served19
    resp = httpx.get(f"{double.url}/json/2/res.partner/search")
    assert resp.status_code == 404
    assert "POST /json/2/<model>/<method>" in resp.json()["message"]


def test_stats_and_injected_faults(served19: tuple[OdooDouble, Sample]) -> None:
    double, _ = served19
    double.stats.reset()
    double.inject(503, "garbage")
    assert _j2(double, "res.users/context_get").status_code == 503
    assert _j2(double, "res.users/context_get").headers["content-type"] == "text/html"
    assert _j2(double, "res.users/context_get").status_code == 200
    snap = double.stats.snapshot()
    assert snap["requests"] == 3
    assert snap["calls"] == {"res.users.context_get": 1}
    assert snap["bytes_out"] > 0


def test_xmlrpc_services_and_fault_codes(served: tuple[OdooDouble, Sample]) -> None:
    """``/xmlrpc/2/*`` serves the same services as ``/jsonrpc``; faults carry Odoo's integer codes (recorded:
    g1.xmlrpc.* on 17 and 19)."""
    import xmlrpc.client

    double, sample = served
    common = xmlrpc.client.ServerProxy(f"{double.url}/xmlrpc/2/common")
    assert common.version()["server_serie"] == double.version
    uid = common.login(double.db.name, "alice", "alice-pw")
    assert uid == sample.users["alice"]
    assert common.login(double.db.name, "alice", "wrong") is False
    obj = xmlrpc.client.ServerProxy(f"{double.url}/xmlrpc/2/object")
    assert obj.execute_kw(double.db.name, uid, "alice-pw", "res.users", "context_get", [])["uid"] == uid
    codes = {}
    for key, call in {
        3: lambda: obj.execute_kw(double.db.name, uid, "wrong", "res.partner", "search", [[]]),
        2: lambda: obj.execute_kw(double.db.name, uid, "alice-pw", "no.such.model", "search", [[]]),
        4: lambda: obj.execute_kw(double.db.name, uid, "alice-pw", "ir.model.data", "search", [[]]),
        1: lambda: obj.execute_kw(double.db.name, uid, "alice-pw", "res.partner", "read", [[1], ["nope"]]),
    }.items():
        with pytest.raises(xmlrpc.client.Fault) as fault:
            call()
        codes[key] = fault.value.faultCode
    assert codes == {3: 3, 2: 2, 4: 4, 1: 1}


def test_web_session_cookie_and_expiry(served: tuple[OdooDouble, Sample]) -> None:
    """``/web/session/authenticate`` sets ``session_id``; ``call_kw`` needs it and answers code 100 without it,
    also after ``destroy`` (recorded: g1.session.*)."""
    double, sample = served
    with httpx.Client(base_url=double.url) as http:
        def rpc(path: str, params: dict[str, Any]) -> dict[str, Any]:
            return http.post(path, json={"jsonrpc": "2.0", "method": "call", "params": params, "id": 7}).json()

        bad = rpc("/web/session/authenticate", {"db": double.db.name, "login": "alice", "password": "x"})
        assert bad["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
        ok = rpc("/web/session/authenticate", {"db": double.db.name, "login": "alice", "password": "alice-pw"})
        assert ok["result"]["uid"] == sample.users["alice"] and http.cookies.get("session_id")
        call = {"model": "res.users", "method": "context_get", "args": [], "kwargs": {}}
        assert rpc("/web/dataset/call_kw/res.users/context_get", call)["result"]["uid"] == sample.users["alice"]
        assert rpc("/web/session/destroy", {}) == {"jsonrpc": "2.0", "id": 7}
        expired = rpc("/web/dataset/call_kw/res.users/context_get", call)
        assert expired["id"] is None and expired["error"]["code"] == 100


def test_jsonrpc_refuses_other_content_types(served: tuple[OdooDouble, Sample]) -> None:
    """A JSON-RPC route asked as text/plain or with GET: 415 on 19, 400 on 17 (recorded: g1.jsonrpc.text_plain,
    g1.jsonrpc.get); ``application/json-rpc`` is JSON too."""
    double, _ = served
    body = b'{"jsonrpc": "2.0", "method": "call", "params": {"service": "common", "method": "version"}}'
    want = 415 if double.major >= 19 else 400
    assert httpx.post(f"{double.url}/jsonrpc", content=body, headers={"Content-Type": "text/plain"}).status_code \
        == want
    assert httpx.get(f"{double.url}/jsonrpc").status_code == want
    ok = httpx.post(f"{double.url}/jsonrpc", content=body, headers={"Content-Type": "application/json-rpc"})
    assert ok.json()["result"]["server_serie"] == double.version


BAD_VALUES = [
    # (path, body, status, error name) as recorded on 19 (g6.json2.*): a plain ValueError is 500
    ("maintenance.request/write", {"vals": {"duration": "long"}}, 500, "builtins.ValueError"),
    ("maintenance.request/write", {"vals": {"request_date": "31/12/2026"}}, 500, "builtins.ValueError"),
    ("maintenance.request/write", {"vals": {"equipment_id": "abc"}}, 500, "builtins.ValueError"),
    ("maintenance.request/write", {"vals": {"equipment_id": 999999}}, 404, "odoo.exceptions.MissingError"),
    ("maintenance.request/search", {}, 422, "werkzeug.exceptions.UnprocessableEntity"),  # `domain` is required
]


@pytest.mark.parametrize(("path", "body", "status", "name"), BAD_VALUES)
def test_json2_bad_values_answer_as_recorded(
    served19: tuple[OdooDouble, Sample], path: str, body: dict[str, Any], status: int, name: str
) -> None:
    double, _ = served19
    rid = _j2(double, "maintenance.request/search", {"domain": []}, key="key-admin").json()[0]
    resp = _j2(double, path, {**body, "ids": [rid]} if "write" in path else body, key="key-admin")
    assert (resp.status_code, resp.json()["name"]) == (status, name)


def test_json2_odd_ids_and_verbs(served19: tuple[OdooDouble, Sample]) -> None:
    """``ids: ["9"]`` reads nothing; PUT answers like GET, 404 (recorded: g6.json2.ids_strings, put_verb)."""
    double, sample = served19
    rid = sample.users["alice"]
    assert _j2(double, "res.users/read", {"ids": [str(rid)], "fields": ["login"]}).json() == []
    assert _j2(double, "res.users/read", {"ids": rid, "fields": ["login"]}).json()[0]["login"] == "alice"
    put = httpx.put(f"{double.url}/json/2/res.users/read", json={}, headers={"Authorization": "bearer key-alice"})
    assert put.status_code == 404


def test_json2_web_read_nests_relations(served19: tuple[OdooDouble, Sample]) -> None:
    """``web_read``/``web_search_read`` read a specification; a many2one with ``fields`` comes back as a dict
    (recorded: g7.web_read, g7.web_search_read)."""
    double, sample = served19
    spec = {"name": {}, "folder_id": {"fields": {"display_name": {}}}}
    rows = _j2(double, "documents.document/web_read", {"ids": [sample.documents["pm"]], "specification": spec})
    assert rows.json() == [{"id": sample.documents["pm"], "name": "Infusion pump PM.md",
                            "folder_id": {"id": sample.folders["sops"], "display_name": "SOPs"}}]
    found = _j2(double, "documents.document/web_search_read",
                {"domain": [["id", "=", sample.documents["pm"]]], "specification": {"name": {}}}).json()
    assert found == {"length": 1, "records": [{"id": sample.documents["pm"], "name": "Infusion pump PM.md"}]}

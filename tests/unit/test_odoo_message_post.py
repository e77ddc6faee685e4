"""Chatter through the real client and on the raw wires: ``message_post`` and ``mail.message`` on the double
served as Odoo 17 (JSON-RPC) and 19 (JSON-RPC and JSON-2), with the shapes recorded from a real Odoo 19
(``../shared/odoo_recordings/odoo19``, group ``9_writes``) and, where nothing was recorded, Odoo's source."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import odoorpc
import pytest

from copilot.errors import PermissionDeniedError, UnavailableError
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo.errors import OdooAccessError, OdooError, OdooErrorMixin, OdooValidationError
from copilot.odoo_double import SUPERUSER_ID, Database, OdooDouble
from copilot.odoo_double.chatter import html_body, message_post
from copilot.odoo_double.sample import Sample, seed_sample

pytestmark = pytest.mark.unit

WIRES = [("17.0", "jsonrpc"), ("19.0", "jsonrpc"), ("19.0", "json2")]
READ_BACK = ["body", "model", "res_id", "message_type", "subtype_id", "author_id"]


class Served:
    def __init__(self, double: OdooDouble, sample: Sample, transport: str) -> None:
        self.double, self.sample, self.transport = double, sample, transport
        self.db = double.db
        self.requests = sorted(self.db.table("maintenance.request"))

    def client(self, login: str = "admin") -> OdooClient:
        cfg = OdooConfig(
            url=self.double.url,
            db=self.db.name,
            login=login,
            password="admin" if login == "admin" else f"{login}-pw",
            api_key=f"key-{login}",
            transport=self.transport,  # type: ignore[arg-type]
            timeout=5,
            retries=3,
            backoff=0.01,
        )
        return OdooClient(cfg, sleep=lambda _s: None).connect()

    def partner(self, login: str) -> list[Any]:
        uid = 2 if login == "admin" else self.sample.users[login]
        pid = self.db.table("res.users")[uid]["partner_id"]
        return [pid, self.db.table("res.partner")[pid]["name"]]


def alice_follows(db: Database, sample: Sample) -> int:
    """Alice follows the sample's equipment and requests: Maintenance's record rules show an employee only
    what they follow, own or repair (``maintenance/security/maintenance.xml``)."""
    alice = sample.users["alice"]
    follower = {"message_partner_ids": [(4, db.table("res.users")[alice]["partner_id"])]}
    su = db.env(SUPERUSER_ID)
    su.write("maintenance.equipment", sorted(db.table("maintenance.equipment")), follower)
    su.write("maintenance.request", sorted(db.table("maintenance.request")), follower)
    return alice


@pytest.fixture(params=WIRES, ids=lambda w: f"{w[0]}-{w[1]}")
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    version, transport = request.param
    db = Database(version=version)
    sample = seed_sample(db)
    alice_follows(db, sample)
    with OdooDouble(db) as double:
        yield Served(double, sample, transport)


@pytest.fixture(params=["17.0", "19.0"])
def rpc(request: pytest.FixtureRequest) -> Iterator[tuple[OdooDouble, Any]]:
    """The double and an ``odoorpc`` session as admin: raw ``execute_kw`` calls, positional arguments included."""
    db = Database(version=request.param)
    seed_sample(db)
    with OdooDouble(db) as double:
        odoo = odoorpc.ODOO("127.0.0.1", port=double.port)
        odoo.login(db.name, "admin", "admin")
        yield double, odoo


@pytest.fixture
def json2() -> Iterator[tuple[OdooDouble, Any]]:
    db = Database(version="19.0")
    seed_sample(db)
    with OdooDouble(db) as double:
        headers = {"Authorization": "bearer key-admin", "X-Odoo-Database": db.name}

        def post(model: str, method: str, body: Any) -> httpx.Response:
            return httpx.post(f"{double.url}/json/2/{model}/{method}", json=body, headers=headers, timeout=5)

        yield double, post


# ---------------------------------------------------------------------- through OdooClient
@pytest.mark.parametrize(
    ("subtype_xmlid", "subtype"),
    [("mail.mt_note", [2, "Note"]), ("mail.mt_comment", [1, "Discussions"]), ("no.such_subtype", [2, "Note"])],
)
def test_a_posted_note_reads_back_from_mail_message(served: Served, subtype_xmlid: str, subtype: list[Any]) -> None:
    client = served.client("alice")
    rid = served.requests[0]
    body = "Technician visited, replaced fuse."
    mid = client.message_post("maintenance.request", rid, body, subtype_xmlid=subtype_xmlid)
    assert isinstance(mid, int)
    assert client.read("mail.message", [mid], READ_BACK) == [{
        "id": mid,
        "body": "<p>Technician visited, replaced fuse.</p>",  # recorded: g9.mreq.message_read.admin
        "model": "maintenance.request",
        "res_id": rid,
        "message_type": "comment",
        "subtype_id": subtype,
        "author_id": served.partner("alice"),
    }]
    rows = client.search_read(
        "mail.message", [("model", "=", "maintenance.request"), ("res_id", "=", rid)], ["body"], order="id"
    )
    assert rows == [{"id": mid, "body": "<p>Technician visited, replaced fuse.</p>"}]
    assert client.read("maintenance.request", [rid], ["message_ids"])[0]["message_ids"] == [mid]


def test_later_posts_answer_the_first_and_come_newest_first(served: Served) -> None:
    client = served.client("admin")
    rid = served.requests[1]
    first = client.message_post("maintenance.request", rid, "one")
    second = client.message_post("maintenance.request", rid, "two", message_type="notification")
    rows = client.read("mail.message", [second], ["parent_id", "message_type", "date", "record_name"])
    assert rows[0]["parent_id"][0] == first
    assert rows[0]["message_type"] == "notification"
    assert rows[0]["date"]
    assert rows[0]["record_name"] == served.db.table("maintenance.request")[rid]["name"]
    assert client.read("maintenance.request", [rid], ["message_ids"])[0]["message_ids"] == [second, first]


def test_a_user_who_may_only_read_the_record_gets_an_access_error(served: Served) -> None:
    """Recorded: g9.equipment.message_post.demo (demo may only read equipment). The refused message still took
    an id, as PostgreSQL's sequence does ("Records: 680", and the next post got 681)."""
    client = served.client("alice")
    pump = served.sample.equipment["pump"]
    before = client.requests
    with pytest.raises(OdooAccessError) as info:
        client.message_post("maintenance.equipment", pump, "Checked by alice")
    assert isinstance(info.value, PermissionDeniedError)
    assert info.value.odoo_name == "odoo.exceptions.AccessError"
    assert "(Document type: Message, Operation: create)" in info.value.odoo_message
    assert client.requests == before + 1  # a business error is never retried
    assert served.db.table("mail.message") == {}
    mid = client.message_post("maintenance.request", served.requests[0], "next")
    assert f"Records: {mid - 1}" in info.value.odoo_message or f"Records: [{mid - 1}]" in info.value.odoo_message


def test_a_post_answered_503_is_not_retried(served: Served) -> None:
    """The request reached the server: a retry could post twice (a read would have been retried and succeeded)."""
    client = served.client("admin")
    before = client.requests
    served.double.inject(503)
    with pytest.raises(UnavailableError):
        client.message_post("maintenance.request", served.requests[0], "maybe twice")
    assert client.requests == before + 1
    assert served.db.table("mail.message") == {}


@pytest.mark.parametrize(
    ("message_type", "text"),
    [
        ("nope", "Wrong value for mail.message.message_type: 'nope'"),  # recorded: g9.task.message_post.bad_type
        ("user_notification", "Use message_notify to send a notification to an user."),  # from source
    ],
)
def test_message_type_errors(served: Served, message_type: str, text: str) -> None:
    """A ``builtins.ValueError`` is a server error, not a refused value: the client types it a plain OdooError."""
    client = served.client("admin")
    with pytest.raises(OdooError) as info:
        client.message_post("maintenance.request", served.requests[0], "x", message_type=message_type)
    assert not isinstance(info.value, OdooValidationError)
    assert info.value.odoo_name == "builtins.ValueError"
    assert info.value.odoo_message.startswith(text)
    assert served.db.table("mail.message") == {}


def test_a_missing_record_and_a_model_without_chatter(served: Served) -> None:
    client = served.client("admin")
    with pytest.raises(OdooErrorMixin) as missing:
        client.message_post("maintenance.request", 4242, "x")
    assert missing.value.odoo_name == "odoo.exceptions.MissingError"
    with pytest.raises(OdooErrorMixin) as absent:  # res.groups does not inherit mail.thread
        client.message_post("res.groups", 1, "x")
    expected = "werkzeug.exceptions.NotFound" if served.transport == "json2" else "builtins.AttributeError"
    assert absent.value.odoo_name == expected


def test_tracking_values_are_for_settings_users_only(served: Served) -> None:
    """Recorded: g9.mreq.tracking.demo — even an empty search on the field is refused."""
    domain = [("model", "=", "maintenance.request"), ("tracking_value_ids", "!=", False)]
    assert served.client("admin").search_read("mail.message", domain, ["tracking_value_ids"]) == []
    with pytest.raises(OdooAccessError) as info:
        served.client("alice").search_read("mail.message", domain, ["tracking_value_ids"])
    assert 'access the field "tracking_value_ids" on Message (mail.message)' in info.value.odoo_message
    assert "tracking_value_ids" not in served.client("alice").fields_get("mail.message")


def test_notes_are_hidden_from_users_outside_the_employee_group(served: Served) -> None:
    """``mail.message`` read rule (O19 ``_filter_accessible_from_query``): document access, and no internal
    subtype (Note) for share users; a Discussions message on the same record is visible."""
    served.db.grant("maintenance.request", None, read=True)
    uid = served.db.add_user("joel", "joel-pw", groups=[])
    served.db.add_api_key(uid, "key-joel")
    admin = served.client("admin")
    rid = served.requests[0]
    note = admin.message_post("maintenance.request", rid, "internal")
    comment = admin.message_post("maintenance.request", rid, "public", subtype_xmlid="mail.mt_comment")
    portal = served.client("joel")
    assert [r["id"] for r in portal.search_read("mail.message", [("res_id", "=", rid)], ["body"])] == [comment]
    assert note not in portal.search("mail.message", [])


# ---------------------------------------------------------------------- on the wire
def test_jsonrpc_result_shape_keyword_and_positional_body(rpc: tuple[OdooDouble, Any]) -> None:
    """19 answers ``[id]`` (recorded: g9.mreq.message_post.admin); 17 the bare id (``@api.returns`` in O17). A
    positional body is a TypeError on both (recorded on 19: g9.task.message_post.positional)."""
    double, odoo = rpc
    rid = min(double.db.table("maintenance.request"))
    result = odoo.execute_kw(
        "maintenance.request", "message_post", [[rid]],
        {"body": "Technician visited, replaced fuse.", "message_type": "comment", "subtype_xmlid": "mail.mt_note"},
    )  # fmt: skip
    mid = result[0] if double.major >= 19 else result
    assert result == ([mid] if double.major >= 19 else mid)
    with pytest.raises(odoorpc.error.RPCError) as info:
        odoo.execute_kw("maintenance.request", "message_post", [[rid], "positional body"], {})
    assert info.value.info["data"]["name"] == "builtins.TypeError"
    assert info.value.info["data"]["message"] == (
        "MailThread.message_post() takes 1 positional argument but 2 were given"
    )
    assert len(double.db.table("mail.message")) == 1


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ("two", "Expected singleton: maintenance.request({a}, {b})"),  # recorded: g9.task.message_post.json2_multi
        ([], "Expected singleton: maintenance.request()"),  # recorded: g7.message_post_empty_ids
    ],
)
def test_json2_needs_exactly_one_id(json2: tuple[OdooDouble, Any], ids: Any, message: str) -> None:
    double, post = json2
    a, b = sorted(double.db.table("maintenance.request"))[:2]
    resp = post("maintenance.request", "message_post", {"ids": [a, b] if ids == "two" else ids, "body": "x"})
    assert resp.status_code == 500
    assert resp.json()["name"] == "builtins.ValueError"
    assert resp.json()["message"] == message.format(a=a, b=b)
    ok = post(
        "maintenance.request", "message_post",
        {"ids": [a], "body": "via json2", "message_type": "comment", "subtype_xmlid": "mail.mt_note"},
    )  # fmt: skip
    assert ok.status_code == 200 and isinstance(ok.json(), list) and len(ok.json()) == 1
    bad = post("maintenance.request", "message_post", {"ids": [a], "body": "x", "message_type": "nope"})
    assert (bad.status_code, bad.json()["name"]) == (500, "builtins.ValueError")


def test_json2_context_must_be_an_object(json2: tuple[OdooDouble, Any]) -> None:
    """Recorded: g6.json2.context_not_object (Odoo builds the context with ``dict(ctx, ...)``)."""
    _double, post = json2
    resp = post("res.partner", "search_count", {"domain": [], "context": "x"})
    assert resp.status_code == 500
    assert resp.json()["name"] == "builtins.ValueError"
    assert resp.json()["message"] == "dictionary update sequence element #0 has length 1; 2 is required"


def test_jsonrpc_context_must_be_a_mapping(rpc: tuple[OdooDouble, Any]) -> None:
    """JSON-RPC's ``with_context`` builds the context the same way (from source; not recorded)."""
    _double, odoo = rpc
    with pytest.raises(odoorpc.error.RPCError) as info:
        odoo.execute_kw("res.partner", "search_count", [[]], {"context": "x"})
    assert info.value.info["data"]["name"] == "builtins.ValueError"


# ---------------------------------------------------------------------- the stored body (from source)
@pytest.mark.parametrize(
    ("body", "as_html", "stored"),
    [
        ("Technician visited, replaced fuse.", False, "<p>Technician visited, replaced fuse.</p>"),  # recorded
        ("<b>B-12</b> & \"done\"", False, "<p>&lt;b&gt;B-12&lt;/b&gt; &amp; \"done\"</p>"),
        ("a &amp; b", False, "<p>a &amp;amp; b</p>"),  # already-escaped text is escaped again
        ("<p>Pump batch <b>B-12</b> done</p>", True, "<p>Pump batch <b>B-12</b> done</p>"),
        ("plain", True, "<p>plain</p>"),
        ("", False, ""),
    ],
)
def test_stored_body(body: str, as_html: bool, stored: str) -> None:
    assert html_body(body, as_html=as_html) == stored


def test_body_is_html_only_for_employees() -> None:
    db = Database(version="19.0")
    sample = seed_sample(db)
    alice_follows(db, sample)
    rid = min(db.table("maintenance.request"))
    uid = db.add_user("joel", "joel-pw", groups=[])
    db.grant("maintenance.request", None, read=True, write=True)
    for who in (sample.users["alice"], uid):
        (mid,) = message_post(db.env(who), "maintenance.request", [rid], body="<b>x</b>", body_is_html=True)
        assert db.table("mail.message")[mid]["body"] == ("<b>x</b>" if who != uid else "<p>&lt;b&gt;x&lt;/b&gt;</p>")


def test_a_deleted_record_takes_its_chatter_along(served: Served) -> None:
    client = served.client("admin")
    rid = client.create("maintenance.request", {"name": "Short-lived"})
    mid = client.message_post("maintenance.request", rid, "soon gone")
    client.call("maintenance.request", "unlink", ids=[rid])
    assert client.read("mail.message", [mid], ["body"]) == []


def test_a_database_file_saved_before_chatter_gets_it_on_reopening(tmp_path: Any) -> None:
    path = str(tmp_path / "old.sqlite")
    db = Database(version="17.0", path=path)
    alice = alice_follows(db, seed_sample(db))
    mail_models = {rid for rid, rec in db.table("ir.model").items() if rec["model"].startswith("mail.")}
    old_file = {  # what a file written before the double had chatter lacks
        "ir.model": lambda rec: rec["id"] in mail_models,
        "ir.model.access": lambda rec: rec["model_id"] in mail_models,
        "ir.model.data": lambda rec: rec["model"] == "mail.message.subtype",
        "mail.message.subtype": lambda rec: True,
    }
    for model, drop in old_file.items():
        for rid in [rid for rid, rec in db.table(model).items() if drop(rec)]:
            db.table(model).pop(rid)
            db._persist(model, rid)
    db.commit()
    reopened = Database(version="17.0", path=path)
    rid = min(reopened.table("maintenance.request"))
    mid = message_post(reopened.env(alice), "maintenance.request", [rid], body="x")
    assert reopened.env(alice).read("mail.message", [mid], ["subtype_id"])[0]["subtype_id"][1] == "Note"

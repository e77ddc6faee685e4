"""Client contract: the same cases through JSON-RPC (odoorpc) and JSON-2 (httpx) against the double served as
Odoo 17 and 19 (JSON-2 only on 19); retries, typed errors and malformed replies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from copilot.errors import (
    AuthenticationError,
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)
from copilot.odoo.client import OdooClient, OdooConfig
from copilot.odoo.errors import (
    OdooAccessError,
    OdooAuthError,
    OdooMissingError,
    OdooProtocolError,
    OdooUnavailableError,
    OdooValidationError,
)
from copilot.odoo_double import Database, OdooDouble
from copilot.odoo_double.sample import Sample, seed_sample

pytestmark = pytest.mark.unit

WIRES = [("17.0", "jsonrpc"), ("19.0", "jsonrpc"), ("19.0", "json2")]


class Served:
    def __init__(self, double: OdooDouble, sample: Sample, transport: str) -> None:
        self.double, self.sample, self.transport = double, sample, transport
        self.sleeps: list[float] = []

    def client(
        self,
        login: str = "admin",
        *,
        password: str | None = None,
        api_key: str | None = None,
        retries: int = 3,
        transport: str | None = None,
    ) -> OdooClient:
        cfg = OdooConfig(
            url=self.double.url,
            db=self.double.db.name,
            login=login,
            password=password if password is not None else ("admin" if login == "admin" else f"{login}-pw"),
            api_key=api_key if api_key is not None else f"key-{login}",
            transport=transport or self.transport,  # type: ignore[arg-type]
            timeout=5,
            retries=retries,
            backoff=0.1,
        )
        return OdooClient(cfg, sleep=self.sleeps.append).connect()


@pytest.fixture(params=WIRES, ids=lambda w: f"{w[0]}-{w[1]}")
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    version, transport = request.param
    db = Database(version=version)
    sample = seed_sample(db)
    with OdooDouble(db) as double:
        yield Served(double, sample, transport)


def test_connect_picks_the_requested_transport(served: Served) -> None:
    client = served.client("alice")
    assert client.transport_name == served.transport
    assert client.uid == served.sample.users["alice"]
    assert client.version == served.double.version
    assert client.context_get()["uid"] == client.uid


def test_search_read_with_domain_fields_order_limit_offset(served: Served) -> None:
    client = served.client("alice")
    rows = client.search_read(
        "documents.document",
        [("type", "=", "binary")],
        ["name", "folder_id"],
        order="name",
        limit=2,
        offset=1,
    )
    assert [r["name"] for r in rows] == ["Infusion pump PM.md", "Service contract BioServ.md"]
    assert rows[0]["folder_id"] == [served.sample.folders["sops"], "SOPs"]
    assert client.search_count("documents.document", [("type", "=", "binary")]) == 4
    ids = client.search("documents.document", [("name", "ilike", "contract"), ("type", "=", "binary")])
    assert ids == [served.sample.documents["service"]]


def test_read_and_load(served: Served) -> None:
    client = served.client("alice")
    doc = served.sample.documents["pm"]
    assert (
        client.read("documents.document", [doc], ["folder_id"])[0]["folder_id"][0]
        == served.sample.folders["sops"]
    )
    assert (
        client.read("documents.document", [doc], ["folder_id"], load=None)[0]["folder_id"]
        == (served.sample.folders["sops"])
    )
    assert client.read("documents.document", [doc, 99999], ["name"]) == [
        {"id": doc, "name": "Infusion pump PM.md"}
    ]


def test_fields_get_and_read_group(served: Served) -> None:
    client = served.client("admin")
    fields = client.fields_get("maintenance.request", attributes=["type", "relation"])
    assert fields["equipment_id"] == {"type": "many2one", "relation": "maintenance.equipment"}
    rows = client.read_group("maintenance.request", [], ["duration:sum"], ["maintenance_type"])
    assert {r["maintenance_type"]: (r["maintenance_type_count"], r["duration"]) for r in rows} == {
        "corrective": (1, 3.0),
        "preventive": (1, 1.5),
    }
    assert all("__domain" in r for r in rows)


def test_create_and_write(served: Served) -> None:
    client = served.client("admin")
    pid = client.create("res.partner", {"name": "ACME Medical"})
    assert client.write("res.partner", [pid], {"email": "buy@acme.test"}) is True
    assert client.read("res.partner", [pid], ["name", "email"]) == [
        {"id": pid, "name": "ACME Medical", "email": "buy@acme.test"}
    ]
    assert client.name_search("res.partner", "acme") == [(pid, "ACME Medical")]


ERROR_CASES: list[tuple[str, Any, type[Exception], type[Exception], str]] = [
    (
        "access",
        lambda c, s: c.read("documents.document", [s.documents["supply"]]),
        OdooAccessError,
        PermissionDeniedError,
        "odoo.exceptions.AccessError",
    ),
    (
        "model rights",
        lambda c, s: c.search("ir.rule", []),
        OdooAccessError,
        PermissionDeniedError,
        "odoo.exceptions.AccessError",
    ),
    (
        "missing",
        lambda c, s: c.write("maintenance.request", [4242], {"name": "x"}),
        OdooMissingError,
        NotFoundError,
        "odoo.exceptions.MissingError",
    ),
    (
        "validation",
        lambda c, s: c.create("maintenance.request", {"description": "no name"}),
        OdooValidationError,
        ValidationError,
        "odoo.exceptions.ValidationError",
    ),
]


@pytest.mark.parametrize(
    ("case", "call", "typed", "base", "odoo_name"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES]
)
def test_business_errors_are_typed_and_not_retried(
    served: Served, case: str, call: Any, typed: type[Exception], base: type[Exception], odoo_name: str
) -> None:
    client = served.client("bob")
    before = client.requests
    with pytest.raises(typed) as info:
        call(client, served.sample)
    assert isinstance(info.value, base)
    assert info.value.odoo_name == odoo_name  # type: ignore[attr-defined]
    assert info.value.odoo_message  # type: ignore[attr-defined]
    assert client.requests == before + 1
    assert served.sleeps == []


@pytest.mark.parametrize("secret", ["password", "api_key"])
def test_wrong_credentials(served: Served, secret: str) -> None:
    with pytest.raises(OdooAuthError) as info:
        if secret == "password":
            served.client("alice", password="wrong", api_key="wrong")
        else:
            served.client("alice", password="", api_key="wrong")
    assert isinstance(info.value, AuthenticationError)
    assert served.sleeps == []


def test_transient_failures_are_retried_with_backoff(served: Served) -> None:
    client = served.client("alice")
    served.double.inject(503, 502)
    rows = client.search_read("res.partner", [("id", "=", 1)], ["name"])
    assert len(rows) == 1
    assert served.sleeps == [0.1, 0.2]


def test_persistent_outage_raises_unavailable_after_bounded_retries(served: Served) -> None:
    client = served.client("alice", retries=2)
    served.double.inject(503, 503, 503, 503)
    before = client.requests
    with pytest.raises(OdooUnavailableError) as info:
        client.search_count("res.partner")
    assert isinstance(info.value, UnavailableError)
    assert client.requests - before == 3
    assert served.sleeps == [0.1, 0.2]


def test_writes_are_not_retried_once_sent(served: Served) -> None:
    client = served.client("admin")
    served.double.inject(504)
    with pytest.raises(OdooUnavailableError):
        client.create("res.partner", {"name": "maybe twice"})
    assert served.sleeps == []


def test_server_down_is_unavailable(served: Served) -> None:
    client = served.client("alice", retries=1)
    served.double.stop()
    with pytest.raises(OdooUnavailableError):
        client.search_count("res.partner")
    assert served.sleeps == [0.1]
    served.double.start()  # same port: the next call works again
    assert client.search_count("res.partner", [("id", "=", 1)]) == 1


def test_malformed_reply_is_a_protocol_error(served: Served) -> None:
    client = served.client("alice")
    served.double.inject("garbage")
    with pytest.raises(OdooProtocolError):
        client.search_count("res.partner")


def test_auto_transport_follows_the_version(served: Served) -> None:
    client = served.client("alice", transport="auto")
    assert client.transport_name == ("json2" if served.double.major >= 19 else "jsonrpc")
    no_key = OdooClient(
        OdooConfig(url=served.double.url, db=served.double.db.name, login="alice", password="alice-pw")
    ).connect()
    assert no_key.transport_name == "jsonrpc"


def test_json2_refused_before_19() -> None:
    with OdooDouble(version="17.0") as double:
        cfg = OdooConfig(url=double.url, db=double.db.name, login="admin", api_key="k", transport="json2")
        with pytest.raises(ConfigError):
            OdooClient(cfg).connect()


def test_unreachable_server_at_connect() -> None:
    double = OdooDouble(version="17.0").start()
    url = double.url
    double.stop()
    sleeps: list[float] = []
    cfg = OdooConfig(url=url, db="odoo", login="admin", password="admin", retries=2, backoff=0.01)
    with pytest.raises(OdooUnavailableError):
        OdooClient(cfg, sleep=sleeps.append).connect()
    assert sleeps == [0.01, 0.02]


def test_config_repr_hides_secrets() -> None:
    cfg = OdooConfig(url="http://x", db="d", login="l", password="secret-pw", api_key="secret-key")
    assert "secret" not in repr(cfg)


@pytest.mark.parametrize("version", ["17.0", "19.0"])
def test_jsonrpc_create_needs_vals_positionally(version: str) -> None:
    """Odoo's call_kw reads `create`'s argument from args[0]: as a keyword it fails (IndexError, rolled back).
    The client once sent it as a keyword and every create over JSON-RPC failed on a real server."""
    import httpx

    db = Database(version=version)
    seed_sample(db)
    with OdooDouble(db) as double:

        def execute_kw(args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
            body = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                "service": "object", "method": "execute_kw",
                "args": [double.db.name, 2, "admin", "res.partner", "create", args, kwargs],  # uid 2: admin
            }}
            return httpx.post(f"{double.url}/jsonrpc", json=body, timeout=5).json()

        before = len(db.table("res.partner"))
        keyword = execute_kw([], {"vals_list": [{"name": "Kw Partner"}]})
        assert keyword["error"]["data"]["name"] == "builtins.IndexError"
        assert len(db.table("res.partner")) == before  # nothing created
        assert isinstance(execute_kw([{"name": "One"}], {})["result"], int)  # a dict: an id
        assert isinstance(execute_kw([[{"name": "Two"}]], {})["result"], list)  # a list: ids


def test_jsonrpc_on_19_warns_it_is_deprecated(caplog: pytest.LogCaptureFixture) -> None:
    db = Database(version="19.0")
    seed_sample(db)
    with OdooDouble(db) as double, caplog.at_level("WARNING", logger="copilot.odoo.client"):
        cfg = OdooConfig(url=double.url, db=db.name, login="admin", password="admin", transport="jsonrpc")
        OdooClient(cfg).connect()
        assert "deprecated since 19" in caplog.text


def test_json2_to_a_database_the_server_lacks_is_not_a_missing_model() -> None:
    """A wrong ``X-Odoo-Database`` gets Odoo's server-wide HTML 404 (recorded: 19 g6.json2.wrong_db): the client
    says so instead of reading it as "record or model missing", which would make the installed-model probe
    report every model as absent."""
    db = Database(version="19.0")
    seed_sample(db)
    with OdooDouble(db) as double:
        cfg = OdooConfig(url=double.url, db="no_such_db", login="alice", password="alice-pw",
                         api_key="key-alice", transport="json2", timeout=5, retries=0, backoff=0.1)
        with pytest.raises(OdooProtocolError, match="no JSON-2 endpoint for database 'no_such_db'") as err:
            OdooClient(cfg, sleep=lambda s: None).connect()
        assert not isinstance(err.value, OdooMissingError)

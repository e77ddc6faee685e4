"""The double's HTTP face: Odoo's JSON-RPC and JSON-2 endpoints on a loopback port.

Routes, envelopes and status codes follow ODOO.md §1–2 (O16–O19 ``odoo/http.py``, O19
``addons/rpc/controllers/json2.py``). Served as 17 it has no ``/json/2``; served as 19 it has both. The server
counts requests and bytes (the sync benchmark reports them) and can inject faults (5xx, garbage) so the
client's retry and error paths are tested against real sockets.

Usage::

    with OdooDouble(version="19.0") as odoo:
        odoorpc.ODOO("127.0.0.1", port=odoo.port).login(odoo.db.name, "admin", "admin")
"""

from __future__ import annotations

import contextlib
import inspect
import json
import secrets
import socket
import threading
import traceback
import xmlrpc.client
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from copilot.odoo_double import business, chatter, grouping
from copilot.odoo_double.errors import (
    AccessDenied,
    AccessError,
    ArgumentError,
    BadRequest,
    BindError,
    HttpNotFound,
    HttpUnauthorized,
    OdooServerError,
    ServerValueError,
    Unprocessable,
    UnsupportedMediaType,
    UserError,
    named,
)
from copilot.odoo_double.schema import ModelSpec
from copilot.odoo_double.store import Database, Env

JSON_TYPES = frozenset({"application/json", "application/json-rpc"})  # what a type="jsonrpc" route accepts
# XML-RPC fault codes of /xmlrpc/2 (O17/O19 odoo/service/wsgi_server.py ``xmlrpc_handle_exception_int``;
# recorded: g1.xmlrpc.*): the first class the error is an instance of; anything else is 1 with the traceback
XMLRPC_FAULTS: tuple[tuple[type[OdooServerError], int], ...] = ((AccessError, 4), (AccessDenied, 3), (UserError, 2))

# @api.private on 19: public names, not callable over RPC (recorded: g4.exists, g8.check_access.demo; 17 allows
# `exists`: g4.exists in odoo17)
PRIVATE_19 = frozenset({"exists", "search_fetch", "check_access"})


class ServerAttributeError(OdooServerError):
    name = "builtins.AttributeError"
    status = 404


# ---------------------------------------------------------------------- ORM method table
def _search(
    env: Env,
    model: str,
    domain: Any,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> Any:
    return env.search(model, domain, offset, limit, order)


def _search_count(env: Env, model: str, domain: Any, limit: int | None = None) -> Any:
    """``domain`` is required, as in Odoo's ``search``/``search_count`` (recorded: g6.*.missing_required_arg,
    g6.json2.body_array)."""
    return env.search_count(model, domain, limit)


def _search_read(
    env: Env,
    model: str,
    domain: Any = None,
    fields: Any = None,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
    load: str | None = "_classic_read",
) -> Any:
    return env.search_read(model, domain, fields, offset, limit, order, load)


def _read(env: Env, model: str, ids: Any, fields: Any = None, load: str | None = "_classic_read") -> Any:
    return env.read(model, ids, fields, load)


def _fields_get(env: Env, model: str, allfields: Any = None, attributes: Any = None) -> Any:
    return env.fields_get(model, allfields, attributes)


def _name_search_args(
    env: Env, model: str, name: str = "", args: Any = None, operator: str = "ilike", limit: int = 100
) -> Any:
    return env.name_search(model, name, args, operator, limit)


def _name_search_domain(
    env: Env, model: str, name: str = "", domain: Any = None, operator: str = "ilike", limit: int = 100
) -> Any:
    return env.name_search(model, name, domain, operator, limit)


def _read_group(
    env: Env,
    model: str,
    domain: Any,
    fields: Any,
    groupby: Any,
    offset: int = 0,
    limit: int | None = None,
    orderby: Any = False,
    lazy: bool = True,
) -> Any:
    return env.read_group(model, domain, fields, groupby, offset, limit, orderby, lazy)


def _formatted_read_group(
    env: Env,
    model: str,
    domain: Any = None,
    groupby: Any = (),
    aggregates: Any = (),
    having: Any = (),
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> Any:
    return env.formatted_read_group(model, domain or [], groupby, aggregates, having, offset, limit, order)


def _web_read(env: Env, model: str, ids: Any, specification: Any) -> Any:
    """The web client's read (17+): ``specification`` names the fields, a relational one with ``fields`` as a
    nested specification: a many2one reads ``{"id", ...}``, an x2many a list of them (recorded: g7.web_read)."""
    spec = dict(specification or {})
    rows = env.read(model, ids, [n for n in spec if n != "id"], load=None)
    for row in rows:
        for name, sub in spec.items():
            f = env.field(model, name)
            nested = (sub or {}).get("fields") if isinstance(sub, dict) else None
            if f.type not in ("many2one", "many2many", "one2many") or nested is None:
                continue
            value = row[name]
            if f.type == "many2one":
                row[name] = _web_read(env.sudo(), f.relation or "", [value], nested)[0] if value else False
            else:
                row[name] = _web_read(env.sudo(), f.relation or "", list(value), nested)
    return rows


def _web_search_read(
    env: Env, model: str, domain: Any, specification: Any, offset: int = 0, limit: int | None = None,
    order: str | None = None, count_limit: int | None = None,
) -> Any:
    """``{"length", "records"}`` (recorded: g7.web_search_read)."""
    ids = env.search(model, domain or [], offset=offset, limit=limit, order=order)
    length = len(ids) if not limit else env.search_count(model, domain or [], count_limit)
    return {"length": length, "records": _web_read(env, model, ids, specification)}


def _formatted_read_grouping_sets(
    env: Env, model: str, domain: Any = None, grouping_sets: Any = (), aggregates: Any = (), order: Any = None
) -> Any:
    return grouping.formatted_read_grouping_sets(env, model, domain or [], grouping_sets, aggregates, order)


def _create(env: Env, model: str, vals_list: Any) -> Any:
    return env.create(model, vals_list)


def _write(env: Env, model: str, ids: Any, vals: Any) -> Any:
    return env.write(model, ids, vals)


def _unlink(env: Env, model: str, ids: Any) -> Any:
    return env.unlink(model, ids)


def _context_get(env: Env, model: str) -> Any:
    if model != "res.users":
        raise ServerAttributeError(f"The method 'context_get' does not exist on the model '{model}'")
    return env.context_get()


def _check_access_rights(env: Env, model: str, operation: str, raise_exception: bool = True) -> Any:
    return env.check_access(model, operation, raise_exception)


def _has_access(env: Env, model: str, ids: Any, operation: str) -> Any:
    if not env.check_access(model, operation, raise_exception=False):
        return False
    ids = list(ids or [])
    return not ids or set(ids) <= set(env._search_ids(model, [("id", "in", ids)], active_test=False))


def _default_get(env: Env, model: str, fields_list: Any) -> Any:
    spec = env.spec(model)
    data = {
        n: f.default for n, f in spec.fields.items() if f.default is not None and not callable(f.default)
    }
    data = business.defaults(env, model, data)  # the model's own defaults (today, first stage, team...)
    return {n: data[n] for n in fields_list if n in spec.fields and data.get(n) not in (None, False)}


def _default_get_19(env: Env, model: str, fields: Any) -> Any:
    """19 names the parameter ``fields`` (recorded: g7.default_get over JSON-2)."""
    return _default_get(env, model, fields)


def _check_object_reference(
    env: Env, model: str, module: str, xml_id: str, raise_on_access_error: bool = False
) -> Any:
    for rec in env.db.table("ir.model.data").values():
        if rec["module"] == module and rec["name"] == xml_id:
            return [rec["model"], rec["res_id"]]
    raise ValueError(f"External ID not found in the system: {module}.{xml_id}")


def _has_group_records(env: Env, model: str, ids: Any, group_ext_id: str) -> Any:
    """18+: a record method, ``has_group([uid], "module.xmlid")`` (recorded: 19 g8.has_group.demo*)."""
    uid = (ids if isinstance(ids, list) else [ids])[0] if ids else env.uid
    return _in_group(env, int(uid), group_ext_id)


def _has_group_model(env: Env, model: str, group_ext_id: str) -> Any:
    """17: ``@api.model``, the calling user (O17 res_users.py)."""
    return _in_group(env, env.uid, group_ext_id)


def _in_group(env: Env, uid: int, group_ext_id: str) -> bool:
    module, _, name = group_ext_id.partition(".")
    for rec in env.db.table("ir.model.data").values():
        if rec["model"] == "res.groups" and rec["module"] == module and rec["name"] == name:
            return rec["res_id"] in env.db.user_group_ids(uid)
    return False


def _name_create(env: Env, model: str, name: str) -> Any:
    """``[id, display_name]`` of a record created from its name (recorded: g4.name_create, g7.name_create)."""
    spec = env.spec(model)
    rid = int(env.create(model, {spec.rec_name: name}))  # type: ignore[arg-type]  # one dict: one id
    return [rid, env.display_name(model, env.db.table(model)[rid])]


def _copy_data(env: Env, model: str, ids: Any) -> Any:
    """The values a copy would be created with: stored fields but the id, audit fields and one2many; a list on
    19, the first record's dict before (recorded: g4.copy in 17 and 19)."""
    env.check_access(model, "read")
    spec = env.spec(model)
    out = []
    for rid in ids if isinstance(ids, list) else [ids]:
        rec = env.db.table(model).get(int(rid))
        if rec is None:
            continue
        vals = {}
        for name, f in spec.fields.items():
            if not f.stored or f.private or name in ("id", "create_date", "write_date", "create_uid", "write_uid"):
                continue
            value = rec.get(name)
            vals[name] = [(6, 0, list(value or []))] if f.type == "many2many" else (
                False if value is None and f.type != "boolean" else value)
        out.append(vals)
    return out if env.db.major >= 19 else (out[0] if out else {})


def _exists(env: Env, model: str, ids: Any) -> Any:
    """The ids that still exist (public before 19: recorded 17 ``g4.exists``)."""
    table = env.db.table(model)
    return [int(i) for i in (ids if isinstance(ids, list) else [ids]) if int(i) in table]


def _get_external_id(env: Env, model: str, ids: Any) -> Any:
    """``{id: "module.name"}`` (ids as JSON keys) for records of any model; Odoo reads ``ir.model.data`` as
    superuser here, so a user who may not read it still gets the names (recorded as admin:
    ``g8.groups.xmlids``; sudo from O17/O19 ``odoo/models.py`` ``_get_external_ids``)."""
    wanted = {int(i) for i in (ids if isinstance(ids, list) else [ids])}
    out: dict[int, str] = dict.fromkeys(sorted(wanted), "")
    for rec in env.db.table("ir.model.data").values():
        if rec["model"] == model and rec["res_id"] in wanted and not out[rec["res_id"]]:
            out[rec["res_id"]] = f"{rec['module']}.{rec['name']}"
    return out


def _context(value: Any) -> dict[str, Any]:
    """The call's context as Odoo builds it, ``dict(ctx, ...)``: a value that is not a mapping fails with Python's
    own error (recorded on JSON-2: 19 ``g6.json2.context_not_object``; JSON-RPC's ``with_context`` does the same).
    Only ``en_US`` is installed: another ``lang`` is refused (recorded: g7.search_read_lang)."""
    try:
        ctx = dict(value) if value else {}
    except (TypeError, ValueError) as exc:
        raise named(f"builtins.{type(exc).__name__}", str(exc)) from exc
    if ctx.get("lang") not in (None, False, "en_US"):
        raise UserError(f"Invalid language code: {ctx['lang']}")
    return ctx


def _on_model(owner: str) -> Callable[[ModelSpec], bool]:
    return lambda spec: spec.name == owner


def _xml_safe(value: Any) -> Any:
    """What Odoo's XML-RPC marshaller sends: ``None`` as ``False``, mapping keys as strings."""
    if value is None:
        return False
    if isinstance(value, dict):
        return {str(k): _xml_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_xml_safe(v) for v in value]
    return value


@dataclass(frozen=True)
class Method:
    fn: Callable[..., Any]
    on_records: bool = False  # args[0] (JSON-RPC) / "ids" (JSON-2) are the record ids
    models: Callable[[ModelSpec], bool] | None = None  # the models that have it (None: every model)

    def on(self, spec: ModelSpec) -> bool:
        return self.models is None or self.models(spec)


def method_table(major: int) -> dict[str, Method]:
    table = {
        "search": Method(_search),
        "search_count": Method(_search_count),
        "search_read": Method(_search_read),
        "read": Method(_read, True),
        "fields_get": Method(_fields_get),
        "name_search": Method(_name_search_domain if major >= 19 else _name_search_args),
        "read_group": Method(_read_group),
        "create": Method(_create),
        "write": Method(_write, True),
        "unlink": Method(_unlink, True),
        "context_get": Method(_context_get),
        "default_get": Method(_default_get_19 if major >= 19 else _default_get),
        "check_object_reference": Method(_check_object_reference),
        "get_external_id": Method(_get_external_id, True),
        "name_create": Method(_name_create),
        "web_read": Method(_web_read, True),
        "web_search_read": Method(_web_search_read),
        "copy_data": Method(_copy_data, True),
        "has_group": Method(_has_group_records, True) if major >= 18 else Method(_has_group_model),
        # deprecated in 18+ but still public on 19 (recorded: g8.check_access_rights.demo.*)
        "check_access_rights": Method(_check_access_rights),
        # mail.thread's, on the models that inherit it (recorded: 19 g9.*.message_post.*, g7.message_post_empty_ids)
        "message_post": Method(chatter.message_post, True, chatter.is_thread),
    }
    for name, (owner, fn) in business.BUTTONS.items():  # the models' own button methods (business.py)
        table[name] = Method(fn, True, _on_model(owner))
    if major >= 18:
        table["has_access"] = Method(_has_access, True)
    if major >= 19:
        table["formatted_read_group"] = Method(_formatted_read_group)
        table["formatted_read_grouping_sets"] = Method(_formatted_read_grouping_sets)
    else:
        table["exists"] = Method(_exists, True)
    return table


# ---------------------------------------------------------------------- counters and faults
@dataclass
class Stats:
    requests: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    calls: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.requests = self.bytes_in = self.bytes_out = 0
        self.calls.clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "calls": dict(self.calls),
        }


class OdooDouble:
    """A loopback Odoo; ``version`` picks the wire behaviour: "17.0" or "19.0" (16 and 18 work too)."""

    def __init__(
        self,
        db: Database | None = None,
        *,
        version: str = "17.0",
        host: str = "127.0.0.1",
        port: int = 0,
        list_db: bool = True,
        server_version: str | None = None,
    ) -> None:
        self.db = db or Database(version=version)
        self.version = self.db.version
        # what `server_version` says: a build may append its date ("17.0-20240709", recorded on 17)
        self.server_version = server_version or self.version
        self.list_db = list_db  # Odoo's --no-database-list: db.list answers AccessDenied
        self.major = self.db.major
        self.host = host
        self.port = port
        self.stats = Stats()
        self.faults: list[int | str] = []
        self.methods = method_table(self.major)
        self.sessions: dict[str, int] = {}  # web session id -> uid
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()

    # lifecycle
    def start(self) -> OdooDouble:
        handler = type("Handler", (_Handler,), {"double": self})
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop open keep-alive connections, as a crashed or restarted Odoo would."""
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OdooDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def inject(self, *faults: int | str) -> None:
        """Answer the next requests with these faults: an HTTP status (e.g. 503) or ``"garbage"``."""
        with self._lock:
            self.faults.extend(faults)

    def _next_fault(self) -> int | str | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    # protocol
    def version_info(self) -> dict[str, Any]:
        parts = self.version.split(".")
        return {
            "server_version": self.server_version,
            "server_version_info": [int(parts[0]), int(parts[1]), 0, "final", 0, ""],
            "server_serie": self.version,
            "protocol_version": 1,
        }

    def call(
        self, env: Env, model: str, method: str, args: list[Any], kwargs: dict[str, Any], ids: Any = None
    ) -> Any:
        if method.startswith("_") or (self.major >= 19 and method in PRIVATE_19):
            raise AccessError(f"Private methods (such as '{model}.{method}') cannot be called remotely."
                              if not method.startswith("_") else
                              f"Private methods (such as '{method}') cannot be called remotely.")
        spec = env.spec(model)
        m = self.methods.get(method)
        if m is None or not m.on(spec):
            raise ServerAttributeError(f"The method '{method}' does not exist on the model '{model}'")
        if m.on_records:
            args = [ids if ids is not None else (args[0] if args else []), *args[1:]]
        self.stats.calls[f"{model}.{method}"] += 1
        try:
            bound = inspect.signature(m.fn).bind(env, model, *args, **kwargs)
        except TypeError as exc:
            raise BindError(f"{method}() {exc}", str(exc)) from exc
        with self.db.lock:
            try:
                return m.fn(*bound.args, **bound.kwargs)
            except (TypeError, ValueError, KeyError) as exc:
                if isinstance(exc, OdooServerError):
                    raise
                # a plain ValueError is Odoo's "bad value" (JSON-2: 500, recorded g6.json2.wrong_type_*)
                err = ArgumentError(str(exc)) if isinstance(exc, TypeError) else \
                    ServerValueError(str(exc)) if isinstance(exc, ValueError) else UserError(str(exc))
                raise err from exc

    def jsonrpc(self, body: Any) -> dict[str, Any]:
        req_id = body.get("id") if isinstance(body, dict) else None
        try:
            params = body.get("params") if isinstance(body, dict) else None
            if not isinstance(params, dict):
                # Odoo builds its keyword arguments with dict(params): a list fails with Python's own error
                # (recorded: g1.jsonrpc.params_list)
                params = _context(params) if params else {}
            result = self._dispatch_rpc(params)
        except OdooServerError as exc:
            return {"jsonrpc": "2.0", "id": req_id, "error": self.rpc_error(exc)}
        except Exception as exc:  # a bug in the double still answers like Odoo would
            err = OdooServerError(str(exc))
            err.name = f"builtins.{type(exc).__name__}"
            return {"jsonrpc": "2.0", "id": req_id, "error": self.rpc_error(err, traceback.format_exc())}
        out: dict[str, Any] = {"jsonrpc": "2.0", "id": req_id}
        if result is not None:
            out["result"] = result
        return out

    def rpc_error(self, exc: OdooServerError, debug: str = "") -> dict[str, Any]:
        code = 0 if self.major >= 19 else 200
        if isinstance(exc, HttpNotFound):
            code, message = 404, "404: Not Found"
        else:
            message = "Odoo Server Error"
        if isinstance(exc, AccessDenied) and self.major >= 19:
            debug = ""
        return {
            "code": code,
            "message": message,
            "data": {
                "name": exc.name,
                "message": exc.message,
                "arguments": [exc.message],
                "context": {},
                "debug": debug or f"Traceback (most recent call last):\n{exc.name}: {exc.message}",
            },
        }

    def _dispatch_rpc(self, params: dict[str, Any]) -> Any:
        """The services of ``/jsonrpc`` (recorded: the ``1_basics`` group of both versions)."""
        service, method, args = params.get("service"), params.get("method"), list(params.get("args") or [])
        if service == "common":
            if method == "version":
                return self.version_info()
            if method == "about":
                return "See http://openerp.com"
            if method in ("login", "authenticate"):
                if method == "authenticate" and len(args) < 4:
                    raise named("builtins.TypeError",
                                 "exp_authenticate() missing 1 required positional argument: 'user_agent_env'")
                dbname, login, password = args[:3]
                if dbname != self.db.name:
                    raise named("psycopg2.OperationalError", f'database "{dbname}" does not exist')
                return self.db.authenticate(login, password) or False
            raise named("builtins.Exception", f"Method not found: {method}")
        if service == "db":
            if method == "list":
                if not self.list_db:  # list_db = False (recorded: g1.db.list)
                    raise AccessDenied()
                return [self.db.name]
            if method == "server_version":
                return self.server_version
            if method == "db_exist":  # exp_db_exist (recorded: g1.db.exist)
                return bool(args) and args[0] == self.db.name
            raise named("builtins.Exception", f"Method not found: {method}")
        if service == "object" and method in ("execute", "execute_kw"):
            if len(args) < 5:  # 19 unpacks the arguments, 17 passes them on (recorded: g1.execute_kw.too_few_args)
                if self.major >= 19:
                    raise named(
                        "builtins.ValueError", f"not enough values to unpack (expected at least 5, got {len(args)})"
                    )
                raise named("builtins.TypeError", f"{method}() missing required positional arguments")
            dbname, uid, password, model, meth = args[:5]
            if isinstance(uid, str) and uid.isdigit():
                uid = int(uid)  # a uid sent as a string is accepted (recorded: g1.execute_kw.uid_string)
            if dbname != self.db.name:
                raise named("psycopg2.OperationalError", f'database "{dbname}" does not exist')
            if not isinstance(uid, int) or not self.db.check_uid(uid, password):
                raise AccessDenied()
            rest = args[5:]
            if method == "execute":
                pos, kw = rest, {}
            else:
                pos = list(rest[0]) if rest else []
                kw = dict(rest[1]) if len(rest) > 1 and rest[1] else {}
            context = _context(kw.pop("context", None))
            if meth == "create" and not pos:
                # Odoo's call_kw decides int-or-list from args[0] after creating: `vals_list` passed as a keyword
                # fails with IndexError and the transaction rolls back (O17 odoo/api.py _call_kw_model_create,
                # O19 odoo/service/model.py call_kw). Not recorded: every recorded create passes it positionally.
                raise named("builtins.IndexError", "list index out of range")
            return self.call(self.db.env(uid, context), model, meth, pos, kw)
        raise named("builtins.KeyError", str(service))  # unknown service (recorded: g1.unknown_service)

    def xmlrpc(self, path: str, raw: bytes) -> bytes:
        """``/xmlrpc/2/<service>`` (and the legacy ``/xmlrpc/<service>``): the ``/jsonrpc`` services over XML-RPC;
        ``None`` marshals as ``False``, dict keys as strings, errors as faults (recorded: g1.xmlrpc.*)."""
        service = path.rstrip("/").rsplit("/", 1)[-1]
        try:
            try:
                params, method = xmlrpc.client.loads(raw)
            except Exception as exc:  # a body that is not XML-RPC: Odoo's generic fault
                raise named("xml.parsers.expat.ExpatError", str(exc)) from exc
            result = self._dispatch_rpc({"service": service, "method": method, "args": list(params)})
            return xmlrpc.client.dumps((_xml_safe(result),), methodresponse=True).encode()
        except OdooServerError as exc:
            code = next((c for cls, c in XMLRPC_FAULTS if isinstance(exc, cls)), 1)
            text = exc.message if code != 1 else f"Traceback (most recent call last):\n{exc.name}: {exc.message}\n"
            return xmlrpc.client.dumps(xmlrpc.client.Fault(code, text)).encode()

    def web(self, path: str, body: Any, session: str | None) -> tuple[dict[str, Any], str | None]:
        """The web client's JSON routes: ``/web/session/authenticate`` (sets the ``session_id`` cookie),
        ``get_session_info``, ``destroy`` and ``/web/dataset/call_kw[/...]``, which need a live session and
        answer code 100 "Odoo Session Expired" (with ``id`` null) without one (recorded: g1.session.*).
        Returns the envelope and the new session id to set, if any."""
        req_id = body.get("id") if isinstance(body, dict) else None
        raw_params = body.get("params") if isinstance(body, dict) else None
        params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        uid = self.sessions.get(session or "")
        new_session = None
        try:
            if path == "/web/session/authenticate":
                if params.get("db") != self.db.name:
                    raise named("psycopg2.OperationalError", f'database "{params.get("db")}" does not exist')
                uid = self.db.authenticate(str(params.get("login") or ""), str(params.get("password") or ""))
                if uid is None:
                    raise AccessDenied()
                new_session = secrets.token_hex(20)
                self.sessions[new_session] = uid
                return {"jsonrpc": "2.0", "id": req_id, "result": self.session_info(uid)}, new_session
            if uid is None:
                expired = {"code": 100, "message": "Odoo Session Expired", "data": {
                    "name": "odoo.http.SessionExpiredException", "message": "Session expired",
                    "arguments": ["Session expired"], "context": {}, "debug": ""}}
                return {"jsonrpc": "2.0", "id": None, "error": expired}, None
            if path == "/web/session/get_session_info":
                return {"jsonrpc": "2.0", "id": req_id, "result": self.session_info(uid)}, None
            if path == "/web/session/destroy":
                self.sessions.pop(session or "", None)
                return {"jsonrpc": "2.0", "id": req_id}, None
            kwargs = dict(params.get("kwargs") or {})
            env = self.db.env(uid, _context(kwargs.pop("context", None)))
            result = self.call(env, str(params.get("model")), str(params.get("method")),
                               list(params.get("args") or []), kwargs)
        except OdooServerError as exc:
            return {"jsonrpc": "2.0", "id": req_id, "error": self.rpc_error(exc)}, None
        out: dict[str, Any] = {"jsonrpc": "2.0", "id": req_id}
        if result is not None:
            out["result"] = result
        return out, None

    def session_info(self, uid: int) -> dict[str, Any]:
        """The part of the web client's session info the double knows (the real one also carries the client's
        settings, menus and store data: not reproduced)."""
        env = self.db.env(uid)
        user = self.db.table("res.users")[uid]
        system = self.db.group_id("base.group_system") in env.group_ids
        return {"uid": uid, "is_system": system, "is_admin": system, "is_public": False,
                "is_internal_user": self.db.group_id("base.group_user") in env.group_ids,
                "user_context": env.context_get(), "db": self.db.name, "server_version": self.version,
                "server_version_info": self.version_info()["server_version_info"], "username": user.get("login"),
                "partner_id": user.get("partner_id")}

    def json2(self, model: str, method: str, headers: Any, raw: bytes) -> tuple[int, Any]:
        try:
            auth = headers.get("Authorization") or ""
            scheme, _, key = auth.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise HttpUnauthorized(
                    "User not authenticated, use an API Key with a Bearer Authorization header."
                )
            uid = self.db.user_for_key(key.strip())
            if uid is None:
                raise HttpUnauthorized("Invalid apikey")
            if raw and (headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
                return 415, self.json2_error_body(UnsupportedMediaType("Unsupported Media Type"))
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                return 400, self.json2_error_body(BadRequest("Invalid JSON data"))
            if not isinstance(body, dict):
                body = {}  # JSON null, [] or [[]]: no parameters (recorded: g6.json2.body_null, body_array)
            if model not in self.db.models:
                raise HttpNotFound(f"the model '{model}' does not exist")
            m = self.methods.get(method)
            if m is not None and not m.on(self.db.models[model]):
                m = None
            if m is None and not method.startswith("_") and method not in PRIVATE_19:
                raise HttpNotFound(f"the method '{method}' does not exist on the model '{model}'")
            ids = body.pop("ids", None)
            context = _context(body.pop("context", None))
            if m is not None and not m.on_records and ids is not None:
                raise Unprocessable(f"cannot call {model}.{method} with ids")  # recorded: ids_on_model_method
            try:
                result = self.call(self.db.env(uid, context), model, method, [], body, ids=ids)
            except BindError as exc:  # the parameters do not fit the method: 422 (recorded: g6.json2.*)
                raise Unprocessable(exc.bare) from exc
            if method == "create" and isinstance(result, int):
                result = [result]  # JSON-2 answers the recordset's ids (recorded: g7.create_single_dict)
            return 200, result
        except OdooServerError as exc:
            return exc.status, self.json2_error_body(exc)

    def json2_error_body(self, exc: OdooServerError) -> dict[str, Any]:
        args: list[Any] = [exc.message]
        if exc.name.startswith("werkzeug"):
            args = [exc.message, exc.status]
        return {"name": exc.name, "message": exc.message, "arguments": args, "context": {}, "debug": ""}


class _Handler(BaseHTTPRequestHandler):
    double: OdooDouble
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes; without this, Nagle + delayed ACK add ~40 ms per call
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.double._lock:
            self.double._conns.add(self.connection)

    def finish(self) -> None:
        with self.double._lock:
            self.double._conns.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read stats, not logs
        return

    def _send(self, status: int, body: bytes, ctype: str = "application/json", **extra: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for name, value in extra.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.double.stats.bytes_out += len(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode())

    def _read_body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        self.double.stats.bytes_in += n
        self.double.stats.requests += 1
        return raw

    def _fault(self) -> bool:
        fault = self.double._next_fault()
        if fault is None:
            return False
        if fault == "garbage":
            self._send(200, b"<html><body>Bad Gateway</body></html>", "text/html")
        else:
            self._send(int(fault), f"<html><body>{fault}</body></html>".encode(), "text/html")
        return True

    def _bad_type(self) -> None:
        """A JSON-RPC route asked with another Content-Type (or GET): 415 on 19, 400 before (recorded:
        g1.jsonrpc.text_plain, g1.jsonrpc.get)."""
        status, title = (415, "Unsupported Media Type") if self.double.major >= 19 else (400, "Bad Request")
        page = (f"<!doctype html>\n<html lang=en>\n<title>{status} {title}</title>\n<h1>{title}</h1>\n"
                "<p>Please verify the Content-Type request header and try again.</p>\n")
        self._send(status, page.encode(), "text/html; charset=utf-8")

    def _session(self) -> str | None:
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "session_id":
                return value
        return None

    def do_GET(self) -> None:
        self._read_body()
        if self._fault():
            return
        d = self.double
        if self.path.split("?")[0] == "/jsonrpc":
            self._bad_type()
        elif self.path in ("/web/version", "/json/version") and d.major >= 19:
            self._json(200, {"version_info": d.version_info()["server_version_info"], "version": d.version})
        elif self.path == "/web/webclient/version_info":
            self._json(200, {"jsonrpc": "2.0", "id": None, "result": d.version_info()})
        elif self.path.startswith("/json/2") and d.major >= 19:
            self._json(404, d.json2_error_body(HttpNotFound("Did you mean POST /json/2/<model>/<method>?")))
        else:
            self._send(404, b"<html><body>404: Not Found</body></html>", "text/html")

    def do_PUT(self) -> None:  # other verbs: what GET answers (recorded: g6.json2.put_verb -> 404)
        self.do_GET()

    do_DELETE = do_PATCH = do_PUT

    def do_POST(self) -> None:
        raw = self._read_body()
        if self._fault():
            return
        d = self.double
        path = self.path.split("?")[0]
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if path.startswith("/xmlrpc/"):
            self._send(200, d.xmlrpc(path, raw), "text/xml; charset=utf-8")
            return
        if path.startswith(("/web/session/", "/web/dataset/call_kw")):
            if ctype not in JSON_TYPES:
                self._bad_type()
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send(400, b"Invalid JSON data", "text/html; charset=utf-8")
                return
            envelope, session = d.web(path if path.startswith("/web/session/") else "/web/dataset/call_kw",
                                      body, self._session())
            extra = {"Set_Cookie": f"session_id={session}; HttpOnly; Path=/"} if session else {}
            self._send(200, json.dumps(envelope).encode(), **extra)
            return
        if path == "/jsonrpc" and ctype not in JSON_TYPES:
            self._bad_type()
            return
        if path in ("/jsonrpc", "/web/webclient/version_info"):
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send(400, b"Invalid JSON data", "text/html; charset=utf-8")
                return
            if path == "/jsonrpc":
                self._json(200, d.jsonrpc(body))
            else:
                self._json(
                    200,
                    {
                        "jsonrpc": "2.0",
                        "id": body.get("id") if isinstance(body, dict) else None,
                        "result": d.version_info(),
                    },
                )
            return
        if path.startswith("/json/2") and d.major >= 19:
            # a session cookie and a database header together (recorded: g1.session.json2_cookie_plus_other_db)
            if self._session() and self.headers.get("X-Odoo-Database"):
                page = ("<!doctype html>\n<html lang=en>\n<title>403 Forbidden</title>\n<h1>Forbidden</h1>\n"
                        "<p>Cannot use both the session_id cookie and the x-odoo-database header.</p>\n")
                self._send(403, page.encode(), "text/html; charset=utf-8")
                return
            dbname = self.headers.get("X-Odoo-Database")
            if dbname and dbname != d.db.name:
                # no such database: Odoo's server-wide 404 page, not a JSON-2 error (recorded: g6.json2.wrong_db)
                page = ("<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is "
                        "selected and the requested URL was not found in the server-wide controllers.</p>\n")
                self._send(404, page.encode(), "text/html; charset=utf-8")
                return
            parts = path.split("/")
            if len(parts) != 5 or not parts[3] or not parts[4]:
                self._json(
                    404, d.json2_error_body(HttpNotFound("Did you mean POST /json/2/<model>/<method>?"))
                )
                return
            status, result = d.json2(parts[3], parts[4], self.headers, raw)
            self._json(status, result)
            return
        self._send(404, b"<html><body>404: Not Found</body></html>", "text/html")


__all__ = ["Method", "OdooDouble", "Stats"]

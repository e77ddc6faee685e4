"""The two wire transports behind :class:`copilot.odoo.client.OdooClient`.

Both expose ``connect() -> uid`` and ``call(model, method, ids, kwargs)`` with **named** parameters, so the
client builds one call shape for either wire. They translate failures into typed errors, and into
:class:`Transient` for what the client may retry (connection errors, timeouts, 502/503/504).
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from copilot.odoo.errors import OdooAuthError, OdooProtocolError, from_odoo

TRANSIENT_STATUS = frozenset({502, 503, 504})


class Transient(Exception):
    """A failure worth retrying. ``sent`` is False when the request surely never reached Odoo."""

    def __init__(self, reason: str, *, sent: bool = True) -> None:
        super().__init__(reason)
        self.sent = sent


class Transport(Protocol):
    name: str

    def connect(self) -> int: ...

    def call(self, model: str, method: str, ids: list[int] | None, kwargs: dict[str, Any]) -> Any: ...

    def close(self) -> None: ...


class JsonRpcTransport:
    """``/jsonrpc`` through the real ``odoorpc`` client (Odoo 16–19; deprecated in 19, whose own code announces
    its removal for Odoo 20: prefer JSON-2 wherever the server has it)."""

    name = "jsonrpc"

    def __init__(self, url: str, db: str, login: str, secret: str, *, timeout: float, version: str) -> None:
        self.url, self.db, self.login, self._secret = url, db, login, secret
        self.timeout = timeout
        self.version = version
        self._odoo: Any = None

    def connect(self) -> int:
        import odoorpc  # local: keeps import of copilot.odoo cheap

        parts = urlsplit(self.url)
        ssl = parts.scheme == "https"
        port = parts.port or (443 if ssl else 80)
        try:
            odoo = odoorpc.ODOO(
                parts.hostname or "localhost",
                protocol="jsonrpc+ssl" if ssl else "jsonrpc",
                port=port,
                timeout=self.timeout,
                version=self.version,
            )
            odoo.login(self.db, self.login, self._secret)
        except odoorpc.error.RPCError as exc:
            if not exc.info:  # odoorpc's own "Wrong login ID or password" (login returned false)
                raise OdooAuthError(
                    "Odoo login failed: wrong login or password", odoo_name="odoo.exceptions.AccessDenied"
                ) from exc
            raise _rpc_error(exc) from exc
        except Exception as exc:
            raise _wire_error(exc) from exc
        self._odoo = odoo
        return int(odoo.env.uid)

    def call(self, model: str, method: str, ids: list[int] | None, kwargs: dict[str, Any]) -> Any:
        import odoorpc

        args: list[Any] = [ids] if ids is not None else []
        kwargs = dict(kwargs)
        for name in _POSITIONAL.get(method, ()):
            if name in kwargs:  # call_kw reads these from args, not kwargs (a keyword fails on the server)
                args.append(kwargs.pop(name))
        try:
            return self._odoo.execute_kw(model, method, args, kwargs)
        except odoorpc.error.RPCError as exc:
            raise _rpc_error(exc) from exc
        except Exception as exc:
            raise _wire_error(exc) from exc

    def close(self) -> None:
        if self._odoo is not None:
            self._odoo.logout()
            self._odoo = None


# Parameters Odoo's JSON-RPC ``call_kw`` needs positionally: ``create`` decides whether to return an id or a list of
# ids from ``args[0]`` (O17 odoo/api.py ``_call_kw_model_create``, O19 odoo/service/model.py ``call_kw``), so
# ``vals_list`` as a keyword raises IndexError on 17, 18 and 19. JSON-2 takes named parameters only.
_POSITIONAL: dict[str, tuple[str, ...]] = {"create": ("vals_list",)}


def _rpc_error(exc: Any) -> Exception:
    info = exc.info if isinstance(exc.info, dict) else {}
    data = info.get("data") or {}
    return from_odoo(str(data.get("name") or ""), str(data.get("message") or exc))


def _wire_error(exc: Exception) -> Exception:
    """Map what urllib/odoorpc raise on the wire: HTTP 5xx, refused connections, timeouts, bad JSON."""
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code in TRANSIENT_STATUS:
            return Transient(f"HTTP {exc.code}")
        return from_odoo("", f"HTTP {exc.code}", status=exc.code)
    if isinstance(exc, urllib.error.URLError):
        refused = isinstance(exc.reason, ConnectionRefusedError)
        if isinstance(exc.reason, (OSError, socket.timeout)):
            return Transient(f"connection error: {exc.reason}", sent=not refused)
        return Transient(f"connection error: {exc.reason}")
    if isinstance(exc, ConnectionRefusedError):
        return Transient("connection refused", sent=False)
    if isinstance(exc, (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException)):
        return Transient(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError)):
        return OdooProtocolError(f"malformed reply from Odoo ({type(exc).__name__})")
    return exc


class Json2Transport:
    """``POST /json/2/<model>/<method>`` with a bearer API key (Odoo 19+), over httpx."""

    name = "json2"

    def __init__(
        self, url: str, db: str, api_key: str, *, timeout: float, http: httpx.Client | None = None
    ) -> None:
        self.url, self.db = url.rstrip("/"), db
        self._headers = {"Authorization": f"bearer {api_key}", "X-Odoo-Database": db}
        self.timeout = timeout
        self._owned = http is None
        self._http: httpx.Client | None = http

    def connect(self) -> int:
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout)
        ctx = self.call("res.users", "context_get", None, {})
        if not isinstance(ctx, dict) or "uid" not in ctx:
            raise OdooProtocolError("context_get did not return a uid")
        return int(ctx["uid"])

    def call(self, model: str, method: str, ids: list[int] | None, kwargs: dict[str, Any]) -> Any:
        assert self._http is not None, "connect() first"
        body = dict(kwargs)
        if ids is not None:
            body["ids"] = ids
        try:
            resp = self._http.post(f"{self.url}/json/2/{model}/{method}", json=body, headers=self._headers)
        except httpx.ConnectError as exc:
            raise Transient(f"connection error: {exc}", sent=False) from exc
        except httpx.TransportError as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
        if resp.status_code in TRANSIENT_STATUS:
            raise Transient(f"HTTP {resp.status_code}")
        try:
            payload = resp.json()
        except ValueError as exc:
            if resp.status_code == 200:
                raise OdooProtocolError("malformed reply from Odoo (not JSON)") from exc
            if resp.status_code == 404:
                # Odoo's server-wide HTML 404: no database of that name, or no /json/2 at all (Odoo < 19) — not a
                # missing record or model, which JSON-2 answers with a JSON error (recorded: 19 g6.json2.wrong_db)
                raise OdooProtocolError(
                    f"Odoo has no JSON-2 endpoint for database {self.db!r} (HTTP 404 page): check the database "
                    "name, or use JSON-RPC before Odoo 19", status=404,
                ) from exc
            raise from_odoo("", f"HTTP {resp.status_code}", status=resp.status_code) from exc
        if resp.status_code == 200:
            return payload
        if isinstance(payload, dict) and "name" in payload:
            raise from_odoo(str(payload["name"]), str(payload.get("message") or ""), status=resp.status_code)
        raise from_odoo("", f"HTTP {resp.status_code}", status=resp.status_code)

    def close(self) -> None:
        if self._http is not None and self._owned:
            self._http.close()
        self._http = None

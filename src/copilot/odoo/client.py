"""One Odoo client over two wires: JSON-RPC (odoorpc) and JSON-2 (httpx, bearer key).

The transport is chosen by configuration or, with ``transport="auto"``, by the server's version: 19+ with an
API key speaks JSON-2, anything older (or no key) speaks JSON-RPC. Calls are the same either way. Reads are
retried with exponential backoff on transient failures (connection errors, timeouts, 502/503/504); writes are
retried only when the request provably never left (connection refused), so a retry cannot create twice.
Odoo's business errors and 4xx are never retried.

Usage::

    client = OdooClient(OdooConfig(url="http://odoo:8069", db="prod", login="bot", api_key="..."))
    client.connect()
    rows = client.search_read("documents.document", [("type", "=", "binary")], ["name"], limit=100)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from copilot.errors import ConfigError
from copilot.odoo.errors import (
    OdooAccessError,
    OdooMissingError,
    OdooProtocolError,
    OdooUnavailableError,
    OdooValidationError,
)
from copilot.odoo.transports import (
    TRANSIENT_STATUS,
    Json2Transport,
    JsonRpcTransport,
    Transient,
    Transport,
)

TransportName = Literal["auto", "jsonrpc", "json2"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OdooConfig:
    """Connection settings. ``password`` may itself be an API key (JSON-RPC accepts both)."""

    url: str
    db: str
    login: str = ""
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    transport: TransportName = "auto"
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0


class OdooClient:
    """Cheap to build; :meth:`connect` probes the version, picks the transport and authenticates."""

    def __init__(self, config: OdooConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self._sleep = sleep
        self._transport: Transport | None = None
        self.version: str | None = None
        self.uid: int | None = None
        self.requests = 0  # calls attempted through the transport, retries included
        self._http: httpx.Client | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def major(self) -> int:
        if self.version is None:
            raise ConfigError("OdooClient.connect() has not run")
        return int(self.version.split(".")[0].removeprefix("saas~"))

    @property
    def transport_name(self) -> str:
        return self._transport.name if self._transport else "none"

    def connect(self) -> OdooClient:
        if self._http is None:  # one pool for the probe and JSON-2 (building a client costs ~0.1 s)
            self._http = httpx.Client(timeout=self.config.timeout)
        self.version = self._retry(self._probe_version, idempotent=True)
        self._transport = self._make_transport()
        self.uid = self._retry(self._transport.connect, idempotent=True)
        return self

    warm_up = connect

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> OdooClient:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _probe_version(self) -> str:
        """``/web/webclient/version_info`` answers on every version 16–19 (ODOO.md §1)."""
        self.requests += 1
        url = self.config.url.rstrip("/") + "/web/webclient/version_info"
        try:
            resp = httpx.post(
                url,
                json={"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1},
                timeout=self.config.timeout,
            )
        except httpx.ConnectError as exc:
            raise Transient(f"connection error: {exc}", sent=False) from exc
        except httpx.TransportError as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
        if resp.status_code in TRANSIENT_STATUS:
            raise Transient(f"HTTP {resp.status_code}")
        try:
            version = resp.json()["result"]["server_version"]
        except (ValueError, KeyError, TypeError) as exc:
            raise OdooProtocolError("version_info reply is not Odoo's") from exc
        return str(version)

    def _make_transport(self) -> Transport:
        cfg = self.config
        choice = cfg.transport
        if choice == "auto":
            choice = "json2" if self.major >= 19 and cfg.api_key else "jsonrpc"
        if choice == "json2":
            if self.major < 19:
                raise ConfigError(f"JSON-2 needs Odoo 19+, the server runs {self.version}")
            if not cfg.api_key:
                raise ConfigError("JSON-2 needs an API key")
            return Json2Transport(cfg.url, cfg.db, cfg.api_key, timeout=cfg.timeout, http=self._http)
        secret = cfg.password or cfg.api_key
        if not secret or not cfg.login:
            raise ConfigError("JSON-RPC needs a login and a password or API key")
        if self.major >= 19:
            log.warning(
                "Odoo %s: using JSON-RPC, deprecated since 19 and announced for removal in 20; "
                "configure an API key to use JSON-2", self.version,
            )
        return JsonRpcTransport(
            cfg.url, cfg.db, cfg.login, secret, timeout=cfg.timeout, version=self.version or ""
        )

    # ------------------------------------------------------------------ calls
    def _retry(self, fn: Callable[[], Any], *, idempotent: bool) -> Any:
        cfg = self.config
        for attempt in range(cfg.retries + 1):
            try:
                return fn()
            except Transient as exc:
                if (not idempotent and exc.sent) or attempt == cfg.retries:
                    raise OdooUnavailableError(f"Odoo unavailable: {exc}", odoo_message=str(exc)) from exc
                self._sleep(min(cfg.backoff * 2**attempt, cfg.max_backoff))
        raise AssertionError("unreachable")

    def call(
        self,
        model: str,
        method: str,
        *,
        ids: Sequence[int] | None = None,
        idempotent: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Call any public method with named parameters; ``None`` values are left out."""
        if self._transport is None:
            self.connect()
        transport = self._transport
        assert transport is not None
        named = {k: v for k, v in kwargs.items() if v is not None}
        id_list = [int(i) for i in ids] if ids is not None else None

        def once() -> Any:
            self.requests += 1
            return transport.call(model, method, id_list, named)

        return self._retry(once, idempotent=idempotent)

    def search_read(
        self,
        model: str,
        domain: Sequence[Any] | None = None,
        fields: Sequence[str] | None = None,
        *,
        order: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return list(
            self.call(
                model,
                "search_read",
                domain=list(domain or []),
                fields=_opt(fields),
                order=order,
                limit=limit,
                offset=offset or None,
                context=context,
                idempotent=True,
            )
        )

    def search(
        self,
        model: str,
        domain: Sequence[Any] | None = None,
        *,
        order: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        context: dict[str, Any] | None = None,
    ) -> list[int]:
        return list(
            self.call(
                model,
                "search",
                domain=list(domain or []),
                order=order,
                limit=limit,
                offset=offset or None,
                context=context,
                idempotent=True,
            )
        )

    def read(
        self,
        model: str,
        ids: Sequence[int],
        fields: Sequence[str] | None = None,
        *,
        load: str | None = "_classic_read",
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        if not ids:
            return []
        kwargs: dict[str, Any] = {"fields": _opt(fields), "context": context}
        if load != "_classic_read":
            kwargs["load"] = load or "_classic_write"  # any other value reads many2one as a bare id
        return list(self.call(model, "read", ids=ids, idempotent=True, **kwargs))

    def search_count(
        self, model: str, domain: Sequence[Any] | None = None, *, context: dict[str, Any] | None = None
    ) -> int:
        return int(
            self.call(model, "search_count", domain=list(domain or []), context=context, idempotent=True)
        )

    def fields_get(self, model: str, attributes: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        return dict(self.call(model, "fields_get", attributes=_opt(attributes), idempotent=True))

    def read_group(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        groupby: Sequence[str] | str,
        *,
        lazy: bool = True,
        orderby: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Odoo's ``read_group`` (deprecated in 19 for ``formatted_read_group`` but still served)."""
        gb = [groupby] if isinstance(groupby, str) else list(groupby)
        return list(
            self.call(
                model,
                "read_group",
                domain=list(domain),
                fields=list(fields),
                groupby=gb,
                lazy=lazy,
                orderby=orderby,
                limit=limit,
                offset=offset or None,
                context=context,
                idempotent=True,
            )
        )

    def formatted_read_group(
        self,
        model: str,
        domain: Sequence[Any],
        groupby: Sequence[str],
        aggregates: Sequence[str],
        *,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """19's ``formatted_read_group``: groups keyed by their ``groupby`` spec, a date group as
        ``["2026-10-01", "October 2026"]``, aggregates keyed ``"field:op"`` (recorded on a real 19 server)."""
        return list(
            self.call(
                model,
                "formatted_read_group",
                domain=list(domain),
                groupby=list(groupby),
                aggregates=list(aggregates),
                context=context,
                idempotent=True,
            )
        )

    def name_search(
        self, model: str, name: str = "", domain: Sequence[Any] | None = None, limit: int = 100
    ) -> list[tuple[int, str]]:
        """``args`` became ``domain`` in 19 (ODOO.md §3)."""
        key = "domain" if self.major >= 19 else "args"
        rows = self.call(
            model,
            "name_search",
            name=name,
            limit=limit,
            idempotent=True,
            **{key: list(domain) if domain else None},
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    def context_get(self) -> dict[str, Any]:
        return dict(self.call("res.users", "context_get", idempotent=True))

    def fields_of(self, model: str) -> dict[str, dict[str, Any]] | None:
        """``fields_get`` of ``model`` (type and relation), or None when the server has no such model.

        This is the installed-model probe: ``ir.model`` is readable only by Access Rights administrators
        (``base.group_erp_manager``), ``fields_get`` by any user; an unknown model answers "Object X doesn't
        exist" (UserError over JSON-RPC, 404 over JSON-2)."""
        try:
            return self.fields_get(model, attributes=["type", "relation"])
        except OdooAccessError:
            return {}  # installed, but this account may not read it (the caller's reads will say so)
        except (OdooValidationError, OdooMissingError) as exc:
            if "doesn't exist" in exc.odoo_message or exc.status == 404:
                return None
            raise

    def model_exists(self, model: str) -> bool:
        return self.fields_of(model) is not None

    def external_ids(self, model: str, ids: Sequence[int]) -> dict[int, str]:
        """``{id: "module.name"}`` ("" where a record has none) through ``get_external_id``, which Odoo runs
        as superuser: no read access to ``ir.model.data`` is needed."""
        if not ids:
            return {}
        result = self.call(model, "get_external_id", ids=ids, idempotent=True)
        return {int(k): str(v or "") for k, v in dict(result).items()}

    # writes: used only by the governed tools
    def create(self, model: str, vals: dict[str, Any], *, context: dict[str, Any] | None = None) -> int:
        result = self.call(model, "create", vals_list=[vals], context=context)
        return int(result[0] if isinstance(result, list) else result)

    def write(
        self, model: str, ids: Sequence[int], vals: dict[str, Any], *, context: dict[str, Any] | None = None
    ) -> bool:
        return bool(self.call(model, "write", ids=ids, vals=vals, context=context))

    def message_post(
        self,
        model: str,
        record_id: int,
        body: str,
        *,
        subtype_xmlid: str = "mail.mt_note",
        message_type: str = "comment",
    ) -> int:
        """Post ``body`` in the chatter of one ``mail.thread`` record; returns the new ``mail.message`` id.

        ``body`` goes as given. Odoo escapes a plain-string body itself and wraps it in ``<p>`` (so markup
        arrives as text, and already-escaped text is escaped twice). The default is an internal note
        (``mail.mt_note``); ``mail.mt_comment`` is a discussion message that notifies followers. Not retried
        once the request may have reached Odoo: a retry could post twice. 17 returns the id, 18+ ``[id]``.

        Usage::

            mid = client.message_post("maintenance.request", 13, "Technician visited, replaced fuse.")
        """
        result = self.call(
            model,
            "message_post",
            ids=[record_id],  # JSON-RPC sends it positionally (args[0]), JSON-2 as "ids"
            body=body,
            subtype_xmlid=subtype_xmlid,
            message_type=message_type,
        )
        if isinstance(result, list) and len(result) == 1:
            result = result[0]
        if isinstance(result, bool) or not isinstance(result, int):
            raise OdooProtocolError(f"message_post returned {result!r}, not a message id")
        return result


def _opt(values: Sequence[str] | None) -> list[str] | None:
    return list(values) if values else None

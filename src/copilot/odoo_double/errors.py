"""Odoo's exception classes as the double raises them.

Each carries the dotted name Odoo serialises into ``error.data.name`` (JSON-RPC) or ``name`` (JSON-2) and the
HTTP status JSON-2 maps it to (ODOO.md §1–2, O19:odoo/exceptions.py ``http_status``).
"""

from __future__ import annotations


class OdooServerError(Exception):
    """Base of what the double raises inside a call; ``status`` is the JSON-2 HTTP status."""

    name = "builtins.Exception"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(OdooServerError):
    name = "odoo.exceptions.UserError"
    status = 422


class ValidationError(UserError):
    name = "odoo.exceptions.ValidationError"


class AccessError(UserError):
    name = "odoo.exceptions.AccessError"
    status = 403


class MissingError(UserError):
    name = "odoo.exceptions.MissingError"
    status = 404


class AccessDenied(OdooServerError):
    name = "odoo.exceptions.AccessDenied"
    status = 403

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class ArgumentError(OdooServerError):
    """A Python ``TypeError`` from binding call arguments (JSON-2 answers 422)."""

    name = "builtins.TypeError"
    status = 422


class HttpNotFound(OdooServerError):
    """werkzeug ``NotFound`` (unknown model/method on JSON-2, unknown route)."""

    name = "werkzeug.exceptions.NotFound"
    status = 404


class HttpUnauthorized(OdooServerError):
    name = "werkzeug.exceptions.Unauthorized"
    status = 401


class ServerValueError(OdooServerError):
    """Odoo raises a bare ``ValueError`` for unknown fields, malformed domains and wrong values (serialised as
    ``builtins.ValueError``; JSON-2 answers 500 — recorded: g3.err.*, g6.*.wrong_type_*)."""

    name = "builtins.ValueError"
    status = 500


def named(name: str, message: str) -> OdooServerError:
    """An error Odoo serialises under a Python or library name (``builtins.KeyError``, ``psycopg2...``)."""
    err = OdooServerError(message)
    err.name = name
    return err


class BindError(ArgumentError):
    """Parameters that do not fit the method's signature (``bare``: Python's own message)."""

    def __init__(self, message: str, bare: str) -> None:
        super().__init__(message)
        self.bare = bare


class Unprocessable(OdooServerError):
    """JSON-2: parameters that do not fit the method (recorded: g6.json2.*)."""

    name = "werkzeug.exceptions.UnprocessableEntity"
    status = 422


class UnsupportedMediaType(OdooServerError):
    name = "werkzeug.exceptions.UnsupportedMediaType"
    status = 415


class BadRequest(OdooServerError):
    name = "werkzeug.exceptions.BadRequest"
    status = 400

"""Typed Odoo errors, each a subclass of the matching :mod:`copilot.errors` class.

They keep their parent's ``code`` (``unavailable``, ``source``...) so the ingestion manifest treats an Odoo
outage like any other retryable source failure.

They carry Odoo's own error name (``odoo.exceptions.AccessError``, ``werkzeug.exceptions.Unauthorized``...)
and message so logs and the audit trail can say what Odoo said, while callers catch Copilot's error tree.
The name → class table is the one place both transports map errors (ODOO.md §1–2).
"""

from __future__ import annotations

from copilot.errors import (
    AuthenticationError,
    CopilotError,
    NotFoundError,
    PermissionDeniedError,
    SourceError,
    UnavailableError,
    ValidationError,
)


class OdooErrorMixin(CopilotError):
    """Adds Odoo's error ``odoo_name``, ``odoo_message`` and the HTTP ``status`` (JSON-2) when known."""

    def __init__(
        self, message: str, *, odoo_name: str = "", odoo_message: str = "", status: int | None = None
    ) -> None:
        super().__init__(message)
        self.odoo_name = odoo_name
        self.odoo_message = odoo_message or message
        self.status = status


class OdooError(OdooErrorMixin, SourceError):
    """An Odoo error with no more specific class (``builtins.TypeError``, a 500...)."""


class OdooAuthError(OdooErrorMixin, AuthenticationError):
    """Wrong login, password or API key (``AccessDenied``, HTTP 401)."""


class OdooAccessError(OdooErrorMixin, PermissionDeniedError):
    """Access rights or record rules refuse the call (``AccessError``, HTTP 403)."""


class OdooMissingError(OdooErrorMixin, NotFoundError):
    """The record, model or method does not exist (``MissingError``, HTTP 404)."""


class OdooValidationError(OdooErrorMixin, ValidationError):
    """Odoo refused the data or arguments (``ValidationError``, ``UserError``, HTTP 422)."""


class OdooUnavailableError(OdooErrorMixin, UnavailableError):
    """Odoo could not be reached or kept answering 502/503/504 after the bounded retries."""


class OdooProtocolError(OdooErrorMixin, SourceError):
    """The server answered something that is not Odoo's protocol (HTML from a proxy, truncated JSON)."""


ERRORS_BY_NAME: dict[str, type[OdooErrorMixin]] = {
    "odoo.exceptions.AccessDenied": OdooAuthError,
    "werkzeug.exceptions.Unauthorized": OdooAuthError,
    "odoo.exceptions.AccessError": OdooAccessError,
    "odoo.exceptions.MissingError": OdooMissingError,
    "werkzeug.exceptions.NotFound": OdooMissingError,
    "odoo.exceptions.ValidationError": OdooValidationError,
    "odoo.exceptions.UserError": OdooValidationError,
    "odoo.exceptions.RedirectWarning": OdooValidationError,
    "werkzeug.exceptions.UnprocessableEntity": OdooValidationError,
    "werkzeug.exceptions.UnsupportedMediaType": OdooValidationError,
    "werkzeug.exceptions.BadRequest": OdooValidationError,
}

ERRORS_BY_STATUS: dict[int, type[OdooErrorMixin]] = {
    400: OdooValidationError,
    401: OdooAuthError,
    403: OdooAccessError,
    404: OdooMissingError,
    415: OdooValidationError,
    422: OdooValidationError,
}


def from_odoo(name: str, message: str, *, status: int | None = None) -> OdooErrorMixin:
    """The typed error for Odoo's error ``name``, else for the HTTP status, else :class:`OdooError`."""
    cls = ERRORS_BY_NAME.get(name) or (ERRORS_BY_STATUS.get(status) if status else None) or OdooError
    short = message.splitlines()[0] if message else name
    return cls(f"Odoo {name or status}: {short}", odoo_name=name, odoo_message=message, status=status)

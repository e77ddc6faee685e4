"""A shallow, typed error tree.

Every error Copilot raises on purpose is a :class:`CopilotError`. Each carries a stable ``code`` (used by the
manifest, the CLI and the API) and a message that never contains document text or PHI. The HTTP mapping lives
in one place: :data:`HTTP_STATUS`.
"""

from __future__ import annotations


class CopilotError(Exception):
    """Base class. ``code`` is a stable machine-readable reason."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class ConfigError(CopilotError):
    code = "config"


class IngestError(CopilotError):
    """A document could not be ingested. The batch records it and goes on."""

    code = "ingest_failed"


class UnsupportedTypeError(IngestError):
    code = "unsupported_type"


class EmptyDocumentError(IngestError):
    code = "empty"


class FileTooLargeError(IngestError):
    code = "too_large"


class CorruptDocumentError(IngestError):
    code = "corrupt"


class EncryptedDocumentError(IngestError):
    code = "encrypted"


class NoTextLayerError(IngestError):
    """A PDF with pages but no extractable text (scanned). OCR is out of scope."""

    code = "no_text"


class EncodingError(IngestError):
    code = "encoding"


class SourceError(CopilotError):
    """A source (folder, Odoo) could not be listed or read."""

    code = "source"


class IndexError_(CopilotError):
    """The vector index failed (down, misconfigured)."""

    code = "index"


class IndexLockedError(IndexError_):
    """Another process owns the embedded index (Qdrant Edge locks its write-ahead log)."""

    code = "index_locked"


class ModelError(CopilotError):
    """A model could not be loaded or run."""

    code = "model"


class ValidationError(CopilotError):
    code = "validation"


class AuthenticationError(CopilotError):
    code = "unauthenticated"


class PermissionDeniedError(CopilotError):
    code = "forbidden"


class NotFoundError(CopilotError):
    code = "not_found"


class ConflictError(CopilotError):
    code = "conflict"


class UnavailableError(CopilotError):
    code = "unavailable"


class BrokerUnavailableError(UnavailableError):
    """The message broker of scale-out ingestion cannot be reached; nothing (more) was queued."""

    code = "broker_unavailable"


class RateLimitedError(CopilotError):
    code = "rate_limited"

    def __init__(self, message: str, *, code: str | None = None, retry_after: float = 1.0) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


HTTP_STATUS: dict[type[CopilotError], int] = {
    ValidationError: 422,
    IngestError: 422,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    RateLimitedError: 429,
    IndexLockedError: 503,
    IndexError_: 503,
    UnavailableError: 503,
    SourceError: 502,
    ModelError: 500,
    ConfigError: 500,
}


def http_status(exc: CopilotError) -> int:
    """The HTTP status for an error: the most specific class in :data:`HTTP_STATUS` wins."""
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500

"""PHI/PII redaction: Presidio + healthcare recognizers + operational allow-list.

Usage::

    from copilot.ingest.redaction import build_redactor
    redactor = build_redactor(settings)
    redactor.warm_up()
    results, report = redactor.redact_document(chunk_texts)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, cast

from copilot.ingest.redaction.presidio import DocumentReport, PresidioRedactor
from copilot.ingest.redaction.registry import RedactionConfig
from copilot.types import RedactionResult

if TYPE_CHECKING:
    from copilot.config import Settings
    from copilot.protocols import Redactor

logger = logging.getLogger(__name__)

__all__ = [
    "DocumentReport",
    "PassThroughRedactor",
    "PresidioRedactor",
    "RedactionConfig",
    "build_redactor",
    "redact_jsonl",
]


class PassThroughRedactor:
    """Redacts nothing. Development only (Settings refuses ``redaction=none`` in production)."""

    def warm_up(self) -> None:
        return None

    def redact(self, text: str) -> RedactionResult:
        return RedactionResult(text, ())

    def redact_batch(self, texts: Sequence[str]) -> list[RedactionResult]:
        return [RedactionResult(t, ()) for t in texts]

    def redact_document(
        self, texts: Sequence[str], doc_type: str | None = None
    ) -> tuple[list[RedactionResult], DocumentReport]:
        return self.redact_batch(texts), DocumentReport(chunks=len(texts), counts={}, distinct={})



def build_redactor(settings: Settings, *, offload_workers: int = 0) -> PresidioRedactor | PassThroughRedactor:
    """The redactor the settings ask for. Cheap: call ``warm_up()`` before the first batch.

    ``offload_workers`` > 0: every batch runs in that many worker processes (the API's audit redactor);
    otherwise batches run here and only large ones fan out over the cores."""
    if settings.redaction == "none":
        return PassThroughRedactor()
    import os

    config = RedactionConfig(
        spacy_model=settings.spacy_model,
        workers=offload_workers or max(1, min(2, os.cpu_count() or 1)),
        profile=settings.redaction_profile,
        offload=offload_workers > 0,
        site_names=tuple(settings.site_names),
    )

    return PresidioRedactor(config, key_path=settings.data_dir / "secrets" / "redaction_hmac.key")


def redact_jsonl(
    in_stream: IO[bytes] | IO[str],
    out_stream: IO[str],
    redactor: Redactor,
    batch_size: int = 64,
    profile: str | None = None,
) -> int:
    """``{"text": ...}`` per line in; ``{"text": redacted, "spans": [...]}`` per line out, in input order.

    Returns the number of lines written (one per non-blank input line). A bad line gets
    ``{"line": n, "error": {"code": ..., "message": ...}}`` and the batch goes on; the message never echoes the
    input. Codes: ``invalid_utf8`` (bytes that are not UTF-8), ``invalid_json``, ``missing_text`` (not an
    object with a string ``text``), ``redaction_failed`` (the redactor raised on this text; the others in its
    batch are redacted one by one). Empty texts, binary junk that decodes, and 10 MB texts are redacted.
    ``profile`` (``clinical``, ``operational``, ``auto``) is passed to redactors that take one.
    """
    written = 0
    batch: list[tuple[int, str | None, dict[str, str] | None]] = []
    takes_profile = profile is not None and _takes_profile(redactor)

    def run(texts: list[str]) -> list[RedactionResult]:
        if takes_profile:
            return redactor.redact_batch(texts, profile)  # type: ignore[call-arg]
        return redactor.redact_batch(texts)

    def results_for(texts: list[str]) -> list[RedactionResult | None]:
        try:
            return list(run(texts))
        except (MemoryError, KeyboardInterrupt):
            raise
        except Exception:  # one bad text must not lose the batch: retry each on its own
            out: list[RedactionResult | None] = []
            for t in texts:
                try:
                    out.append(run([t])[0])
                except (MemoryError, KeyboardInterrupt):
                    raise
                except Exception as exc:
                    logger.warning("redaction failed on one line: %s", type(exc).__name__)
                    out.append(None)
            return out

    def flush() -> None:
        nonlocal written
        texts = [t for _, t, _ in batch if t is not None]
        results = iter(results_for(texts)) if texts else iter(())
        for n, text, err in batch:
            row: dict[str, object]
            if text is None:
                row = {"line": n, "error": err}
            else:
                r = next(results)
                if r is None:
                    row = {"line": n, "error": _line_error("redaction_failed", "the redactor failed on this text")}
                else:
                    row = {
                        "text": r.text,
                        "spans": [
                            {"start": s.start, "end": s.end, "entity_type": s.entity_type, "score": s.score}
                            for s in r.spans
                        ],
                    }
            out_stream.write(json.dumps(row) + "\n")
            written += 1
        batch.clear()

    for n, raw in enumerate(in_stream, 1):
        text, err = _parse_line(cast("bytes | str", raw), n)
        if text is None and err is None:
            continue  # blank line
        batch.append((n, text, err))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return written


def _line_error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _parse_line(raw: bytes | str, n: int) -> tuple[str | None, dict[str, str] | None]:
    """(text, None), (None, error) or (None, None) for a blank line. Errors name the line, never its content."""
    if isinstance(raw, bytes):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, _line_error("invalid_utf8", f"line {n}: not UTF-8 (byte {exc.start})")
    else:
        line = raw
    if not line.strip():
        return None, None
    try:
        obj = json.loads(line)
    except ValueError:
        return None, _line_error("invalid_json", f"line {n}: not a JSON value")
    text = obj.get("text") if isinstance(obj, dict) else None
    if not isinstance(text, str):
        return None, _line_error("missing_text", f"line {n}: expected a JSON object with a string 'text'")
    return text, None


def _takes_profile(redactor: object) -> bool:
    import inspect

    try:
        return "profile" in inspect.signature(redactor.redact_batch).parameters  # type: ignore[attr-defined]
    except (TypeError, ValueError, AttributeError):
        return False

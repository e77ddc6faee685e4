"""PHI/PII redaction: Presidio + healthcare recognizers + operational allow-list.

Usage::

    from copilot.ingest.redaction import build_redactor
    redactor = build_redactor(settings)
    redactor.warm_up()
    results, report = redactor.redact_document(chunk_texts)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from copilot.ingest.redaction.presidio import DocumentReport, PresidioRedactor
from copilot.ingest.redaction.registry import RedactionConfig
from copilot.types import RedactionResult

if TYPE_CHECKING:
    from copilot.config import Settings
    from copilot.protocols import Redactor

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

    def redact_document(self, texts: Sequence[str]) -> tuple[list[RedactionResult], DocumentReport]:
        return self.redact_batch(texts), DocumentReport(chunks=len(texts), counts={}, distinct={})


def build_redactor(settings: Settings) -> PresidioRedactor | PassThroughRedactor:
    """The redactor the settings ask for. Cheap: call ``warm_up()`` before the first batch."""
    if settings.redaction == "none":
        return PassThroughRedactor()
    import os

    config = RedactionConfig(spacy_model=settings.spacy_model, workers=max(1, min(2, os.cpu_count() or 1)))
    return PresidioRedactor(config, key_path=settings.data_dir / "secrets" / "redaction_hmac.key")


def redact_jsonl(in_stream: IO[str], out_stream: IO[str], redactor: Redactor, batch_size: int = 64) -> int:
    """``{"text": ...}`` per line in; ``{"text": redacted, "spans": [...]}`` per line out.

    Returns the number of lines written.

    Lines that are not JSON objects with a string ``text`` produce ``{"error": ...}`` (no input echoed).
    """
    written = 0
    batch: list[tuple[int, str | None, str | None]] = []

    def flush() -> None:
        nonlocal written
        texts = [t for _, t, _ in batch if t is not None]
        results = iter(redactor.redact_batch(texts)) if texts else iter(())
        for _, text, err in batch:
            if text is None:
                out_stream.write(json.dumps({"error": err}) + "\n")
            else:
                r = next(results)
                out_stream.write(
                    json.dumps(
                        {
                            "text": r.text,
                            "spans": [
                                {
                                    "start": s.start,
                                    "end": s.end,
                                    "entity_type": s.entity_type,
                                    "score": s.score,
                                }
                                for s in r.spans
                            ],
                        }
                    )
                    + "\n"
                )
            written += 1
        batch.clear()

    for n, line in enumerate(in_stream, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            text = obj["text"] if isinstance(obj, dict) else None
            if not isinstance(text, str):
                raise ValueError
            batch.append((n, text, None))
        except (ValueError, KeyError):
            batch.append((n, None, f"line {n}: expected a JSON object with a string 'text'"))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return written

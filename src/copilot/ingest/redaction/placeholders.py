"""Consistent per-document placeholders (``<PERSON_1>`` is the same person in every chunk of a document).

Values are never kept in the clear: the numbering is keyed by an HMAC-SHA256 of (entity type, normalised
value)
under a secret key, and the table lives only for one document.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

_WS = re.compile(r"[\s.,]+")


def normalise(entity_type: str, value: str) -> str:
    """Same entity, different spelling: case, spacing and punctuation do not start a new number."""
    v = _WS.sub(" ", value).strip().casefold()
    if entity_type not in {"PERSON", "LOCATION", "STREET_ADDRESS", "ORGANIZATION"}:
        v = re.sub(r"[^0-9a-z@]", "", v)
    return v


def load_or_create_key(path: Path) -> bytes:
    """A 32-byte key file (mode 600) in the data dir; created on first use."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


class PlaceholderTable:
    """Numbers entities of one document. Holds only keyed hashes."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._numbers: dict[bytes, int] = {}
        self._next: dict[str, int] = {}

    def placeholder(self, entity_type: str, value: str) -> str:
        digest = hmac.new(
            self._key, f"{entity_type}\x00{normalise(entity_type, value)}".encode(), hashlib.sha256
        ).digest()
        n = self._numbers.get(digest)
        if n is None:
            n = self._next.get(entity_type, 0) + 1
            self._next[entity_type] = n
            self._numbers[digest] = n
        return f"<{entity_type}_{n}>"

    def distinct(self) -> dict[str, int]:
        """Distinct entities per type seen so far (no values)."""
        return dict(self._next)

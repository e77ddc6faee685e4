"""Core data types passed between pipeline stages.

Framework types (LangChain documents, qdrant points, FastAPI models) never cross these boundaries: adapters
convert at the edge. Every type here is a plain frozen dataclass so stages stay testable in isolation.

Flow: ``Source`` yields :class:`DocumentRef` → ``Loader`` turns bytes into a :class:`LoadedDocument` of
:class:`Block` s → ``Chunker`` makes :class:`Chunk` s → ``Redactor`` rewrites chunk text → ``Embedder`` and
``SparseEncoder`` make vectors → ``VectorIndex`` stores :class:`IndexedChunk` s and answers
:class:`SearchRequest` s with :class:`Hit` s → ``Answerer`` writes an :class:`Answer`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

# Namespace for deterministic point ids: uuid5(POINT_NAMESPACE, f"{doc_id}#{ordinal}").
POINT_NAMESPACE = uuid.UUID("6f1c2d0e-5b8a-4c6e-9a57-0c0ffee0d0c5")

ADMIN_GROUP = "copilot_admin"
"""Holders of this group bypass the ACL filter (and only they see chunks with no ACL groups)."""


@dataclass(frozen=True)
class DocumentRef:
    """Metadata of one source document, known before its content is read.

    ``checksum`` is a content hash (sha256 hex for files, Odoo's attachment checksum for Odoo) so an
    unchanged document is skipped without reading it. ``acl_groups`` empty means "admins only" (fail closed).
    """

    doc_id: str
    title: str
    uri: str
    source_url: str
    mime_type: str
    checksum: str
    size: int
    modified: datetime
    doc_type: str = "document"
    site: str | None = None
    department: str | None = None
    acl_groups: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def with_acl(self, groups: tuple[str, ...]) -> DocumentRef:
        return replace(self, acl_groups=tuple(sorted(set(groups))))


class BlockKind(StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST = "list"
    TABLE = "table"


@dataclass(frozen=True)
class Block:
    """One structural unit of a loaded document. ``level`` is the heading depth (1 = top) for headings."""

    kind: BlockKind
    text: str
    level: int = 0
    page: int | None = None


@dataclass(frozen=True)
class LoadedDocument:
    ref: DocumentRef
    blocks: tuple[Block, ...]
    page_count: int | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage with everything a citation needs.

    ``text`` is what gets embedded and stored (after redaction). ``section`` is the heading path joined by
    " > ". Pages are 1-based and ``None`` for formats without pages.
    """

    doc_id: str
    ordinal: int
    text: str
    title: str
    section: str
    page_start: int | None
    page_end: int | None
    source_url: str
    doc_type: str
    site: str | None
    department: str | None
    acl_groups: tuple[str, ...]
    checksum: str
    token_count: int = 0

    @property
    def point_id(self) -> str:
        return str(uuid.uuid5(POINT_NAMESPACE, f"{self.doc_id}#{self.ordinal}"))

    def payload(self) -> dict[str, Any]:
        """The payload stored beside the vectors. Field names are part of the index schema."""
        return {
            "text": self.text,
            "doc_id": self.doc_id,
            "ordinal": self.ordinal,
            "title": self.title,
            "section": self.section,
            "page": self.page_start,
            "page_end": self.page_end,
            "source_url": self.source_url,
            "doc_type": self.doc_type,
            "site": self.site,
            "department": self.department,
            "acl_groups": list(self.acl_groups),
            "checksum": self.checksum,
            "token_count": self.token_count,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Chunk:
        return cls(
            doc_id=str(payload["doc_id"]),
            ordinal=int(payload.get("ordinal", 0)),
            text=str(payload.get("text", "")),
            title=str(payload.get("title", "")),
            section=str(payload.get("section", "")),
            page_start=payload.get("page"),
            page_end=payload.get("page_end"),
            source_url=str(payload.get("source_url", "")),
            doc_type=str(payload.get("doc_type", "")),
            site=payload.get("site"),
            department=payload.get("department"),
            acl_groups=tuple(payload.get("acl_groups") or ()),
            checksum=str(payload.get("checksum", "")),
            token_count=int(payload.get("token_count") or 0),
        )


@dataclass(frozen=True)
class SparseVector:
    indices: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class IndexedChunk:
    chunk: Chunk
    dense: tuple[float, ...] | list[float]
    sparse: SparseVector


class SearchMode(StrEnum):
    DENSE = "dense"
    SPARSE = "sparse"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class AccessScope:
    """Who is asking, reduced to what the index filter needs.

    ``groups`` are the caller's document ACL groups; ``is_admin`` bypasses the ACL filter. Built by the
    caller's principal (governance) and never from request input alone.
    """

    groups: tuple[str, ...] = ()
    is_admin: bool = False

    @classmethod
    def admin(cls) -> AccessScope:
        return cls(groups=(ADMIN_GROUP,), is_admin=True)


@dataclass(frozen=True)
class SearchRequest:
    """One retrieval. ``scope`` is applied inside the vector query; ``filters`` are exact payload matches
    (e.g. ``{"doc_type": "sop", "site": "north"}``)."""

    scope: AccessScope
    dense: tuple[float, ...] | list[float] | None = None
    sparse: SparseVector | None = None
    mode: SearchMode = SearchMode.HYBRID
    limit: int = 10
    filters: dict[str, str] = field(default_factory=dict)
    prefetch_limit: int = 50


@dataclass(frozen=True)
class Hit:
    point_id: str
    score: float
    chunk: Chunk
    # where hybrid fusion found it: its rank (1 = first) in the dense and in the lexical list; None when it was
    # not in that list or the index fused the lists itself. The answerer reads whether both lists agree.
    dense_rank: int | None = None
    sparse_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    title: str
    section: str
    page: int | None
    source: str
    quote: str = ""


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    passages: tuple[Hit, ...]
    confidence: float = 0.0
    answerer: str = "extractive"
    # the answerer's measurements behind ``confidence`` (evals fit the calibration on them; not in to_dict)
    signals: Mapping[str, float] = field(default_factory=dict, compare=False)
    # the parts of a multi-part question the documents did not answer ("and who signs it off"), as typed
    missing_parts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of an answer (CLI ``--json``, ``POST /v1/ask``, the knowledge_search tool)."""
        return {
            "answer": self.text,
            "citations": [
                {
                    "n": c.n,
                    "doc_id": c.doc_id,
                    "title": c.title,
                    "section": c.section,
                    "page": c.page,
                    "source": c.source,
                    "quote": c.quote,
                }
                for c in self.citations
            ],
            "abstained": self.abstained,
            "missing_parts": list(self.missing_parts),
            "confidence": round(self.confidence, 4),
            "passages": [
                {"doc_id": h.chunk.doc_id, "title": h.chunk.title, "score": round(h.score, 4)} for h in self.passages
            ],
        }


@dataclass(frozen=True)
class RedactionSpan:
    start: int
    end: int
    entity_type: str
    score: float


@dataclass(frozen=True)
class RedactionResult:
    text: str
    spans: tuple[RedactionSpan, ...]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.spans:
            out[s.entity_type] = out.get(s.entity_type, 0) + 1
        return out

"""One Protocol per pipeline role.

Presidio, sentence-transformers, Qdrant and LangChain are adapters behind these. Constructors stay cheap;
anything that loads a model or opens a store does it in ``warm_up()`` (or lazily on first use), never at import.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from copilot.types import (
    Answer,
    Chunk,
    DocumentRef,
    Hit,
    IndexedChunk,
    LoadedDocument,
    RedactionResult,
    SearchRequest,
    SparseVector,
)


@runtime_checkable
class Source(Protocol):
    """Where documents come from (a folder tree, Odoo Documents/Knowledge/Maintenance).

    ``list_documents`` must be cheap enough to call on every sync: it returns metadata with a content checksum
    but does not need to read content. ``read`` returns the raw bytes of one document.
    """

    name: str

    def list_documents(self) -> Iterator[DocumentRef]: ...

    def read(self, ref: DocumentRef) -> bytes: ...


class Loader(Protocol):
    """Turns raw bytes into structured blocks. Raises a typed :class:`copilot.errors.IngestError` on bad input."""

    mime_types: tuple[str, ...]

    def load(self, data: bytes, ref: DocumentRef) -> LoadedDocument: ...


class Tokenizer(Protocol):
    """Counts tokens the way the embedding model does, so no chunk is silently truncated."""

    max_tokens: int

    def count(self, text: str) -> int: ...

    def count_batch(self, texts: Sequence[str]) -> list[int]: ...


class Chunker(Protocol):
    def chunk(self, doc: LoadedDocument) -> list[Chunk]: ...


class Redactor(Protocol):
    """Replaces PII/PHI with typed placeholders (``<PERSON>``, ``<PHONE_NUMBER>``...)."""

    def warm_up(self) -> None: ...

    def redact(self, text: str) -> RedactionResult: ...

    def redact_batch(self, texts: Sequence[str]) -> list[RedactionResult]: ...


class Embedder(Protocol):
    """Dense text embeddings, L2-normalised, as float32 arrays of shape (n, dimension)."""

    name: str
    dimension: int

    def warm_up(self) -> None: ...

    def tokenizer(self) -> Tokenizer: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class SparseEncoder(Protocol):
    """Sparse (BM25-style) vectors; the index applies the IDF modifier."""

    def embed_documents(self, texts: Sequence[str]) -> list[SparseVector]: ...

    def embed_query(self, text: str) -> SparseVector: ...


class VectorIndex(Protocol):
    """A Qdrant collection (embedded Edge shard or a server) holding dense + sparse vectors and payloads.

    The ACL of ``SearchRequest.scope`` is applied inside the query (fail closed: chunks with no ACL groups
    match only admins). Point ids are deterministic (:attr:`Chunk.point_id`), so upserts are idempotent.
    """

    def open(self) -> None: ...

    def close(self) -> None: ...

    def upsert(self, items: Sequence[IndexedChunk]) -> None: ...

    def delete_document(self, doc_id: str) -> None: ...

    def set_document_acl(self, doc_id: str, acl_groups: Sequence[str]) -> int:
        """Rewrite the ACL payload of every chunk of a document without touching vectors; returns the count."""
        ...

    def search(self, request: SearchRequest) -> list[Hit]: ...

    def count(self, doc_id: str | None = None) -> int: ...

    def iter_chunks(self, batch_size: int = 256) -> Iterator[Chunk]:
        """Every stored chunk's payload (used by audits: e.g. the PHI scan over the whole index)."""
        ...

    def optimize(self) -> None: ...

    def flush(self) -> None: ...


class Answerer(Protocol):
    name: str

    def answer(self, question: str, hits: Sequence[Hit], *, query_vector: np.ndarray | None = None) -> Answer:
        """``query_vector`` is the question's embedding when retrieval already computed it."""
        ...

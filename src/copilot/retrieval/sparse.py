"""BM25 sparse vectors from Qdrant Edge's own encoder.

Both index shapes (the embedded Edge shard and a Qdrant server) store vectors made here, so a corpus indexed
in one shape ranks identically in the other. The encoder only produces term-frequency weights (documents) and
unit weights (queries); the inverse document frequency is applied by the index through the sparse vector's
IDF modifier, which keeps document vectors valid as the corpus grows.

Usage::

    encoder = Bm25SparseEncoder()
    doc_vectors = encoder.embed_documents(["Infusion pumps are serviced every 6 months."])
    query_vector = encoder.embed_query("infusion pump service interval")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from copilot.types import SparseVector

if TYPE_CHECKING:
    import qdrant_edge


class Bm25SparseEncoder:
    """:class:`copilot.protocols.SparseEncoder` over ``qdrant_edge.Bm25`` (English stemming and stopwords).

    ``k``, ``b`` and ``avg_len`` are the usual BM25 parameters; ``avg_len`` is in tokens and should be close
    to the average chunk length (chunks are ~200 word pieces, i.e. ~150 words). The underlying model is built
    on first use, so constructing this is free.
    """

    name = "bm25"

    def __init__(self, *, k: float = 1.2, b: float = 0.75, avg_len: float = 150.0,
                 language: str = "english") -> None:
        self.k = k
        self.b = b
        self.avg_len = avg_len
        self.language = language
        self._model: qdrant_edge.Bm25 | None = None

    def warm_up(self) -> None:
        """Build the encoder (validates the configuration: bad ``b``/``k``/language raise ``ValueError``)."""
        if self._model is None:
            import qdrant_edge

            self._model = qdrant_edge.Bm25(
                qdrant_edge.Bm25Config(k=self.k, b=self.b, avg_len=self.avg_len, language=self.language)
            )

    def _bm25(self) -> qdrant_edge.Bm25:
        self.warm_up()
        assert self._model is not None
        return self._model

    def embed_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        model = self._bm25()
        return [_convert(model.embed_document(t)) for t in texts]

    def embed_query(self, text: str) -> SparseVector:
        return _convert(self._bm25().embed_query(text))


def _convert(vec: qdrant_edge.SparseVector) -> SparseVector:
    """Edge's vector → ours, sorted by index so equal texts give equal (hashable, comparable) vectors."""
    pairs = sorted(zip(vec.indices, vec.values, strict=True))
    return SparseVector(indices=tuple(int(i) for i, _ in pairs), values=tuple(float(v) for _, v in pairs))

"""The real embedders on the real all-MiniLM-L6-v2: shape, normalisation, torch vs ONNX int8 agreement, and
semantic sanity. The int8 graph is exported once per test session into a session-scoped tmp dir (~15-40 s on
the 2-core box, most of it importing torch/transformers); everything else reuses the warm embedders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from copilot.config import Settings
from copilot.errors import ModelError
from copilot.retrieval.embedder import OnnxInt8Embedder, SentenceTransformerEmbedder, build_embedder

pytestmark = pytest.mark.integration

# Realistic lengths: a heading, a sentence, a paragraph, and a ~300-word text that only fits if truncation
# happens at 256 word pieces (the ONNX tokenizer file ships with 128).
LONG = (
    "Infusion pumps in every ward are inspected by biomedical engineering each quarter, with a full "
    "preventive maintenance visit every six months that covers occlusion alarms and flow accuracy. "
    * 6
    + "Cold chain storage of vaccines requires temperatures between two and eight degrees Celsius, "
    "continuous logging, and escalation of excursions to the pharmacy lead within one hour. " * 6
)
TEXTS = [
    "Incident reporting",
    "Infusion pumps receive preventive maintenance every six months.",
    "Purchase orders above 5,000 EUR need approval from the regional finance director before the "
    "buyer sends them to the supplier; below that amount the department head approves.",
    "Expired stock is quarantined in the central warehouse, recorded in Odoo Inventory with its lot "
    "number, and collected by the licensed disposal contractor every second Tuesday.",
    "The supplier shall deliver within 48 hours of the purchase order; each late day costs 2% of the "
    "order value, capped at 10%.",
    LONG,
]


@pytest.fixture(scope="session")
def torch_embedder() -> SentenceTransformerEmbedder:
    emb = SentenceTransformerEmbedder()
    emb.warm_up()
    return emb


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("copilot-data")


@pytest.fixture(scope="session")
def onnx_cache(data_dir: Path) -> Path:
    return data_dir / "models"  # where build_embedder puts it


@pytest.fixture(scope="session")
def onnx_embedder(torch_embedder: SentenceTransformerEmbedder, onnx_cache: Path) -> OnnxInt8Embedder:
    # Depends on torch_embedder only for ordering: torch is then already imported when the export runs.
    emb = OnnxInt8Embedder(cache_dir=onnx_cache)
    emb.warm_up()
    return emb


@pytest.fixture(params=["torch", "onnx-int8"])
def embedder(request: pytest.FixtureRequest) -> SentenceTransformerEmbedder | OnnxInt8Embedder:
    name = "torch_embedder" if request.param == "torch" else "onnx_embedder"
    return request.getfixturevalue(name)


def test_shape_dtype_and_unit_norm(embedder: SentenceTransformerEmbedder | OnnxInt8Embedder) -> None:
    vecs = embedder.embed_documents(TEXTS)
    assert embedder.dimension == 384
    assert vecs.shape == (len(TEXTS), 384)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-4)
    query = embedder.embed_query(TEXTS[1])
    assert query.shape == (384,)
    # Batching and padding barely change a vector. torch: float noise. int8: dynamic quantisation picks its
    # activation scales per batch, so a text's vector depends slightly on its batch companions.
    assert float(query @ vecs[1]) >= (0.999 if isinstance(embedder, SentenceTransformerEmbedder) else 0.98)


def test_order_and_batching_do_not_change_vectors(
    embedder: SentenceTransformerEmbedder | OnnxInt8Embedder,
) -> None:
    forward = embedder.embed_documents(TEXTS)
    backward = embedder.embed_documents(TEXTS[::-1])[::-1]
    np.testing.assert_allclose(forward, backward, atol=1e-4)


def test_onnx_int8_says_its_vectors_depend_on_the_batch(onnx_embedder: OnnxInt8Embedder) -> None:
    """The answerer embeds one text per call for such an embedder: alone, a text always gets the same vector."""
    assert onnx_embedder.batch_invariant is False
    alone = [onnx_embedder.embed_documents([t])[0] for t in TEXTS]
    again = [onnx_embedder.embed_documents([t])[0] for t in reversed(TEXTS)][::-1]
    np.testing.assert_array_equal(np.vstack(alone), np.vstack(again))
    # embed_separately runs texts side by side, each on its own: the same vectors, in order
    np.testing.assert_array_equal(onnx_embedder.embed_separately(TEXTS), np.vstack(alone))
    assert onnx_embedder.embed_separately([]).shape == (0, 384)


def test_onnx_int8_agrees_with_torch(
    torch_embedder: SentenceTransformerEmbedder, onnx_embedder: OnnxInt8Embedder
) -> None:
    cos = (torch_embedder.embed_documents(TEXTS) * onnx_embedder.embed_documents(TEXTS)).sum(axis=1)
    assert cos.mean() >= 0.97, cos
    assert cos.min() >= 0.93, cos


def test_long_text_is_truncated_at_256_not_128(
    torch_embedder: SentenceTransformerEmbedder, onnx_embedder: OnnxInt8Embedder
) -> None:
    """The second topic of LONG starts past word piece 128: a 128-token cut would drop it entirely."""
    tok = torch_embedder.tokenizer()
    assert tok.count(LONG) > 128
    head = LONG[: len(LONG) // 2]
    for emb in (torch_embedder, onnx_embedder):
        full, first_half = emb.embed_documents([LONG, head])
        assert float(full @ first_half) < 0.97, emb.name


@pytest.mark.parametrize(
    ("query", "paraphrase", "unrelated"),
    [
        (
            "How often do infusion pumps get preventive maintenance?",
            "Biomedical engineering services each infusion pump twice a year.",
            "Late deliveries cost the supplier 2% of the order value per day.",
        ),
        (
            "Who has to approve a large purchase order?",
            "Purchase orders above 5,000 EUR need sign-off from the regional finance director.",
            "Vaccines must be kept between 2 and 8 degrees Celsius.",
        ),
        (
            "What temperature should vaccines be stored at?",
            "Keep vaccines refrigerated at two to eight degrees.",
            "Report every patient fall in the incident system within 24 hours.",
        ),
    ],
)
def test_paraphrase_ranks_above_unrelated(
    embedder: SentenceTransformerEmbedder | OnnxInt8Embedder, query: str, paraphrase: str, unrelated: str
) -> None:
    q = embedder.embed_query(query)
    scores = embedder.embed_documents([paraphrase, unrelated]) @ q
    assert scores[0] > scores[1] + 0.1, scores


def test_onnx_cache_is_reused(onnx_embedder: OnnxInt8Embedder, onnx_cache: Path) -> None:
    again = OnnxInt8Embedder(cache_dir=onnx_cache)
    again.warm_up()
    assert again.build_seconds is None  # loaded from the cache, not rebuilt
    assert again.onnx_path == onnx_embedder.onnx_path
    assert again.onnx_path is not None and again.onnx_path.parent.parent == onnx_cache
    meta = json.loads((again.onnx_path.parent / "meta.json").read_text())
    assert meta["key"] in again.onnx_path.parent.name
    # Only the final graph is kept; the fp32 and fused intermediates are removed.
    assert sorted(p.name for p in again.onnx_path.parent.iterdir()) == ["meta.json", "model.int8.onnx"]
    np.testing.assert_allclose(again.embed_documents(TEXTS[:2]), onnx_embedder.embed_documents(TEXTS[:2]), atol=1e-6)


def test_build_embedder_onnx_uses_the_data_dir_cache(onnx_embedder: OnnxInt8Embedder, data_dir: Path) -> None:
    emb = build_embedder(Settings(data_dir=data_dir, embedding_backend="onnx-int8"))
    emb.warm_up()
    assert isinstance(emb, OnnxInt8Embedder)
    assert emb.build_seconds is None  # found the graph the session fixture built
    assert emb.onnx_path == onnx_embedder.onnx_path


def test_tokenizer_matches_the_model(torch_embedder: SentenceTransformerEmbedder) -> None:
    tok = torch_embedder.tokenizer()
    assert tok.max_tokens == 254
    assert tok.count("infusion pump") >= 2


def test_torch_load_failure_is_wrapped(tmp_path: Path) -> None:
    """A directory that looks like a model but is not one: the library's error arrives as a ModelError."""
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (tmp_path / "modules.json").write_text("this is not json")
    with pytest.raises(ModelError, match="cannot load"):
        SentenceTransformerEmbedder(tmp_path).warm_up()

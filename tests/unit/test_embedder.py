"""Unit tests for the embedders: the hashing test double in depth, and the cheap parts of the real backends
(construction, factory, load-failure errors, pooling) without loading any model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from copilot.config import Settings
from copilot.errors import ConfigError, ModelError
from copilot.retrieval.embedder import (
    EMBEDDERS,
    HashingEmbedder,
    OnnxInt8Embedder,
    SentenceTransformerEmbedder,
    _pool_cls,
    _pool_mean,
    build_embedder,
)
from copilot.retrieval.tokenizer import WhitespaceTokenizer

pytestmark = pytest.mark.unit

TEXTS = [
    "Infusion pumps receive preventive maintenance every six months.",
    "Vaccines are stored between 2 and 8 degrees Celsius.",
    "",
    "a",
    "Purchase orders above 5,000 EUR need the regional finance director's approval. " * 20,
]


# ------------------------------------------------------------------------------------------ HashingEmbedder


@pytest.mark.parametrize("dimension", [8, 64, 384])
def test_hashing_shape_dtype_and_unit_norm(dimension: int) -> None:
    vecs = HashingEmbedder(dimension).embed_documents(TEXTS)
    assert vecs.shape == (len(TEXTS), dimension)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)


def test_hashing_empty_batch_has_the_right_shape() -> None:
    vecs = HashingEmbedder(384).embed_documents([])
    assert vecs.shape == (0, 384)
    assert vecs.dtype == np.float32


def test_hashing_is_deterministic_across_instances() -> None:
    a = HashingEmbedder(384).embed_documents(TEXTS)
    b = HashingEmbedder(384).embed_documents(TEXTS)
    np.testing.assert_array_equal(a, b)


def test_hashing_is_deterministic_across_processes() -> None:
    """Python's ``hash()`` is salted per process; vectors written by one process must match another's."""
    code = (
        "from copilot.retrieval.embedder import HashingEmbedder;"
        "print(HashingEmbedder(384).embed_query('cold chain storage for vaccines').tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    other = np.array(json.loads(out), dtype=np.float32)
    np.testing.assert_array_equal(other, HashingEmbedder(384).embed_query("cold chain storage for vaccines"))


def test_hashing_query_matches_document_embedding() -> None:
    emb = HashingEmbedder(384)
    np.testing.assert_array_equal(emb.embed_query(TEXTS[0]), emb.embed_documents([TEXTS[0]])[0])


def test_hashing_is_case_and_punctuation_insensitive() -> None:
    emb = HashingEmbedder(384)
    np.testing.assert_allclose(emb.embed_query("Cold chain!"), emb.embed_query("cold chain"))


@pytest.mark.parametrize(
    ("query", "related", "unrelated"),
    [
        (
            "infusion pump preventive maintenance interval",
            "Infusion pumps receive preventive maintenance every six months.",
            "Late deliveries incur a penalty of 2% of the order value.",
        ),
        (
            "late delivery penalty",
            "A late delivery costs the supplier a penalty of 2% per day.",
            "Vaccines are stored between 2 and 8 degrees Celsius.",
        ),
        (
            "who approves purchase orders above 5000",
            "Purchase orders above 5000 EUR are approved by the finance director.",
            "Report every incident within 24 hours in the incident system.",
        ),
    ],
)
def test_hashing_ranks_overlapping_text_above_unrelated(query: str, related: str, unrelated: str) -> None:
    emb = HashingEmbedder(384)
    q = emb.embed_query(query)
    docs = emb.embed_documents([related, unrelated])
    scores = docs @ q
    assert scores[0] > scores[1]
    assert scores[0] > 0.2


def test_hashing_bigrams_make_word_order_count() -> None:
    emb = HashingEmbedder(384)
    a, b, c = emb.embed_documents(
        ["biomedical engineering team", "biomedical engineering team", "team engineering biomedical"]
    )
    assert float(a @ b) == pytest.approx(1.0)
    assert float(a @ c) < 0.99


def test_hashing_refuses_a_tiny_dimension() -> None:
    with pytest.raises(ConfigError):
        HashingEmbedder(4)


def test_hashing_tokenizer_is_the_whitespace_double() -> None:
    tok = HashingEmbedder(384).tokenizer()
    assert isinstance(tok, WhitespaceTokenizer)
    assert tok.max_tokens == 254


# ------------------------------------------------------------------------------------------- factory


@pytest.mark.parametrize(
    ("backend", "cls", "name"),
    [
        ("torch", SentenceTransformerEmbedder, "all-MiniLM-L6-v2/torch"),
        ("onnx-int8", OnnxInt8Embedder, "all-MiniLM-L6-v2/onnx-int8"),
        ("hashing", HashingEmbedder, "hashing-384"),
    ],
)
def test_build_embedder_picks_the_backend(tmp_path: Path, backend: str, cls: type, name: str) -> None:
    emb = build_embedder(Settings(data_dir=tmp_path, embedding_backend=backend, embedding_batch_size=7))
    assert isinstance(emb, cls)
    assert emb.name == name
    assert emb.dimension == 384
    if not isinstance(emb, HashingEmbedder):
        assert emb.batch_size == 7  # type: ignore[attr-defined]
    assert list(tmp_path.iterdir()) == []  # a cheap constructor writes nothing


def test_onnx_cache_lives_under_the_data_dir(tmp_path: Path) -> None:
    emb = build_embedder(Settings(data_dir=tmp_path, embedding_backend="onnx-int8"))
    assert isinstance(emb, OnnxInt8Embedder)
    assert emb.cache_dir == tmp_path / "models"


def test_build_embedder_passes_the_model_path(tmp_path: Path) -> None:
    model = _fake_model_dir(tmp_path / "my-model", dimension=768)
    emb = build_embedder(Settings(data_dir=tmp_path, embedding_backend="torch", embedding_model_path=str(model)))
    assert emb.name == "my-model/torch"
    assert emb.dimension == 768  # read from 1_Pooling/config.json without loading the model


def test_registry_covers_every_configurable_backend() -> None:
    from typing import get_args

    assert set(EMBEDDERS) == set(get_args(Settings.model_fields["embedding_backend"].annotation))


def test_constructing_real_embedders_imports_no_ml_library() -> None:
    """Constructors are cheap: torch, sentence-transformers and onnxruntime load only in warm_up()."""
    code = (
        "import sys\n"
        "from copilot.config import Settings\n"
        "from copilot.retrieval.embedder import build_embedder\n"
        "for b in ('torch', 'onnx-int8', 'hashing'):\n"
        "    build_embedder(Settings(embedding_backend=b)).embed_documents([]) \n"
        "heavy = ('torch', 'sentence_transformers', 'onnxruntime', 'transformers', 'tokenizers')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""


# ------------------------------------------------------------------------------- load failures are typed


def _fake_model_dir(path: Path, *, dimension: int = 384, pooling: str = "pooling_mode_mean_tokens") -> Path:
    (path / "1_Pooling").mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    flags = {
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    flags[pooling] = True
    (path / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": dimension, **flags}))
    return path


@pytest.mark.parametrize("cls", [SentenceTransformerEmbedder, OnnxInt8Embedder])
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing", "does not exist"),
        (lambda tmp: (tmp / "file.bin").write_bytes(b"x") and tmp / "file.bin", "not a directory"),
        (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "no config.json"),
    ],
    ids=["missing", "file", "no-config"],
)
def test_bad_model_path_is_a_model_error(tmp_path: Path, cls: type, make, message: str) -> None:
    path = make(tmp_path)
    emb = cls(path, cache_dir=tmp_path / "cache") if cls is OnnxInt8Embedder else cls(path)
    with pytest.raises(ModelError, match=message) as info:
        emb.warm_up()
    assert str(path) in info.value.message
    assert info.value.code == "model"


def test_onnx_refuses_a_pooling_it_cannot_reproduce(tmp_path: Path) -> None:
    model = _fake_model_dir(tmp_path / "m", pooling="pooling_mode_max_tokens")
    with pytest.raises(ModelError, match="pooling"):
        OnnxInt8Embedder(model, cache_dir=tmp_path / "cache").warm_up()
    assert not (tmp_path / "cache").exists()  # refused before any export work


# ------------------------------------------------------------------------------------------------ pooling

HIDDEN = np.array(
    [
        [[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]],  # third position is padding
        [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]],
    ],
    dtype=np.float32,
)
MASK = np.array([[1, 1, 0], [1, 1, 1]], dtype=np.int64)


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        (_pool_mean, [[2.0, 3.0], [2.0, 3.0]]),
        (_pool_cls, [[1.0, 2.0], [0.0, 1.0]]),
    ],
    ids=["mean-ignores-padding", "cls"],
)
def test_pooling(pool, expected) -> None:
    np.testing.assert_allclose(pool(HIDDEN, MASK), np.array(expected, dtype=np.float32))

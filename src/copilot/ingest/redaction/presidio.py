"""The Presidio adapter: ``PresidioRedactor`` implements the ``Redactor`` protocol.

Faster than stock Presidio because spaCy runs NER only (tagger, parser, lemmatizer excluded: our recognizers
score context themselves), texts go through ``nlp.pipe`` in batches, long texts are analysed in bounded
windows, and big batches fan out over worker processes.

Usage::

    redactor = PresidioRedactor(RedactionConfig())
    redactor.warm_up()                       # loads spaCy (seconds)
    redactor.redact("Pt J. SMITH, MRN 00123456").text   # '<PERSON>, MRN <MRN>'
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from copilot.errors import ModelError
from copilot.ingest.redaction.allowlist import DEFAULT_TERMS, OperationalAllowList
from copilot.ingest.redaction.engine import Window, apply, is_duration, plain_label, resolve, windows
from copilot.ingest.redaction.placeholders import PlaceholderTable, load_or_create_key
from copilot.ingest.redaction.registry import RedactionConfig, build_recognizers
from copilot.types import RedactionResult, RedactionSpan

logger = logging.getLogger(__name__)

LANGUAGE = "en"
_NER_ONLY_EXCLUDE = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]


@dataclass(frozen=True)
class DocumentReport:
    """What was redacted from one document: counts per entity type and distinct entities. No values."""

    chunks: int
    counts: dict[str, int]
    distinct: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"chunks": self.chunks, "counts": dict(self.counts), "distinct": dict(self.distinct)}


def _ner_only_engine_class() -> Any:
    """Built lazily so importing this module does not import spaCy."""
    import spacy
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class NerOnlySpacyNlpEngine(SpacyNlpEngine):
        """spaCy with only the NER component; lemmas are lower-cased tokens. Never downloads a model."""

        engine_name = "copilot_spacy_ner"

        def load(self) -> None:
            nlp: dict[str, Any] = {}
            for model in self.models:
                name = model["model_name"]
                if not (spacy.util.is_package(name) or Path(name).exists()):
                    raise ModelError(f"spaCy model {name!r} is not installed (downloads are disabled)")
                nlp[model["lang_code"]] = spacy.load(name, exclude=_NER_ONLY_EXCLUDE)
            self.nlp = nlp  # type: ignore[assignment]

        def _doc_to_nlp_artifact(self, doc: Any, language: str) -> Any:
            from presidio_analyzer.nlp_engine import NlpArtifacts
            from spacy.attrs import IDX, LOWER

            entities, scores = self._get_updated_entities(
                list(doc.ents), [float(self.ner_model_configuration.default_score or 0.85)] * len(doc.ents)
            )
            # Column arrays instead of one Token object per token (the hot spot on long texts).
            arr = doc.to_array([IDX, LOWER]) if len(doc) else None
            strings = doc.vocab.strings
            idx = arr[:, 0].tolist() if arr is not None else []
            lemmas = [strings[h] for h in arr[:, 1].tolist()] if arr is not None else []
            return NlpArtifacts(
                entities=entities,
                tokens=doc,
                tokens_indices=idx,
                lemmas=lemmas,
                nlp_engine=self,
                language=language,
                scores=scores,
            )

    return NerOnlySpacyNlpEngine


def nlp_configuration(model: str, engine_name: str = "spacy") -> dict[str, Any]:
    """The NlpEngineProvider configuration naming our (installed) spaCy model explicitly."""
    return {
        "nlp_engine_name": engine_name,
        "models": [{"lang_code": LANGUAGE, "model_name": model}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {
                "PERSON": "PERSON",
                "PER": "PERSON",
                "GPE": "LOCATION",
                "LOC": "LOCATION",
                "FAC": "LOCATION",
                "DATE": "DATE_TIME",
                "TIME": "DATE_TIME",
                "NORP": "NRP",
                "ORG": "ORGANIZATION",
            },
            "labels_to_ignore": [
                "ORG",
                "ORGANIZATION",
                "NORP",
                "NRP",
                "CARDINAL",
                "EVENT",
                "LANGUAGE",
                "LAW",
                "MONEY",
                "ORDINAL",
                "PERCENT",
                "PRODUCT",
                "QUANTITY",
                "WORK_OF_ART",
            ],
        },
    }


class PresidioRedactor:
    """Presidio AnalyzerEngine + healthcare recognizers + allow-list + typed placeholders."""

    def __init__(self, config: RedactionConfig | None = None, *, key_path: Path | None = None) -> None:
        self.config = config or RedactionConfig()
        self._key_path = key_path
        self._key: bytes | None = None
        self._analyzer: Any = None
        self._nlp_engine: Any = None
        self._allow = OperationalAllowList(terms=(*DEFAULT_TERMS, *self.config.allow_terms))
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load spaCy and build the analyzer (idempotent)."""
        with self._lock:
            if self._analyzer is not None:
                return
            from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
            from presidio_analyzer.nlp_engine import NlpEngineProvider

            engine_cls = _ner_only_engine_class()
            try:
                nlp_engine = NlpEngineProvider(
                    nlp_engines=(engine_cls,),
                    nlp_configuration=nlp_configuration(self.config.spacy_model, engine_cls.engine_name),
                ).create_engine()
            except OSError as exc:
                raise ModelError(f"spaCy model {self.config.spacy_model!r} failed to load") from exc
            registry = RecognizerRegistry(
                recognizers=build_recognizers(self.config), supported_languages=[LANGUAGE]
            )
            self._nlp_engine = nlp_engine
            self._analyzer = AnalyzerEngine(
                registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE]
            )

    def close(self) -> None:
        """Stop worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    # -- Redactor protocol -----------------------------------------------------------------------------------
    def redact(self, text: str) -> RedactionResult:
        return self.redact_batch([text])[0]

    def redact_batch(self, texts: Sequence[str]) -> list[RedactionResult]:
        spans = self.analyze_batch(texts)
        return [
            RedactionResult(apply(t, s, plain_label), tuple(s)) for t, s in zip(texts, spans, strict=True)
        ]

    def redact_document(self, texts: Sequence[str]) -> tuple[list[RedactionResult], DocumentReport]:
        """Redact the chunks of one document with numbered placeholders consistent across chunks."""
        table = PlaceholderTable(self._document_key())
        spans = self.analyze_batch(texts)
        results: list[RedactionResult] = []
        counts: dict[str, int] = {}
        for text, ss in zip(texts, spans, strict=True):
            red = apply(text, ss, lambda s, v: table.placeholder(s.entity_type, v))
            results.append(RedactionResult(red, tuple(ss)))
            for s in ss:
                counts[s.entity_type] = counts.get(s.entity_type, 0) + 1
        return results, DocumentReport(chunks=len(texts), counts=counts, distinct=table.distinct())

    # -- analysis --------------------------------------------------------------------------------------------
    def analyze_batch(self, texts: Sequence[str]) -> list[list[RedactionSpan]]:
        """Resolved, allow-list-filtered spans per text."""
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        raw: list[list[RedactionSpan]] = [[] for _ in texts]
        total = sum(len(t) for t in texts)
        cfg = self.config
        if cfg.workers > 1 and total >= cfg.parallel_min_chars:
            wins = windows(texts, cfg.window_chars, cfg.window_overlap)
            for idx, found in self._parallel(wins):
                raw[idx].extend(found)
        else:
            self.warm_up()
            for w, found in self._analyze_windows(windows(texts, cfg.window_chars, cfg.window_overlap)):
                raw[w.index].extend(found)
        return [self._postprocess(t, r) for t, r in zip(texts, raw, strict=True)]

    def _analyze_windows(self, wins: Iterator[Window]) -> Iterator[tuple[Window, list[RedactionSpan]]]:
        assert self._analyzer is not None
        thr = self.config.score_threshold
        pending: list[Window] = []

        def flush() -> Iterator[tuple[Window, list[RedactionSpan]]]:
            arts = self._nlp_engine.process_batch(
                [w.text for w in pending], LANGUAGE, batch_size=self.config.batch_size
            )
            for w, (_, art) in zip(pending, arts, strict=True):
                res = self._analyzer.analyze(
                    text=w.text, language=LANGUAGE, nlp_artifacts=art, score_threshold=thr
                )
                yield (
                    w,
                    [
                        RedactionSpan(r.start + w.offset, r.end + w.offset, r.entity_type, round(r.score, 3))
                        for r in res
                    ],
                )

        for w in wins:
            pending.append(w)
            if len(pending) >= self.config.batch_size:
                yield from flush()
                pending = []
        if pending:
            yield from flush()

    def _postprocess(self, text: str, spans: list[RedactionSpan]) -> list[RedactionSpan]:
        if not spans:
            return []
        allowed = self._allow.regions(text)
        kept: list[RedactionSpan] = []
        for s in spans:
            value = text[s.start : s.end]
            if not value.strip() or self._allow.is_identifier_label(value):
                continue
            if s.entity_type == "DATE_TIME" and is_duration(value):
                continue
            if any(a <= s.start and s.end <= b for a, b in allowed):
                continue
            if s.entity_type in {"PERSON", "LOCATION"} and any(
                a < s.end and s.start < b and _covers_words(text, s, a, b) for a, b in allowed
            ):
                continue
            kept.append(_trim(text, s))
        return resolve(kept)

    # -- parallelism -----------------------------------------------------------------------------------------
    def _parallel(self, wins: Iterator[Window]) -> Iterator[tuple[int, list[RedactionSpan]]]:
        if self._pool is None:
            import multiprocessing as mp

            # spawn: the parent may hold torch/OpenMP threads, which fork would copy half-initialised.
            self._pool = ProcessPoolExecutor(
                max_workers=self.config.workers,
                mp_context=mp.get_context("spawn"),
                initializer=_worker_init,
                initargs=(self.config,),
            )
        jobs: list[list[Window]] = []
        cur: list[Window] = []
        size = 0
        for w in wins:
            cur.append(w)
            size += len(w.text)
            if size >= 50_000:
                jobs.append(cur)
                cur, size = [], 0
        if cur:
            jobs.append(cur)
        for result in self._pool.map(_worker_run, jobs):
            yield from result

    def _document_key(self) -> bytes:
        if self._key is None:
            self._key = load_or_create_key(self._key_path) if self._key_path else os.urandom(32)
        return self._key


def _covers_words(text: str, s: RedactionSpan, a: int, b: int) -> bool:
    """A name/place span that is mostly an allow-listed term ("Baxter Healthcare") is not a person."""
    overlap = min(s.end, b) - max(s.start, a)
    return overlap * 2 >= (s.end - s.start)


def _trim(text: str, s: RedactionSpan) -> RedactionSpan:
    """Drop whitespace and trailing punctuation NER sometimes includes."""
    start, end = s.start, s.end
    while start < end and text[start] in " \t\r\n,;:\"'":
        start += 1
    while end > start and text[end - 1] in " \t\r\n,;:\"'":
        end -= 1
    return s if (start, end) == (s.start, s.end) else replace(s, start=start, end=end)


_WORKER: PresidioRedactor | None = None


def _worker_init(config: RedactionConfig) -> None:
    global _WORKER
    _WORKER = PresidioRedactor(replace(config, workers=1))
    _WORKER.warm_up()


def _worker_run(job: list[Window]) -> list[tuple[int, list[RedactionSpan]]]:
    assert _WORKER is not None
    return [(w.index, spans) for w, spans in _WORKER._analyze_windows(iter(job))]

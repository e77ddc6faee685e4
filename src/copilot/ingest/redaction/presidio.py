"""The Presidio adapter: ``PresidioRedactor`` implements the ``Redactor`` protocol.

Faster than stock Presidio because spaCy runs NER only (tagger, parser, lemmatizer excluded: our recognizers
score context themselves), texts go through ``nlp.pipe`` in batches, the recognizers are called directly
(no AnalyzerEngine deep copies or lemma context scan; libphonenumber's lenient scan is not in the US preset),
long texts are analysed in bounded windows, and big batches fan out over worker processes.

Better than stock because detections are post-processed: spaCy PERSON/LOCATION spans made only of ordinary
English words are dropped (headings, table headers), unlabelled dates are kept only when they can be a
patient's (see ``_patient_dates``), numbers spaCy calls dates are relabelled, and a bare number right after a
name in a table row is redacted as that person's ID.

Usage::

    redactor = PresidioRedactor(RedactionConfig())
    redactor.warm_up()                       # loads spaCy (seconds)
    redactor.redact("Pt J. SMITH, MRN 00123456").text   # '<PERSON>, MRN <MRN>'
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from copilot.errors import ModelError, UnavailableError
from copilot.ingest.redaction import clinical
from copilot.ingest.redaction.allowlist import DEFAULT_TERMS, OperationalAllowList, SiteNames
from copilot.ingest.redaction.engine import Window, apply, is_duration, plain_label, resolve, windows
from copilot.ingest.redaction.names import (
    _key,
    census_first_share,
    census_last_share,
    is_common_word,
    load_census_names,
    sentence_start,
    top_surnames,
)
from copilot.ingest.redaction.placeholders import PlaceholderTable, load_or_create_key
from copilot.ingest.redaction.places import _CUED_SCORE as _PLACE_CUE
from copilot.ingest.redaction.places import english_word_not_placed, is_place, is_region, placed
from copilot.ingest.redaction.recognizers.address import STREET_SUFFIXES
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


def _with_numpy_gemm(nlp: Any) -> Any:
    """The pipeline's layers multiply matrices through numpy (OpenBLAS) instead of thinc's default ``blis``.

    The same products to float rounding, and about 1.5x faster for the NER model's shapes on the 2-core x86
    machines we measure on (``bench/redact.py``: spaCy's share of a short-ticket batch 2.9 s -> 1.8 s, the
    same entities on every text) — with OpenBLAS on one thread (``_one_blas_thread``): these matrices are too
    small to share, and on a busy machine two threads were as slow as blis.
    """
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops
    return nlp


_BLAS: Any = None


def _one_blas_thread() -> Any:
    """A context in which OpenBLAS runs on the calling thread only (about 15 µs to enter and leave)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()  # after spaCy's load: numpy's OpenBLAS is in the process by now
    return _BLAS.limit(limits=1, user_api="blas")


def _ner_only_engine_class() -> Any:
    """Built lazily so importing this module does not import spaCy."""
    import spacy
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class NerOnlySpacyNlpEngine(SpacyNlpEngine):
        """spaCy with only the NER component. Never downloads a model."""

        engine_name = "copilot_spacy_ner"

        def load(self) -> None:
            nlp: dict[str, Any] = {}
            for model in self.models:
                name = model["model_name"]
                if not (spacy.util.is_package(name) or Path(name).exists()):
                    raise ModelError(f"spaCy model {name!r} is not installed (downloads are disabled)")
                nlp[model["lang_code"]] = _with_numpy_gemm(spacy.load(name, exclude=_NER_ONLY_EXCLUDE))
            self.nlp = nlp  # type: ignore[assignment]

        def process_batch(  # type: ignore[override]
            self, texts: Sequence[str], language: str, batch_size: int = 1, n_process: int = 1, as_tuples: bool = False
        ) -> Iterator[tuple[str, Any]]:
            """Presidio's version yields ``doc.text``, which rebuilds every string token by token (~9% of the
            time on long texts); the caller's own strings are the same text."""
            with _one_blas_thread():
                docs = list(self.nlp[language].pipe(texts, batch_size=batch_size))  # type: ignore[index]
            for text, doc in zip(texts, docs, strict=True):
                yield text, self._doc_to_nlp_artifact(doc, language)

        def _doc_to_nlp_artifact(self, doc: Any, language: str) -> Any:
            """Entities only. No recognizer we run reads tokens, lemmas or keywords (context words are scored
            on the raw text in ``_run_recognizers``), and Presidio's keyword pass alone (a stop-word lookup per
            token) cost 4% of the time on short texts."""
            from presidio_analyzer.nlp_engine import NlpArtifacts

            entities, scores = self._get_updated_entities(
                list(doc.ents), [float(self.ner_model_configuration.default_score or 0.85)] * len(doc.ents)
            )
            return NlpArtifacts(
                entities=entities,
                tokens=doc,
                tokens_indices=[],
                lemmas=[],
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
        self._recognizers: list[tuple[Any, tuple[str, ...], tuple[str, ...]]] = []
        self._nlp_engine: Any = None
        self._allow = OperationalAllowList(terms=(*DEFAULT_TERMS, *self.config.allow_terms))
        self._sites = SiteNames(self.config.site_names)
        self._pool: ProcessPoolExecutor | None = None
        self.worker_pids: frozenset[int] = frozenset()  # the workers that answered start_workers
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load spaCy and build the analyzer (idempotent); an offloading redactor starts its workers instead."""
        if self.config.offload:
            self.start_workers()
            return
        with self._lock:
            if self._analyzer is not None:
                return
            from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
            from presidio_analyzer.nlp_engine import NlpEngineProvider

            clinical.warm()

            engine_cls = _ner_only_engine_class()
            try:
                nlp_engine = NlpEngineProvider(
                    nlp_engines=(engine_cls,),
                    nlp_configuration=nlp_configuration(self.config.spacy_model, engine_cls.engine_name),
                ).create_engine()
            except OSError as exc:
                raise ModelError(f"spaCy model {self.config.spacy_model!r} failed to load") from exc
            registry = RecognizerRegistry(recognizers=build_recognizers(self.config), supported_languages=[LANGUAGE])
            self._nlp_engine = nlp_engine
            self._recognizers = [
                (rec, tuple(rec.supported_entities), tuple(w.lower() for w in (rec.context or ())))
                for rec in registry.recognizers
            ]
            # Kept for callers that want Presidio's own API (its context enhancer sees no lemmas: ours scores
            # context itself); the hot path calls the recognizers directly.
            self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE])

    def close(self) -> None:
        """Stop worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    # -- Redactor protocol -----------------------------------------------------------------------------------
    def redact(self, text: str, profile: str | None = None) -> RedactionResult:
        return self.redact_batch([text], profile)[0]

    def redact_batch(self, texts: Sequence[str], profile: str | None = None) -> list[RedactionResult]:
        spans = self.analyze_batch(texts, profile)
        return [RedactionResult(apply(t, s, plain_label), tuple(s)) for t, s in zip(texts, spans, strict=True)]

    def redact_document(
        self, texts: Sequence[str], doc_type: str | None = None
    ) -> tuple[list[RedactionResult], DocumentReport]:
        """Redact the chunks of one document with numbered placeholders consistent across chunks.

        ``doc_type`` (the source's metadata: ``sop``, ``contract``, ``incident_report``...) picks the profile
        when it implies one; otherwise the configured profile applies (``auto``: decided per text).
        """
        table = PlaceholderTable(self._document_key())
        hinted = clinical.profile_for_doc_type(doc_type)
        spans = self.analyze_batch(texts, hinted if hinted != "auto" else None)
        results: list[RedactionResult] = []
        counts: dict[str, int] = {}
        for text, ss in zip(texts, spans, strict=True):
            red = apply(text, ss, lambda s, v: table.placeholder(s.entity_type, v))
            results.append(RedactionResult(red, tuple(ss)))
            for s in ss:
                counts[s.entity_type] = counts.get(s.entity_type, 0) + 1
        return results, DocumentReport(chunks=len(texts), counts=counts, distinct=table.distinct())

    # -- analysis --------------------------------------------------------------------------------------------
    def analyze_batch(self, texts: Sequence[str], profile: str | None = None) -> list[list[RedactionSpan]]:
        """Resolved, allow-list-filtered spans per text.

        ``profile``: ``clinical``, ``operational`` or ``auto`` (each text decides, see ``clinical.text_kind``);
        None takes the configured one.
        """
        profile = profile or self.config.profile
        if profile not in clinical.PROFILES:
            raise ValueError(f"profile must be one of {clinical.PROFILES}, not {profile!r}")
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        # The kind of each text, decided once: it picks the recognizers that run and the post-processing.
        kinds = [clinical.resolve_profile(t, profile) for t in texts]
        raw: list[list[Detection]] = [[] for _ in texts]
        total = sum(len(t) for t in texts)
        cfg = self.config
        if cfg.offload and total == 0:
            return [[] for _ in texts]  # nothing to find; an offloading redactor never loads spaCy here
        if (cfg.workers > 1 and total >= cfg.parallel_min_chars) or cfg.offload:
            # Texts that fit one window come back post-processed from the workers; longer ones are resolved
            # here, where all their windows meet.
            done: dict[int, list[RedactionSpan]] = {}
            for idx, found in self._parallel_retrying(texts, total, kinds):
                if isinstance(found, _Resolved):
                    done[idx] = found.spans
                else:
                    raw[idx].extend(found)
            return [
                done[i] if i in done else self._postprocess(t, r, kinds[i])
                for i, (t, r) in enumerate(zip(texts, raw, strict=True))
            ]
        self.warm_up()
        for w, found in self._analyze_windows(windows(texts, cfg.window_chars, cfg.window_overlap), kinds):
            raw[w.index].extend(found)
        return [self._postprocess(t, r, k) for t, r, k in zip(texts, raw, kinds, strict=True)]

    def _analyze_windows(
        self, wins: Iterator[Window], kinds: Sequence[str] | dict[int, str]
    ) -> Iterator[tuple[Window, list[Detection]]]:
        assert self._analyzer is not None
        thr = self.config.score_threshold
        pending: list[Window] = []

        def flush() -> Iterator[tuple[Window, list[Detection]]]:
            arts = self._nlp_engine.process_batch(
                [w.text for w in pending], LANGUAGE, batch_size=self.config.batch_size
            )
            for w, (_, art) in zip(pending, arts, strict=True):
                yield w, self._run_recognizers(w, art, thr, kinds[w.index])

        for w in wins:
            pending.append(w)
            if len(pending) >= self.config.batch_size:
                yield from flush()
                pending = []
        if pending:
            yield from flush()

    def _run_recognizers(self, w: Window, art: Any, thr: float, kind: str = "general") -> list[Detection]:
        """Every recognizer of the text's kind on one window, without AnalyzerEngine's per-result deep copies and
        lemma scan (an SOP skips the clinical-only recognizers whose findings its profile would drop).

        Presidio's own pattern recognizers (SSN, passport, ...) carry context words that lift weak matches;
        we apply the same lift (+0.35) when one of them occurs in the 60 characters before the match.
        """
        text = w.text
        lowered: str | None = None
        out: list[Detection] = []
        for rec, ents, ctx in self._recognizers:
            if kind not in clinical.RUNS_IN.get(rec.name, clinical.KINDS):
                continue
            try:
                res = rec.analyze(text=text, entities=list(ents), nlp_artifacts=art)
            except TimeoutError:
                logger.warning("recognizer %s timed out on a %d-char window", rec.name, len(text))
                continue
            for r in res or ():
                score = r.score
                if score < thr and ctx:
                    if lowered is None:
                        lowered = text.lower()
                    before = lowered[max(0, r.start - 60) : r.start]
                    if any(c in before for c in ctx):
                        score = min(1.0, score + 0.35)
                if score < thr:
                    continue
                out.append(
                    (
                        RedactionSpan(r.start + w.offset, r.end + w.offset, r.entity_type, round(score, 3)),
                        rec.name,
                    )
                )
        return out

    def _postprocess(self, text: str, found: list[Detection], kind: str | None = None) -> list[RedactionSpan]:
        """Resolved spans of one text from its raw detections; ``kind`` (clinical, operational, general) is
        decided from the text when not given."""
        sites = self._sites.regions(text)
        if not found and not sites:
            return []
        kind = kind or clinical.text_kind(text)[0]
        if sites and kind != "operational":
            # the organisation's own site in clinical (or undecided) text says where a patient was: a place
            found = [*found, *((RedactionSpan(a, b, "LOCATION", 0.8), _SITES) for a, b in sites)]
        found = _by_profile(text, found, kind)
        allowed = _Intervals([*self._allow.regions(text), *(sites if kind == "operational" else ())])
        kept: list[RedactionSpan] = []
        dates: list[tuple[RedactionSpan, str]] = []
        spacy_people: list[int] = []
        for s, src in _split_lines(text, found):
            value = text[s.start : s.end]
            if not value.strip() or self._allow.is_identifier_label(value):
                continue
            if s.entity_type == "DATE_TIME" and is_duration(value):
                continue
            near = allowed.overlapping(s.start, s.end)
            inside_allowed = any(a <= s.start and s.end <= b for a, b in near)
            if inside_allowed and not (s.entity_type in _LABELLED_IDS and s.score >= 0.9):
                continue
            if s.entity_type in {"PERSON", "LOCATION"} and near:
                if _allowed_share(s, near) * 2 >= s.end - s.start:
                    continue  # mostly allow-listed: "Baxter Healthcare", "WO-587895 Zoll R Series"
                if src == _SPACY and any(a <= s.start < b for a, b in near):
                    continue  # a product named after its maker: "Hillrom Centrella", "Baxter Clearlink IV"
            if s.entity_type in {"PERSON", "LOCATION"} and (
                _MODEL_CODE.match(text, s.end) or _MODEL_CODE_AT_END.search(value.rstrip())
            ):
                continue  # a product and its model code: "Aeris V800", "Calvera PCA-2", "Medirion IP-7"
            if src == _SPACY and s.entity_type == "PERSON":
                if _DIGIT.search(value.split(maxsplit=1)[0]):
                    # "31195 Piazza Rezzonico 35": an address spaCy calls a person; keep it covered.
                    kept.append(replace(_trim(text, s), entity_type="LOCATION", score=0.5))
                    continue
                s = _cut_at_digits(text, s)  # "Barbara Yudina Apt. 675": the name ends before the address
                if s.end - s.start < 2:
                    continue
                value = text[s.start : s.end]
                if is_place(value) and not self._census_name(value):
                    if kind == "operational" and english_word_not_placed(text, s.start, s.end):
                        continue  # "| Lead | BME Technician II |": no census name, and uncued no town either
                    s = replace(s, entity_type="LOCATION")  # "Porto Alegre"
            if (
                src == _SPACY
                and s.entity_type in {"PERSON", "LOCATION"}
                and not (s.entity_type == "LOCATION" and is_place(value))
                and not self._could_be_name(value)
            ):
                continue
            if s.entity_type == "PHONE_NUMBER" and _ISO_DATE.search(value):
                continue  # "2.0 2024-06-01" in a revision table
            if s.entity_type == "DATE_TIME" and s.score < 1.0 and src != _CLINICAL_DATES:
                dates.append((s, src))
                continue
            if src == _SPACY and s.entity_type == "PERSON":
                spacy_people.append(len(kept))
            kept.append(_trim(text, s))
        if spacy_people:
            # spaCy's PERSON on a street or town our address/place recognizers found: the address names it.
            who = set(spacy_people)
            addr = _Intervals(
                [(k.start, k.end) for i, k in enumerate(kept) if i not in who and k.entity_type == "STREET_ADDRESS"]
            )
            for i in spacy_people:
                k = kept[i]
                if addr.overlapping(k.start, k.end):
                    kept[i] = replace(k, score=0.5)
        if dates:
            kept.extend(self._patient_dates(text, dates, kept, strict=kind != "operational"))
        kept.extend(_ids_beside_names(text, kept, allowed))
        return resolve(kept)

    @staticmethod
    def _census_name(value: str) -> bool:
        """Any word of ``value`` is a census first name or surname ("Victoria", "Jackson")."""
        first, last = load_census_names()
        return any(w.upper() in first or w.upper() in last for w in _WORD.findall(value))

    def _could_be_name(self, value: str) -> bool:
        """spaCy's small model calls headings and table headers people ("Alarm", "Supplier", "Rest Breaks").

        A span is a name candidate unless every word is an ordinary English word that is no census name.
        """
        words = [w for w in _WORD.findall(value)]
        if not words or sum(len(w) for w in words) <= 2:
            return False
        first, _last = load_census_names()
        top_last = top_surnames()
        for w in words:
            up = w.upper()
            if not is_common_word(w):
                return True
            if w[:1].isupper() and (up in first or up in top_last):
                return True
        return False

    def _patient_dates(
        self, text: str, dates: list[tuple[RedactionSpan, str]], kept: list[RedactionSpan], strict: bool = True
    ) -> list[RedactionSpan]:
        """Unlabelled dates stay only when they can be a patient's: Safe Harbor covers dates tied to a person.

        Dropped: weekdays, times and relative expressions, bare years (Safe Harbor keeps years),
        document-control and operational dates ("Effective date 2026-03-01", "Next review", revision
        tables), and partial dates ("March") with no person nearby. Full calendar dates otherwise stay (fail
        closed) unless ``strict`` is off (the operational profile: an SOP's or service report's dates are
        deadlines, "will be replaced by 28 February 2026", and stay readable unless a person is near). Numbers
        spaCy calls dates ("0490 75 40 81") lose the label: beside an address they are postal codes.
        """
        people = _Intervals([(k.start, k.end) for k in kept if k.entity_type in _PERSON_TYPES])

        def near_person(start: int, end: int) -> bool:
            if not strict:
                # An operational document names staff beside its dates (sign-offs, test logs): only a
                # patient near the date makes it a patient's.
                return bool(_PATIENT_ONLY.search(text, max(0, start - 120), min(len(text), end + 60)))
            if _PATIENT_WORDS.search(text, max(0, start - 120), min(len(text), end + 60)):
                return True
            return bool(people.overlapping(start - 150, end + 150))

        places = _Intervals([(k.start, k.end) for k in kept if k.entity_type in {"LOCATION", "STREET_ADDRESS"}])
        out: list[RedactionSpan] = []
        for s, _src in dates:
            value = text[s.start : s.end]
            if not _HAS_DATE_ELEMENT.search(value):
                if not _DIGIT.search(value):
                    continue
                if places.overlapping(s.start - 40, s.end + 40):
                    out.append(replace(_trim(text, s), entity_type="LOCATION", score=0.5))  # a postal code
                elif near_person(s.start, s.end):
                    out.append(replace(_trim(text, s), score=0.35))  # not a date: other detectors name it
                continue
            if _YEAR_ONLY.match(value.strip()) or _TIME_ONLY.match(value.strip()):
                continue
            if (
                _DOC_CONTROL.search(text, max(0, s.start - 60), s.start)
                or _VERSION_BEFORE.search(text[max(0, s.start - 12) : s.start])
                or _VERSION_BEFORE.match(value)
            ):
                continue
            if not ((strict and _FULL_DATE.search(value)) or near_person(s.start, s.end)):
                continue
            out.append(_trim(text, s))
        return out

    # -- parallelism -----------------------------------------------------------------------------------------
    def start_workers(self) -> None:
        """Start every worker process now and wait until each has loaded spaCy and answered (idempotent).

        ProcessPoolExecutor spawns a process per submitted task only while none is idle, so a small first batch
        would start one worker and leave the second to start (seconds of spaCy loading) inside a later batch.
        """
        with self._lock:
            if self._pool is None:
                self._start_pool()

    def _start_pool(self) -> None:
        import multiprocessing as mp

        # spawn: the parent may hold torch/OpenMP threads, which fork would copy half-initialised.
        self._pool = ProcessPoolExecutor(
            max_workers=self.config.workers,
            mp_context=mp.get_context("spawn"),
            initializer=_worker_init,
            initargs=(self.config, os.getpid()),
        )
        # Wait until every process has answered: one that finished loading first would otherwise take every
        # ping while the others are still loading spaCy.
        seen: set[int] = set()
        deadline = time.monotonic() + 300
        while len(seen) < self.config.workers and time.monotonic() < deadline:
            pings = [self._pool.submit(_worker_ping, 0.2) for _ in range(self.config.workers)]
            seen |= {f.result() for f in pings}
        self.worker_pids = frozenset(seen)

    def _parallel_retrying(
        self, texts: list[str], total_chars: int, kinds: Sequence[str]
    ) -> list[tuple[int, list[Detection] | _Resolved]]:
        """:meth:`_parallel` on fresh workers once more if a worker died (killed, out of memory); a second death
        is a typed :class:`UnavailableError` — never a text let through unredacted."""
        cfg = self.config
        for attempt in (1, 2):
            try:
                return list(self._parallel(windows(texts, cfg.window_chars, cfg.window_overlap), total_chars, kinds))
            except BrokenProcessPool:
                logger.warning("a redaction worker died (attempt %d); starting fresh workers", attempt)
                with self._lock:
                    if self._pool is not None:
                        self._pool.shutdown(wait=False, cancel_futures=True)
                        self._pool = None
        raise UnavailableError("the redaction workers died twice on this batch", code="redaction_unavailable")

    def _parallel(
        self, wins: Iterator[Window], total_chars: int, kinds: Sequence[str]
    ) -> Iterator[tuple[int, list[Detection] | _Resolved]]:
        """Fan windows out over the workers in jobs, at most ``2 x workers`` jobs in flight, results in order.

        Jobs are small enough that both workers get several (balance) and large enough that pickling and
        queueing stay negligible; the in-flight cap keeps a 10 MB text from being copied into the queue whole.
        """
        self.start_workers()
        assert self._pool is not None
        workers = self.config.workers
        job_chars = max(5_000, min(50_000, total_chars // (workers * 4)))
        in_flight: deque[Future[list[tuple[int, list[Detection] | _Resolved]]]] = deque()

        def jobs() -> Iterator[list[Window]]:
            cur: list[Window] = []
            size = 0
            for w in wins:
                cur.append(w)
                size += len(w.text)
                if size >= job_chars:
                    yield cur
                    cur, size = [], 0
            if cur:
                yield cur

        for job in jobs():
            in_flight.append(self._pool.submit(_worker_run, job, {w.index: kinds[w.index] for w in job}))
            if len(in_flight) >= 2 * workers:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()

    def _document_key(self) -> bytes:
        if self._key is None:
            self._key = load_or_create_key(self._key_path) if self._key_path else os.urandom(32)
        return self._key


Detection = tuple[RedactionSpan, str]
"""A span and the name of the recognizer that found it."""

_SPACY = "SpacyRecognizer"
_SITES = "SiteNames"
_CLINICAL_DATES = "ClinicalDateRecognizer"
_GUARDED = frozenset({"PERSON", "LOCATION", "STREET_ADDRESS"})
# A name right before the kind of thing it names is an eponym, not a person, in an SOP or a service report:
# "Bowie-Dick test", "Trendelenburg position", "Yankauer sucker", "Venturi mask", "Allen test" (the head in
# lower case only: "Anna Lee, Line Manager" is a person with a title). See :func:`_eponym`.
_EPONYM_HEAD = re.compile(
    r"(?:-[A-Z][a-z]+)?[ -](?:tests?|scale|score|position|procedure|method|criteria|classification|syndrome|"
    r"sign|manoeuvre|maneuver|technique|line|catheter|tube|mask|valve|forceps|clamp|retractor|needle|stain|"
    r"solution|equation|formula|index|sucker|suction|splint|traction|frame|bag|bottle|strip|indicator)\b"
)


def _by_profile(text: str, found: list[Detection], kind: str) -> list[Detection]:
    """What each profile keeps of the raw detections.

    Operational: nothing of the clinical-only recognizers (shorthand dates, ward and hospital names: an SOP's
    "3/15" is a deadline and "North Campus" a site). Clinical: spaCy dates only when complete (the clinical date
    recognizer finds the partial ones; spaCy's others are mostly times and vitals), no name, place or address
    made only of clinical vocabulary ("PRBC", "Kayexalate", "Foley", "700 RR 18") unless a cue named it, no
    spaCy person without a known name, no address without a street word. General (no evidence either way):
    everything, the strict union.
    """
    if kind == "operational":
        return [
            (s, src)
            for s, src in found
            if src not in clinical.CLINICAL_ONLY
            and not (src == _SPACY and s.entity_type in _GUARDED and _vocabulary_only(text[s.start : s.end]))
            and not _operational_word(text, s, src)
            and not (s.entity_type in ("PERSON", "LOCATION") and _eponym(text, s))
        ]
    if kind == "general":
        return found  # no evidence either way: keep what every profile finds (strict)
    out: list[Detection] = []
    letters = sum(ch.isalpha() for ch in text[:5000])
    mixed_case = letters > 0 and sum(ch.islower() for ch in text[:5000]) >= 0.3 * letters
    for s, src in found:
        value = text[s.start : s.end]
        if src == _SPACY and s.entity_type == "DATE_TIME":
            full = _FULL_DATE.search(value)
            if full is None or not _valid_numeric_date(text, s.start + full.start(), s.start + full.end()):
                continue  # times, durations and vitals; the clinical date recognizer finds the partial dates
        # A gazetteer place after a strong place cue ("lives in Framingham") even when Philter lists the word.
        cued = src in clinical.CUED or (
            src == _PLACES
            and is_place(value)
            and (
                # "lives in Framingham"; not "IN PROGRESS", "IN ENGLISH"
                (s.score >= _PLACE_CUED_SCORE and not any(clinical.ordinary_word(w) for w in value.split()))
                # "son works in Annapolis": a capital mid-sentence in mixed-case text names the place
                or (mixed_case and value[:1].isupper() and not value.isupper() and not sentence_start(text, s.start))
            )
        )
        if s.entity_type in _GUARDED and not cued and clinical.all_clinical_words(value):
            continue
        if src in (_SPACY, _NAMES) and s.entity_type == "PERSON":
            s = _trim_clinical_words(text, s)  # "BEED STARTED", "gaven demerol": the name, not the verb or drug
            value = text[s.start : s.end]
            if s.end - s.start < 2:
                continue
        if src == _SPACY and s.entity_type == "PERSON" and not clinical.has_known_name(value, min_len=4):
            continue  # "TOMMORROW", "liqs", "gu-qsuo": misspellings and shorthand spaCy calls people
        if src == _NAMES and clinical.all_not_names(value):
            continue  # "Neice", "EDEMETOUS": misspelt clinical words the name rules took for surnames
        if s.entity_type == "LOCATION" and is_region(value.strip(" .,;:")) and src != _SITES:
            continue  # "son from TEXAS", "wife called from Bermuda": Safe Harbor keeps states and countries
        if src == _SPACY and s.entity_type == "LOCATION" and not is_place(value):
            continue  # "CAREVUE", "5O% FIO2": the facility recognizer names hospitals and wards
        if src == _PLACES and (len(value) <= 4 or text[s.end : s.end + 1].isdigit()):
            continue  # "PaCo2", "LIS", "MERL": short towns of the gazetteer are shorthand here
        if s.entity_type == "STREET_ADDRESS" and not _STREET_WORD.search(value):
            continue  # "700 RR 18", "75 YO SPANIH SPEAKING FEMALE": numbers before words are vitals here
        if s.entity_type == "DATE_TIME" and not _valid_numeric_date(text, s.start, s.end):
            continue
        out.append((s, src))
    return out


# A part or model number: letters and digits in hyphen-joined groups ("CD5-BAT-LI", "KX-22B").
_CODE_TOKEN = re.compile(r"(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]+(?:-[A-Z0-9]+)+")
_ACRONYM = re.compile(r"[A-Z]{2,4}")
_MIXED_GROUP = re.compile(r"(?<![^-])(?=[A-Z]*\d)(?=\d*[A-Z])[A-Z0-9]+(?![^-])")  # "TS3", "CD5", "660X"
_AGENT_SUFFIXES = (("er", ""), ("r", ""), ("or", ""), ("or", "e"), ("ee", ""), ("ee", "e"))


def _role_noun(word: str) -> bool:
    """A noun for whoever does something, made from a common English word ("Approver", "Requester", "Assignee",
    "Validator"), that no census list knows as a name: rare in wordfreq, but a role, not a person."""
    if not word.isalpha() or len(word) < 6:
        return False
    first, last = load_census_names()
    if _key(word) in first or _key(word) in last:
        return False  # "Hiller", "Fowler": surnames built the same way
    w = word.lower()
    return any(
        w.endswith(suffix) and len(w) - len(suffix) >= 4 and is_common_word(w[: len(w) - len(suffix)] + tail)
        for suffix, tail in _AGENT_SUFFIXES
    )


def _operational_word(text: str, s: RedactionSpan, src: str) -> bool:
    """What an SOP, a contract or a service report writes that spaCy or the gazetteer takes for a person, a place
    or a date: an English word with no place cue ("Earth 0.08 ohm" in a table cell), a part or serial number
    ("Battery (part CD5-BAT-LI)", "Serial number TS3-19-07781"), an acronym of two to four capitals that some town
    shares ("the business associate agreement (BAA)", "NUR (Nursing)") with no place cue before it, a role noun in
    a table ("| Document type | Approver |")."""
    if src == _SPACY and s.entity_type == "LOCATION" and english_word_not_placed(text, s.start, s.end):
        return True
    value = text[s.start : s.end].strip(" .,;:()")
    if src == _SPACY and s.entity_type in ("PERSON", "LOCATION") and _CODE_TOKEN.fullmatch(value):
        return True
    if src == _SPACY and s.entity_type == "DATE_TIME" and _CODE_TOKEN.fullmatch(value) and _MIXED_GROUP.search(value):
        return True  # "Serial number TS3-19-07781": no date glues letters to its digits
    if src == _PLACES and _ACRONYM.fullmatch(value) and not placed(text, s.start, s.end):
        return True
    return src == _SPACY and s.entity_type == "PERSON" and _role_noun(value)


def _eponym(text: str, s: RedactionSpan) -> bool:
    """One name (one word, maybe hyphenated: "Bowie-Dick", "Trendelenburg") right before the kind of thing it
    names. A person's full name before "test" ("Maria Gonzalez test results") is two words and stays redacted."""
    value = text[s.start : s.end]
    return bool(value) and not any(ch.isspace() for ch in value) and _EPONYM_HEAD.match(text, s.end) is not None


def _vocabulary_only(value: str) -> bool:
    """spaCy's person or place in an SOP, a contract or a service report whose every word (before an asset tag or
    a part number) is a word of the clinical vocabulary, singular or plural, that is not mostly a first name, and
    that no gazetteer knows as a place: a heading, a table cell or a piece of equipment ("Sharps Handling",
    "Cytotoxic medicines", "Daily checks", "Bariatric wheelchair", "Defibrillator BME-DEF-0112"), not a
    technician's or a patient's name ("Tomasz Nowak", "Dolores Whitfield")."""
    head = []
    for token in value.split():
        if _DIGIT.search(token):
            break  # "Defibrillator BME-DEF-0112": the words before an asset tag or a part number
        head.append(token)
    words = [w for w in _WORD.findall(" ".join(head) if head else value) if len(w) > 1]
    if not words or is_place(value.strip(" .,;:")):
        return False
    return all(clinical.is_clinical_word(w) or (w[-1:] in "sS" and clinical.is_clinical_word(w[:-1])) for w in words)


_EDGE_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def _trim_clinical_words(text: str, s: RedactionSpan) -> RedactionSpan:
    """A person from spaCy or the name rules in clinical text, without the ordinary and clinical words at its
    edges that are no census name ("gaven demerol" -> "gaven", "BEED STARTED" -> "BEED"), down to one word: a
    lone word is for the other guards to judge ("son Buddy" is a nickname). "Mary Foley" and "Gloria Neo" stay
    whole (a surname, or a capitalised word after a first name)."""
    words = list(_EDGE_WORD.finditer(text, s.start, s.end))

    def dropped(w: str) -> bool:
        if len(w) < 3:
            return False  # an initial ("C. Smith") or a short particle ("de", "Le") belongs to the name
        if _key(w) in census_last_share() or _key(w) in census_first_share():
            return False  # "Stone", "Green", "Foley": surnames that are words too
        return clinical.ordinary_word(w) or clinical.is_clinical_word(w)

    while len(words) > 1 and dropped(words[-1].group()):
        if (
            _key(words[-2].group()) in census_first_share()
            and (words[-1].group()[1:].islower() or not clinical.ordinary_word(words[-1].group()))
            and words[-1].group()[:1].isupper()
        ):
            break  # "Gloria Neo": a capitalised word after a first name is its surname, even a vocabulary word
        words.pop()
    while len(words) > 1 and dropped(words[0].group()):
        words.pop(0)
    if not words:
        return s
    return replace(s, start=words[0].start(), end=words[-1].end())


_NAMES = "NameRecognizer"
_PLACES = "PlaceRecognizer"
_PLACE_CUED_SCORE = _PLACE_CUE  # the place recognizer's score after a strong cue ("lives in Framingham")
# The address recognizer's street suffixes less those that in notes are people and verbs as often as streets
# ("Dr", "Hill", "Park", "Walk", "Run") and its short abbreviations ("Pl", "Ter", "Cir", "Sq"): "5 Orchard Row"
# and "12 Elm Close" name streets as surely as "Elm Street" does.
_NOT_STREET_IN_NOTES = frozenset({"Dr", "Hill", "Park", "Walk", "Run", "Pl", "Ter", "Cir", "Sq"})
_STREET_WORD = re.compile(
    r"\b(?:"
    + "|".join(w for w in STREET_SUFFIXES if w not in _NOT_STREET_IN_NOTES)
    + r"|apt|apartment|suite|box)\b\.?",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(r"^\d{1,4}(?P<sep>[-/.])\d{1,2}(?:(?P=sep)\d{1,4})?$")
_DATE_RANGE = re.compile(r"^(?P<first>\d{1,2}/\d{1,2})\s?-\s?(?P<last>\d{1,2}/\d{1,2})$")
_MONTH_YEAR = re.compile(r"^(?:1[0-2]|0?[1-9])/(?:19|20)\d\d$")
_DAY_RANGE = re.compile(r"^(?P<first>\d{1,2}/(?P<day>\d{1,2}))-(?P<last>\d{1,2})$")


def _valid_numeric_date(text: str, start: int, end: int) -> bool:
    """A digits-only "date" must read as one: one separator kind, a month and a day in range, a 2- or 4-digit
    year, and not a link of a chain of slashed values ("ABG 7.43/36/306", "CO/CI 5.4/2.8/1348")."""
    value = text[start:end].strip()
    m = _NUMERIC_DATE.match(value)
    lead = start + (len(text[start:end]) - len(text[start:end].lstrip()))  # where ``value`` starts in ``text``
    if m is None and (r := _DATE_RANGE.match(value)) is not None:  # "10/15-10/16": both ends must be dates
        return _valid_numeric_date(text, lead, lead + r.end("first")) and _valid_numeric_date(
            text, lead + r.start("last"), end
        )
    if m is None and (d := _DAY_RANGE.match(value)) is not None:  # "7/1-3": a date, then a later day
        month = int(d.group("first").split("/")[0])  # "7/1-3"; not "30/10-13" (a pressure and its range)
        return (
            month <= 12
            and int(d.group("last")) > int(d.group("day"))
            and _valid_numeric_date(text, lead, lead + d.end("first"))
        )
    chained = bool(
        re.search(r"(?:/|\d\.)$", text[max(0, start - 2) : start]) or re.match(r"[/.]\d|\s?%", text[end : end + 2])
    )
    if m is None and _MONTH_YEAR.match(value):  # "MI 3/2009"
        return not chained
    if m is None:
        return not re.fullmatch(r"[\d\s./:-]+", value)  # words ("March 3") are judged elsewhere
    if chained:
        return False
    parts = [int(p) for p in re.split(r"[-/.]", value)]
    if len(value.split(m.group("sep"))[0]) == 4:
        _y, a, *rest = parts
        return 1 <= a <= 12 and all(1 <= d <= 31 for d in rest)
    a, b, *rest = parts
    if not rest and 1 <= a <= 12 and m.group("sep") == "/" and 32 <= b <= 99:
        return True  # a month and its year: "CABG 1/78"
    if not (1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)):
        return False
    if rest:
        year = value.split(m.group("sep"))[2]
        return len(year) == 2 or (len(year) == 4 and 1900 <= rest[0] <= 2100)
    return m.group("sep") != "."  # "7.45" is a value, not 7 May

_LABELLED_IDS = frozenset({"HEALTH_PLAN_ID", "PATIENT_ID", "MRN", "EMPLOYEE_ID", "US_DRIVER_LICENSE"})
_PERSON_TYPES = frozenset(
    {
        "PERSON",
        "MRN",
        "PATIENT_ID",
        "HEALTH_PLAN_ID",
        "US_SSN",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "AGE",
        "STREET_ADDRESS",
        "EMPLOYEE_ID",
    }
)
_WORD = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")
# A model designation right after a word: capitals and digits, maybe hyphenated ("V800", "IP-7", "SF-660").
_MODEL_CODE = re.compile(r"[ \t]+(?=[A-Z0-9-]*\d)[A-Z]{1,4}-?\d{1,5}[A-Z]?\b")
_MODEL_CODE_AT_END = re.compile(r"\S[ \t]+(?=[A-Z0-9-]*\d)[A-Z]{1,4}-?\d{1,5}[A-Z]?$")  # "Aeris T200" as one span
_PATIENT_WORDS = re.compile(
    r"\b(?:patient|pt|resident|dob|d\.o\.b|mrn|admitted|admission|discharged?|born|deceased|"
    r"died|birth|birthday|my|me|i|he|she|his|her|him|mr|mrs|ms|name)\b",
    re.IGNORECASE,
)
_PATIENT_ONLY = re.compile(
    r"\b(?:patient|patients|pt|dob|d\.o\.b|mrn|admitted|admission|discharged?|born|deceased|died|birth|birthday)\b",
    re.IGNORECASE,
)
_MONTHS = r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"

_HAS_DATE_ELEMENT = re.compile(
    rf"\b(?:{_MONTHS})[a-z]*\.?\b|\b\d{{1,4}}[-/.]\d{{1,2}}(?:[-/.]\d{{1,4}})?\b|\b\d{{1,2}}:\d{{2}}\b"
    r"|\b(?:1[89]|20)\d{2}\b|\b\d{1,2}(?:st|nd|rd|th)\b",
    re.IGNORECASE,
)
_TIME_ONLY = re.compile(
    r"^(?:the\s|at\s|by\s)?(?:hours\s)?\d{1,2}:\d{2}(?:\s?(?:am|pm|h))?(?:\s(?:to|and|-|–)\s\d{1,2}:\d{2})?\W*$",
    re.IGNORECASE,
)
_VERSION_BEFORE = re.compile(r"(?:^|\s|\|)\d{1,2}\.\d{1,2}\s?\|?\s?$|^\d{1,2}\.\d{1,2}\s")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FULL_DATE = re.compile(
    rf"\b\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s(?:{_MONTHS})|(?:{_MONTHS})[a-z]*\.?\s\d{{1,2}}\b",
    re.IGNORECASE,
)
_YEAR_ONLY = re.compile(r"^(?:in\s|the\s|year\s)?(?:1[89]|20)\d{2}s?$", re.IGNORECASE)
_DOC_CONTROL = re.compile(
    r"\b(?:effective|review|reviewed|revised|revision|rev|version|issued?|approved|updated|valid|validity|"
    r"expir\w*|due|next|last|calibrat\w*|install\w*|purchased?|warranty|contract|term|commenc\w*|"
    r"publish\w*|supersed\w*|retire\w*|audit\w*|schedule\w*|planned|completed|delivered|ordered|"
    r"received|manufactured|lot|batch|pm|inspection|tested|test|signed|amendment|director|manager|president|"
    r"officer|owner|tender|notice|renew\w*)\b",
    re.IGNORECASE,
)


class _Intervals:
    """Sorted (start, end) pairs with overlap queries in O(log n + hits): a 10 MB text has ~10^5 of them."""

    def __init__(self, pairs: list[tuple[int, int]]) -> None:
        self._pairs = sorted(pairs)
        self._starts = [a for a, _ in self._pairs]
        self._longest = max((b - a for a, b in self._pairs), default=0)

    def overlapping(self, start: int, end: int) -> list[tuple[int, int]]:
        lo = bisect.bisect_left(self._starts, start - self._longest)
        hi = bisect.bisect_left(self._starts, end)
        return [(a, b) for a, b in self._pairs[lo:hi] if a < end and start < b]


def _split_lines(text: str, found: list[Detection]) -> Iterator[Detection]:
    """spaCy PERSON spans run over line breaks into the next line of an address block ("Ida Fronia\nal.").

    Each line becomes its own span; lines after the first keep a low score, so an address or place detected
    there names those characters, and they stay covered (fail closed) when nothing else claims them.
    """
    for s, src in found:
        if src != _SPACY or s.entity_type != "PERSON" or "\n" not in text[s.start : s.end]:
            yield s, src
            continue
        pos = s.start
        for i, line in enumerate(text[s.start : s.end].split("\n")):
            if line.strip():
                yield replace(s, start=pos, end=pos + len(line), score=s.score if i == 0 else 0.45), src
            pos += len(line) + 1


_DIGIT_TOKEN = re.compile(r"\s+(?:\S*\d|Apt\b|Suite\b|Unit\b)")


def _cut_at_digits(text: str, s: RedactionSpan) -> RedactionSpan:
    """Names hold no digits: end a spaCy PERSON span before its first token with a digit (or Apt/Suite)."""
    m = _DIGIT_TOKEN.search(text, s.start, s.end)
    if m is None:
        return s
    return replace(s, end=m.start())


_BARE_ID = re.compile(r"(?<![\w.,/-])\d{6,10}(?![\w.,/-])")


def _ids_beside_names(text: str, kept: list[RedactionSpan], allowed: _Intervals) -> list[RedactionSpan]:
    """A bare 6-10 digit number right after a person's name on the same line is that person's number.

    Table rows lose their "MRN" header ("| Grace Adebayo-Hill | 00598871 | 1990-09-30 |").
    """
    out: list[RedactionSpan] = []
    for k in kept:
        if k.entity_type != "PERSON":
            continue
        m = _BARE_ID.search(text, k.end, min(len(text), k.end + 12))
        if m is None or "\n" in text[k.end : m.start()]:
            continue
        if any(a <= m.start() and m.end() <= b for a, b in allowed.overlapping(m.start(), m.end())):
            continue
        out.append(RedactionSpan(m.start(), m.end(), "PATIENT_ID", 0.6))
    return out


def _allowed_share(s: RedactionSpan, regions: list[tuple[int, int]]) -> int:
    """Characters of ``s`` inside allow-listed regions (regions may overlap each other; counted once)."""
    covered = 0
    pos = s.start
    for a, b in sorted(regions):
        a, b = max(a, pos), min(b, s.end)
        if b > a:
            covered += b - a
            pos = b
    return covered


def _trim(text: str, s: RedactionSpan) -> RedactionSpan:
    """Drop whitespace and trailing punctuation NER sometimes includes."""
    start, end = s.start, s.end
    while start < end and text[start] in " \t\r\n,;:\"'":
        start += 1
    while end > start and text[end - 1] in " \t\r\n,;:\"'":
        end -= 1
    return s if (start, end) == (s.start, s.end) else replace(s, start=start, end=end)


_WORKER: PresidioRedactor | None = None


def _worker_init(config: RedactionConfig, parent: int) -> None:
    global _WORKER
    _exit_with_parent(parent)  # the parent's own pid: it may already be gone while this worker imports spaCy
    _WORKER = PresidioRedactor(replace(config, workers=1, offload=False))
    _WORKER.warm_up()


def _exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """End this worker when the process that started it is gone (killed without a clean shutdown): an idle
    worker blocks on its task queue forever and would otherwise keep ~0.5 GB of spaCy alive as an orphan."""

    def watch() -> None:
        while True:
            time.sleep(every_s)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _worker_ping(seconds: float) -> int:
    """Keeps a worker busy briefly so that ``start_workers`` makes the pool spawn every process."""
    time.sleep(seconds)
    return os.getpid()


@dataclass(frozen=True)
class _Resolved:
    """A worker's final spans for a text it saw whole (post-processing done there, off the parent's core)."""

    spans: list[RedactionSpan]


def _worker_run(job: list[Window], kinds: dict[int, str]) -> list[tuple[int, list[Detection] | _Resolved]]:
    assert _WORKER is not None
    return [
        (w.index, _Resolved(_WORKER._postprocess(w.text, found, kinds[w.index])) if w.whole else found)
        for w, found in _WORKER._analyze_windows(iter(job), kinds)
    ]

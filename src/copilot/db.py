"""Database plumbing shared by the manifest, audit log, approvals and users.

SQLite file in the data dir by default, PostgreSQL via ``COPILOT_DATABASE_URL``. The schema is owned by Alembic
(``copilot/migrations``); :func:`migrate` brings a database to head and is called by ``build_copilot``.

Usage::

    engine = make_engine("sqlite:///.copilot/copilot.db")
    migrate(engine)
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    """Declarative base for every Copilot table; Alembic migrations are the source of truth for DDL."""


def make_engine(url: str) -> Engine:
    """Create an engine. SQLite gets WAL mode, a busy timeout and foreign keys, so that several processes
    (server, CLI, concurrent audit writers) can share the file safely."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` with Alembic."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # several processes (API replicas, ingestion workers) may start at once on a fresh database: one
            # migrates, the others wait for its transaction and then find the schema at head
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7120403)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

"""Shared integration fixtures: a scratch schema on the real PostgreSQL server, the real redactor."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from copilot.db import make_engine
from fixtures.pg import PG_URL


@pytest.fixture(scope="module")
def pg_schema() -> Iterator[str]:
    """A fresh schema for this module, dropped afterwards.

    The PostgreSQL code paths must be tested for real, so an unreachable server fails the run (CI starts it in
    ``.ci/run``). The one skip is an explicit opt-out for a laptop without PostgreSQL: ``COPILOT_TEST_NO_PG=1``.
    """
    admin = make_engine(PG_URL)
    try:
        with admin.connect():
            pass
    except OperationalError:
        if os.environ.get("COPILOT_TEST_NO_PG") == "1":
            pytest.skip("COPILOT_TEST_NO_PG=1: PostgreSQL tests opted out explicitly")
        pytest.fail(f"PostgreSQL not reachable at {PG_URL} (set COPILOT_TEST_NO_PG=1 to opt out)")
    schema = f"copilot_t_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(scope="session")
def redactor() -> Any:
    """The real redactor, spaCy loaded once for every integration test that needs it."""
    from copilot.ingest.redaction import PresidioRedactor, RedactionConfig

    red = PresidioRedactor(RedactionConfig(workers=1))
    red.warm_up()
    return red

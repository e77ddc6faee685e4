"""Property-based run of the OpenAPI schema (schemathesis, bounded examples): no input makes the service 500.
Runs as the admin, so every route is reached past auth. Operations are driven one by one with Hypothesis
(the schemathesis pytest plugin's lazy fixtures do not load under this pytest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from test_api_service import Service, build_service

pytestmark = pytest.mark.unit

MAX_EXAMPLES = 12


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Any:
    s = build_service(tmp_path_factory.mktemp("schema"))
    yield s
    s.cp.close()


def test_no_generated_input_makes_the_service_fail(api: Service, tmp_path: Path) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    failures: list[str] = []
    seen: list[str] = []

    def check(case: Any) -> None:
        if case.path == "/v1/ingest" and case.method.upper() == "POST":
            case.body = {"path": str(tmp_path)}  # generated paths must not ingest arbitrary folders
        response = case.call(headers=api.h("ada.admin"))
        seen.append(f"{case.method.upper()} {case.path}")
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.path} -> {response.status_code} {response.text[:200]}")

    for op in operations:
        run = given(case=op.as_strategy())(check)
        settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                 database=None)(run)()
    assert not failures, failures
    assert len(set(seen)) == len(operations)

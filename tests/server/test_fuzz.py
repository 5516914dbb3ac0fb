"""Schemathesis against /openapi.json on a real server: whatever it sends, never a 5xx.

Bounded (a few examples per operation, SQLite only) so the suite stays quick; the
storage-specific behaviour is covered on both backends by the other modules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from pedigree.server import ServerSettings, create_app, tokens
from pedigree.store import Ledger
from tests.server.conftest import LiveServer, seed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    ledger, _ = Ledger.init(tmp_path_factory.mktemp("fuzz") / "store")
    try:
        seed(ledger)
        token, _ = tokens.create(ledger, role="admin", name="fuzzer")
        app = create_app(ledger, settings=ServerSettings(max_body_bytes=64 * 1024))
        with LiveServer(app) as live, requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            yield {"url": live.url, "session": session}
    finally:
        ledger.close()


def _fuzz(operation: Any, mode: GenerationMode, session: Any, failures: list[str]) -> None:
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=4,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(session=session, timeout=30)
        where = f"{case.method} {case.formatted_path} ({mode.value})"
        if response.status_code >= 500:
            failures.append(f"{where} -> {response.status_code}: {response.text[:300]}")
        elif response.status_code >= 400:
            assert isinstance(response.json()["detail"], str), where

    with contextlib.suppress(Unsatisfiable):  # nothing to get wrong: no parameters, no body
        check()


def test_no_input_makes_a_server_error(fuzz_server: dict[str, Any]) -> None:
    """Every operation, with data that fits its schema and data that does not."""
    schema = schemathesis.openapi.from_url(fuzz_server["url"] + "/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, fuzz_server["session"], failures)
    assert not failures, "\n".join(failures[:10])

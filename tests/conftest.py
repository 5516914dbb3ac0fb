"""Shared fixtures: a fresh ledger on real SQLite and on the real PostgreSQL server.

PostgreSQL tests use a schema of their own in the ``test`` database (dropped after).
When the server is unreachable they skip on a developer machine and fail under
``CI=true``, so CI can never pass without exercising PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pedigree.store import Ledger
from tests.roundtrips import RoundTrips, skip_unless_traceable

PG_BASE = os.environ.get("PEDIGREE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def require(condition: bool, message: str, what: str = "these tests") -> None:
    """Skip (developer machine) or fail (``CI=true``) when a prerequisite is missing."""
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: {what} must run)")
    pytest.skip(message)


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(PG_BASE, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@pytest.fixture(scope="session")
def postgres() -> str:
    """The base URL of the PostgreSQL server, or skip/fail when it is unreachable."""
    problem = _pg_reachable()
    require(
        problem is None, f"PostgreSQL at {PG_BASE} is unreachable: {problem}", "PostgreSQL tests"
    )
    return PG_BASE


@pytest.fixture
def pg_url(postgres: str) -> Iterator[str]:
    """A URL whose search_path is a fresh, empty schema."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres else "?"
    yield f"{postgres}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def store_args(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str | None]:
    """``store`` and ``database_url`` for a fresh store on each backend."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    return {"store": str(tmp_path / "store"), "database_url": url}


@pytest.fixture
def ledger(store_args: dict[str, str | None]) -> Iterator[Ledger]:
    led, created = Ledger.init(store_args["store"], store_args["database_url"], actor="tester")
    assert created
    try:
        yield led
    finally:
        led.close()


@pytest.fixture
def traced(pg_url: str, tmp_path: Path) -> Iterator[tuple[Ledger, RoundTrips]]:
    """A fresh PostgreSQL ledger whose round trips to the server are counted."""
    skip_unless_traceable()
    led, _ = Ledger.init(str(tmp_path / "store"), pg_url, actor="tester")
    trips = RoundTrips(led, tmp_path)
    try:
        yield led, trips
    finally:
        trips.close()
        led.close()


@pytest.fixture
def captured(ledger: Ledger) -> Iterator[Ledger]:
    """The capture SDK (``pedigree.run``…) records into the test's ledger."""
    from pedigree.capture import delivery

    delivery.configure(ledger=ledger)
    try:
        yield ledger
    finally:
        delivery.reset()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never pick up a developer's store or database from the environment."""
    for name in ("PEDIGREE_HOME", "PEDIGREE_DATABASE_URL", "PEDIGREE_ACTOR", "PEDIGREE_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)

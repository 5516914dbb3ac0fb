"""Round trips to PostgreSQL per append: every read of a write transaction goes with the
others in one, its writes and the ``COMMIT`` in another (see ``engine._one_pipeline``); a
pooled connection is pinged first only when it sat idle (``engine._ping_when_idle``).
Counted from libpq's own trace of what was sent, so a change that adds a wait fails here
rather than only in a benchmark."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Connection

from pedigree.errors import StoreError
from pedigree.model import Agent, Annotation, DatasetVersion, Run, Target
from pedigree.store import Ledger, engine
from tests.roundtrips import RoundTrips

pytestmark = pytest.mark.postgres


def test_an_append_waits_for_the_server_twice(
    traced: tuple[Ledger, RoundTrips], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, trips = traced
    source = DatasetVersion(name="raw", version="v1")
    ledger.append_many([source, Agent(agent_id="svc", kind="service")])
    note = Annotation(target=Target(type="version", name="raw", version="v1"), kind="tag")
    run = Run(
        run_id=uuid.uuid4(),
        job="etl",
        kind="transform",
        status="completed",
        inputs=[source.io("source")],
        agents=[{"agent": "svc"}],
    )
    for body, key in ((note, None), (run, None), (Annotation(target=note.target, kind="x"), "k1")):
        with trips.counting() as made:
            ledger.append_many([body], idempotency_keys=[key])
        # BEGIN, the lock and every read; the writes and the COMMIT
        assert made == [2], (body, made)

    with trips.counting() as made:  # (a batch small enough to be pipelined)
        ledger.append_many([DatasetVersion(name="raw", version=f"v{n}") for n in range(2, 12)])
    assert made == [2]

    monkeypatch.setattr(engine, "PING_IDLE_AFTER", 0.0)  # (every connection has sat idle)
    with trips.counting() as made:
        ledger.append_many([DatasetVersion(name="raw", version="v12")])
    assert made == [3]  # the ping first


def test_a_connection_cut_while_idle_in_the_pool_is_replaced_before_use(
    pg_url: str, tmp_path: Path
) -> None:
    """The server ends the pooled connection (as a restart would): the next append, once
    the connection has sat idle, pings it, finds it cut, and opens a new one."""
    ledger, _ = Ledger.init(str(tmp_path / "store"), pg_url, actor="tester")
    try:
        ledger.append_many([DatasetVersion(name="raw", version="v1")])
        assert ledger.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
        with ledger.engine.connect() as conn:  # (the one the append used, back in the pool)
            pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        with psycopg.connect(_libpq(pg_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(engine.PING_IDLE_AFTER + 0.1)
        ledger.append_many([DatasetVersion(name="raw", version="v2")])
        assert ledger.size == 2 and ledger.audit().ok
    finally:
        ledger.close()


def test_a_connection_that_broke_in_use_is_never_handed_out_again(
    pg_url: str, tmp_path: Path
) -> None:
    """A connection cut during a transaction fails that append (nothing written); the
    next one, however soon, gets a sound connection."""
    ledger, _ = Ledger.init(str(tmp_path / "store"), pg_url, actor="tester")
    try:
        ledger.append_many([DatasetVersion(name="raw", version="v1")])

        def cut(conn: Connection) -> list[DatasetVersion]:
            pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
            with psycopg.connect(_libpq(pg_url), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            return [DatasetVersion(name="raw", version="lost")]

        with pytest.raises(StoreError):
            ledger.append_derived(cut)
        ledger.append_many([DatasetVersion(name="raw", version="v2")])  # (at once)
        assert ledger.size == 2 and ledger.audit().ok
    finally:
        ledger.close()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")

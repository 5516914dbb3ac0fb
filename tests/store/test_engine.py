"""Engine helpers: pipelined writes (PostgreSQL) and bulk inserts, on both backends."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError

from pedigree.errors import StoreError
from pedigree.model import DatasetVersion
from pedigree.store import Ledger
from pedigree.store import schema as t
from pedigree.store.engine import (
    COPY_FROM_ROWS,
    Prepared,
    bulk_insert,
    db_errors,
    listed,
    pipelined,
    together,
    write_transaction,
)


def version(n: int) -> DatasetVersion:
    return DatasetVersion(namespace="pg://db", name=f"t{n}", version=f"v{n}")


def nodes(first: int, count: int) -> list[dict[str, object]]:
    return [
        {"level": 30, "idx": i, "hash": bytes([i % 256]) * 32} for i in range(first, first + count)
    ]


@pytest.mark.parametrize("count", [3, COPY_FROM_ROWS + 5])
def test_pipelined_writes_land_in_order_small_and_large(ledger: Ledger, count: int) -> None:
    """Inside ``pipelined`` a bulk insert of any size (no COPY on PostgreSQL) is written,
    and a read after the block sees it."""
    with write_transaction(ledger.engine) as conn:
        with pipelined(conn):
            bulk_insert(conn, t.merkle_nodes, nodes(0, count))
            bulk_insert(conn, t.merkle_nodes, nodes(count, 2))
        stored = conn.execute(
            select(t.merkle_nodes.c.idx).where(t.merkle_nodes.c.level == 30)
        ).scalars()
        assert sorted(stored) == list(range(count + 2))


def test_a_failed_pipelined_write_is_a_dbapi_error_and_nothing_is_kept(ledger: Ledger) -> None:
    """A duplicate key inside the block is reported as SQLAlchemy's ``DBAPIError`` (which
    ``db_errors`` turns into a one-line ``StoreError``), and the transaction rolls back."""
    with pytest.raises(DBAPIError), write_transaction(ledger.engine) as conn, pipelined(conn):
        bulk_insert(conn, t.merkle_nodes, nodes(0, 2))
        bulk_insert(conn, t.merkle_nodes, nodes(1, 1))  # (30, 1) twice
    with ledger.engine.connect() as conn:
        left = conn.execute(select(t.merkle_nodes.c.idx).where(t.merkle_nodes.c.level == 30))
        assert left.all() == []


def test_appends_small_and_large_audit_and_read_back(ledger: Ledger) -> None:
    """Appends of one record, a few and a batch keep one verifiable log."""
    ledger.append(version(0))
    ledger.append_many([version(n) for n in range(1, 4)])
    ledger.append_many([version(n) for n in range(4, 4 + COPY_FROM_ROWS + 10)])
    ledger.append(version(0))  # the same version again: nothing new
    assert ledger.size == 4 + COPY_FROM_ROWS + 10
    assert ledger.audit().ok
    assert ledger.reindex() == ledger.size
    shown = ledger.show(f"pg://db:t{COPY_FROM_ROWS}@v{COPY_FROM_ROWS}")
    assert shown.current is not None and len(shown.history) == 1


ODD_TEXT = [
    "plain",
    "",
    "é ü ß",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🚀",
    "quote ' \" \\ back\\slash",
    "x'); DROP TABLE edges; --",
]


@pytest.mark.parametrize("count", [2, 7])
def test_small_bulk_inserts_keep_every_value_and_the_rows_order(ledger: Ledger, count: int) -> None:
    """A few rows at once (one JSON parameter on PostgreSQL, executemany on SQLite) keep
    every value as given: NULLs, odd text, any bytes, large integers; an autoincrement
    key numbers them in the order given."""
    edges = [
        {
            "src": 2**62 + i,
            "dst": i,
            "kind": "used",
            "role": ODD_TEXT[i % len(ODD_TEXT)] if i % 3 else None,
            "run_node_id": None if i % 2 else i,
            "seq_from": i,
            "seq_to": None,
        }
        for i in range(count)
    ]
    blobs = [bytes(range(256)), b"", b"\\x00", b'"\\', bytes([0] * 5), b"\xff" * 3, b"ok"]
    hashes = [{"level": 31, "idx": i, "hash": blobs[i % len(blobs)]} for i in range(count)]
    with write_transaction(ledger.engine) as conn:
        bulk_insert(conn, t.edges, edges)
        with pipelined(conn):
            bulk_insert(conn, t.merkle_nodes, hashes)
    with ledger.engine.connect() as conn:
        stored = conn.execute(select(t.edges).order_by(t.edges.c.id)).mappings().all()
        kept = conn.execute(
            select(t.merkle_nodes.c.idx, t.merkle_nodes.c.hash)
            .where(t.merkle_nodes.c.level == 31)
            .order_by(t.merkle_nodes.c.idx)
        ).all()
    assert [{k: v for k, v in row.items() if k != "id"} for row in stored] == edges
    assert [row["src"] for row in stored] == [e["src"] for e in edges]  # (ids in order)
    assert [(row.idx, row.hash) for row in kept] == [(h["idx"], h["hash"]) for h in hashes]


def test_a_small_bulk_insert_of_text_the_driver_refuses_keeps_nothing(ledger: Ledger) -> None:
    """Text that cannot be encoded (a lone surrogate) fails the insert as before, with
    nothing kept."""
    rows = [{"key": f"k{i}", "seq": i, "digest": b"d"} for i in range(3)]
    rows[1]["key"] = "bad \ud800"
    with pytest.raises((DBAPIError, UnicodeError)), write_transaction(ledger.engine) as conn:
        bulk_insert(conn, t.idempotency_keys, rows)
    with ledger.engine.connect() as conn:
        assert conn.execute(select(t.idempotency_keys)).all() == []


def test_a_store_error_names_the_failure_not_a_traceback(ledger: Ledger) -> None:
    with (
        pytest.raises(StoreError, match="cannot use the store"),
        db_errors("here"),
        write_transaction(ledger.engine) as conn,
        pipelined(conn),
    ):
        bulk_insert(conn, t.merkle_nodes, nodes(0, 1))
        bulk_insert(conn, t.merkle_nodes, nodes(0, 1))


def test_driver_run_writes_fail_as_dbapi_errors_and_keep_nothing(ledger: Ledger) -> None:
    """Outside a pipeline too, a statement run on the driver's cursor (``bulk_insert``, a
    ``Prepared`` write) fails as SQLAlchemy's ``DBAPIError``, and the append rolls back."""
    with pytest.raises(DBAPIError), write_transaction(ledger.engine) as conn:
        bulk_insert(conn, t.merkle_nodes, nodes(0, 2))
        bulk_insert(conn, t.merkle_nodes, nodes(1, 1))
    with pytest.raises(DBAPIError), write_transaction(ledger.engine) as conn:
        bulk_insert(conn, t.merkle_nodes, nodes(5, 2))
        _MOVE.many(conn, [{"old": 5, "new": 7}, {"old": 6, "new": 7}])  # (30, 7) twice
    with ledger.engine.connect() as conn:
        left = conn.execute(select(t.merkle_nodes.c.idx).where(t.merkle_nodes.c.level == 30))
        assert left.all() == []


_MOVE = Prepared(
    lambda dialect: (
        t.merkle_nodes.update()
        .where(t.merkle_nodes.c.level == 30, t.merkle_nodes.c.idx == bindparam("old"))
        .values(level=30, idx=bindparam("new"))
    )
)


def test_a_locked_sqlite_store_is_a_one_line_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write lock is taken on the driver's connection (``BEGIN IMMEDIATE``); when
    another process holds it past the busy timeout, the append fails in one line."""
    from pedigree.store import engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    ledger, _ = Ledger.init(str(tmp_path / "s"), None, actor="tester")
    holder = sqlite3.connect(tmp_path / "s" / "pedigree.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="database is locked"):
            ledger.append(version(1))
        holder.execute("ROLLBACK")
        ledger.append(version(1))
        assert ledger.size == 1 and ledger.audit().ok
    finally:
        holder.close()
        ledger.close()


def test_a_write_that_may_not_wait_for_the_sqlite_lock_fails_at_once_and_keeps_nothing(
    tmp_path: Path,
) -> None:
    """``wait=False`` (the server's event loop): while another process holds the write
    lock, ``WriteLockBusy`` at once, nothing written; the connection goes back to the pool
    with its usual busy timeout, so a later write waits for the lock as before."""
    import time

    from pedigree.errors import WriteLockBusy

    ledger, _ = Ledger.init(str(tmp_path / "s"), None, actor="tester")
    holder = sqlite3.connect(
        tmp_path / "s" / "pedigree.db", isolation_level=None, check_same_thread=False
    )
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(WriteLockBusy):
            ledger.append_derived(lambda conn: [version(1)], wait=False)
        assert time.monotonic() - started < 1
        with ledger.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60_000
        threading.Timer(0.3, holder.rollback).start()
        ledger.append_derived(lambda conn: [version(2)])  # (waits for the lock)
        assert ledger.size == 1 and ledger.audit().ok
        ledger.append_derived(lambda conn: [version(3)], wait=False)  # (free: at once)
        assert ledger.size == 2
    finally:
        holder.close()
        ledger.close()


def test_the_postgresql_pool_is_sized_from_the_environment(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pedigree.store.engine import MAX_OVERFLOW_ENV, POOL_SIZE_ENV, make_engine

    monkeypatch.setenv(POOL_SIZE_ENV, "3")
    monkeypatch.setenv(MAX_OVERFLOW_ENV, "0")
    engine = make_engine(pg_url)
    try:
        held = [engine.connect() for _ in range(3)]
        assert engine.pool.size() == 3 and engine.pool.checkedout() == 3
        for conn in held:
            conn.close()
    finally:
        engine.dispose()


@pytest.mark.parametrize("value", ["zero", "0", "-2", "1001", "2.5"])
def test_a_bad_pool_size_is_a_one_line_store_error(
    pg_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from pedigree.store.engine import POOL_SIZE_ENV

    monkeypatch.setenv(POOL_SIZE_ENV, value)
    with pytest.raises(
        StoreError, match=rf"\$PEDIGREE_DATABASE_POOL_SIZE must be .* not '{value}'"
    ):
        Ledger.init(str(tmp_path), pg_url, actor="tester")


NAMES = ["plain", "quote's", 'dq"x', "ünïcødé 表", "'); DROP TABLE datasets; --", "%s ? :x"]

_BY_NAME = Prepared(
    lambda dialect: (
        select(t.datasets.c.id, t.datasets.c.name)
        .where(listed(t.datasets.c.name, dialect, name="names"), t.datasets.c.kind == "dataset")
        .order_by(t.datasets.c.id)
    )
)
_BY_ID = Prepared(
    lambda dialect: select(t.datasets.c.name).where(listed(t.datasets.c.id, dialect, name="ids"))
)


def test_prepared_lookups_take_whole_lists_as_one_parameter(ledger: Ledger) -> None:
    """``Prepared`` + ``listed``: the same rows as an ``IN`` list, for any list (empty,
    strange strings, ids), on both backends; nothing in a value is read as SQL, and values
    written into the statement (``kind == "dataset"``) are bound too."""
    ledger.append_many([DatasetVersion(name=name, version="1") for name in NAMES])
    with ledger.engine.connect() as conn:
        everything = {r.name: r.id for r in conn.execute(select(t.datasets))}
        assert set(everything) == set(NAMES)
        for wanted in ([], NAMES[:1], NAMES, [*NAMES[2:], "absent"]):
            rows = _BY_NAME(conn, names=wanted).all()
            assert [r.name for r in rows] == [n for n in NAMES if n in wanted]
            assert all(r.id == everything[r.name] for r in rows)
        ids = [everything[NAMES[1]], everything[NAMES[4]], 10**12]
        assert sorted(r.name for r in _BY_ID(conn, ids=ids)) == sorted([NAMES[1], NAMES[4]])
        assert _BY_ID(conn, ids=ids).all() == _BY_ID(conn, ids=ids).all()  # (compiled once)


_RENAME = Prepared(
    lambda dialect: (
        t.datasets.update()
        .where(t.datasets.c.name == bindparam("old"))
        .values(name=bindparam("new"))
    )
)


def test_together_answers_each_statement_in_order_inside_and_outside_a_transaction(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``together`` gives what each statement alone would, in order, inside a write
    transaction (one pipeline on PostgreSQL) and outside one; a statement sees what the
    ones before it did; a failing one is a ``DBAPIError`` and nothing is kept."""
    from pedigree.store import engine

    ledger.append_many([DatasetVersion(name=name, version="1") for name in NAMES])
    pipelines: list[int] = []
    real = engine.pipelined
    monkeypatch.setattr(
        engine, "pipelined", lambda conn, **k: pipelines.append(1) or real(conn, **k)
    )
    with ledger.engine.connect() as conn:
        ids = [r.id for r in _BY_NAME(conn, names=NAMES)]
    with ledger.engine.connect() as conn:  # (no transaction yet: each alone)
        outside = together(conn, (_BY_NAME, {"names": NAMES[:2]}), (_BY_ID, {"ids": ids[3:]}))
    assert [[tuple(r) for r in rows] for rows in outside] == [
        list(zip(ids[:2], NAMES[:2], strict=True)),
        [(name,) for name in NAMES[3:]],
    ]
    assert pipelines == []
    with write_transaction(ledger.engine) as conn:
        inside = together(
            conn,
            (_BY_NAME, {"names": NAMES[:2]}),
            (_BY_ID, {"ids": ids[3:]}),
            (_RENAME, {"old": NAMES[0], "new": "renamed"}),
            (_BY_NAME, {"names": [NAMES[0], "renamed"]}),
            (_BY_ID, {"ids": []}),
        )
    assert inside[:2] == outside
    assert inside[2:] == [[], [(ids[0], "renamed")], []]
    assert len(pipelines) == (1 if ledger.engine.dialect.name == "postgresql" else 0)
    with pytest.raises(DBAPIError), write_transaction(ledger.engine) as conn:
        together(
            conn,
            (_RENAME, {"old": NAMES[1], "new": "gone"}),
            (_RENAME, {"old": NAMES[2], "new": NAMES[3]}),  # (a name taken)
            (_BY_ID, {"ids": ids}),
        )
    with ledger.engine.connect() as conn:
        assert {r.name for r in _BY_ID(conn, ids=ids)} == {"renamed", *NAMES[1:]}


_LEVEL = Prepared(
    lambda dialect: (
        select(t.merkle_nodes.c.idx)
        .where(t.merkle_nodes.c.level == bindparam("level"))
        .order_by(t.merkle_nodes.c.idx)
    )
)


def _stored(ledger: Ledger) -> list[int]:
    with ledger.engine.connect() as conn:
        return [row.idx for row in _LEVEL(conn, level=30)]


def test_a_pipelined_transaction_reads_what_it_wrote_every_way(ledger: Ledger) -> None:
    """In a write transaction run as one pipeline (PostgreSQL; elsewhere an ordinary
    one), every way of reading answers with what the transaction wrote before it: a
    ``Prepared`` select, ``together``, ``Prepared.deferred`` (answered as of when it ran)
    and SQLAlchemy's own ``execute``; everything commits at the end."""
    with write_transaction(ledger.engine, pipeline=True) as conn:
        bulk_insert(conn, t.merkle_nodes, nodes(0, 3))
        earlier = _LEVEL.deferred(conn, level=30)
        bulk_insert(conn, t.merkle_nodes, nodes(3, 1))
        assert [row.idx for row in _LEVEL(conn, level=30)] == [0, 1, 2, 3]
        assert [row.idx for row in earlier()] == [0, 1, 2]
        bulk_insert(conn, t.merkle_nodes, nodes(4, COPY_FROM_ROWS))  # (no COPY in a pipeline)
        (rows,) = together(conn, (_LEVEL, {"level": 30}))
        assert len(rows) == 4 + COPY_FROM_ROWS
        by_sqlalchemy = conn.execute(
            select(t.merkle_nodes.c.idx).where(t.merkle_nodes.c.level == 30)
        ).scalars()
        assert sorted(by_sqlalchemy) == list(range(4 + COPY_FROM_ROWS))
        late = _LEVEL.deferred(conn, level=30)  # (nothing read after it: its call waits)
        assert len(late()) == 4 + COPY_FROM_ROWS
    assert _stored(ledger) == list(range(4 + COPY_FROM_ROWS))


def test_a_failed_pipelined_transaction_keeps_nothing_and_its_connection_serves_again(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    """A statement failing in a pipelined transaction (reported at its end, or at the next
    read, or by SQLAlchemy's execute) and an exception raised between statements all roll
    back everything; every pooled connection is then out of autocommit mode and idle, and
    the next append works. The failure is raised, not logged a second time as the
    pipeline's abort."""
    caplog.set_level(logging.WARNING)
    duplicate = nodes(1, 1)  # (30, 1) again
    with pytest.raises(DBAPIError), write_transaction(ledger.engine, pipeline=True) as conn:
        bulk_insert(conn, t.merkle_nodes, nodes(0, 2))
        bulk_insert(conn, t.merkle_nodes, duplicate)  # (its answer comes at the end)
    with pytest.raises(DBAPIError), write_transaction(ledger.engine, pipeline=True) as conn:
        bulk_insert(conn, t.merkle_nodes, nodes(0, 2))
        bulk_insert(conn, t.merkle_nodes, duplicate)
        _LEVEL(conn, level=30)  # (the read reports the failed write)
    with pytest.raises(DBAPIError), write_transaction(ledger.engine, pipeline=True) as conn:
        bulk_insert(conn, t.merkle_nodes, nodes(0, 2))
        conn.execute(t.merkle_nodes.insert(), duplicate)
    with pytest.raises(ZeroDivisionError), write_transaction(ledger.engine, pipeline=True) as conn:
        bulk_insert(conn, t.merkle_nodes, nodes(0, 2))
        pending = _LEVEL.deferred(conn, level=30)
        1 / 0  # noqa: B018
    del pending
    assert _stored(ledger) == []
    if ledger.engine.dialect.name == "postgresql":
        from psycopg import pq

        with contextlib.ExitStack() as stack:
            idle = [
                stack.enter_context(ledger.engine.connect()).connection.dbapi_connection
                for _ in range(ledger.engine.pool.checkedin())  # type: ignore[attr-defined]
            ]
            assert idle
            for raw in idle:
                assert raw.autocommit is False
                assert raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
    ledger.append(version(1))
    assert ledger.size == 1 and ledger.audit().ok
    assert [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")] == []

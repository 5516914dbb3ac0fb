"""Database engines for both backends, transactions, and Alembic migrations.

SQLite: WAL mode, and writers take the database lock up front (``BEGIN IMMEDIATE``) so
two processes never both read the tree head and then race to extend it. PostgreSQL:
writers lock the single ``ledger_state`` row (``SELECT … FOR UPDATE``), a
transaction-scoped lock that serialises the sequencer and nothing else.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Connection,
    Engine,
    String,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import (
    DBAPIError,
    InvalidatePoolError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.sql import ClauseElement, ColumnElement

from pedigree.errors import StoreError, WriteLockBusy

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 60_000

COPY_FROM_ROWS = 50
"""From this many rows on, PostgreSQL inserts go through COPY (several times faster)."""

HEAD_REVISION = "0004"
"""The latest migration; a test holds it equal to Alembic's head, so opening a store
can check the schema without loading Alembic."""


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def alembic_head() -> str | None:
    """The head revision according to the migration scripts (slow: loads Alembic)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


POOL_SIZE_ENV = "PEDIGREE_DATABASE_POOL_SIZE"
MAX_OVERFLOW_ENV = "PEDIGREE_DATABASE_MAX_OVERFLOW"
"""PostgreSQL connection pool of each process: connections kept open (default 5), and
how many more it may open under load (default 5)."""


def _pool_setting(name: str, default: int, *, least: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not least <= value <= 1000:
        raise StoreError(f"${name} must be a whole number from {least} to 1000, not {text!r}")
    return value


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # (no limit on connections: a checkout never waits, so the server's event loop,
        # which commits on SQLite, never stalls behind reads holding every pooled one)
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, max_overflow=-1
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            options = conn.get_execution_options()
            begin = f"BEGIN {options.get('sqlite_begin', 'DEFERRED')}"
            if options.get("sqlite_wait", True):
                execute(conn, begin, ()).close()
                return
            execute(conn, "PRAGMA busy_timeout=0", ()).close()
            try:
                execute(conn, begin, ()).close()
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY:
                    raise WriteLockBusy("another writer holds the store's write lock") from None
                raise
            finally:
                execute(conn, f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}", ()).close()

        return engine
    _quiet_aborted_pipelines()
    engine = create_engine(
        url,
        pool_size=_pool_setting(POOL_SIZE_ENV, 5, least=1),
        max_overflow=_pool_setting(MAX_OVERFLOW_ENV, 5, least=0),
    )
    _ping_when_idle(engine)

    @event.listens_for(engine, "connect")
    def _on_pg_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # JIT compilation costs ~10 ms per lineage query and buys nothing on short OLTP queries.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()

    @event.listens_for(engine, "after_cursor_execute")
    def _answer_now(conn, _cursor, _sql, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        # (in a pipelined write transaction, SQLAlchemy reads a statement's result at once)
        pipe = conn.info.get(_PIPELINE)
        if pipe is not None:
            pipe.sync()

    return engine


PING_IDLE_AFTER = 0.5
"""A pooled PostgreSQL connection idle longer than this (seconds) is pinged before use."""

_IDLE_FROM = "pedigree.idle_from"
"""Pool record ``info`` key: when the connection went back to the pool."""


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle: a connection a server
    restart, a network fault or an idle timeout has cut is found out before the work is
    sent to it. SQLAlchemy's ``pool_pre_ping`` pings at every checkout: one more round trip
    for every append and ingest commit. A connection back in the pool less than
    ``PING_IDLE_AFTER`` ago is used at once, as connection pools commonly do (HikariCP's
    500 ms bypass window). If the server goes away within that window, the work sent fails
    (nothing is written); a connection that broke in use fails its reset on return to the
    pool, which then discards it."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info[_IDLE_FROM] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        idle_from = record.info.get(_IDLE_FROM)
        if idle_from is None:  # (just opened)
            return
        if time.monotonic() - idle_from < PING_IDLE_AFTER:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:  # (as pre-ping: the server may have
            raise InvalidatePoolError(str(exc)) from None  # restarted, cutting them all)


def refresh_statistics(engine: Engine, tables: list[str]) -> None:
    """``ANALYZE`` the tables (PostgreSQL), best effort: the caller's work is done and
    stays done whatever happens here. A table autovacuum is analysing is skipped rather
    than waited for, and one this role does not own is skipped by the server itself."""
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")
            conn.exec_driver_sql(f"ANALYZE {', '.join(tables)}")
    except Exception as exc:  # (also run in a thread of its own: nothing may escape)
        log.info("statistics not refreshed: %s", describe_db_error(exc))


def describe_db_error(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    first = str(original).strip().splitlines()
    return first[0] if first else type(original).__name__


@contextlib.contextmanager
def db_errors(where: str) -> Iterator[None]:
    """Turn driver failures (unreachable server, corrupt file) into a one-line StoreError."""
    try:
        yield
    except (OperationalError, DBAPIError) as exc:
        raise StoreError(f"cannot use the store at {where}: {describe_db_error(exc)}") from None
    except SQLAlchemyError as exc:  # pragma: no cover - unexpected driver states
        raise StoreError(f"store error at {where}: {describe_db_error(exc)}") from None


@contextlib.contextmanager
def write_transaction(
    engine: Engine, *, wait: bool = True, pipeline: bool = False
) -> Iterator[Connection]:
    """A transaction holding the write lock (see module docstring); commits on success.

    ``wait=False``: on SQLite, ``WriteLockBusy`` at once, rather than waiting (up to
    ``BUSY_TIMEOUT_MS``), when another connection holds the lock. (PostgreSQL waits.)
    ``pipeline=True``: on PostgreSQL, the whole transaction is one pipeline (see
    ``_one_pipeline``): for short transactions that read a little, then write.
    """
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE", sqlite_wait=wait)
        with conn.begin():
            if pipeline and conn.dialect.name == "postgresql":
                with _one_pipeline(conn):
                    yield conn
            else:
                yield conn


_PIPELINE = "pedigree.pipeline"
"""``Connection.info`` key: the psycopg pipeline a write transaction runs in, if any."""


@contextlib.contextmanager
def _one_pipeline(conn: Connection) -> Iterator[None]:
    """Run the transaction (PostgreSQL) as one psycopg pipeline, from ``BEGIN`` to
    ``COMMIT``: writes are only sent, and each read (``together``, a ``Prepared`` select,
    ``Prepared.deferred``, SQLAlchemy's ``execute``) waits for the answers to everything
    sent before it. A transaction that reads, then writes, costs two round trips instead
    of one per step (psycopg would also wait for its own ``BEGIN``, and for the ``COMMIT``
    apart).

    The connection is in autocommit mode meanwhile, so that ``BEGIN`` and ``COMMIT`` are
    statements of the pipeline like the others. A failure rolls the transaction back.
    (A plain round trip took 0.2-0.3 ms on the two-core VM this was measured on; an
    ingest commit made eight before, two now.)
    """
    from psycopg import pq

    raw: Any = conn.connection.dbapi_connection
    error = conn.dialect.loaded_dbapi.Error
    raw.autocommit = True
    try:
        with raw.pipeline() as pipe:
            conn.info[_PIPELINE] = pipe
            raw.execute("BEGIN", prepare=False)
            yield
            raw.execute("COMMIT", prepare=False)  # (the pipeline's end sends it)
    except error as exc:  # (raised by a sync, outside SQLAlchemy)
        raise _dbapi_error(conn, exc) from None
    finally:
        conn.info.pop(_PIPELINE, None)
        with contextlib.suppress(error):  # (a broken connection: the pool discards it)
            if raw.pgconn.transaction_status != pq.TransactionStatus.IDLE:
                raw.rollback()
            raw.autocommit = False


@functools.cache
def _quiet_aborted_pipelines() -> None:
    """Install ``_AbortedPipelineNoise`` on psycopg's logger, once."""
    logging.getLogger("psycopg").addFilter(_AbortedPipelineNoise())


class _AbortedPipelineNoise(logging.Filter):
    """Drops psycopg's warning that a pipeline could not be ended because it was aborted.

    A pipeline is aborted by a statement that failed in it; that failure is raised (and the
    transaction rolled back), and psycopg then logs the abort it meets on leaving the
    pipeline as "error ignored terminating …: pipeline aborted", a second,
    misleading line in the server's log for a request already answered with the cause."""

    def filter(self, record: logging.LogRecord) -> bool:
        from psycopg.errors import PipelineAborted

        return not (
            record.msg == "error ignored terminating %r: %s"
            and isinstance(record.args, tuple)
            and len(record.args) == 2
            and isinstance(record.args[1], PipelineAborted)
        )


def in_pipelined_transaction(conn: Connection) -> bool:
    """Whether ``conn`` runs a PostgreSQL write transaction as one pipeline (statements
    are sent, and answered at the next read or at the end)."""
    return _PIPELINE in conn.info


def _sync(conn: Connection, pipe: Any) -> None:
    """Wait for the answers to every statement sent in ``pipe``."""
    try:
        pipe.sync()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _dbapi_error(conn, exc) from None


def _dbapi_error(conn: Connection, exc: Exception, sql: str | None = None) -> DBAPIError:
    """A driver error met outside SQLAlchemy, as the ``DBAPIError`` SQLAlchemy raises for
    it elsewhere (which ``db_errors`` reports in one line); no parameters: they may be
    large, or confidential."""
    return DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error)


def key_chunks(keys: Iterable[Any], size: int = 2000) -> Iterator[list[Any]]:
    """``keys`` sorted, in lists short enough for one ``IN (…)`` of a batched look-up."""
    items = sorted(keys)
    for i in range(0, len(items), size):
        yield items[i : i + size]


@contextlib.contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, send the statements run inside without waiting for each one's
    answer (psycopg's pipeline mode): a transaction's writes, whose results nobody reads,
    cost one round trip instead of one each. Elsewhere it changes nothing.

    A failed statement is reported when its answer is read, at the latest when the block
    ends; it is raised as the ``DBAPIError`` SQLAlchemy raises for it elsewhere.
    """
    if conn.dialect.name != "postgresql" or in_pipelined_transaction(conn):
        yield  # (in a pipelined transaction, its next read or its end reports a failure)
        return
    raw: Any = conn.connection.dbapi_connection
    try:
        with raw.pipeline():
            yield
    except conn.dialect.loaded_dbapi.Error as exc:  # raised by the sync, outside SQLAlchemy
        raise _dbapi_error(conn, exc) from None


def _in_pipeline(conn: Connection) -> bool:
    from psycopg import pq

    raw: Any = conn.connection.dbapi_connection
    return bool(raw.pgconn.pipeline_status != pq.PipelineStatus.OFF)


@functools.cache
def _copy_types(table: Table, columns: tuple[str, ...]) -> list[str]:
    """PostgreSQL type names of ``columns``, for a binary COPY (which sends each value in
    its binary form: a record's bytes as they are, not hex-escaped text)."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    return [table.c[name].type.compile(dialect=dialect).split("(")[0].lower() for name in columns]


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """``INSERT`` many rows at once, bypassing SQLAlchemy's per-row parameter processing.

    Same effect as ``conn.execute(table.insert(), rows)``, which dominates large appends:
    the driver's ``executemany``, or on PostgreSQL a binary ``COPY`` for more than a few
    rows (unless ``pipelined``), else one statement for them all.
    All rows share the first row's keys.
    """
    if not rows:
        return
    columns = list(rows[0])
    postgresql = conn.dialect.name == "postgresql"
    if postgresql and len(rows) >= COPY_FROM_ROWS and not _in_pipeline(conn):
        _copy(conn, table, columns, rows)  # (COPY cannot be pipelined)
        return
    if postgresql and len(rows) > 1 and conn.in_transaction() and _insert_json(conn, table, rows):
        return
    pick = itemgetter(*columns)
    values = [pick(row) for row in rows] if len(columns) > 1 else [(pick(row),) for row in rows]
    marks = ", ".join(("?" if conn.dialect.paramstyle == "qmark" else "%s",) * len(columns))
    _execute_many(conn, f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", values)


def _execute_many(conn: Connection, sql: str, values: list[Any]) -> None:
    """``executemany`` on the driver's cursor in a transaction; outside one through
    SQLAlchemy, which begins it."""
    if not conn.in_transaction():
        conn.exec_driver_sql(sql, values)
        return
    execute(conn, sql, values, many=True).close()


def _copy(conn: Connection, table: Table, columns: list[str], rows: list[dict[str, Any]]) -> None:
    pick = itemgetter(*columns)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with cursor.copy(statement) as copy:
        copy.set_types(_copy_types(table, tuple(columns)))
        for row in rows:
            copy.write_row(pick(row) if len(columns) > 1 else (pick(row),))


def _insert_json(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> bool:
    """Insert ``rows`` (PostgreSQL) in one statement whatever their number: they go as one
    JSON parameter, written by ``orjson``, that the server turns back into rows in order.
    psycopg's ``executemany`` sends a statement per row, each costing more Python than the
    server spends inserting it. ``False`` (nothing done) for values it cannot carry."""
    try:
        data = orjson.dumps(rows, default=_bytea_text, option=_ONLY_PLAIN).decode()
    except orjson.JSONEncodeError:
        return False  # (a lone surrogate, a value that is not plain: as the driver does)
    names = ", ".join(rows[0])
    sql = (
        f"INSERT INTO {table.name} ({names}) SELECT {names} "
        f"FROM json_populate_recordset(NULL::{table.name}, %s::json)"
    )
    execute(conn, sql, (data,)).close()
    return True


_ONLY_PLAIN = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
"""Values the driver would adapt its own way (dates, subclasses) are left to it."""


def _bytea_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()  # (bytea's input form)
    raise TypeError(f"{type(value).__name__} is not a column value")


def execute(conn: Connection, sql: str, params: Any, *, many: bool = False) -> Any:
    """Run ``sql`` on the driver's own cursor, in ``conn``'s transaction: the hot path's
    statements skip SQLAlchemy's execution context (result metadata, events), which costs
    more than these small statements do. A driver error is raised as the ``DBAPIError``
    SQLAlchemy raises elsewhere, so ``db_errors`` still reports it in one line."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise _dbapi_error(conn, exc, sql) from None
    return cursor


def list_value(values: Iterable[Any], dialect: str) -> Any:
    """A list as one parameter of ``listed``: an array on PostgreSQL, JSON text on SQLite."""
    items = list(values)
    return items if dialect == "postgresql" else json.dumps(items)


def listed(
    column: ColumnElement[Any], dialect: str, *, name: str | None = None, value: Any = None
) -> ColumnElement[bool]:
    """``column IN (a list)``, with the whole list one parameter whatever its length: an
    array on PostgreSQL, JSON text read by ``json_each`` on SQLite. The list is the
    parameter ``name`` (given at execution, as ``Prepared`` does), else ``value`` (a
    ``list_value``) bound now."""
    bound: dict[str, Any] = {} if name is not None else {"value": value, "unique": True}
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type), **bound))
    values = func.json_each(bindparam(name, type_=String, **bound)).table_valued("value")
    return column.in_(select(values.c.value))


class Rows(list[Any]):
    """A ``Prepared`` statement's rows (named tuples), with the ``Result`` methods used."""

    def all(self) -> list[Any]:
        return self

    def first(self) -> Any:
        return self[0] if self else None


class Prepared:
    """A hot-path statement compiled once per dialect and run on the driver's cursor.

    Per execution, SQLAlchemy's compiled-statement path (cache key, expanding ``IN``
    lists, parameter processing, result metadata) costs several times what running these
    small indexed look-ups does; every append runs a few, ingest several more.
    ``build(dialect)`` returns the statement (``listed`` for list parameters,
    ``bindparam`` for the rest); parameters and columns pass unprocessed, so it should use
    plain values (``as_bytes`` binary ones). Inside a transaction it runs through
    ``execute``; outside one, through SQLAlchemy, which begins the transaction.
    """

    def __init__(self, build: Callable[[str], ClauseElement]) -> None:
        self._build = build
        self._compiled: dict[str, tuple[str, list[str] | None, dict[str, Any]]] = {}
        self._row: dict[str, Any] = {}  # dialect -> its row type (False: no rows)
        self._reads: dict[str, bool] = {}  # dialect -> whether it answers more than a count

    def __call__(self, conn: Connection, **params: Any) -> Rows:
        if not conn.in_transaction():
            return Rows(conn.exec_driver_sql(*self._bind(conn, params)))
        cursor = self._send(conn, params)
        pipe = conn.info.get(_PIPELINE)
        if pipe is not None and self._reads.get(conn.dialect.name, True):
            _sync(conn, pipe)  # (a write's answer can wait for the transaction's next read)
        return self._collect(cursor, conn.dialect.name)

    def deferred(self, conn: Connection, **params: Any) -> Callable[[], Rows]:
        """Run the statement (in a transaction); its rows when called. In a pipelined
        transaction it is only sent, and its answer comes with that of the next read."""
        pipe = conn.info.get(_PIPELINE)
        if pipe is None:
            rows = self(conn, **params)
            return lambda: rows
        cursor = self._send(conn, params)

        def rows() -> Rows:
            if cursor.pgresult is None:  # (not answered yet)
                _sync(conn, pipe)
            return self._collect(cursor, conn.dialect.name)

        return rows

    def _send(self, conn: Connection, params: dict[str, Any]) -> Any:
        """The driver's cursor, the statement executed (in a pipeline: only sent)."""
        return execute(conn, *self._bind(conn, params))

    def _collect(self, cursor: Any, dialect: str) -> Rows:
        """The rows of a cursor ``_send`` returned (then closed)."""
        try:
            row = self._row.get(dialect)
            if row is None:  # (first run: a statement's columns never change)
                description = cursor.description  # (psycopg builds it anew on each read)
                row = self._row[dialect] = (
                    collections.namedtuple("Row", [c[0] for c in description], rename=True)  # type: ignore[misc]
                    if description is not None
                    else False
                )
            return Rows(map(row._make, cursor.fetchall())) if row else Rows()
        finally:
            cursor.close()

    def many(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Run the statement (a write) once per parameter set, in one ``executemany``."""
        sql = self._compile(conn)[0]
        _execute_many(conn, sql, [self._bind(conn, params)[1] for params in rows])

    def _compile(self, conn: Connection) -> tuple[str, list[str] | None, dict[str, Any]]:
        """The SQL for ``conn``'s dialect, its parameters' order (positional drivers) and
        the values written into the statement, compiled on first use."""
        dialect = conn.dialect.name
        if dialect not in self._compiled:
            compiled: Any = self._build(dialect).compile(dialect=conn.dialect)
            order = list(compiled.positiontup) if compiled.positiontup is not None else None
            writes = compiled.isinsert or compiled.isupdate or compiled.isdelete
            self._reads[dialect] = not writes or bool(compiled.effective_returning)
            self._compiled[dialect] = (str(compiled), order, dict(compiled.params))
        return self._compiled[dialect]

    def _bind(self, conn: Connection, params: dict[str, Any]) -> tuple[str, Any]:
        """The statement's SQL for ``conn``, and ``params`` as its driver takes them."""
        dialect = conn.dialect.name
        sql, order, constants = self._compile(conn)
        params = {**constants, **params}  # (values written into the statement, and these)
        params = {
            k: list_value(v, dialect) if isinstance(v, list) else v for k, v in params.items()
        }
        return sql, params if order is None else tuple(params[name] for name in order)


def together(conn: Connection, *calls: tuple[Prepared, dict[str, Any]]) -> list[Rows]:
    """The rows of several ``Prepared`` statements, each run with its parameters, in
    order. On PostgreSQL, inside a transaction, they are sent in one pipeline: one round
    trip for all of them instead of one each (each still sees what the ones before it
    did, as they run one after the other on the server). One statement runs alone: a
    pipeline of one costs more than a plain round trip."""
    if len(calls) < 2 or conn.dialect.name != "postgresql" or not conn.in_transaction():
        return [statement(conn, **params) for statement, params in calls]
    pipe = conn.info.get(_PIPELINE)
    if pipe is not None:  # (with whatever the transaction has sent before them)
        cursors = [statement._send(conn, params) for statement, params in calls]
        _sync(conn, pipe)
    else:
        with pipelined(conn):  # (its end sends them and reads every answer)
            cursors = [statement._send(conn, params) for statement, params in calls]
    return [
        statement._collect(cursor, conn.dialect.name)
        for (statement, _), cursor in zip(calls, cursors, strict=True)
    ]


def current_revision(conn: Connection) -> str | None:
    """The store's schema revision, or ``None`` when it has no Pedigree schema."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the latest revision, under the write lock."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(7411730)"))
            from alembic import command

            command.upgrade(_alembic_config(conn), "head")

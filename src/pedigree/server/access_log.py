"""The access log: every API read and write, append-only and hash-chained.

A background thread writes the queued rows in one transaction every ``interval``
seconds. A read is answered first and logged right after, so it never waits on the
database's write lock. A write (POST and the like) is answered only once its row is
committed: in the transaction of the records it wrote (OpenLineage ingest and ``/records``
pass their row to the append), or else by the thread, woken at once, in one transaction
with the rows of concurrent requests. So every write a client saw acknowledged is in the
log even if the server is killed the next instant; only the last ``interval`` of reads can
be lost. Each row's ``hash`` is SHA-256(previous row's hash ‖ canonical JSON of the row),
written under the database's write lock, so rows from several server processes still form
one chain; database triggers refuse UPDATE and DELETE. ``verify`` recomputes the chain and
names the first row that does not match.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import queue
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Connection, select, text
from starlette.types import Scope

from pedigree.ledger.canonical import canonical_json
from pedigree.model import format_time, parse_time
from pedigree.store import Ledger
from pedigree.store import schema as t
from pedigree.store.engine import (
    Prepared,
    bulk_insert,
    db_errors,
    execute,
    in_pipelined_transaction,
    together,
    write_transaction,
)

log = logging.getLogger("pedigree.server.access")

GENESIS = b"\0" * 32
CHAIN_LOCK = 7411731
"""PostgreSQL advisory lock serialising writers of the chain (the migration lock is 7411730)."""

FIELDS = ("time", "token_id", "actor", "role", "method", "path", "node", "status", "client")
MAX_TEXT = 2000


def row_hash(previous: bytes, row: dict[str, Any]) -> bytes:
    return hashlib.sha256(previous + canonical_json({k: row.get(k) for k in FIELDS})).digest()


def entry(
    *,
    method: str,
    path: str,
    status: int,
    actor: str,
    token_id: str | None = None,
    role: str | None = None,
    node: str | None = None,
    client: str | None = None,
) -> dict[str, Any]:
    """One access-log row (without its hash), with over-long text cut."""
    return {
        "time": format_time(datetime.now(UTC)),
        "token_id": token_id,
        "actor": actor[:MAX_TEXT],
        "role": role,
        "method": method[:16],
        "path": path[:MAX_TEXT],
        "node": node[:MAX_TEXT] if node else None,
        "status": int(status),
        "client": client[:64] if client else None,
    }


NODE_PARAMETERS = ("nodeId", "node", "source", "target", "dataset", "job")
"""Query parameters that name the node a request is about, when the route did not."""


def from_scope(scope: Scope, status: int) -> dict[str, Any]:
    """The row of an ASGI request answered with ``status``: the principal and node the
    route noted (``request.state``), else the node its query names."""
    state: dict[str, Any] = scope.get("state") or {}
    principal = state.get("principal")
    query = scope.get("query_string", b"").decode("latin-1")
    node = state.get("access_node")
    if node is None and query:
        params = parse_qs(query)
        node = next((params[p][0] for p in NODE_PARAMETERS if p in params), None)
    client = scope.get("client")
    return entry(
        method=scope["method"],
        path=scope["path"] + (f"?{query}" if query else ""),
        status=status,
        actor=principal.actor if principal else "anonymous",
        token_id=principal.token_id if principal else None,
        role=principal.role.value if principal else None,
        node=node,
        client=f"{client[0]}:{client[1]}" if client else None,
    )


_LOCK_CHAIN = Prepared(lambda dialect: text(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})"))
_Q_LAST = Prepared(
    lambda dialect: select(t.access_log.c.hash).order_by(t.access_log.c.id.desc()).limit(1)
)
# (Prepared: every ingest transaction runs them)


def write(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Append rows to the chain; ``conn`` must be inside a write transaction."""
    if not rows:
        return
    if in_pipelined_transaction(conn):
        _write_chained_by_server(conn, rows)
        return
    # (on PostgreSQL the chain's lock, then the last hash read under it: one round trip)
    lock = [(_LOCK_CHAIN, {})] if conn.dialect.name == "postgresql" else []
    last = together(conn, *lock, (_Q_LAST, {}))[-1].first()
    previous = t.as_bytes(last.hash) if last is not None else GENESIS
    chained = []
    for row in rows:
        previous = row_hash(previous, row)
        chained.append({**row, "hash": previous})
    bulk_insert(conn, t.access_log, chained)


_CHAINED_INSERT = (
    f"INSERT INTO access_log ({', '.join(FIELDS)}, hash) VALUES ({', '.join(['%s'] * len(FIELDS))}, "
    "sha256(COALESCE((SELECT hash FROM access_log ORDER BY id DESC LIMIT 1), %s) || %s))"
)


def _write_chained_by_server(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """``write`` in a pipelined PostgreSQL transaction (an ingest's, an append's): the
    server chains each row to the one before it (SHA-256 of that row's hash and this row's
    canonical JSON, as ``row_hash``), so nothing is read back. The statements are only
    sent, with the transaction's other writes: the rows cost no round trip of their own.
    The chain's lock comes first; each insert, a statement of its own, sees the rows
    committed before the lock was granted and those inserted before it."""
    _LOCK_CHAIN.deferred(conn)
    for row in rows:
        canonical = canonical_json({k: row.get(k) for k in FIELDS})
        values = (*(row.get(k) for k in FIELDS), GENESIS, canonical)
        execute(conn, _CHAINED_INSERT, values).close()


def append(ledger: Ledger, rows: list[dict[str, Any]]) -> None:
    """Write rows now, in their own transaction (used by the CLI and by ``flush``)."""
    with db_errors(ledger.location.describe()), write_transaction(ledger.engine) as conn:
        write(conn, rows)


_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]
"""The event loop and future of a request waiting for its row to be committed."""


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if not future.done():
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


class AccessLogWriter:
    """Queues rows and writes them from a background thread, in batches."""

    def __init__(self, ledger: Ledger, *, interval: float = 0.1) -> None:
        self.ledger = ledger
        self.interval = interval
        self._queue: queue.SimpleQueue[tuple[dict[str, Any], _Waiter | None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="pedigree-access-log", daemon=True
            )
            self._thread.start()

    def record(self, row: dict[str, Any]) -> None:
        """Queue ``row``; it is written within ``interval`` seconds."""
        self._queue.put((row, None))

    async def record_durably(self, row: dict[str, Any]) -> None:
        """Queue ``row`` and return once it is committed, together with whatever else is
        queued by then. Raises what the write raised (the row stays queued for a retry)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put((row, (loop, future)))
        if self._thread is None:  # no background thread (not started, or closed)
            with contextlib.suppress(Exception):  # (the future carries the error)
                await asyncio.to_thread(self.flush)
        else:
            self._wake.set()
        await future

    def flush(self) -> None:
        """Write everything queued so far (a read of the log calls this first)."""
        with self._lock:
            items: list[tuple[dict[str, Any], _Waiter | None]] = []
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for start in range(0, len(items), 1000):
                batch = items[start : start + 1000]
                try:
                    append(self.ledger, [row for row, _ in batch])
                except Exception as exc:
                    # Keep the rows for the next attempt rather than lose them; the
                    # requests waiting for them learn that they are not written yet.
                    for row, waiter in items[start:]:
                        self._queue.put((row, None))
                        if waiter is not None:
                            waiter[0].call_soon_threadsafe(_settle, waiter[1], exc)
                    raise
                for _, waiter in batch:
                    if waiter is not None:
                        waiter[0].call_soon_threadsafe(_settle, waiter[1], None)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()  # (a row queued after this wakes the next round)
            try:
                self.flush()
            except Exception:
                log.exception("could not write the access log (will retry)")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        try:
            self.flush()
        except Exception:
            log.exception("could not write the access log at shutdown")


def query(
    ledger: Ledger,
    *,
    token_id: str | None = None,
    actor: str | None = None,
    method: str | None = None,
    status: int | None = None,
    path: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Rows matching every filter given: newest first, or oldest first after ``after_id``."""
    a = t.access_log
    q = select(a)
    if token_id:
        q = q.where(a.c.token_id == token_id)
    if actor:
        q = q.where(a.c.actor == actor)
    if method:
        q = q.where(a.c.method == method.upper())
    if status is not None:
        q = q.where(a.c.status == status)
    if path:
        escaped = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(a.c.path.like(f"%{escaped}%", escape="\\"))
    if since:
        q = q.where(a.c.time >= format_time(parse_time(since)))
    if until:
        q = q.where(a.c.time < format_time(parse_time(until)))
    if after_id is not None:
        q = q.where(a.c.id > after_id).order_by(a.c.id)
    else:
        q = q.order_by(a.c.id.desc())
    with db_errors(ledger.location.describe()), ledger.engine.connect() as conn:
        rows = conn.execute(q.limit(limit)).all()
    return [
        {"id": r.id, **{k: getattr(r, k) for k in FIELDS}, "hash": bytes(r.hash).hex()}
        for r in rows
    ]


def verify(ledger: Ledger) -> dict[str, Any]:
    """Recompute the chain; ``ok`` and the first row that does not match, if any."""
    a = t.access_log
    previous, count, last = GENESIS, 0, 0
    with db_errors(ledger.location.describe()), ledger.engine.connect() as conn:
        while True:
            rows = conn.execute(select(a).where(a.c.id > last).order_by(a.c.id).limit(5000)).all()
            if not rows:
                break
            for r in rows:
                expected = row_hash(previous, {k: getattr(r, k) for k in FIELDS})
                if expected != bytes(r.hash):
                    return {
                        "ok": False,
                        "rows": count,
                        "first_bad_id": r.id,
                        "problem": f"access-log row {r.id} does not match its hash chain",
                    }
                previous, count, last = expected, count + 1, r.id
    return {"ok": True, "rows": count, "head": previous.hex()}

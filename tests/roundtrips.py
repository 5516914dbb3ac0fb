"""Counting a PostgreSQL ledger's round trips: the times its connections wait for the server.

Every connection the ledger's pool opens is traced by libpq (``PQtrace``, through psycopg),
into a file of its own. A client waits for the server once per ``Sync`` it sends (the
extended protocol's end of a statement, or a pipeline's sync point) and once per simple
``Query``; the count of both, between two points, is the number of round trips made
between them, whatever the statements were and however they were batched. (The pool pings
a connection that sat idle for ``engine.PING_IDLE_AFTER``, not one used just before or a new
one.) The trace's flags need libpq 14 or later (psycopg's binary wheel bundles a recent
one); with an older libpq the tests that count are skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import pq
from sqlalchemy import event

from pedigree.store import Ledger


def skip_unless_traceable() -> None:
    """Skip the test when this libpq cannot trace as ``RoundTrips`` needs."""
    if pq.version() < 140000:
        pytest.skip(f"libpq {pq.version()} cannot trace without timestamps (14 or later can)")


class RoundTrips:
    """Traces every connection of ``ledger`` (PostgreSQL) opened from now on."""

    def __init__(self, ledger: Ledger, folder: Path) -> None:
        self.ledger = ledger
        self.folder = folder
        self.traces: list[Path] = []
        self._files: list[Any] = []
        event.listen(ledger.engine, "connect", self._trace)
        ledger.engine.dispose()  # (the connections already pooled were not traced)

    def _trace(self, dbapi_connection: Any, _record: Any) -> None:
        path = self.folder / f"trace-{len(self.traces)}.txt"
        handle = path.open("w")
        self._files.append(handle)
        self.traces.append(path)
        dbapi_connection.pgconn.trace(handle.fileno())
        dbapi_connection.pgconn.set_trace_flags(
            pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE
        )

    def waits(self) -> int:
        """Round trips so far, on every traced connection."""
        total = 0
        for path in self.traces:
            for line in path.read_text().splitlines():
                sender, _, rest = line.partition("\t")
                message = rest.partition("\t")[2].split("\t")[0].strip()
                total += sender == "F" and message in ("Sync", "Query")
        return total

    @contextlib.contextmanager
    def counting(self) -> Iterator[list[int]]:
        """Yields a list that holds, once the block ends, the round trips made in it."""
        before = self.waits()
        made: list[int] = []
        yield made
        made.append(self.waits() - before)

    def close(self) -> None:
        """Stop tracing: the connections are closed before their trace files (libpq would
        otherwise go on writing to a closed, perhaps reused, file descriptor)."""
        event.remove(self.ledger.engine, "connect", self._trace)
        self.ledger.engine.dispose()
        for handle in self._files:
            handle.close()

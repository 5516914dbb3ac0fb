"""Group commit for OpenLineage ingest: concurrent requests share one transaction.

Each request's events would otherwise be one append of their own, with its own lookups,
its own signed head and its own commit (a disk flush on SQLite). Here the first request
to arrive becomes the leader and records everything queued by then in one ``ingest``
call; requests that arrive while it commits wait and go together in the next one. At low
load nothing waits (a lone request leads at once); under load the fixed cost of a commit
is shared by every request in it. Each request still gets its own answer: when the
combined append is refused (one request's event contradicts what is recorded), each
request in it is retried alone, so only the faulty one fails, with its own message.
A request's access-log row, when given, commits in the same transaction as its events.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any

from pedigree.errors import RecordError
from pedigree.server import access_log
from pedigree.store import Alongside, Ledger

MAX_EVENTS = 2_000
"""At most this many events in one combined append (bounded latency and memory)."""


@dataclass
class _Submission:
    events: list[Any]
    actor: str
    single: bool
    access: dict[str, Any] | None
    results: list[Any] | None = None
    error: BaseException | None = None
    done: bool = False
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.events)


class GroupCommit:
    """``ingest(events, actor)`` with concurrent callers' events appended together."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._lock = threading.Condition()
        self._queue: list[_Submission] = []
        self._leading = False

    def ingest(
        self,
        events: list[Any],
        actor: str,
        *,
        single: bool = False,
        access: dict[str, Any] | None = None,
    ) -> list[Any]:
        """The events' results once committed, with ``access`` (an access-log row) in the
        same transaction; an error means neither was written."""
        mine = _Submission(events, actor, single, access)
        with self._lock:
            self._queue.append(mine)
        while True:
            with self._lock:
                while self._leading and not mine.done:
                    self._lock.wait()
                if mine.done:
                    break
                self._leading = True  # lead: take what is queued (a bounded part of it)
                batch, self._queue = _take(self._queue)
            try:
                self._record(batch)
            finally:
                with self._lock:
                    self._leading = False
                    self._lock.notify_all()
        if mine.error is not None:
            raise mine.error
        assert mine.results is not None
        return mine.results

    def _record(self, batch: list[_Submission]) -> None:
        from pedigree.interop import openlineage

        by_actor: dict[str, list[_Submission]] = {}
        for item in batch:
            by_actor.setdefault(item.actor, []).append(item)
        for actor, items in by_actor.items():
            try:
                if len(items) == 1:
                    raise _Alone
                combined = [event for item in items for event in item.events]
                results = openlineage.ingest(
                    self.ledger, combined, actor=actor, alongside=_logging(items)
                )
                offset = 0
                for item in items:
                    item.results = [
                        dataclasses.replace(r, index=r.index - offset)
                        for r in results[offset : offset + item.size]
                    ]
                    offset += item.size
            except (_Alone, RecordError):
                for item in items:  # each alone: only the faulty request fails
                    try:
                        item.results = openlineage.ingest(
                            self.ledger,
                            item.events[0] if item.single else item.events,
                            actor=actor,
                            alongside=_logging([item]),
                        )
                    except BaseException as exc:
                        item.error = exc
            except BaseException as exc:
                for item in items:
                    item.error = exc
        with self._lock:
            for item in batch:
                item.done = True


def _logging(items: list[_Submission]) -> Alongside:
    """Writes the items' access-log rows inside the ingest's transaction."""
    rows = [item.access for item in items if item.access is not None]
    return lambda conn, _results: access_log.write(conn, rows)


class _Alone(Exception):
    """A lone request: record it as it came (its own messages, no re-indexing)."""


def _take(queue: list[_Submission]) -> tuple[list[_Submission], list[_Submission]]:
    """The queued requests up to ``MAX_EVENTS`` events (at least one), and the rest."""
    total = 0
    for position, item in enumerate(queue):
        total += item.size
        if total > MAX_EVENTS and position > 0:
            return queue[:position], queue[position:]
    return queue, []


__all__ = ["GroupCommit"]

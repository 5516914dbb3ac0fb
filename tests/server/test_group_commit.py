"""Group commit: concurrent ingest requests share transactions, and each gets its own answer."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from pedigree.errors import RecordError
from pedigree.interop import openlineage
from pedigree.model import Run
from pedigree.server import access_log
from pedigree.server.group_commit import GroupCommit
from pedigree.store import Ledger
from tests.roundtrips import RoundTrips

PRODUCER = "https://example.org/producer"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def event(kind: str, run_id: str, n: int) -> dict[str, Any]:
    return {
        "eventType": kind,
        "eventTime": f"2026-12-01T10:{n // 60 % 60:02d}:{n % 60:02d}.{5 if kind == 'COMPLETE' else 0}Z",
        "producer": PRODUCER,
        "schemaURL": SCHEMA,
        "run": {"runId": run_id},
        "job": {"namespace": "airflow", "name": f"etl.load_{n % 5}"},
        "inputs": [{"namespace": "pg://db", "name": f"raw.t{n % 5}"}],
        "outputs": [{"namespace": "pg://db", "name": f"clean.t{n % 5}"}],
    }


def test_concurrent_requests_are_recorded_together_each_with_its_answer(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = openlineage.ingest

    def counting(led: Ledger, events: Any, **kw: Any) -> Any:
        calls.append(1 if isinstance(events, dict) else len(events))
        return real(led, events, **kw)

    monkeypatch.setattr(openlineage, "ingest", counting)
    committer = GroupCommit(ledger)
    answers: dict[int, Any] = {}
    start = threading.Barrier(16)

    def client(k: int) -> None:
        run_id = str(uuid.uuid4())
        start.wait()
        try:
            events = [event("START", run_id, k), event("COMPLETE", run_id, k)]
            if k == 7:  # contradicts itself: a run cannot be its own parent
                events[1] = {
                    **events[1],
                    "run": {
                        "runId": run_id,
                        "facets": {
                            "parent": {
                                "_producer": PRODUCER,
                                "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json",
                                "run": {"runId": run_id},
                                "job": {"namespace": "airflow", "name": "etl.load_2"},
                            }
                        },
                    },
                }
            row = access_log.entry(method="POST", path=f"/client/{k}", status=201, actor="t")
            answers[k] = committer.ingest(events, "tester", access=row)
        except RecordError as exc:
            answers[k] = exc

    threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert isinstance(answers[7], RecordError)
    for k, answer in answers.items():
        if k != 7:
            assert [r.index for r in answer] == [0, 1] and all(r.seqs for r in answer)
    runs = {str(e.body.run_id) for e in ledger.entries(types=["run"]) if isinstance(e.body, Run)}
    assert len(runs) == 15
    assert sum(1 for n in calls if n > 2) >= 1  # some requests shared a transaction
    assert ledger.audit().ok
    # Each request's access-log row committed with its events: once, and not for the
    # refused one (whose transaction, shared or alone, was rolled back).
    logged = [row["path"] for row in access_log.query(ledger, after_id=0, limit=100)]
    assert sorted(logged) == sorted(f"/client/{k}" for k in range(16) if k != 7)
    assert access_log.verify(ledger)["ok"] is True


def test_a_lone_request_keeps_its_own_error_message(ledger: Ledger) -> None:
    committer = GroupCommit(ledger)
    with pytest.raises(RecordError, match="runId"):
        committer.ingest([{**event("START", "x", 1), "run": {}}], "tester", single=True)


def test_requests_awaited_on_an_event_loop_share_the_writer_thread(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``submit`` (what the routes await): concurrent requests on one event loop are
    answered each with its own results, and need no thread of their own while waiting."""
    import asyncio

    sizes: list[int] = []
    real = openlineage.ingest

    def counting(led: Ledger, events: Any, **kw: Any) -> Any:
        sizes.append(1 if isinstance(events, dict) else len(events))
        return real(led, events, **kw)

    monkeypatch.setattr(openlineage, "ingest", counting)
    committer = GroupCommit(ledger)
    run_ids = [str(uuid.uuid4()) for _ in range(12)]

    async def main() -> list[Any]:
        threads_before = threading.active_count()
        waiting = [
            asyncio.ensure_future(
                committer.submit([event("START", run_id, k)], "tester", single=True)
            )
            for k, run_id in enumerate(run_ids)
        ]
        await asyncio.sleep(0)
        assert threading.active_count() <= threads_before + 1  # the one writer thread
        bad = committer.submit([{**event("START", "x", 99), "run": {}}], "tester", single=True)
        return await asyncio.gather(*waiting, bad, return_exceptions=True)

    answers = asyncio.run(main())
    assert isinstance(answers[-1], RecordError) and "runId" in str(answers[-1])
    for run_id, answer in zip(run_ids, answers[:-1], strict=True):
        assert len(answer) == 1 and answer[0].run_id == run_id and answer[0].appended >= 1
    assert sum(sizes) >= 13 and len(sizes) < 13 + 12  # some requests shared a transaction
    assert ledger.audit().ok


def test_close_records_what_is_queued_and_a_later_request_starts_again(ledger: Ledger) -> None:
    def writers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "pedigree-group-commit"}

    before = writers()
    committer = GroupCommit(ledger)
    first = committer.ingest([event("START", str(uuid.uuid4()), 1)], "tester", single=True)
    assert len(writers() - before) == 1
    committer.close()
    assert writers() == before  # stopped
    again = committer.ingest([event("START", str(uuid.uuid4()), 2)], "tester", single=True)
    assert first[0].appended >= 1 and again[0].appended >= 1
    committer.close()
    assert writers() == before


def test_under_load_a_commit_waits_briefly_for_more_requests_and_a_lone_client_never_waits(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    sizes: list[int] = []
    real = openlineage.ingest

    def counting(led: Ledger, events: Any, **kw: Any) -> Any:
        sizes.append(1 if isinstance(events, dict) else len(events))
        return real(led, events, **kw)

    monkeypatch.setattr(openlineage, "ingest", counting)
    committer = GroupCommit(ledger, wait=0.5)

    def send(k: int) -> None:
        committer.ingest([event("START", str(uuid.uuid4()), k)], "tester", single=True)

    started = time.monotonic()
    for k in range(5):  # one client: commits of one request each, none waits
        send(k)
    assert sizes == [1] * 5 and time.monotonic() - started < 0.5
    start = threading.Barrier(6)
    burst = [threading.Thread(target=lambda k=k: (start.wait(), send(10 + k))) for k in range(6)]
    for thread in burst:
        thread.start()
    for thread in burst:
        thread.join()
    assert max(sizes[5:]) >= 2  # several requests queued at once: the writer expects more
    sizes.clear()
    late = [threading.Thread(target=send, args=(20 + k,)) for k in range(3)]
    for thread in late:  # arriving 20 ms apart: one commit takes all three
        thread.start()
        time.sleep(0.02)
    for thread in late:
        thread.join()
    assert sizes == [3]
    committer.close()
    assert ledger.audit().ok


def test_a_request_abandoned_with_its_event_loop_does_not_stop_the_writer(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request whose event loop has gone (a server shutting down) when its commit ends:
    the commit stands and the writer keeps serving later requests."""
    import asyncio
    import time

    real = openlineage.ingest

    def slow(led: Ledger, events: Any, **kw: Any) -> Any:
        time.sleep(0.2)  # (the loop closes meanwhile)
        return real(led, events, **kw)

    monkeypatch.setattr(openlineage, "ingest", slow)
    committer = GroupCommit(ledger, wait=0, inline=False)  # (the writer thread's path)
    first = str(uuid.uuid4())

    async def abandon() -> None:
        task = asyncio.ensure_future(
            committer.submit([event("START", first, 1)], "tester", single=True)
        )
        await asyncio.sleep(0.05)
        assert not task.done()  # queued and being recorded; then the loop is closed

    asyncio.run(abandon())
    answers: list[Any] = []
    later = threading.Thread(
        target=lambda: answers.append(
            committer.ingest([event("START", str(uuid.uuid4()), 2)], "tester", single=True)
        )
    )
    later.start()
    later.join(timeout=20)
    assert answers and answers[0][0].appended >= 1
    runs = {str(e.body.run_id) for e in ledger.entries(types=["run"]) if isinstance(e.body, Run)}
    assert first in runs
    committer.close()


def _recording_threads(
    monkeypatch: pytest.MonkeyPatch, delay: float = 0.0
) -> list[tuple[int, int]]:
    """(thread id, events) of each ``ingest`` call from now on."""
    import time

    calls: list[tuple[int, int]] = []
    real = openlineage.ingest

    def recording(led: Ledger, events: Any, **kw: Any) -> Any:
        calls.append((threading.get_ident(), 1 if isinstance(events, dict) else len(events)))
        time.sleep(delay)
        return real(led, events, **kw)

    monkeypatch.setattr(openlineage, "ingest", recording)
    return calls


def test_on_sqlite_the_event_loop_commits_its_turns_requests_itself(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: the requests submitted during one turn of the loop go in one commit made on
    the loop's own thread; PostgreSQL: on the writer thread."""
    import asyncio

    calls = _recording_threads(monkeypatch)
    committer = GroupCommit(ledger)
    sqlite = ledger.engine.dialect.name == "sqlite"
    assert committer.inline is sqlite
    run_ids = [str(uuid.uuid4()) for _ in range(6)]

    async def main() -> tuple[int, list[Any]]:
        answers = await asyncio.gather(
            *(
                committer.submit([event("START", run_id, k)], "tester", single=True)
                for k, run_id in enumerate(run_ids)
            )
        )
        return threading.get_ident(), answers

    loop_thread, answers = asyncio.run(main())
    for run_id, answer in zip(run_ids, answers, strict=True):
        assert len(answer) == 1 and answer[0].run_id == run_id and answer[0].appended >= 1
    if sqlite:
        assert calls == [(loop_thread, 6)]  # one commit, on the loop
    else:
        assert calls and all(thread != loop_thread for thread, _ in calls)
    committer.close()
    assert ledger.audit().ok


@pytest.fixture
def sqlite_ledger(tmp_path: Any) -> Any:
    """(The event loop commits only on SQLite.)"""
    led, _ = Ledger.init(tmp_path / "store", None, actor="tester")
    yield led
    led.close()


def test_the_loop_never_waits_for_the_write_lock_nor_commits_a_large_request(
    sqlite_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another process holds the SQLite write lock, a request submitted on the loop
    goes to the writer thread, which waits for the lock; the loop meanwhile goes on. A
    request larger than ``INLINE_EVENTS`` goes to the writer thread too."""
    import asyncio
    import sqlite3

    from pedigree.server.group_commit import INLINE_EVENTS

    ledger = sqlite_ledger
    calls = _recording_threads(monkeypatch)
    committer = GroupCommit(ledger, wait=0)
    other = sqlite3.connect(
        ledger.engine.url.database, isolation_level=None, check_same_thread=False
    )
    other.execute("BEGIN IMMEDIATE")  # (another process holding the write lock)
    threading.Timer(0.4, other.rollback).start()
    run_id = str(uuid.uuid4())

    async def main() -> tuple[int, int, list[Any]]:
        ticks = 0

        async def ticking() -> None:
            nonlocal ticks
            for _ in range(20):
                await asyncio.sleep(0.01)
                ticks += 1

        clock = asyncio.ensure_future(ticking())
        answer = await committer.submit([event("START", run_id, 1)], "tester", single=True)
        ticks_by_then = ticks
        await clock
        return threading.get_ident(), ticks_by_then, answer

    loop_thread, ticks, answer = asyncio.run(main())
    other.close()
    assert answer[0].run_id == run_id and answer[0].appended >= 1
    assert ticks >= 10  # the loop ran on while the lock was held (~0.4 s)
    assert [thread for thread, _ in calls][-1] != loop_thread  # recorded by the writer thread
    calls.clear()

    big = [event("START", str(uuid.uuid4()), k) for k in range(INLINE_EVENTS + 1)]

    async def large() -> int:
        await committer.submit(big, "tester")
        return threading.get_ident()

    loop_thread = asyncio.run(large())
    assert calls == [(calls[0][0], INLINE_EVENTS + 1)] and calls[0][0] != loop_thread
    committer.close()
    assert ledger.audit().ok


def test_while_the_writer_thread_commits_the_loop_hands_it_its_requests(
    sqlite_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One commit at a time: requests submitted on the loop while the writer thread records
    a large request are recorded by the thread after it, not alongside on the loop."""
    import asyncio

    from pedigree.server.group_commit import INLINE_EVENTS

    ledger = sqlite_ledger
    calls = _recording_threads(monkeypatch, delay=0.2)
    committer = GroupCommit(ledger, wait=0)
    big = [event("START", str(uuid.uuid4()), k) for k in range(INLINE_EVENTS + 1)]
    small = [str(uuid.uuid4()) for _ in range(3)]

    async def main() -> int:
        large = asyncio.ensure_future(committer.submit(big, "tester"))
        await asyncio.sleep(0.05)  # (the writer thread is recording it)
        await asyncio.gather(
            large,
            *(committer.submit([event("START", r, k)], "tester") for k, r in enumerate(small)),
        )
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert [n for _, n in calls] == [INLINE_EVENTS + 1, 3]
    assert all(thread != loop_thread for thread, _ in calls)
    committer.close()
    assert ledger.audit().ok


def test_the_loop_commits_while_reads_hold_many_connections(sqlite_ledger: Ledger) -> None:
    """A commit on the loop never waits for a pooled connection (SQLite's pool has no
    limit): here 20 are held, more than a default pool's 15."""
    import asyncio
    import contextlib
    import time

    committer = GroupCommit(sqlite_ledger)
    with contextlib.ExitStack() as held:
        for _ in range(20):
            held.enter_context(sqlite_ledger.engine.connect())
        started = time.monotonic()
        answer = asyncio.run(
            committer.submit([event("START", str(uuid.uuid4()), 1)], "tester", single=True)
        )
        assert answer[0].appended >= 1 and time.monotonic() - started < 5
    committer.close()


def test_a_commit_on_the_loop_that_fails_outright_answers_every_request(
    sqlite_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever goes wrong in a commit made on the loop, each request gets the error, and
    none is left waiting."""
    import asyncio

    committer = GroupCommit(sqlite_ledger)

    def broken(self: GroupCommit, batch: Any, *, wait: bool = True) -> None:
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(GroupCommit, "_record", broken)

    async def main() -> list[Any]:
        return await asyncio.wait_for(
            asyncio.gather(
                *(
                    committer.submit([event("START", str(uuid.uuid4()), k)], "tester")
                    for k in range(3)
                ),
                return_exceptions=True,
            ),
            timeout=10,
        )

    answers = asyncio.run(main())
    assert [str(a) for a in answers] == ["the disk caught fire"] * 3
    committer.close()


@pytest.mark.parametrize("fails", [False, True], ids=["commits", "fails"])
def test_a_request_cancelled_while_its_commit_runs_is_logged_once(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    """The access-log row goes with the events: when the request's task is cancelled while
    they commit (uvicorn cancels what is left when it shuts down), the middleware must not
    log the request a second time, as a 500. When that commit then fails, the failure is
    logged (``GroupCommit.lost``), since nobody is left to answer."""
    import asyncio
    import contextlib
    import json

    from pedigree.server import tokens
    from pedigree.server.app import create_app
    from tests.interop.events import run_event

    ledger, _ = Ledger.init(tmp_path / "store")
    token, _ = tokens.create(ledger, role="engineer", name="t")
    app = create_app(ledger)
    committer = GroupCommit(ledger, inline=False, lost=app.state.group_commit.lost)
    inside, gate = threading.Event(), threading.Event()
    real = committer._record

    def held(batch: Any, **options: Any) -> None:
        inside.set()
        gate.wait(10)
        if fails:
            raise RuntimeError("the disk is full")
        real(batch, **options)

    monkeypatch.setattr(committer, "_record", held)
    app.state.group_commit = committer
    app.state.access_log.start()
    body = json.dumps(run_event("START", uuid.uuid4(), job="j")).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/lineage",
        "raw_path": b"/api/v1/lineage",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }

    async def cancelled_mid_commit() -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # (the client sends nothing more)
            raise AssertionError

        async def send(message: Any) -> None:
            pass

        task = asyncio.create_task(app(scope, receive, send))
        assert await asyncio.to_thread(inside.wait, 10)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        gate.set()
        await asyncio.to_thread(committer.close)  # (the commit ends, the loop still runs)
        await asyncio.sleep(0.05)

    try:
        asyncio.run(cancelled_mid_commit())
    finally:
        gate.set()
        committer.close()
        app.state.access_log.close()
    rows = access_log.query(ledger, path="/api/v1/lineage")
    assert [row["status"] for row in rows] == ([500] if fails else [201])
    assert ledger.size == (0 if fails else 1)
    assert access_log.verify(ledger)["ok"]
    ledger.close()


@pytest.mark.postgres
def test_an_ingest_commit_with_its_access_log_rows_waits_for_the_server_twice(
    traced: tuple[Ledger, RoundTrips],
) -> None:
    ledger, trips = traced
    committer = GroupCommit(ledger)
    try:
        run_id = str(uuid.uuid4())
        row = access_log.entry(method="POST", path="/api/v1/lineage", status=201, actor="t")
        committer.ingest([event("START", str(uuid.uuid4()), 2)], "tester", access=row)
        for events in ([event("START", run_id, 1)], [event("COMPLETE", run_id, 1)]):
            with trips.counting() as made:
                committer.ingest(events, "tester", access=row)
            # BEGIN, the lock and the look-ups; the writes, the access-log row (chained
            # by the server) and the COMMIT
            assert made == [2], (events[0]["eventType"], made)
    finally:
        committer.close()
    assert ledger.trace(f"run:{run_id}", direction="up").nodes

"""Real processes: concurrent writers make one linear log; a kill mid-append loses nothing else.

Each writer is a separate Python process opening the same store (SQLite file, or the
same PostgreSQL schema through several connections).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from pedigree.errors import WriteLockBusy
from pedigree.model import DatasetVersion
from pedigree.store import Ledger
from pedigree.store.engine import write_transaction

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent(
    """
    import json, sys
    from pedigree.model import DatasetVersion, Run
    from pedigree.store import Ledger
    store, url, name, count = sys.argv[1], sys.argv[2] or None, sys.argv[3], int(sys.argv[4])
    with Ledger.open(store, url, actor=name) as ledger:
        for i in range(count):
            out = DatasetVersion(name=f"{name}/out", version=str(i))
            if i % 5 == 0:   # some batches, some single appends
                ledger.append_many([out, Run(job=f"{name}/job", kind="transform",
                                             inputs=[{"name": "shared", "version": "1"}],
                                             outputs=[out.io()])])
            else:
                ledger.append(out)
    print(json.dumps({"done": name}))
    """
)

BATCH = textwrap.dedent(
    """
    import sys
    from pedigree.model import DatasetVersion
    from pedigree.store import Ledger
    store, url, count = sys.argv[1], sys.argv[2] or None, int(sys.argv[3])
    records = [DatasetVersion(name="bulk", version=str(i), row_count=i) for i in range(count)]
    with Ledger.open(store, url) as ledger:
        print("ready", flush=True)
        ledger.append_many(records)
    print("committed", flush=True)
    """
)

SINGLES = textwrap.dedent(
    """
    import sys
    from pedigree.model import DatasetVersion
    from pedigree.store import Ledger
    store, url = sys.argv[1], sys.argv[2] or None
    with Ledger.open(store, url) as ledger:
        print("ready", flush=True)
        i = 0
        while True:
            ledger.append(DatasetVersion(name="single", version=f"{sys.argv[3]}-{i}"))
            i += 1
    """
)


def _args(store_args: dict[str, str | None]) -> list[str]:
    return [str(store_args["store"]), store_args["database_url"] or ""]


def test_concurrent_writers_produce_one_linear_log(
    ledger: Ledger, store_args: dict[str, str | None]
) -> None:
    ledger.append(DatasetVersion(name="shared", version="1"))
    writers, count = 4, 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, *_args(store_args), f"w{n}", str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert json.loads(out)["done"]
    per_writer = count + count // 5  # versions, plus one run per batch
    assert ledger.size == 1 + writers * per_writer
    entries = ledger.entries()
    assert [e.seq for e in entries] == list(range(1, ledger.size + 1))
    assert {e.actor for e in entries} == {"tester", "w0", "w1", "w2", "w3"}
    times = [e.to_json()["time"] for e in entries]
    assert times == sorted(times)  # log time never goes backwards
    assert ledger.audit().ok
    assert len(ledger.trace("shared", direction="down").nodes) == 1 + writers * (count // 5) * 2


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line


def _writing(probe: Ledger) -> bool:
    """Whether another connection is inside a write transaction of the store: on SQLite it
    holds the write lock; on PostgreSQL it has inserted log rows, not yet committed (its
    lock on ``records``)."""
    if probe.engine.dialect.name == "postgresql":
        with probe.engine.connect() as conn:
            held = conn.exec_driver_sql(
                "SELECT 1 FROM pg_locks WHERE relation = 'records'::regclass "
                "AND mode = 'RowExclusiveLock' AND granted AND pid <> pg_backend_pid()"
            ).first()
        return held is not None
    try:
        with write_transaction(probe.engine, wait=False):
            return False
    except WriteLockBusy:
        return True


def test_a_batch_killed_mid_append_is_all_or_nothing(
    ledger: Ledger, store_args: dict[str, str | None]
) -> None:
    """The batch is killed ``pause`` seconds after it is seen inside its write transaction
    (shorter each time it commits first: a fixed delay from its start missed the
    transaction once the append grew faster than the delay)."""
    ledger.append(DatasetVersion(name="before", version="1"))
    outcomes = set()
    probe = Ledger.open(store_args["store"], store_args["database_url"])
    try:
        for pause in (0.25, 0.1, 0.0):
            before = ledger.size
            proc = subprocess.Popen(
                [sys.executable, "-c", BATCH, *_args(store_args), "20000"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            _wait_ready(proc)
            deadline = time.monotonic() + 60
            while proc.poll() is None and not _writing(probe) and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(pause)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            with Ledger.open(store_args["store"], store_args["database_url"]) as fresh:
                size = fresh.size
                assert size in (before, before + 20000)
                outcomes.add(size - before)
                report = fresh.audit()
                assert report.ok, report.to_json()
                assert report.records == size
            if size == before:
                break  # killed inside the transaction: nothing of the batch was written
    finally:
        probe.close()
    assert 0 in outcomes, "no kill landed inside the batch transaction"


def test_single_appends_killed_at_random_leave_a_clean_prefix(
    ledger: Ledger, store_args: dict[str, str | None]
) -> None:
    for round_ in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-c", SINGLES, *_args(store_args), str(round_)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_ready(proc)
        time.sleep(0.2 + 0.15 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        with Ledger.open(store_args["store"], store_args["database_url"]) as fresh:
            report = fresh.audit()
            assert report.ok, report.to_json()
            versions = [e.body.version for e in fresh.entries()]  # type: ignore[attr-defined]
            mine = [v for v in versions if v.startswith(f"{round_}-")]
            assert mine == [f"{round_}-{i}" for i in range(len(mine))]  # no gaps, no half records
            assert mine, "the writer appended nothing before the kill"

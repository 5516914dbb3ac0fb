"""Remote capture against a real server on loopback: spool, outage, retries, kill -9."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import pedigree
from pedigree.capture import delivery
from pedigree.capture.remote import RemoteLedger
from pedigree.model import Run
from pedigree.server import tokens
from pedigree.server.app import create_app
from pedigree.store import Ledger
from tests.server.conftest import LiveServer


@pytest.fixture
def server_ledger(ledger: Ledger) -> Ledger:
    return ledger


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "spool"
    monkeypatch.setenv("PEDIGREE_SPOOL", str(path))
    yield path
    delivery.reset()


def _pipeline(i: int) -> None:
    frame = pd.DataFrame({"x": list(range(i, i + 5))})
    with pedigree.run("remote/generate", kind="generate", intent="remote capture") as run:
        run.use(frame, name="remote/source")
        run.param("dsn", pedigree.confidential(f"postgresql://etl@db/{i}"))
        run.param(i=i)
        run.produce(frame * 2, name="remote/output")


def _runs(ledger: Ledger) -> list[Run]:
    return [e.body for e in ledger.entries(types=["run"]) if isinstance(e.body, Run)]


def test_runs_reach_the_server_with_their_confidential_values(
    server_ledger: Ledger, spool: Path
) -> None:
    token, _ = tokens.create(server_ledger, role="engineer", name="pipeline")
    with LiveServer(create_app(server_ledger)) as live:
        delivery.configure(url=live.url, token=token)
        _pipeline(1)
        _pipeline(1)  # same content again: versions are not appended twice
        remote = delivery.current_destination()
        assert isinstance(remote, RemoteLedger) and remote.status().pending == 0
    runs = _runs(server_ledger)
    assert len(runs) == 2 and {r.job.name for r in runs} == {"remote/generate"}
    versions = [e for e in server_ledger.entries(types=["dataset_version"])]
    assert len(versions) == 2
    dsn = runs[0].parameters["dsn"]
    assert server_ledger.disclosure(dsn).value == "postgresql://etl@db/1"
    assert server_ledger.audit().ok


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_outage_never_breaks_the_pipeline_and_the_spool_drains_later(
    server_ledger: Ledger, spool: Path
) -> None:
    token, _ = tokens.create(server_ledger, role="engineer", name="pipeline")
    live = LiveServer(create_app(server_ledger))  # bound, not yet answering
    delivery.configure(url=live.url, token=token)
    with pytest.warns(RuntimeWarning, match="wait in the spool"):
        for i in range(3):
            _pipeline(i)
    remote = delivery.current_destination()
    assert isinstance(remote, RemoteLedger)
    status = remote.status()
    assert status.pending == 3 and status.pending_records >= 9
    assert _runs(server_ledger) == []
    for entry in remote.pending():
        assert entry.stat().st_mode & 0o777 == 0o600
        assert "postgresql://etl" in entry.read_text()  # the value goes to the server too

    with live:
        result = remote.flush()
        assert (result.sent, result.pending, result.error) == (3, 0, None)
        assert len(_runs(server_ledger)) == 3
        assert remote.flush().sent == 0

        # The server appended but the answer was lost: the entry is sent again, exactly.
        _pipeline(10)
        size = server_ledger.size
        entry = _built_entry(remote, server_ledger)
        (remote.path / "00000000000000000001-retry.json").write_text(json.dumps(entry))
        again = remote.flush()
        assert again.sent == 1 and again.records == len(entry["built"]["records"])
        assert server_ledger.size == size
    assert server_ledger.audit().ok


def _built_entry(remote: RemoteLedger, ledger: Ledger) -> dict[str, Any]:
    """Rebuild what the last delivery sent, from the records it appended (keys included)."""
    with ledger.engine.connect() as conn:
        from sqlalchemy import select

        from pedigree.store import schema as t

        rows = conn.execute(
            select(t.idempotency_keys.c.key, t.idempotency_keys.c.seq).order_by(
                t.idempotency_keys.c.seq
            )
        ).all()
    last = rows[-1].key.split(":")[0]
    records = []
    for row in rows:
        if row.key.startswith(last + ":"):
            entry = ledger.entry(row.seq)
            records.append(
                {
                    "schema": entry.schema,
                    "body": json.loads(json.dumps(entry.to_json()["body"])),
                    "idempotency_key": row.key,
                }
            )
    return {
        "id": last,
        "created": time.time(),
        "batch": {"versions": [], "locations": [], "records": [], "disclosures": []},
        "built": {"records": records, "disclosures": []},
    }


def test_an_entry_the_server_refuses_is_set_aside_with_its_reason(
    server_ledger: Ledger, spool: Path
) -> None:
    token, _ = tokens.create(server_ledger, role="engineer", name="pipeline")
    with LiveServer(create_app(server_ledger)) as live:
        remote = RemoteLedger(live.url, token)
        remote._ensure()
        bad = {
            "id": "bad",
            "created": time.time(),
            "batch": {
                "versions": [],
                "locations": [],
                "records": [
                    {
                        "schema": "pedigree.run/2",
                        "body": {
                            "job": {"name": "j"},
                            "kind": "train",
                            "inputs": [{"name": "never", "version": "recorded"}],
                        },
                    }
                ],
                "disclosures": [],
            },
            "built": None,
        }
        (remote.path / "00000000000000000001-bad.json").write_text(json.dumps(bad))
        delivery.configure(url=live.url, token=token)
        _pipeline(4)  # drains past the refused entry
        status = remote.status()
        assert status.pending == 0 and len(status.rejected) == 1
        assert "not recorded" in status.rejected[0]["reason"]
        assert len(_runs(server_ledger)) == 1

        viewer, _ = tokens.create(server_ledger, role="viewer", name="reader")
        delivery.configure(url=live.url, token=viewer)
        with pytest.warns(RuntimeWarning, match="403"):
            _pipeline(5)  # a token that may not write: kept, not rejected
        assert RemoteLedger(live.url, viewer).status().pending == 1


def test_cli_spool_status_and_flush(server_ledger: Ledger, spool: Path) -> None:
    token, _ = tokens.create(server_ledger, role="engineer", name="pipeline")
    live = LiveServer(create_app(server_ledger))
    env = {**os.environ, "PEDIGREE_URL": live.url, "PEDIGREE_TOKEN": token, "COLUMNS": "200"}
    delivery.configure(url=live.url, token=token)
    with pytest.warns(RuntimeWarning):
        _pipeline(7)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pedigree", "spool", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    status = json.loads(cli("status", "--json").stdout)
    assert status["pending_entries"] == 1 and status["url"] == live.url
    down = cli("flush")
    assert down.returncode == 1 and "unreachable" in down.stdout
    with live:
        up = cli("flush", "--json")
        assert up.returncode == 0, up.stdout + up.stderr
        assert json.loads(up.stdout)["sent"] == 1
    assert "1 entries" not in cli("status").stdout
    missing = subprocess.run(
        [sys.executable, "-m", "pedigree", "spool", "status"],
        env={k: v for k, v in env.items() if k != "PEDIGREE_URL"},
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "PEDIGREE_URL" in missing.stderr


WRITER = """
import sys, pandas as pd, pedigree
for i in range(int(sys.argv[1])):
    frame = pd.DataFrame({"x": [i, i + 1]})
    with pedigree.run("stream/step", kind="transform") as run:
        run.use(frame, name="stream/in")
        run.param(i=i)
        run.produce(frame + 1, name="stream/out")
    print(i, flush=True)
"""


@pytest.mark.slow
def test_killing_the_server_mid_stream_loses_and_duplicates_nothing(
    tmp_path: Path, spool: Path
) -> None:
    store = tmp_path / "server-store"
    ledger, _ = Ledger.init(store)
    token, _ = tokens.create(ledger, role="engineer", name="stream")
    ledger.close()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PEDIGREE_URL": url, "PEDIGREE_TOKEN": token}

    def serve() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "pedigree", "serve", "--store", str(store), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return process
            except httpx.HTTPError:
                time.sleep(0.1)
        process.kill()
        raise RuntimeError("pedigree serve did not start")

    server = serve()
    writer = subprocess.Popen(
        [sys.executable, "-W", "ignore", "-c", WRITER, "40"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    done = 0
    while done < 15:
        writer.stdout.readline()
        done += 1
    server.send_signal(signal.SIGKILL)  # mid-stream, no goodbye
    server.wait()
    while done < 25:
        writer.stdout.readline()
        done += 1
    server = serve()
    try:
        assert writer.wait(timeout=120) == 0
        remote = RemoteLedger(url, token)
        remote.flush()
        assert remote.status().pending == 0
    finally:
        server.terminate()
        server.wait()
    with Ledger.open(store) as after:
        steps = [r for r in _runs(after) if r.job.name == "stream/step"]
        assert sorted(r.parameters["i"] for r in steps) == list(range(40))
        assert after.audit().ok

"""Backup and restore on PostgreSQL as docs/operations.md says: pg_dump, pg_restore into a new
database, and the restored log audits, extends, and keeps its sealed values and access log."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from pedigree.ledger.proofs import verify_evidence
from pedigree.model import DatasetVersion, Run
from pedigree.server import access_log
from pedigree.store import Ledger

pytestmark = pytest.mark.postgres


@pytest.fixture
def databases(postgres: str) -> Iterator[tuple[str, str]]:
    """Two fresh databases (the live one and the restore target), dropped afterwards."""
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed")
    names = [f"pedigree_bk_{uuid.uuid4().hex[:10]}", f"pedigree_rs_{uuid.uuid4().hex[:10]}"]
    with psycopg.connect(postgres, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres)
    urls = [url.set(database=name).render_as_string(hide_password=False) for name in names]
    try:
        yield urls[0], urls[1]
    finally:
        with psycopg.connect(postgres, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_restored_dump_audits_extends_and_keeps_sealed_values(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    live_url, restored_url = databases
    store = tmp_path / "store"
    ledger, _ = Ledger.init(store, live_url, actor="ops")
    secret = ledger.commit("postgresql://etl@db.internal/clinical")
    source = DatasetVersion(name="raw", version="1", uri=secret.commitment)
    ledger.append_many(
        [source, Run(job="load", kind="ingest", outputs=[source.io()])], disclosures=[secret]
    )
    for i in range(20):
        ledger.append(DatasetVersion(name=f"t{i}", version="1"))
    access_log.append(
        ledger,
        [
            access_log.entry(
                token_id="t1",
                actor="alice",
                method="GET",
                path="/api/v1/datasets",
                node=None,
                status=200,
                client="127.0.0.1",
            )
        ],
    )
    published = ledger.checkpoint()
    ledger.close()

    dump = tmp_path / "pedigree.dump"
    subprocess.run(["pg_dump", "-Fc", "-d", live_url, "-f", str(dump)], check=True)
    subprocess.run(["pg_restore", "-d", restored_url, str(dump)], check=True)

    with Ledger.open(store, restored_url) as restored:
        report = restored.audit()
        assert report.ok and report.records == published.size
        assert restored.checkpoints()[-1].model_dump() == published.model_dump()
        assert (
            restored.disclosure(secret.commitment).value == "postgresql://etl@db.internal/clinical"
        )
        assert access_log.verify(restored)["ok"]
        with psycopg.connect(restored_url) as conn, pytest.raises(psycopg.Error):
            conn.execute("UPDATE access_log SET actor = 'mallory'")  # its trigger came back too
        restored.append(DatasetVersion(name="after-restore", version="1"))
        consistency = restored.prove_consistency(published.size)
        verify_evidence(consistency, (store / "ledger.pub").read_text())
        assert restored.audit().ok

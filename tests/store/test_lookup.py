"""The batched look-ups behind ingest: a dataset's newest version, whatever its history."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect

from pedigree.interop.openlineage import UNVERSIONED as PLACEHOLDER
from pedigree.model.records import DatasetVersion
from pedigree.store import Ledger, lookup
from pedigree.store.engine import write_transaction


def _newest(ledger: Ledger, *names: str) -> dict[tuple[str, str], str]:
    with write_transaction(ledger.engine) as conn:
        found = lookup.load(
            conn,
            runs=set(),
            datasets={("default", name) for name in names},
            versions=set(),
            jobs=set(),
            placeholder=PLACEHOLDER,
        )
    return found.latest


def test_the_newest_version_skips_the_placeholder_and_reads_one_index_entry(
    ledger: Ledger,
) -> None:
    ledger.append_many(DatasetVersion(name="long", version=f"v{n}") for n in range(800))
    ledger.append_many(
        [
            DatasetVersion(name="long", version=PLACEHOLDER),  # (newest, but no version)
            DatasetVersion(name="only-placeholder", version=PLACEHOLDER),
            DatasetVersion(name="short", version="first"),
        ]
    )
    assert _newest(ledger, "long", "only-placeholder", "short", "unknown") == {
        ("default", "long"): "v799",
        ("default", "short"): "first",
    }
    # The plan walks the (dataset_id, id) index backwards from the dataset's end: the cost
    # grows neither with its own versions nor with those recorded since (before revision
    # 0004 every version of the dataset was read).
    newest = lookup._Q_DATASETS
    with ledger.engine.connect() as conn:
        sql, params = newest._bind(
            conn, {"keys": ["long", "only-placeholder"], "placeholder": PLACEHOLDER}
        )
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE versions")
            plan = conn.exec_driver_sql(f"EXPLAIN {sql}", params).scalars().all()
        else:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert any("ix_versions_dataset" in line for line in plan), "\n".join(plan)


def test_an_older_store_gains_the_index_when_upgraded(ledger: Ledger) -> None:
    from alembic import command

    from pedigree.store.engine import _alembic_config

    ledger.append(DatasetVersion(name="d", version="1"))
    location = ledger.location
    with ledger.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0003")
        assert "ix_versions_dataset" not in _indexes(conn)
    ledger.close()
    upgraded, created = Ledger.init(location.path, location.database_url)
    with upgraded:
        assert not created
        with upgraded.engine.connect() as conn:
            assert "ix_versions_dataset" in _indexes(conn)
        assert _newest(upgraded, "d") == {("default", "d"): "1"}
        assert upgraded.audit().ok


def _indexes(conn: Connection) -> set[str]:
    return {index["name"] for index in inspect(conn).get_indexes("versions")}


@pytest.mark.postgres
def test_a_young_postgresql_store_refreshes_its_statistics_as_it_doubles(
    pg_url: str, tmp_path: Path
) -> None:
    """Statements planned while the tables were nearly empty would keep reading them
    whole (a sequential scan of ``runs`` per ingest); the ledger runs ``ANALYZE`` when the
    log reaches 1,024, 2,048, … records, so they are planned afresh."""
    with Ledger.init(tmp_path / "store", pg_url)[0] as ledger:

        def analyzed() -> int:
            with ledger.engine.connect() as conn:
                return conn.exec_driver_sql(
                    "SELECT analyze_count FROM pg_stat_user_tables "
                    "WHERE schemaname = current_schema() AND relname = 'versions'"
                ).scalar_one()

        def settled(expected: int) -> int:
            """The count once the refresh (a thread of its own) is done and counted."""
            for thread in ledger._statistics:
                thread.join()
            deadline = time.monotonic() + 10  # (the server's statistics follow the commit)
            while analyzed() != expected and time.monotonic() < deadline:
                time.sleep(0.05)
            return analyzed()

        ledger.append_many(DatasetVersion(name="d", version=f"v{n}") for n in range(1_000))
        assert settled(0) == 0
        ledger.append_many(DatasetVersion(name="d", version=f"w{n}") for n in range(100))
        assert settled(1) == 1  # (1,024 reached)
        ledger.append_many(DatasetVersion(name="d", version=f"x{n}") for n in range(100))
        assert settled(1) == 1  # (no new power of two)
        with ledger.engine.connect() as conn:
            reltuples = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE oid = 'versions'::regclass"
            ).scalar_one()
        assert reltuples >= 1_000


@pytest.mark.postgres
def test_the_append_that_reaches_a_power_of_two_is_answered_before_the_refresh_ends(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pedigree.store import ledger as ledger_module

    release = threading.Event()
    refreshed: list[list[str]] = []

    def slow_refresh(engine: object, tables: list[str]) -> None:
        release.wait(10)
        refreshed.append(tables)

    monkeypatch.setattr(ledger_module, "refresh_statistics", slow_refresh)
    ledger = Ledger.init(tmp_path / "store", pg_url)[0]
    try:
        ledger.append_many(DatasetVersion(name="d", version=f"v{n}") for n in range(1_100))
        assert ledger.size == 1_100 and refreshed == []  # (answered; the refresh waits)
        ledger.append(DatasetVersion(name="d", version="after"))  # (and appends go on)
        assert refreshed == []
        release.set()
    finally:
        ledger.close()  # (waits for the refresh)
    assert refreshed == [ledger_module._PLANNED]

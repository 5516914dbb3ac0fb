"""The access-log writer on a real store: a write's row is committed before its answer,
and a row that cannot be written yet stays queued."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from pedigree.errors import StoreError
from pedigree.server import access_log
from pedigree.server.access_log import AccessLogWriter
from pedigree.store import Ledger


def _paths(ledger: Ledger) -> list[str]:
    return [row["path"] for row in access_log.query(ledger, after_id=0)]


def _rename(ledger: Ledger, old: str, new: str) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


def test_record_durably_returns_once_written_and_keeps_a_failed_row(ledger: Ledger) -> None:
    writer = AccessLogWriter(ledger, interval=3600)  # nothing but a durable row wakes it
    writer.start()
    try:
        writer.record(access_log.entry(method="GET", path="/api/v1/read", status=200, actor="a"))
        row = access_log.entry(method="POST", path="/api/v1/write", status=200, actor="a")
        asyncio.run(writer.record_durably(row))
        assert _paths(ledger) == ["/api/v1/read", "/api/v1/write"]  # (queued rows go too)

        _rename(ledger, "access_log", "access_log_away")
        try:
            late = access_log.entry(method="POST", path="/api/v1/late", status=201, actor="a")
            with pytest.raises(StoreError):
                asyncio.run(writer.record_durably(late))
        finally:
            _rename(ledger, "access_log_away", "access_log")
        writer.flush()  # the row was kept for the next attempt
        assert _paths(ledger) == ["/api/v1/read", "/api/v1/write", "/api/v1/late"]
        assert access_log.verify(ledger)["ok"] is True
    finally:
        writer.close()


def test_record_durably_without_the_background_thread_writes_at_once(ledger: Ledger) -> None:
    writer = AccessLogWriter(ledger, interval=3600)  # never started
    row = access_log.entry(method="DELETE", path="/api/v1/gone", status=404, actor="a")
    asyncio.run(writer.record_durably(row))
    assert _paths(ledger) == ["/api/v1/gone"]

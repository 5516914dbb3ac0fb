"""Tampering directly in the database is detected by the audit, which names what moved."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, insert, select, update

from pedigree.ledger import merkle
from pedigree.model import Agent
from pedigree.store import Ledger
from pedigree.store import schema as t
from tests.pipeline import record_pipeline

R = t.records


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    record_pipeline(ledger)  # records 1-8
    ledger.checkpoint()  # a signed checkpoint at size 8
    ledger.append_many([Agent(agent_id=f"svc-{i}", kind="service") for i in range(300)])  # 9-308
    assert ledger.audit().ok
    return ledger


def tamper(ledger: Ledger, *statements) -> None:  # type: ignore[no-untyped-def]
    with ledger.engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def row(ledger: Ledger, seq: int):  # type: ignore[no-untyped-def]
    with ledger.engine.connect() as conn:
        return conn.execute(select(R).where(R.c.seq == seq)).one()


def first_problem(ledger: Ledger) -> str:
    report = ledger.audit()
    assert not report.ok
    assert report.first is not None
    return str(report.first)


def test_a_clean_ledger_audits_ok(filled: Ledger) -> None:
    report = filled.audit()
    assert report.ok and report.records == 308 and report.head_size == 308
    assert report.checkpoints == 3  # empty tree at init, size 8, the latest head
    assert report.to_json()["first_problem"] is None


def test_changed_record_content(filled: Ledger) -> None:
    changed = bytes(row(filled, 5).canonical).replace(b'"synthetic', b'"syntheti_')
    tamper(filled, update(R).where(R.c.seq == 5).values(canonical=changed))
    assert first_problem(filled) == "record 5: content does not match its stored hash (altered)"


def test_changed_record_and_its_hash_are_caught_by_the_signed_heads(filled: Ledger) -> None:
    changed = bytes(row(filled, 12).canonical).replace(b"svc-3", b"svc-X")
    tamper(
        filled,
        update(R)
        .where(R.c.seq == 12)
        .values(canonical=changed, leaf_hash=merkle.leaf_hash(changed)),
    )
    problems = [str(p) for p in filled.audit().problems]
    assert any("does not match the records: a record in 9–308" in p for p in problems)
    assert any("Merkle node 8/0 does not match records 1–256" in p for p in problems)


def test_deleted_record(filled: Ledger) -> None:
    tamper(filled, delete(R).where(R.c.seq == 100))
    assert first_problem(filled) == "record 100 missing: the log jumps from 99 to 101 (deleted)"


def test_reordered_records(filled: Ledger) -> None:
    a, b = row(filled, 20), row(filled, 21)
    tamper(
        filled,
        update(R).where(R.c.seq == 20).values(canonical=b.canonical, leaf_hash=b.leaf_hash),
        update(R).where(R.c.seq == 21).values(canonical=a.canonical, leaf_hash=a.leaf_hash),
    )
    assert (
        first_problem(filled) == "record 20 holds the content of record 21 (reordered or replaced)"
    )


def test_truncated_log(filled: Ledger) -> None:
    tamper(filled, delete(R).where(R.c.seq >= 300))
    assert (
        first_problem(filled) == "log truncated: it holds 299 records, the signed head covers 308"
    )


def test_record_inserted_behind_the_ledgers_back(filled: Ledger) -> None:
    last = row(filled, 308)
    forged = bytes(last.canonical).replace(b'"seq":308', b'"seq":309')
    tamper(
        filled,
        insert(R).values(
            seq=309,
            time=last.time,
            actor="mallory",
            schema=last.schema,
            canonical=forged,
            leaf_hash=merkle.leaf_hash(forged),
        ),
    )
    assert "records 309–309 are not covered by the signed head" in first_problem(filled)


def test_damaged_merkle_node(filled: Ledger) -> None:
    tamper(
        filled, update(t.merkle_nodes).where(t.merkle_nodes.c.level == 8).values(hash=b"\x00" * 32)
    )
    assert first_problem(filled).startswith("Merkle node 8/0 does not match records 1–256")


def test_forged_checkpoint_and_head(filled: Ledger) -> None:
    with filled.engine.connect() as conn:
        signed = json.loads(
            conn.execute(
                select(t.checkpoints.c.signed).where(t.checkpoints.c.size == 8)
            ).scalar_one()
        )
    signed["checkpoint"]["root"] = "00" * 32
    tamper(
        filled,
        update(t.checkpoints).where(t.checkpoints.c.size == 8).values(signed=json.dumps(signed)),
    )
    problems = [str(p) for p in filled.audit().problems]
    assert any("signature does not verify" in p for p in problems)
    assert any("(size 8) does not match the records" in p for p in problems)


def test_replaced_key_in_the_database(filled: Ledger) -> None:
    tamper(filled, update(t.meta).where(t.meta.c.key == "key_id").values(value="ab" * 32))
    problems = [str(p) for p in filled.audit().problems]
    assert "the database names another signing key than the trusted one (key replaced?)" in problems


def test_damaged_frontier_is_reported_and_blocks_new_checkpoints(filled: Ledger) -> None:
    tamper(filled, update(t.ledger_state).values(frontier=b"\x01" * 32 * 3))
    assert "stored tree frontier does not match" in first_problem(filled)
    with pytest.raises(Exception, match="frontier"):
        filled.checkpoint()


def test_audit_uses_the_key_file_not_the_database_copy(filled: Ledger, tmp_path) -> None:  # type: ignore[no-untyped-def]
    other, _ = Ledger.init(tmp_path / "other")
    other.close()
    report = filled.audit(trusted_key=other.public_key)
    assert not report.ok
    assert any("not by the trusted key" in str(p) for p in report.problems)


def test_the_scan_streams_in_batches_and_stops_when_abandoned(filled: Ledger, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Small batches: the PostgreSQL scan hands batches from its fetching thread in order;
    a reader that stops early leaves no thread or cursor behind; a failure surfaces."""
    import threading

    from pedigree.store import audit as audit_module

    monkeypatch.setattr(audit_module, "_BATCH", 7)
    assert filled.audit().ok
    with filled.engine.connect() as conn:
        seqs = [seq for seq, _ in audit_module.scan_records(conn, "seq, leaf_hash")]
        assert seqs == list(range(1, 309))
        scan = audit_module.scan_records(conn, "seq")
        assert [next(scan) for _ in range(10)] == [(i,) for i in range(1, 11)]
        scan.close()
        assert not any(th.name == "pedigree-audit-fetch" for th in threading.enumerate())
        with pytest.raises(Exception, match="no_such_column"):
            list(audit_module.scan_records(conn, "no_such_column"))
    tamper(filled, delete(R).where(R.c.seq == 200))
    assert first_problem(filled) == "record 200 missing: the log jumps from 199 to 201 (deleted)"

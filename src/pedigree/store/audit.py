"""Audit: recompute the log's tree from the stored records and check every signed head.

One pass over the records (streamed, constant memory) recomputes each leaf hash and the
tree, and compares it with the stored leaf hashes, the stored Merkle nodes, every stored
checkpoint and the latest signed head. Only when something fails does a second,
slower pass parse records to say which one moved.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from pedigree.errors import ProofError
from pedigree.ledger import merkle
from pedigree.ledger.checkpoint import SignedCheckpoint, key_id, verify_checkpoint
from pedigree.store import schema as t
from pedigree.store.schema import as_bytes

_MAX_PROBLEMS = 20
_BATCH = 20_000


@dataclass(slots=True)
class Problem:
    seq: int | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(slots=True)
class AuditReport:
    records: int = 0
    checkpoints: int = 0
    head_size: int = 0
    root: str = ""
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        with_seq = [p for p in self.problems if p.seq is not None]
        if with_seq:
            return min(with_seq, key=lambda p: p.seq or 0)
        return self.problems[0] if self.problems else None

    def add(self, seq: int | None, message: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(Problem(seq, message))

    def to_json(self) -> dict[str, Any]:
        first = self.first
        return {
            "ok": self.ok,
            "records": self.records,
            "head_size": self.head_size,
            "checkpoints_verified": self.checkpoints,
            "root": self.root,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records / self.seconds) if self.seconds else None,
            "first_problem": {"seq": first.seq, "message": first.message} if first else None,
            "problems": [{"seq": p.seq, "message": p.message} for p in self.problems],
        }


def audit(
    conn: Connection,
    *,
    log_id: str,
    trusted_key: Ed25519PublicKey,
    tile_level: int,
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    started = time.perf_counter()
    report = AuditReport()
    meta = {row.key: row.value for row in conn.execute(select(t.meta.c.key, t.meta.c.value))}
    if meta.get("key_id") != key_id(trusted_key):
        report.add(
            None, "the database names another signing key than the trusted one (key replaced?)"
        )
    state = conn.execute(select(t.ledger_state).where(t.ledger_state.c.id == 1)).first()
    if state is None:
        report.add(None, "the ledger state (signed head) is missing")
        return report
    head = SignedCheckpoint.model_validate_json(state.head)
    report.head_size = head.size

    # Every signed tree head we hold, by size; each must verify and match the recomputed root.
    signed: dict[int, list[tuple[str, SignedCheckpoint]]] = {}
    rows = conn.execute(
        select(t.checkpoints.c.id, t.checkpoints.c.signed).order_by(t.checkpoints.c.id)
    )
    for row in rows:
        cp = SignedCheckpoint.model_validate_json(row.signed)
        signed.setdefault(cp.size, []).append((f"checkpoint #{row.id}", cp))
    signed.setdefault(head.size, []).append(("the latest signed head", head))
    for entries in signed.values():
        for name, cp in entries:
            try:
                verify_checkpoint(cp, trusted_key)
            except ProofError as exc:
                report.add(None, f"{name}: {exc}")
            if cp.checkpoint.log_id != log_id:
                report.add(None, f"{name} belongs to another ledger ({cp.checkpoint.log_id})")
            report.checkpoints += 1

    stored_nodes = {
        (row.level, row.idx): bytes(row.hash)
        for row in conn.execute(
            select(t.merkle_nodes.c.level, t.merkle_nodes.c.idx, t.merkle_nodes.c.hash)
        )
    }

    frontier: list[bytes] = []
    size = 0
    good_size = 0  # largest size whose recomputed root matched a signed head
    leaf_hash, append_leaf, fold = merkle.leaf_hash, merkle.append_leaf, merkle.fold
    for seq, canonical, stored_leaf in scan_records(conn, "seq, canonical, leaf_hash"):
        expected = size + 1
        if seq != expected:
            if seq > expected:
                missing = f"{expected}" if seq == expected + 1 else f"{expected}–{seq - 1}"
                report.add(
                    expected,
                    f"record {missing} missing: the log jumps from {size} to {seq} (deleted)",
                )
            else:
                report.add(seq, f"record {seq} appears twice or out of order")
        leaf = leaf_hash(canonical if type(canonical) is bytes else as_bytes(canonical))
        if leaf != stored_leaf and leaf != as_bytes(stored_leaf):
            report.add(seq, f"record {seq}: content does not match its stored hash (altered)")
        for level, idx, digest in append_leaf(frontier, size, leaf, tile_level):
            if stored_nodes.get((level, idx), digest) != digest:
                report.add(
                    seq,
                    f"Merkle node {level}/{idx} does not match records "
                    f"{(idx << level) + 1}–{(idx + 1) << level} (a record or the node was altered)",
                )
        size += 1
        if size in signed:
            root = fold(frontier)
            for name, cp in signed[size]:
                if cp.root != root:
                    report.add(
                        None,
                        f"{name} (size {size}) does not match the records: a record in "
                        f"{good_size + 1}–{size} was altered, replaced or reordered",
                    )
                    break
            else:
                good_size = size
        if progress and size % 50_000 == 0:
            progress(size)
    report.records = size
    if progress:
        progress(size)

    if size < head.size:
        report.add(
            size + 1, f"log truncated: it holds {size} records, the signed head covers {head.size}"
        )
    elif size > head.size:
        report.add(
            head.size + 1,
            f"records {head.size + 1}–{size} are not covered by the signed head (written outside the ledger)",
        )
    if size == head.size and bytes(state.frontier) != b"".join(frontier):
        report.add(
            None, "the stored tree frontier does not match the records (new appends would be wrong)"
        )
    report.root = merkle.fold(frontier).hex()
    if not report.ok:
        _locate_moved_records(conn, report)
    report.seconds = time.perf_counter() - started
    return report


def scan_records(conn: Connection, columns: str) -> Iterator[tuple[Any, ...]]:
    """Stream ``columns`` of every record in log order straight from the driver.

    The audit reads every record; SQLAlchemy's per-row processing would cost more than the
    hashing. On PostgreSQL a server-side cursor in binary mode avoids hex-encoded bytea,
    and the next batch is fetched by a second thread while this one hashes the current
    one: the database produces rows while Python checks them, instead of each waiting
    for the other (psycopg releases the GIL while it waits on the server).
    """
    raw = conn.connection.dbapi_connection
    if conn.dialect.name != "postgresql":
        cursor = raw.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(f"SELECT {columns} FROM records ORDER BY seq")
            while rows := cursor.fetchmany(_BATCH):
                yield from rows
        finally:
            cursor.close()
        return
    cursor = raw.cursor(name="pedigree_scan", binary=True)  # type: ignore[union-attr]
    batches: queue.Queue[list[tuple[Any, ...]] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def hand_over(item: list[tuple[Any, ...]] | BaseException | None) -> None:
        while not stop.is_set():  # unless the reader has gone
            try:
                batches.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def fetch() -> None:
        try:
            cursor.execute(f"SELECT {columns} FROM records ORDER BY seq")
            while not stop.is_set():
                rows = cursor.fetchmany(_BATCH)
                hand_over(rows or None)
                if not rows:
                    return
        except BaseException as exc:  # re-raised in the reading thread
            hand_over(exc)

    fetcher = threading.Thread(target=fetch, name="pedigree-audit-fetch", daemon=True)
    fetcher.start()
    try:
        while (item := batches.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        fetcher.join()
        cursor.close()


def _locate_moved_records(conn: Connection, report: AuditReport) -> None:
    """Slow path after a failure: name records whose own ``seq`` disagrees with their row."""
    for seq, canonical in scan_records(conn, "seq, canonical"):
        try:
            inner = json.loads(canonical).get("seq")
        except (ValueError, AttributeError):
            report.add(seq, f"record {seq} is not valid JSON (altered)")
            continue
        if inner != seq:
            report.add(
                seq, f"record {seq} holds the content of record {inner} (reordered or replaced)"
            )

"""Audit throughput: records/s re-verified by ``ledger.audit()``.

The log first gets 500,000 records (pipeline steps of 2 dataset versions + 1 run,
appended with ``append_many`` in batches of 10,000, a stored checkpoint every 100,000
records). ``ledger.audit()`` then streams the whole log, rehashes every record,
rebuilds the Merkle tree, compares it with the stored tree nodes, and verifies every
checkpoint and the signed head.

Baseline, same process, same rows: a plain driver connection (``sqlite3`` / ``psycopg``,
no SQLAlchemy) reading ``SELECT seq, canonical, leaf_hash FROM records ORDER BY seq``
sequentially (streamed, as the audit does: on PostgreSQL a server-side cursor of 20,000
rows in binary mode, so ``bytea`` arrives as bytes rather than hex text) and computing
``hashlib.sha256(0x00 || canonical)`` of each, compared with the stored leaf hash. Audit
and baseline alternate, 3 times each; medians.

Goal: >= 200,000 records/s.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sqlite3
import time

import psycopg

import _common as c
from pedigree.store.ledger import Ledger

GOAL_RATE = 200_000
CHECKPOINT_EVERY = 100_000
STREAM_ROWS = 20_000
QUERY = "SELECT seq, canonical, leaf_hash FROM records ORDER BY seq"


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--records", type=int, default=500_000, help="records in the log (default 500,000)"
    )
    parser.add_argument(
        "--batch", type=int, default=10_000, help="records per append_many (default 10,000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="audits and baselines (default 3)")


def read_and_hash(ledger: Ledger) -> tuple[int, int]:
    """The baseline: (rows read, rows whose SHA-256 matched the stored leaf hash)."""
    sha256 = hashlib.sha256
    rows = matched = 0
    if ledger.location.backend == "sqlite":
        conn = sqlite3.connect(ledger.location.sqlite_path)
        try:
            for _seq, canonical, leaf in conn.execute(QUERY):
                rows += 1
                matched += sha256(b"\x00" + canonical).digest() == leaf
        finally:
            conn.close()
    else:
        assert ledger.location.database_url is not None
        with (
            psycopg.connect(ledger.location.database_url) as conn,
            conn.cursor(name="bench_audit_baseline", binary=True) as cur,
        ):
            cur.itersize = STREAM_ROWS
            cur.execute(QUERY)
            for _seq, canonical, leaf in cur:
                rows += 1
                matched += sha256(b"\x00" + canonical).digest() == leaf
    return rows, matched


def measure(backend: str, records: list, args: argparse.Namespace, out: c.Output) -> dict:
    with c.ledger_store(backend) as ledger:
        out.say(f"[{backend}] appending {len(records):,} records …")
        every = max(CHECKPOINT_EVERY // args.batch, 1) * args.batch
        load = 0.0
        for start in range(0, len(records), every):
            load += c.append_in_batches(ledger, records[start : start + every], args.batch)
            ledger.checkpoint()
            out.progress(f"appended {min(start + every, len(records)):,} records")
        out.say(f"[{backend}] appended in {load:.1f} s ({len(records) / load:,.0f} records/s)")
        audits: list[float] = []
        baselines: list[float] = []
        checkpoints = 0
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = ledger.audit()
            audits.append(time.perf_counter() - started)
            if not report.ok or report.records != len(records):
                raise SystemExit(f"audit failed: {report.to_json()}")
            checkpoints = report.checkpoints
            started = time.perf_counter()
            rows, matched = read_and_hash(ledger)
            baselines.append(time.perf_counter() - started)
            if rows != matched or rows != len(records):
                raise SystemExit(f"baseline read {rows} rows, {matched} hashes matched")
    audit_s, base_s = c.median(audits), c.median(baselines)
    rate, base_rate = len(records) / audit_s, len(records) / base_s
    return {
        "records": len(records),
        "checkpoints_verified": checkpoints,
        "load_seconds": round(load, 1),
        "audit_seconds": round(audit_s, 3),
        "audit_records_per_s": round(rate),
        "baseline_seconds": round(base_s, 3),
        "baseline_records_per_s": round(base_rate),
        "ratio_to_baseline": round(rate / base_rate, 3),
        "goal_records_per_s": GOAL_RATE,
        "meets_goal": rate >= GOAL_RATE,
    }


def main() -> None:
    args = c.parse_args("Audit: records/s re-verified by ledger.audit()", extra=options)
    total = 6_000 if args.quick else args.records
    if args.quick:
        args.batch, args.repeat = min(args.batch, 2_000), 2
    out = c.Output(args, "audit")
    c.header(out, "Audit (ledger.audit: rehash, rebuild the tree, verify checkpoints)")
    started = time.perf_counter()
    records = c.pipeline_units(math.ceil(total / 3))[:total]
    out.say(f"built {len(records):,} records in {time.perf_counter() - started:.1f} s (not timed)")
    for backend in args.backends:
        res = measure(backend, records, args, out)
        out.results[backend] = res
        out.say(
            f"[{backend}] ledger.audit()       : {res['audit_records_per_s']:>9,} records/s "
            f"({res['audit_seconds']:.2f} s; {res['checkpoints_verified']} signed heads verified)"
        )
        out.say(
            f"[{backend}] read + sha256 (raw)  : {res['baseline_records_per_s']:>9,} records/s "
            f"({res['baseline_seconds']:.2f} s, same rows)"
        )
        out.say(
            f"[{backend}] ratio {res['ratio_to_baseline']:.2f}x baseline; goal >= "
            f"{GOAL_RATE:,}/s {c.verdict(res['meets_goal'])}"
        )
    out.finish()


if __name__ == "__main__":
    main()

"""Batched append throughput: records/s through ``Ledger.append_many``.

The records are pre-built pydantic models (built before timing): per pipeline step an
input dataset version, an output dataset version and the run that used the one and
generated the other. They go in through ``append_many`` in batches (10,000 records by
default), each batch one transaction that checks references, numbers, hashes (Merkle
tree), projects and signs.

Baseline, same process, same data: the exact rows the ledger stored in ``records`` (seq,
time, actor, schema, canonical bytes, leaf hash), read back and inserted with a plain
``executemany`` into a table with the same columns and primary key in a fresh database
of the same backend (``sqlite3`` with WAL + synchronous=NORMAL like the store, or
``psycopg``), same batch size, one commit per batch. The two run in alternate batches
(a ledger batch, then its rows raw), so both see the same spells of the machine.

Goal: >= 20,000 records/s and >= 0.3x the raw baseline.
"""

from __future__ import annotations

import argparse
import math
import time

import _common as c
from pedigree.ledger.canonical import canonical_json
from pedigree.model import body_to_json

GOAL_RATE = 20_000
GOAL_RATIO = 0.3


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--records", type=int, default=100_000, help="records to append (default 100,000)"
    )
    parser.add_argument(
        "--batch", type=int, default=10_000, help="records per append_many (default 10,000)"
    )


def prepare_cost(records: list, sample: int = 3_000, repeat: int = 5) -> float:
    """Seconds per record of the pydantic JSON dump + RFC 8785 canonical bytes, the part
    of ``append_many`` that needs no database (median of ``repeat`` passes over a sample
    of the same records)."""
    chosen = records[:sample]
    passes = []
    for _ in range(repeat):
        started = time.perf_counter()
        for record in chosen:
            canonical_json(body_to_json(record))
        passes.append((time.perf_counter() - started) / len(chosen))
    return c.median(passes)


def measure(backend: str, records: list, batch: int, out: c.Output) -> dict:
    """Each batch through the ledger, then its rows through the baseline, in turn: this
    VM's speed drifts within minutes, and a baseline timed in another spell than the
    ledger moved the ratio more than the code did."""
    seconds = raw_seconds = 0.0
    ratios = []
    stored: list = []  # (every row the ledger stored, batch by batch)
    with c.ledger_store(backend) as ledger, c.raw_database(backend) as raw:
        raw.create_log_table()
        step, reported = max(len(records) // 10, batch), 0
        for chunk in c.batches(records, batch):
            last = ledger.size
            started = time.perf_counter()
            ledger.append_many(chunk)
            took = time.perf_counter() - started
            rows = c.read_log_rows(ledger, after=last)  # (not timed)
            if len(rows) != len(chunk):
                raise SystemExit(f"expected {len(chunk)} new rows in the log, found {len(rows)}")
            started = time.perf_counter()
            raw.insert_batch(rows)
            raw_took = time.perf_counter() - started
            seconds, raw_seconds = seconds + took, raw_seconds + raw_took
            stored += rows
            ratios.append(raw_took / took)
            if ledger.size - reported >= step and ledger.size < len(records):
                reported = ledger.size
                out.progress(f"appended {ledger.size:,} / {len(records):,} records")
        size = ledger.size
    if size != len(records) or len(stored) != len(records):
        raise SystemExit(f"expected {len(records)} records in the log, found {size}")
    rate, raw_rate = len(records) / seconds, len(stored) / raw_seconds
    return {
        "records": len(records),
        "batch": batch,
        "mean_record_bytes": round(c.mean_canonical_bytes(stored)),
        "ledger_seconds": round(seconds, 3),
        "ledger_records_per_s": round(rate),
        "raw_seconds": round(raw_seconds, 3),
        "raw_records_per_s": round(raw_rate),
        "ratio_to_raw": round(rate / raw_rate, 3),
        "batch_ratios": [round(r, 3) for r in ratios],
        "goal_records_per_s": GOAL_RATE,
        "goal_ratio_to_raw": GOAL_RATIO,
        "meets_rate_goal": rate >= GOAL_RATE,
        "meets_ratio_goal": rate / raw_rate >= GOAL_RATIO,
    }


def main() -> None:
    args = c.parse_args("Batched append: records/s through Ledger.append_many", extra=options)
    total = 3_000 if args.quick else args.records
    if args.quick:
        args.batch = min(args.batch, 1_000)
    out = c.Output(args, "append")
    c.header(out, "Batched append (Ledger.append_many)")
    started = time.perf_counter()
    records = c.pipeline_units(math.ceil(total / 3))[:total]
    out.say(
        f"built {len(records):,} records in {time.perf_counter() - started:.1f} s "
        "(per step: 2 dataset versions + 1 run; not timed)"
    )
    prepare = prepare_cost(records)
    out.say(
        f"pydantic dump + RFC 8785 canonical form (part of append_many): "
        f"{prepare * 1e6:.1f} µs/record, i.e. at most {1 / prepare:,.0f} records/s"
    )
    for backend in args.backends:
        out.say(f"[{backend}] appending {len(records):,} records in batches of {args.batch:,} …")
        res = measure(backend, records, args.batch, out)
        res["prepare_us_per_record"] = round(prepare * 1e6, 1)
        out.results[backend] = res
        out.say(
            f"[{backend}] Ledger.append_many : {res['ledger_records_per_s']:>9,} records/s "
            f"({res['ledger_seconds']:.2f} s, mean record {res['mean_record_bytes']} B)"
        )
        out.say(
            f"[{backend}] raw executemany    : {res['raw_records_per_s']:>9,} records/s "
            f"({res['raw_seconds']:.2f} s, same rows, same batches)"
        )
        out.say(
            f"[{backend}] ratio {res['ratio_to_raw']:.3f}x raw (batches: "
            f"{', '.join(f'{r:.2f}' for r in res['batch_ratios'])}); goal >= {GOAL_RATE:,}/s "
            f"{c.verdict(res['meets_rate_goal'])}, >= {GOAL_RATIO}x raw "
            f"{c.verdict(res['meets_ratio_goal'])}"
        )
    out.finish()


if __name__ == "__main__":
    main()

"""Table fingerprint throughput on a >= 1 GB mixed-type Arrow table in memory.

``table_fingerprint(table)`` canonicalises every column (widening int32 and float32,
decoding the dictionary, scaling microseconds to nanoseconds, folding NaN into nulls ...) in
blocks of 131,072 rows and hashes each column of each block with BLAKE3 on a thread pool.

Baseline, same process, same table: raw BLAKE3 over the table's own Arrow buffers (every
validity, offsets, values and dictionary buffer, as they sit in memory), with the ``blake3``
package using all cores (``max_threads=blake3.AUTO``); single-threaded raw BLAKE3 is printed
too. Fingerprint and baselines alternate ``--repeat`` times; medians. The ratio is taken against
the faster of the two raw variants in the run (on a busy 2-core machine the threaded one is
not always faster). GB/s are over the bytes of those buffers (the table's ``nbytes``).

Goal: >= 0.5x raw BLAKE3.
"""

from __future__ import annotations

import argparse
import time

import blake3

import _common as c
from _tables import buffers, mixed_table
from pedigree.fingerprint import table_fingerprint

GOAL_RATIO = 0.5


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gb", type=float, default=1.2, help="table size in GB of Arrow buffers (default 1.2)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each (default 5)")


def raw_blake3(parts: list, threads: int) -> float:
    started = time.perf_counter()
    for part in parts:
        blake3.blake3(part, max_threads=threads).digest()
    return time.perf_counter() - started


def main() -> None:
    args = c.parse_args("Table fingerprint throughput vs raw BLAKE3", extra=options)
    if args.quick:
        args.gb, args.repeat = 0.02, 2
    out = c.Output(args, "fingerprint")
    c.header(out, "Table fingerprint, in-memory Arrow table (canonical form + BLAKE3 tree)")
    started = time.perf_counter()
    table = mixed_table(int(args.gb * 1e9))
    parts = buffers(table)
    size = sum(p.size for p in parts)
    out.say(
        f"built {table.num_rows:,} rows x {table.num_columns} columns, {size / 1e9:.2f} GB in "
        f"{len(parts)} buffers, in {time.perf_counter() - started:.1f} s (not timed)"
    )
    fingerprint = table_fingerprint(table)  # warm-up (imports, thread pool, page faults)
    ours: list[float] = []
    raw: list[float] = []
    raw_one: list[float] = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        again = table_fingerprint(table)
        ours.append(time.perf_counter() - started)
        if again != fingerprint:
            raise SystemExit("the fingerprint changed between runs")
        raw.append(raw_blake3(parts, blake3.blake3.AUTO))
        raw_one.append(raw_blake3(parts, 1))
    ours_s, raw_s, one_s = c.median(ours), c.median(raw), c.median(raw_one)
    ratio = min(raw_s, one_s) / ours_s  # against the faster raw variant of this run
    res = {
        "rows": table.num_rows,
        "columns": table.num_columns,
        "bytes": size,
        "fingerprint": fingerprint.fingerprint,
        "fingerprint_seconds": round(ours_s, 3),
        "fingerprint_gb_per_s": round(size / ours_s / 1e9, 2),
        "raw_blake3_seconds": round(raw_s, 3),
        "raw_blake3_gb_per_s": round(size / raw_s / 1e9, 2),
        "raw_blake3_1_thread_gb_per_s": round(size / one_s / 1e9, 2),
        "ratio_to_raw_blake3": round(ratio, 3),
        "runs": {
            "fingerprint_s": [round(x, 3) for x in ours],
            "raw_blake3_s": [round(x, 3) for x in raw],
        },
        "goal_ratio": GOAL_RATIO,
        "meets_goal": ratio >= GOAL_RATIO,
    }
    out.results["memory"] = res
    out.say(f"table_fingerprint       : {res['fingerprint_gb_per_s']:6.2f} GB/s ({ours_s:.3f} s)")
    out.say(f"raw BLAKE3, all cores   : {res['raw_blake3_gb_per_s']:6.2f} GB/s ({raw_s:.3f} s)")
    out.say(f"raw BLAKE3, one thread  : {res['raw_blake3_1_thread_gb_per_s']:6.2f} GB/s")
    out.say(
        f"ratio {ratio:.2f}x the faster raw BLAKE3; goal >= {GOAL_RATIO}x "
        f"{c.verdict(res['meets_goal'])}"
    )
    out.finish()


if __name__ == "__main__":
    main()

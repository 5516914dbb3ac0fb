"""Single append latency, commit included: ``Ledger.append(record)`` one at a time.

The store first holds a small pipeline (200 steps: 600 dataset version and run
records). Then each timed call appends one annotation (an evaluation, a tag or a
sensitivity label) on one of those dataset versions: one transaction that checks the
target exists, numbers, hashes, projects, signs the new tree head and commits.

Baseline, same process: the same stored rows (read back from ``records``) inserted one
at a time as a single-row ``INSERT`` + ``COMMIT`` into a plain table with the same
columns in a fresh database of the same backend. Median and p95 of each; the ratio is
ledger latency / raw latency.

Goal: <= 1 ms median on SQLite.
"""

from __future__ import annotations

import argparse
import random
import time

import _common as c
from pedigree.model import Annotation, DatasetVersion, Target

GOAL_MEDIAN_MS = 1.0
WARMUP = 20


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--appends", type=int, default=2_000, help="timed appends (default 2,000)")


def annotations(targets: list[DatasetVersion], count: int, seed: int = 5) -> list[Annotation]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        version = targets[rng.randrange(len(targets))]
        target = Target(
            type="version", namespace=version.namespace, name=version.name, version=version.version
        )
        if n % 3 == 0:
            kind = "evaluation"
            body = {
                "metric": "fidelity.ks_mean",
                "value": round(rng.random(), 6),
                "threshold": 0.8,
                "passed": True,
            }
        elif n % 3 == 1:
            kind, body = "tag", {"tag": f"team-{n % 7}"}
        else:
            kind, body = "sensitivity", {"level": "internal", "contains_pii": False}
        out.append(
            Annotation(annotation_id=c.stable_uuid(rng), target=target, kind=kind, body=body)
        )
    return out


def measure(backend: str, count: int, out: c.Output) -> dict:
    setup = c.pipeline_units(200)
    targets = [r for r in setup if isinstance(r, DatasetVersion)]
    notes = annotations(targets, WARMUP + count)
    latencies: list[float] = []
    with c.ledger_store(backend) as ledger:
        ledger.append_many(setup)
        for note in notes[:WARMUP]:
            ledger.append(note)
        first = ledger.size + 1
        for note in notes[WARMUP:]:
            started = time.perf_counter()
            ledger.append(note)
            latencies.append(time.perf_counter() - started)
        rows = [r for r in c.read_log_rows(ledger) if r[0] >= first - WARMUP]
    if len(rows) != WARMUP + count:
        raise SystemExit(f"expected {WARMUP + count} annotation records, found {len(rows)}")

    raw_latencies: list[float] = []
    with c.raw_database(backend) as raw:
        raw.create_log_table()
        insert = raw.insert_sql()
        cur = raw.conn.cursor()
        for i, row in enumerate(rows):
            started = time.perf_counter()
            cur.execute(insert, row)
            raw.conn.commit()
            if i >= WARMUP:
                raw_latencies.append(time.perf_counter() - started)
        cur.close()

    med, raw_med = c.median(latencies), c.median(raw_latencies)
    return {
        "appends": count,
        "mean_record_bytes": round(c.mean_canonical_bytes(rows)),
        "median_ms": c.ms(med),
        "p95_ms": c.ms(c.percentile(latencies, 95)),
        "mean_ms": c.ms(sum(latencies) / len(latencies)),
        "raw_median_ms": c.ms(raw_med),
        "raw_p95_ms": c.ms(c.percentile(raw_latencies, 95)),
        "ratio_to_raw": round(med / raw_med, 2),
        "goal_median_ms": GOAL_MEDIAN_MS,
        "meets_goal": c.ms(med) <= GOAL_MEDIAN_MS if backend == "sqlite" else None,
    }


def main() -> None:
    args = c.parse_args("Single append latency: Ledger.append, commit included", extra=options)
    count = 200 if args.quick else args.appends
    out = c.Output(args, "single_append")
    c.header(out, "Single append latency (Ledger.append, commit included)")
    for backend in args.backends:
        out.say(f"[{backend}] {count:,} appends of one annotation each …")
        res = measure(backend, count, out)
        out.results[backend] = res
        out.say(
            f"[{backend}] Ledger.append        : median {res['median_ms']:.3f} ms, "
            f"p95 {res['p95_ms']:.3f} ms (mean record {res['mean_record_bytes']} B)"
        )
        out.say(
            f"[{backend}] raw INSERT + COMMIT  : median {res['raw_median_ms']:.3f} ms, "
            f"p95 {res['raw_p95_ms']:.3f} ms (same rows)"
        )
        goal = (
            f"goal <= {GOAL_MEDIAN_MS} ms median {c.verdict(res['meets_goal'])}"
            if backend == "sqlite"
            else "goal is for SQLite only"
        )
        out.say(f"[{backend}] ratio {res['ratio_to_raw']:.1f}x raw latency; {goal}")
    out.finish()


if __name__ == "__main__":
    main()

"""Capture overhead: an empty ``pedigree.run`` block, and a run with one ~100 MB input.

* Empty run: ``with pedigree.run("job"): pass`` into a fresh embedded store, after a
  warm-up run (the first run of a process scans packages and git once). Baseline: the
  same empty block with no capture (a bare ``with`` of a null context), so the ratio says
  what capture adds. Goal: median <= 2 ms on SQLite.
* One large input: a run that ``use``s a pandas DataFrame of about 100 MB (mixed types)
  and produces nothing; baseline: the same block without capture. The difference is
  the cost of fingerprinting the table once plus recording the run; a second ``use`` of
  the same object in the same run costs nothing more (it is fingerprinted once).

Each figure prints the median and the ratio to its baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import numpy as np
import pandas as pd

import _common as c
import pedigree
from pedigree.capture import delivery

GOAL_EMPTY_MS = 2.0


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=300, help="empty runs timed (default 300)")
    parser.add_argument("--mb", type=int, default=100, help="size of the large input in MB")


def big_frame(megabytes: int) -> pd.DataFrame:
    rows = max(1_000, megabytes * 1_000_000 // 26)  # 8+8+8 bytes, a bool, a category code
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "value": rng.random(rows),
            "count": rng.integers(0, 1_000, rows, dtype=np.int64),
            "flag": rng.random(rows) < 0.5,
            "group": pd.Categorical(rng.choice(["alpha", "beta", "gamma"], rows)),
        }
    )


def timed(block, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        block()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    args = c.parse_args("Capture overhead of pedigree.run", extra=options)
    runs = 30 if args.quick else args.runs
    megabytes = 5 if args.quick else args.mb
    out = c.Output(args, "capture")
    c.header(out, "Capture overhead (pedigree.run)")
    for backend in args.backends:
        with c.ledger_store(backend) as ledger:
            delivery.configure(ledger=ledger)
            try:
                with pedigree.run("warm-up"):
                    pass

                def empty() -> None:
                    with pedigree.run("bench/empty"):
                        pass

                def bare() -> None:
                    with contextlib.nullcontext():
                        pass

                captured = timed(empty, runs)
                baseline = timed(bare, runs)
                frame = big_frame(megabytes)
                size_mb = frame.memory_usage(deep=True).sum() / 1e6

                def with_input(table: pd.DataFrame) -> None:
                    with pedigree.run("bench/large") as run:
                        run.use(table, name="bench/large-input")
                        run.use(table, name="bench/large-input", role="again")

                def without_input(table: pd.DataFrame) -> None:
                    with contextlib.nullcontext():
                        table.shape  # noqa: B018

                # A fresh object each time, so each run fingerprints it once (no cache hit).
                copies = [frame.copy() for _ in range(1 if args.quick else 3)]
                large = [
                    t for table in copies for t in timed(lambda table=table: with_input(table), 1)
                ]
                large_base = timed(lambda frame=frame: without_input(frame), 3)
            finally:
                delivery.reset()
        empty_ms = c.ms(statistics.median(captured))
        res = {
            "empty_run_median_ms": empty_ms,
            "empty_run_p95_ms": c.ms(c.percentile(captured, 95)),
            "no_capture_median_ms": c.ms(statistics.median(baseline)),
            "large_input_mb": round(size_mb, 1),
            "large_input_run_median_ms": c.ms(statistics.median(large)),
            "large_input_no_capture_ms": c.ms(statistics.median(large_base)),
            "large_input_mb_per_s": round(size_mb / statistics.median(large)),
            "goal_empty_ms": GOAL_EMPTY_MS,
            "meets_goal": empty_ms <= GOAL_EMPTY_MS,
        }
        out.results[backend] = res
        out.say(
            f"[{backend}] empty run      : {empty_ms:.3f} ms median, "
            f"{res['empty_run_p95_ms']:.3f} ms p95 (no capture: {res['no_capture_median_ms']:.4f} ms); "
            f"goal <= {GOAL_EMPTY_MS} ms {c.verdict(res['meets_goal'])}"
        )
        out.say(
            f"[{backend}] {res['large_input_mb']} MB input: {res['large_input_run_median_ms']:.1f} ms "
            f"median ({res['large_input_mb_per_s']:,} MB/s, used twice, fingerprinted once; "
            f"no capture: {res['large_input_no_capture_ms']:.4f} ms)"
        )
    out.finish()


if __name__ == "__main__":
    main()

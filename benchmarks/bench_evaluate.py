"""Full evaluation: every family on 100,000 synthetic x 100,000 real rows x 20 columns.

``pedigree.evaluate.compute`` with fidelity (incl. detection), privacy (DCR, NNDR, copies,
membership inference, singling out, linkability, inference; against a 100,000-row
hold-out), fairness (two sensitive columns) and utility (a categorical target), on
independent samples of one mixed distribution (12 numerical + 8 categorical columns,
``benchmarks/_privacy_data.py``). Baseline, same run and data: reading the three frames'
values once (``DataFrame.to_numpy`` of each), the floor any evaluation pays. Also peak
memory (max RSS) of the process over the baseline set by the data itself.

Goal: <= 30 s on 2 cores, memory bounded (blockwise nearest neighbours).
"""

from __future__ import annotations

import argparse
import resource
import time

import _common as c
from _privacy_data import triple
from pedigree.evaluate import compute

GOAL_SECONDS = 30.0


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=100_000, help="rows of each table")


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    args = c.parse_args("Full evaluation (all families)", extra=options)
    rows = 2_000 if args.quick else args.rows
    out = c.Output(args, "evaluate")
    c.header(out, "Full evaluation: fidelity, privacy, fairness, utility")
    real, synthetic, holdout = triple(rows, numeric=12, categorical=8)
    data_mb = max_rss_mb()
    started = time.perf_counter()
    for frame in (real, synthetic, holdout):
        frame.to_numpy()
    baseline = time.perf_counter() - started
    stages: dict[str, float] = {}
    mark = [time.perf_counter()]

    def progress(stage: str) -> None:
        now = time.perf_counter()
        stages[stage] = now
        mark.append(now)

    started = time.perf_counter()
    evaluation = compute(
        synthetic,
        real,
        holdout,
        target="cat_0",
        sensitive=["cat_2", "num_0"],
        seed=0,
        progress=progress,
    )
    seconds = time.perf_counter() - started
    peak_mb = max_rss_mb()
    families = {}
    for family in ("fidelity", "privacy", "fairness", "utility"):
        families[family] = sum(r.family == family for r in evaluation.results)
    res = {
        "rows": rows,
        "columns": len(real.columns),
        "seconds": round(seconds, 2),
        "baseline_read_seconds": round(baseline, 3),
        "ratio_to_baseline": round(seconds / baseline, 1),
        "results_per_family": families,
        "not_applicable": sum(r.value is None for r in evaluation.results),
        "data_rss_mb": round(data_mb),
        "peak_rss_mb": round(peak_mb),
        "goal_seconds": GOAL_SECONDS,
        "meets_goal": seconds <= GOAL_SECONDS,
    }
    out.results["evaluate"] = res
    out.say(
        f"{rows:,} x {rows:,} rows x {len(real.columns)} columns (+ a {rows:,}-row hold-out): "
        f"{seconds:.1f} s for {len(evaluation.results)} results {families}"
    )
    out.say(
        f"baseline (read the three tables' values once): {baseline:.3f} s; "
        f"ratio {res['ratio_to_baseline']}x"
    )
    out.say(
        f"peak RSS {peak_mb:,.0f} MB (data alone {data_mb:,.0f} MB); "
        f"goal <= {GOAL_SECONDS:.0f} s {c.verdict(res['meets_goal'])}"
    )
    out.finish()


if __name__ == "__main__":
    main()

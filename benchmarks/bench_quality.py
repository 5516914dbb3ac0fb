"""Fidelity (SDMetrics QualityReport's figures) against SDMetrics itself, same data, same run.

Figure 1: ``prepare(real, synthetic)`` + ``fidelity(..., detection=False)`` (column shapes,
column pair trends, quality score, plus coverage and missing-value metrics) on a 50,000 x
50,000-row, 12-column mixed table (5 numerical of which 2 with nulls, 1 datetime with
nulls, 4 categorical of which one with 40 categories and nulls, 2 boolean), against
``sdmetrics.reports.single_table.QualityReport().generate(...)`` on the same DataFrames.
Both alternate ``--repeat`` times after a warm-up; medians. The two overall scores must
agree to 1e-6. Goal: >= 5x faster.

Figure 2: the full ``fidelity(...)`` including the logistic detection score (which
subsamples to 50,000 rows per side) on 100,000 x 100,000 rows x 20 columns, timed once
(after the warm-up of figure 1), with the time per stage.

SDMetrics subsamples ContingencySimilarity to 50,000 rows (unseeded) only when a table has
more rows than that, so at 50,000 rows its report is deterministic.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import _common as c
from pedigree.evaluate.fidelity import fidelity
from pedigree.evaluate.tables import prepare

GOAL_RATIO = 5.0
SCORE_TOLERANCE = 1e-6


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=50_000, help="rows per table, figure 1")
    parser.add_argument("--full-rows", type=int, default=100_000, help="rows per table, fig. 2")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, figure 1")


def customer_table(n: int, seed: int, *, shift: float = 0.0, columns: int = 12) -> pd.DataFrame:
    """A mixed table with trends between columns (income ~ age, tier ~ income, visits ~
    city ...) and some nulls; ``shift`` moves the synthetic version away a little."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + 3 * shift, 12, n).round()
    income = np.exp(rng.normal(10 + 0.03 * (age - 40) + 0.1 * shift, 0.4, n))
    spend = income * rng.uniform(0.1, 0.3, n)
    city = rng.choice(
        ["paris", "lyon", "nice", "lille", "brest"], n, p=[0.4, 0.25, 0.15, 0.12, 0.08]
    )
    tier = np.where(
        income > np.exp(10.3), "gold", np.where(income > np.exp(9.8), "silver", "bronze")
    )
    df = pd.DataFrame(
        {
            "age": age,
            "income": income,
            "spend": spend,
            "score": rng.random(n) * 100 + 0.5 * age,
            "visits": rng.poisson(2 + 3 * (city == "paris"), n),
            "joined": pd.Timestamp("2015-01-01")
            + pd.to_timedelta(rng.integers(0, 3000, n), unit="D"),
            "city": pd.Series(city, dtype=object),
            "tier": tier,
            "product": pd.Series(rng.choice([f"p{i:02d}" for i in range(40)], n), dtype=object),
            "channel": rng.choice(["web", "app", "shop"], n),
            "active": rng.random(n) < 0.3 + 0.2 * (tier == "gold") + 0.05 * shift,
            "newsletter": rng.random(n) < 0.5,
        }
    )
    df.loc[rng.random(n) < 0.05, "income"] = np.nan
    df.loc[rng.random(n) < 0.03, "spend"] = np.nan
    df.loc[rng.random(n) < 0.02, "joined"] = pd.NaT
    df.loc[rng.random(n) < 0.03, "product"] = None
    for i in range(columns - 12):  # wider tables: more of the same kinds
        kind = i % 4
        if kind == 0:
            df[f"m{i}"] = rng.normal(size=n) + 0.02 * df["score"]
        elif kind == 1:
            df[f"k{i}"] = rng.choice(list("abcdefgh"), n)
        elif kind == 2:
            df[f"q{i}"] = rng.gamma(2.0 + shift, 1.0, n)
        else:
            df[f"f{i}"] = rng.random(n) < 0.2
    return df


def sdmetrics_metadata(df: pd.DataFrame) -> dict:
    kinds = {}
    for column in df.columns:
        s = df[column]
        if pd.api.types.is_bool_dtype(s):
            kinds[column] = {"sdtype": "boolean"}
        elif pd.api.types.is_datetime64_any_dtype(s):
            kinds[column] = {"sdtype": "datetime"}
        elif pd.api.types.is_numeric_dtype(s):
            kinds[column] = {"sdtype": "numerical"}
        else:
            kinds[column] = {"sdtype": "categorical"}
    return {"columns": kinds}


def ours(real: pd.DataFrame, syn: pd.DataFrame) -> tuple[float, float]:
    started = time.perf_counter()
    results = fidelity(prepare(real, syn), detection=False)
    elapsed = time.perf_counter() - started
    score = next(r.value for r in results if r.name == "quality_score")
    return elapsed, float(score)


def theirs(real: pd.DataFrame, syn: pd.DataFrame, metadata: dict) -> tuple[float, float]:
    from sdmetrics.reports.single_table import QualityReport

    started = time.perf_counter()
    report = QualityReport()
    report.generate(real, syn, metadata, verbose=False)
    elapsed = time.perf_counter() - started
    return elapsed, float(report.get_score())


def main() -> None:
    args = c.parse_args("Fidelity (QualityReport figures) vs SDMetrics", extra=options)
    if args.quick:
        args.rows, args.full_rows, args.repeat = 2_000, 5_000, 1
    warnings.simplefilter("ignore")  # SDMetrics' deprecation and pandas warnings
    out = c.Output(args, "quality")
    c.header(out, "Fidelity: column shapes + pair trends + score vs SDMetrics QualityReport")

    real = customer_table(args.rows, 1)
    syn = customer_table(args.rows, 2, shift=0.3)
    metadata = sdmetrics_metadata(real)
    out.say(f"figure 1: {args.rows:,} x {args.rows:,} rows x {real.shape[1]} columns")
    ours(real, syn)  # warm-up: imports, first-touch
    theirs(real, syn, metadata)
    our_runs, their_runs = [], []
    our_score = their_score = float("nan")
    for _ in range(args.repeat):
        seconds, our_score = ours(real, syn)
        our_runs.append(seconds)
        seconds, their_score = theirs(real, syn, metadata)
        their_runs.append(seconds)
    ours_s, theirs_s = c.median(our_runs), c.median(their_runs)
    ratio = theirs_s / ours_s
    gap = abs(our_score - their_score)
    figure1 = {
        "rows": args.rows,
        "columns": real.shape[1],
        "pedigree_seconds": round(ours_s, 4),
        "sdmetrics_seconds": round(theirs_s, 4),
        "speedup": round(ratio, 1),
        "pedigree_score": our_score,
        "sdmetrics_score": their_score,
        "score_difference": gap,
        "runs": {
            "pedigree_s": [round(x, 4) for x in our_runs],
            "sdmetrics_s": [round(x, 4) for x in their_runs],
        },
        "goal_ratio": GOAL_RATIO,
        "meets_goal": ratio >= GOAL_RATIO and gap <= SCORE_TOLERANCE,
    }
    out.results["quality_report"] = figure1
    out.say(f"pedigree fidelity (no detection): {ours_s:8.3f} s  score {our_score:.12f}")
    out.say(f"SDMetrics QualityReport         : {theirs_s:8.3f} s  score {their_score:.12f}")
    out.say(
        f"speed-up {ratio:.1f}x, score difference {gap:.1e}; goal >= {GOAL_RATIO}x and "
        f"<= {SCORE_TOLERANCE} {c.verdict(figure1['meets_goal'])}"
    )

    n = args.full_rows
    real = customer_table(n, 3, columns=20)
    syn = customer_table(n, 4, shift=0.3, columns=20)
    out.say(
        f"figure 2: full fidelity incl. detection, {n:,} x {n:,} rows x {real.shape[1]} columns"
    )
    # each mark starts a stage that lasts until the next mark
    marks: list[tuple[str, float]] = [("prepare (load, check, type)", time.perf_counter())]
    tables = prepare(real, syn)
    marks.append(("fidelity: columns to arrays", time.perf_counter()))
    results = fidelity(
        tables, seed=0, progress=lambda s: marks.append((s.split(" (")[0], time.perf_counter()))
    )
    marks.append(("end", time.perf_counter()))
    per_stage = {name: round(marks[i + 1][1] - at, 3) for i, (name, at) in enumerate(marks[:-1])}
    started, ended = marks[0][1], marks[-1][1]
    detection = next(r for r in results if r.name == "detection")
    figure2 = {
        "rows": n,
        "columns": real.shape[1],
        "seconds": round(ended - started, 3),
        "seconds_per_stage": per_stage,
        "metrics": len(results),
        "detection": detection.value,
        "detection_rows_per_side": detection.details["rows_real"],
    }
    out.results["full_fidelity"] = figure2
    for name, seconds in per_stage.items():
        out.say(f"  {name:38s}: {seconds:7.3f} s")
    out.say(
        f"full fidelity: {figure2['seconds']:.2f} s for {len(results)} metrics (detection "
        f"{detection.value:.4f} on {detection.details['rows_real']:,} rows per side)"
    )
    out.finish()


if __name__ == "__main__":
    main()

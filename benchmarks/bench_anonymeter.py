"""anonymeter-style risks: ours against anonymeter's three evaluators, same inputs.

Training, synthetic (an independent sample of the same distribution, or with ``--copy``
the training rows themselves) and hold-out tables of 8 numerical + 4 categorical columns.
Ours: ``privacy(tables, include={"singling_out", "linkability", "inference"})`` (500
attacks; singling out multivariate over 3 columns and univariate; linkability on alternate
columns; inference of every column from the others). anonymeter: ``SinglingOutEvaluator``
(both modes), ``LinkabilityEvaluator`` and ``InferenceEvaluator`` for every column, with the
same attacks, columns and hold-out as control (``pedigree.evaluate.engines.anonymeter``).
Agreement: the two risks' confidence intervals overlap (both are sampled estimates).

anonymeter cannot live in the main environment (it pins numpy<1.27, pyarrow<22): run this
script with ``make bench-anonymeter`` (builds ``.venv-anonymeter``). Without anonymeter it
measures ours only and prints how to set it up; ``--quick`` never needs it.

Goal: >= 5x faster than anonymeter.
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import _common as c
from _privacy_data import mixed_frame, triple
from pedigree.evaluate.privacy import privacy
from pedigree.evaluate.tables import prepare

GOAL_RATIO = 5.0
GROUPS = {"singling_out", "linkability", "inference"}
SETUP = (
    "anonymeter is not installed here (it pins numpy<1.27 and pyarrow<22). Run\n"
    "    make bench-anonymeter\n"
    "which creates .venv-anonymeter (python3 -m venv .venv-anonymeter && "
    ".venv-anonymeter/bin/pip install -e . anonymeter) and runs this script there."
)


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=10_000, help="rows per table (default 10,000)")
    parser.add_argument("--attacks", type=int, default=500, help="attacks (default 500)")
    parser.add_argument("--copy", action="store_true", help="synthetic = the training rows")


def summary(results) -> dict[str, dict]:
    return {
        r.key: {"value": r.value, "ci": list(r.ci) if r.ci else None, "na": r.not_applicable}
        for r in results
    }


def main() -> None:
    args = c.parse_args("anonymeter-style risks vs anonymeter", extra=options)
    rows = 400 if args.quick else args.rows
    attacks = 100 if args.quick else args.attacks
    have = importlib.util.find_spec("anonymeter") is not None
    out = c.Output(args, "anonymeter")
    c.header(out, f"anonymeter-style risks, {rows:,} rows x 12 columns, {attacks} attacks")
    train, syn, hold = triple(rows)
    if args.copy:
        syn = train.copy()
    tables = prepare(train, syn, hold)
    privacy(prepare(*(mixed_frame(60, s) for s in (1, 2, 3))), include=GROUPS, n_attacks=20)
    started = time.perf_counter()
    ours = privacy(tables, include=GROUPS, n_attacks=attacks, seed=0)
    ours_s = time.perf_counter() - started
    res: dict = {"rows": rows, "attacks": attacks, "ours_seconds": round(ours_s, 3)}
    out.say(f"ours       : {ours_s:8.2f} s for {len(ours)} risks")
    if not have:
        res["anonymeter"] = "not installed"
        out.say(SETUP)
        res["ours"] = summary(ours)
        out.results["risks"] = res
        out.finish()
        return
    from pedigree.evaluate.engines import anonymeter as engine

    started = time.perf_counter()
    theirs = engine.run(tables, n_attacks=attacks, seed=0)
    theirs_s = time.perf_counter() - started
    ratio = theirs_s / ours_s
    a, b = {r.key: r for r in ours}, {r.key: r for r in theirs}
    agree = {}
    for key in a:
        x, y = a[key], b.get(key)
        if y is None or x.ci is None or y.ci is None:
            agree[key] = None
            continue
        agree[key] = x.ci[0] <= y.ci[1] and y.ci[0] <= x.ci[1]
        out.say(
            f"  {key:32s} ours {x.value:.3f} [{x.ci[0]:.3f}, {x.ci[1]:.3f}]   anonymeter "
            f"{y.value:.3f} [{y.ci[0]:.3f}, {y.ci[1]:.3f}]   overlap: {agree[key]}"
        )
    res.update(
        anonymeter_seconds=round(theirs_s, 2),
        speedup=round(ratio, 1),
        ours=summary(ours),
        anonymeter=summary(theirs),
        ci_overlap=agree,
        goal_ratio=GOAL_RATIO,
        meets_goal=ratio >= GOAL_RATIO,
    )
    out.results["risks"] = res
    out.say(f"anonymeter : {theirs_s:8.2f} s")
    out.say(f"ratio {ratio:.1f}x; goal >= {GOAL_RATIO:.0f}x {c.verdict(ratio >= GOAL_RATIO)}")
    out.finish()


if __name__ == "__main__":
    main()

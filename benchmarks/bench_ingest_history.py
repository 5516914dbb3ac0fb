"""OpenLineage ingest as a dataset's history grows: the cost of a commit late in the
history against the same commit early in it.

Every run reads one source and writes one output dataset, as the server benchmark's runs
do, but all of them write the same output: each COMPLETE adds a version to it. The events
(START then COMPLETE per run) go through ``openlineage.ingest`` in process, five per call
(a group commit's size at 8 clients), and the calls are timed in six equal spans. The
figure is the ms per commit of the last span; the baseline, measured in the same run, is
the first span, and the ratio last / first says whether a commit's cost grows with the
history (1.0: it does not). Before revision 0004 finding a dataset's newest version read
all of its versions: on PostgreSQL a commit went from 7.0 to 11.0 ms over 6,000 versions.

Goal: no growth, ratio <= 1.2 (the VM's speed alone moves it by a tenth).
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common as c
from bench_server_ingest import event
from pedigree.interop import openlineage

SPANS = 6
PER_COMMIT = 5
GOAL_RATIO = 1.2


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--versions", type=int, default=6_000, help="versions of the one output (default 6,000)"
    )


def events(runs: int) -> list[dict]:
    """START and COMPLETE of ``runs`` runs, every one writing ``analytics.table_00``."""
    return [
        event(kind, f"00000000-0000-4000-8000-{n:012d}", 50 * n)  # (50 * n: lane 0)
        for n in range(runs)
        for kind in ("START", "COMPLETE")
    ]


def measure(backend: str, runs: int) -> dict:
    stream = events(runs)
    calls = [stream[i : i + PER_COMMIT] for i in range(0, len(stream), PER_COMMIT)]
    span = len(calls) // SPANS
    per_span: list[float] = []
    with c.ledger_store(backend) as ledger:
        for s in range(SPANS):
            durations = []
            for call in calls[s * span : (s + 1) * span]:
                started = time.perf_counter()
                openlineage.ingest(ledger, call, actor=c.ACTOR)
                durations.append(time.perf_counter() - started)
            per_span.append(statistics.median(durations))
        records = ledger.size
    first, last = per_span[0], per_span[-1]
    ratio = round(last / first, 2)
    return {
        "runs": runs,
        "events": len(stream),
        "events_per_commit": PER_COMMIT,
        "span_median_ms": [c.ms(x) for x in per_span],
        "first_span_ms": c.ms(first),
        "last_span_ms": c.ms(last),
        "ratio_last_to_first": ratio,
        "records": records,
        "goal_ratio": GOAL_RATIO,
        "meets_goal": ratio <= GOAL_RATIO,
    }


def main() -> None:
    args = c.parse_args("OpenLineage ingest as a dataset's history grows", extra=options)
    runs = 120 if args.quick else args.versions
    out = c.Output(args, "ingest_history")
    c.header(out, "OpenLineage ingest as one dataset's history grows (in process)")
    for backend in args.backends:
        out.say(f"[{backend}] {runs:,} runs writing one dataset, {PER_COMMIT} events a commit …")
        res = measure(backend, runs)
        out.results[backend] = res
        spans = " / ".join(f"{x:.2f}" for x in res["span_median_ms"])
        out.say(f"[{backend}] median ms per commit in each sixth of the history: {spans}")
        out.say(
            f"[{backend}] last / first {res['ratio_last_to_first']:.2f}x; goal <= "
            f"{GOAL_RATIO}x {c.verdict(res['meets_goal'])}"
        )
    out.finish()


if __name__ == "__main__":
    main()

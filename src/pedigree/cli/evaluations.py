"""``pedigree eval`` (measure a synthetic table and record the evaluation), ``pedigree
check`` (check runs' intent expectations) and ``pedigree drift``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pedigree.capture import delivery
from pedigree.cli.app import (
    EXIT_FAILED,
    DatabaseUrlOpt,
    JsonOpt,
    StoreOpt,
    command,
    err,
    out,
    print_json,
)
from pedigree.errors import EvaluationError, StoreError
from pedigree.evaluate import (
    ENGINES,
    FAMILIES,
    Evaluation,
    MetricResult,
    check_expectations,
    drift,
    evaluate,
)
from pedigree.evaluate.expectations import Outcome
from pedigree.evaluate.record import resolve_input
from pedigree.evaluate.thresholds import judge, parse_threshold, resolve_thresholds
from pedigree.store import Ledger

STATUS_STYLE = {"held": "green", "violated": "red", "unknown": "yellow"}


def _value(result: MetricResult) -> str:
    if result.value is None:
        return "[dim]n/a[/]"
    text = f"{result.value:.4f}"
    if result.ci:
        text += f" [{result.ci[0]:.3f}, {result.ci[1]:.3f}]"
    return text


def _verdict(result: MetricResult) -> str:
    if result.passed is None:
        return ""
    sign = ">=" if result.higher_is_better else "<="
    mark = "[green]pass[/]" if result.passed else "[bold red]FAIL[/]"
    return f"{mark} ({sign} {result.threshold:g})"


def render_evaluation(evaluation: Evaluation, *, everything: bool = False) -> None:
    """A table per family: table-level figures and, with ``everything``, every column."""
    for family in (*FAMILIES, "drift"):
        rows = [r for r in evaluation.results if r.family == family]
        if not rows:
            continue
        shown = (
            rows
            if everything
            else [r for r in rows if not r.columns or r.passed is False or r.family != "fidelity"]
        )
        table = Table(
            title=family.capitalize(), title_justify="left", show_edge=False, pad_edge=False
        )
        table.add_column("metric")
        table.add_column("columns")
        table.add_column("value", justify="right")
        table.add_column("threshold")
        for r in shown:
            note = f" [dim]({escape(r.not_applicable)})[/]" if r.not_applicable else ""
            table.add_row(
                escape(r.name) + note, escape(", ".join(r.columns)), _value(r), _verdict(r)
            )
        hidden = len(rows) - len(shown)
        out.print(table)
        if hidden:
            out.print(f"[dim]  … and {hidden} per-column results that pass (--all shows them)[/]")
        out.print()


def render_outcomes(by_run: dict[str, list[Outcome]]) -> None:
    for run_label, outcomes in by_run.items():
        out.print(f"[bold]{escape(run_label)}[/]")
        for o in outcomes:
            seen = ", ".join(
                f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                for k, v in o.observed.items()
            )
            why = f" — {o.reason}" if o.reason else ""
            out.print(
                f"  [{STATUS_STYLE[o.status]}]{o.status:>8}[/]  {escape(o.expect)}  [dim]{escape(seen + why)}[/]"
            )


@command("eval")
def eval_command(
    synthetic: Annotated[
        str, typer.Argument(help="Synthetic table: a file, or a recorded dataset (version).")
    ],
    real: Annotated[
        str, typer.Option("--real", help="The real table the generator was trained on.")
    ],
    holdout: Annotated[
        str | None,
        typer.Option(
            "--holdout", help="A real hold-out the generator never saw (privacy baselines)."
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Label column (utility, label rates).")
    ] = None,
    sensitive: Annotated[
        list[str] | None,
        typer.Option("--sensitive", help="Sensitive column (repeatable): fairness by subgroup."),
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", help="NAME=VALUE, overrides the intended-use defaults."),
    ] = None,
    family: Annotated[
        list[str] | None,
        typer.Option("--family", help=f"Only these families ({', '.join(FAMILIES)})."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for sampled metrics.")] = 0,
    engine: Annotated[
        list[str] | None,
        typer.Option(
            "--engine",
            help=f"Also run the reference library ({', '.join(ENGINES)}); its figures replace ours.",
        ),
    ] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Measure only; write nothing.")
    ] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Show every per-column result.")] = False,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Measure fidelity, privacy risk, fairness and utility of a synthetic table, and record it.

    Exit status 0 when every threshold is met, 1 when one fails, 2 on bad input.
    """
    overrides = dict(parse_threshold(t) for t in threshold or [])
    unknown = [f for f in family or [] if f not in FAMILIES]
    if unknown:
        raise EvaluationError(f"unknown family {unknown[0]!r}; choose from {', '.join(FAMILIES)}")
    try:
        ledger: Ledger | None = Ledger.open(store, database_url)
    except StoreError:
        if not no_record:
            raise
        ledger = None  # measuring files needs no store
    try:
        with err.status("Evaluating…") as status:
            evaluation = evaluate(
                synthetic,
                real,
                holdout,
                target=target,
                sensitive=sensitive or [],
                families=family or FAMILIES,
                thresholds=overrides,
                seed=seed,
                engines=engine or [],
                record=not no_record,
                ledger=ledger,
                progress=lambda stage: status.update(f"Evaluating: {stage}…"),
            )
    finally:
        delivery.reset()
        if ledger is not None:
            ledger.close()
    if as_json:
        print_json(evaluation.to_json())
    else:
        render_evaluation(evaluation, everything=show_all)
        for note in evaluation.notes:
            out.print(f"[yellow]note:[/] {escape(note)}")
        verdict = "[bold green]PASSED[/]" if evaluation.passed else "[bold red]FAILED[/]"
        out.print(
            f"{verdict}: {escape(evaluation.summary())} [dim](thresholds: {escape(evaluation.threshold_source)})[/]"
        )
        if not no_record:
            out.print(
                "[dim]Recorded as an evaluate run and an evaluation annotation on the synthetic version.[/]"
            )
    if not evaluation.passed:
        raise typer.Exit(EXIT_FAILED)


@command("check")
def check_command(
    run: Annotated[
        str | None, typer.Argument(help="A run (run:ID) or job; default: every unchecked run.")
    ] = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check runs' intent expectations against what they produced, and record the result.

    Exit status 1 when an expectation is violated.
    """
    with Ledger.open(store, database_url) as ledger:
        results = check_expectations(run, ledger=ledger)
    if as_json:
        print_json({label: [o.to_json() for o in outcomes] for label, outcomes in results.items()})
    elif not results:
        out.print("No run with unchecked expectations.")
    else:
        render_outcomes(results)
    if any(o.status == "violated" for outcomes in results.values() for o in outcomes):
        raise typer.Exit(EXIT_FAILED)


@command("drift")
def drift_command(
    baseline: Annotated[
        str, typer.Argument(help="The earlier version: a file or a recorded dataset version.")
    ],
    current: Annotated[
        str, typer.Argument(help="The later version: a file or a recorded dataset version.")
    ],
    bins: Annotated[int, typer.Option("--bins", help="Quantile bins for numerical columns.")] = 10,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Per-column drift between two versions of a table: PSI, Jensen-Shannon, Wasserstein.

    Exit status 1 when a column's PSI exceeds its threshold (0.25 by default).
    """
    try:
        ledger: Ledger | None = Ledger.open(store, database_url)
    except StoreError:
        ledger = None  # files need no store
    try:
        before = resolve_input(baseline, ledger, "baseline table").data
        after = resolve_input(current, ledger, "current table").data
    finally:
        if ledger is not None:
            ledger.close()
    results = judge(drift(before, after, bins=bins), resolve_thresholds()[0])
    if as_json:
        print_json([r.model_dump(mode="json", exclude_defaults=True) for r in results])
    else:
        render_evaluation(Evaluation(results), everything=True)
    if any(r.passed is False for r in results):
        raise typer.Exit(EXIT_FAILED)

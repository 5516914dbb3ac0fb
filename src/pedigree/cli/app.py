"""The ``pedigree`` command: shared options, error handling, and the entry point.

Commands stay thin: parse, call the library, render. A ``PedigreeError`` becomes one
line on stderr and exit status 2; ``--debug`` (anywhere on the line, or
``PEDIGREE_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pedigree import __version__
from pedigree.errors import PedigreeError
from pedigree.store import Ledger

app = typer.Typer(
    name="pedigree",
    help="Pedigree: a provenance ledger for synthetic data and the AI pipelines around it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

EXIT_ERROR = 2
"""Bad input, unreadable store, wrong key: nothing was written."""
EXIT_FAILED = 1
"""The command ran and the answer is negative: audit failed, proof invalid, no path."""

_debug = os.environ.get("PEDIGREE_DEBUG", "") not in ("", "0")

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Store directory [default: $PEDIGREE_HOME, else the nearest .pedigree/].",
        show_default=False,
    ),
]
DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Use PostgreSQL at this URL [default: $PEDIGREE_DATABASE_URL, else SQLite].",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Answer as the ledger stood at this record number or ISO time.",
        show_default=False,
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def command(*args: Any, on: typer.Typer | None = None, **kwargs: Any) -> Callable[[F], F]:
    """Register a command (on the root app, or the sub-app ``on``) whose ``PedigreeError``
    becomes a one-line error and exit 2."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*a: Any, **k: Any) -> Any:
            try:
                return func(*a, **k)
            except PedigreeError as exc:
                fail(str(exc))
            except (typer.Exit, typer.Abort):
                raise
            except KeyboardInterrupt:
                err.print("interrupted")
                raise typer.Exit(130) from None
            except Exception as exc:
                if _debug:
                    raise
                fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")

        (on or app).command(*args, **kwargs)(wrapper)
        return func

    return decorate


def fail(message: str, code: int = EXIT_ERROR) -> None:
    if _debug and code == EXIT_ERROR and sys.exc_info()[0] is not None:
        raise
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """JSON on stdout, nothing else (progress and errors go to stderr)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def open_ledger(store: Path | None, database_url: str | None) -> Ledger:
    return Ledger.open(store, database_url)


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr (silent when stderr is not a terminal)."""
    if not err.is_terminal or not total:
        yield lambda _done: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


def _version(value: bool) -> None:
    if value:
        out.print(f"pedigree {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (also accepted after a command).")
    ] = False,
) -> None:
    global _debug
    _debug = _debug or debug


def main(argv: list[str] | None = None) -> None:
    """Console entry point. ``--debug`` is accepted anywhere on the line."""
    global _debug
    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args:
        args.remove("--debug")
        _debug = True
    from pedigree.cli import (  # noqa: F401  (registers commands)
        certificates,
        commands,
        demo,
        disclosures,
        evaluations,
        fingerprints,
        keys,
        lineage,
        server,
        spool,
    )

    app(args=args, prog_name="pedigree")

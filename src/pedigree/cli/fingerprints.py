"""Fingerprint commands: ``pedigree fingerprint`` and ``pedigree diff`` (no store needed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pedigree.cli.app import (
    EXIT_FAILED,
    JsonOpt,
    command,
    err,
    out,
    print_json,
    progress_bar,
)
from pedigree.errors import FingerprintError

PROGRESS_BYTES = 64 << 20
"""Inputs smaller than this finish too fast to deserve a progress bar."""


def _say(*objects: Any) -> None:
    """Print without wrapping long lines: a digest broken over two lines cannot be copied."""
    out.print(*objects, soft_wrap=True)


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar (in MB read) for one large path, on a terminal's stderr only."""
    size = _size(path)
    if size < PROGRESS_BYTES or not err.is_terminal:
        yield None
        return
    # fingerprint_path reads tabular files twice (SHA-256, then the table): scale its
    # (done, total) to a bar whose total is known before it starts
    scale = 1 << 20
    with progress_bar(f"fingerprinting {path.name} (MB)", 2 * size // scale) as advance:
        yield lambda done, total: advance(done * (2 * size // scale) // max(total, 1))


def _size(path: Path) -> int:
    try:
        if path.is_file():
            return path.stat().st_size
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    except OSError:
        return 0
    return 0


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover


def _columns_table(columns: list[dict[str, str]]) -> Table:
    table = Table(box=None, padding=(0, 2), show_edge=False, header_style="dim")
    table.add_column("column")
    table.add_column("type")
    table.add_column("arrow type", style="dim")
    table.add_column("digest", style="dim")
    for c in columns:
        table.add_row(
            escape(c["name"]), escape(c["type"]), escape(c["arrow_type"]), c["digest"][:16]
        )
    return table


@command("fingerprint")
def fingerprint(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH",
            help="Files or directories (.csv .tsv .parquet .pq .arrow .feather .ipc .jsonl .ndjson).",
            show_default=False,
        ),
    ],
    any_file: Annotated[
        bool,
        typer.Option(
            "--any-file",
            help="Also accept files and directories that are not tables (SHA-256 and size only).",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Print the canonical table fingerprint, SHA-256 and size of table files and directories.

    The same table gives the same fingerprint in any format (docs/fingerprint.md). --json: one object per path (a list for several), the fingerprint under "fingerprint", with "sha256", "size" and "columns" beside it.
    """
    from pedigree.fingerprint import fingerprint_path
    from pedigree.fingerprint.readers import path_parts

    results = []
    for path in paths:
        if not any_file:
            path_parts(path)  # not a table: fail now, before reading anything
        with _progress(path) as report:
            results.append(fingerprint_path(path, progress=report).to_json())
    if as_json:
        print_json(results[0] if len(results) == 1 else results)
        return
    for i, data in enumerate(results):
        if i:
            _say()
        _print_path(data)


def _print_path(data: dict[str, Any]) -> None:
    what = data["format"] or ("directory" if data["kind"] == "directory" else "file")
    facts = [escape(what)]
    if data["fingerprint"]:
        facts.append(f"{data['rows']:,} rows × {len(data['columns'])} columns")
    if data["kind"] == "directory":
        facts.append(f"{len(data['files'])} files")
    facts.append(_human_size(data["size"]))
    _say(f"[bold]{escape(data['path'])}[/]  [dim]{' · '.join(facts)}[/]")
    if data["fingerprint"]:
        _say(f"  fingerprint  [bold cyan]{data['fingerprint']}[/]")
    label = "manifest" if data["kind"] == "directory" else "sha256"
    _say(f"  {label:<11}  sha256:{data['sha256']}")
    if data["fingerprint"] is None:
        note = (
            "its files are not all of one tabular format"
            if data["kind"] == "directory"
            else "not a tabular format"
        )
        _say(f"  [dim]no table fingerprint: {note}[/]")
    elif data["columns"]:
        _say(_columns_table(data["columns"]))


@command("diff")
def diff(
    a: Annotated[Path, typer.Argument(metavar="A", help="A table file or directory.")],
    b: Annotated[Path, typer.Argument(metavar="B", help="Another one.")],
    as_json: JsonOpt = False,
) -> None:
    """Compare two tables by content: exit 0 when the same, 1 when they differ.

    Shows row counts, added, removed and renamed columns, type class changes, and which columns' content differs. A CSV and a Parquet file of the same table are the same.
    """
    from pedigree.fingerprint import diff_tables
    from pedigree.fingerprint.paths import table_of_path

    for path in (a, b):
        if not path.exists():
            raise FingerprintError(f"{path}: no such file or directory")
    tables = []
    for path in (a, b):
        with _progress(path) as report:
            tables.append(table_of_path(path, progress=report))
    result = diff_tables(*tables)
    if as_json:
        data = result.to_json()
        data["a"]["path"], data["b"]["path"] = str(a), str(b)
        print_json(data)
    else:
        _print_diff(result)
    if not result.same:
        raise typer.Exit(EXIT_FAILED)


def _print_diff(result: Any) -> None:
    a, b = result.a, result.b
    if result.same:
        _say(f"[green]same[/]  {a.fingerprint}  [dim]{a.rows:,} rows × {len(a.columns)} columns[/]")
        return
    _say("[red]different[/]")
    _say(f"  a  {a.fingerprint}  [dim]{a.rows:,} rows × {len(a.columns)} columns[/]")
    _say(f"  b  {b.fingerprint}  [dim]{b.rows:,} rows × {len(b.columns)} columns[/]")
    if result.rows_changed:
        _say(f"  rows     {a.rows:,} → {b.rows:,} ({b.rows - a.rows:+,})")
    for name in result.added:
        _say(f"  added    {escape(name)} [dim]({b.column(name).type})[/]")
    for name in result.removed:
        _say(f"  removed  {escape(name)} [dim]({a.column(name).type})[/]")
    for old, new in result.renamed:
        _say(f"  renamed  {escape(old)} → {escape(new)} [dim](same content)[/]")
    for change in result.retyped:
        _say(f"  type     {escape(change.name)}: {change.before} → {change.after}")
    if result.changed:
        _say(f"  changed  {', '.join(escape(n) for n in result.changed)} [dim](content)[/]")
    unchanged = [
        c.name for c in a.columns if c.name in b.names and b.column(c.name).digest == c.digest
    ]
    if unchanged:
        _say(f"  [dim]same     {', '.join(escape(n) for n in unchanged)}[/]")

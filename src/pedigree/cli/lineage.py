"""Lineage and log commands: trace, path, impact, show, log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from pedigree.cli.app import (
    EXIT_FAILED,
    AsOfOpt,
    DatabaseUrlOpt,
    JsonOpt,
    StoreOpt,
    command,
    open_ledger,
    out,
    print_json,
)
from pedigree.cli.render import (
    EDGE_WORDS,
    graph_tree,
    impact_table,
    key_values,
    log_table,
    node_text,
    path_table,
    summary,
)

NodeArg = Annotated[
    str,
    typer.Argument(
        metavar="NODE",
        help="NAME, NAMESPACE:NAME, NAME@VERSION (prefix ok), job:NAME, run:ID or model:NAME.",
    ),
]


@command("trace")
def trace(
    node: NodeArg,
    up: Annotated[
        bool, typer.Option("--up", help="Upstream: where it came from (default).")
    ] = False,
    down: Annotated[bool, typer.Option("--down", help="Downstream: what came from it.")] = False,
    depth: Annotated[int | None, typer.Option("--depth", min=0, help="Stop after N edges.")] = None,
    as_of: AsOfOpt = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the lineage closure of a dataset, version, run, job or model."""
    if up and down:
        from pedigree.cli.app import fail

        fail("choose one of --up and --down")
    with open_ledger(store, database_url) as ledger:
        graph = ledger.trace(node, direction="down" if down else "up", depth=depth, as_of=as_of)
    if as_json:
        print_json(graph.to_json())
    else:
        out.print(graph_tree(graph))


@command("path")
def path(
    source: Annotated[str, typer.Argument(metavar="A")],
    target: Annotated[str, typer.Argument(metavar="B")],
    as_of: AsOfOpt = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show how A leads to B (or B to A); exit 1 when they are not connected."""
    with open_ledger(store, database_url) as ledger:
        graph = ledger.path(source, target, as_of=as_of)
    if graph is None:
        if as_json:
            print_json({"path": None})
        else:
            out.print(f"No lineage path between {escape(source)} and {escape(target)}")
        raise typer.Exit(EXIT_FAILED)
    if as_json:
        print_json(graph.to_json())
    else:
        out.print(path_table(graph))


@command("impact")
def impact(
    node: NodeArg,
    as_of: AsOfOpt = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List everything downstream of a node, with its kind and status."""
    with open_ledger(store, database_url) as ledger:
        graph = ledger.impact(node, as_of=as_of)
    if as_json:
        print_json(graph.to_json())
    elif len(graph.nodes) <= len(graph.roots):
        out.print(f"Nothing downstream of {escape(graph.selection.ref)}")
    else:
        out.print(impact_table(graph))


@command("show")
def show(
    node: NodeArg,
    as_of: AsOfOpt = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one node: what it is, its neighbours, annotations and record history."""
    with open_ledger(store, database_url) as ledger:
        details = ledger.show(node, as_of=as_of)
    if as_json:
        print_json(details.to_json())
        return
    out.print(
        f"[bold]{escape(details.selection.ref)}[/]  [dim]{details.selection.type.replace('_', ' ')}[/]"
    )
    members = sorted(details.nodes.values(), key=lambda n: n.id)
    if len(members) > 1:
        out.print(
            f"\n[bold]{'runs' if details.selection.type == 'job' else 'versions'}[/] ({len(members)})"
        )
        for member in members:
            out.print(f"  {node_text(member)}  [dim]{member.time[:19].replace('T', ' ')}[/]")
    if details.current is not None:
        body = details.current.body.model_dump(mode="json", exclude_none=True)
        out.print()
        out.print(key_values({"status": members[0].status if members else None, **body}))
    for title, pairs, side in (
        ("upstream", details.upstream, "up"),
        ("downstream", details.downstream, "down"),
    ):
        if pairs:
            out.print(f"\n[bold]{title}[/]")
            for edge, neighbour in pairs:
                out.print(f"  [dim]{EDGE_WORDS[side][edge.kind]}[/]  {node_text(neighbour)}")
    if details.annotations:
        out.print("\n[bold]annotations[/]")
        for entry in details.annotations:
            out.print(f"  #{entry.seq} {escape(summary(entry))}")
    out.print("\n[bold]record history[/]")
    out.print(log_table(details.history))


@command("log")
def log(
    record_type: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            "-t",
            help="Only this record type (run, dataset_version, model_version, agent, annotation); repeatable.",
        ),
    ] = None,
    job: Annotated[str | None, typer.Option("--job", help="Only records about this job.")] = None,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="Only records about this dataset, model or version."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this record number or ISO time on.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="At most N records (the newest).")
    ] = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List records in log order, filtered."""
    with open_ledger(store, database_url) as ledger:
        entries = ledger.entries(
            types=record_type,
            job=job,
            dataset=dataset,
            since=since,
            limit=limit,
            newest_first=limit is not None,
        )
    entries.sort(key=lambda e: e.seq)
    if as_json:
        print_json([e.to_json() for e in entries])
    elif not entries:
        out.print("No records match")
    else:
        out.print(log_table(entries))

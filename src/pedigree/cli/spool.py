"""``pedigree spool status|flush``: runs waiting to reach the server ($PEDIGREE_URL)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from pedigree.capture.remote import RemoteLedger
from pedigree.cli.app import EXIT_FAILED, JsonOpt, app, command, escape, out, print_json
from pedigree.errors import PedigreeError

spool_app = typer.Typer(
    name="spool",
    help="The on-disk spool of runs delivered to a Pedigree server ($PEDIGREE_URL).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(spool_app, name="spool")

UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help="The server [default: $PEDIGREE_URL].", show_default=False),
]


def _remote(url: str | None) -> RemoteLedger:
    url = url or os.environ.get("PEDIGREE_URL")
    if not url:
        raise PedigreeError("no server: pass --url or set $PEDIGREE_URL")
    return RemoteLedger(url, os.environ.get("PEDIGREE_TOKEN"))


@command("status", on=spool_app)
def status_command(url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """How many runs wait to be sent, and any the server refused."""
    status = _remote(url).status()
    if as_json:
        print_json(status.to_json())
        return
    info = status.to_json()
    out.print(f"Spool {escape(str(status.path))} for {escape(status.url)}")
    age = info["oldest_pending_age_seconds"]
    out.print(
        f"  {status.pending} entries ({status.pending_records} records) waiting"
        + (f", oldest {age:.0f} s" if age is not None else "")
    )
    for item in status.rejected:
        out.print(f"  [red]rejected[/] {item['entry']}: {escape(item['reason'])}", soft_wrap=True)


@command("flush", on=spool_app)
def flush_command(url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """Send every waiting run now (exit 1 if the server is unavailable and some still wait)."""
    result = _remote(url).flush(wait=True)
    if as_json:
        print_json(result.__dict__)
    else:
        out.print(
            f"Sent {result.sent} entries ({result.records} records); "
            f"{result.pending} waiting, {result.rejected} rejected"
            + (f" — {escape(result.error)}" if result.error else "")
        )
    if result.pending:
        raise typer.Exit(EXIT_FAILED)

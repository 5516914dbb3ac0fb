"""``pedigree reveal`` and ``pedigree secrets``: the confidential values behind commitments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pedigree.cli.app import DatabaseUrlOpt, JsonOpt, StoreOpt, app, command, escape, out
from pedigree.errors import PedigreeError
from pedigree.ledger import commitments
from pedigree.store import Ledger

secrets_app = typer.Typer(
    name="secrets",
    help="The store's secrets key (seals confidential values at rest) and erasure.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(secrets_app, name="secrets")


def _commitment(text: str) -> str:
    value = text if text.startswith(commitments.PREFIX) else commitments.PREFIX + text
    if not commitments.is_commitment(value):
        raise PedigreeError(f"{text!r} is not a commitment (confidential:sha256:<64 hex>)")
    return value


@command("reveal")
def reveal_command(
    commitment: Annotated[
        str, typer.Argument(help="The commitment (confidential:sha256:…, or just its hex).")
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write the disclosure here (created 0600)."),
    ] = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reveal the value and salt behind a commitment, as a disclosure anyone can check
    against a certificate: `pedigree verify BUNDLE --disclosure FILE`."""
    with Ledger.open(store, database_url) as ledger:
        disclosure = ledger.disclosure(_commitment(commitment))
    commitments.check(disclosure)
    text = json.dumps(disclosure.to_json(), indent=2, ensure_ascii=False) + "\n"
    if output is not None:
        output.touch(mode=0o600, exist_ok=False)
        output.write_text(text, encoding="utf-8")
        out.print(f"Disclosure of {disclosure.commitment[:36]}… → {escape(str(output))}")
    elif as_json:
        out.file.write(text)
    else:
        out.print(f"{disclosure.commitment}\n  value {escape(json.dumps(disclosure.value))}")
        out.print("  (pass --json or -o FILE for a disclosure file that others can verify)")


@command("rotate", on=secrets_app)
def rotate_command(store: StoreOpt = None, database_url: DatabaseUrlOpt = None) -> None:
    """Seal every stored confidential value under a new secrets key."""
    with Ledger.open(store, database_url) as ledger:
        count, key_id = ledger.rotate_secrets()
    out.print(f"Resealed {count:,} values under the new secrets key {key_id}")


@command("erase", on=secrets_app)
def erase_command(
    commitment: Annotated[str, typer.Argument(help="The commitment whose value to erase.")],
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Erase the value behind a commitment for good; the log (which holds only the
    commitment) still verifies."""
    value = _commitment(commitment)
    with Ledger.open(store, database_url) as ledger:
        ledger.erase_disclosure(value)
    out.print(f"Erased the value behind {value[:36]}…")

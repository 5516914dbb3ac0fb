"""``pedigree keys``: generate, list and export the signing keys certificates are signed with."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from pedigree.certify.keys import ALGORITHMS, KeyInfo, Keyring
from pedigree.cli.app import JsonOpt, StoreOpt, app, command, escape, out, print_json
from pedigree.errors import SigningKeyError

keys_app = typer.Typer(
    name="keys",
    help="Signing keys for certificates (kept in <store>/keys/, private keys 0600).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(keys_app, name="keys")

F = TypeVar("F", bound=Callable[..., Any])

KeyringOpt = Annotated[
    Path | None,
    typer.Option(
        "--keyring",
        help="Keyring directory [default: the store's keys/ directory].",
        show_default=False,
    ),
]


def _command(name: str) -> Callable[[F], F]:
    return command(name, on=keys_app)


def _keyring(store: Path | None, keyring: Path | None) -> Keyring:
    return Keyring(keyring) if keyring else Keyring.default(store)


def passphrase_from_env(variable: str | None) -> bytes | None:
    """Read from the environment only: a passphrase on the command line leaks to ``ps``
    and shell history."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise SigningKeyError(f"--passphrase-env: environment variable {variable} is not set")
    if not value:
        raise SigningKeyError(f"--passphrase-env: environment variable {variable} is empty")
    return value.encode("utf-8")


def _render(info: KeyInfo) -> dict[str, str]:
    data = info.to_json()
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in data.items()}


@_command("generate")
def generate(
    name: Annotated[
        str, typer.Option("--name", help="Key name (letters, digits, . _ -).")
    ] = "default",
    algorithm: Annotated[
        str, typer.Option("--algorithm", help=f"One of {', '.join(ALGORITHMS)}.")
    ] = "ed25519",
    passphrase_env: Annotated[
        str | None,
        typer.Option(
            "--passphrase-env",
            metavar="VAR",
            help="Encrypt the private key with the passphrase in this environment variable.",
            show_default=False,
        ),
    ] = None,
    store: StoreOpt = None,
    keyring: KeyringOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a named signing key pair (never overwrites an existing name)."""
    info = _keyring(store, keyring).generate(name, algorithm, passphrase_from_env(passphrase_env))
    if as_json:
        print_json(info.to_json())
        return
    from pedigree.cli.render import key_values

    out.print(f"Created key [bold]{escape(info.name)}[/] ({info.algorithm})")
    out.print(key_values(_render(info)))


@_command("list")
def list_(store: StoreOpt = None, keyring: KeyringOpt = None, as_json: JsonOpt = False) -> None:
    """List the keys in the keyring: name, algorithm, key id, created, encrypted."""
    ring = _keyring(store, keyring)
    infos = ring.list_keys()
    if as_json:
        print_json([info.to_json() for info in infos])
        return
    if not infos:
        out.print(f"No keys in {escape(str(ring.path))} (create one with `pedigree keys generate`)")
        return
    from rich.table import Table

    table = Table(show_edge=False)
    for column in ("name", "algorithm", "key id", "created", "encrypted"):
        table.add_column(column, overflow="fold")
    for info in infos:
        row = _render(info)
        table.add_row(
            escape(info.name), info.algorithm, info.key_id, row["created"], row["encrypted"]
        )
    out.print(table)


@_command("export")
def export(
    name: Annotated[str, typer.Argument(help="Key name.")],
    public: Annotated[
        bool, typer.Option("--public", help="Export the public key (PEM on standard output).")
    ] = False,
    store: StoreOpt = None,
    keyring: KeyringOpt = None,
) -> None:
    """Print a key's public half as PEM, to give to whoever verifies your certificates."""
    if not public:
        raise SigningKeyError("only public keys are exported: add --public")
    sys.stdout.write(_keyring(store, keyring).public_pem(name))

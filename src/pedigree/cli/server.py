"""``pedigree serve`` (the HTTP API) and ``pedigree tokens`` (its bearer tokens)."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pedigree.cli.app import (
    DatabaseUrlOpt,
    JsonOpt,
    StoreOpt,
    app,
    command,
    err,
    escape,
    fail,
    open_ledger,
    out,
    print_json,
)
from pedigree.server.auth import Role
from pedigree.store import Ledger

tokens_app = typer.Typer(
    name="tokens",
    help="Bearer tokens of the HTTP API: one role each, optionally limited to namespaces.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(tokens_app, name="tokens")


class RoleChoice(StrEnum):
    viewer = Role.viewer.value
    analyst = Role.analyst.value
    engineer = Role.engineer.value
    steward = Role.steward.value
    auditor = Role.auditor.value
    admin = Role.admin.value


@command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 5000,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Serve HTTPS with this certificate (PEM).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="The certificate's private key (PEM).")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (all write one linear log).")
    ] = 1,
    max_body_bytes: Annotated[
        int,
        typer.Option(min=1024, help="Refuse request bodies larger than this (413)."),
    ] = 5 * 1024 * 1024,
    token_cache_seconds: Annotated[
        float,
        typer.Option(
            min=0,
            help="Remember an accepted token this long; a revocation made elsewhere takes "
            "effect within it (0: read the token on every request).",
        ),
    ] = 1.0,
    group_commit_wait: Annotated[
        float,
        typer.Option(
            min=0,
            max=1,
            help="Under load, longest an OpenLineage commit of the writer thread (PostgreSQL; "
            "on SQLite, large requests) waits (seconds) for more concurrent requests to share "
            "it (0: never wait).",
        ),
    ] = 0.002,
    log_level: Annotated[
        str, typer.Option(help="uvicorn log level: critical, error, warning, info, debug.")
    ] = "info",
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) on the store: SQLite, or PostgreSQL."""
    import uvicorn

    from pedigree.server.app import ServerSettings, create_app

    if (tls_cert is None) != (tls_key is None):
        fail("give both --tls-cert and --tls-key, or neither")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            fail(f"cannot read {path}")
    settings = ServerSettings(
        max_body_bytes=max_body_bytes,
        token_cache_seconds=token_cache_seconds,
        group_commit_wait=group_commit_wait,
    )
    tls = {"ssl_certfile": str(tls_cert), "ssl_keyfile": str(tls_key)} if tls_cert else {}
    scheme = "https" if tls else "http"
    with open_ledger(store, database_url) as ledger:  # fail now, not in every worker
        where, location = ledger.location.describe(), ledger.location
    err.print(
        f"Serving the Pedigree API on {scheme}://{host}:{port} (docs at /docs) "
        f"from {escape(where)}, {workers} worker(s)"
    )
    if workers == 1:
        uvicorn.run(
            create_app(location, settings=settings),
            host=host,
            port=port,
            log_level=log_level,
            **tls,  # type: ignore[arg-type]
        )
        return
    os.environ["PEDIGREE_HOME"] = str(location.path)
    if location.database_url:
        os.environ["PEDIGREE_DATABASE_URL"] = location.database_url
    os.environ["PEDIGREE_SERVER_MAX_BODY_BYTES"] = str(max_body_bytes)
    os.environ["PEDIGREE_SERVER_TOKEN_CACHE_SECONDS"] = str(token_cache_seconds)
    os.environ["PEDIGREE_SERVER_GROUP_COMMIT_WAIT"] = str(group_commit_wait)
    uvicorn.run(
        "pedigree.server.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        **tls,  # type: ignore[arg-type]
    )


@command("create", on=tokens_app)
def tokens_create(
    role: Annotated[RoleChoice, typer.Option("--role", help="What the token may do.")],
    namespace: Annotated[
        list[str] | None,
        typer.Option(
            "--namespace", help="Limit the token to this namespace; repeatable [default: all]."
        ),
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            help="Expiry: a duration from now (30d, 12h, 2w) or an ISO time [default: never]."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name to recognise it by.")] = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a token and print it once (only its hash is kept)."""
    from pedigree.server import tokens

    when = tokens.parse_expiry(expires)
    with open_ledger(store, database_url) as ledger:
        token, info = tokens.create(
            ledger, role=role.value, namespaces=namespace, expires=when, name=name
        )
        _log(ledger, f"tokens create {info.id} role={info.role}")
    if as_json:
        print_json({"token": token, **info.to_json()})
        return
    out.print(token)
    err.print(
        f"Token {info.id} ({escape(info.name)}): role {info.role}, "
        f"namespaces {', '.join(info.namespaces) or 'all'}, "
        f"expires {info.expires_at or 'never'}. It is shown only now: store it safely."
    )


@command("list", on=tokens_app)
def tokens_list(
    store: StoreOpt = None, database_url: DatabaseUrlOpt = None, as_json: JsonOpt = False
) -> None:
    """List tokens (never the tokens themselves): id, name, role, namespaces, state."""
    from pedigree.server import tokens

    with open_ledger(store, database_url) as ledger:
        found = tokens.list_tokens(ledger)
    if as_json:
        print_json([info.to_json() for info in found])
        return
    if not found:
        out.print("No tokens (create one with `pedigree tokens create --role viewer`)")
        return
    from rich.table import Table

    table = Table(show_edge=False)
    for column in ("id", "name", "role", "namespaces", "created", "expires", "state"):
        table.add_column(column)
    for info in found:
        table.add_row(
            info.id,
            escape(info.name),
            info.role,
            escape(", ".join(info.namespaces) or "all"),
            info.created_at[:19].replace("T", " "),
            (info.expires_at or "never")[:19].replace("T", " "),
            info.state(),
        )
    out.print(table)


@command("revoke", on=tokens_app)
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id (tokens list).")],
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a token: the next request with it gets 401."""
    from pedigree.server import tokens

    with open_ledger(store, database_url) as ledger:
        info = tokens.revoke(ledger, token_id)
        _log(ledger, f"tokens revoke {info.id}")
    if as_json:
        print_json(info.to_json())
    else:
        out.print(f"Revoked token {info.id} ({escape(info.name)}) at {info.revoked_at}")


def _log(ledger: Ledger, what: str) -> None:
    """Token changes go into the access log too, under the OS user who made them."""
    from pedigree.server.access_log import append, entry

    append(ledger, [entry(method="CLI", path=what, status=200, actor=ledger.actor)])

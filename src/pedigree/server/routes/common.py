"""Shared query parameters and small helpers of the routes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Query
from sqlalchemy import Connection

from pedigree.model import parse_time
from pedigree.server.auth import Principal
from pedigree.server.deps import check_namespace, no_unknown_query_parameters
from pedigree.store import Ledger
from pedigree.store.engine import db_errors
from pedigree.store.nodes import describe, resolve

API = "/api/v1"
STRICT = [Depends(no_unknown_query_parameters)]

NodeQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=2048,
        description="NAME, NAMESPACE:NAME, NAME@VERSION (prefix ok), dataset:…, model:…, "
        "job:NAME or run:ID — as on the command line.",
    ),
]
AsOfQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Answer as the ledger stood at this record number or ISO time.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Skip this many items.")]


def point_in_log(value: str | None, name: str = "as_of") -> str | None:
    """400 unless ``value`` is a record number or an ISO time (checked before the store
    sees it, so a typo is a bad request, not a missing node)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return text
    try:
        parse_time(text)
    except ValueError:
        raise HTTPException(
            400, f"{name} {value!r} is neither a record number nor an ISO time"
        ) from None
    return text


@contextlib.contextmanager
def reading(ledger: Ledger) -> Iterator[Connection]:
    """One read transaction on the store, with driver errors made readable."""
    with db_errors(ledger.location.describe()), ledger.engine.connect() as conn, conn.begin():
        yield conn


def require_node_in_scope(
    ledger: Ledger, principal: Principal, ref: str, as_of: str | None = None
) -> None:
    """403 when ``ref`` names a node outside the token's namespaces (404 when nothing)."""
    if not principal.scoped:
        return
    with reading(ledger) as conn:
        seq = ledger_as_of(conn, as_of)
        selection = resolve(conn, ref, seq)
        nodes = describe(conn, selection.node_ids[:1], seq)
    for node in nodes.values():
        check_namespace(principal, node.namespace, selection.ref)


def ledger_as_of(conn: Connection, as_of: str | None) -> int | None:
    from pedigree.store.queries import as_of_seq

    return as_of_seq(conn, as_of)

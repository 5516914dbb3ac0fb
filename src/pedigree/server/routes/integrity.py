"""Checkpoints, proofs, audit and the access log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from pedigree.model import parse_time
from pedigree.server import access_log, views
from pedigree.server.auth import Permission, Principal
from pedigree.server.deps import LedgerDep, check_namespace, note, require
from pedigree.server.routes.common import API, STRICT, Limit

router = APIRouter(prefix=API, dependencies=STRICT)

Reader = Annotated[Principal, require(Permission.read_summary)]
Size = Annotated[int | None, Query(ge=0, le=2**62, description="A signed tree size.")]


@router.get("/checkpoints", tags=["integrity"], summary="Stored signed checkpoints, oldest first")
def checkpoints(ledger: LedgerDep, principal: Reader, limit: Limit = 1000) -> dict[str, Any]:
    stored = ledger.checkpoints()
    return {
        "key_id": ledger.key_id,
        "checkpoints": [c.model_dump(mode="json") for c in stored[-limit:]],
    }


@router.get("/checkpoints/latest", tags=["integrity"], summary="The latest signed tree head")
def latest_checkpoint(ledger: LedgerDep, principal: Reader) -> dict[str, Any]:
    return ledger.head().model_dump(mode="json")


@router.post("/checkpoints", tags=["integrity"], summary="Sign and keep the current tree head")
def sign_checkpoint(
    ledger: LedgerDep, principal: Annotated[Principal, require(Permission.sign_checkpoint)]
) -> dict[str, Any]:
    return ledger.checkpoint().model_dump(mode="json")


@router.get(
    "/proofs/inclusion/{seq}",
    tags=["integrity"],
    summary="Inclusion proof of a record (the whole record, unredacted, and its signed head)",
    description="Verifies offline with `pedigree verify-proof` or "
    "`pedigree.ledger.proofs.verify_evidence`. The proof holds the record exactly as hashed, "
    "so it is given only to roles that see confidential fields.",
)
def inclusion_proof(
    request: Request,
    ledger: LedgerDep,
    principal: Annotated[Principal, require(Permission.see_confidential)],
    seq: Annotated[int, Path(ge=1, le=2**62)],
    tree_size: Size = None,
) -> dict[str, Any]:
    note(request, f"record {seq}")
    if principal.scoped:
        home = views.Namespaces(ledger).home(ledger.entry(seq).body)
        check_namespace(principal, home, f"record {seq}")
    return ledger.prove(seq, tree_size=tree_size).model_dump(mode="json")


@router.get(
    "/proofs/consistency",
    tags=["integrity"],
    summary="Consistency proof: the tree at `second` (default: now) extends the tree at `first`",
)
def consistency_proof(
    ledger: LedgerDep,
    principal: Reader,
    first: Annotated[int, Query(ge=0, le=2**62)],
    second: Size = None,
) -> dict[str, Any]:
    return ledger.prove_consistency(first, second).model_dump(mode="json")


@router.post(
    "/audit",
    tags=["integrity"],
    summary="Recompute the whole log, its tree and every checkpoint (auditor, admin)",
)
def audit(
    ledger: LedgerDep, principal: Annotated[Principal, require(Permission.audit)]
) -> dict[str, Any]:
    return ledger.audit().to_json()


def _time(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        parse_time(value)
    except ValueError:
        raise HTTPException(400, f"{name} {value!r} is not an ISO time") from None
    return value


@router.get(
    "/access-log",
    tags=["access log"],
    summary="Who called the API, for what, when, with what result (auditor, admin)",
)
def read_access_log(
    request: Request,
    principal: Annotated[Principal, require(Permission.read_access_log)],
    token_id: Annotated[str | None, Query(max_length=32)] = None,
    actor: Annotated[str | None, Query(max_length=2000)] = None,
    method: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[int | None, Query(ge=100, le=599)] = None,
    path: Annotated[str | None, Query(max_length=2000, description="Path contains")] = None,
    since: Annotated[str | None, Query(max_length=64, description="ISO time")] = None,
    until: Annotated[str | None, Query(max_length=64, description="ISO time")] = None,
    after_id: Annotated[
        int | None, Query(ge=0, le=2**62, description="Oldest first, after this row id")
    ] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    writer = request.app.state.access_log
    writer.flush()
    rows = access_log.query(
        writer.ledger,
        token_id=token_id,
        actor=actor,
        method=method,
        status=status,
        path=path,
        since=_time(since, "since"),
        until=_time(until, "until"),
        after_id=after_id,
        limit=limit,
    )
    return {"entries": rows}


@router.get(
    "/access-log/verify",
    tags=["access log"],
    summary="Recompute the access log's hash chain (auditor, admin)",
)
def verify_access_log(
    request: Request, principal: Annotated[Principal, require(Permission.read_access_log)]
) -> dict[str, Any]:
    writer = request.app.state.access_log
    writer.flush()
    return access_log.verify(writer.ledger)

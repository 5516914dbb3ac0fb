"""Liveness and readiness, for load balancers and orchestrators (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pedigree.errors import PedigreeError
from pedigree.server.deps import LedgerDep
from pedigree.store.engine import HEAD_REVISION, current_revision, db_errors

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the store is reachable and its schema is at this server's revision",
    responses={503: {"description": "Not ready: store unreachable or schema not at head"}},
)
def readyz(ledger: LedgerDep) -> JSONResponse:
    try:
        with db_errors(ledger.location.describe()), ledger.engine.connect() as conn:
            revision = current_revision(conn)
        size = ledger.size if revision == HEAD_REVISION else None
    except PedigreeError as exc:
        return JSONResponse({"status": "unavailable", "detail": str(exc)}, 503)
    if revision != HEAD_REVISION:
        return JSONResponse(
            {
                "status": "unavailable",
                "detail": f"schema revision {revision}, expected {HEAD_REVISION} "
                "(run `pedigree init` to upgrade)",
            },
            503,
        )
    return JSONResponse(
        {
            "status": "ready",
            "backend": ledger.location.backend,
            "schema_revision": revision,
            "records": size,
        }
    )

"""What remote capture and remote verification ask of the server: which versions are
recorded already, and whether a certificate was revoked since it was issued."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from pedigree.certify.revocation import revocation_status
from pedigree.model import VersionRef
from pedigree.server.auth import Permission, Principal
from pedigree.server.deps import LedgerDep, check_namespace, note, require
from pedigree.server.routes.common import API, STRICT

router = APIRouter(prefix=API, dependencies=STRICT)


class VersionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    versions: list[VersionRef] = Field(min_length=1, max_length=10_000)


@router.post(
    "/versions/recorded",
    tags=["log"],
    summary="Which of these versions are recorded (remote capture asks before appending)",
)
def versions_recorded(
    request: Request,
    ledger: LedgerDep,
    principal: Annotated[Principal, require(Permission.write_lineage)],
    payload: VersionsIn,
) -> dict[str, Any]:
    for ref in payload.versions:
        check_namespace(principal, ref.namespace, str(ref))
    note(request, f"{len(payload.versions)} versions")
    recorded = ledger.recorded(payload.versions)
    return {"recorded": [ref.model_dump() for ref in payload.versions if ref in recorded]}


@router.get(
    "/certificates/{statement_sha256}/revocation",
    tags=["integrity"],
    summary="Revocation status of a certificate, provable with the ledger key alone",
    description="A consistency proof from the checkpoint the certificate was issued against "
    "(`since_size`) to the current head, and every revocation of the certificate with its "
    "inclusion proof under that head. `pedigree verify --ledger URL` checks it offline.",
)
def certificate_revocation(
    request: Request,
    ledger: LedgerDep,
    principal: Annotated[Principal, require(Permission.read_summary)],
    statement_sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    since_size: Annotated[int, Query(ge=1, le=2**62, description="The bundle's checkpoint size.")],
) -> dict[str, Any]:
    note(request, f"certificate {statement_sha256[:16]}")
    return revocation_status(ledger, statement_sha256, since_size)

"""Writing records (the remote SDK's endpoint) and reading disclosed confidential values."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlalchemy import Connection

from pedigree.errors import ProofError, RecordError
from pedigree.ledger import commitments
from pedigree.ledger.commitments import Disclosure
from pedigree.model import Agent, Annotation, RecordBody, parse_submission
from pedigree.server import access_log, views
from pedigree.server.auth import GOVERNANCE_KINDS, Permission, Principal
from pedigree.server.deps import LedgerDep, PrincipalDep, forbidden, note, require
from pedigree.server.routes.common import API, STRICT
from pedigree.store import Appended

router = APIRouter(prefix=API, dependencies=STRICT)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Submission(_Strict):
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Sent again with a retried delivery, returns the record already appended.",
    )
    schema_id: str = Field(
        alias="schema", min_length=1, max_length=128, examples=["pedigree.run/2"]
    )
    body: dict[str, JsonValue]


class DisclosureIn(_Strict):
    commitment: str = Field(pattern=commitments.PATTERN.pattern)
    salt: str = Field(min_length=1, max_length=256, description="base64url")
    value: JsonValue


class RecordsIn(_Strict):
    records: list[Submission] = Field(min_length=1, max_length=10_000)
    disclosures: list[DisclosureIn] = Field(default_factory=list, max_length=10_000)


class Result(BaseModel):
    idempotency_key: str | None
    seq: int
    existing: bool


class RecordsOut(BaseModel):
    results: list[Result]


def _check_write(
    principal: Principal, bodies: list[RecordBody], namespaces: views.Namespaces
) -> None:
    """403 naming the first record this token may not write (type, kind or namespace)."""
    for position, body in enumerate(bodies, start=1):
        where = f"item {position} of {len(bodies)}: " if len(bodies) > 1 else ""
        if isinstance(body, Annotation) and body.kind in GOVERNANCE_KINDS:
            allowed, needs = principal.can(Permission.write_governance), "steward or admin"
            what = f"{body.kind} annotations"
        elif isinstance(body, Annotation):
            allowed = principal.can(Permission.write_lineage) or principal.can(
                Permission.write_governance
            )
            needs, what = "engineer, steward or admin", f"{body.kind} annotations"
        else:
            allowed, needs = principal.can(Permission.write_lineage), "engineer or admin"
            what = body.TITLE.lower() + " records"
        if not allowed:
            raise forbidden(
                f"{where}role {principal.role.value} may not write {what} (needs {needs})"
            )
        if isinstance(body, Agent):
            continue
        for namespace in sorted(namespaces.referenced(body), key=str):
            if not principal.sees(namespace):
                raise forbidden(
                    f"{where}namespace {namespace!r} is outside this token's namespaces "
                    f"({', '.join(sorted(principal.namespaces))})"
                )
        namespaces.learn(body)


def _disclosures(items: list[DisclosureIn], bodies: list[RecordBody]) -> list[Disclosure]:
    """Each disclosure must open a commitment one of these records holds."""
    held: set[str] = set()
    for body in bodies:
        held |= commitments.commitments_in(body.model_dump(mode="json"))
    out = []
    for item in items:
        disclosure = Disclosure.from_json(item.model_dump())
        if disclosure.commitment not in held:
            raise RecordError(
                f"disclosure for {disclosure.commitment[:36]}…: no record in this request holds it"
            )
        try:
            commitments.check(disclosure)
        except ProofError as exc:
            raise RecordError(str(exc)) from None
        out.append(disclosure)
    return out


@router.post(
    "/records",
    tags=["log"],
    response_model=RecordsOut,
    summary="Append records atomically (the remote SDK's delivery endpoint)",
    description="All records are appended in one transaction, or none. A record sent again "
    "with the same idempotency key returns its first seq with `existing: true`; the same key "
    "with other content is a 409.",
)
def post_records(
    request: Request, ledger: LedgerDep, principal: PrincipalDep, payload: RecordsIn
) -> dict[str, Any]:
    bodies = []
    for position, submission in enumerate(payload.records, start=1):
        try:
            bodies.append(
                parse_submission({"schema": submission.schema_id, "body": submission.body})
            )
        except RecordError as exc:
            if len(payload.records) == 1:
                raise
            raise type(exc)(f"item {position} of {len(payload.records)}: {exc}") from None
    _check_write(principal, bodies, views.Namespaces(ledger))
    disclosures = _disclosures(payload.disclosures, bodies)
    keys = [s.idempotency_key for s in payload.records]

    def logged(conn: Connection, results: list[Appended]) -> None:
        """The request's access-log row, committed with its records."""
        note(request, _span(results))
        access_log.write(conn, [access_log.from_scope(request.scope, status.HTTP_200_OK)])

    results = ledger.append_many(
        bodies,
        actor=principal.actor,
        disclosures=disclosures,
        idempotency_keys=keys if any(k is not None for k in keys) else None,
        alongside=logged,
    )
    request.state.access_logged = True
    return {
        "results": [
            {"idempotency_key": key, "seq": r.seq, "existing": r.existing}
            for key, r in zip(keys, results, strict=True)
        ]
    }


def _span(results: list[Appended]) -> str:
    """The records a request wrote, for its access-log row: ``records 5-7``."""
    seqs = [r.seq for r in results]
    return "records " + (f"{min(seqs)}-{max(seqs)}" if len(set(seqs)) > 1 else str(seqs[0]))


@router.get(
    "/disclosures/{commitment}",
    tags=["confidential"],
    summary="The value behind a commitment (steward, admin)",
)
def disclosure(
    request: Request,
    ledger: LedgerDep,
    principal: Annotated[Principal, require(Permission.disclose)],
    commitment: Annotated[str, Path(pattern=commitments.PATTERN.pattern)],
) -> dict[str, Any]:
    note(request, commitment)
    if principal.scoped:
        seqs = ledger.records_holding(commitment)
        namespaces = views.Namespaces(ledger)
        homes = {namespaces.home(ledger.entry(seq).body) for seq in seqs}
        if homes and not any(principal.sees(home) for home in homes):
            raise forbidden(
                f"{commitment[:36]}… is held only by records outside this token's namespaces"
            )
    return ledger.disclosure(commitment).to_json()

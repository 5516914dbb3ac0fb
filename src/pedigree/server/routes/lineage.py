"""OpenLineage in (``POST /api/v1/lineage``) and the lineage graph out in Marquez's shape
(``GET /api/v1/lineage``), so existing emitters and Marquez-speaking tools work."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool

from pedigree.errors import RecordError
from pedigree.server import access_log, marquez, views
from pedigree.server.auth import Permission, Principal
from pedigree.server.deps import LedgerDep, check_namespace, forbidden, note, require
from pedigree.server.group_commit import GroupCommit
from pedigree.server.routes.common import API, STRICT
from pedigree.store import Ledger

router = APIRouter(prefix=API, dependencies=STRICT, tags=["openlineage"])


@router.get(
    "/lineage",
    summary="Lineage graph around a node, in Marquez's shape",
    description="`nodeId` is `dataset:NAMESPACE:NAME` or `job:NAMESPACE:NAME` as in Marquez "
    "(any Pedigree reference works too). Dataset and model versions collapse into their "
    "dataset, runs into their job; see docs/server.md.",
)
def lineage_graph(
    ledger: LedgerDep,
    principal: Annotated[Principal, require(Permission.read_summary)],
    node_id: Annotated[str, Query(alias="nodeId", min_length=1, max_length=2048)],
    depth: Annotated[int, Query(ge=0, le=100)] = 20,
) -> dict[str, Any]:
    up = ledger.trace(node_id, direction="up", depth=depth)
    roots = [up.nodes[r] for r in up.roots if r in up.nodes]
    check_namespace(principal, views.selection_namespace(roots), up.selection.ref)
    down = ledger.trace(node_id, direction="down", depth=depth)
    return marquez.graph([up, down], principal)


def _event_namespaces(event: Any) -> set[str]:
    """Namespaces named in a raw OpenLineage event: job, inputs, outputs, dataset, and
    the parent run's job (a parent not recorded yet is recorded in its namespace)."""
    found: set[str] = set()
    if not isinstance(event, dict):
        return found
    run = event.get("run") if isinstance(event.get("run"), dict) else {}
    parent = (
        (run.get("facets") or {}).get("parent") if isinstance(run.get("facets"), dict) else None
    )
    places = [event.get("job"), event.get("dataset")]
    if isinstance(parent, dict):
        places.append(parent.get("job"))
    for side in ("inputs", "outputs"):
        if isinstance(event.get(side), list):
            places += event[side]
    for place in places:
        if isinstance(place, dict) and isinstance(place.get("namespace"), str):
            found.add(place["namespace"])
    return found


async def _ingest(
    request: Request, principal: Principal, events: list[Any], *, batch: bool
) -> dict[str, Any]:
    """Runs on the event loop: the group commit does the appending (on SQLite, on this
    loop, at the end of its turn; on PostgreSQL, its writer thread).
    (The routes take no ledger dependency: each one FastAPI resolves costs the busiest
    endpoint more than what it gives.)"""
    try:
        from pedigree.interop import openlineage
    except ImportError:
        raise HTTPException(
            status.HTTP_501_NOT_IMPLEMENTED, "OpenLineage ingest is not available in this build"
        ) from None
    if principal.scoped:  # (reads the ledger: off the event loop)
        await run_in_threadpool(
            _check_scope,
            request.app.state.ledger,
            principal,
            events,
            getattr(openlineage, "to_records", None),
        )
    committer: GroupCommit = request.app.state.group_commit
    row = access_log.from_scope(request.scope, status.HTTP_201_CREATED)
    # (the row commits with the events: the middleware must not log the request again,
    # even when this task is cancelled while they commit; a failure is logged as such)
    request.state.access_logged = True
    try:
        results = await committer.submit(events, principal.actor, single=not batch, access=row)
    except Exception:
        request.state.access_logged = False
        raise
    return {"accepted": len(events), "results": [_result(r) for r in results or []]}


def _check_scope(ledger: Ledger, principal: Principal, events: list[Any], to_records: Any) -> None:
    """403 when an event would write lineage outside the token's namespaces: every
    namespace of the records it becomes (and any named in the raw event)."""
    namespaces = views.Namespaces(ledger)
    for position, event in enumerate(events, start=1):
        found = _event_namespaces(event)
        if to_records is not None:
            try:
                bodies = to_records(event)
            except RecordError:
                bodies = []  # invalid: ``ingest`` answers 400 naming the problem
            for body in bodies:
                found |= namespaces.referenced(body)
                namespaces.learn(body)
        for namespace in sorted(found):
            if not principal.sees(namespace):
                where = f"event {position}: " if len(events) > 1 else ""
                raise forbidden(
                    f"{where}namespace {namespace!r} is outside this token's namespaces "
                    f"({', '.join(sorted(principal.namespaces))})"
                )


def _result(item: Any) -> Any:
    """What ``ingest`` returns per event, as JSON."""
    if hasattr(item, "to_json"):
        return item.to_json()
    if hasattr(item, "seq"):
        return {"seq": item.seq, "existing": bool(getattr(item, "existing", False))}
    return item if isinstance(item, int | str | dict) else str(item)


@router.post(
    "/lineage",
    status_code=201,
    summary="Record one OpenLineage run event (the endpoint OpenLineage emitters call)",
)
async def post_lineage(
    request: Request,
    principal: Annotated[Principal, require(Permission.write_lineage)],
    event: Annotated[dict[str, Any], Body(description="An OpenLineage RunEvent.")],
) -> dict[str, Any]:
    job = event.get("job")
    if isinstance(job, dict):
        note(request, f"job:{job.get('namespace')}:{job.get('name')}")
    return await _ingest(request, principal, [event], batch=False)


@router.post(
    "/lineage/batch",
    status_code=201,
    summary="Record several OpenLineage events atomically (all or none)",
)
async def post_lineage_batch(
    request: Request,
    principal: Annotated[Principal, require(Permission.write_lineage)],
    events: Annotated[
        list[dict[str, Any]],
        Body(min_length=1, max_length=10_000, description="A JSON array of OpenLineage events."),
    ],
) -> dict[str, Any]:
    return await _ingest(request, principal, list(events), batch=True)

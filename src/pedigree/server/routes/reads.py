"""Read endpoints: browse, search, show, trace, path, impact, the log, annotations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request

from pedigree.model import Annotation
from pedigree.server import views
from pedigree.server.auth import Permission, Principal
from pedigree.server.deps import LedgerDep, check_namespace, note, require
from pedigree.server.routes.common import (
    API,
    STRICT,
    AsOfQuery,
    Limit,
    NodeQuery,
    Offset,
    point_in_log,
    require_node_in_scope,
)

router = APIRouter(prefix=API, dependencies=STRICT)

Reader = Annotated[Principal, require(Permission.read_summary)]


def _scope(principal: Principal, namespace: str | None) -> list[str] | None:
    if namespace is not None:
        check_namespace(principal, namespace, f"namespace {namespace!r}")
    return sorted(principal.namespaces) if principal.scoped else None


@router.get("/whoami", tags=["tokens"], summary="The calling token: id, role, namespaces")
def whoami(principal: Reader) -> dict[str, Any]:
    return {
        "token_id": principal.token_id,
        "name": principal.name,
        "role": principal.role.value,
        "namespaces": sorted(principal.namespaces),
        "actor": principal.actor,
        "permissions": sorted(p.name for p in Permission if principal.can(p)),
    }


@router.get("/datasets", tags=["browse"], summary="Datasets and models, with their latest version")
def datasets(
    ledger: LedgerDep,
    principal: Reader,
    q: Annotated[
        str | None, Query(max_length=512, description="Name or namespace contains")
    ] = None,
    namespace: Annotated[str | None, Query(max_length=1024)] = None,
    kind: Literal["dataset", "model"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    allowed = _scope(principal, namespace)
    total, items = ledger.datasets(
        query=q,
        namespace=namespace,
        kind=kind,
        allowed=allowed,
        limit=limit,
        offset=offset,
    )
    return {"total": total, "limit": limit, "offset": offset, "datasets": items}


@router.get("/versions", tags=["browse"], summary="The versions of one dataset or model")
def versions(
    request: Request,
    ledger: LedgerDep,
    principal: Reader,
    dataset: NodeQuery,
    as_of: AsOfQuery = None,
) -> dict[str, Any]:
    note(request, dataset)
    details = ledger.show(dataset, as_of=point_in_log(as_of))
    if details.selection.type not in ("dataset", "model", "dataset_version", "model_version"):
        raise HTTPException(400, f"{details.selection.ref} is not a dataset or model")
    nodes = sorted(details.nodes.values(), key=lambda n: n.id)
    check_namespace(principal, views.selection_namespace(nodes), details.selection.ref)
    return {"dataset": details.selection.ref, "versions": [n.to_json() for n in nodes]}


@router.get("/jobs", tags=["browse"], summary="Jobs, with their latest run")
def jobs(
    ledger: LedgerDep,
    principal: Reader,
    q: Annotated[
        str | None, Query(max_length=512, description="Name or namespace contains")
    ] = None,
    namespace: Annotated[str | None, Query(max_length=1024)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    allowed = _scope(principal, namespace)
    total, items = ledger.jobs(
        query=q, namespace=namespace, allowed=allowed, limit=limit, offset=offset
    )
    return {"total": total, "limit": limit, "offset": offset, "jobs": items}


@router.get("/runs", tags=["browse"], summary="Runs (current state), newest first")
def runs(
    request: Request,
    ledger: LedgerDep,
    principal: Reader,
    job: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
    status: Literal["running", "completed", "failed", "aborted"] | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    note(request, job)
    allowed = _scope(principal, None)
    total, items = ledger.runs(
        job=job, status=status, kind=kind, allowed=allowed, limit=limit, offset=offset
    )
    if job is not None and principal.scoped:
        require_node_in_scope(ledger, principal, f"job:{job.removeprefix('job:')}")
    return {"total": total, "limit": limit, "offset": offset, "runs": items}


@router.get("/search", tags=["browse"], summary="Datasets, models and jobs whose name contains q")
def search(
    ledger: LedgerDep,
    principal: Reader,
    q: Annotated[str, Query(min_length=1, max_length=512)],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    allowed = _scope(principal, None)
    n_data, found = ledger.datasets(query=q, allowed=allowed, limit=limit)
    n_jobs, found_jobs = ledger.jobs(query=q, allowed=allowed, limit=limit)
    return {
        "query": q,
        "total": n_data + n_jobs,
        "datasets": found,
        "jobs": found_jobs,
    }


@router.get("/show", tags=["lineage"], summary="One node: record, neighbours, annotations, history")
def show(
    ledger: LedgerDep, principal: Reader, node: NodeQuery, as_of: AsOfQuery = None
) -> dict[str, Any]:
    details = ledger.show(node, as_of=point_in_log(as_of))
    nodes = list(details.nodes.values())
    check_namespace(principal, views.selection_namespace(nodes), details.selection.ref)
    return views.details_json(details, principal)


@router.get("/trace", tags=["lineage"], summary="Upstream or downstream closure of a node")
def trace(
    ledger: LedgerDep,
    principal: Reader,
    node: NodeQuery,
    direction: Literal["up", "down"] = "up",
    depth: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    as_of: AsOfQuery = None,
) -> dict[str, Any]:
    graph = ledger.trace(node, direction=direction, depth=depth, as_of=point_in_log(as_of))
    return _graph_answer(graph, principal)


@router.get("/impact", tags=["lineage"], summary="Everything downstream of a node")
def impact(
    ledger: LedgerDep, principal: Reader, node: NodeQuery, as_of: AsOfQuery = None
) -> dict[str, Any]:
    return _graph_answer(ledger.impact(node, as_of=point_in_log(as_of)), principal)


def _graph_answer(graph: Any, principal: Principal) -> dict[str, Any]:
    """A closure as JSON for this principal: 403 if its root is outside the token's
    namespaces, other nodes outside them left out (and counted)."""
    roots = [graph.nodes[r] for r in graph.roots if r in graph.nodes]
    check_namespace(principal, views.selection_namespace(roots), graph.selection.ref)
    return views.graph_json(graph, principal)


@router.get("/path", tags=["lineage"], summary="How source leads to target (or target to source)")
def path(
    ledger: LedgerDep,
    principal: Reader,
    source: NodeQuery,
    target: NodeQuery,
    as_of: AsOfQuery = None,
) -> dict[str, Any]:
    at = point_in_log(as_of)
    require_node_in_scope(ledger, principal, source, at)
    require_node_in_scope(ledger, principal, target, at)
    graph = ledger.path(source, target, as_of=at)
    if graph is None:
        return {"connected": False, "source": source, "target": target, "path": None}
    return {"connected": True, **views.graph_json(graph, principal)}


@router.get("/records", tags=["log"], summary="Records in log order, filtered as `pedigree log`")
def records(
    request: Request,
    ledger: LedgerDep,
    principal: Reader,
    type: Annotated[
        list[Literal["dataset_version", "model_version", "run", "agent", "annotation"]] | None,
        Query(description="Only this record type; repeatable."),
    ] = None,
    job: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
    dataset: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
    since: Annotated[
        str | None, Query(max_length=64, description="From this record number or ISO time on.")
    ] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    since = point_in_log(since, "since")
    for ref in (f"job:{job.removeprefix('job:')}" if job else None, dataset):
        if ref is not None:
            require_node_in_scope(ledger, principal, ref)
    namespaces = views.Namespaces(ledger)
    found: list[Any] = []
    start: str | int | None = since
    while len(found) < limit:
        page = ledger.entries(types=type, job=job, dataset=dataset, since=start, limit=limit)
        found += views.visible_entries(page, principal, namespaces)
        if len(page) < limit:
            start = None
            break
        start = page[-1].seq + 1
    found = found[:limit]
    full = len(found) == limit
    return {
        "records": [views.entry_json(e, principal) for e in found],
        "next_since": found[-1].seq + 1 if full and found else None,
    }


@router.get("/records/{seq}", tags=["log"], summary="One record of the log")
def record(
    request: Request,
    ledger: LedgerDep,
    principal: Reader,
    seq: Annotated[int, Path(ge=1, le=2**62)],
) -> dict[str, Any]:
    entry = ledger.entry(seq)
    home = views.Namespaces(ledger).home(entry.body)
    check_namespace(principal, home, f"record {seq}")
    return views.entry_json(entry, principal)


def _annotations(
    ledger: Any, principal: Principal, node: str | None, kinds: set[str] | None, limit: int
) -> list[Any]:
    if node is not None:
        details = ledger.show(node)
        check_namespace(
            principal, views.selection_namespace(details.nodes.values()), details.selection.ref
        )
        entries = details.annotations
    else:
        entries = views.visible_entries(
            ledger.entries(types=["annotation"]), principal, views.Namespaces(ledger)
        )
    if kinds is not None:
        entries = [e for e in entries if isinstance(e.body, Annotation) and e.body.kind in kinds]
    return entries[-limit:]


KindQuery = Annotated[str | None, Query(max_length=64, description="Only this annotation kind.")]
OptionalNode = Annotated[
    str | None, Query(min_length=1, max_length=2048, description="Only annotations on this node.")
]


@router.get("/annotations", tags=["annotations"], summary="Annotations (current, newest last)")
def annotations(
    ledger: LedgerDep,
    principal: Reader,
    node: OptionalNode = None,
    kind: KindQuery = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    found = _annotations(ledger, principal, node, {kind} if kind else None, limit)
    return {"annotations": [views.entry_json(e, principal) for e in found]}


@router.get("/evaluations", tags=["annotations"], summary="Evaluation annotations")
def evaluations(
    ledger: LedgerDep, principal: Reader, node: OptionalNode = None, limit: Limit = 100
) -> dict[str, Any]:
    found = _annotations(ledger, principal, node, {"evaluation"}, limit)
    return {"evaluations": [views.entry_json(e, principal) for e in found]}


@router.get("/certificates", tags=["annotations"], summary="Certificates issued, and revocations")
def certificates(
    ledger: LedgerDep, principal: Reader, node: OptionalNode = None, limit: Limit = 100
) -> dict[str, Any]:
    found = _annotations(ledger, principal, node, {"certificate", "revocation"}, 100_000)
    revoked = {
        e.body.body.get("statement_sha256"): e.seq
        for e in found
        if isinstance(e.body, Annotation) and e.body.kind == "revocation"
    }
    issued = [e for e in found if isinstance(e.body, Annotation) and e.body.kind == "certificate"]
    return {
        "certificates": [
            {
                **views.entry_json(e, principal),
                "revoked_by": revoked.get(e.body.body.get("statement_sha256")),  # type: ignore[attr-defined]
            }
            for e in issued[-limit:]
        ]
    }

"""Browsing the projections: datasets, jobs, runs and name search, page by page.

The list questions of the HTTP API and the web UI (``Ledger.datasets``, ``jobs``, ``runs``):
they read the same projection tables as ``pedigree.store.queries`` and describe nodes with
``pedigree.store.nodes.describe``, so a listed node reads exactly as ``show`` gives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, LargeBinary, func, literal, or_, select

from pedigree.store import schema as t
from pedigree.store.nodes import describe, resolve, version_ref


def _like(column: Any, text: str) -> Any:
    """Case-insensitive substring match, with LIKE's wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _named(
    table: Any, query: str | None, namespace: str | None, allowed: Iterable[str] | None
) -> list[Any]:
    """Filters on a table of named things (datasets, jobs): text in the name or namespace,
    one namespace, and the namespaces a token may see."""
    where = []
    if query:
        where.append(or_(_like(table.c.name, query), _like(table.c.namespace, query)))
    if namespace is not None:
        where.append(table.c.namespace == namespace)
    if allowed is not None:
        where.append(table.c.namespace.in_(sorted(allowed)))
    return where


def datasets(
    conn: Connection,
    *,
    query: str | None = None,
    namespace: str | None = None,
    kind: str | None = None,
    allowed: Iterable[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Datasets and models (``kind``) with their version count and latest version;
    (total matching, one page)."""
    d, v = t.datasets, t.versions
    where = _named(d, query, namespace, allowed)
    if kind is not None:
        where.append(d.c.kind == kind)
    total = conn.execute(select(func.count()).select_from(d).where(*where)).scalar() or 0
    stats = (
        select(
            v.c.dataset_id,
            func.count().label("versions"),
            func.max(v.c.id).label("latest"),
        )
        .group_by(v.c.dataset_id)
        .subquery()
    )
    rows = conn.execute(
        select(d.c.id, d.c.kind, d.c.namespace, d.c.name, stats.c.versions, stats.c.latest)
        .join(stats, stats.c.dataset_id == d.c.id)
        .where(*where)
        .order_by(d.c.namespace, d.c.name)
        .limit(limit)
        .offset(offset)
    ).all()
    latest = describe(conn, [r.latest for r in rows])
    out = []
    for r in rows:
        node = latest.get(r.latest)
        out.append(
            {
                "id": version_ref(r.kind, r.namespace, r.name),
                "type": r.kind,
                "namespace": r.namespace,
                "name": r.name,
                "versions": r.versions,
                "latest": node.to_json() if node else None,
            }
        )
    return total, out


def jobs(
    conn: Connection,
    *,
    query: str | None = None,
    namespace: str | None = None,
    allowed: Iterable[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Jobs with their run count and latest run; (total matching, one page)."""
    j, r = t.jobs, t.runs
    where = _named(j, query, namespace, allowed)
    total = conn.execute(select(func.count()).select_from(j).where(*where)).scalar() or 0
    stats = (
        select(
            r.c.job_id,
            func.count(func.distinct(r.c.node_id)).label("runs"),
            func.max(r.c.node_id).label("latest"),
        )
        .group_by(r.c.job_id)
        .subquery()
    )
    rows = conn.execute(
        select(j.c.namespace, j.c.name, stats.c.runs, stats.c.latest)
        .join(stats, stats.c.job_id == j.c.id)
        .where(*where)
        .order_by(j.c.namespace, j.c.name)
        .limit(limit)
        .offset(offset)
    ).all()
    latest = describe(conn, [row.latest for row in rows])
    return total, [
        {
            "id": f"job:{row.namespace}:{row.name}",
            "type": "job",
            "namespace": row.namespace,
            "name": row.name,
            "runs": row.runs,
            "latest": latest[row.latest].to_json() if row.latest in latest else None,
        }
        for row in rows
    ]


def runs(
    conn: Connection,
    *,
    job: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    allowed: Iterable[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Runs (their current record), newest first, of one job (``job:NS:NAME`` or
    ``NS:NAME``) if given; (total matching, one page)."""
    r, j = t.runs, t.jobs
    where = [r.c.superseded_seq.is_(None)]
    if job is not None:
        where.append(r.c.job_id == resolve(conn, f"job:{job.removeprefix('job:')}").entity_id)
    if status is not None:
        where.append(r.c.status == status)
    if kind is not None:
        where.append(r.c.kind == kind)
    if allowed is not None:
        where.append(j.c.namespace.in_(sorted(allowed)))
    base = select(r.c.node_id).join(j, j.c.id == r.c.job_id).where(*where)
    total = conn.execute(select(func.count()).select_from(base.subquery())).scalar() or 0
    ids = list(
        conn.execute(base.order_by(r.c.node_id.desc()).limit(limit).offset(offset)).scalars()
    )
    nodes = describe(conn, ids)
    return total, [nodes[i].to_json() for i in ids if i in nodes]


def run_namespaces(conn: Connection, run_ids: Iterable[str]) -> dict[str, str]:
    """The namespace (of its job) of each recorded run id."""
    wanted = sorted({str(r) for r in run_ids})
    if not wanted:
        return {}
    r, j = t.runs, t.jobs
    rows = conn.execute(
        select(r.c.run_id, j.c.namespace)
        .join(j, j.c.id == r.c.job_id)
        .where(r.c.run_id.in_(wanted))
    )
    return {run_id: namespace for run_id, namespace in rows}


def records_holding(conn: Connection, needle: str) -> list[int]:
    """Seqs of the records whose canonical bytes contain ``needle`` (a commitment)."""
    rec = t.records
    data = needle.encode("utf-8")
    if conn.dialect.name == "postgresql":
        found = func.position(literal(data, LargeBinary).op("IN")(rec.c.canonical)) > 0
    else:
        found = func.instr(rec.c.canonical, literal(data, LargeBinary)) > 0
    return list(conn.execute(select(rec.c.seq).where(found).order_by(rec.c.seq)).scalars())

"""Read-side questions: trace, path, impact, show and log, at any point in the log.

Each takes a connection inside one read transaction, so an answer is one consistent
snapshot, and an ``as_of`` log position (``None`` for now).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from pedigree.errors import NotFoundError
from pedigree.model import LogEntry, VersionRef, format_time, parse_time, record_class
from pedigree.store import schema as t
from pedigree.store.graph import Direction, Edge, ids_in, path_from, walk
from pedigree.store.nodes import Node, Selection, describe, resolve


@dataclass(slots=True)
class Graph:
    """A lineage answer: the selected roots, the nodes reached and the edges between them."""

    selection: Selection
    direction: str
    depth: int | None
    as_of: int | None
    nodes: dict[int, Node]
    edges: list[Edge]
    distance: dict[int, int] = field(default_factory=dict)

    @property
    def roots(self) -> list[int]:
        return list(self.selection.node_ids)

    def to_json(self) -> dict[str, Any]:
        nodes = sorted(self.nodes.values(), key=lambda n: (self.distance.get(n.id, 0), n.id))
        return {
            "query": {
                "node": self.selection.ref,
                "direction": self.direction,
                "depth": self.depth,
                "as_of_seq": self.as_of,
            },
            "roots": [self.nodes[r].ref for r in self.roots if r in self.nodes],
            "nodes": [{**n.to_json(), "distance": self.distance.get(n.id, 0)} for n in nodes],
            "edges": [
                {
                    "source": self.nodes[e.src].ref,
                    "target": self.nodes[e.dst].ref,
                    "kind": e.kind,
                    **({"role": e.role} if e.role else {}),
                }
                for e in self.edges
                if e.src in self.nodes and e.dst in self.nodes
            ],
        }


def as_of_seq(conn: Connection, value: int | str | datetime | None) -> int | None:
    """The last log position at ``value``: a seq, or a time (ISO text or datetime)."""
    if value is None:
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        seq = int(value)
        if seq < 0:
            raise NotFoundError("--as-of must be a record number >= 0 or a time")
        return seq
    if isinstance(value, str):
        try:
            value = parse_time(value.strip())
        except ValueError:
            raise NotFoundError(
                f"--as-of {value!r} is neither a record number nor an ISO time "
                "(e.g. 2026-11-23T12:00:00Z)"
            ) from None
    stamp = format_time(value)
    seq = conn.execute(select(func.max(t.records.c.seq)).where(t.records.c.time <= stamp)).scalar()
    return int(seq or 0)


def recorded_versions(conn: Connection, refs: list[VersionRef]) -> set[VersionRef]:
    """Which of ``refs`` (dataset or model versions) are already in the ledger."""
    found: set[VersionRef] = set()
    for namespace, name in {(ref.namespace, ref.name) for ref in refs}:
        wanted = {ref.version for ref in refs if (ref.namespace, ref.name) == (namespace, name)}
        rows = conn.execute(
            select(t.versions.c.version)
            .join(t.datasets, t.datasets.c.id == t.versions.c.dataset_id)
            .where(
                t.datasets.c.namespace == namespace,
                t.datasets.c.name == name,
                t.versions.c.version.in_(sorted(wanted)),
            )
        )
        found.update(VersionRef(namespace=namespace, name=name, version=v) for (v,) in rows)
    return found


def versions_named(conn: Connection, version: str) -> list[VersionRef]:
    """Every dataset or model that has a version with this id (a content fingerprint names
    the same content wherever it was recorded), most recently recorded first."""
    rows = conn.execute(
        select(t.datasets.c.namespace, t.datasets.c.name)
        .join(t.versions, t.datasets.c.id == t.versions.c.dataset_id)
        .where(t.versions.c.version == version)
        .order_by(t.versions.c.id.desc())
    )
    return [VersionRef(namespace=ns, name=name, version=version) for ns, name in rows]


def trace(
    conn: Connection, ref: str, direction: str, depth: int | None, as_of: int | None
) -> Graph:
    if direction not in ("up", "down"):
        raise NotFoundError(f"direction must be up or down, not {direction!r}")
    if depth is not None and depth < 0:
        raise NotFoundError("--depth must be 0 or more")
    selection = resolve(conn, ref, as_of)
    dir_: Direction = "up" if direction == "up" else "down"
    walked = walk(conn, selection.node_ids, dir_, depth=depth, as_of=as_of)
    nodes = describe(conn, walked.depth, as_of)
    return Graph(
        selection=selection,
        direction=direction,
        depth=depth,
        as_of=as_of,
        nodes=nodes,
        edges=walked.edges,
        distance=walked.depth,
    )


def path(conn: Connection, source: str, target: str, as_of: int | None) -> Graph | None:
    """Shortest lineage path from ``source`` down to ``target``; else from ``target`` down."""
    start = resolve(conn, source, as_of)
    end = resolve(conn, target, as_of)
    for first, second in ((start, end), (end, start)):
        goal = frozenset(second.node_ids)
        walked = walk(conn, first.node_ids, "down", as_of=as_of, stop_at=goal)
        hits = sorted(goal & set(walked.depth))
        if hits:
            edges = path_from(walked, hits[0])
            order = [edges[0].src, *(e.dst for e in edges)] if edges else [hits[0]]
            return Graph(
                selection=first,
                direction="down",
                depth=None,
                as_of=as_of,
                nodes=describe(conn, order, as_of),
                edges=edges,
                distance={node: i for i, node in enumerate(order)},
            )
    return None


# --- show -----------------------------------------------------------------------------------


@dataclass(slots=True)
class NodeDetails:
    """One node (or a dataset / job as a whole) with its records and neighbours."""

    selection: Selection
    nodes: dict[int, Node]
    current: LogEntry | None
    history: list[LogEntry]
    annotations: list[LogEntry]
    upstream: list[tuple[Edge, Node]]
    downstream: list[tuple[Edge, Node]]

    def to_json(self) -> dict[str, Any]:
        def neighbour(edge: Edge, node: Node) -> dict[str, Any]:
            return {
                "node": node.ref,
                "label": node.label,
                "type": node.type,
                "kind": edge.kind,
                "role": edge.role,
            }

        return {
            "node": self.selection.ref,
            "type": self.selection.type,
            "members": [n.to_json() for n in sorted(self.nodes.values(), key=lambda n: n.id)],
            "record": self.current.to_json() if self.current else None,
            "annotations": [a.to_json() for a in self.annotations],
            "upstream": [neighbour(e, n) for e, n in self.upstream],
            "downstream": [neighbour(e, n) for e, n in self.downstream],
            "history": [h.to_json() for h in self.history],
        }


def _entries(conn: Connection, seqs: set[int]) -> list[LogEntry]:
    if not seqs:
        return []
    rows = conn.execute(
        select(t.records.c.canonical, t.records.c.leaf_hash)
        .where(ids_in(t.records.c.seq, sorted(seqs), conn))
        .order_by(t.records.c.seq)
    )
    return [LogEntry.from_canonical(bytes(r.canonical), bytes(r.leaf_hash)) for r in rows]


def _related_seqs(
    conn: Connection, selection: Selection, as_of: int | None
) -> tuple[set[int], set[int]]:
    """Seqs of the records that define a selection, and of the annotations on it."""
    a, r = t.annotations, t.runs
    defining: set[int] = set()
    targets: list[tuple[str, list[int]]] = []
    ids = list(selection.node_ids)
    if selection.type in ("dataset_version", "model_version", "dataset", "model"):
        defining |= set(ids)
        targets.append(("version", ids))
        if selection.entity_id is not None:
            targets.append(("dataset", [selection.entity_id]))
    else:
        defining |= set(
            conn.execute(select(r.c.seq).where(ids_in(r.c.node_id, ids, conn))).scalars()
        )
        targets.append(("run", ids))
        if selection.entity_id is not None:
            targets.append(("job", [selection.entity_id]))
    annotated = set(
        conn.execute(
            select(a.c.seq).where(
                or_(
                    *[
                        (a.c.target_type == kind) & ids_in(a.c.target_id, some, conn)
                        for kind, some in targets
                    ]
                )
            )
        ).scalars()
    )
    if as_of is not None:
        defining = {s for s in defining if s <= as_of}
        annotated = {s for s in annotated if s <= as_of}
    return defining, annotated


def show(conn: Connection, ref: str, as_of: int | None) -> NodeDetails:
    selection = resolve(conn, ref, as_of)
    nodes = describe(conn, selection.node_ids, as_of)
    defining, annotated = _related_seqs(conn, selection, as_of)
    history = _entries(conn, defining | annotated)
    superseded = {
        str(e.body.supersedes)  # type: ignore[attr-defined]
        for e in history
        if e.seq in annotated and getattr(e.body, "supersedes", None)
    }
    annotations = [
        e
        for e in history
        if e.seq in annotated and str(e.body.annotation_id) not in superseded  # type: ignore[attr-defined]
    ]
    current = None
    if len(selection.node_ids) == 1:
        current = max((e for e in history if e.seq in defining), key=lambda e: e.seq, default=None)
    up = walk(conn, selection.node_ids, "up", depth=1, as_of=as_of)
    down = walk(conn, selection.node_ids, "down", depth=1, as_of=as_of)
    members = set(selection.node_ids)
    neighbours = describe(conn, (set(up.depth) | set(down.depth)) - members, as_of)
    return NodeDetails(
        selection=selection,
        nodes=nodes,
        current=current,
        history=history,
        annotations=annotations,
        upstream=[(e, neighbours[e.src]) for e in up.edges if e.src in neighbours],
        downstream=[(e, neighbours[e.dst]) for e in down.edges if e.dst in neighbours],
    )


# --- log ------------------------------------------------------------------------------------


def log_entries(
    conn: Connection,
    *,
    types: list[str] | None = None,
    job: str | None = None,
    dataset: str | None = None,
    since: int | str | datetime | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[LogEntry]:
    """Records in log order, filtered by type (``run``…), job, dataset and start point.

    ``since`` is a record number (from that record on) or a time (records at or after it).
    """
    rec = t.records
    query = select(rec.c.canonical, rec.c.leaf_hash)
    if types:
        names = [record_class(name).SCHEMA for name in types]
        query = query.where(or_(*[rec.c.schema.like(f"{n}/%") for n in names]))
    if since is not None:
        if isinstance(since, int) or (isinstance(since, str) and since.strip().isdigit()):
            query = query.where(rec.c.seq >= int(since))
        else:
            stamp = since if isinstance(since, datetime) else _parse_since(since)
            query = query.where(rec.c.time >= format_time(stamp))
    for ref in (f"job:{job.removeprefix('job:')}" if job else None, dataset):
        if ref is None:
            continue
        selection = resolve(conn, ref)
        defining, annotated = _related_seqs(conn, selection, None)
        seqs = defining | annotated | _touching_runs(conn, selection)
        query = query.where(ids_in(rec.c.seq, sorted(seqs) or [0], conn))
    query = query.order_by(rec.c.seq.desc() if newest_first else rec.c.seq)
    if limit is not None:
        query = query.limit(limit)
    return [
        LogEntry.from_canonical(bytes(r.canonical), bytes(r.leaf_hash)) for r in conn.execute(query)
    ]


def _parse_since(text: str) -> datetime:
    try:
        return parse_time(text.strip())
    except ValueError:
        raise NotFoundError(
            f"--since {text!r} is neither a record number nor an ISO time (e.g. 2026-11-23T12:00:00Z)"
        ) from None


def _touching_runs(conn: Connection, selection: Selection) -> set[int]:
    """Run records whose inputs or outputs include one of a dataset's versions."""
    if selection.type not in ("dataset", "model", "dataset_version", "model_version"):
        return set()
    e = t.edges
    ids = list(selection.node_ids)
    rows = conn.execute(
        select(e.c.seq_from).where(
            e.c.run_node_id.is_not(None),
            or_(ids_in(e.c.src, ids, conn), ids_in(e.c.dst, ids, conn)),
        )
    ).scalars()
    return set(rows)

"""Lineage graph queries over the ``edges`` projection: closure, path, impact, as-of.

Nodes are dataset/model versions and runs. Edges point downstream (upstream node ->
downstream node) with a kind: ``used`` (version -> run), ``trained_on`` (version -> train
run), ``generated`` (run -> version) and ``derived_from`` (version -> version, stated
without a run). Every edge carries the log interval it holds in (``seq_from`` to
``seq_to``), so asking "as of seq S" sees exactly the graph the ledger held then.

Walks go breadth-first, one indexed query per level, which keeps a depth-limited
closure to ``depth`` round trips whatever the size of the graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ARRAY, BigInteger, Connection, and_, any_, bindparam, or_, select
from sqlalchemy.sql.elements import ColumnElement

from pedigree.store import schema as t

Direction = Literal["up", "down"]
EDGE_KINDS = ("used", "trained_on", "generated", "derived_from")
_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class Edge:
    src: int
    dst: int
    kind: str
    role: str | None = None


@dataclass(slots=True)
class Walk:
    depth: dict[int, int]
    """Every node reached, with its distance from the start."""
    edges: list[Edge]
    parent: dict[int, Edge]
    """For each reached node but the starts, the edge it was first reached by."""
    stopped_at: set[int] = field(default_factory=set)


def ids_in(column: ColumnElement[Any], ids: Sequence[int], conn: Connection) -> ColumnElement[bool]:
    """``column IN ids``; one array parameter on PostgreSQL instead of thousands."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(BigInteger), unique=True))
    return column.in_(list(ids))


def live(
    as_of: int | None, since: ColumnElement[Any], until: ColumnElement[Any]
) -> ColumnElement[bool]:
    """Rows valid now (``until`` unset), or valid at log position ``as_of``."""
    if as_of is None:
        return until.is_(None)
    return and_(since <= as_of, or_(until.is_(None), until > as_of))


def walk(
    conn: Connection,
    starts: Iterable[int],
    direction: Direction,
    *,
    depth: int | None = None,
    as_of: int | None = None,
    stop_at: set[int] | frozenset[int] = frozenset(),
) -> Walk:
    """Breadth-first closure from ``starts``; stops early at the level reaching ``stop_at``."""
    e = t.edges
    near, _far = (e.c.dst, e.c.src) if direction == "up" else (e.c.src, e.c.dst)
    valid = live(as_of, e.c.seq_from, e.c.seq_to)
    result = Walk(depth={s: 0 for s in starts}, edges=[], parent={})
    frontier = list(result.depth)
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        following: list[int] = []
        for i in range(0, len(frontier), _CHUNK):
            chunk = frontier[i : i + _CHUNK]
            rows = conn.execute(
                select(e.c.src, e.c.dst, e.c.kind, e.c.role).where(ids_in(near, chunk, conn), valid)
            )
            for src, dst, kind, role in rows:
                edge = Edge(src, dst, kind, role)
                result.edges.append(edge)
                other = src if direction == "up" else dst
                if other in stop_at:
                    result.stopped_at.add(other)
                if other not in result.depth:
                    result.depth[other] = level
                    result.parent[other] = edge
                    following.append(other)
        if result.stopped_at:
            break
        frontier = following
    return result


def path_from(walk_result: Walk, end: int) -> list[Edge]:
    """The edges from a start of the walk to ``end``, in walking order."""
    edges: list[Edge] = []
    node = end
    while node in walk_result.parent:
        edge = walk_result.parent[node]
        edges.append(edge)
        node = edge.src if edge.dst == node else edge.dst
    edges.reverse()
    return edges

"""Lineage graph queries over the ``edges`` projection: closure, path, impact, as-of.

Nodes are dataset/model versions and runs. Edges point downstream (upstream node ->
downstream node) with a kind: ``used`` (version -> run), ``trained_on`` (version -> train
run), ``generated`` (run -> version) and ``derived_from`` (version -> version, stated
without a run). Every edge carries the log interval it holds in (``seq_from`` to
``seq_to``), so asking "as of seq S" sees exactly the graph the ledger held then.

A walk is one recursive SQL query (``WITH RECURSIVE``) that returns every edge of the
closure, so a depth-10 closure costs one round trip, not ten; distances and the
breadth-first tree are then worked out in memory from those edges. ``closure`` is the
same query returning only nodes and distances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    Connection,
    and_,
    or_,
)
from sqlalchemy.sql.elements import ColumnElement

from pedigree.store.engine import list_value, listed

Direction = Literal["up", "down"]


class Edge(NamedTuple):
    src: int
    dst: int
    kind: str
    role: str | None = None


@dataclass(slots=True)
class Walk:
    depth: dict[int, int]
    """Every node reached, with its distance from the nearest start."""
    edges: list[Edge]
    """The closure's edges, each once, in breadth-first order."""
    parent: dict[int, Edge]
    """For each reached node but the starts, an edge on a shortest way to it."""
    stopped_at: set[int] = field(default_factory=set)


def ids_value(ids: Iterable[int], dialect: str) -> Any:
    """How a list of ids is passed as one parameter: an array, or JSON text for SQLite."""
    return list_value((int(i) for i in ids), dialect)


def ids_in(column: ColumnElement[Any], ids: Iterable[int], conn: Connection) -> ColumnElement[bool]:
    """``column IN ids`` with one parameter whatever the length (``engine.listed``)."""
    dialect = conn.dialect.name
    return listed(column, dialect, value=ids_value(ids, dialect))


def live(
    as_of: int | None, since: ColumnElement[Any], until: ColumnElement[Any]
) -> ColumnElement[bool]:
    """Rows valid now (``until`` unset), or valid at log position ``as_of``."""
    if as_of is None:
        return until.is_(None)
    return and_(since <= as_of, or_(until.is_(None), until > as_of))


def _closure_sql(dialect: str, direction: Direction, limited: bool, past: bool, edges: bool) -> str:
    """``WITH RECURSIVE`` reach of ``starts``: the nodes (with their least distance), or the
    edges leaving the nodes inside the depth limit. Written out per dialect because it is
    the hot path of every lineage query."""
    mark = "?" if dialect == "sqlite" else "%s"
    near, far = ("dst", "src") if direction == "up" else ("src", "dst")
    if past:
        valid = f"{{e}}.seq_from <= {mark} AND ({{e}}.seq_to IS NULL OR {{e}}.seq_to > {mark})"
    else:
        valid = "{e}.seq_to IS NULL"
    starts = (
        f"SELECT value{', 0' if limited else ''} FROM json_each({mark})"
        if dialect == "sqlite"
        else f"SELECT unnest(CAST({mark} AS bigint[])){', 0' if limited else ''}"
    )
    columns = "node, d" if limited else "node"
    step = f"SELECT e.{far}{', reach.d + 1' if limited else ''} FROM edges e JOIN reach ON e.{near} = reach.node"
    step += f" WHERE {valid.format(e='e')}" + (f" AND reach.d < {mark}" if limited else "")
    cte = f"WITH RECURSIVE reach({columns}) AS ({starts} UNION {step}) "
    if not edges:
        return cte + (
            "SELECT node, min(d) FROM reach GROUP BY node" if limited else "SELECT node FROM reach"
        )
    inside = (
        f"SELECT DISTINCT node FROM reach WHERE d < {mark}" if limited else "SELECT node FROM reach"
    )
    if dialect == "sqlite":
        return cte + (
            f"SELECT o.src, o.dst, o.kind, o.role FROM edges o "
            f"WHERE o.{near} IN ({inside}) AND {valid.format(e='o')}"
        )
    # A LATERAL subquery fenced with OFFSET 0 keeps PostgreSQL on the index, one probe per
    # node, whatever its row estimates (a CTE's are poor, and fresh tables have none).
    return cte + (
        f"SELECT o.src, o.dst, o.kind, o.role FROM ({inside}) inside_ CROSS JOIN LATERAL "
        f"(SELECT * FROM edges x WHERE x.{near} = inside_.node AND {valid.format(e='x')} OFFSET 0) o"
    )


def _reach(
    conn: Connection,
    starts: list[int],
    direction: Direction,
    depth: int | None,
    as_of: int | None,
    *,
    edges: bool,
) -> list[tuple[Any, ...]]:
    dialect = conn.dialect.name
    sql = _closure_sql(dialect, direction, depth is not None, as_of is not None, edges)
    past = [as_of, as_of] if as_of is not None else []
    params: list[Any] = [ids_value(starts, dialect), *past]
    if depth is not None:
        params.append(depth)
    if edges:
        params += [depth] if depth is not None else []
        params += past
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def closure(
    conn: Connection,
    starts: Iterable[int],
    direction: Direction,
    *,
    depth: int | None = None,
    as_of: int | None = None,
) -> dict[int, int] | set[int]:
    """The nodes within ``depth`` edges of ``starts``, with their least distance; without
    a depth limit, just the set of nodes. One query, no edges fetched."""
    starts = list(dict.fromkeys(starts))
    if depth is None:
        return {row[0] for row in _reach(conn, starts, direction, None, as_of, edges=False)}
    return {node: d for node, d in _reach(conn, starts, direction, depth, as_of, edges=False)}


def walk(
    conn: Connection,
    starts: Iterable[int],
    direction: Direction,
    *,
    depth: int | None = None,
    as_of: int | None = None,
    stop_at: set[int] | frozenset[int] = frozenset(),
) -> Walk:
    """The closure of ``starts`` within ``depth`` edges (all of it when ``None``), with its
    edges, each node's distance and a breadth-first parent edge.

    ``stopped_at`` holds the nodes of ``stop_at`` that were reached.
    """
    starts = list(dict.fromkeys(starts))
    result = Walk(depth={s: 0 for s in starts}, edges=[], parent={})
    if not starts or depth == 0:
        return result
    up = direction == "up"
    following: dict[int, list[Edge]] = defaultdict(list)
    for row in set(_reach(conn, starts, direction, depth, as_of, edges=True)):
        edge = Edge._make(row)
        following[edge.dst if up else edge.src].append(edge)
    frontier = starts
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        nxt: list[int] = []
        for node in frontier:
            for edge in sorted(following.get(node, ())):
                result.edges.append(edge)
                other = edge.src if up else edge.dst
                if other not in result.depth:
                    result.depth[other] = level
                    result.parent[other] = edge
                    nxt.append(other)
        frontier = nxt
    result.stopped_at = set(stop_at) & set(result.depth)
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

"""Naming nodes: turning what a user types into graph nodes, and nodes into readable labels.

A reference is one of

- ``NAME`` or ``NAMESPACE:NAME`` — a dataset or model (all its versions), or a job;
- ``NAME@VERSION`` — one version; ``VERSION`` may be a unique prefix, with or without its
  ``sha256:`` algorithm, or ``latest``;
- ``dataset:…``, ``model:…``, ``job:…`` — the same, restricted to that type;
- ``run:ID`` or a bare run id (a unique prefix of at least 8 characters).

Namespaces may themselves hold ``:`` and ``@`` (``postgres://u@host:5432``), so every
way of splitting the text is tried against what is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from pedigree.errors import NotFoundError
from pedigree.model import LogEntry
from pedigree.store import schema as t
from pedigree.store.graph import ids_in, live

_RUN_ID = re.compile(r"^[0-9a-fA-F-]{8,36}$")


@dataclass(slots=True)
class Node:
    """A graph node (a dataset or model version, or a run) as users see it."""

    id: int
    type: str  # "dataset_version" | "model_version" | "run"
    ref: str  # unambiguous reference: dataset:NS:NAME@VERSION, run:UUID
    label: str  # short, readable
    namespace: str
    name: str  # dataset, model or job name
    version: str | None
    run_id: str | None
    kind: str | None  # run kind
    status: str  # lifecycle state of a version, status of a run
    time: str  # when the node was recorded

    def to_json(self) -> dict[str, Any]:
        data = {
            "id": self.ref,
            "type": self.type,
            "label": self.label,
            "namespace": self.namespace,
            "name": self.name,
            "status": self.status,
            "recorded_at": self.time,
            "seq": self.id,
        }
        if self.version is not None:
            data["version"] = self.version
        if self.run_id is not None:
            data["run_id"] = self.run_id
            data["kind"] = self.kind
        return data


@dataclass(frozen=True, slots=True)
class Selection:
    """What a reference denotes: one node, or the versions of a dataset / runs of a job."""

    text: str
    type: str  # dataset | model | dataset_version | model_version | run | job
    ref: str
    node_ids: tuple[int, ...]
    entity_id: int | None = None  # dataset or job id for a dataset/model/job selection


_HEX = frozenset("0123456789abcdef")


def short_version(version: str) -> str:
    """``sha256:3fa9…`` -> its first 12 hex digits; other versions as they are (or cut)."""
    _, sep, digest = version.partition(":")
    if sep and len(digest) >= 16 and _HEX.issuperset(digest):
        return digest[:12]
    return version if len(version) <= 24 else version[:21] + "…"


def version_ref(kind: str, namespace: str, name: str, version: str | None = None) -> str:
    base = f"{kind}:{namespace}:{name}"
    return f"{base}@{version}" if version is not None else base


def describe(conn: Connection, ids: Iterable[int], as_of: int | None = None) -> dict[int, Node]:
    """Nodes for graph ids, with lifecycle state or run status as of ``as_of``."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    v, d, r, j = t.versions, t.datasets, t.runs, t.jobs
    out: dict[int, Node] = {}
    version_rows = conn.execute(
        select(v.c.id, v.c.version, v.c.recorded_at, d.c.id, d.c.kind, d.c.namespace, d.c.name)
        .join(d, d.c.id == v.c.dataset_id)
        .where(ids_in(v.c.id, ids, conn))
    ).all()
    states = lifecycle_states(conn, [(row[0], row[3]) for row in version_rows], as_of)
    for node_id, version, recorded_at, _, kind, namespace, name in version_rows:
        out[node_id] = Node(
            id=node_id,
            type=f"{kind}_version",
            ref=version_ref(kind, namespace, name, version),
            label=f"{name}@{short_version(version)}",
            namespace=namespace,
            name=name,
            version=version,
            run_id=None,
            kind=None,
            status=states.get(node_id, "active"),
            time=recorded_at,
        )
    run_rows = conn.execute(
        select(
            r.c.node_id, r.c.run_id, r.c.kind, r.c.status, r.c.recorded_at, j.c.namespace, j.c.name
        )
        .join(j, j.c.id == r.c.job_id)
        .where(ids_in(r.c.node_id, ids, conn), live(as_of, r.c.seq, r.c.superseded_seq))
    ).all()
    for node_id, run_id, kind, status, recorded_at, namespace, name in run_rows:
        out[node_id] = Node(
            id=node_id,
            type="run",
            ref=f"run:{run_id}",
            label=f"{name} #{run_id[:8]}",
            namespace=namespace,
            name=name,
            version=None,
            run_id=run_id,
            kind=kind,
            status=status,
            time=recorded_at,
        )
    return out


def lifecycle_states(
    conn: Connection, versions: list[tuple[int, int]], as_of: int | None
) -> dict[int, str]:
    """Latest lifecycle state of each (version id, dataset id), from annotations on the
    version or on its dataset."""
    if not versions:
        return {}
    a = t.annotations
    version_ids = [version for version, _ in versions]
    dataset_ids = sorted({dataset for _, dataset in versions})
    query = select(a.c.seq, a.c.target_type, a.c.target_id).where(
        a.c.kind == "lifecycle",
        or_(
            and_(a.c.target_type == "version", ids_in(a.c.target_id, version_ids, conn)),
            and_(a.c.target_type == "dataset", ids_in(a.c.target_id, dataset_ids, conn)),
        ),
    )
    if as_of is not None:
        query = query.where(a.c.seq <= as_of)
    rows = conn.execute(query).all()
    if not rows:
        return {}
    latest: dict[tuple[str, int], int] = {}
    for row in rows:
        key = (row.target_type, row.target_id)
        latest[key] = max(latest.get(key, 0), row.seq)
    bodies = {
        row.seq: LogEntry.from_canonical(row.canonical, row.leaf_hash).body
        for row in conn.execute(
            select(t.records.c.seq, t.records.c.canonical, t.records.c.leaf_hash).where(
                t.records.c.seq.in_(sorted(set(latest.values())))
            )
        )
    }
    states: dict[int, str] = {}
    for version, dataset in versions:
        seq = max(latest.get(("version", version), 0), latest.get(("dataset", dataset), 0))
        if seq:
            states[version] = bodies[seq].body["state"]  # type: ignore[attr-defined]
    return states


# --- resolving references -----------------------------------------------------------------------


def _splits(text: str, sep: str) -> list[tuple[str, str]]:
    return [(text[:i], text[i + 1 :]) for i, ch in enumerate(text) if ch == sep]


def _match_versions(rows: list[Any], wanted: str) -> list[Any]:
    if wanted == "latest":
        return [max(rows, key=lambda r: r.id)] if rows else []
    exact = [r for r in rows if r.version == wanted]
    if exact:
        return exact
    return [
        r
        for r in rows
        if r.version.startswith(wanted) or r.version.partition(":")[2].startswith(wanted)
    ]


def resolve(conn: Connection, text: str, as_of: int | None = None) -> Selection:
    """Resolve a reference; ``NotFoundError`` names what matched nothing or too much."""
    text = text.strip()
    if not text:
        raise NotFoundError("empty node reference")
    prefix, sep, rest = text.partition(":")
    if sep and prefix in ("run", "job", "dataset", "model"):
        restrict, body = prefix, rest
    else:
        restrict, body = None, text
    found: list[Selection] = []
    if restrict in (None, "dataset", "model"):
        found += _resolve_entity(conn, body, restrict, as_of)
    if restrict in (None, "job") and not found:
        found += _resolve_job(conn, body, as_of)
    if restrict == "run" or (restrict is None and not found and _RUN_ID.match(body)):
        found += _resolve_run(conn, body, as_of)
    if not found:
        when = f" as of record {as_of}" if as_of is not None else ""
        raise NotFoundError(f"nothing recorded matches {text!r}{when}")
    if len(found) > 1:
        options = ", ".join(sorted(s.ref for s in found)[:8])
        raise NotFoundError(f"{text!r} is ambiguous: it matches {options}")
    return found[0]


def _entity_candidates(body: str) -> list[tuple[str | None, str, str | None]]:
    """Every (namespace, name, version) reading of ``body``."""
    readings: list[tuple[str, str | None]] = [(body, None)]
    readings += [(name, version) for name, version in _splits(body, "@") if name and version]
    out: list[tuple[str | None, str, str | None]] = []
    for qualified, version in readings:
        out.append((None, qualified, version))
        out += [(ns, name, version) for ns, name in _splits(qualified, ":") if ns and name]
    return out


def _resolve_entity(
    conn: Connection, body: str, restrict: str | None, as_of: int | None
) -> list[Selection]:
    candidates = _entity_candidates(body)
    d = t.datasets
    query = select(d.c.id, d.c.kind, d.c.namespace, d.c.name).where(
        d.c.name.in_(sorted({name for _, name, _ in candidates}))
    )
    if restrict:
        query = query.where(d.c.kind == restrict)
    if as_of is not None:
        query = query.where(d.c.id <= as_of)
    rows = conn.execute(query).all()
    selections: dict[str, Selection] = {}
    matches = [
        (row, version)
        for ns, name, version in candidates
        for row in rows
        if row.name == name and (ns is None or row.namespace == ns)
    ]
    for row, version in matches:
        query = select(t.versions.c.id, t.versions.c.version).where(
            t.versions.c.dataset_id == row.id
        )
        if as_of is not None:
            query = query.where(t.versions.c.id <= as_of)
        versions = conn.execute(query.order_by(t.versions.c.id)).all()
        if version is None:
            if versions:
                ref = version_ref(row.kind, row.namespace, row.name)
                selections[ref] = Selection(
                    body, row.kind, ref, tuple(v.id for v in versions), entity_id=row.id
                )
            continue
        chosen = _match_versions(versions, version)
        if len(chosen) > 1:
            options = ", ".join(short_version(v.version) for v in chosen[:8])
            raise NotFoundError(
                f"version {version!r} of {row.namespace}:{row.name} is ambiguous ({options})"
            )
        if chosen:
            ref = version_ref(row.kind, row.namespace, row.name, chosen[0].version)
            selections[ref] = Selection(body, f"{row.kind}_version", ref, (chosen[0].id,))
    return list(selections.values())


def _resolve_job(conn: Connection, body: str, as_of: int | None) -> list[Selection]:
    readings = [(None, body), *_splits(body, ":")]
    j, r = t.jobs, t.runs
    rows = conn.execute(
        select(j.c.id, j.c.namespace, j.c.name).where(
            j.c.name.in_(sorted({n for _, n in readings}))
        )
    ).all()
    out: dict[str, Selection] = {}
    for ns, name in readings:
        for row in rows:
            if row.name != name or (ns is not None and row.namespace != ns):
                continue
            query = select(func.distinct(r.c.node_id)).where(r.c.job_id == row.id)
            if as_of is not None:
                query = query.where(r.c.node_id <= as_of)
            nodes = tuple(sorted(conn.execute(query).scalars()))
            if nodes:
                ref = f"job:{row.namespace}:{row.name}"
                out[ref] = Selection(body, "job", ref, nodes, entity_id=row.id)
    return list(out.values())


def _resolve_run(conn: Connection, body: str, as_of: int | None) -> list[Selection]:
    r = t.runs
    query = select(func.distinct(r.c.run_id), r.c.node_id).where(
        r.c.run_id.like(body.lower().replace("%", "").replace("_", "") + "%")
    )
    if as_of is not None:
        query = query.where(r.c.node_id <= as_of)
    rows = conn.execute(query.limit(9)).all()
    return [Selection(body, "run", f"run:{row[0]}", (row.node_id,)) for row in rows]

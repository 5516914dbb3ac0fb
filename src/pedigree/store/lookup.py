"""What the ledger already holds about named runs, datasets and jobs, in a few batched
queries: the current record of each run, each dataset's kind and newest version, and
the bodies of candidate versions. The records read are handed on to the append
(``Found.read``), which then need not read them again.

The OpenLineage mapping needs this to merge an event into its run's current record and
to link an input without a version to the newest one recorded. It runs inside the write
transaction of ``Ledger.append_derived``, so what it reads cannot change before the
merged records are appended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from pedigree.model import EntityVersion, LogEntry, Run
from pedigree.store import schema as t
from pedigree.store.engine import key_chunks
from pedigree.store.projection import Read


@dataclass(slots=True)
class Found:
    """Recorded state: current run records, dataset kinds, newest "real" versions and the
    bodies of the candidate versions asked about."""

    runs: dict[str, Run] = field(default_factory=dict)
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)
    latest: dict[tuple[str, str], str] = field(default_factory=dict)
    versions: dict[tuple[str, str, str], EntityVersion] = field(default_factory=dict)
    jobs: set[tuple[str, str]] = field(default_factory=set)
    read: dict[int, Read] = field(default_factory=dict)
    """The run records read, by seq (for ``Ledger.append_derived(read=)``)."""


def _body(row: Any) -> Any:
    return LogEntry.from_canonical(bytes(row.canonical), bytes(row.leaf_hash)).body


r, v, d, j, rec = t.runs, t.versions, t.datasets, t.jobs, t.records
_KEYS = bindparam("keys", expanding=True)
# Built once: constructing and cache-keying these per request cost more than running them.
_Q_RUNS = (
    select(rec.c.seq, rec.c.canonical, rec.c.leaf_hash, rec.c.actor, rec.c.schema, rec.c.time)
    .join(r, r.c.seq == rec.c.seq)
    .where(r.c.run_id.in_(_KEYS), r.c.superseded_seq.is_(None))
)
_Q_DATASETS = select(d.c.id, d.c.kind, d.c.namespace, d.c.name).where(d.c.name.in_(_KEYS))
_Q_NEWEST = select(v.c.dataset_id, v.c.version).where(
    v.c.id.in_(
        select(func.max(v.c.id))
        .where(v.c.dataset_id.in_(_KEYS), v.c.version != bindparam("placeholder"))
        .group_by(v.c.dataset_id)
    )
)
_Q_VERSIONS = (
    select(v.c.dataset_id, v.c.version, rec.c.canonical, rec.c.leaf_hash)
    .join(rec, rec.c.seq == v.c.id)
    .where(v.c.dataset_id.in_(_KEYS), v.c.version.in_(bindparam("versions", expanding=True)))
)
_Q_JOBS = select(j.c.namespace, j.c.name).where(j.c.name.in_(_KEYS))


def load(
    conn: Connection,
    *,
    runs: set[str],
    datasets: set[tuple[str, str]],
    versions: set[str],
    jobs: set[tuple[str, str]],
    placeholder: str,
) -> Found:
    """Look everything up on ``conn``. ``latest`` skips ``placeholder`` versions: an input
    without a version prefers a real one."""
    found = Found()
    for chunk in key_chunks(runs):
        for row in conn.execute(_Q_RUNS, {"keys": chunk}).all():
            body = _body(row)
            if isinstance(body, Run):
                found.runs[str(body.run_id)] = body
                found.read[row.seq] = Read(row, body)
    ids: dict[int, tuple[str, str]] = {}
    for chunk in key_chunks({name for _, name in datasets}):
        for row in conn.execute(_Q_DATASETS, {"keys": chunk}):
            key = (row.namespace, row.name)
            if key in datasets:
                ids[row.id] = key
                found.kinds[key] = row.kind
    for chunk in key_chunks(ids):
        for row in conn.execute(_Q_NEWEST, {"keys": chunk, "placeholder": placeholder}):
            found.latest[ids[row.dataset_id]] = row.version
    for chunk in key_chunks(ids):
        for wanted in key_chunks(versions):
            rows = conn.execute(_Q_VERSIONS, {"keys": chunk, "versions": wanted}).all()
            for row in rows:
                found.versions[(*ids[row.dataset_id], row.version)] = _body(row)
    for chunk in key_chunks({name for _, name in jobs}):
        for row in conn.execute(_Q_JOBS, {"keys": chunk}):
            if (row.namespace, row.name) in jobs:
                found.jobs.add((row.namespace, row.name))
    return found


__all__ = ["Found", "Read", "load"]

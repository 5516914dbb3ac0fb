"""What the ledger already holds about named runs, datasets and jobs, in a few batched
queries: the current record of each run, each dataset's kind and newest version, and
the bodies of candidate versions.

The OpenLineage mapping needs this to merge an event into its run's current record and
to link an input without a version to the newest one recorded. It runs inside the write
transaction of ``Ledger.append_derived``, so what it reads cannot change before the
merged records are appended; and it hands what it read on to that append
(``append_derived(known=)``), whose projection then need not look it up again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, select

from pedigree.model import EntityVersion, LogEntry, RecordBody, Run
from pedigree.store import schema as t
from pedigree.store.engine import Prepared, key_chunks, listed, together
from pedigree.store.schema import as_bytes

Key = tuple[str, str]


class Read(NamedTuple):
    """A record read from the log: its row (``canonical``, ``leaf_hash``, ``actor``,
    ``schema``, ``time``) and its parsed body."""

    row: Any
    body: RecordBody


@dataclass(slots=True)
class Found:
    """Recorded state: current run records, dataset kinds, newest "real" versions and the
    bodies of the candidate versions asked about; and, for the projection, the rows it
    keys on (every key asked, ``None`` when not recorded)."""

    runs: dict[str, Run] = field(default_factory=dict)
    kinds: dict[Key, str] = field(default_factory=dict)
    latest: dict[Key, str] = field(default_factory=dict)
    versions: dict[tuple[str, str, str], EntityVersion] = field(default_factory=dict)
    jobs: set[Key] = field(default_factory=set)
    read: dict[int, Read] = field(default_factory=dict)
    """The current run records, by seq."""
    run_rows: dict[str, Any] = field(default_factory=dict)
    """Run id -> its current ``runs`` row (``node_id``, ``seq``, ``job_id``, ``kind``,
    ``recorded_at``)."""
    dataset_ids: dict[Key, tuple[int, str] | None] = field(default_factory=dict)
    """(namespace, name) -> (dataset id, kind)."""
    version_ids: dict[tuple[int, str], int | None] = field(default_factory=dict)
    """(dataset id, version) -> version id, for every dataset found and version asked."""
    job_ids: dict[Key, int | None] = field(default_factory=dict)

    def reset(self) -> None:
        for each in fields(self):
            getattr(self, each.name).clear()


def _body(row: Any) -> Any:
    return LogEntry.from_canonical(as_bytes(row.canonical), as_bytes(row.leaf_hash)).body


r, v, d, j, rec = t.runs, t.versions, t.datasets, t.jobs, t.records
# Prepared: compiled once, run through the driver (see ``engine.Prepared``).
_Q_RUNS = Prepared(
    lambda dialect: (
        select(
            rec.c.seq,
            rec.c.canonical,
            rec.c.leaf_hash,
            rec.c.actor,
            rec.c.schema,
            rec.c.time,
            r.c.run_id,
            r.c.node_id,
            r.c.job_id,
            r.c.kind,
            r.c.recorded_at,
        )
        .join(r, r.c.seq == rec.c.seq)
        .where(listed(r.c.run_id, dialect, name="keys"), r.c.superseded_seq.is_(None))
    )
)


def _datasets_by_name(dialect: str, *more: Any) -> Any:
    """Datasets by name (the caller checks the namespace on the rows), with ``more`` columns."""
    return select(d.c.id, d.c.kind, d.c.namespace, d.c.name, *more).where(
        listed(d.c.name, dialect, name="keys")
    )


DATASETS_BY_NAME = Prepared(_datasets_by_name)
"""Datasets by name, for the projection; the look-ups here use ``_Q_DATASETS``, which
also reads the newest version."""
_Q_DATASETS = Prepared(
    # Each dataset by name with its newest version, from the end of its stretch of the
    # ``(dataset_id, id)`` index: one entry read however many versions it has. (The dataset
    # is bounded on both sides rather than named with ``=``: with ``=`` the order asked for
    # is merely ``id``'s, and PostgreSQL may then walk the primary key back through every
    # newer version of every dataset, all of them for a dataset with none.)
    lambda dialect: _datasets_by_name(
        dialect,
        select(v.c.version)
        .where(
            v.c.dataset_id >= d.c.id,
            v.c.dataset_id <= d.c.id,
            v.c.version != bindparam("placeholder"),
        )
        .order_by(v.c.dataset_id.desc(), v.c.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("version"),
    )
)
_Q_VERSIONS = Prepared(
    lambda dialect: (
        select(
            v.c.id,
            v.c.dataset_id,
            v.c.version,
            d.c.namespace,
            d.c.name,
            rec.c.canonical,
            rec.c.leaf_hash,
        )
        .join(d, d.c.id == v.c.dataset_id)
        .join(rec, rec.c.seq == v.c.id)
        .where(
            listed(d.c.name, dialect, name="keys"),
            listed(v.c.version, dialect, name="versions"),
        )
    )
)
JOBS_BY_NAME = Prepared(
    lambda dialect: select(j.c.id, j.c.namespace, j.c.name).where(
        listed(j.c.name, dialect, name="keys")
    )
)
"""Jobs by name (likewise); the projection uses it too."""


def load(
    conn: Connection,
    *,
    runs: set[str],
    datasets: set[Key],
    versions: set[str],
    jobs: set[Key],
    placeholder: str,
    into: Found | None = None,
) -> Found:
    """Look everything up on ``conn`` (into ``into``, emptied first, if given). ``latest``
    skips ``placeholder`` versions: an input without a version prefers a real one."""
    found = into if into is not None else Found()
    found.reset()
    found.run_rows.update(dict.fromkeys(runs))
    found.dataset_ids.update(dict.fromkeys(datasets))
    found.job_ids.update(dict.fromkeys(jobs))
    names = list(key_chunks({name for _, name in datasets}))
    # (every query keys on what was asked, not on another's answer: one batch, which
    # PostgreSQL runs in one round trip)
    calls = [
        *((_Q_RUNS, {"keys": chunk}) for chunk in key_chunks(runs)),
        *((_Q_DATASETS, {"keys": chunk, "placeholder": placeholder}) for chunk in names),
        *(
            (_Q_VERSIONS, {"keys": chunk, "versions": wanted})
            for chunk in names
            for wanted in key_chunks(versions)
        ),
        *((JOBS_BY_NAME, {"keys": chunk}) for chunk in key_chunks({name for _, name in jobs})),
    ]
    answers: dict[Prepared, list[Any]] = {}
    for (statement, _), rows in zip(calls, together(conn, *calls), strict=True):
        answers.setdefault(statement, []).extend(rows)
    for row in answers.get(_Q_RUNS, []):
        body = _body(row)
        if isinstance(body, Run):
            found.runs[row.run_id] = body
            found.read[row.seq] = Read(row, body)
            found.run_rows[row.run_id] = row
    ids: dict[int, Key] = {}
    for row in answers.get(_Q_DATASETS, []):
        key = (row.namespace, row.name)
        if key in datasets:
            ids[row.id] = key
            found.kinds[key] = row.kind
            found.dataset_ids[key] = (row.id, row.kind)
            if row.version is not None:
                found.latest[key] = row.version
    found.version_ids.update(dict.fromkeys((i, version) for i in ids for version in versions))
    for row in answers.get(_Q_VERSIONS, []):
        if (row.namespace, row.name) in datasets:
            found.versions[(row.namespace, row.name, row.version)] = _body(row)
            found.version_ids[(row.dataset_id, row.version)] = row.id
    for row in answers.get(JOBS_BY_NAME, []):
        if (row.namespace, row.name) in jobs:
            found.jobs.add((row.namespace, row.name))
            found.job_ids[(row.namespace, row.name)] = row.id
    return found


__all__ = ["DATASETS_BY_NAME", "JOBS_BY_NAME", "Found", "Read", "load"]

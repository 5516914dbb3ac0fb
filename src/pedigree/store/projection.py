"""Projections: the query tables derived from the log, and the checks made on the way in.

A ``Projector`` lives for one write transaction. For each record it checks references
(no dangling versions, runs, agents or annotations), identity conflicts and lineage
cycles, then queues rows for the projection tables; ``flush`` writes them in bulk. The
same code rebuilds everything from the log in ``reindex``, so append and rebuild cannot
disagree.

Graph node ids are the ``seq`` of the record that created the node (a version record,
or the first record of a run), which makes a rebuild give identical ids.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, select, update

from pedigree.errors import ConflictError, DanglingReferenceError, LineageCycleError
from pedigree.ledger.canonical import Envelope
from pedigree.model import (
    Agent,
    Annotation,
    EntityVersion,
    LogEntry,
    ModelVersion,
    RecordBody,
    Run,
    Target,
    VersionRef,
)
from pedigree.model.records import TRAINING_ROLES
from pedigree.model.types import format_time
from pedigree.store import schema as t
from pedigree.store.engine import Prepared, bulk_insert, key_chunks, listed, together
from pedigree.store.graph import walk
from pedigree.store.lookup import DATASETS_BY_NAME, JOBS_BY_NAME, Found, Read
from pedigree.store.schema import as_bytes


@dataclass(slots=True)
class _RunState:
    node_id: int
    seq: int
    job_id: int
    kind: str
    recorded_at: str


@dataclass(slots=True)
class _Identity:
    """Where a record with an identity (version, agent, annotation) was first recorded."""

    id: int
    seq: int


def _fmt(ref: VersionRef) -> str:
    return f"{ref.namespace}:{ref.name}@{ref.version}"


class Projector:
    def __init__(self, conn: Connection, known: Found | None = None) -> None:
        """``known``: what the caller has already looked up in this transaction
        (``lookup.load``), which is then not looked up again."""
        self.conn = conn
        self._read: Mapping[int, Read] = known.read if known is not None else {}
        self.inserts: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        self.updates: list[tuple[Prepared, dict[str, int]]] = []  # (statement, its parameters)
        self._datasets: dict[tuple[str, str], tuple[int, str] | None] = {}
        self._versions: dict[tuple[int, str], _Identity | None] = {}
        self._jobs: dict[tuple[str, str], int | None] = {}
        self._runs: dict[str, _RunState | None] = {}
        self._agents: dict[str, _Identity | None] = {}
        self._annotations: dict[str, _Identity | None] = {}
        self._bodies: dict[int, RecordBody] = {}  # bodies written in this transaction
        self._new_nodes: set[int] = set()  # graph nodes created in this transaction
        self._new_datasets: set[int] = set()
        # nodes given edges from them in this transaction (flushed or not): a new node with
        # none has no downstream, so a cycle check need not walk from it
        self._sources: set[int] = set()
        if known is not None:
            self._runs.update(
                {
                    run_id: _RunState(r.node_id, r.seq, r.job_id, r.kind, r.recorded_at)
                    if r is not None
                    else None
                    for run_id, r in known.run_rows.items()
                }
            )
            self._datasets.update(known.dataset_ids)
            self._versions.update(
                {
                    k: _Identity(i, i) if i is not None else None
                    for k, i in known.version_ids.items()
                }
            )
            self._jobs.update(known.job_ids)

    # --- public --------------------------------------------------------------------------

    def apply(
        self, seq: int, time: str, body: RecordBody, canonical: bytes | None = None
    ) -> int | None:
        """Check and project ``body`` as record ``seq``, written at ``time``.

        Returns the seq of an identical record already in the log when this one would add
        nothing (appending the same version twice is a no-op), else ``None``.
        """
        if isinstance(body, EntityVersion):
            existing = self._version(seq, time, body, canonical)
        elif isinstance(body, Run):
            existing = self._run(seq, time, body, canonical)
        elif isinstance(body, Annotation):
            existing = self._annotation(seq, body, canonical)
        elif isinstance(body, Agent):
            existing = self._agent(seq, body, canonical)
        else:  # pragma: no cover - every record type is handled above
            raise TypeError(f"no projection for {type(body).__name__}")
        if existing is None:
            self._bodies[seq] = body
        return existing

    def forget_bodies(self) -> None:
        """Drop cached bodies (a rebuild replays the whole log; memory stays bounded)."""
        self._bodies.clear()

    def flush(self) -> None:
        for table in t.PROJECTIONS:
            bulk_insert(self.conn, table, self.inserts.pop(table, []))
        # (rows of one statement keep their order)
        grouped: dict[Prepared, list[dict[str, Any]]] = {}
        for statement, params in self.updates:
            grouped.setdefault(statement, []).append(params)
        for statement, rows in grouped.items():
            statement.many(self.conn, rows)
        self.updates.clear()

    # --- lookups (this transaction first, then the tables, many keys per query) -----------

    def prefetch(self, bodies: Iterable[RecordBody]) -> None:
        """Load every recorded identity a batch mentions in a few queries, not one per record."""
        versions: set[tuple[str, str, str]] = set()
        datasets: set[tuple[str, str]] = set()
        jobs: set[tuple[str, str]] = set()
        runs: set[str] = set()
        agents: set[str] = set()
        notes: set[str] = set()
        for body in bodies:
            if isinstance(body, EntityVersion):
                versions.add((body.namespace, body.name, body.version))
                versions.update((r.namespace, r.name, r.version) for r in body.derived_from)
            elif isinstance(body, Run):
                jobs.add((body.job.namespace, body.job.name))
                runs.add(str(body.run_id))
                if body.parent_run_id is not None:
                    runs.add(str(body.parent_run_id))
                versions.update(
                    (r.namespace, r.name, r.version) for r in (*body.inputs, *body.outputs)
                )
                agents.update(a.agent for a in body.agents)
            elif isinstance(body, Annotation):
                notes.add(str(body.annotation_id))
                if body.supersedes is not None:
                    notes.add(str(body.supersedes))
                kind, key = _target_key(body.target)
                {
                    "dataset": datasets,
                    "version": versions,
                    "job": jobs,
                    "run": runs,
                    "agent": agents,
                }[kind].add(key)  # type: ignore[attr-defined]
            elif isinstance(body, Agent):
                agents.add(body.agent_id)
        self._load(
            self._ask_datasets(datasets),
            self._ask_versions(versions),
            self._ask_jobs(jobs),
            self._ask_runs(runs),
            self._ask_agents(agents),
            self._ask_annotations(notes),
        )

    def _load(self, *asks: _Ask | None) -> None:
        """Run the look-ups of ``asks`` (on PostgreSQL in one round trip: none depends on
        another's answer), then give each its rows."""
        wanted = [ask for ask in asks if ask is not None]
        if not wanted:  # (all known already: the common case, once per record)
            return
        calls = [call for ask in wanted for call in ask.calls]
        answers = iter(together(self.conn, *calls))
        for ask in wanted:
            ask.take([row for _ in ask.calls for row in next(answers)])

    def _ask_datasets(self, keys: Iterable[tuple[str, str]]) -> _Ask | None:
        return _ask_missing(
            self._datasets,
            keys,
            DATASETS_BY_NAME,
            lambda todo: {name for _, name in todo},
            lambda rows: {(r.namespace, r.name): (r.id, r.kind) for r in rows},
        )

    def _ask_versions(self, keys: Iterable[tuple[str, str, str]]) -> _Ask | None:
        """Datasets and versions together: one query joins them."""
        todo = {
            key
            for key in keys
            if (key[0], key[1]) not in self._datasets
            or (
                (ds := self._datasets[(key[0], key[1])]) is not None
                and ds[0] not in self._new_datasets
                and (ds[0], key[2]) not in self._versions
            )
        }
        if not todo:
            return None
        versions = list(key_chunks({version for _, _, version in todo}))
        calls = [
            (_Q_DATASET_VERSIONS, {"keys": names, "versions": wanted})
            for names in key_chunks({name for _, name, _ in todo})
            for wanted in versions
        ]

        def take(rows: list[Any]) -> None:
            datasets = {(r.namespace, r.name): (r.id, r.kind) for r in rows}
            found = {
                (r.id, r.version): _Identity(r.version_id, r.version_id)
                for r in rows
                if r.version_id
            }
            for ns, name, version in todo:
                dataset = self._datasets.setdefault((ns, name), datasets.get((ns, name)))
                if dataset is not None and dataset[0] not in self._new_datasets:
                    self._versions.setdefault(
                        (dataset[0], version), found.get((dataset[0], version))
                    )

        return _Ask(calls, take)

    def _ask_jobs(self, keys: Iterable[tuple[str, str]]) -> _Ask | None:
        return _ask_missing(
            self._jobs,
            keys,
            JOBS_BY_NAME,
            lambda todo: {name for _, name in todo},
            lambda rows: {(r.namespace, r.name): r.id for r in rows},
        )

    def _ask_runs(self, keys: Iterable[str]) -> _Ask | None:
        return _ask_missing(
            self._runs,
            keys,
            _Q_RUNS,
            lambda todo: todo,
            lambda rows: {
                r.run_id: _RunState(r.node_id, r.seq, r.job_id, r.kind, r.recorded_at) for r in rows
            },
        )

    def _ask_agents(self, keys: Iterable[str]) -> _Ask | None:
        def found(rows: list[Any]) -> dict[str, _Identity | None]:
            revisions: dict[str, list[Any]] = defaultdict(list)
            for row in rows:
                revisions[row.agent_id].append(row)
            return {agent: _identity_of_revisions(revs) for agent, revs in revisions.items()}

        return _ask_missing(self._agents, keys, _Q_AGENTS, lambda todo: todo, found)

    def _ask_annotations(self, keys: Iterable[str]) -> _Ask | None:
        return _ask_missing(
            self._annotations,
            keys,
            _Q_NOTES,
            lambda todo: todo,
            lambda rows: {r.annotation_id: _Identity(r.seq, r.seq) for r in rows},
        )

    def _dataset(self, namespace: str, name: str) -> tuple[int, str] | None:
        self._load(self._ask_datasets([(namespace, name)]))
        return self._datasets[(namespace, name)]

    def _version_identity(self, ref: VersionRef | EntityVersion) -> _Identity | None:
        dataset = self._datasets.get((ref.namespace, ref.name), False)
        if dataset is False or (
            dataset is not None and (dataset[0], ref.version) not in self._versions
        ):
            # (not prefetched)
            self._load(self._ask_versions([(ref.namespace, ref.name, ref.version)]))
            dataset = self._datasets[(ref.namespace, ref.name)]
        return self._versions.get((dataset[0], ref.version)) if dataset else None

    def version_id(self, ref: VersionRef, what: str) -> int:
        found = self._version_identity(ref)
        if found is None:
            raise DanglingReferenceError(
                f"{what} {_fmt(ref)} is not recorded (record that version first)"
            )
        return found.id

    def _job(self, namespace: str, name: str) -> int | None:
        self._load(self._ask_jobs([(namespace, name)]))
        return self._jobs[(namespace, name)]

    def _run_state(self, run_id: str) -> _RunState | None:
        self._load(self._ask_runs([run_id]))
        return self._runs[run_id]

    def _agent_identity(self, agent_id: str) -> _Identity | None:
        self._load(self._ask_agents([agent_id]))
        return self._agents[agent_id]

    def _annotation_identity(self, annotation_id: str) -> _Identity | None:
        self._load(self._ask_annotations([annotation_id]))
        return self._annotations[annotation_id]

    def _body_at(self, seq: int) -> RecordBody:
        body = self._body_at_hand(seq)
        if body is None:
            row = self.conn.execute(_Q_RECORD, {"seq": seq}).one()
            body = self._bodies[seq] = LogEntry.from_canonical(row.canonical, row.leaf_hash).body
        return body

    def _body_at_hand(self, seq: int) -> RecordBody | None:
        """Record ``seq``'s body if written or read in this transaction (no query)."""
        if seq in self._bodies:
            return self._bodies[seq]
        return self._read[seq].body if seq in self._read else None

    def _holds(self, seq: int, body: RecordBody, canonical: bytes | None) -> bool:
        """Whether record ``seq`` holds ``body`` (whose canonical bytes are ``canonical``).

        A record's canonical bytes follow from its model, so two records of one schema
        version whose bytes differ are different records (down to JSON types: ``1`` and
        ``true`` differ, though Python holds ``1 == True``). The stored body is therefore
        compared as bytes, and parsed only when it was written under another schema
        version (or the bytes are not at hand).
        """
        if canonical is None or seq in self._bodies:
            return self._body_at(seq) == body
        row = self._read[seq].row if seq in self._read else None
        if row is None:
            row = self.conn.execute(_Q_RECORD, {"seq": seq}).one()
        if row.schema == body.schema_id():
            stored = Envelope(row.actor, row.time).body_of(
                as_bytes(row.canonical), schema=row.schema, seq=seq
            )
            if stored is not None:
                return stored == canonical
        self._bodies[seq] = LogEntry.from_canonical(row.canonical, row.leaf_hash).body
        return self._bodies[seq] == body

    def target_id(self, target: Target) -> int:
        """The projection id an annotation target points at (dangling targets are refused)."""
        kind, key = _target_key(target)
        node: int | None
        if kind == "version":
            found = self._version_identity(
                VersionRef(namespace=key[0], name=key[1], version=key[2])
            )
            node = found.id if found else None
        elif kind == "dataset":
            dataset = self._dataset(*key)
            node = dataset[0] if dataset else None
        elif kind == "job":
            node = self._job(*key)
        elif kind == "run":
            state = self._run_state(key)
            node = state.node_id if state else None
        else:
            agent = self._agent_identity(key)
            node = agent.id if agent else None
        if node is None:
            shown = ":".join(str(k) for k in key) if isinstance(key, tuple) else key
            raise DanglingReferenceError(f"annotation target {kind} {shown} is not recorded")
        return node

    # --- one method per record type --------------------------------------------------------

    def _version(
        self, seq: int, time: str, body: EntityVersion, canonical: bytes | None
    ) -> int | None:
        kind = "model" if isinstance(body, ModelVersion) else "dataset"
        label = f"{body.namespace}:{body.name}"
        dataset = self._dataset(body.namespace, body.name)
        if dataset is None:
            dataset = (seq, kind)
            self._datasets[(body.namespace, body.name)] = dataset
            self._new_datasets.add(seq)
            self.inserts[t.datasets].append(
                {"id": seq, "kind": kind, "namespace": body.namespace, "name": body.name}
            )
        elif dataset[1] != kind:
            raise ConflictError(f"{label} is recorded as a {dataset[1]}, not a {kind}")
        else:
            existing = self._version_identity(body)  # (no VersionRef built: it has the same keys)
            if existing is not None:
                if self._holds(existing.seq, body, canonical):
                    return existing.seq
                raise ConflictError(
                    f"version {body.version} of {label} is already recorded (record {existing.seq}) "
                    "with different content; record a new version instead"
                )
        sources = [self.version_id(ref, "derived_from version") for ref in body.derived_from]
        self._versions[(dataset[0], body.version)] = _Identity(seq, seq)
        self._new_nodes.add(seq)
        self.inserts[t.versions].append(
            {
                "id": seq,
                "dataset_id": dataset[0],
                "version": body.version,
                "fingerprint": body.fingerprint,
                "recorded_at": time,
            }
        )
        for src in sources:
            self._edge(src, seq, "derived_from", None, None, seq)
        return None

    def _run(self, seq: int, time: str, body: Run, canonical: bytes | None) -> int | None:
        run_id = str(body.run_id)
        job_id = self._job(body.job.namespace, body.job.name)
        if job_id is None:
            job_id = seq
            self._jobs[(body.job.namespace, body.job.name)] = job_id
            self.inserts[t.jobs].append(
                {"id": job_id, "namespace": body.job.namespace, "name": body.job.name}
            )
        previous = self._run_state(run_id)
        if previous is not None:
            if previous.job_id != job_id or previous.kind != body.kind:
                old = self._body_at(previous.seq)
                assert isinstance(old, Run)
                raise ConflictError(
                    f"run {run_id} is a {old.kind} run of job {old.job.namespace}:{old.job.name}; "
                    "a later record of it cannot change its job or kind"
                )
            if self._holds(previous.seq, body, canonical):
                return previous.seq
            node_id, recorded_at = previous.node_id, previous.recorded_at
        else:
            node_id, recorded_at = seq, time
            self._new_nodes.add(node_id)

        parent = None
        if body.parent_run_id is not None:
            parent_state = self._run_state(str(body.parent_run_id))
            if parent_state is None:
                raise DanglingReferenceError(
                    f"parent run {body.parent_run_id} of run {run_id} is not recorded"
                )
            parent = parent_state.node_id
        for agent in body.agents:
            if self._agent_identity(agent.agent) is None:
                raise DanglingReferenceError(
                    f"agent {agent.agent!r} of run {run_id} is not recorded (record the agent first)"
                )
        inputs = [(self.version_id(io, "run input"), io) for io in body.inputs]
        outputs = [(self.version_id(io, "run output"), io) for io in body.outputs]
        if previous is None or not _adds_no_edge(self._body_at_hand(previous.seq), body):
            self._check_cycle(run_id, node_id, inputs, outputs)

        if previous is not None:
            self.updates.append((_U_SUPERSEDE[t.runs], {"old": previous.seq, "new": seq}))
            self.updates.append((_U_CLOSE_EDGES, {"node": node_id, "new": seq}))
        self._runs[run_id] = _RunState(node_id, seq, job_id, body.kind, recorded_at)
        self.inserts[t.runs].append(
            {
                "seq": seq,
                "node_id": node_id,
                "run_id": run_id,
                "job_id": job_id,
                "kind": body.kind,
                "status": body.status,
                "started_at": _time(body.started_at),
                "ended_at": _time(body.ended_at),
                "parent_node_id": parent,
                "recorded_at": recorded_at,
                "superseded_seq": None,
            }
        )
        for version_id, io in inputs:
            trained = body.kind == "train" and io.role in TRAINING_ROLES
            self._edge(
                version_id, node_id, "trained_on" if trained else "used", io.role, node_id, seq
            )
        for version_id, io in outputs:
            self._edge(node_id, version_id, "generated", io.role, node_id, seq)
        return None

    def _check_cycle(
        self,
        run_id: str,
        node_id: int,
        inputs: list[tuple[int, Any]],
        outputs: list[tuple[int, Any]],
    ) -> None:
        upstream = {v for v, _ in inputs}
        for version_id, io in outputs:
            if version_id in upstream:
                raise LineageCycleError(
                    f"run {run_id} both uses and generates {_fmt(io)}: lineage would be circular"
                )
        # A cycle needs a path from an output back to an input; a version created in this
        # transaction with no edges from it has no downstream at all, so skip the walk.
        starts = [v for v, _ in outputs if v not in self._new_nodes or v in self._sources]
        if not starts or not upstream:
            return
        self.flush()
        reached = walk(self.conn, starts, "down", stop_at=upstream | {node_id})
        hit = reached.stopped_at
        if hit:
            raise LineageCycleError(
                f"run {run_id} would make lineage circular: one of its outputs is already "
                f"upstream of its input or of the run itself (node {min(hit)})"
            )

    def _edge(
        self, src: int, dst: int, kind: str, role: str | None, run: int | None, seq: int
    ) -> None:
        self._sources.add(src)
        self.inserts[t.edges].append(
            {
                "src": src,
                "dst": dst,
                "kind": kind,
                "role": role,
                "run_node_id": run,
                "seq_from": seq,
                "seq_to": None,
            }
        )

    def _annotation(self, seq: int, body: Annotation, canonical: bytes | None) -> int | None:
        annotation_id = str(body.annotation_id)
        existing = self._annotation_identity(annotation_id)
        if existing is not None:
            if self._holds(existing.seq, body, canonical):
                return existing.seq
            raise ConflictError(
                f"annotation {annotation_id} is already recorded (record {existing.seq}) with "
                "different content; record a new annotation that supersedes it"
            )
        target_id = self.target_id(body.target)
        if body.supersedes is not None:
            old = self._annotation_identity(str(body.supersedes))
            if old is None:
                raise DanglingReferenceError(
                    f"annotation {annotation_id} supersedes {body.supersedes}, which is not recorded"
                )
            self.updates.append((_U_SUPERSEDE[t.annotations], {"old": old.seq, "new": seq}))
        self._annotations[annotation_id] = _Identity(seq, seq)
        self.inserts[t.annotations].append(
            {
                "seq": seq,
                "annotation_id": annotation_id,
                "target_type": body.target.type,
                "target_id": target_id,
                "kind": body.kind,
                "superseded_seq": None,
            }
        )
        return None

    def _agent(self, seq: int, body: Agent, canonical: bytes | None) -> int | None:
        existing = self._agent_identity(body.agent_id)
        if existing is not None:
            if self._holds(existing.seq, body, canonical):
                return existing.seq
            self.updates.append((_U_SUPERSEDE[t.agents], {"old": existing.seq, "new": seq}))
            self._agents[body.agent_id] = _Identity(existing.id, seq)
        else:
            self._agents[body.agent_id] = _Identity(seq, seq)
        self.inserts[t.agents].append(
            {"seq": seq, "agent_id": body.agent_id, "kind": body.kind, "superseded_seq": None}
        )
        return None


def _target_key(target: Target) -> tuple[str, Any]:
    """Which identity an annotation target names, as a lookup key of its kind."""
    if target.type == "version":
        return "version", (target.namespace, target.name, target.version)
    if target.type in ("dataset", "job"):
        return target.type, (target.namespace, target.name)
    if target.type == "run":
        return "run", str(uuid.UUID(target.id))  # type: ignore[arg-type]
    return "agent", target.id


_Q_DATASET_VERSIONS = Prepared(
    lambda dialect: (
        select(
            t.datasets.c.id,
            t.datasets.c.kind,
            t.datasets.c.namespace,
            t.datasets.c.name,
            t.versions.c.id.label("version_id"),
            t.versions.c.version,
        )
        .select_from(
            t.datasets.outerjoin(
                t.versions,
                and_(
                    t.versions.c.dataset_id == t.datasets.c.id,
                    listed(t.versions.c.version, dialect, name="versions"),
                ),
            )
        )
        .where(listed(t.datasets.c.name, dialect, name="keys"))
    )
)
_Q_RUNS = Prepared(
    lambda dialect: select(
        t.runs.c.run_id,
        t.runs.c.node_id,
        t.runs.c.seq,
        t.runs.c.job_id,
        t.runs.c.kind,
        t.runs.c.recorded_at,
    ).where(listed(t.runs.c.run_id, dialect, name="keys"), t.runs.c.superseded_seq.is_(None))
)
_Q_AGENTS = Prepared(
    lambda dialect: select(t.agents.c.agent_id, t.agents.c.seq, t.agents.c.superseded_seq).where(
        listed(t.agents.c.agent_id, dialect, name="keys")
    )
)
_Q_NOTES = Prepared(
    lambda dialect: select(t.annotations.c.annotation_id, t.annotations.c.seq).where(
        listed(t.annotations.c.annotation_id, dialect, name="keys")
    )
)


def _calls(statement: Prepared, keys: Iterable[Any]) -> list[tuple[Prepared, dict[str, Any]]]:
    """``statement`` keyed on ``keys``, a list of them at a time."""
    return [(statement, {"keys": chunk}) for chunk in key_chunks(keys)]


@dataclass(slots=True)
class _Ask:
    """Look-ups to run, and what to do with their rows (all of them, in one list)."""

    calls: list[tuple[Prepared, dict[str, Any]]]
    take: Callable[[list[Any]], None]


def _ask_missing(
    known: dict[Any, Any],
    keys: Iterable[Any],
    statement: Prepared,
    keyed_on: Callable[[set[Any]], Iterable[Any]],
    found: Callable[[list[Any]], dict[Any, Any]],
) -> _Ask | None:
    """Look up the ``keys`` not ``known`` yet (``statement`` keyed on ``keyed_on`` of
    them); their rows, read by ``found``, fill ``known``, with ``None`` for the absent."""
    todo = {key for key in keys if key not in known}
    if not todo:
        return None

    def take(rows: list[Any]) -> None:
        answers = found(rows)
        known.update({key: answers.get(key) for key in todo})

    return _Ask(_calls(statement, keyed_on(todo)), take)


_U_SUPERSEDE = {
    table: Prepared(
        lambda dialect, table=table: (
            update(table)
            .where(table.c.seq == bindparam("old"))
            .values(superseded_seq=bindparam("new"))
        )
    )
    for table in (t.runs, t.annotations, t.agents)
}
"""Mark a revision superseded by record ``new``."""
_U_CLOSE_EDGES = Prepared(
    lambda dialect: (
        update(t.edges)
        .where(
            t.edges.c.run_node_id == bindparam("node"),
            t.edges.c.seq_to.is_(None),
            t.edges.c.seq_from < bindparam("new"),
        )
        .values(seq_to=bindparam("new"))
    )
)
"""End a run's current edges at its revision ``new`` (which brings its own)."""
_Q_RECORD = select(
    t.records.c.canonical,
    t.records.c.leaf_hash,
    t.records.c.actor,
    t.records.c.schema,
    t.records.c.time,
).where(t.records.c.seq == bindparam("seq"))


def _adds_no_edge(previous: RecordBody | None, body: Run) -> bool:
    """Whether revision ``body`` of a run only uses and generates versions its current
    revision ``previous`` already does: its edges are all live already, so it cannot close
    a cycle and needs no walk (a run's START then COMPLETE, typically)."""

    def sides(run: Run) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
        return (
            {(io.namespace, io.name, io.version) for io in run.inputs},
            {(io.namespace, io.name, io.version) for io in run.outputs},
        )

    if not isinstance(previous, Run):
        return False
    (new_in, new_out), (old_in, old_out) = sides(body), sides(previous)
    return new_in <= old_in and new_out <= old_out


def _identity_of_revisions(revisions: Sequence[Any]) -> _Identity | None:
    """An agent's first record and its current (not superseded) one."""
    if not revisions:
        return None
    first = min(r.seq for r in revisions)
    latest = next(r.seq for r in revisions if r.superseded_seq is None)
    return _Identity(first, latest)


def _time(value: Any) -> str | None:
    return format_time(value) if value is not None else None

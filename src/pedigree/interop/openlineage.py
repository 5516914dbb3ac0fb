"""OpenLineage in: validate RunEvents, DatasetEvents and JobEvents (spec 2-0-2) and record
them in the ledger, so existing emitters (Airflow, Spark, dbt, Flink…) feed Pedigree as is.

``ingest(ledger, events)`` validates every event first, then appends all resulting records
in one atomic ``append_many``: an invalid event writes nothing. ``to_records(event)`` is the
same mapping for one event on an empty ledger, without writing.

How events become records
-------------------------

Names are kept verbatim: an OpenLineage job or dataset ``namespace`` + ``name``
(``postgres://host:5432`` + ``db.schema.table``) is Pedigree's namespace + name. Both must be
1-1024 characters without control characters (Pedigree's ``Name``).

**RunEvent → Run.** ``run_id`` is the ``runId``; ``job`` the event's job. ``status`` comes
from ``eventType``: START and RUNNING → ``running``, COMPLETE → ``completed``, FAIL →
``failed``, ABORT → ``aborted``; OTHER (or none) leaves it as it was (``running`` for a run
not seen before). ``started_at`` is the START's ``eventTime``, ``ended_at`` that of the
terminal event. ``kind`` comes from the ``jobType`` job facet of the run's first event
(``SEED`` → ``ingest``, ``TEST`` → ``evaluate``, anything else → ``transform``) and then
never changes, as the ledger requires. ``error`` is the ``errorMessage`` facet's message;
``code`` comes from the ``sourceCodeLocation`` job facet.

Events of one run **add up**: each event appends a new Run record that supersedes the
previous one and holds everything known so far. A terminal status is never undone by a
START, RUNNING or OTHER that arrives late; of two terminal events the later ``eventTime``
wins. Facets merge by key, the newer ``eventTime`` winning (an older event only adds what
is missing), so the result does not depend on arrival order and re-sending any event
already ingested adds nothing (the ledger drops a record identical to the current one).

Facets are kept verbatim, custom ones included. ``Run.facets`` holds the run facets; under
its ``openlineage`` key it also holds the job facets (``job``), every input and output
with its dataset facets and ``inputFacets``/``outputFacets`` (``inputs``, ``outputs``), and
the newest event's ``eventType``, ``eventTime``, ``producer`` and ``schemaURL`` (and, as
``runFacet``, a run facet that was itself named ``openlineage``).

**Datasets → versions.** OpenLineage datasets rarely carry a version, Pedigree's always do:

- the ``version`` dataset facet (``datasetVersion``), when present, is the version;
- otherwise an **output** of run R is version ``ol-run:R`` — what R wrote;
- otherwise an **input** is the newest version Pedigree holds of that dataset when the
  event arrives (so a dbt model reading a table an earlier run wrote links to that run's
  output), or ``ol:unversioned`` when it holds none: one placeholder node per dataset for
  "some version we were not told about". A run keeps the versions it was first linked to,
  so a later event or a re-send never moves its lineage.

A DatasetVersion record is appended the first time a version is named, with that event's
dataset facets (``columns`` from ``schema`` when every field has a type, ``description``
from ``documentation``, ``row_count`` from ``outputStatistics``); later events' facets for
it are kept on the run's record. ``columnLineage`` is a dataset facet and so is kept both
ways. A dataset Pedigree holds as a model gets ModelVersion records instead.

**Parents.** The ``parent`` run facet gives ``parent_run_id``. The ledger refuses dangling
references, so a parent not recorded yet is recorded as a placeholder ``running`` run of the
parent facet's job (as ``pedigree.run`` does for nested runs); its own events supersede it.

**DatasetEvent** (static metadata about a dataset): with a ``version`` facet it is a
DatasetVersion of that version, or, when that version is already recorded with other
facets, an ``openlineage_dataset`` annotation on it. Without one it is an
``openlineage_dataset`` annotation on the dataset (first recording an ``ol:unversioned``
version if the dataset is new, so that the annotation has something to point at).

**JobEvent** (static metadata about a job): Pedigree has no record of a job by itself (a
job exists once a run of it is recorded), so it becomes an ``openlineage_job`` annotation
on the job when the job is known, else on each dataset it declares (recorded first if
new). A JobEvent about an unknown job declaring no datasets records nothing and says so in
its result's ``warnings``.

Annotation ids derive from the event's canonical digest, so a re-sent static event is
recognised as identical and not recorded twice.

Validation is the spec's JSON Schemas (see ``_schemas``); an invalid event raises
``EventError`` (a ``RecordError``: an HTTP 4xx) whose one-line message names the problem.
A standard *input* facet that does not match its schema is the exception: it is kept and
flagged (the result's ``warnings``, the input's ``invalidFacets``), as upstream validators
leave input facets unchecked by default and the spec's own full example breaks one.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from pedigree.errors import RecordError, WriteLockBusy
from pedigree.interop._schemas import (
    describe,
    event_validator,
    facet_validator,
    first_error,
)
from pedigree.ledger.canonical import canonical_json
from pedigree.model import (
    Annotation,
    CodeRef,
    Column,
    DatasetVersion,
    EntityVersion,
    JobRef,
    ModelVersion,
    RecordBody,
    Run,
    RunIO,
    Target,
    format_time,
)
from pedigree.model.registry import describe_validation_error
from pedigree.store import Alongside, Ledger, lookup

UNVERSIONED = "ol:unversioned"
"""Version of an input dataset Pedigree holds no version of: "a version we were not told"."""
RUN_VERSION = "ol-run:"
"""Prefix of the version an output gets from its run when it has no ``version`` facet."""
METADATA = "openlineage"
"""Key of ``Run.facets`` holding what is not a run facet: job facets, inputs, outputs…"""
JOB_ANNOTATION = "openlineage_job"
DATASET_ANNOTATION = "openlineage_dataset"
DEFAULT_KIND = "transform"

STATUSES = {
    "START": "running",
    "RUNNING": "running",
    "COMPLETE": "completed",
    "FAIL": "failed",
    "ABORT": "aborted",
}
"""Run status per ``eventType``; OTHER (or no type) keeps the status the run had."""
KINDS = {"SEED": "ingest", "TEST": "evaluate"}
"""Run kind per ``jobType.jobType`` facet value; any other value is ``transform``."""

_TERMINAL = frozenset({"completed", "failed", "aborted"})
_ANNOTATION_IDS = uuid.UUID("870d2b76-41b2-4552-840d-8092f37878c1")
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,1024}$")
_ITEM = re.compile(r"^item (\d+) of (\d+): (.*)$", re.S)
_ERROR_LIMIT = 4_000
_LOCK = threading.Lock()
"""Ingest calls of one process run one at a time. A run's new record is computed from its
current one inside the write transaction (``Ledger.append_derived``), which is what keeps
processes apart; this lock only spares threads of one process from queueing on the
database's lock, which waits by polling."""

Key = tuple[str, str]


class EventError(RecordError):
    """An OpenLineage event is malformed, or cannot be recorded as it is."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index
        """Position of the event in the batch (0-based), when known."""


# --- validation -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """A validated event: its type (``RunEvent``…), the data as sent and its time in UTC."""

    type: str
    data: Mapping[str, Any]
    time: datetime
    warnings: tuple[str, ...] = ()

    @property
    def run_id(self) -> str | None:
        if self.type != "RunEvent":
            return None
        return str(uuid.UUID(self.data["run"]["runId"]))


def _event_type(data: Any) -> str:
    if not isinstance(data, Mapping):
        raise EventError(f"an OpenLineage event is a JSON object, not {type(data).__name__}")
    if "run" in data or "eventType" in data:
        return "RunEvent"
    if "dataset" in data:
        if "job" in data:
            raise EventError(
                "an event has `dataset` (a DatasetEvent) or `job` (a JobEvent), not both"
            )
        return "DatasetEvent"
    if "job" in data:
        return "JobEvent"
    raise EventError(
        "not an OpenLineage event: it needs `run` and `job` (RunEvent), `dataset` "
        "(DatasetEvent) or `job` (JobEvent)"
    )


def _time(text: str, where: str = "eventTime") -> datetime:
    """ISO 8601; a time without offset is taken as UTC (not the server's local time)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise EventError(f"{where} is not an ISO 8601 date-time: {text[:60]!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _uuid(text: str, where: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise EventError(f"{where} is not a UUID: {text[:60]!r}") from None


def _check_name(value: str, where: str) -> None:
    if not _NAME.match(value):
        raise EventError(f"{where} must be 1 to 1024 characters with no control characters")


def _facet_groups(kind: str, data: Mapping[str, Any]) -> Iterable[tuple[str, str, Any]]:
    """(place, label, facets) of every facet dictionary an event holds."""
    if kind == "RunEvent":
        yield "run", "run", data["run"].get("facets")
    if kind in ("RunEvent", "JobEvent"):
        yield "job", "job", data["job"].get("facets")
        for side, extra, place in (
            ("inputs", "inputFacets", "input"),
            ("outputs", "outputFacets", "output"),
        ):
            for i, dataset in enumerate(data.get(side) or ()):
                yield "dataset", f"{side}[{i}] dataset", dataset.get("facets")
                yield place, f"{side}[{i}] {place}", dataset.get(extra)
    if kind == "DatasetEvent":
        yield "dataset", "dataset", data["dataset"].get("facets")


def _invalid_facets(place: str, facets: Mapping[str, Any]) -> dict[str, str]:
    """Standard facets at ``place`` that do not match their schema, with the problem.

    Custom facets are never checked (kept verbatim); a ``_deleted`` marker is not a facet.
    """
    out = {}
    for key, value in facets.items():
        validator = facet_validator(place, key)
        if validator is None or (isinstance(value, Mapping) and value.get("_deleted") is True):
            continue
        error = first_error(validator, value)
        if error is not None:
            out[key] = describe(error)
    return out


def _datasets(kind: str, data: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    if kind == "DatasetEvent":
        yield "dataset", data["dataset"]
        return
    for side in ("inputs", "outputs"):
        for i, dataset in enumerate(data.get(side) or ()):
            yield f"{side}[{i}]", dataset


def parse_event(data: Any) -> Event:
    """Validate one event against the spec and what Pedigree needs; ``EventError`` if not."""
    kind = _event_type(data)
    error = first_error(event_validator(kind), data)
    if error is not None:
        raise EventError(describe(error))
    warnings: list[str] = []
    for place, label, facets in _facet_groups(kind, data):
        for key, problem in _invalid_facets(place, facets or {}).items():
            if place != "input":
                raise EventError(f"{label} facet {key!r} is invalid: {problem}")
            warnings.append(f"{label} facet {key!r} is invalid (kept, flagged): {problem}")
    if kind != "DatasetEvent":
        _check_name(data["job"]["namespace"], "job.namespace")
        _check_name(data["job"]["name"], "job.name")
    for label, dataset in _datasets(kind, data):
        _check_name(dataset["namespace"], f"{label}.namespace")
        _check_name(dataset["name"], f"{label}.name")
        version = _declared(dataset.get("facets") or {})
        if version is not None:
            _check_name(version, f"{label} dataset facet 'version': datasetVersion")
    if kind == "RunEvent":
        run_id = _uuid(data["run"]["runId"], "run.runId")
        parent = (data["run"].get("facets") or {}).get("parent")
        if parent is not None:
            parent_id = _uuid(parent["run"]["runId"], "run facet 'parent': run.runId")
            if parent_id == run_id:
                raise EventError("run facet 'parent' names the run itself")
            _check_name(parent["job"]["namespace"], "run facet 'parent': job.namespace")
            _check_name(parent["job"]["name"], "run facet 'parent': job.name")
    return Event(kind, data, _time(data["eventTime"]), tuple(warnings))


def validate_event(data: Any) -> str:
    """Check one event; returns its type (``RunEvent``, ``DatasetEvent`` or ``JobEvent``)."""
    return parse_event(data).type


def _parse_all(events: Sequence[Any]) -> list[Event]:
    parsed = []
    for index, data in enumerate(events):
        try:
            parsed.append(parse_event(data))
        except EventError as exc:
            raise _at(exc, index, len(events)) from None
    return parsed


def _at(exc: RecordError, index: int, total: int) -> EventError:
    message = str(exc) if total == 1 else f"event {index + 1} of {total}: {exc}"
    return EventError(message, index=index)


# --- what is recorded -----------------------------------------------------------------------


@dataclass(slots=True)
class _State:
    """What the mapping knows is recorded: looked up once per batch, then kept up to date
    with the records the batch itself produces. Empty for ``to_records``."""

    runs: dict[str, Run] = field(default_factory=dict)
    kinds: dict[Key, str] = field(default_factory=dict)
    latest: dict[Key, str] = field(default_factory=dict)
    versions: dict[tuple[str, str, str], EntityVersion] = field(default_factory=dict)
    jobs: set[Key] = field(default_factory=set)

    def recorded(self, key: Key, version: str) -> bool:
        return (*key, version) in self.versions or self.latest.get(key) == version

    def add(self, record: RecordBody) -> None:
        if isinstance(record, Run):
            self.runs[str(record.run_id)] = record
            self.jobs.add((record.job.namespace, record.job.name))
        elif isinstance(record, EntityVersion):
            key = (record.namespace, record.name)
            self.versions[(*key, record.version)] = record
            self.kinds.setdefault(key, "model" if isinstance(record, ModelVersion) else "dataset")
            if record.version != UNVERSIONED:
                self.latest[key] = record.version


def _load(conn: Connection, events: list[Event], known: lookup.Found) -> _State:
    """What the ledger holds about the events' runs, datasets and jobs (looked up into
    ``known``, for the append to reuse)."""
    runs: set[str] = set()
    datasets: set[Key] = set()
    versions: set[str] = {UNVERSIONED}
    jobs: set[Key] = set()
    for event in events:
        data = event.data
        if event.type == "RunEvent":
            run_id = event.run_id
            assert run_id is not None
            runs.add(run_id)
            versions.add(RUN_VERSION + run_id)
            parent = (data["run"].get("facets") or {}).get("parent")
            if parent is not None:
                runs.add(str(uuid.UUID(parent["run"]["runId"])))
                jobs.add((parent["job"]["namespace"], parent["job"]["name"]))
        if event.type in ("RunEvent", "JobEvent"):
            jobs.add((data["job"]["namespace"], data["job"]["name"]))
        for _, dataset in _datasets(event.type, data):
            datasets.add((dataset["namespace"], dataset["name"]))
            declared = _declared(dataset.get("facets") or {})
            if declared is not None:
                versions.add(declared)
    found = lookup.load(
        conn,
        runs=runs,
        datasets=datasets,
        versions=versions,
        jobs=jobs,
        placeholder=UNVERSIONED,
        into=known,
    )
    return _State(found.runs, found.kinds, found.latest, found.versions, found.jobs)


# --- mapping --------------------------------------------------------------------------------


def _declared(facets: Mapping[str, Any]) -> str | None:
    """The ``version`` dataset facet's ``datasetVersion``, if any."""
    facet = facets.get("version")
    if isinstance(facet, Mapping) and not facet.get("_deleted"):
        value = facet.get("datasetVersion")
        if isinstance(value, str):
            return value
    return None


def _overlay(old: Mapping[str, Any], new: Mapping[str, Any], newer: bool) -> dict[str, Any]:
    """Facets merged by key: a newer event's win, an older one's only fill gaps; a facet
    marked ``_deleted`` removes the key (when newer)."""
    out = dict(old)
    for key, value in new.items():
        if isinstance(value, Mapping) and value.get("_deleted") is True:
            if newer:
                out.pop(key, None)
        elif newer or key not in out:
            out[key] = value
    return out


def _kind(job_facets: Mapping[str, Any]) -> str:
    facet = job_facets.get("jobType")
    value = facet.get("jobType") if isinstance(facet, Mapping) else None
    return KINDS.get(value.upper(), DEFAULT_KIND) if isinstance(value, str) else DEFAULT_KIND


def _error(run_facets: Mapping[str, Any]) -> str | None:
    facet = run_facets.get("errorMessage")
    message = facet.get("message") if isinstance(facet, Mapping) else None
    if not isinstance(message, str) or not message:
        return None
    return message if len(message) <= _ERROR_LIMIT else message[: _ERROR_LIMIT - 1] + "…"


def _code(job_facets: Mapping[str, Any]) -> CodeRef | None:
    facet = job_facets.get("sourceCodeLocation")
    if not isinstance(facet, Mapping):
        return None

    def text(*names: str) -> str | None:
        return next((facet[n] for n in names if isinstance(facet.get(n), str)), None)

    code = CodeRef(
        repository=text("repoUrl", "url"),
        commit=text("version"),
        branch=text("branch"),
        entry_point=text("path"),
    )
    return code if code != CodeRef() else None


def _stored_time(meta: Mapping[str, Any]) -> datetime | None:
    value = meta.get("eventTime")
    return _time(value) if isinstance(value, str) else None


def _annotation_id(digest: str, target: Target) -> uuid.UUID:
    parts = (target.type, target.namespace, target.name, target.version, target.id)
    return uuid.uuid5(_ANNOTATION_IDS, "\n".join([digest, *(p or "" for p in parts)]))


def _digest(data: Mapping[str, Any]) -> str:
    try:
        return hashlib.sha256(canonical_json(data)).hexdigest()
    except RecordError as exc:
        raise EventError(str(exc).replace("record", "event", 1)) from None


def _version_record(
    state: _State, key: Key, version: str, facets: Mapping[str, Any], extra: Mapping[str, Any]
) -> EntityVersion:
    """The record of a version first named by an event, with that event's facets."""
    doc = facets.get("documentation")
    description = doc.get("description") if isinstance(doc, Mapping) else None
    common: dict[str, Any] = {
        "namespace": key[0],
        "name": key[1],
        "version": version,
        "facets": dict(facets),
        "description": description if isinstance(description, str) else None,
    }
    if state.kinds.get(key) == "model":
        return ModelVersion(**common)
    schema = facets.get("schema")
    fields = schema.get("fields") if isinstance(schema, Mapping) else None
    columns: list[Column] = []
    if isinstance(fields, list) and all(
        isinstance(f, Mapping) and isinstance(f.get("name"), str) and isinstance(f.get("type"), str)
        for f in fields
    ):
        columns = [Column(name=f["name"], type=f["type"]) for f in fields]
    stats = extra.get("outputStatistics")
    rows = stats.get("rowCount") if isinstance(stats, Mapping) else None
    return DatasetVersion(
        **common,
        columns=columns,
        row_count=rows if isinstance(rows, int) and rows >= 0 else None,
    )


class _Mapper:
    """Turns validated events into records against a ``_State`` it keeps up to date."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def map(self, event: Event) -> tuple[list[RecordBody], list[str]]:
        try:
            if event.type == "RunEvent":
                return self._run_event(event), []
            if event.type == "DatasetEvent":
                return self._dataset_event(event), []
            return self._job_event(event)
        except ValidationError as exc:  # pragma: no cover - the checks above should catch it
            raise EventError(describe_validation_error("record", exc)) from None

    def _emit(self, records: list[RecordBody], record: RecordBody) -> None:
        records.append(record)
        self.state.add(record)

    # --- RunEvent ------------------------------------------------------------------------

    def _run_event(self, event: Event) -> list[RecordBody]:
        data = event.data
        run_id = event.run_id
        assert run_id is not None
        job = JobRef(namespace=data["job"]["namespace"], name=data["job"]["name"])
        previous = self.state.runs.get(run_id)
        if previous is not None and previous.job != job:
            raise EventError(
                f"run {run_id} is recorded as a run of job {previous.job.namespace}:"
                f"{previous.job.name}, not {job.namespace}:{job.name}"
            )
        old_meta: Mapping[str, Any] = {}
        old_facets: dict[str, Any] = {}
        if previous is not None:
            old_facets = dict(previous.facets)
            stored = old_facets.pop(METADATA, None)
            old_meta = stored if isinstance(stored, Mapping) else {}
        last = _stored_time(old_meta)
        newer = last is None or event.time >= last
        records: list[RecordBody] = []

        run_facets = dict(data["run"].get("facets") or {})
        job_facets = data["job"].get("facets") or {}
        own = run_facets.pop(METADATA, None)  # a run facet that happens to use our key
        facets = _overlay(old_facets, run_facets, newer)
        meta: dict[str, Any] = {}
        for name in ("eventType", "eventTime", "producer", "schemaURL"):
            value = format_time(event.time) if name == "eventTime" else data.get(name)
            if newer and value is not None:
                meta[name] = value
            elif name in old_meta:
                meta[name] = old_meta[name]
        if own is not None and (newer or "runFacet" not in old_meta):
            meta["runFacet"] = own  # kept, one level down, rather than lost
        elif "runFacet" in old_meta:
            meta["runFacet"] = old_meta["runFacet"]
        meta["job"] = _overlay(old_meta.get("job") or {}, job_facets, newer)

        parent_id = previous.parent_run_id if previous is not None else None
        parent = run_facets.get("parent")
        if parent is not None and (newer or parent_id is None):
            parent_id = uuid.UUID(parent["run"]["runId"])
            if str(parent_id) not in self.state.runs:
                self._emit(records, self._placeholder(parent_id, parent["job"], run_id))

        inputs = self._io(records, run_id, "inputs", previous, old_meta, data, newer)
        outputs = self._io(records, run_id, "outputs", previous, old_meta, data, newer)
        used = {(e["namespace"], e["name"], e["version"]) for e in inputs}
        for entry in outputs:
            if (entry["namespace"], entry["name"], entry["version"]) in used:
                raise EventError(
                    f"dataset {entry['namespace']}:{entry['name']} version {entry['version']} "
                    "is both an input and an output of the run: lineage would be circular"
                )
        meta["inputs"], meta["outputs"] = inputs, outputs
        status, started, ended = _progress(previous, data.get("eventType"), event.time)
        run = Run(
            run_id=uuid.UUID(run_id),
            job=job,
            kind=previous.kind if previous is not None else _kind(job_facets),
            status=status,  # type: ignore[arg-type]
            started_at=started,
            ended_at=ended,
            inputs=[_io_ref(e) for e in inputs],
            outputs=[_io_ref(e) for e in outputs],
            parent_run_id=parent_id,
            error=_error(facets) or (previous.error if previous is not None else None),
            code=_code(meta["job"]) or (previous.code if previous is not None else None),
            facets={**facets, METADATA: meta},
        )
        self._emit(records, run)
        return records

    def _placeholder(self, run_id: uuid.UUID, job: Mapping[str, Any], child: str) -> Run:
        """A parent run known only from a child's parent facet: running, until its own
        events supersede it."""
        return Run(
            run_id=run_id,
            job=JobRef(namespace=job["namespace"], name=job["name"]),
            kind=_kind(job.get("facets") or {}),
            status="running",
            facets={METADATA: {"placeholder": f"parent named by run {child}"}},
        )

    def _io(
        self,
        records: list[RecordBody],
        run_id: str,
        side: str,
        previous: Run | None,
        old_meta: Mapping[str, Any],
        data: Mapping[str, Any],
        newer: bool,
    ) -> list[dict[str, Any]]:
        """The run's inputs or outputs so far, merged with the event's, versions resolved;
        versions named for the first time are recorded."""
        extra = "inputFacets" if side == "inputs" else "outputFacets"
        entries: dict[Key, dict[str, Any]] = {}
        for entry in old_meta.get(side) or ():
            entries[(entry["namespace"], entry["name"])] = dict(entry)
        if previous is not None:  # a run first recorded by other means than OpenLineage
            for ref in previous.inputs if side == "inputs" else previous.outputs:
                entries.setdefault(
                    (ref.namespace, ref.name),
                    {"namespace": ref.namespace, "name": ref.name, "version": ref.version},
                )
        for dataset in data.get(side) or ():
            key = (dataset["namespace"], dataset["name"])
            facets = dataset.get("facets") or {}
            old = entries.get(key, {})
            entry: dict[str, Any] = {"namespace": key[0], "name": key[1], "version": ""}
            merged = _overlay(old.get("facets") or {}, facets, newer)
            if merged:
                entry["facets"] = merged
            merged_extra = _overlay(old.get(extra) or {}, dataset.get(extra) or {}, newer)
            if merged_extra:
                entry[extra] = merged_extra
            flagged = _invalid_facets("input", merged_extra) if side == "inputs" else {}
            if flagged:
                entry["invalidFacets"] = flagged
            version = _declared(merged) or old.get("version")
            if not version:
                own = RUN_VERSION + run_id
                if side == "outputs":
                    version = own
                else:
                    latest = self.state.latest.get(key)
                    version = latest if latest and latest != own else UNVERSIONED
            entry["version"] = version
            entries[key] = entry
            if not self.state.recorded(key, version):
                self._emit(
                    records,
                    _version_record(self.state, key, version, facets, dataset.get(extra) or {}),
                )
        return list(entries.values())

    # --- static events ----------------------------------------------------------------------

    def _declare(self, records: list[RecordBody], dataset: Mapping[str, Any]) -> dict[str, Any]:
        """A dataset named by a static event: its version (declared, newest recorded, or
        the placeholder, recorded if new)."""
        key = (dataset["namespace"], dataset["name"])
        facets = dataset.get("facets") or {}
        version = _declared(facets) or self.state.latest.get(key) or UNVERSIONED
        if not self.state.recorded(key, version):
            self._emit(records, _version_record(self.state, key, version, facets, {}))
        entry = {"namespace": key[0], "name": key[1], "version": version}
        entry.update(
            {k: dataset[k] for k in ("facets", "inputFacets", "outputFacets") if dataset.get(k)}
        )
        flagged = _invalid_facets("input", dataset.get("inputFacets") or {})
        if flagged:
            entry["invalidFacets"] = flagged
        return entry

    def _static_body(self, data: Mapping[str, Any], event: Event) -> dict[str, Any]:
        body = {"eventTime": format_time(event.time)}
        body.update({k: data[k] for k in ("producer", "schemaURL") if k in data})
        return body

    def _dataset_event(self, event: Event) -> list[RecordBody]:
        data = event.data
        dataset = data["dataset"]
        key = (dataset["namespace"], dataset["name"])
        facets = dataset.get("facets") or {}
        records: list[RecordBody] = []
        body = {"dataset": {"namespace": key[0], "name": key[1]}, "facets": dict(facets)}
        body.update(self._static_body(data, event))
        declared = _declared(facets)
        if declared is not None:
            candidate = _version_record(self.state, key, declared, facets, {})
            existing = self.state.versions.get((*key, declared))
            if existing is None or existing == candidate:
                self._emit(records, candidate)  # new, or identical (the ledger keeps one)
                return records
            target = Target(type="version", namespace=key[0], name=key[1], version=declared)
        else:
            if key not in self.state.kinds:
                self._emit(records, _version_record(self.state, key, UNVERSIONED, facets, {}))
            target = Target(type="dataset", namespace=key[0], name=key[1])
        records.append(
            Annotation(
                annotation_id=_annotation_id(_digest(data), target),
                target=target,
                kind=DATASET_ANNOTATION,
                body=body,
            )
        )
        return records

    def _job_event(self, event: Event) -> tuple[list[RecordBody], list[str]]:
        data = event.data
        key = (data["job"]["namespace"], data["job"]["name"])
        records: list[RecordBody] = []
        body: dict[str, Any] = {
            "job": {"namespace": key[0], "name": key[1]},
            "facets": dict(data["job"].get("facets") or {}),
            "inputs": [self._declare(records, d) for d in data.get("inputs") or ()],
            "outputs": [self._declare(records, d) for d in data.get("outputs") or ()],
        }
        body.update(self._static_body(data, event))
        if key in self.state.jobs:
            targets = [Target(type="job", namespace=key[0], name=key[1])]
        else:
            named = {(d["namespace"], d["name"]): None for d in (*body["inputs"], *body["outputs"])}
            targets = [Target(type="dataset", namespace=ns, name=name) for ns, name in named]
        if not targets:
            return records, [
                f"job {key[0]}:{key[1]} is not recorded and the JobEvent declares no datasets: "
                "nothing recorded (send a RunEvent of the job first)"
            ]
        digest = _digest(data)
        for target in targets:
            records.append(
                Annotation(
                    annotation_id=_annotation_id(digest, target),
                    target=target,
                    kind=JOB_ANNOTATION,
                    body=body,
                )
            )
        return records, []


def _io_ref(entry: Mapping[str, Any]) -> RunIO:
    return RunIO(namespace=entry["namespace"], name=entry["name"], version=entry["version"])


def _progress(
    previous: Run | None, event_type: str | None, time: datetime
) -> tuple[str, datetime | None, datetime | None]:
    """(status, started_at, ended_at) after an event: terminal states are final unless a
    later terminal event replaces them; START sets the start."""
    status = previous.status if previous is not None else "running"
    started = previous.started_at if previous is not None else None
    ended = previous.ended_at if previous is not None else None
    new = STATUSES.get(event_type or "OTHER")
    if new in _TERMINAL:
        if status not in _TERMINAL or ended is None or time >= ended:
            status, ended = new, time
    elif new == "running" and status not in _TERMINAL:
        status = "running"
    if event_type == "START":
        started = time if started is None else min(started, time)
    if started is not None and ended is not None and ended < started:
        started = ended  # clocks disagree: a run never ends before it starts
    return status, started, ended


# --- public API -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one event became: the log positions of its records (``appended`` of them new,
    the others already recorded identically) and any warning."""

    index: int
    event_type: str
    run_id: str | None
    seqs: tuple[int, ...]
    appended: int
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "eventType": self.event_type,
            "seqs": list(self.seqs),
            "appended": self.appended,
        }
        if self.run_id is not None:
            out["runId"] = self.run_id
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def to_records(event: Mapping[str, Any]) -> list[RecordBody]:
    """The records one event becomes on an empty ledger (validated; nothing written)."""
    records, _ = _Mapper(_State()).map(parse_event(event))
    return records


def ingest(
    ledger: Ledger,
    events: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    actor: str | None = None,
    alongside: Alongside | None = None,
    wait: bool = True,
) -> list[IngestResult]:
    """Validate every event, then record them all in one atomic append (all or nothing).

    ``events`` is one event or a list (``POST /lineage`` or ``/lineage/batch``); ``actor`` is
    the authenticated submitter (default: the ledger's); ``alongside`` writes in the same
    transaction (``Ledger.append_derived``). ``wait=False``: ``WriteLockBusy`` (nothing
    recorded) rather than waiting while another writer holds the store's write lock.
    Returns one result per event.
    """
    batch: Sequence[Any] = [events] if isinstance(events, Mapping) else list(events)
    parsed = _parse_all(batch)
    if not parsed:
        return []
    owner: list[int] = []
    warnings: list[list[str]] = []
    known = lookup.Found()

    def derive(conn: Connection) -> list[RecordBody]:
        """The events' records, from the runs and versions recorded (read under the lock)."""
        mapper = _Mapper(_load(conn, parsed, known))
        records: list[RecordBody] = []
        owner.clear()
        warnings.clear()
        for index, event in enumerate(parsed):
            try:
                produced, notes = mapper.map(event)
            except EventError as exc:
                raise _at(exc, index, len(parsed)) from None
            records += produced
            owner.extend([index] * len(produced))
            warnings.append([*event.warnings, *notes])
        return records

    if not _LOCK.acquire(blocking=wait):
        raise WriteLockBusy("another ingest of this process holds the write lock")
    try:
        appended = ledger.append_derived(
            derive, actor=actor, alongside=alongside, known=known, wait=wait
        )
    except EventError:
        raise
    except RecordError as exc:
        raise _attributed(exc, owner, len(parsed)) from None
    finally:
        _LOCK.release()
    seqs: list[list[int]] = [[] for _ in parsed]
    new = [0] * len(parsed)
    for index, result in zip(owner, appended, strict=True):
        seqs[index].append(result.seq)
        new[index] += not result.existing
    return [
        IngestResult(
            index=i,
            event_type=event.type,
            run_id=event.run_id,
            seqs=tuple(seqs[i]),
            appended=new[i],
            warnings=tuple(warnings[i]),
        )
        for i, event in enumerate(parsed)
    ]


def _attributed(exc: RecordError, owner: list[int], total: int) -> RecordError:
    """The ledger names the record ("item 7 of 40: …"); name the event instead."""
    match = _ITEM.match(str(exc))
    if match is None or len(owner) == 1:
        return exc if match is None else type(exc)(match.group(3))
    index = owner[int(match.group(1)) - 1]
    message = match.group(3) if total == 1 else f"event {index + 1} of {total}: {match.group(3)}"
    return type(exc)(message)


__all__ = [
    "DATASET_ANNOTATION",
    "JOB_ANNOTATION",
    "METADATA",
    "RUN_VERSION",
    "UNVERSIONED",
    "Event",
    "EventError",
    "IngestResult",
    "ingest",
    "parse_event",
    "to_records",
    "validate_event",
]

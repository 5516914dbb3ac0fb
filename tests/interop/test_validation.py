"""Validation of OpenLineage events and the pure mapping (no ledger): spec fixtures,
one-line error messages, custom facets, and what each event becomes."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pedigree.errors import RecordError
from pedigree.interop import EventError, parse_event, to_records, validate_event
from pedigree.interop.openlineage import METADATA, RUN_VERSION, UNVERSIONED
from pedigree.model import Annotation, DatasetVersion, Run
from tests.interop.conftest import fixture_names
from tests.interop.events import dataset, facet, load_json, parent_facet, run_event

RUN = uuid.UUID("11111111-2222-4333-8444-555555555555")

INVALID = {
    "event_no_run_id.json": "run.runId is required",
    "event_invalid_run_facet.json": "run facet 'parent' is invalid: run.runId is required",
    "event_invalid_job_facet.json": "job facet 'ownership' is invalid: owners[0].name is required",
    "event_invalid_dataset_facet.json": (
        "outputs[0] dataset facet 'ownership' is invalid: owners[0].name is required"
    ),
    "event_invalid_output_dataset_facet.json": (
        "outputs[0] output facet 'outputStatistics' is invalid: "
        "rowCount: 'wrong' is not of type 'integer'"
    ),
}
FLAGGED = {
    # The upstream validator leaves input facets unchecked by default, and its own
    # "valid" full event breaks this facet's current schema too (no columnMetrics): an
    # input facet that does not match is kept and flagged, never a reason to refuse.
    "event_invalid_input_dataset_facet.json": (
        "inputs[0] input facet 'dataQualityMetrics' is invalid (kept, flagged): "
        "columnMetrics is required"
    ),
}


def test_the_fixture_set_is_complete(ol_fixtures: Path) -> None:
    assert set(fixture_names("invalid")) == set(INVALID) | set(FLAGGED)
    assert len(fixture_names("valid")) >= 6


@pytest.mark.parametrize("name", fixture_names("valid"))
def test_every_valid_fixture_event_is_accepted(ol_fixtures: Path, name: str) -> None:
    event = load_json(ol_fixtures / "events" / "valid" / name)
    kind = validate_event(event)
    assert kind == {"dataset": "DatasetEvent", "job": "JobEvent"}.get(name.split("_")[2], kind)
    records = to_records(event)
    assert records
    if kind == "RunEvent":
        run = records[-1]
        assert isinstance(run, Run)
        assert str(run.run_id) == event["run"]["runId"]
        assert run.facets[METADATA]["producer"] == event["producer"]


@pytest.mark.parametrize("name", fixture_names("invalid"))
def test_every_invalid_fixture_is_refused_naming_the_problem(ol_fixtures: Path, name: str) -> None:
    event = load_json(ol_fixtures / "events" / "invalid" / name)
    if name in FLAGGED:
        parsed = parse_event(event)
        assert parsed.warnings == (FLAGGED[name],)
        run = to_records(event)[-1]
        assert isinstance(run, Run)
        entry = run.facets[METADATA]["inputs"][0]  # type: ignore[index]
        assert entry["invalidFacets"] == {"dataQualityMetrics": "columnMetrics is required"}
        assert entry["inputFacets"]["dataQualityMetrics"]["noRowCount"] == 1000
        return
    with pytest.raises(EventError) as caught:
        validate_event(event)
    assert str(caught.value) == INVALID[name]
    assert isinstance(caught.value, RecordError)
    assert "\n" not in str(caught.value)


def _run(**changes: Any) -> dict[str, Any]:
    event = run_event("START", RUN, inputs=[dataset("raw.users")], outputs=[dataset("stg.users")])
    event.update(changes)
    return event


def _with(path: str, value: Any) -> dict[str, Any]:
    """A valid run event with the value at a dotted path replaced (``...`` deletes it)."""
    event = copy.deepcopy(_run())
    *parents, last = path.split(".")
    node: Any = event
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is ...:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return event


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (["not", "an", "event"], "an OpenLineage event is a JSON object, not list"),
        ({"eventTime": "2026-01-01T00:00:00Z"}, "not an OpenLineage event: it needs"),
        (
            {"dataset": {}, "job": {}, "eventTime": "x"},
            "an event has `dataset` (a DatasetEvent) or `job` (a JobEvent), not both",
        ),
        (_with("eventTime", ...), "eventTime is required"),
        (_with("producer", ...), "producer is required"),
        (_with("run", ...), "run is required"),
        (_with("job.name", ...), "job.name is required"),
        (_with("inputs.0.namespace", ...), "inputs[0].namespace is required"),
        (_with("eventType", "DONE"), "eventType: 'DONE' is not one of"),
        (_with("outputs", "stg.users"), "outputs: 'stg.users' is not of type 'array'"),
        (_with("run.facets", {"tags": "nice"}), "run.facets.tags: 'nice' is not of type 'object'"),
        (_with("eventTime", "yesterday"), "eventTime is not an ISO 8601 date-time: 'yesterday'"),
        (_with("run.runId", "run-42"), "run.runId is not a UUID: 'run-42'"),
        (_with("job.name", ""), "job.name must be 1 to 1024 characters with no control"),
        (_with("job.namespace", "a\nb"), "job.namespace must be 1 to 1024 characters"),
        (_with("inputs.0.name", "x" * 1025), "inputs[0].name must be 1 to 1024 characters"),
        (
            _with("run.facets", {"parent": parent_facet(RUN, "etl.load")}),
            "run facet 'parent' names the run itself",
        ),
        (
            _with("run.facets", {"parent": parent_facet("nope", "etl.load")}),
            "run facet 'parent': run.runId is not a UUID: 'nope'",
        ),
        (
            _with("job.facets", {"sql": {"query": "select 1"}}),
            "job facet 'sql' is invalid: _producer is required",
        ),
        (
            _with("job.facets", {"sql": facet(query=42)}),
            "job facet 'sql' is invalid: query: 42 is not of type 'string'",
        ),
        (
            _with("outputs.0.facets", {"version": facet(datasetVersion="")}),
            "outputs[0] dataset facet 'version': datasetVersion must be 1 to 1024 characters",
        ),
    ],
)
def test_bad_events_get_one_line_messages(event: Any, message: str) -> None:
    with pytest.raises(EventError) as caught:
        to_records(event)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_custom_facets_are_kept_verbatim_and_never_checked() -> None:
    odd = {"anything": [1, {"deep": None}], "_producer": 7}  # even a base field of the wrong type
    event = run_event(
        "COMPLETE",
        RUN,
        run_facets={"acme_cost": odd, "spark_version": {"v": "3.5"}},
        job_facets={"acme_owner": {"team": "data"}, "sql": {"_deleted": True}},
        inputs=[dataset("raw.users", facets={"acme_pii": {"columns": ["email"]}})],
        outputs=[
            {
                **dataset("stg.users", facets={"acme_quality": {"score": 0.93}}),
                "outputFacets": {"acme_written": {"files": 3}},
            }
        ],
    )
    *versions, run = to_records(event)
    assert isinstance(run, Run)
    assert run.facets["acme_cost"] == odd
    assert run.facets["spark_version"] == {"v": "3.5"}
    meta = run.facets[METADATA]
    assert meta["job"]["acme_owner"] == {"team": "data"}  # type: ignore[index]
    assert meta["outputs"][0]["outputFacets"] == {"acme_written": {"files": 3}}  # type: ignore[index]
    raw, stg = versions
    assert isinstance(raw, DatasetVersion) and isinstance(stg, DatasetVersion)
    assert raw.facets == {"acme_pii": {"columns": ["email"]}}
    assert stg.facets == {"acme_quality": {"score": 0.93}}


def test_a_run_facet_named_like_our_metadata_key_is_kept_too() -> None:
    run = to_records(run_event("START", RUN, run_facets={METADATA: {"mine": True}}))[-1]
    assert isinstance(run, Run)
    assert run.facets[METADATA]["runFacet"] == {"mine": True}  # type: ignore[index,call-overload]
    assert run.facets[METADATA]["eventType"] == "START"  # type: ignore[index,call-overload]


def test_a_run_event_maps_onto_a_run_and_its_versions() -> None:
    columns = facet(
        fields={
            "total": {
                "inputFields": [
                    {"namespace": "postgres://db:5432", "name": "raw.orders", "field": "amount"}
                ]
            }
        }
    )
    event = run_event(
        "FAIL",
        RUN,
        job="dbt.orders",
        namespace="dbt",
        time="2026-03-04T05:06:07.5+02:00",
        inputs=[dataset("raw.orders", facets={"version": facet(datasetVersion="v7")})],
        outputs=[
            {
                **dataset(
                    "mart.orders",
                    facets={
                        "schema": facet(
                            fields=[
                                {"name": "id", "type": "INTEGER"},
                                {"name": "total", "type": "NUMERIC"},
                            ]
                        ),
                        "documentation": facet(description="orders with totals"),
                        "columnLineage": columns,
                    },
                ),
                "outputFacets": {"outputStatistics": facet(rowCount=12, size=800)},
            }
        ],
        run_facets={"errorMessage": facet(message="boom", programmingLanguage="sql")},
        job_facets={
            "jobType": facet(processingType="BATCH", integration="DBT", jobType="SEED"),
            "sourceCodeLocation": facet(
                type="git",
                url="https://git.example/x",
                repoUrl="https://git.example/x.git",
                path="models/orders.sql",
                version="abc123",
                branch="main",
            ),
        },
    )
    raw, mart, run = to_records(event)
    assert isinstance(raw, DatasetVersion) and raw.version == "v7"
    assert isinstance(mart, DatasetVersion)
    assert mart.version == f"{RUN_VERSION}{RUN}"
    assert [(c.name, c.type) for c in mart.columns] == [("id", "INTEGER"), ("total", "NUMERIC")]
    assert mart.description == "orders with totals"
    assert mart.row_count == 12
    assert mart.facets["columnLineage"] == columns
    assert isinstance(run, Run)
    assert (run.status, run.kind, run.error) == ("failed", "ingest", "boom")
    assert run.ended_at == datetime(2026, 3, 4, 3, 6, 7, 500000, tzinfo=UTC)
    assert run.started_at is None  # no START seen
    assert run.code is not None
    assert (run.code.repository, run.code.commit, run.code.branch, run.code.entry_point) == (
        "https://git.example/x.git",
        "abc123",
        "main",
        "models/orders.sql",
    )
    assert [str(i) for i in run.inputs] == ["postgres://db:5432:raw.orders@v7"]
    assert [str(o) for o in run.outputs] == [f"postgres://db:5432:mart.orders@ol-run:{RUN}"]


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("START", "running"),
        ("RUNNING", "running"),
        ("COMPLETE", "completed"),
        ("FAIL", "failed"),
        ("ABORT", "aborted"),
        ("OTHER", "running"),
        (None, "running"),
    ],
)
def test_event_types_set_the_status(event_type: str | None, status: str) -> None:
    run = to_records(run_event(event_type, RUN))[-1]
    assert isinstance(run, Run)
    assert run.status == status
    assert run.started_at == (
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) if event_type == "START" else None
    )


def test_times_without_offset_are_utc_and_kinds_default_to_transform() -> None:
    run = to_records(run_event("START", RUN, time="2021-11-03T10:53:52.427343"))[-1]
    assert isinstance(run, Run)
    assert run.started_at == datetime(2021, 11, 3, 10, 53, 52, 427343, tzinfo=UTC)
    assert run.kind == "transform"


def test_an_input_nobody_versioned_is_the_placeholder_and_a_parent_a_running_run() -> None:
    parent = uuid.uuid4()
    event = run_event(
        "START",
        RUN,
        inputs=[dataset("raw.users")],
        run_facets={"parent": parent_facet(parent, "nightly")},
    )
    placeholder, raw, run = to_records(event)
    assert isinstance(placeholder, Run)
    assert (placeholder.run_id, placeholder.job.name, placeholder.status) == (
        parent,
        "nightly",
        "running",
    )
    assert isinstance(raw, DatasetVersion) and raw.version == UNVERSIONED
    assert isinstance(run, Run) and run.parent_run_id == parent


def test_static_events_become_annotations() -> None:
    ds_event = {
        "eventTime": "2026-01-01T00:00:00Z",
        "producer": "p",
        "schemaURL": "s",
        "dataset": dataset("warehouse.users", facets={"owner_note": {"text": "team a"}}),
    }
    version, note = to_records(ds_event)
    assert isinstance(version, DatasetVersion) and version.version == UNVERSIONED
    assert isinstance(note, Annotation) and note.kind == "openlineage_dataset"
    assert note.target.type == "dataset" and note.body["facets"] == {
        "owner_note": {"text": "team a"}
    }
    assert to_records(ds_event)[1].annotation_id == note.annotation_id  # type: ignore[union-attr]

    job_event = {
        "eventTime": "2026-01-01T00:00:00Z",
        "producer": "p",
        "schemaURL": "s",
        "job": {"namespace": "scheduler", "name": "declared", "facets": {}},
    }
    with pytest.raises(EventError, match="not both"):
        to_records({**job_event, "dataset": dataset("x")})
    assert to_records(job_event) == []  # unknown job, no datasets: nothing to hang it on

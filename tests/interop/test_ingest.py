"""Ingesting OpenLineage events into a real ledger (SQLite and PostgreSQL): fixtures, the
real dbt streams' graphs, events adding up, idempotent re-sends, atomic batches."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from pedigree.errors import LineageCycleError, RecordError
from pedigree.interop import EventError, ingest
from pedigree.interop.openlineage import METADATA, RUN_VERSION, UNVERSIONED
from pedigree.model import Annotation, DatasetVersion, Run
from pedigree.store import Ledger
from tests.interop.conftest import fixture_names
from tests.interop.events import (
    dataset,
    facet,
    load_json,
    load_stream,
    parent_facet,
    run_event,
    stream_run_id,
)

PG = "postgres://postgres:5432"
BUILD = "dbt_postgres_build.json"
FAILED = "dbt_postgres_failed_run.json"


def current(ledger: Ledger, run_id: uuid.UUID | str) -> Run:
    entry = ledger.show(f"run:{run_id}").current
    assert entry is not None and isinstance(entry.body, Run)
    return entry.body


def run_records(ledger: Ledger, run_id: uuid.UUID | str) -> list[Run]:
    return [
        e.body
        for e in ledger.entries(types=["run"])
        if isinstance(e.body, Run) and str(e.body.run_id) == str(run_id)
    ]


# --- the spec's fixtures ----------------------------------------------------------------------


def test_every_valid_fixture_event_is_recorded(ledger: Ledger, ol_fixtures: Path) -> None:
    events = [load_json(ol_fixtures / "events" / "valid" / n) for n in fixture_names("valid")]
    results = ingest(ledger, events, actor="emitter")
    assert [r.index for r in results] == list(range(len(events)))
    assert all(r.seqs and r.appended for r in results), results
    assert {r.event_type for r in results} == {"RunEvent", "DatasetEvent", "JobEvent"}
    assert all(e.actor == "emitter" for e in ledger.entries())
    # Two fixtures describe the same run: it is one run, recorded as they add up.
    run = current(ledger, "ea041791-68bc-4ae1-bd89-4c8106a157e4")
    assert run.status == "completed"
    assert run.parent_run_id == uuid.UUID("3f5e83fa-3480-44ff-99c5-ff943904e5e8")
    assert current(ledger, run.parent_run_id).status == "running"  # placeholder parent
    assert {"nominalTime", "parent", "tags", "additionalProp1"} <= set(run.facets)
    flagged = [w for r in results for w in r.warnings]
    assert flagged == [
        "inputs[0] input facet 'dataQualityMetrics' is invalid (kept, flagged): "
        "columnMetrics is required"
    ]
    assert ledger.audit().ok


def test_invalid_fixtures_write_nothing(ledger: Ledger, ol_fixtures: Path) -> None:
    folder = ol_fixtures / "events" / "invalid"
    for name in fixture_names("invalid"):
        event = load_json(folder / name)
        if name == "event_invalid_input_dataset_facet.json":
            continue  # accepted with the facet flagged (see test_validation)
        with pytest.raises(EventError):
            ingest(ledger, event)
    assert ledger.size == 0


# --- real dbt streams -------------------------------------------------------------------------


def test_the_dbt_build_stream_gives_the_right_graph(ledger: Ledger, ol_fixtures: Path) -> None:
    events = load_stream(ol_fixtures, BUILD)
    results = ingest(ledger, events)
    assert len(results) == len(events) == 186
    run_id = lambda job: stream_run_id(BUILD, job)  # noqa: E731

    # Models' tables link upstream, through the model runs, to the seeds that wrote them.
    graph = ledger.trace(f"{PG}:postgres.public.customers", direction="up")
    names = {(n.type, n.name) for n in graph.nodes.values()}
    for table in ("stg_customers", "stg_orders", "stg_payments"):
        assert ("dataset_version", f"postgres.public.{table}") in names
    for seed in ("raw_customers", "raw_orders", "raw_payments"):
        assert ("dataset_version", f"postgres.public.{seed}") in names
        assert ("run", f"seed.jaffle_shop.{seed}") in names
    assert ("run", "model.jaffle_shop.customers") in names
    assert not any(n.version == UNVERSIONED for n in graph.nodes.values())

    stg = ledger.show(f"{PG}:postgres.public.stg_customers@latest")
    assert stg.current is not None and isinstance(stg.current.body, DatasetVersion)
    assert stg.current.body.version == RUN_VERSION + run_id("model.jaffle_shop.stg_customers")
    assert [(e.kind, n.name) for e, n in stg.upstream] == [
        ("generated", "model.jaffle_shop.stg_customers")
    ]
    assert {n.name for _, n in stg.downstream} == {
        "model.jaffle_shop.customers",  # not orders: built from stg_orders and stg_payments
        "test.jaffle_shop.not_null_stg_customers_customer_id.e2cfb1f9aa",
        "test.jaffle_shop.unique_stg_customers_customer_id.c7614daada",
    }

    # The dbt run nests the model runs, which nest their SQL statements.
    parent = run_id("dbt-run-jaffle_shop")
    model = current(ledger, run_id("model.jaffle_shop.customers"))
    assert str(model.parent_run_id) == parent
    assert (model.status, model.kind) == ("completed", "transform")
    assert model.started_at is not None and model.ended_at is not None
    assert model.started_at < model.ended_at
    statement = current(ledger, run_id("model.jaffle_shop.customers.sql.1"))
    assert str(statement.parent_run_id) == run_id("model.jaffle_shop.customers")
    assert "sql" in statement.facets[METADATA]["job"]  # type: ignore[operator]
    seed = current(ledger, run_id("seed.jaffle_shop.raw_customers"))
    assert seed.kind == "ingest"

    # A failing dbt test fails; so does the whole dbt run.
    test = current(
        ledger, run_id("test.jaffle_shop.accepted_values_customers_first_name__Jane.21e890a312")
    )
    assert (test.status, test.kind) == ("failed", "evaluate")
    assert test.error
    dbt = current(ledger, parent)
    assert dbt.status == "failed" and dbt.parent_run_id is None
    assert len(run_records(ledger, parent)) == 2  # START, then FAIL superseding it

    # The test's input keeps what the events said about it (data quality assertions).
    entry = current(ledger, run_id("test.jaffle_shop.unique_customers_customer_id.c5af1ff4b1"))
    customers = entry.facets[METADATA]["inputs"][0]  # type: ignore[index]
    assert "dataQualityAssertions" in customers["facets"]

    # Re-sending the whole stream records nothing new.
    size = ledger.size
    again = ingest(ledger, events)
    assert ledger.size == size
    assert sum(r.appended for r in again) == 0
    assert all(len(r.seqs) == 1 for r in again)  # each event: its run's current record


def test_a_failed_dbt_run_reads_what_an_earlier_build_wrote(
    ledger: Ledger, ol_fixtures: Path
) -> None:
    ingest(ledger, load_stream(ol_fixtures, BUILD))
    ingest(ledger, load_stream(ol_fixtures, FAILED))
    run_id = lambda job: stream_run_id(FAILED, job)  # noqa: E731
    orders = current(ledger, run_id("model.jaffle_shop.orders"))
    assert orders.status == "failed"
    assert orders.error is not None and 'syntax error at or near "final"' in orders.error
    assert str(orders.parent_run_id) == run_id("dbt-run-jaffle_shop")
    assert current(ledger, run_id("dbt-run-jaffle_shop")).status == "failed"
    assert current(ledger, run_id("model.jaffle_shop.orders.sql.1")).status == "completed"
    assert current(ledger, run_id("model.jaffle_shop.orders.sql.2")).status == "failed"
    build_stg = stream_run_id(BUILD, "model.jaffle_shop.stg_orders")
    assert f"{PG}:postgres.public.stg_orders@{RUN_VERSION}{build_stg}" in map(str, orders.inputs)


def test_order_does_not_matter(ledger: Ledger, ol_fixtures: Path, tmp_path: Path) -> None:
    """The failed-run stream one event at a time, and backwards in one batch (children
    before parents, FAIL before START), leave the same runs."""
    events = load_stream(ol_fixtures, FAILED)
    for event in events:
        ingest(ledger, event)
    other, _ = Ledger.init(tmp_path / "other")
    with other:
        ingest(other, list(reversed(events)))
        for run_id in {e["run"]["runId"] for e in events}:
            assert current(other, run_id) == current(ledger, run_id)


# --- events of one run add up -------------------------------------------------------------


def test_start_then_complete_supersede_and_facets_merge(ledger: Ledger) -> None:
    run_id = uuid.uuid4()
    start = run_event(
        "START",
        run_id,
        time="2026-01-01T10:00:00Z",
        inputs=[dataset("raw.users")],
        run_facets={"nominalTime": facet(nominalStartTime="2026-01-01T00:00:00Z"), "a": {"v": 1}},
    )
    complete = run_event(
        "COMPLETE",
        run_id,
        time="2026-01-01T10:05:00Z",
        outputs=[{**dataset("stg.users"), "outputFacets": {"outputStatistics": facet(rowCount=5)}}],
        run_facets={"a": {"v": 2}, "b": {"v": 3}},
    )
    ingest(ledger, start)
    assert current(ledger, run_id).status == "running"
    ingest(ledger, complete)
    run = current(ledger, run_id)
    assert run.status == "completed"
    assert (run.started_at.isoformat(), run.ended_at.isoformat()) == (  # type: ignore[union-attr]
        "2026-01-01T10:00:00+00:00",
        "2026-01-01T10:05:00+00:00",
    )
    assert [i.name for i in run.inputs] == ["raw.users"]
    assert [o.name for o in run.outputs] == ["stg.users"]
    assert run.facets["a"] == {"v": 2} and run.facets["b"] == {"v": 3}
    assert "nominalTime" in run.facets
    assert len(run_records(ledger, run_id)) == 2
    assert ledger.show("postgres://db:5432:stg.users@latest").current.body.row_count == 5  # type: ignore[union-attr]

    # Late or repeated events change nothing: START again, COMPLETE again, both at once.
    size = ledger.size
    for again in (start, complete, [complete, start]):
        results = ingest(ledger, again)
        assert all(r.appended == 0 for r in results)
    assert ledger.size == size


def test_a_late_start_never_undoes_a_completion(ledger: Ledger) -> None:
    run_id = uuid.uuid4()
    ingest(ledger, run_event("COMPLETE", run_id, time="2026-01-01T10:05:00Z"))
    ingest(ledger, run_event("START", run_id, time="2026-01-01T10:00:00Z", run_facets={"x": {}}))
    ingest(ledger, run_event("RUNNING", run_id, time="2026-01-01T10:02:00Z"))
    run = current(ledger, run_id)
    assert run.status == "completed"
    assert run.started_at is not None and run.started_at.minute == 0
    assert run.ended_at is not None and run.ended_at.minute == 5
    assert run.facets["x"] == {}  # an older event still fills in what was missing


def test_a_run_cannot_change_its_job(ledger: Ledger) -> None:
    run_id = uuid.uuid4()
    ingest(ledger, run_event("START", run_id, job="a"))
    with pytest.raises(EventError, match=f"run {run_id} is recorded as a run of job scheduler:a"):
        ingest(ledger, run_event("COMPLETE", run_id, job="b"))


def test_a_parent_not_yet_recorded_is_a_placeholder_until_its_own_events(
    ledger: Ledger,
) -> None:
    parent, child = uuid.uuid4(), uuid.uuid4()
    ingest(
        ledger,
        run_event(
            "COMPLETE", child, job="task", run_facets={"parent": parent_facet(parent, "dag")}
        ),
    )
    placeholder = current(ledger, parent)
    assert (placeholder.job.name, placeholder.status) == ("dag", "running")
    assert current(ledger, child).parent_run_id == parent
    ingest(ledger, run_event("COMPLETE", parent, job="dag", time="2026-01-02T04:00:00Z"))
    finished = current(ledger, parent)
    assert finished.status == "completed" and "placeholder" not in finished.facets[METADATA]  # type: ignore[operator]
    assert len(run_records(ledger, parent)) == 2  # one node: the placeholder, superseded
    assert len(ledger.resolve(f"run:{parent}").node_ids) == 1


# --- datasets and their versions -------------------------------------------------------------


def test_inputs_link_to_the_newest_version_or_the_placeholder(ledger: Ledger) -> None:
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    users = dataset("raw.users")
    ingest(ledger, run_event("COMPLETE", first, job="read", inputs=[users]))
    assert [str(i) for i in current(ledger, first).inputs] == [
        f"postgres://db:5432:raw.users@{UNVERSIONED}"
    ]
    ingest(ledger, run_event("COMPLETE", second, job="write", outputs=[users]))
    ingest(
        ledger,
        run_event(
            "COMPLETE",
            third,
            job="update",
            inputs=[users, dataset("raw.ids", facets={"version": facet(datasetVersion="42")})],
            outputs=[users],  # reads the table and writes its next version
        ),
    )
    run = current(ledger, third)
    assert [i.version for i in run.inputs] == [f"{RUN_VERSION}{second}", "42"]
    assert [o.version for o in run.outputs] == [f"{RUN_VERSION}{third}"]
    # The first reader keeps the version it was linked to.
    ingest(ledger, run_event("COMPLETE", first, job="read", inputs=[users]))
    assert current(ledger, first).inputs[0].version == UNVERSIONED


def test_a_dataset_event_records_a_version_or_annotates(ledger: Ledger) -> None:
    def event(facets: dict[str, Any], name: str = "warehouse.users") -> dict[str, Any]:
        return {
            "eventTime": "2026-01-01T00:00:00Z",
            "producer": "catalog",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
            "dataset": dataset(name, facets=facets),
        }

    described = event({"documentation": facet(description="all users")})
    first = ingest(ledger, described)[0]
    assert first.appended == 2  # the placeholder version it hangs on, and the annotation
    assert ingest(ledger, described)[0].appended == 0
    versioned = event({"version": facet(datasetVersion="2026-01"), "tags": facet(tags=[])})
    ingest(ledger, versioned)
    node = ledger.show("postgres://db:5432:warehouse.users@2026-01")
    assert node.current is not None and node.current.body.facets["tags"] == facet(tags=[])  # type: ignore[union-attr]
    changed = event({"version": facet(datasetVersion="2026-01"), "acme": {"x": 1}})
    ingest(ledger, changed)
    again = ledger.show("postgres://db:5432:warehouse.users@2026-01")
    assert [a.body.kind for a in again.annotations] == ["openlineage_dataset"]  # type: ignore[union-attr]
    assert ingest(ledger, [versioned, changed, described])[0].appended == 0
    notes = [e.body for e in ledger.entries(types=["annotation"])]
    assert [n.target.type for n in notes if isinstance(n, Annotation)] == ["dataset", "version"]


def test_a_job_event_annotates_the_job_or_its_datasets(ledger: Ledger) -> None:
    def event(job: str, **sides: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "eventTime": "2026-01-01T00:00:00Z",
            "producer": "catalog",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
            "job": {
                "namespace": "scheduler",
                "name": job,
                "facets": {"sql": facet(query="select * from raw.users")},
            },
            **sides,
        }

    [unknown] = ingest(ledger, event("declared", inputs=[dataset("raw.users")]))
    assert unknown.appended == 2 and not unknown.warnings  # placeholder version + annotation
    [nothing] = ingest(ledger, event("empty"))
    assert nothing.seqs == () and "nothing recorded" in nothing.warnings[0]
    ingest(ledger, run_event("COMPLETE", uuid.uuid4(), job="known"))
    ingest(ledger, event("known", outputs=[dataset("mart.users")]))
    details = ledger.show("job:scheduler:known")
    [note] = details.annotations
    assert isinstance(note.body, Annotation) and note.body.kind == "openlineage_job"
    assert note.body.body["facets"]["sql"]["query"] == "select * from raw.users"  # type: ignore[index,call-overload]


# --- names, custom facets, atomicity --------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "name", "job"),
    [
        ("s3://données-été", "ventes/2026/été 📈.parquet", "作业.每日"),
        (
            "postgres://u@h:5432/db?x=1'--",
            "public.users'; DROP TABLE records; --",
            "Robert'); DROP TABLE jobs;--",
        ),
    ],
)
def test_names_are_stored_verbatim(ledger: Ledger, namespace: str, name: str, job: str) -> None:
    run_id = uuid.uuid4()
    ingest(
        ledger,
        run_event(
            "COMPLETE", run_id, job=job, namespace=namespace, outputs=[dataset(name, namespace)]
        ),
    )
    run = current(ledger, run_id)
    assert (run.job.namespace, run.job.name) == (namespace, job)
    graph = ledger.trace(f"{namespace}:{name}", direction="up")
    assert {(n.namespace, n.name) for n in graph.nodes.values()} == {
        (namespace, name),
        (namespace, job),
    }
    assert ledger.audit().ok


def test_a_bad_event_in_a_batch_writes_nothing(ledger: Ledger) -> None:
    good = run_event("START", uuid.uuid4(), outputs=[dataset("stg.users")])
    bad = run_event("START", uuid.uuid4())
    del bad["run"]["runId"]
    with pytest.raises(EventError, match=r"^event 2 of 2: run\.runId is required$") as caught:
        ingest(ledger, [good, bad])
    assert caught.value.index == 1
    nan = run_event("START", uuid.uuid4(), run_facets={"acme": {"score": float("nan")}})
    with pytest.raises(RecordError, match=r"^event 2 of 2: .*nan is not representable"):
        ingest(ledger, [good, nan])
    assert ledger.size == 0
    assert ingest(ledger, []) == []


def test_ledger_refusals_name_the_event(ledger: Ledger) -> None:
    """Declared versions can make lineage circular across runs; the ledger refuses the
    batch and the message names the event, not the record."""
    x = dataset("x", facets={"version": facet(datasetVersion="1")})
    y = dataset("y", facets={"version": facet(datasetVersion="1")})
    a = run_event("COMPLETE", uuid.uuid4(), job="a", inputs=[y], outputs=[x])
    b = run_event("COMPLETE", uuid.uuid4(), job="b", inputs=[x], outputs=[y])
    with pytest.raises(LineageCycleError, match=r"^event 2 of 2: run .* circular"):
        ingest(ledger, [a, b])
    same = run_event("COMPLETE", uuid.uuid4(), inputs=[x], outputs=[x])
    with pytest.raises(EventError, match="both an input and an output of the run"):
        ingest(ledger, same)
    assert ledger.size == 0


def test_a_revision_repeating_its_edges_looks_nothing_up_again_and_one_closing_a_cycle_is_refused(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COMPLETE that uses and generates what its START did is checked against the run
    record read for merging: no second read of it, no cycle walk. A revision that adds an
    input is walked, and refused when that input lies downstream of the run."""
    from sqlalchemy import event

    from pedigree.store import engine, projection

    walks: list[Any] = []
    real_walk = projection.walk
    monkeypatch.setattr(projection, "walk", lambda *a, **k: walks.append(a) or real_walk(*a, **k))
    by_seq: list[str] = []
    selects: list[str] = []

    def statement(conn: Any, cursor: Any, sql: str, *rest: Any) -> None:
        if "FROM records" in sql and "WHERE records.seq =" in sql:
            by_seq.append(sql)
        if sql.lstrip().startswith("SELECT"):
            selects.append(" ".join(sql.split()))

    event.listen(ledger.engine, "before_cursor_execute", statement)
    real_execute = engine.execute  # (the hot path's statements skip SQLAlchemy's events)

    def execute(conn: Any, sql: str, *rest: Any, **options: Any) -> Any:
        statement(conn, None, sql)
        return real_execute(conn, sql, *rest, **options)

    monkeypatch.setattr(engine, "execute", execute)
    declared = {"version": facet(datasetVersion="1")}
    w, x, y = (dataset(name, facets=declared) for name in ("w", "x", "y"))
    a = uuid.uuid4()
    ingest(ledger, run_event("START", a, job="a", inputs=[w], outputs=[x]))
    ingest(ledger, run_event("COMPLETE", uuid.uuid4(), job="b", inputs=[x], outputs=[y]))
    walks.clear()
    by_seq.clear()
    selects.clear()
    [done] = ingest(ledger, run_event("COMPLETE", a, job="a", inputs=[w], outputs=[x]))
    assert walks == [] and by_seq == []
    # The projection reuses what the mapping looked up: one query per table, not two
    # (the datasets' one also reads each dataset's newest version).
    newest = [q for q in selects if "ORDER BY versions.dataset_id DESC" in q]
    assert len(newest) == 1 and newest[0].startswith("SELECT datasets."), selects
    for table in ("jobs", "datasets"):
        assert sum(q.startswith(f"SELECT {table}.") for q in selects) == 1, selects
    assert sum("FROM runs " in q or "JOIN runs " in q for q in selects) == 1, selects
    assert done.appended == 1 and current(ledger, a).status == "completed"
    size = ledger.size
    with pytest.raises(LineageCycleError, match="circular"):  # y is downstream of a's x
        ingest(ledger, run_event("COMPLETE", a, job="a", inputs=[w, y], outputs=[x]))
    assert walks and ledger.size == size and ledger.audit().ok
    event.remove(ledger.engine, "before_cursor_execute", statement)


def test_results_serialise_for_the_http_layer(ledger: Ledger) -> None:
    run_id = uuid.uuid4()
    [result] = ingest(ledger, run_event("START", run_id, outputs=[dataset("t")]))
    assert json.loads(json.dumps(result.to_json())) == {
        "index": 0,
        "eventType": "RunEvent",
        "runId": str(run_id),
        "seqs": [1, 2],
        "appended": 2,
    }


def _ingest_each(path: str, database_url: str | None, events: list[Any], barrier: Any) -> None:
    """One writer process: its own ledger object, one ingest call per event."""
    ledger = Ledger.open(Path(path), database_url)
    try:
        barrier.wait(timeout=60)
        for event in events:
            ingest(ledger, event)
    finally:
        ledger.close()


def test_events_of_one_run_from_two_processes_at_once_all_add_up(ledger: Ledger) -> None:
    """The merge reads the run's current record inside the write transaction, so a
    START from one server process and a COMPLETE from another never both start from the
    same state (which would drop one of them)."""
    import multiprocessing

    runs = [uuid.uuid4() for _ in range(25)]
    starts = [
        run_event(
            "START",
            r,
            f"etl.step_{i}",
            time="2026-01-01T10:00:00Z",
            inputs=[dataset(f"raw.in_{i}")],
            run_facets={"fromStart": {"i": i}},
        )
        for i, r in enumerate(runs)
    ]
    completes = [
        run_event(
            "COMPLETE",
            r,
            f"etl.step_{i}",
            time="2026-01-01T10:05:00Z",
            outputs=[dataset(f"stg.out_{i}")],
            run_facets={"fromComplete": {"i": i}},
        )
        for i, r in enumerate(runs)
    ]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    where = (str(ledger.location.path), ledger.location.database_url)
    workers = [
        context.Process(target=_ingest_each, args=(*where, events, barrier))
        for events in (starts, completes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0
    for i, run_id in enumerate(runs):
        run = current(ledger, run_id)
        assert run.status == "completed"
        assert run.facets["fromStart"] == {"i": i} and run.facets["fromComplete"] == {"i": i}
        assert [d.name for d in run.inputs] == [f"raw.in_{i}"]
        assert [d.name for d in run.outputs] == [f"stg.out_{i}"]
    assert ledger.audit().ok
